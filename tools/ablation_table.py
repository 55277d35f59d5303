"""The stage-2 ablation table of docs/training.md, from the reports `tools/adapt_ablation.sh`
writes: per row and method, the mean FADE / NIQE-Y / BRISQUE / entropy over the real hazy set
and the mean PSNR / SSIM over all pairs of the paired sets (pooled, not a mean of set means);
then the no-reference means over KA-Net's example inputs alone (`real_hazy/ka_net/`).

    python3 tools/ablation_table.py [runs/ablation]

Rows whose reports are missing are left out. Standard library only.
"""

import csv
import glob
import math
import os
import sys

ROWS = ["priors", "pretrained", "consistency", "dark", "bright", "channels", "clahe", "full",
        "full2000", "scattering", "strong", "mncd", "gauss",
        "mncd-enc", "gauss-enc"]
REAL = [("fade", "FADE ↓", 3), ("niqe_y", "NIQE-Y ↓", 3), ("brisque", "BRISQUE ↓", 2),
        ("entropy", "entropy ↑", 3)]
PAIRED = [("psnr_rgb", "PSNR ↑", 2), ("ssim_rgb_gauss", "SSIM ↑", 3)]


def means(paths, keys, subset=None):
    """{method: {key: mean}} over every row of the results.csv files (only the images whose path
    contains `subset`, if given), and the image counts."""
    sums, counts = {}, {}
    for path in paths:
        with open(path, newline="") as f:
            for r in csv.DictReader(f):
                if r["error"] or (subset and subset not in r["path"]):
                    continue
                m = r["method"]
                for k in keys:
                    if r[k] == "":
                        continue
                    v = float(r[k])
                    if math.isfinite(v):
                        sums.setdefault(m, {}).setdefault(k, 0.0)
                        sums[m][k] += v
                        counts.setdefault(m, {}).setdefault(k, 0)
                        counts[m][k] += 1
    return {m: {k: sums[m][k] / counts[m][k] for k in sums[m]} for m in sums}, counts


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "runs/ablation"
    head = ["row", "method"] + [h for _, h, _ in REAL] + [h for _, h, _ in PAIRED]
    print("| " + " | ".join(head) + " |")
    print("|---|---|" + "---:|" * (len(head) - 2))
    for row in ROWS:
        real_csv = os.path.join(root, row, "eval-real", "results.csv")
        paired_csv = sorted(glob.glob(os.path.join(root, row, "eval-paired", "*", "results.csv")))
        if not os.path.isfile(real_csv):
            continue
        real, n_real = means([real_csv], [k for k, _, _ in REAL])
        paired, n_paired = means(paired_csv, [k for k, _, _ in PAIRED])
        methods = [m for m in real if row == "priors" or m != "input"]
        for m in methods:
            cells = [row, m]
            cells += [f"{real[m][k]:.{d}f}" if k in real.get(m, {}) else "" for k, _, d in REAL]
            cells += [f"{paired[m][k]:.{d}f}" if k in paired.get(m, {}) else ""
                      for k, _, d in PAIRED]
            print("| " + " | ".join(cells) + " |")
        n = n_real.get(methods[-1], {}).get("fade", 0)
        p = n_paired.get(methods[-1], {}).get("psnr_rgb", 0)
        if n != 58 or p != 31:
            print(f"<!-- {row}: {n} real images, {p} pairs scored -->")

    # KA-Net's own example inputs among the real hazy images (point 6 of the default decision
    # compares with KA-Net's published outputs on them).
    print()
    print("KA-Net's example inputs (real_hazy/ka_net/):")
    print()
    head = ["row", "method"] + [h for _, h, _ in REAL]
    print("| " + " | ".join(head) + " |")
    print("|---|---|" + "---:|" * (len(head) - 2))
    for row in ROWS:
        real_csv = os.path.join(root, row, "eval-real", "results.csv")
        if not os.path.isfile(real_csv):
            continue
        real, _ = means([real_csv], [k for k, _, _ in REAL], subset="/ka_net/")
        for m in real:
            if m == "input" and row != "priors":
                continue
            cells = [row, m] + [f"{real[m][k]:.{d}f}" for k, _, d in REAL]
            print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
