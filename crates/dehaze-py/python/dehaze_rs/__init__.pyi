"""Type stubs of dehaze_rs (the native part lives in ``dehaze_rs._native``)."""

import os
from typing import Optional, Tuple, TypeVar, Union

import numpy as np
import numpy.typing as npt

from . import metrics as metrics

__version__: str

_Sample = TypeVar("_Sample", np.uint8, np.uint16, np.float32)
#: An image: H×W×3 RGB, H×W×4 RGBA, H×W or H×W×1 grey, H×W×2 grey+alpha; uint8, uint16, or
#: float32 in [0, 1].
Image = npt.NDArray[_Sample]
_Path = Union[str, os.PathLike[str]]
_Bytes = Union[int, str]
_Size = Union[int, str]

class Restorer:
    """A dehazing method ready to run; a network is loaded once. Call it per image."""

    def __init__(
        self,
        method: str = "dcp",
        *,
        weights: Optional[_Path] = None,
        device: str = "cpu",
        max_memory: Optional[_Bytes] = None,
        network_size: Optional[_Size] = None,
    ) -> None: ...
    def __call__(self, img: npt.NDArray[_Sample]) -> npt.NDArray[_Sample]:
        """Dehazes ``img``: the same shape and dtype, equal to the ``dehaze`` command's output."""
    def transmission(self, img: Image) -> npt.NDArray[np.float32]:
        """The transmission map (H×W float32) of a prior method."""
    def atmospheric_light(self, img: Image) -> Tuple[float, float, float]:
        """The atmospheric light (R, G, B in [0, 1]) of a prior method."""
    @property
    def method(self) -> str: ...
    @property
    def is_network(self) -> bool: ...

def dehaze(
    img: npt.NDArray[_Sample],
    method: str = "dcp",
    *,
    weights: Optional[_Path] = None,
    device: str = "cpu",
    max_memory: Optional[_Bytes] = None,
    network_size: Optional[_Size] = None,
) -> npt.NDArray[_Sample]:
    """Dehazes ``img`` with ``method``: an array of the same shape and dtype."""

def transmission(img: Image, method: str = "dcp") -> npt.NDArray[np.float32]:
    """The transmission map of a prior method: H×W float32 in [0, 1]."""

def atmospheric_light(img: Image, method: str = "dcp") -> Tuple[float, float, float]:
    """The atmospheric light of a prior method: (R, G, B) in [0, 1]."""

def methods() -> list[Tuple[str, str]]:
    """Every method as (name, description), priors first."""
