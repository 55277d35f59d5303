"""The API on synthetic arrays: dtypes, shapes, grey and alpha, bad arrays and options."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

import dehaze_rs
from dehaze_rs import metrics


def hazy(h=48, w=64, seed=0):
    """A smooth hazy-looking uint8 RGB image (gradients plus noise, lifted towards grey)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x / w, y / h, (x + y) / (w + h)], axis=-1)
    img = 0.5 + 0.4 * base + 0.05 * rng.random((h, w, 3))
    return np.clip(img * 255, 0, 255).astype(np.uint8)


def test_the_done_when_one_liner():
    assert dehaze_rs.dehaze(np.zeros((8, 8, 3), np.uint8)).shape == (8, 8, 3)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_same_shape_and_dtype_out(dtype):
    img8 = hazy()
    if dtype == np.uint8:
        img = img8
    elif dtype == np.uint16:
        img = img8.astype(np.uint16) * 257
    else:
        img = img8.astype(np.float32) / 255
    out = dehaze_rs.dehaze(img)
    assert out.shape == img.shape and out.dtype == dtype
    # The same picture in any dtype gives the same result, to within one 8-bit step.
    scale = {np.uint8: 255, np.uint16: 65535, np.float32: 1}[dtype]
    ref = dehaze_rs.dehaze(img8).astype(np.float64) / 255
    assert np.abs(out.astype(np.float64) / scale - ref).max() <= 1 / 255 + 1e-6
    if dtype == np.float32:
        assert 0 <= out.min() and out.max() <= 1


def test_every_method_runs():
    names = [n for n, _ in dehaze_rs.methods()]
    assert names[:3] == ["dcp", "cap", "bccr"] and "dhr-s" in names
    img = hazy()
    for name in ["dcp", "cap", "bccr", "dhr-s"]:
        out = dehaze_rs.dehaze(img, method=name)
        assert out.shape == img.shape and out.dtype == np.uint8, name


def test_grey_stays_grey_and_alpha_passes_through():
    rgb = hazy()
    grey = rgb[..., 1].copy()
    assert dehaze_rs.dehaze(grey).shape == grey.shape
    assert dehaze_rs.dehaze(grey[..., None]).shape == grey.shape + (1,)
    # A grey image is three equal channels, written back as its luma.
    three = dehaze_rs.dehaze(np.stack([grey] * 3, axis=-1))
    assert np.array_equal(dehaze_rs.dehaze(grey), three[..., 0])
    alpha = np.arange(rgb.size // 3, dtype=np.uint8).reshape(rgb.shape[:2])
    rgba = np.concatenate([rgb, alpha[..., None]], axis=-1)
    out = dehaze_rs.dehaze(rgba)
    assert out.shape == rgba.shape
    assert np.array_equal(out[..., 3], alpha)
    assert np.array_equal(out[..., :3], dehaze_rs.dehaze(rgb))
    la = np.stack([grey, alpha], axis=-1)
    out = dehaze_rs.dehaze(la)
    assert np.array_equal(out[..., 1], alpha)
    assert np.array_equal(out[..., 0], dehaze_rs.dehaze(grey))


@pytest.mark.parametrize("shape", [(6, 5), (6, 5, 1), (6, 5, 2), (6, 5, 3), (6, 5, 4)])
def test_arrays_come_back_as_they_went_in(shape):
    """Taking an array in and giving it back (no restore) is an identity for 8 and 16 bits."""
    from dehaze_rs import _native

    rng = np.random.default_rng(1)
    for dtype, top in [(np.uint8, 255), (np.uint16, 65535)]:
        img = rng.integers(0, top + 1, size=shape).astype(dtype)
        back = _native._roundtrip(img)
        assert back.dtype == dtype and np.array_equal(back, img), (dtype, shape)


def test_any_memory_layout():
    img = hazy(48, 128)
    view = img[:, ::2]
    assert not view.flags.c_contiguous
    assert np.array_equal(dehaze_rs.dehaze(view), dehaze_rs.dehaze(view.copy()))
    fortran = np.asfortranarray(img)
    assert np.array_equal(dehaze_rs.dehaze(fortran), dehaze_rs.dehaze(img))


@pytest.mark.parametrize(
    "array, message",
    [
        (np.zeros(10, np.uint8), "an array of 1 dimensions"),
        (np.zeros((2, 4, 4, 3), np.uint8), "an array of 4 dimensions"),
        (np.zeros((4, 4, 5), np.uint8), "5 channels"),
        (np.zeros((0, 4, 3), np.uint8), "image has no pixels (4×0)"),
        (np.zeros((4, 0), np.uint8), "image has no pixels (0×4)"),
        (np.zeros((4, 4, 3), np.float64), "dtype float64 is not supported"),
        (np.zeros((4, 4, 3), np.int32), "dtype int32 is not supported"),
        (np.full((4, 4, 3), np.nan, np.float32), "values must be finite"),
        (np.full((4, 4, 3), np.inf, np.float32), "values must be finite"),
        (np.full((4, 4, 3), 2.0, np.float32), "divide 8-bit values by 255"),
    ],
)
def test_bad_arrays_are_clear_value_errors(array, message):
    with pytest.raises(ValueError, match="^img: .*") as e:
        dehaze_rs.dehaze(array)
    assert message in str(e.value)


def test_the_bad_value_is_located():
    img = np.zeros((4, 5, 3), np.float32)
    img[2, 3, 1] = -0.5
    with pytest.raises(ValueError, match="value -0.5 at row 2, column 3, channel 1"):
        dehaze_rs.dehaze(img)


def test_not_an_array():
    with pytest.raises(TypeError, match="a numpy array expected, got list"):
        dehaze_rs.dehaze([[0, 0, 0]])


def test_options_errors_name_the_keyword(tmp_path):
    img = hazy()
    with pytest.raises(ValueError, match='unknown method "nope": one of dcp, cap, bccr'):
        dehaze_rs.dehaze(img, method="nope")
    with pytest.raises(ValueError, match="^weights= is for network methods; dcp needs none$"):
        dehaze_rs.Restorer("dcp", weights="w.safetensors")
    with pytest.raises(ValueError, match="untrained .* pass them as weights=PATH$"):
        dehaze_rs.Restorer("dhr-b")
    with pytest.raises(OSError, match="cannot load dhr-s weights from .*missing.safetensors"):
        dehaze_rs.Restorer("dhr-s", weights=tmp_path / "missing.safetensors")
    (tmp_path / "bad.safetensors").write_bytes(b"not weights")
    with pytest.raises(OSError, match="bad.safetensors"):
        dehaze_rs.Restorer("dhr-s", weights=str(tmp_path / "bad.safetensors"))
    with pytest.raises(ValueError, match='unknown device "tpu": one of cpu, tch'):
        dehaze_rs.Restorer("dhr-s", device="tpu")
    with pytest.raises(ValueError, match='^device="wgpu": this build has no'):
        dehaze_rs.Restorer("dhr-s", device="wgpu")
    with pytest.raises(ValueError, match="^max_memory: "):
        dehaze_rs.Restorer("dhr-s", max_memory="lots")
    with pytest.raises(ValueError, match="^network_size: "):
        dehaze_rs.Restorer("dhr-s", network_size="huge")
    with pytest.raises(TypeError):
        dehaze_rs.dehaze(img, patch_size=15)


def test_restorer_holds_a_network_and_options():
    r = dehaze_rs.Restorer("dhr-s", max_memory="1G", network_size=64)
    assert r.method == "dhr-s" and r.is_network
    assert "max_memory=1073741824" in repr(r) and "network_size=\"64\"" in repr(r)
    img = hazy(96, 128)
    assert r(img).shape == img.shape
    p = dehaze_rs.Restorer()
    assert p.method == "dcp" and not p.is_network and repr(p) == 'Restorer("dcp")'


def test_transmission_and_atmospheric_light():
    img = hazy()
    t = dehaze_rs.transmission(img)
    assert t.shape == img.shape[:2] and t.dtype == np.float32
    assert 0 <= t.min() and t.max() <= 1
    assert np.array_equal(t, dehaze_rs.Restorer("dcp").transmission(img))
    a = dehaze_rs.atmospheric_light(img)
    assert len(a) == 3 and all(0 <= v <= 1 for v in a)
    for m in ["cap", "bccr"]:
        assert dehaze_rs.transmission(img, m).shape == img.shape[:2]
        assert len(dehaze_rs.atmospheric_light(img, m)) == 3
    with pytest.raises(ValueError, match="dhr-s estimates no transmission map \\(dcp, cap, bccr do\\)"):
        dehaze_rs.Restorer("dhr-s").transmission(img)
    with pytest.raises(ValueError, match="dhr-s estimates no atmospheric light"):
        dehaze_rs.Restorer("dhr-s").atmospheric_light(img)


def test_threads_share_a_restorer():
    """The GIL is released while restoring: threads run one Restorer concurrently."""
    r = dehaze_rs.Restorer("dcp")
    images = [hazy(seed=s) for s in range(8)]
    expected = [r(i) for i in images]
    results = [None] * len(images)

    def work(k):
        results[k] = r(images[k])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(images))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(np.array_equal(a, b) for a, b in zip(results, expected))


def test_metrics():
    img = hazy(200, 240)
    out = dehaze_rs.dehaze(img)
    s = metrics.scores(out, img)
    assert list(s) == [
        "fade", "niqe_y", "niqe_gray", "brisque", "entropy",
        "psnr_rgb", "ssim_rgb_gauss", "ssim_rgb_uniform", "psnr_y", "ssim_y",
    ]
    assert s["fade"] == metrics.fade(out)
    assert s["niqe_y"] == metrics.niqe(out) and s["niqe_gray"] == metrics.niqe(out, "gray")
    assert s["brisque"] == metrics.brisque(out) and s["entropy"] == metrics.entropy(out)
    assert s["psnr_rgb"] == metrics.psnr(out, img)
    assert s["psnr_y"] == metrics.psnr(out, img, channel="y")
    assert s["ssim_rgb_gauss"] == metrics.ssim(out, img)
    assert s["ssim_rgb_uniform"] == metrics.ssim(out, img, "rgb_uniform")
    assert s["ssim_y"] == metrics.ssim(out, img, variant="y")
    assert list(metrics.scores(out)) == list(s) and list(metrics.scores(out).values())[5:] == [None] * 5
    # Metrics see the 8-bit quantised image: the same pixels in float32 score the same.
    assert metrics.scores(out.astype(np.float32) / 255, img) == s
    assert math.isinf(metrics.psnr(img, img)) and metrics.ssim(img, img) == 1.0
    assert metrics.scores(img, img)["psnr_rgb"] is None  # not finite: no value, as the CSV


def test_metric_errors():
    small = hazy(32, 32)
    with pytest.raises(ValueError, match="needs an image of at least 96x96"):
        metrics.niqe(small)
    with pytest.raises(ValueError, match="image sizes differ"):
        metrics.psnr(small, hazy(32, 40))
    with pytest.raises(ValueError, match='channel "lab"'):
        metrics.psnr(small, small, channel="lab")
    with pytest.raises(ValueError, match="^ref: dtype float64"):
        metrics.ssim(small, small.astype(np.float64))
    assert metrics.scores(small)["niqe_y"] is None
