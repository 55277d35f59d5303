#!/usr/bin/env python3
"""Convert the IQA model arrays (`shared/reference/iqa_models/*.npy`) to raw blobs for the crate.

Each `.npy` (format 1.0, dtype '<f8', C order, no pickle) becomes `<name>.f64`: the array's
elements as little-endian IEEE float64, row-major, nothing else. The Rust side
(`crates/dehaze-core/src/metrics/models.rs`) embeds them with `include_bytes!` and checks the
element counts. Standard library only (no numpy needed).

Usage: python3 tools/npy_to_f64.py [SRC_DIR] [DST_DIR]
"""
import ast
import hashlib
import struct
import sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
src = Path(sys.argv[1]) if len(sys.argv) > 1 else root.parent / "shared/reference/iqa_models"
dst = Path(sys.argv[2]) if len(sys.argv) > 2 else root / "crates/dehaze-core/src/metrics/models"

for path in sorted(src.glob("*.npy")):
    raw = path.read_bytes()
    if raw[:6] != b"\x93NUMPY" or raw[6] != 1:
        sys.exit(f"{path}: not an .npy v1 file")
    (hlen,) = struct.unpack("<H", raw[8:10])
    header = ast.literal_eval(raw[10 : 10 + hlen].decode("latin1"))
    if header["descr"] != "<f8" or header["fortran_order"]:
        sys.exit(f"{path}: expected '<f8' C-order, got {header}")
    count = 1
    for n in header["shape"]:
        count *= n
    data = raw[10 + hlen :]
    if len(data) != 8 * count:
        sys.exit(f"{path}: {len(data)} data bytes for shape {header['shape']}")
    out = dst / (path.stem + ".f64")
    out.write_bytes(data)
    print(f"{out.name:40s} shape={header['shape']} sha256(npy)={hashlib.sha256(raw).hexdigest()[:16]}")
