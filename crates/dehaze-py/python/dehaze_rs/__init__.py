"""Image dehazing and haze metrics: numpy arrays in, numpy arrays of the same dtype out.

The functions call the library the ``dehaze`` command line calls, so results equal the
command's pixel for pixel (a uint8 array gives the bytes the command writes as PNG for a file of
the same pixels). Arrays are H×W×3 (RGB), H×W×4 (RGBA: alpha passes through), H×W or H×W×1
(grey) or H×W×2 (grey+alpha), of uint8, uint16, or float32 in [0, 1].

>>> import numpy as np, dehaze_rs
>>> dehaze_rs.dehaze(np.zeros((8, 8, 3), np.uint8)).shape
(8, 8, 3)

A network is loaded each time :func:`dehaze` is called with it; to dehaze many images, load it
once with :class:`Restorer` and call that per image.
"""

from __future__ import annotations

from . import metrics
from ._native import Restorer, __version__, methods

__all__ = [
    "Restorer",
    "atmospheric_light",
    "dehaze",
    "methods",
    "metrics",
    "transmission",
    "__version__",
]


def dehaze(img, method="dcp", **options):
    """Dehazes ``img`` with ``method`` and returns an array of the same shape and dtype.

    ``method``: a prior (``"dcp"``, ``"cap"``, ``"bccr"``) or a network (``"ka-net"``,
    ``"ka-net-s"``, ``"dhr-s"``, ``"dhr-b"``; ``dehaze_rs.methods()`` lists them). ``options`` are those of
    :class:`Restorer`: ``weights`` (a file; DHR-S and KA-Net-S have bundled weights), ``device``,
    ``max_memory``, ``network_size``.

    Raises ``ValueError`` for a bad array or option, ``OSError`` for weights that cannot be
    loaded.
    """
    return Restorer(method, **options)(img)


def transmission(img, method="dcp"):
    """The transmission map ``t`` of a prior method on ``img``: H×W float32 in [0, 1]."""
    return Restorer(method).transmission(img)


def atmospheric_light(img, method="dcp"):
    """The atmospheric light ``A`` a prior method estimates on ``img``: (R, G, B) in [0, 1]."""
    return Restorer(method).atmospheric_light(img)
