#!/usr/bin/env python3
"""Reference values for the training losses of `crates/dehaze-nn/src/losses/`, computed with
PyTorch in float64 from the loss definitions in the module doc comments (our own code;
the equations are those of /work/shared/spec/SYSTEMS.md §1.3, §2.2–2.3).

Not needed by CI: the outputs are committed. Setup: a Python with torch, numpy and safetensors
(we used torch 2.9.1 on CPU). Usage, from the repository root:

    python tools/losses_reference.py crates/dehaze-nn/tests/fixtures/losses

It writes two files into that folder:

* tiny_vgg19.safetensors  a reduced-width VGG19 feature stack (widths 4, 6, 8, 10, 12 instead of
                          64, 128, 256, 512, 512) under torchvision's key names
                          `features.{0,2,5,...,28}.weight/bias`, float32, seeded random weights;
                          the Rust loader must accept it like a real torchvision file.
* reference.safetensors   float32 inputs and float64 expected outputs (names below, see
                          `main`): reconstruction losses, VGG features, 2-D DFT, MNCD spatial and
                          frequency terms, the Gaussian contrastive loss, and the gradients of
                          the MNCD and contrastive losses with respect to the output image.

Every expected value is computed in float64 from the float32 inputs, so the Rust side (float32)
is compared with a tolerance.
"""
import math
import os
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

# torchvision's vgg19 `features` indices of the 13 convolutions up to conv5_1.
CONV_INDICES = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28]
# Stage of each convolution (1..5): its output width is WIDTHS[stage - 1].
CONV_STAGE = [1, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5]
# relu1_1, relu2_1, relu3_1, relu4_1, relu5_1 are the ReLUs after these convolutions.
OUTPUT_AFTER = {0, 5, 10, 19, 28}
# 2x2 max pooling follows the ReLUs of these convolutions (relu1_2, relu2_2, relu3_4, relu4_4).
POOL_AFTER = {2, 7, 16, 25}
WIDTHS = (4, 6, 8, 10, 12)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
LAYER_WEIGHTS = (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1.0)

CHARBONNIER_EPS = 1e-3
MNCD_EPS = 1e-7
SPECTRUM_DELTA = 1e-3
GAUSS_SIGMA = 0.5
GAUSS_EPS = 1e-3


def tiny_vgg(gen):
    """Seeded float32 weights with torchvision key names; non-zero biases so that a loader
    that drops them is caught."""
    params = {}
    cin = 3
    for idx, stage in zip(CONV_INDICES, CONV_STAGE):
        cout = WIDTHS[stage - 1]
        std = math.sqrt(2.0 / (9 * cin))
        params[f"features.{idx}.weight"] = torch.randn(cout, cin, 3, 3, generator=gen) * std
        params[f"features.{idx}.bias"] = torch.randn(cout, generator=gen) * 0.1
        cin = cout
    return params


def vgg_features(x, params):
    mean = torch.tensor(IMAGENET_MEAN, dtype=x.dtype).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=x.dtype).view(1, 3, 1, 1)
    h = (x - mean) / std
    outs = []
    for idx in CONV_INDICES:
        w = params[f"features.{idx}.weight"].to(x.dtype)
        b = params[f"features.{idx}.bias"].to(x.dtype)
        h = F.relu(F.conv2d(h, w, b, padding=1))
        if idx in OUTPUT_AFTER:
            outs.append(h)
        if idx in POOL_AFTER:
            h = F.max_pool2d(h, 2)
    return outs


def per_sample_reconstruction(out, gt, kind, importance=None):
    diff = out - gt
    if kind == "l1":
        err = diff.abs()
    else:
        err = torch.sqrt(diff * diff + CHARBONNIER_EPS**2)
    if importance is not None:
        ph = out.shape[2] // importance.shape[2]
        pw = out.shape[3] // importance.shape[3]
        w = F.interpolate(importance, scale_factor=(ph, pw), mode="nearest")
        err = err * w
    return err.flatten(1).mean(dim=1)


def spectrum(x):
    f = torch.fft.fft2(x, norm="ortho")
    return f.real, f.imag


def amplitude_phasor(x):
    re, im = spectrum(x)
    amp = torch.sqrt(re * re + im * im + SPECTRUM_DELTA**2)
    return amp, re / amp, im / amp


def mncd_spatial(out, gt, negatives, params):
    fo = vgg_features(out, params)
    fg = vgg_features(gt, params)
    fn = [vgg_features(n, params) for n in negatives]
    total = 0.0
    for l, w in enumerate(LAYER_WEIGHTS):
        pos = (fo[l] - fg[l]).abs().mean()
        neg = sum((fo[l] - f[l]).abs().mean() for f in fn) / len(fn)
        total = total + w * pos / (neg + MNCD_EPS)
    return total


def mncd_frequency(out, gt, negatives):
    ao, co, so = amplitude_phasor(out)
    ag, cg, sg = amplitude_phasor(gt)
    neg = [amplitude_phasor(n) for n in negatives]

    def d_amp(a, b):
        return (a - b).abs().mean()

    def d_pha(c1, s1, c2, s2):
        return 0.5 * ((c1 - c2).abs().mean() + (s1 - s2).abs().mean())

    amp_pos = d_amp(ao, ag)
    amp_neg = sum(d_amp(ao, a) for a, _, _ in neg) / len(neg)
    pha_pos = d_pha(co, so, cg, sg)
    pha_neg = sum(d_pha(co, so, c, s) for _, c, s in neg) / len(neg)
    return amp_pos / (amp_neg + MNCD_EPS) + pha_pos / (pha_neg + MNCD_EPS)


def gaussian_contrastive(out, gt, hazy, params):
    fo = vgg_features(out, params)
    fg = vgg_features(gt, params)
    fh = vgg_features(hazy, params)
    total = 0.0
    for l, w in enumerate(LAYER_WEIGHTS):
        n_l = fo[l][0].numel()
        d_pos = (fo[l] - fg[l]).pow(2).flatten(1).sum(dim=1) / n_l
        d_neg = (fo[l] - fh[l]).pow(2).flatten(1).sum(dim=1) / n_l
        s_pos = torch.exp(-d_pos / (2 * GAUSS_SIGMA**2))
        s_neg = torch.exp(-d_neg / (2 * GAUSS_SIGMA**2))
        total = total + w * ((1 - s_pos) / (1 - s_neg + GAUSS_EPS)).mean()
    return total


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    gen = torch.Generator().manual_seed(20260117)

    params = tiny_vgg(gen)
    save_file(
        {k: v.contiguous() for k, v in params.items()},
        os.path.join(out_dir, "tiny_vgg19.safetensors"),
        metadata={"what": "reduced-width VGG19 features (widths 4,6,8,10,12), seeded random"},
    )
    p64 = {k: v.double() for k, v in params.items()}

    # A batch of 2 RGB 16x16 images: ground truth, an output near it, three negatives
    # (a hazier copy, a colour-shifted copy, unrelated noise).
    gt = torch.rand(2, 3, 16, 16, generator=gen)
    out = (gt + 0.08 * torch.randn(2, 3, 16, 16, generator=gen)).clamp(0, 1)
    hazy = 0.55 * gt + 0.45 * 0.9
    neg2 = (gt + torch.tensor([0.15, -0.05, 0.1]).view(1, 3, 1, 1)).clamp(0, 1)
    neg3 = torch.rand(2, 3, 16, 16, generator=gen)
    # Patch importance, 8x8 patches: positive with mean 1 per image (w_p = N softmax(rho)).
    importance = 4 * torch.softmax(torch.randn(2, 4, generator=gen), dim=1).view(2, 1, 2, 2)
    # A non-square, non-power-of-two image for the DFT.
    spec_x = torch.rand(2, 3, 12, 10, generator=gen)

    t = {
        "gt": gt,
        "out": out,
        "hazy": hazy,
        "neg2": neg2,
        "neg3": neg3,
        "importance": importance,
        "spec_x": spec_x,
    }
    t = {k: v.float().contiguous() for k, v in t.items()}
    d = {k: v.double() for k, v in t.items()}
    expected = {}

    for kind in ("l1", "charbonnier"):
        ps = per_sample_reconstruction(d["out"], d["gt"], kind)
        expected[f"{kind}_per_sample"] = ps
        expected[f"{kind}"] = ps.mean().reshape(1)
        psw = per_sample_reconstruction(d["out"], d["gt"], kind, d["importance"])
        expected[f"{kind}_weighted_per_sample"] = psw
        expected[f"{kind}_weighted"] = psw.mean().reshape(1)

    for name, f in zip(
        ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"), vgg_features(d["out"], p64)
    ):
        expected[f"features_{name}"] = f

    re, im = spectrum(d["spec_x"])
    expected["spectrum_re"] = re
    expected["spectrum_im"] = im

    negatives = [d["hazy"], d["neg2"], d["neg3"]]
    j = d["out"].clone().requires_grad_(True)
    spatial = mncd_spatial(j, d["gt"], negatives, p64)
    (g_spatial,) = torch.autograd.grad(spatial, j)
    expected["mncd_spatial"] = spatial.detach().reshape(1)
    expected["mncd_spatial_grad"] = g_spatial

    j = d["out"].clone().requires_grad_(True)
    freq = mncd_frequency(j, d["gt"], negatives)
    (g_freq,) = torch.autograd.grad(freq, j)
    expected["mncd_frequency"] = freq.detach().reshape(1)
    expected["mncd_frequency_grad"] = g_freq

    rec = per_sample_reconstruction(d["out"], d["gt"], "l1", d["importance"]).mean()
    expected["mncd_total"] = (rec + 0.1 * spatial.detach() + 0.1 * freq.detach()).reshape(1)

    j = d["out"].clone().requires_grad_(True)
    gauss = gaussian_contrastive(j, d["gt"], d["hazy"], p64)
    (g_gauss,) = torch.autograd.grad(gauss, j)
    expected["gaussian"] = gauss.detach().reshape(1)
    expected["gaussian_grad"] = g_gauss

    tensors = dict(t)
    for k, v in expected.items():
        tensors[f"expected_{k}"] = v.detach().double().contiguous()
    save_file(
        tensors,
        os.path.join(out_dir, "reference.safetensors"),
        metadata={
            "script": "tools/losses_reference.py",
            "torch": torch.__version__,
            "charbonnier_eps": str(CHARBONNIER_EPS),
            "mncd_eps": str(MNCD_EPS),
            "spectrum_delta": str(SPECTRUM_DELTA),
            "gauss_sigma": str(GAUSS_SIGMA),
            "gauss_eps": str(GAUSS_EPS),
        },
    )
    for k in sorted(expected):
        v = expected[k]
        if v.numel() <= 2:
            print(f"{k}: {v.tolist()}")


if __name__ == "__main__":
    main()
