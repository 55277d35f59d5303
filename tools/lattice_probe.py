#!/usr/bin/env python3
"""Periodic-artefact probe for network outputs (the KA-Net-S lattice, docs/ka-net-training.md).

A chain of 2x2 stride-2 transposed convolutions (KA-Net's projection) can print a lattice whose
periods are powers of two. This tool measures it, and asks whether a loss rewards it.

  lattice_probe.py score IMG...
      Per image, for the periods p = 2, 4, 8, 16, 32 px: the spectral energy of the luminance
      (mean removed) on the frequency column x = W/p, divided by the median energy of the
      columns W/p +- 2..4 (and the same for rows, y). A clean photo scores about 1 at every
      period; a printed lattice scores tens to hundreds. Then the lattice amplitude: the mean
      |image − notch(image)| over the RGB values in [0, 1] (notch below), which a photo's own
      content keeps near 0.003; the score finds a faint lattice, the amplitude says how strong.

  lattice_probe.py losses --out DIR --hazy DIR --clear DIR [--limit N]
      For each output OUT/<stem>.png (e.g. `dehaze DIR/hazy -o OUT -m ka-net-s --weights W`)
      with its hazy input and clear target (same stem): the mean L1 to the clear image of the
      output and of the output with its lattice notched out (every harmonic of W/8 and H/8 set
      to zero), and the Gaussian perceptual contrastive ratio of crates/dehaze-nn/src/losses/
      contrastive.rs (sigma 1, eps 1e-3, layer weights 1/32..1) for both, in the features of a
      random quarter-width VGG19 stack (He-normal, torch seed 1) like the trainer's seeded
      stand-in (not its exact draw); and MNCD's spatial ratio (losses/mncd.rs, D = mean absolute
      difference, the hazy input as the one negative) in the same features. If the notched
      output has the lower L1 but the higher ratio, the ratio is what pays for the lattice.

Requires numpy and Pillow; `losses` also torch (e.g. a venv with `pip install torch numpy Pillow`).
"""
import argparse
import os
import sys

import numpy as np
from PIL import Image

PERIODS = (2, 4, 8, 16, 32)


def luminance(path):
    return np.asarray(Image.open(path).convert("L"), dtype=np.float64) / 255.0


def lattice_score(y):
    """{period: (x score, y score)} for a 2-D array (cropped to multiples of 32)."""
    h, w = y.shape[0] // 32 * 32, y.shape[1] // 32 * 32
    y = y[:h, :w] - y[:h, :w].mean()
    energy = np.abs(np.fft.fft2(y)) ** 2
    cols, rows = energy.sum(axis=0), energy.sum(axis=1)
    scores = {}
    for p in PERIODS:
        fx, fy = w // p, h // p
        near = (-4, -3, -2, 2, 3, 4)
        sx = cols[fx % w] / np.median([cols[(fx + d) % w] for d in near])
        sy = rows[fy % h] / np.median([rows[(fy + d) % h] for d in near])
        scores[p] = (sx, sy)
    return scores


def notch(img):
    """`img` (H, W, C) with every harmonic of W/8 and H/8 removed (the period-2/4/8 lattice)."""
    f = np.fft.fft2(img, axes=(0, 1))
    h, w = img.shape[:2]
    for k in range(1, 8):
        f[:, k * w // 8] = 0
        f[k * h // 8, :] = 0
    return np.clip(np.real(np.fft.ifft2(f, axes=(0, 1))), 0.0, 1.0)


def mode_score(args):
    for path in args.images:
        s = lattice_score(luminance(path))
        rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64) / 255.0
        amp = np.abs(rgb - notch(rgb)).mean()
        print(path, " ".join(f"p{p}: x {sx:.1f} y {sy:.1f}" for p, (sx, sy) in s.items()),
              f"amplitude {amp:.4f}")


class RandomVgg:
    """VGG19's stack to relu5_1 at quarter widths with He-normal weights (the stand-in's law)."""

    WIDTHS = (16, 32, 64, 128, 128)
    CONVS_PER_STAGE = (2, 2, 4, 4, 1)
    LAYER_WEIGHTS = (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1.0)

    def __init__(self, torch):
        self.torch = torch
        g = torch.Generator().manual_seed(1)
        self.convs, cin = [], 3
        for stage, n in enumerate(self.CONVS_PER_STAGE):
            for _ in range(n):
                cout = self.WIDTHS[stage]
                std = (2.0 / (9 * cin)) ** 0.5
                self.convs.append(torch.randn(cout, cin, 3, 3, generator=g) * std)
                cin = cout
        self.mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
        self.std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

    def features(self, x):
        f = self.torch.nn.functional
        x = (x - self.mean) / self.std
        outs, i = [], 0
        for stage, n in enumerate(self.CONVS_PER_STAGE):
            if stage > 0:
                x = f.max_pool2d(x, 2)
            for j in range(n):
                x = f.relu(f.conv2d(x, self.convs[i], padding=1))
                i += 1
                if j == 0:
                    outs.append(x)
        return outs

    def contrastive(self, out, clear, hazy, sigma=1.0, eps=1e-3):
        """Σ_l ω_l (1 − sim_l(out, clear)) / (1 − sim_l(out, hazy) + ε), sim = exp(−‖Δφ‖²/(2σ²n_l))."""
        fo, fc, fh = self.features(out), self.features(clear), self.features(hazy)
        total = 0.0
        for omega, o, c, h in zip(self.LAYER_WEIGHTS, fo, fc, fh):
            n = o[0].numel()
            pos = 1 - self.torch.exp(-((o - c) ** 2).sum() / (2 * sigma**2 * n))
            neg = 1 - self.torch.exp(-((o - h) ** 2).sum() / (2 * sigma**2 * n))
            total += omega * (pos / (neg + eps)).item()
        return total

    def mncd_spatial(self, out, clear, negatives, eps=1e-7):
        """MNCD's spatial ratio (crates/dehaze-nn/src/losses/mncd.rs), D = mean |difference|:
        Σ_l ω_l D(φ_l(out), φ_l(clear)) / ((1/K) Σ_k D(φ_l(out), φ_l(N_k)) + ε)."""
        fo, fc = self.features(out), self.features(clear)
        fn = [self.features(n) for n in negatives]
        total = 0.0
        for l, omega in enumerate(self.LAYER_WEIGHTS):
            pos = (fo[l] - fc[l]).abs().mean()
            neg = sum((fo[l] - f[l]).abs().mean() for f in fn) / len(fn)
            total += omega * (pos / (neg + eps)).item()
        return total


def mode_losses(args):
    import torch

    torch.set_grad_enabled(False)
    vgg = RandomVgg(torch)

    def rgb(path, size=None):
        im = Image.open(path).convert("RGB")
        if size is not None and im.size != size:
            im = im.resize(size, Image.BILINEAR)
        return np.asarray(im, dtype=np.float32) / 255.0

    def tensor(a):
        return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).permute(2, 0, 1)[None]

    outputs = sorted(f for f in os.listdir(args.out) if f.lower().endswith(".png"))
    if args.limit:
        outputs = outputs[: args.limit]
    rows = []
    for name in outputs:
        stem = os.path.splitext(name)[0]
        matches = [f for f in os.listdir(args.hazy) if os.path.splitext(f)[0] == stem]
        if not matches or not os.path.exists(os.path.join(args.clear, matches[0])):
            print(f"{name}: no hazy/clear pair of that name, skipped", file=sys.stderr)
            continue
        out = rgb(os.path.join(args.out, name))
        size = (out.shape[1], out.shape[0])
        hazy = rgb(os.path.join(args.hazy, matches[0]), size)
        clear = rgb(os.path.join(args.clear, matches[0]), size)
        notched = notch(out)
        l1, l1n = np.abs(out - clear).mean(), np.abs(notched - clear).mean()
        o, n, c, h = tensor(out), tensor(notched), tensor(clear), tensor(hazy)
        g, gn = vgg.contrastive(o, c, h), vgg.contrastive(n, c, h)
        m, mn = vgg.mncd_spatial(o, c, [h]), vgg.mncd_spatial(n, c, [h])
        amp = np.abs(out - notched).mean()
        rows.append((l1, l1n, g, gn, m, mn, amp))
        print(f"{stem}: {line(rows[-1])}")
    if rows:
        print(f"mean of {len(rows)}: {line(np.mean(rows, axis=0))}")


def line(r):
    """One result row: each quantity for the output, then for the notched output."""
    return (f"L1 {r[0]:.4f} notched {r[1]:.4f} | Gaussian contrastive {r[2]:.3f} notched {r[3]:.3f}"
            f" | MNCD spatial {r[4]:.3f} notched {r[5]:.3f} | lattice amplitude {r[6]:.4f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("score")
    s.add_argument("images", nargs="+")
    s.set_defaults(run=mode_score)
    l = sub.add_parser("losses")
    l.add_argument("--out", required=True)
    l.add_argument("--hazy", required=True)
    l.add_argument("--clear", required=True)
    l.add_argument("--limit", type=int, default=0)
    l.set_defaults(run=mode_losses)
    args = ap.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
