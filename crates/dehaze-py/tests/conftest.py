"""Shared fixtures: the repository, the reference data (../shared), the `dehaze` binary.

A test whose data is missing skips with a note, or fails when DEHAZE_REQUIRE_ALL=1 (what CI
sets), as `dehaze_core::testing::missing` does for the Rust suites.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]
SHARED = REPO.parent / "shared" / "data"
REQUIRE_ALL = "DEHAZE_REQUIRE_ALL"


def missing(what: str) -> None:
    """Skips the test because `what` is missing; fails it under DEHAZE_REQUIRE_ALL=1."""
    if os.environ.get(REQUIRE_ALL) == "1":
        pytest.fail(f"{what} is missing, and {REQUIRE_ALL}=1 requires every check to run")
    pytest.skip(f"{what} is missing (set {REQUIRE_ALL}=1 to make this a failure)")


@pytest.fixture(scope="session")
def shared() -> Path:
    """The reference data folder, ../shared/data beside the repository."""
    if not (SHARED / "real_hazy").is_dir():
        missing(f"the reference data {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def dehaze_bin() -> Path:
    """The `dehaze` binary: $DEHAZE_BIN, else target/debug/dehaze (built if absent)."""
    if "DEHAZE_BIN" in os.environ:
        path = Path(os.environ["DEHAZE_BIN"])
        if not path.is_file():
            pytest.fail(f"DEHAZE_BIN={path} is not a file")
        return path
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    path = target / "debug" / "dehaze"
    if not path.is_file():
        subprocess.run(["cargo", "build", "-p", "dehaze-cli"], cwd=REPO, check=True)
    return path


def read_png(path: Path) -> np.ndarray:
    """A PNG's samples as an array (PNG is lossless: every decoder gives these)."""
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im)


def write_png(path: Path, array: np.ndarray) -> Path:
    from PIL import Image

    Image.fromarray(array).save(path)
    return path


def real_pngs(shared: Path, n: int):
    """The first `n` real hazy PNG images (RGB, 8-bit), by name."""
    files = sorted((shared / "real_hazy").rglob("*.png"))[:n]
    if len(files) < n:
        missing(f"{n} PNG images in {shared / 'real_hazy'}")
    return files
