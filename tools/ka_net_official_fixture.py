#!/usr/bin/env python3
"""Parity fixture for the Burn KA-Net, computed by the *official* network (fyxnl/KA_Net testcode).

The official classes hard-code their widths (`Tenc`, `Tdec` and `convprojection` take no
arguments, `EncoderTransformer.forward_features` and `MRFEB1(512)` repeat 64/128/320/512 as
literals), so a reduced-width official network does not exist. Instead the full network is used
with weights that need not be stored: every tensor of the state dict is a function of its key and
shape (`formula_tensor`), implemented identically in `crates/dehaze-nn/tests/ka_net.rs`.
The inputs are made the same way (`formula_input`). The fixture then holds only what cannot be
recomputed: the random-Fourier-feature draw (W, b) injected into the official forward pass, the
calibrated head conv (so tanh does not saturate), and the official outputs and z, about 1.5 MB.

What is official here: `LD_model1.Dehaze` and everything it builds, imported unmodified from a
local copy of the repository's `testcode/`. What is not: (1) imports the network never calls
(`mmcv.cnn.ConvModule`, `torchsummary.summary`) are stubbed when absent; (2) `Tensor.to('cuda')`
stays on the CPU when there is no GPU; (3) `torch.randn` / `torch.FloatTensor(n).uniform_` inside
`MRFEB1.forward` return the fixture's W and b (each checked to be called once per forward, with
the official shapes and range). The forward runs in float64.

Usage (the official code is never committed; fetch it and point --testcode at its folder):
  git clone https://github.com/fyxnl/KA_Net /tmp/KA_Net        # or any copy of testcode/
  /work/venv/bin/python tools/ka_net_official_fixture.py --testcode /tmp/KA_Net/testcode \\
      --out crates/dehaze-nn/tests/fixtures/ka_net_official/io.safetensors [--compare-ours]

--compare-ours also runs tools/ka_net_torch.py's network on the same weights and prints its
difference from the official outputs, with our current heads and with the old patch_block3
head count (4).
"""
import argparse
import json
import math
import os
import sys
import types
from pathlib import Path

import numpy as np
import torch

SIZES = ("128x96", "144x112", "256x256")
SEED = 12
# Tensors whose first formula values the fixture records (one per rule of `formula_tensor`).
FORMULA_SAMPLES = (
    "Tencoder.patch_embed1.proj.weight",
    "Tencoder.block1.0.attn.q.bias",
    "Tencoder.norm1.weight",
    "Tdecoder.block1.0.attn.task_query",
    "convtail.convd16x.conv2d.weight",
    "block.MRFEB1.faix.1.running_mean",
    "block.MRFEB1.faix.1.running_var",
)

# ----------------------------------------------------------------------------------------------
# The formula (mirrored in crates/dehaze-nn/tests/ka_net.rs; change both together)

MASK = np.uint64(0xFFFFFFFF)


def fnv1a(key):
    """32-bit FNV-1a of the key's UTF-8 bytes."""
    h = 0x811C9DC5
    for byte in key.encode():
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def uniform(seed, n):
    """n values in [-1, 1), exact in float32: u_i = (hash(seed, i) >> 8) / 2^23 - 1, with
    hash = lowbias32(i * 0x9E3779B9 ^ seed), all arithmetic mod 2^32."""
    x = (np.arange(n, dtype=np.uint64) * np.uint64(0x9E3779B9)) & MASK
    x ^= np.uint64(seed)
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(0x7FEB352D)) & MASK
    x ^= x >> np.uint64(15)
    x = (x * np.uint64(0x846CA68B)) & MASK
    x ^= x >> np.uint64(16)
    return (x >> np.uint64(8)).astype(np.float64) / float(1 << 23) - 1.0


def formula_tensor(key, shape):
    """The value of state-dict entry `key` (official name, no `module.` prefix)."""
    n = int(np.prod(shape)) if shape else 1
    u = uniform(fnv1a(key), n).astype(np.float32)
    if key.endswith("running_var"):
        v = 1.0 + 0.5 * u
    elif key.endswith("running_mean") or key.endswith(".bias"):
        v = 0.1 * u
    elif key.endswith("task_query"):
        v = math.sqrt(3.0) * u
    elif key.endswith(".weight") and len(shape) == 1:
        v = 1.0 + 0.2 * u  # LayerNorm / BatchNorm gamma
    elif key.endswith(".weight"):
        # Uniform with variance 1/fan_in. Transposed convs (k2 s2) store [in, out, k, k]; each
        # output pixel sees `in` inputs.
        fan_in = shape[0] if key.startswith("convtail.convd") else int(np.prod(shape[1:]))
        v = math.sqrt(3.0 / fan_in) * u
    else:
        raise ValueError(f"no formula for {key}")
    return np.asarray(v, dtype=np.float32).reshape(shape)


def formula_input(h, w):
    """The [1, 3, h, w] input in [-1, 1)."""
    return uniform(fnv1a(f"input_{h}x{w}"), 3 * h * w).astype(np.float32).reshape(1, 3, h, w)


# ----------------------------------------------------------------------------------------------
# Running the official code


def import_official(testcode):
    """Imports LD_model1 from `testcode`, stubbing imports the network never calls."""
    for name, attrs in (("mmcv", {}), ("mmcv.cnn", {"ConvModule": object}),
                        ("torchsummary", {"summary": None})):
        try:
            __import__(name)
        except ImportError:
            mod = types.ModuleType(name)
            mod.__dict__.update(attrs)
            sys.modules[name] = mod
    if not torch.cuda.is_available():
        to = torch.Tensor.to

        def to_cpu(self, *args, **kwargs):
            args = tuple("cpu" if isinstance(a, str) and a.startswith("cuda") else a for a in args)
            return to(self, *args, **kwargs)

        torch.Tensor.to = to_cpu
    sys.path.insert(0, str(Path(testcode).resolve()))
    import LD_model1  # noqa: E402  (the official module)

    return LD_model1


class InjectFourier:
    """Makes the official MRFEB1.forward use (W, b): it draws W = torch.randn(512, 64) and
    b = torch.FloatTensor(512).uniform_(0, 2*pi) on every call."""

    def __init__(self, w, b):
        self.w, self.b, self.calls = w, b, {"randn": 0, "uniform": 0}

    def __enter__(self):
        self.saved = torch.randn, torch.FloatTensor
        inj = self

        def randn(*shape, **kwargs):
            assert tuple(shape) == tuple(inj.w.shape), shape
            inj.calls["randn"] += 1
            return inj.w.clone()

        class Draw:
            def __init__(self, n):
                assert n == inj.b.numel(), n

            def uniform_(self, lo, hi):
                assert (lo, hi) == (0, 2 * math.pi), (lo, hi)
                inj.calls["uniform"] += 1
                return inj.b.clone()

        torch.randn, torch.FloatTensor = randn, Draw
        return self

    def __exit__(self, *exc):
        torch.randn, torch.FloatTensor = self.saved


def official_state(net):
    """The network's state dict with every tensor replaced by its formula value (BatchNorm step
    counters, which the forward pass never reads, kept)."""
    return {
        k: v if k.endswith("num_batches_tracked") else torch.from_numpy(formula_tensor(k, tuple(v.shape)))
        for k, v in net.state_dict().items()
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--testcode", default=os.environ.get("KA_NET_TESTCODE"),
                    help="folder holding the official LD_model1.py etc. (or $KA_NET_TESTCODE)")
    ap.add_argument("--out", required=True, help="the io.safetensors to write")
    ap.add_argument("--sizes", nargs="+", default=list(SIZES))
    ap.add_argument("--compare-ours", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    if not args.testcode:
        ap.error("--testcode (or KA_NET_TESTCODE) is required")
    torch.set_num_threads(args.threads)
    torch.manual_seed(SEED)
    from safetensors.torch import save_file

    ld = import_official(args.testcode)
    net = ld.Dehaze(3, 3).eval()
    sd = official_state(net)
    n_keys = len(sd)
    n_params = sum(p.numel() for p in net.parameters())
    net.load_state_dict(sd, strict=True)

    # The RFF draw, as the official code would make it (N(0,1) and U[0, 2pi)).
    gen = torch.Generator().manual_seed(SEED)
    rff_w = torch.randn(512, 64, generator=gen)
    rff_b = torch.rand(512, generator=gen) * (2 * math.pi)

    def run(model, x, dtype):
        with torch.no_grad(), InjectFourier(rff_w.to(dtype), rff_b.to(dtype)) as inj:
            out = model(x.to(dtype))
        if model is net:
            assert inj.calls == {"randn": 1, "uniform": 1}, inj.calls
        return out

    # Head calibration: scale the last conv so the pre-tanh output has unit spread at the first
    # size (a saturated tanh would hide differences).
    h0, w0 = (int(v) for v in args.sizes[0].split("x"))
    pre = {}
    hook = net.clean.register_forward_hook(lambda m, i, o: pre.__setitem__("o", o))
    run(net, torch.from_numpy(formula_input(h0, w0)), torch.float32)
    hook.remove()
    s = pre["o"].std().item()
    with torch.no_grad():
        net.clean.conv2d.weight /= s
        net.clean.conv2d.bias /= s
    head = {k: net.state_dict()[k].clone() for k in ("clean.conv2d.weight", "clean.conv2d.bias")}

    ref = net.double()
    io = {"rff_w": rff_w, "rff_b": rff_b}
    io.update({f"weight.{k}": v for k, v in head.items()})
    # The first values the formula gives a few tensors and an input, so a mismatch of the two
    # implementations shows as such rather than as a parity failure.
    for k in FORMULA_SAMPLES:
        io[f"formula.{k}"] = torch.from_numpy(formula_tensor(k, tuple(sd[k].shape)).reshape(-1)[:64].copy())
    io["formula.input_16x16"] = torch.from_numpy(formula_input(16, 16).reshape(-1)[:64].copy())
    outs = {}
    for size in args.sizes:
        h, w = (int(v) for v in size.split("x"))
        x = torch.from_numpy(formula_input(h, w))
        y, z = run(ref, x, torch.float64)
        outs[size] = (x, y, z)
        io[f"output_{size}"] = y.float()
        io[f"z_{size}"] = z.float()
        sat = (y.abs() > 0.99).double().mean().item()
        print(f"official {size}: out mean {y.mean():.4f} std {y.std():.4f} saturated {sat:.3f}; "
              f"z std {z.std():.4f}")
    net.float()
    for size, (x, y, z) in outs.items():
        y32, z32 = run(net, x, torch.float32)
        print(f"official float32 vs float64 at {size}: max |dout| {(y32.double() - y).abs().max():.2e}, "
              f"max |dz| {(z32.double() - z).abs().max():.2e}")

    if args.compare_ours:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import ka_net_torch as ours

        for heads in (ours.PATCH_HEADS, (1, 2, 4)):
            ours.PATCH_HEADS = heads
            m = ours.KaNet().double().eval()
            m.load_state_dict(ref.state_dict(), strict=True)
            m.set_rff(rff_w.double(), rff_b.double())
            for size, (x, y, z) in outs.items():
                with torch.no_grad():
                    yo, zo = m(x.double())
                print(f"tools/ka_net_torch.py patch heads {heads} vs official at {size}: "
                      f"max |dout| {(yo - y).abs().max():.2e}, max |dz| {(zo - z).abs().max():.2e}")

    # The official state dict's keys and shapes (PyTorch layout), for the Rust side to build
    # the same formula weights.
    listing = [[k, list(v.shape)] for k, v in sd.items()]
    meta = {"sizes": ",".join(args.sizes), "seed": str(SEED), "state_dict": json.dumps(listing),
            "parameters": str(n_params), "source": "github.com/fyxnl/KA_Net testcode/LD_model1.Dehaze"}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in io.items()}, str(out), metadata=meta)
    print(f"official Dehaze: {n_keys} state-dict entries, {n_params} parameters; "
          f"wrote {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
