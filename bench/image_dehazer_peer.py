#!/usr/bin/env python3
"""Peer for the benchmark: `image_dehazer.remove_haze` (PyPI image-dehazer 0.0.9, Meng et al.'s
boundary constraint + contextual regularisation) with its default parameters, on the BGR uint8
image as OpenCV decodes it.

    python bench/image_dehazer_peer.py IMAGE [--runs N] [--warmup N] [--threads N]

Prints `method image_dehazer runs N median_s X min_s Y` like the Rust example.
"""
import argparse
import statistics
import time

import cv2
import numpy as np

# The package calls np.alltrue, which NumPy 2 removed.
if not hasattr(np, "alltrue"):
    np.alltrue = np.all

import image_dehazer  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("image")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    cv2.setNumThreads(args.threads)
    img = cv2.imread(args.image, cv2.IMREAD_COLOR)
    if img is None:
        raise SystemExit(f"cannot read {args.image}")
    print(f"image {args.image} {img.shape[1]}x{img.shape[0]} threads {cv2.getNumThreads()}")
    for _ in range(args.warmup):
        image_dehazer.remove_haze(img, showHazeTransmissionMap=False)
    times = []
    for _ in range(max(1, args.runs)):
        t = time.perf_counter()
        image_dehazer.remove_haze(img, showHazeTransmissionMap=False)
        times.append(time.perf_counter() - t)
    print(f"method image_dehazer runs {len(times)} median_s {statistics.median(times):.4f} "
          f"min_s {min(times):.4f}")


if __name__ == "__main__":
    main()
