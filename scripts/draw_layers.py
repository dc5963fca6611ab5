#!/usr/bin/env python3
"""Draws the network's layer shapes as an SVG, from `./alexnet summary`.

  python3 scripts/draw_layers.py [--alexnet ./alexnet] [--out docs/images/layers.svg] [summary flags...]

One box per layer, left to right, its height growing with the size of the
layer's output (log scale), labelled with the layer and its output shape.
The shapes come from the binary, so the picture cannot disagree with the code.
Standard library only.
"""
import argparse
import math
import re
import subprocess


def layers_from_summary(alexnet, extra):
    text = subprocess.run([alexnet, "summary", *extra], check=True, capture_output=True, text=True).stdout
    rows = []
    for line in text.splitlines():
        m = re.match(r"^(\S.*?)\s{2,}(\d+(?:x\d+)*)\s+([\d,]+)\s+([\d,]+)$", line)
        if m and not line.startswith("total"):
            rows.append((m.group(1), m.group(2)))
    return text.splitlines()[0], rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alexnet", default="./alexnet")
    parser.add_argument("--out", default="docs/images/layers.svg")
    args, extra = parser.parse_known_args()
    title, rows = layers_from_summary(args.alexnet, extra)
    box_w, gap, base = 70, 14, 190
    width = len(rows) * (box_w + gap) + gap
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{base + 90}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="100%" height="100%" fill="white"/>',
           f'<text x="{gap}" y="24" font-size="15">{title}: output shape of every layer (one image)</text>']
    for i, (name, shape) in enumerate(rows):
        size = math.prod(int(d) for d in shape.split("x"))
        h = 10 + 28 * math.log10(max(size, 1))
        x = gap + i * (box_w + gap)
        kind = name.split()[0]
        colour = {"conv": "#9ecae1", "maxpool": "#fdd0a2", "dense": "#a1d99b"}.get(re.sub(r"\d", "", kind), "#d9d9d9")
        svg.append(f'<rect x="{x}" y="{base - h:.1f}" width="{box_w}" height="{h:.1f}" fill="{colour}" stroke="#555"/>')
        if i + 1 < len(rows):
            svg.append(f'<line x1="{x + box_w}" y1="{base - 8}" x2="{x + box_w + gap}" y2="{base - 8}" stroke="#555"/>')
        label = name.split(" + ")[0].split(" (")[0]
        words = label.split()
        svg.append(f'<text x="{x + box_w / 2}" y="{base + 16}" text-anchor="middle">{words[0]}</text>')
        if len(words) > 1:
            svg.append(f'<text x="{x + box_w / 2}" y="{base + 30}" text-anchor="middle" fill="#555">{" ".join(words[1:])}</text>')
        svg.append(f'<text x="{x + box_w / 2}" y="{base + 46}" text-anchor="middle" font-weight="bold">{shape.replace("x", "×")}</text>')
    svg.append(f'<text x="{gap}" y="{base + 78}" fill="#555">box height: log of the number of values; '
               f'blue convolution (+ ReLU), orange max-pooling, green dense (+ ReLU)</text>')
    svg.append("</svg>")
    with open(args.out, "w") as f:
        f.write("\n".join(svg) + "\n")
    print(f"wrote {args.out} ({len(rows)} layers)")


if __name__ == "__main__":
    main()
