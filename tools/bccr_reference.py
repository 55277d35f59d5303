#!/usr/bin/env python3
"""Run the `image_dehazer` package (PyPI, 0.0.9) on hazy images and save what it produces,
for comparison with our BCCR (`crates/dehaze-core/tests/priors_bccr_reference.rs`).

Not needed by CI. Setup (outside the repository):

    python3 -m venv /work/venv-bccr
    /work/venv-bccr/bin/pip install numpy opencv-python-headless
    /work/venv-bccr/bin/pip install --no-deps image_dehazer==0.0.9

Usage:

    /work/venv-bccr/bin/python tools/bccr_reference.py OUT_DIR IMAGE [IMAGE ...]

For every IMAGE (basename NAME) it writes into OUT_DIR:

* NAME.input.png      the 8-bit RGB image exactly as OpenCV decoded it, so that both sides
                      start from identical samples (JPEG decoders differ slightly);
* NAME.pkg.png        the package's dehazed output, unchanged (8-bit, its float result is
                      truncated to integers by NumPy's assignment into a uint8 array);
* NAME.pkg_t.f32      its transmission map, raw little-endian float32, row-major;
* NAME.fixed.png / NAME.fixed_t.f32
                      the same with the boundary constraint taking the maximum over all three
                      channels, as the paper does (the package's `np.maximum(t_b, t_g, t_r)`
                      passes `t_r` as NumPy's *output* argument, so only blue and green count);
* NAME.airlight.txt   the package's airlight, R G B on [0, 255].
"""
import os
import sys

import cv2
import numpy as np

# The package calls np.alltrue, which NumPy 2 removed.
if not hasattr(np, "alltrue"):
    np.alltrue = np.all

import image_dehazer  # noqa: E402


class ThreeChannelBound(image_dehazer.image_dehazer):
    """The package's pipeline with the boundary constraint maximised over all channels."""

    def _image_dehazer__BoundCon(self, img):
        bounds = []
        for ch in range(3):
            a = float(self._A[ch])
            i = img[:, :, ch].astype(float)
            bounds.append(np.maximum((a - i) / (a - self.C0), (i - a) / (self.C1 - a)))
        t = np.minimum(np.maximum(np.maximum(bounds[0], bounds[1]), bounds[2]), 1)
        kernel = np.ones((self.boundaryConstraint_windowSze,) * 2, float)
        self._Transmission = cv2.morphologyEx(t, cv2.MORPH_CLOSE, kernel=kernel)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    for path in sys.argv[2:]:
        name = os.path.splitext(os.path.basename(path))[0]
        bgr = cv2.imread(path, cv2.IMREAD_COLOR)
        if bgr is None:
            print(f"{path}: cannot read, skipped")
            continue
        cv2.imwrite(os.path.join(out_dir, f"{name}.input.png"), bgr)
        for tag, cls in (("pkg", image_dehazer.image_dehazer), ("fixed", ThreeChannelBound)):
            dehazer = cls(showHazeTransmissionMap=False)
            out, t = dehazer.remove_haze(bgr)
            cv2.imwrite(os.path.join(out_dir, f"{name}.{tag}.png"), out)
            t.astype("<f4").tofile(os.path.join(out_dir, f"{name}.{tag}_t.f32"))
            if tag == "pkg":
                b, g, r = dehazer._A[:3]
                with open(os.path.join(out_dir, f"{name}.airlight.txt"), "w") as f:
                    f.write(f"{r} {g} {b}\n")
        print(f"{path}: {bgr.shape[1]}x{bgr.shape[0]} done")


if __name__ == "__main__":
    main()
