"""Colour cast of restorations: per image, the mean (R - B) of the output minus that of the
input (8-bit units) over the brightest tenth of the input (sky, dense haze) and over all pixels,
averaged over the images of a `dehaze eval` output folder that match an input of the real hazy
set. Positive = warmer than the input. Our own helper (numpy, Pillow).

    python tools/colour_cast.py NAME=runs/ablation/ROW/eval-real/METHOD ...
"""
import glob, os, sys
import numpy as np
from PIL import Image
root = "../shared/data/real_hazy"
rows = sys.argv[1:]
for row in rows:
    name, d = row.split("=")
    sky, allp, n = [], [], 0
    for p in sorted(glob.glob(f"{d}/**/*.png", recursive=True)):
        rel = os.path.relpath(p, d)
        stem = os.path.splitext(rel)[0]
        cands = glob.glob(f"{root}/{stem}.*")
        if not cands:
            continue
        i = np.asarray(Image.open(cands[0]).convert("RGB"), dtype=np.float64)
        o = np.asarray(Image.open(p).convert("RGB"), dtype=np.float64)
        if i.shape != o.shape:
            continue
        lum = i.mean(axis=2)
        m = lum >= np.quantile(lum, 0.9)
        di = i[..., 0] - i[..., 2]
        do = o[..., 0] - o[..., 2]
        sky.append((do - di)[m].mean()); allp.append((do - di).mean()); n += 1
    print(f"{name}: n={n} warm shift (R-B) bright tenth {np.mean(sky):+.2f}, all pixels {np.mean(allp):+.2f}")
