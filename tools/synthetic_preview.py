#!/usr/bin/env python3
"""Turns PPM/PGM dumps of synthetic fundus samples into one PNG for looking at them.

Usage: python3 tools/synthetic_preview.py OUT.png [--zoom N] A.ppm [A_label.pgm] B.ppm ...
Each PPM becomes a row cell; a PGM that follows it is placed beside it. Pure Python (zlib), no numpy/PIL.
Dumps come from SyntheticFundusTests when SYNTHETIC_DUMP_DIR is set.
"""
import struct
import sys
import zlib


def read_pnm(path):
    data = open(path, "rb").read()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    pos += 1
    kind, w, h = fields[0], int(fields[1]), int(fields[2])
    px = data[pos:]
    if kind == b"P5":  # grey to RGB
        px = bytes(b for v in px[:w * h] for b in (v, v, v))
    return w, h, px[:w * h * 3]


def write_png(path, w, h, rgb):
    raw = b"".join(b"\x00" + rgb[y * w * 3:(y + 1) * w * 3] for y in range(h))

    def chunk(tag, body):
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    open(path, "wb").write(png)


def main():
    args = sys.argv[1:]
    out, zoom = args.pop(0), 1
    if args and args[0] == "--zoom":
        zoom = int(args[1])
        args = args[2:]
    rows, row = [], []
    for path in args:
        if path.endswith(".ppm") and row:
            rows.append(row)
            row = []
        row.append(read_pnm(path))
    if row:
        rows.append(row)
    gap = 4
    cell_w = max(w for r in rows for w, _, _ in r) * zoom
    cell_h = max(h for r in rows for _, h, _ in r) * zoom
    cols = max(len(r) for r in rows)
    W, H = cols * (cell_w + gap), len(rows) * (cell_h + gap)
    canvas = bytearray(b"\xff" * (W * H * 3))
    for ri, r in enumerate(rows):
        for ci, (w, h, px) in enumerate(r):
            ox, oy = ci * (cell_w + gap), ri * (cell_h + gap)
            for y in range(h * zoom):
                src = px[(y // zoom) * w * 3:(y // zoom + 1) * w * 3]
                line = b"".join(src[x * 3:x * 3 + 3] * zoom for x in range(w)) if zoom > 1 else src
                o = ((oy + y) * W + ox) * 3
                canvas[o:o + len(line)] = line
    write_png(out, W, H, bytes(canvas))


if __name__ == "__main__":
    main()
