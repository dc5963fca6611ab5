#!/usr/bin/env python3
"""The same AlexNet in PyTorch: an outside reference for speed and for numbers.

Not run by CI. It needs PyTorch: Debian's python3-torch, plus libopenblas0-pthread
(without it Debian's torch falls back to the reference BLAS and is 2-3x slower).
Its uses:

  python3 scripts/pytorch_reference.py bench [--threads 1 2] [--steps 40] [--alexnet ./alexnet] [--rounds 3]
      trains the default model (filters 8, 1x56x56, batch 32, Adam lr 1e-4)
      on synthetic data and prints the median training images/s per thread
      count, as ./alexnet bench does. With --alexnet, also times that binary's
      whole training runs (./alexnet train --steps 10*STEPS on MNIST, reading
      and preprocessing included; data/mnist must be there) in the same
      invocation and prints both side by side with the ratio: --rounds times,
      alternating the two programs (on a shared machine either can have a slow
      minute), then the median of each and their ratio. Run PyTorch with
      libopenblas0-pthread installed and glibc told to keep its memory:
      MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=4294967296
      MALLOC_TOP_PAD_=268435456 (without them it page-faults Adam's
      temporaries every step, 3.5x slower on this project's machine).

  python3 scripts/pytorch_reference.py reference [OUT]
      writes the reference tensors that `make test` compares alexnet with
      (default tests/data/pytorch_reference.bin): a small model (filters 1,
      1x39x39) with seeded weights, a batch of 3 random images and labels,
      and PyTorch's logits, loss, every parameter's gradient and the
      parameters after one Adam step (lr 1e-3, eps 1e-7). The format: magic
      "ALXREF01", then little-endian uint32 filters, image size, channels,
      batch and tensor count, then per tensor: uint32 name length, the name,
      uint32 rank, rank uint32 dimensions, and the float32 values.

  python3 scripts/pytorch_reference.py export MODEL OUT.onnx
      writes the checkpoint as ONNX (forward and softmax, any batch size)
      for ONNX Runtime, and OUT.onnx.check.json: two fixed images and
      PyTorch's probabilities for them (scripts/ort_compare.sh).

  python3 scripts/pytorch_reference.py predict MODEL IMG.pgm [...]
      loads an alexnet checkpoint (docs/checkpoint-format.md) into PyTorch, applies
      the plain preprocessing (bilinear resize to 28x28 if needed, then to the
      model's size) and prints one JSON line per image, like
      ./alexnet predict --json --plain-resize, so the two can be compared
      number by number. For 28x28 MNIST images --plain-resize changes nothing.
"""
import argparse
import json
import struct
import sys
import time
import zlib

import torch
import torch.nn as nn
import torch.nn.functional as F


class AlexNet(nn.Module):
    """The layer table of src/nn/model.cpp (conv_specs); layouts match the C++ program (NCHW, OIHW, [out][in])."""

    def __init__(self, filters=8, image_size=56, channels=1, classes=10, lrn=False, pool_window=2):
        super().__init__()
        f = filters
        # The AlexNet paper's options (checkpoint flags bits 1 and 2): LRN
        # after conv1 and conv2 (PyTorch divides alpha by size: 5e-4 / 5 is
        # the paper's 1e-4), and 3x3 stride-2 pooling with the last window
        # cut off at the edge (ceil_mode), which keeps 2x2 pooling's sizes.
        self.lrn = nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0) if lrn else nn.Identity()
        self.pool_window = pool_window
        self.conv1 = nn.Conv2d(channels, 3 * f, 11, stride=4)
        self.conv2 = nn.Conv2d(3 * f, 8 * f, 5, padding=2)
        self.conv3 = nn.Conv2d(8 * f, 12 * f, 3, padding=1)
        self.conv4 = nn.Conv2d(12 * f, 12 * f, 3, padding=1)
        self.conv5 = nn.Conv2d(12 * f, 8 * f, 3, padding=1)
        side = (image_size - 11) // 4 + 1
        side = side // 2 // 2 // 2
        self.dense1 = nn.Linear(8 * f * side * side, 288 * f)
        self.dense2 = nn.Linear(288 * f, 128 * f)
        self.dense3 = nn.Linear(128 * f, 128 * f)
        self.dense4 = nn.Linear(128 * f, classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(m.weight)  # Glorot: same fans as Keras
                nn.init.zeros_(m.bias)

    def pool(self, x):
        if self.pool_window == 3:
            return F.max_pool2d(x, 3, 2, ceil_mode=True)
        return F.max_pool2d(x, 2)

    def forward(self, x):
        x = self.pool(self.lrn(F.relu(self.conv1(x))))
        x = self.pool(self.lrn(F.relu(self.conv2(x))))
        x = F.relu(self.conv3(x))
        x = F.relu(self.conv4(x))
        x = self.pool(F.relu(self.conv5(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.dense1(x))
        x = F.relu(self.dense2(x))
        x = F.relu(self.dense3(x))
        return self.dense4(x)


# ---------------------------------------------------------------------------
# Checkpoint and PGM readers (docs/checkpoint-format.md, and PGM)

def load_checkpoint(path):
    data = open(path, "rb").read()
    if data[:8] != b"ALEXNETC":
        sys.exit(f"{path}: not an alexnet checkpoint")
    stored_crc = struct.unpack_from("<I", data, len(data) - 4)[0]
    if zlib.crc32(data[:-4]) != stored_crc:
        sys.exit(f"{path}: CRC-32 mismatch")
    version, filters, size, channels, classes, flags, count = struct.unpack_from("<7I", data, 8)
    pos = 8 + 7 * 4
    tensors = {}
    for _ in range(count):
        (name_length,) = struct.unpack_from("<I", data, pos)
        pos += 4
        name = data[pos:pos + name_length].decode()
        pos += name_length
        (rank,) = struct.unpack_from("<I", data, pos)
        pos += 4
        shape = struct.unpack_from(f"<{rank}I", data, pos)
        pos += 4 * rank
        n = 1
        for d in shape:
            n *= d
        values = torch.frombuffer(bytearray(data[pos:pos + 4 * n]), dtype=torch.float32)
        tensors[name] = values.reshape(shape)
        pos += 4 * n
    model = AlexNet(filters, size, channels, classes, lrn=bool(flags & 2), pool_window=3 if flags & 4 else 2)
    model.load_state_dict(tensors)
    return model, size, channels


def read_pgm(path):
    data = open(path, "rb").read()
    tokens, pos = [], 2
    while len(tokens) < 3:
        while data[pos:pos + 1].isspace() or data[pos:pos + 1] == b"#":
            if data[pos:pos + 1] == b"#":
                while data[pos:pos + 1] not in (b"\n", b"\r", b""):
                    pos += 1
            else:
                pos += 1
        start = pos
        while data[pos:pos + 1].isdigit():
            pos += 1
        tokens.append(int(data[start:pos]))
    width, height, maxval = tokens
    if data[:2] == b"P5":
        pos += 1
        dtype = ">u2" if maxval > 255 else "u1"
        import numpy as np
        pixels = np.frombuffer(data[pos:], dtype=dtype, count=width * height).astype("float32")
        image = torch.from_numpy(pixels.copy())
    else:
        values = [int(v) for v in data[pos:].split(b"#")[0].split()]
        image = torch.tensor(values[:width * height], dtype=torch.float32)
    return image.reshape(1, 1, height, width) / maxval


def preprocess(image, size, channels):
    if image.shape[-2:] != (28, 28):
        image = F.interpolate(image, size=(28, 28), mode="bilinear", align_corners=False)
    image = F.interpolate(image, size=(size, size), mode="bilinear", align_corners=False)
    return image.repeat(1, channels, 1, 1)


# ---------------------------------------------------------------------------

def bench(threads_list, steps):
    rates = {}
    for threads in threads_list:
        torch.set_num_threads(threads)
        torch.manual_seed(7)
        model = AlexNet()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, eps=1e-7)
        x = torch.rand(32, 1, 56, 56)
        y = torch.randint(0, 10, (32,))
        times = []
        for step in range(steps + 5):
            t0 = time.perf_counter()
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            if step >= 5:
                times.append(time.perf_counter() - t0)
        times.sort()
        median = times[len(times) // 2]
        rates[threads] = 32 / median
        print(f"pytorch {torch.__version__}: {threads} thread(s): {32 / median:.0f} images/s "
              f"({1e3 * median:.2f} ms/step)")
    return rates


def alexnet_train_rate(alexnet, threads, steps):
    """Training images/s of a whole ./alexnet train run of `steps` steps (batch
    reading and preprocessing included), as its epoch line reports it."""
    import re
    import subprocess
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([alexnet, "train", "--steps", str(steps), "--val-split", "0", "--quiet",
                              "--threads", str(threads), "--model", tmp + "/compare.model"],
                             check=True, capture_output=True, text=True).stdout
    return float(re.search(r"([0-9.]+) img/s", out).group(1))


def compare(alexnet, threads_list, steps, rounds):
    import statistics
    counts = sorted(set(threads_list))
    ours = {t: [] for t in counts}
    theirs = {t: [] for t in counts}
    for r in range(rounds):
        for t in counts:
            ours[t].append(alexnet_train_rate(alexnet, t, 10 * steps))
        print(f"round {r + 1}: alexnet " + ", ".join(f"{ours[t][-1]:.0f} images/s on {t} thread(s)" for t in counts))
        for t, rate in bench(counts, steps).items():
            theirs[t].append(rate)
    print(f"\ntraining images/s, default model, batch 32: whole ./alexnet train runs of {10 * steps} steps "
          f"against PyTorch's bare step (same run; median of {rounds} alternating round{'s' if rounds > 1 else ''}, "
          f"min-max in brackets)")
    print(f"{'threads':>8} {'alexnet':>22} {'pytorch':>22} {'ratio':>7}")

    def median_and_range(values):
        return f"{statistics.median(values):.0f} ({min(values):.0f}-{max(values):.0f})"

    for t in counts:
        ratio = statistics.median(ours[t]) / statistics.median(theirs[t])
        print(f"{t:>8} {median_and_range(ours[t]):>22} {median_and_range(theirs[t]):>22} {ratio:>6.1f}x")


def predict(model_path, images):
    model, size, channels = load_checkpoint(model_path)
    model.eval()
    with torch.no_grad():
        for path in images:
            probs = F.softmax(model(preprocess(read_pgm(path), size, channels)), dim=1)[0]
            print(json.dumps({"file": path, "digit": int(probs.argmax()),
                              "probabilities": [float(p) for p in probs]}))


def export(model_path, out_path):
    """The checkpoint as ONNX (forward and softmax, any batch size), for the
    ONNX Runtime comparison (scripts/ort_compare.sh); beside it OUT.check.json:
    a fixed batch of 2 images and PyTorch's probabilities, which the ORT
    script checks before it times anything."""
    model, size, channels = load_checkpoint(model_path)
    model.eval()
    network = nn.Sequential(model, nn.Softmax(dim=1))
    torch.manual_seed(5)
    x = torch.rand(2, channels, size, size)
    torch.onnx.export(network, x, out_path, input_names=["image"], output_names=["probabilities"],
                      dynamic_axes={"image": {0: "batch"}, "probabilities": {0: "batch"}}, opset_version=13)
    with torch.no_grad():
        probabilities = network(x)
    with open(out_path + ".check.json", "w") as f:
        json.dump({"shape": list(x.shape), "input": x.flatten().tolist(),
                   "probabilities": probabilities.flatten().tolist()}, f)
    print(f"wrote {out_path} ({channels}x{size}x{size} input) and {out_path}.check.json")


def reference(out_path, paper=False):
    """paper: with LRN and 3x3/2 pooling (and an input of 20x the scale, so
    that conv1's outputs reach tens and LRN's alpha term matters)."""
    filters, size, channels, batch = 1, 39, 1, 3
    torch.manual_seed(11)
    model = AlexNet(filters, size, channels, 10, lrn=paper, pool_window=3 if paper else 2)
    with torch.no_grad():  # small non-zero biases, so their gradients are not all at the zero point
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.copy_(0.01 * (torch.arange(p.numel()) % 5).float())
    x = torch.rand(batch, channels, size, size) * (100.0 if paper else 1.0)
    labels = torch.tensor([3, 7, 1])
    tensors = [("input", x.clone()), ("labels", labels.float())]
    tensors += [(name, p.detach().clone()) for name, p in model.named_parameters()]
    logits = model(x)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    tensors += [("logits", logits.detach().clone()), ("loss", loss.detach().reshape(1))]
    tensors += [(name + ".grad", p.grad.clone()) for name, p in model.named_parameters()]
    torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7).step()
    tensors += [(name + ".after_adam", p.detach().clone()) for name, p in model.named_parameters()]
    out = bytearray(b"ALXREF01")
    out += struct.pack("<5I", filters, size, channels, batch, len(tensors))
    for name, t in tensors:
        out += struct.pack("<I", len(name)) + name.encode()
        out += struct.pack("<I", t.dim()) + struct.pack(f"<{t.dim()}I", *t.shape)
        out += t.contiguous().numpy().astype("<f4").tobytes()
    with open(out_path, "wb") as f:
        f.write(out)
    print(f"wrote {out_path}: {len(tensors)} tensors, {len(out)} bytes, torch {torch.__version__}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("bench")
    b.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    b.add_argument("--steps", type=int, default=40)
    b.add_argument("--alexnet", help="path of the alexnet binary to compare with")
    b.add_argument("--rounds", type=int, default=3, help="alternating rounds of both programs (with --alexnet)")
    r = sub.add_parser("reference")
    r.add_argument("out", nargs="?", default="tests/data/pytorch_reference.bin")
    r.add_argument("--paper", action="store_true", help="with --lrn and --pool 3x3s2")
    e = sub.add_parser("export")
    e.add_argument("model")
    e.add_argument("out")
    p = sub.add_parser("predict")
    p.add_argument("model")
    p.add_argument("images", nargs="+")
    args = parser.parse_args()
    if args.command == "bench" and args.alexnet:
        compare(args.alexnet, args.threads, args.steps, max(1, args.rounds))
    elif args.command == "bench":
        bench(args.threads, args.steps)
    elif args.command == "export":
        export(args.model, args.out)
    elif args.command == "reference":
        reference(args.out, args.paper)
    else:
        predict(args.model, args.images)


if __name__ == "__main__":
    main()
