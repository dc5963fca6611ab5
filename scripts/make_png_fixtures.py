#!/usr/bin/env python3
"""Writes tests/data/png/: PNG files made by other implementations (PIL and
ImageMagick), each with NAME.expected.pgm, the grey that reading it must give.

Every file holds the same small picture (13 x 9: odd sizes, so that bit
packing and the Adam7 passes have ragged edges) in one colour type and bit
depth. The expected grey is computed here from the source pixels, not by
either library: luma 0.299 R + 0.587 G + 0.114 B (R = G = B kept exactly),
then alpha over white, rounded to 8 bits. The C++ test allows 1/255 for
rounding.

Also writes the crafted bad files that need a real compressor: bomb.png, a
16 x 16 image whose IDAT inflates to 10 MB.

Run from the repository root: python3 scripts/make_png_fixtures.py
(needs python3-pil, python3-numpy and ImageMagick's convert).
"""
import os
import struct
import subprocess
import zlib

import numpy as np
from PIL import Image

OUT = "tests/data/png"
W, H = 13, 9


def source_rgba():
    """A picture with every kind of pixel: a grey ramp, colours, and alpha from
    opaque to transparent."""
    y, x = np.mgrid[0:H, 0:W]
    r = (x * 255 // (W - 1)).astype(np.uint8)
    g = (y * 255 // (H - 1)).astype(np.uint8)
    b = ((x + y) * 255 // (W + H - 2)).astype(np.uint8)
    a = np.where((x + y) % 3 == 0, 255, np.where((x + y) % 3 == 1, 128, 0)).astype(np.uint8)
    return np.stack([r, g, b, a], axis=-1)


def expected_grey(rgba):
    """Luma (or the grey itself), alpha over white, rounded: float, as the reader."""
    rgb = rgba[..., :3].astype(np.float64) / 255.0
    same = (rgba[..., 0] == rgba[..., 1]) & (rgba[..., 1] == rgba[..., 2])
    luma = np.where(same, rgb[..., 0], 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2])
    alpha = rgba[..., 3].astype(np.float64) / 255.0
    grey = alpha * luma + (1.0 - alpha)
    return np.clip(np.round(grey * 255.0), 0, 255).astype(np.uint8)


def write_pgm(path, grey):
    with open(path, "wb") as f:
        f.write(b"P5\n%d %d\n255\n" % (grey.shape[1], grey.shape[0]))
        f.write(grey.tobytes())


def save(name, rgba_used, writer):
    """writer(path) writes the PNG; rgba_used is what it holds, as 8-bit RGBA."""
    path = os.path.join(OUT, name + ".png")
    writer(path)
    write_pgm(os.path.join(OUT, name + ".expected.pgm"), expected_grey(rgba_used))


def magick(src_png, dst, *options):
    subprocess.run(["convert", src_png, *options, dst], check=True)


def main():
    os.makedirs(OUT, exist_ok=True)
    rgba = source_rgba()
    opaque = rgba.copy()
    opaque[..., 3] = 255
    grey = opaque.copy()
    grey[..., 1] = grey[..., 0]
    grey[..., 2] = grey[..., 0]
    grey_alpha = grey.copy()
    grey_alpha[..., 3] = rgba[..., 3]

    # PIL: 8-bit grey, grey + alpha, RGB, RGBA, palette (with and without
    # transparency, 8 and 4 bits), 1-bit, and 16-bit grey.
    save("pil_grey8", grey, lambda p: Image.fromarray(grey[..., 0], "L").save(p))
    save("pil_grey_alpha8", grey_alpha, lambda p: Image.fromarray(grey_alpha[..., [0, 3]], "LA").save(p))
    save("pil_rgb8", opaque, lambda p: Image.fromarray(opaque[..., :3], "RGB").save(p, optimize=True))
    save("pil_rgba8", rgba, lambda p: Image.fromarray(rgba, "RGBA").save(p))
    # Palette: 40 colours (8-bit indices; PIL packs 16 or fewer into 4 bits).
    def palette_case(count):
        levels = (np.arange(W * H).reshape(H, W) % count).astype(np.uint8)
        colours = np.array([[(17 * i) % 256, (255 - 11 * i) % 256, (40 * i) % 256] for i in range(count)], np.uint8)
        rgba_used = np.concatenate([colours[levels], np.full((H, W, 1), 255, np.uint8)], axis=-1)
        im = Image.fromarray(levels, "P")
        im.putpalette(colours.flatten().tolist())
        return im, levels, rgba_used

    im8, levels8, palette8 = palette_case(40)
    save("pil_palette8", palette8, lambda p: im8.save(p))
    im4, _, palette4 = palette_case(16)
    save("pil_palette4", palette4, lambda p: im4.save(p))
    transparent = palette8.copy()
    alphas = [255 if i % 4 else 0 for i in range(40)]
    alphas[5] = 100
    transparent[..., 3] = np.array(alphas, dtype=np.uint8)[levels8]
    save("pil_palette8_trns", transparent, lambda p: im8.save(p, transparency=bytes(alphas)))
    bits = ((np.arange(W * H).reshape(H, W) * 7) % 5 < 2)
    one_bit = np.zeros((H, W, 4), np.uint8)
    one_bit[..., :3] = (bits * 255)[..., None]
    one_bit[..., 3] = 255
    save("pil_grey1", one_bit, lambda p: Image.fromarray(bits).save(p))
    # 16-bit grey: values v * 257, so that reduced to 8 bits they are v exactly.
    save("pil_grey16", grey, lambda p: Image.fromarray(grey[..., 0].astype(np.uint16) * 257, "I;16").save(p))

    # ImageMagick: Adam7-interlaced versions, 2- and 4-bit grey, 16-bit RGB(A).
    base_rgba = os.path.join(OUT, "pil_rgba8.png")
    base_grey = os.path.join(OUT, "pil_grey8.png")
    base_rgb = os.path.join(OUT, "pil_rgb8.png")
    save("magick_rgba8_interlaced", rgba, lambda p: magick(base_rgba, "PNG32:" + p, "-interlace", "PNG"))
    save("magick_grey8_interlaced", grey, lambda p: magick(base_grey, "PNG:" + p, "-define", "png:color-type=0",
                                                             "-define", "png:bit-depth=8", "-interlace", "PNG"))
    save("magick_rgb16", opaque, lambda p: magick(base_rgb, "PNG48:" + p))
    save("magick_rgba16_interlaced", rgba, lambda p: magick(base_rgba, "PNG64:" + p, "-interlace", "PNG"))
    # 2 and 4 bits of grey: levels that those depths hold exactly.
    for depth in (2, 4):
        step = 255 // ((1 << depth) - 1)
        quantised = opaque.copy()
        quantised[..., :3] = ((grey[..., :3].astype(int) // step) * step).astype(np.uint8)
        source = os.path.join(OUT, "quantised.pgm")
        write_pgm(source, quantised[..., 0])
        save("magick_grey%d" % depth, quantised,
             lambda p: magick(source, "PNG:" + p, "-define", "png:color-type=0", "-define",
                              "png:bit-depth=%d" % depth))
        os.remove(source)

    # Large enough for zlib to choose dynamic-Huffman blocks: a noisy RGB gradient.
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:80, 0:120]
    noisy = np.stack([x * 2, y * 3, (x + y)], axis=-1) + rng.integers(0, 40, (80, 120, 3))
    noisy = np.concatenate([np.clip(noisy, 0, 255).astype(np.uint8), np.full((80, 120, 1), 255, np.uint8)], axis=-1)
    save("pil_rgb8_dynamic", noisy, lambda p: Image.fromarray(noisy[..., :3], "RGB").save(p, compress_level=9))

    # A drawing as a paint program saves it: dark strokes on a transparent
    # background (RGBA), from tests/drawn/Breip_4.pgm. predict must read the
    # same digit in it as in the PGM.
    drawn = np.array(Image.open("tests/drawn/Breip_4.pgm").convert("L"))
    strokes = np.zeros(drawn.shape + (4,), np.uint8)
    strokes[..., 0] = 20
    strokes[..., 1] = 30
    strokes[..., 2] = 90  # dark blue ink
    strokes[..., 3] = 255 - drawn  # opaque where the PGM is dark
    save("drawn_4_rgba", strokes, lambda p: Image.fromarray(strokes, "RGBA").save(p))

    # A zlib bomb: IHDR says 16 x 16 grey (272 bytes of data), IDAT inflates to 10 MB.
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    with open(os.path.join(OUT, "bomb.png"), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 0, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(b"\0" * 10_000_000, 9)) + chunk(b"IEND", b""))

    for name in sorted(os.listdir(OUT)):
        print(name, os.path.getsize(os.path.join(OUT, name)))


if __name__ == "__main__":
    main()
