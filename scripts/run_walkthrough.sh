#!/usr/bin/env bash
# run_walkthrough.sh [FILE] — run every ```sh block of docs/walkthrough.md in
# order, from the repository root, failing on the first command that fails,
# so the walkthrough cannot drift from the program. Needs MNIST in data/mnist
# and a trained alexnet.model (CI makes both first).
set -euo pipefail
cd "$(dirname "$0")/.."
doc=${1:-docs/walkthrough.md}
script=$(awk '/^```sh$/ {inside = 1; next} /^```$/ {inside = 0} inside' "$doc")
[ -n "$script" ] || { echo "no sh blocks in $doc" >&2; exit 1; }
while IFS= read -r command; do
  [ -n "$command" ] || continue
  echo "\$ $command"
  bash -c "set -euo pipefail; $command" > build/walkthrough.out 2>&1 || { cat build/walkthrough.out; echo "walkthrough command failed: $command" >&2; exit 1; }
  head -n 5 build/walkthrough.out
done <<< "$script"
echo "walkthrough: every command ran"
