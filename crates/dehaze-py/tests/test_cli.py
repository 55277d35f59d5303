"""Equality with the `dehaze` command on real images: outputs, maps and metrics."""

from __future__ import annotations

import csv
import io
import subprocess

import numpy as np
import pytest

import dehaze_rs
from conftest import read_png, real_pngs, write_png


def cli(dehaze_bin, *args):
    r = subprocess.run([str(dehaze_bin), *map(str, args)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.mark.parametrize("method", ["dcp", "cap", "bccr"])
def test_priors_equal_the_cli_on_real_images(shared, dehaze_bin, tmp_path, method):
    for src in real_pngs(shared, 3):
        out = tmp_path / f"{src.stem}_{method}.png"
        cli(dehaze_bin, src, "-o", out, "-m", method)
        got = dehaze_rs.dehaze(read_png(src), method=method)
        assert np.array_equal(got, read_png(out)), (src, method)


def test_grey_and_alpha_equal_the_cli(shared, dehaze_bin, tmp_path):
    rgb = read_png(real_pngs(shared, 1)[0])
    grey = (rgb[..., 0] // 2 + rgb[..., 1] // 2).astype(np.uint8)
    alpha = ((np.indices(rgb.shape[:2]).sum(axis=0) * 3) % 256).astype(np.uint8)
    for name, img in {
        "grey": grey,
        "rgba": np.dstack([rgb, alpha]),
        "grey_alpha": np.dstack([grey, alpha]),
    }.items():
        src = write_png(tmp_path / f"{name}.png", img)
        out = tmp_path / f"{name}_out.png"
        cli(dehaze_bin, src, "-o", out)
        expected = read_png(out)
        got = dehaze_rs.dehaze(img)
        assert got.shape == img.shape and np.array_equal(got, expected), name


def test_the_bundled_network_equals_the_cli(shared, dehaze_bin, tmp_path):
    crop = read_png(real_pngs(shared, 1)[0])[100:196, 200:328].copy()
    src = write_png(tmp_path / "crop.png", crop)
    out = tmp_path / "crop_dhr.png"
    cli(dehaze_bin, src, "-o", out, "-m", "dhr-s")
    assert np.array_equal(dehaze_rs.Restorer("dhr-s")(crop), read_png(out))


def test_transmission_equals_the_cli_map(shared, dehaze_bin, tmp_path):
    src = real_pngs(shared, 1)[0]
    out = tmp_path / "t.png"
    cli(dehaze_bin, src, "-o", out, "--save-transmission")
    t = dehaze_rs.transmission(read_png(src))
    # The CLI writes the map as a grey image of three equal channels, i.e. their Rec. 601 luma
    # in float32 (off by an ulp from `t` here and there), rounded half away from zero (np.round
    # would round half to even).
    luma = np.float32(0.299) * t + np.float32(0.587) * t + np.float32(0.114) * t
    r = np.clip(luma, 0, 1) * np.float32(255)
    q = (np.floor(r) + (r - np.floor(r) >= 0.5)).astype(np.uint8)
    assert np.array_equal(q, read_png(tmp_path / "t_transmission.png"))


def test_metrics_equal_dehaze_metrics(shared, dehaze_bin, tmp_path):
    pairs = shared / "paired" / "SOTS-outdoor"
    clear = sorted((pairs / "clear").glob("*.png"))
    if not clear:
        pytest.fail(f"no clear PNG in {pairs}")
    hazy = sorted((pairs / "hazy").glob(clear[0].stem + ".*"))[0]
    # The dehazed image, named as its ground truth, scored against it by `dehaze metrics`.
    out = tmp_path / clear[0].name
    cli(dehaze_bin, hazy, "-o", out)
    table = list(csv.DictReader(io.StringIO(cli(dehaze_bin, "metrics", out, "--clear", pairs / "clear"))))
    assert len(table) == 1
    scores = dehaze_rs.metrics.scores(read_png(out), read_png(clear[0]))
    for name, value in scores.items():
        cell = "" if value is None else f"{value:.6f}"
        assert cell == table[0][name], name
    assert all(v is not None for v in scores.values())
