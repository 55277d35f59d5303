"""Colour cast of restorations: per image, the mean (R - B) of the output minus that of the
input (8-bit units) over the brightest tenth of the input (sky, dense haze) and over all pixels,
averaged over the images of a `dehaze eval` output folder that match an input of the real hazy
set. Positive = warmer than the input. Our own helper (numpy, Pillow).

    python tools/colour_cast.py NAME=runs/ablation/ROW/eval-real/METHOD ...
    python tools/colour_cast.py --pairs ../shared/data/more/paired/Dense-HAZE ...

With --pairs, each argument is a pair folder (hazy/, clear/; paired by the toolkit's name rule,
`dehaze_core::pairing::clear_stems`) and the same two numbers are of clear minus hazy: the
colour change a network trained on those pairs is taught.
"""
import glob, os, sys
import numpy as np
from PIL import Image


def load(path):
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)


def shift(i, o):
    """(bright tenth, all pixels) of mean (R - B) of o minus that of i."""
    lum = i.mean(axis=2)
    m = lum >= np.quantile(lum, 0.9)
    d = (o[..., 0] - o[..., 2]) - (i[..., 0] - i[..., 2])
    return d[m].mean(), d.mean()


def eval_pairs(d, root="../shared/data/real_hazy"):
    for p in sorted(glob.glob(f"{d}/**/*.png", recursive=True)):
        stem = os.path.splitext(os.path.relpath(p, d))[0]
        cands = glob.glob(f"{root}/{stem}.*")
        if cands:
            yield cands[0], p


def clear_stems(hazy_stem):
    """The clear stems a hazy stem pairs with, most preferred first: the rule of
    `dehaze_core::pairing::clear_stems` (the stem itself; `<base>_gt` for `<base>_hazy`; the id
    before the first '_'), lower-cased."""
    s = hazy_stem.lower()
    out = [s]
    if s.endswith("_hazy"):
        out.append(s[: -len("_hazy")] + "_gt")
    if "_" in s and s.split("_", 1)[0]:
        out.append(s.split("_", 1)[0])
    return out


def set_pairs(d):
    clear = {}
    for c in sorted(os.listdir(f"{d}/clear")):  # the first by name wins
        clear.setdefault(os.path.splitext(c)[0].lower(), c)
    for h in sorted(os.listdir(f"{d}/hazy")):
        match = next((clear[s] for s in clear_stems(os.path.splitext(h)[0]) if s in clear), None)
        if match:
            yield f"{d}/hazy/{h}", f"{d}/clear/{match}"


args = sys.argv[1:]
pairs_mode = bool(args) and args[0] == "--pairs"
for arg in args[1:] if pairs_mode else args:
    name, d = (os.path.basename(arg.rstrip("/")), arg) if pairs_mode else arg.split("=", 1)
    sky, allp = [], []
    for a, b in set_pairs(d) if pairs_mode else eval_pairs(d):
        i, o = load(a), load(b)
        if i.shape != o.shape:
            continue
        s, t = shift(i, o)
        sky.append(s)
        allp.append(t)
    print(f"{name}: n={len(sky)} warm shift (R-B) bright tenth {np.mean(sky):+.2f}, "
          f"all pixels {np.mean(allp):+.2f}")
