"""Type stubs of dehaze_rs.metrics: every metric on the 8-bit quantised image."""

from typing import Dict, Literal, Optional

import numpy as np
import numpy.typing as npt

_Image = npt.NDArray[np.generic]

def fade(img: _Image) -> float:
    """FADE fog density (lower: less fog); ``dehaze metrics``' ``fade``."""
def niqe(img: _Image, channel: Literal["y", "gray"] = "y") -> float:
    """NIQE (lower: better) on Y (``niqe_y``) or grey luma (``niqe_gray``)."""
def brisque(img: _Image) -> float:
    """BRISQUE (lower: better)."""
def entropy(img: _Image) -> float:
    """Grey-level entropy in bits (higher: more detail)."""
def psnr(img: _Image, ref: _Image, channel: Literal["rgb", "y"] = "rgb") -> float:
    """PSNR in dB against ``ref`` (``psnr_rgb`` or ``psnr_y``); inf for identical images."""
def ssim(
    img: _Image, ref: _Image, variant: Literal["rgb_gauss", "rgb_uniform", "y"] = "rgb_gauss"
) -> float:
    """SSIM against ``ref`` (``ssim_rgb_gauss``, ``ssim_rgb_uniform`` or ``ssim_y``)."""
def scores(img: _Image, ref: Optional[_Image] = None) -> Dict[str, Optional[float]]:
    """Every column of ``dehaze metrics`` by name; None where a metric has no value."""
