"""Image-quality metrics, as ``dehaze metrics`` computes them.

Every metric is computed on the image quantised to 8-bit RGB (``round(x·255)`` for float32,
the same rounding for uint16; grey images as three equal channels; alpha ignored), exactly what
``dehaze metrics`` scores for a file of the same pixels. The names follow its CSV columns:

* no reference: :func:`fade` (``fade``), :func:`niqe` (``niqe_y``; ``channel="gray"``:
  ``niqe_gray``), :func:`brisque`, :func:`entropy`;
* against a ground truth: :func:`psnr` (``psnr_rgb``; ``channel="y"``: ``psnr_y``),
  :func:`ssim` (``ssim_rgb_gauss``; ``variant="rgb_uniform"`` or ``"y"``);
* :func:`scores`: all of them as a dict by column name.

An image too small for a metric (96×96 for NIQE, 8×8 for FADE, 7×7 for BRISQUE and SSIM) or on
which it is undefined (BRISQUE of a constant image) raises ``ValueError``.
"""

from ._native import brisque, entropy, fade, niqe, psnr, scores, ssim

__all__ = ["brisque", "entropy", "fade", "niqe", "psnr", "scores", "ssim"]
