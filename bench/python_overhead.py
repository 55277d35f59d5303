#!/usr/bin/env python3
"""Per-call cost of the Python binding against the CLI's own per-file time, at 1 MP, and the
throughput of examples/ray_batch.py with 1 and 2 workers.

    python bench/python_overhead.py --bin target/release/dehaze [--method dcp] [--repeat 9]
                                    [--ray-images 24]

Prints a Markdown table (bench/README.md has the measured one). In one run, on the same 1 MP
image (examples/valley_hazy.png resized to 1250×800 with Lanczos):

* `Restorer.__call__`: the binding's whole call from Python (array checks, copy in, restore,
  copy out), median of --repeat calls on a loaded Restorer;
* `dehaze -v`: the per-file time the CLI prints (read PNG, restore, write PNG), median of
  --repeat runs (process start excluded: the time is measured inside the process);
* the same PNG decode and encode done by Pillow, so that the CLI's codec share can be judged;
* `_roundtrip`: the binding's own work in a call (checks, copy in, copy out, no restore), so
  the restore's share of the call is the rest;
* an 8×8 call: the binding's fixed cost per call.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

import dehaze_rs

REPO = Path(__file__).resolve().parents[1]


def median_time(f, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def cli_time(binary, src, out, method, repeat):
    times = []
    for _ in range(repeat):
        r = subprocess.run(
            [str(binary), "-v", "-m", method, str(src), "-o", str(out)],
            capture_output=True, text=True, check=True,
        )
        times.append(float(re.search(r"\((\d+\.\d+) s", r.stdout + r.stderr).group(1)))
    return statistics.median(times)


def ray_throughput(folder, out, workers):
    import ray

    spec = importlib.util.spec_from_file_location("ray_batch", REPO / "examples" / "ray_batch.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        # A warm-up run starts the workers' processes and imports; then the timed one.
        example.run([str(folder)], out / "warm", workers=workers)
        t = time.perf_counter()
        rows = example.run([str(folder)], out / f"w{workers}", workers=workers)
        return len(rows) / (time.perf_counter() - t)
    finally:
        ray.shutdown()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", default=REPO / "target" / "release" / "dehaze", type=Path)
    p.add_argument("--method", default="dcp")
    p.add_argument("--repeat", type=int, default=9)
    p.add_argument("--ray-images", type=int, default=24, help="0: no Ray run")
    a = p.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="dehaze-py-bench-"))
    with Image.open(REPO / "examples" / "valley_hazy.png") as im:
        big = im.convert("RGB").resize((1250, 800), Image.LANCZOS)
    src = tmp / "one_mp.png"
    big.save(src)
    img = np.asarray(big)
    restorer = dehaze_rs.Restorer(a.method)
    restorer(img)  # warm-up (thread pool, page faults of the first buffers)
    py = median_time(lambda: restorer(img), a.repeat)
    tiny = np.zeros((8, 8, 3), np.uint8)
    small = median_time(lambda: restorer(tiny), 200)
    from dehaze_rs import _native

    own = median_time(lambda: _native._roundtrip(img), a.repeat)
    cli = cli_time(a.bin, src, tmp / "out.png", a.method, a.repeat)
    decode = median_time(lambda: np.asarray(Image.open(src).convert("RGB")), a.repeat)
    out = restorer(img)
    encode = median_time(lambda: Image.fromarray(out).save(tmp / "pil.png"), a.repeat)
    same = np.array_equal(out, np.asarray(Image.open(tmp / "out.png")))

    print(f"| {a.method} at 1250×800 (1.0 MP), median of {a.repeat} | seconds |")
    print("|---|---|")
    print(f"| `Restorer.__call__` from Python (checks, copy in, restore, copy out) | {py:.3f} |")
    print(f"| `dehaze -v` per-file time (read PNG, restore, write PNG) | {cli:.3f} |")
    print(f"| Pillow: decode + encode of the same PNG | {decode:.3f} + {encode:.3f} |")
    print(f"| the binding's own work in that call (`_roundtrip`: checks, copy in, copy out) "
          f"| {own:.3f} |")
    print(f"| `Restorer.__call__` on 8×8 (fixed cost per call) | {small * 1e6:.0f} µs |")
    print(f"\nBinding overhead: {own / py:.0%} of the Python call, {own / cli:.0%} of the CLI's "
          f"per-file time; Python call / CLI per-file time: {py / cli:.2f}; "
          f"outputs identical: {same}")

    if a.ray_images:
        folder = tmp / "ray_in"
        folder.mkdir()
        rng = np.random.default_rng(0)
        for k in range(a.ray_images):
            # 0.25 MP crops at random places of the 1 MP image.
            y, x = rng.integers(0, 800 - 400), rng.integers(0, 1250 - 640)
            Image.fromarray(img[y:y + 400, x:x + 640]).save(folder / f"crop{k:02}.png")
        print(f"\n| Ray Data, {a.ray_images} images of 640×400, {a.method}, local cluster of 2 CPUs "
              "| images/s |")
        print("|---|---|")
        for workers in (1, 2):
            rate = ray_throughput(folder, tmp, workers)
            print(f"| {workers} worker{'s' if workers > 1 else ''} (1 thread each) | {rate:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
