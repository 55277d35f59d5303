#!/usr/bin/env python3
"""Reference outputs of OpenCV's CLAHE for `crates/dehaze-core/tests/clahe_opencv.rs`.

    python -m venv /tmp/cv && /tmp/cv/bin/pip install opencv-python-headless numpy pillow
    /tmp/cv/bin/python tools/clahe_reference.py

Writes grey PNGs to crates/dehaze-core/tests/fixtures/clahe/: the inputs (random planes of sizes
that do and do not divide the tile grid, and the red channel of examples/valley_hazy.png) and
OpenCV's output for each (clip limit, grid) case listed in cases.txt.
"""
import pathlib

import cv2
import numpy as np
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "crates/dehaze-core/tests/fixtures/clahe"
OUT.mkdir(parents=True, exist_ok=True)

rng = np.random.default_rng(7)
inputs = {
    # Not a multiple of the grid on either side, then only on one side, then on both.
    "random_97x61": rng.integers(0, 256, (61, 97), dtype=np.uint8),
    "lowcontrast_80x53": (110 + rng.integers(0, 30, (53, 80))).astype(np.uint8),
    "random_64x48": rng.integers(0, 256, (48, 64), dtype=np.uint8),
    "valley_red": np.asarray(Image.open(ROOT / "examples/valley_hazy.png").convert("RGB"))[:150, :203, 0].copy(),
}
cases = [(2.0, 8, 8), (40.0, 8, 8), (1.0, 3, 5), (0.0, 4, 4)]
lines = []
for name, img in inputs.items():
    Image.fromarray(img).save(OUT / f"{name}.png")
    for clip, gx, gy in cases:
        out = cv2.createCLAHE(clipLimit=clip, tileGridSize=(gx, gy)).apply(img)
        tag = f"{name}__clip{clip:g}_grid{gx}x{gy}"
        Image.fromarray(out).save(OUT / f"{tag}.png")
        lines.append(f"{name} {clip:g} {gx} {gy} {tag}.png")
(OUT / "cases.txt").write_text("\n".join(lines) + "\n")
print(f"{len(lines)} cases written to {OUT} (OpenCV {cv2.__version__})")
