#!/usr/bin/env python3
"""Make the benchmark input: the reference hazy image resized with OpenCV's INTER_CUBIC.

    python bench/make_image.py SRC.png OUT.png [WIDTH HEIGHT]     (default 3000 2000)
"""
import sys

import cv2


def main():
    if len(sys.argv) not in (3, 5):
        sys.exit(__doc__)
    src, out = sys.argv[1], sys.argv[2]
    w, h = (int(sys.argv[3]), int(sys.argv[4])) if len(sys.argv) == 5 else (3000, 2000)
    img = cv2.imread(src, cv2.IMREAD_COLOR)
    if img is None:
        sys.exit(f"cannot read {src}")
    big = cv2.resize(img, (w, h), interpolation=cv2.INTER_CUBIC)
    if not cv2.imwrite(out, big):
        sys.exit(f"cannot write {out}")
    print(f"wrote {out} {w}x{h}")


if __name__ == "__main__":
    main()
