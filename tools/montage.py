#!/usr/bin/env python3
"""Tiles images into a labelled montage PNG (for docs). Our own helper; needs Pillow.

    python3 tools/montage.py OUT.png COLUMNS WIDTH "label=path" ...
"""
import sys
from PIL import Image, ImageDraw

out, cols, width = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
items = [a.split("=", 1) for a in sys.argv[4:]]
tiles = []
for label, path in items:
    im = Image.open(path)
    if im.mode.startswith("I"):  # 16-bit grey: scale to 8 bits before converting
        im = im.point(lambda v: v / 257).convert("L")
    im = im.convert("RGB")
    im = im.resize((width, round(im.height * width / im.width)), Image.LANCZOS)
    d = ImageDraw.Draw(im)
    d.rectangle([0, 0, 8 + 6 * len(label), 14], fill=(0, 0, 0))
    d.text((4, 2), label, fill=(255, 255, 255))
    tiles.append(im)
h = max(t.height for t in tiles)
rows = (len(tiles) + cols - 1) // cols
sheet = Image.new("RGB", (cols * width + (cols - 1) * 4, rows * h + (rows - 1) * 4), (255, 255, 255))
for i, t in enumerate(tiles):
    sheet.paste(t, ((i % cols) * (width + 4), (i // cols) * (h + 4)))
sheet.save(out, optimize=True)
