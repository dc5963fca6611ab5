#!/usr/bin/env bash
# run_walkthrough.sh [FILE] — run every ```sh block of docs/walkthrough.md in
# order, from the repository root, failing on the first command that fails;
# where a block is followed by an ```output block, the output of the block's
# last command must be exactly that. So the walkthrough cannot drift from the
# program. Needs MNIST in data/mnist and a trained alexnet.model (CI makes
# both first).
set -euo pipefail
cd "$(dirname "$0")/.."
doc=${1:-docs/walkthrough.md}
mkdir -p build
python3 - "$doc" <<'PY'
import subprocess, sys

lines = open(sys.argv[1]).read().split("\n")
blocks, i = [], 0  # (kind, [lines]) for every ```sh and ```output block, in order
while i < len(lines):
    kind = lines[i][3:] if lines[i].startswith("```") else None
    if kind in ("sh", "output"):
        j = lines.index("```", i + 1)
        blocks.append((kind, lines[i + 1:j]))
        i = j
    i += 1
if not any(kind == "sh" for kind, _ in blocks):
    sys.exit(f"no sh blocks in {sys.argv[1]}")
checked = 0
for n, (kind, body) in enumerate(blocks):
    if kind != "sh":
        continue
    expected = blocks[n + 1][1] if n + 1 < len(blocks) and blocks[n + 1][0] == "output" else None
    commands = [c for c in body if c.strip()]
    for k, command in enumerate(commands):
        print(f"$ {command}", flush=True)
        run = subprocess.run(["bash", "-c", "set -euo pipefail; " + command], capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"{run.stdout}{run.stderr}walkthrough command failed: {command}")
        print("\n".join(run.stdout.split("\n")[:5]))
        if expected is not None and k == len(commands) - 1:
            if run.stdout.rstrip("\n").split("\n") != expected:
                sys.exit(f"walkthrough: '{command}' printed\n{run.stdout}but the page shows\n" + "\n".join(expected))
            checked += 1
print(f"walkthrough: every command ran; {checked} outputs are as the page shows them")
PY
