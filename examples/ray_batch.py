#!/usr/bin/env python3
"""Distributed batch dehazing on Ray Data, with dehaze_rs.

    python examples/ray_batch.py IN... -o OUT [--method dcp] [--workers 2] [--address auto]

IN: folders of images, image files, or URIs Ray Data reads (``s3://bucket/hazy/``, ``gs://…``).
Each image is dehazed by a pool of workers (Ray actors) that each hold one
``dehaze_rs.Restorer``, so a network is loaded once per worker, not once per image; the
results are written to OUT as ``<name>.png`` (the name of the input) with ``metrics.csv``
beside them: one row per image, the columns of ``dehaze metrics`` plus the time each image took.

Scaling out: start a Ray cluster (``ray start --head`` on one machine, ``ray start
--address=HEAD:6379`` on the others, each with ``pip install dehaze-rs pillow``), and run the
same script with ``--address auto`` and ``--workers`` up to the cluster's CPUs divided by
``--threads``. Inputs must then be readable from every node (URIs, or a shared file system), and
OUT must be a shared folder: workers write the images where they run.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import time
from pathlib import Path

import numpy as np

#: The columns of metrics.csv: the image, where it went, its size, the time the worker spent on
#: it, then the no-reference columns of ``dehaze metrics``.
COLUMNS = [
    "path",
    "output",
    "width",
    "height",
    "seconds",
    "fade",
    "niqe_y",
    "niqe_gray",
    "brisque",
    "entropy",
]


class Worker:
    """A Ray Data worker: holds a Restorer, dehazes a batch, writes the images, returns a row of
    metrics per image. Ray constructs one per actor of the pool
    (``map_batches(Worker, compute=ActorPoolStrategy(size=N))``)."""

    def __init__(self, out_dir, method="dcp", threads=1, **options):
        # Each worker gets `threads` cores: the library's thread pool (rayon) is sized before
        # its first use, so N workers on N·threads cores do not oversubscribe them.
        os.environ["RAYON_NUM_THREADS"] = str(threads)
        import dehaze_rs

        self.dehaze_rs = dehaze_rs
        self.restorer = dehaze_rs.Restorer(method, **options)
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)

    def __call__(self, batch):
        from PIL import Image

        rows = {c: [] for c in COLUMNS}
        for img, path in zip(batch["image"], batch["path"]):
            img = np.asarray(img)
            started = time.perf_counter()
            out = self.restorer(img)
            seconds = time.perf_counter() - started
            scores = self.dehaze_rs.metrics.scores(out)
            target = self.out_dir / (Path(path).stem + ".png")
            # Encoded in memory and renamed into place, so a reader never sees half a file.
            buf = io.BytesIO()
            Image.fromarray(out).save(buf, format="PNG")
            tmp = target.with_suffix(".png.tmp")
            tmp.write_bytes(buf.getvalue())
            tmp.replace(target)
            h, w = out.shape[:2]
            values = {"path": path, "output": str(target), "width": w, "height": h}
            values["seconds"] = seconds
            values.update({k: scores[k] for k in COLUMNS[5:]})
            for c in COLUMNS:
                rows[c].append(values[c])
        return {c: np.array(v, dtype=object) for c, v in rows.items()}


def run(inputs, out_dir, method="dcp", workers=2, threads=1, batch_size=4, **options):
    """Dehazes `inputs` (paths or URIs) into `out_dir` on the connected Ray cluster (or a local
    one); writes ``metrics.csv`` there and returns its rows (dicts), sorted by path."""
    import ray

    out_dir = Path(out_dir).resolve()
    # Images keep their own mode (grey, RGBA), as the `dehaze` command keeps them; a batch is a
    # list of arrays of different sizes.
    # The readers get a tenth of a core each and a worker 0.9 of each of its cores, so that
    # workers filling every core never leave the reads waiting for a free one (a deadlock on
    # a 2-CPU machine with 2 workers).
    ds = ray.data.read_images(inputs, include_paths=True, num_cpus=0.1)
    results = ds.map_batches(
        Worker,
        fn_constructor_kwargs=dict(
            out_dir=str(out_dir), method=method, threads=threads, **options
        ),
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_cpus=0.9 * threads,
        batch_size=batch_size,
        batch_format="numpy",
    )
    rows = sorted(results.take_all(), key=lambda r: r["path"])
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "metrics.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for r in rows:
            w.writerow(["" if r[c] is None else r[c] for c in COLUMNS])
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("inputs", nargs="+", help="folders, image files or URIs")
    p.add_argument("-o", "--output", required=True, help="output folder (shared on a cluster)")
    p.add_argument("-m", "--method", default="dcp", help="dcp, cap, bccr, ka-net, ka-net-s, dhr-s, dhr-b")
    p.add_argument("--weights", help="weights file of a network method")
    p.add_argument("--workers", type=int, default=2, help="Ray actors, each with a Restorer")
    p.add_argument("--threads", type=int, default=1, help="cores per worker")
    p.add_argument("--batch-size", type=int, default=4, help="images per batch")
    p.add_argument("--address", help="Ray cluster to join (e.g. auto); default a local one")
    a = p.parse_args(argv)

    import ray

    ray.init(address=a.address)
    options = {"weights": a.weights} if a.weights else {}
    inputs = [str(Path(i).resolve()) if os.path.exists(i) else i for i in a.inputs]
    started = time.perf_counter()
    rows = run(
        inputs, a.output, a.method, a.workers, a.threads, a.batch_size, **options
    )
    elapsed = time.perf_counter() - started
    print(
        f"{len(rows)} images in {elapsed:.1f} s ({len(rows) / elapsed:.2f} images/s, "
        f"{a.workers} workers); metrics in {Path(a.output) / 'metrics.csv'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
