#!/usr/bin/env python3
"""Peer implementation for the benchmark: the dark channel prior with OpenCV, same parameters
and steps as the project's reference (shared/reference/README.md, "The reference dark channel
prior"): patch 15 (cv2.erode, 15x15 rectangle, replicate border), airlight from a stable
argsort of the dark channel (top 0.1 %, largest R+G+B), omega 0.95, cv2.ximgproc.guidedFilter
(r 60, eps 1e-3) on the 0.299/0.587/0.114 grey guide, t0 0.1.

Computed in float32 (as our Rust code), so OpenCV's float32 fast paths are used.
OpenCV's guided filter normalises its box means with reflected borders instead of clipping the
window, so the output differs slightly from the reference near the image borders.

    python bench/opencv_dcp.py IMAGE [--runs N] [--warmup N] [--threads N] [--save OUT.png]

Prints `method opencv_dcp runs N median_s X min_s Y` like the Rust example.
"""
import argparse
import statistics
import time

import cv2
import numpy as np

PATCH, OMEGA, T0, TOP, R, EPS = 15, 0.95, 0.1, 0.001, 60, 1e-3
KERNEL = cv2.getStructuringElement(cv2.MORPH_RECT, (PATCH, PATCH))


def dark_channel(img):
    return cv2.erode(img.min(axis=2), KERNEL, borderType=cv2.BORDER_REPLICATE)


def airlight(img, dark):
    flat = dark.ravel()
    n = max(1, int(np.floor(TOP * flat.size)))
    top = np.argsort(flat, kind="stable")[-n:]
    pixels = img.reshape(-1, 3)[top]
    return pixels[np.argmax(pixels.sum(axis=1))]


def dehaze(rgb):
    """rgb: float32 H×W×3 in [0, 1]."""
    a = airlight(rgb, dark_channel(rgb))
    raw = 1.0 - OMEGA * dark_channel(rgb / a)
    guide = (0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]).astype(np.float32)
    t = cv2.ximgproc.guidedFilter(guide, raw.astype(np.float32), R, EPS)
    j = (rgb - a) / np.maximum(t, T0)[..., None] + a
    return np.clip(j, 0.0, 1.0), t, a


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("image")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--save")
    args = ap.parse_args()
    cv2.setNumThreads(args.threads)
    bgr = cv2.imread(args.image, cv2.IMREAD_COLOR)
    if bgr is None:
        raise SystemExit(f"cannot read {args.image}")
    rgb = np.ascontiguousarray(bgr[..., ::-1]).astype(np.float32) / 255.0
    print(f"image {args.image} {rgb.shape[1]}x{rgb.shape[0]} threads {cv2.getNumThreads()}")
    for _ in range(args.warmup):
        dehaze(rgb)
    times = []
    for _ in range(max(1, args.runs)):
        t = time.perf_counter()
        out = dehaze(rgb)
        times.append(time.perf_counter() - t)
    print(f"method opencv_dcp runs {len(times)} median_s {statistics.median(times):.4f} "
          f"min_s {min(times):.4f}")
    if args.save:
        j8 = np.round(out[0] * 255).astype(np.uint8)
        cv2.imwrite(args.save, j8[..., ::-1])


if __name__ == "__main__":
    main()
