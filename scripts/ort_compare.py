#!/usr/bin/env python3
"""alexnet's inference against ONNX Runtime on the same machine, in one run.

    python3 scripts/ort_compare.py [--model alexnet.model] [--alexnet ./alexnet] [--rounds 5] [--threads 2]

Exports the checkpoint to ONNX with scripts/pytorch_reference.py (needs
Debian's python3-torch and python3-onnx), installs onnxruntime-node from npm
into build/ort the first time (its bundled CPU library; no install scripts
run), then alternates rounds of ONNX Runtime (scripts/ort_bench.mjs) and
./alexnet bench --inference, each measuring batch 32 images/s and batch-1
latency on 1 and N threads. Prints the median of the rounds for each, with
min-max, and alexnet's ratio (above 1: alexnet is faster). Alternating
matters on a shared machine: either program can have a slow minute.
Not part of make test.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ORT_DIR = os.path.join(ROOT, "build", "ort")


def install_ort():
    if os.path.isdir(os.path.join(ORT_DIR, "node_modules", "onnxruntime-node")):
        return
    os.makedirs(ORT_DIR, exist_ok=True)
    env = dict(os.environ, ONNXRUNTIME_NODE_INSTALL="skip")
    subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--ignore-scripts", "onnxruntime-node"],
                   cwd=ORT_DIR, env=env, check=True, stdout=subprocess.DEVNULL)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="alexnet.model")
    parser.add_argument("--alexnet", default="./alexnet")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--python", default="/usr/bin/python3", help="a Python with torch and onnx")
    args = parser.parse_args()
    install_ort()
    onnx = os.path.join(ORT_DIR, "alexnet.onnx")
    subprocess.run([args.python, os.path.join(ROOT, "scripts", "pytorch_reference.py"), "export", args.model, onnx],
                   check=True, stdout=subprocess.DEVNULL)
    counts = sorted({1, args.threads})
    env = dict(os.environ, ORT_DISABLE_TELEMETRY="1")
    # (program, threads, measure) -> values over the rounds
    values = {}

    def add(program, threads, measure, value):
        values.setdefault((program, threads, measure), []).append(value)

    for r in range(args.rounds):
        ort = json.loads(subprocess.run(["node", os.path.join(ROOT, "scripts", "ort_bench.mjs"), onnx]
                                        + [str(t) for t in counts], cwd=ORT_DIR, env=env, check=True,
                                        capture_output=True, text=True).stdout)
        for t in counts:
            add("ort", t, "batch32", ort["threads"][str(t)]["batch32_images_per_s"])
            add("ort", t, "latency", ort["threads"][str(t)]["batch1_latency_ms"])
        ours = json.loads(subprocess.run([args.alexnet, "bench", "--inference", "--json", "--threads",
                                          str(args.threads)], check=True, capture_output=True, text=True).stdout)
        for t in counts:
            suffix = "_1_thread" if t == 1 else ""
            add("alexnet", t, "batch32", ours["inference_images_per_s" + suffix])
            add("alexnet", t, "latency", ours["inference_batch1_latency_ms" + suffix])
        print(f"round {r + 1} of {args.rounds} done", file=sys.stderr)

    print(f"alexnet: {ours['build']}")
    print(f"ONNX Runtime {ort['onnxruntime']} (onnxruntime-node), the same weights exported by PyTorch")
    print(f"median of {args.rounds} alternating rounds, min-max in brackets; ratio > 1: alexnet is faster\n")
    print(f"{'':28} {'ONNX Runtime':>24} {'alexnet':>24} {'ratio':>7}")

    def cell(values_, digits):
        return f"{statistics.median(values_):.{digits}f} ({min(values_):.{digits}f}-{max(values_):.{digits}f})"

    for measure, label, digits in [("batch32", "batch 32, images/s", 0), ("latency", "batch 1, latency ms", 3)]:
        for t in counts:
            theirs, ours_ = values[("ort", t, measure)], values[("alexnet", t, measure)]
            ratio = statistics.median(ours_) / statistics.median(theirs)
            if measure == "latency":
                ratio = 1 / ratio
            name = f"{label}, {t} thread{'s' if t > 1 else ''}"
            print(f"{name:28} {cell(theirs, digits):>24} {cell(ours_, digits):>24} {ratio:>6.2f}x")


if __name__ == "__main__":
    main()
