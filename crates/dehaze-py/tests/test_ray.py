"""examples/ray_batch.py on a local Ray cluster (2 CPUs, a dozen images): equal to the CLI."""

from __future__ import annotations

import csv
import importlib.util
import subprocess

import numpy as np

import dehaze_rs
from conftest import REPO, missing, read_png, real_pngs, write_png


def load_example():
    spec = importlib.util.spec_from_file_location("ray_batch", REPO / "examples" / "ray_batch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ray_batch_equals_the_cli(shared, dehaze_bin, tmp_path):
    try:
        import ray
    except ImportError:
        missing("the ray package (pip install 'ray[data]')")
    inputs = tmp_path / "in"
    inputs.mkdir()
    # A dozen small images: two 160×120 crops of each of six real ones.
    for src in real_pngs(shared, 6):
        img = read_png(src)
        write_png(inputs / f"{src.stem}_a.png", img[:120, :160].copy())
        write_png(inputs / f"{src.stem}_b.png", img[-120:, -160:].copy())
    ray.init(num_cpus=2, include_dashboard=False)
    try:
        rows = load_example().run([str(inputs)], tmp_path / "ray", method="dcp", workers=2)
    finally:
        ray.shutdown()
    assert len(rows) == 12
    subprocess.run([str(dehaze_bin), str(inputs), "-o", str(tmp_path / "cli")], check=True)
    for f in sorted(inputs.iterdir()):
        assert np.array_equal(read_png(tmp_path / "ray" / f.name), read_png(tmp_path / "cli" / f.name)), f.name
    with open(tmp_path / "ray" / "metrics.csv") as fh:
        table = list(csv.DictReader(fh))
    assert [r["path"].rsplit("/", 1)[-1] for r in table] == sorted(f.name for f in inputs.iterdir())
    for r in table:
        out = read_png(tmp_path / "cli" / r["path"].rsplit("/", 1)[-1])
        expected = dehaze_rs.metrics.scores(out)
        assert (int(r["width"]), int(r["height"])) == (160, 120)
        for name in ["fade", "niqe_y", "niqe_gray", "brisque", "entropy"]:
            cell = "" if expected[name] is None else repr(expected[name])
            assert r[name] == cell, name
