#!/usr/bin/env python3
"""DHR (crates/dehaze-nn/src/dhr) re-implemented in PyTorch, tensor for tensor.

Our own code: the same architecture as the Rust network, with the same module names and
tensor shapes, so a `.safetensors` file written by `Dhr::save` loads here with
`load_state_dict` (`--check`), and the same parameter counts (asserted at start-up against the
constants `DHR_S_PARAMS` / `DHR_B_PARAMS` of the Rust crate). Used to compare speed with the
Burn implementation (bench/train_throughput.sh) and to cross-check outputs.

Usage (torch 2.9 in /work/venv-torch):

    dhr_torch.py --bench forward [--model dhr-s] [--threads 2] [--size 512] [--runs 5]
    dhr_torch.py --bench train   [--model dhr-s] [--threads 2] [--batch 8] [--crop 128]
                                 [--iters 10] [--warmup 2]
    dhr_torch.py --check WEIGHTS.safetensors INPUT.f32 OUTPUT.f32 N H W

`--bench forward` times one forward pass of a 1x3xSIZExSIZE image (no autograd); `--bench train`
times training steps (Adam lr 1e-4, betas (0.9, 0.999), eps 1e-8, L1 loss against a fixed
random target) on random batches. Each prints one line `RESULT key=value ...` for scripts.
`--check` runs the network with the given weights on a raw little-endian float32 NCHW input
and writes the restored image the same way.
"""
import argparse
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# Must equal crates/dehaze-nn/src/dhr/mod.rs.
DHR_S_PARAMS = 917_944
DHR_B_PARAMS = 8_132_828

CONFIGS = {
    "dhr-s": dict(width=16, enc_blocks=[1, 2, 2], mid_blocks=1, dec_blocks=[1, 2, 2],
                  attention_heads=4, patch=16, tau=1.0, head_width=32),
    "dhr-b": dict(width=48, enc_blocks=[1, 2, 2], mid_blocks=1, dec_blocks=[1, 2, 2],
                  attention_heads=8, patch=16, tau=1.0, head_width=64),
}
EXPECTED = {"dhr-s": DHR_S_PARAMS, "dhr-b": DHR_B_PARAMS}


def _uniform_(t, bound):
    with torch.no_grad():
        t.uniform_(-bound, bound)


def conv(c_in, c_out, k, stride=1, gain=1.0):
    """k x k conv, zero padding (k-1)/2, U(+-gain/sqrt(C_in k^2)) init (as the Rust side)."""
    m = nn.Conv2d(c_in, c_out, k, stride=stride, padding=(k - 1) // 2)
    b = gain / math.sqrt(c_in * k * k)
    _uniform_(m.weight, b)
    _uniform_(m.bias, b)
    return m


def up2(c_in, c_out):
    m = nn.ConvTranspose2d(c_in, c_out, 2, stride=2)
    b = 1.0 / math.sqrt(c_out * 4)
    _uniform_(m.weight, b)
    _uniform_(m.bias, b)
    return m


class ResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = conv(c, c, 3)
        self.conv2 = conv(c, c, 3)

    def forward(self, x):
        return x + self.conv2(F.relu(self.conv1(x)))


class Stage(nn.Module):
    def __init__(self, c, n):
        super().__init__()
        self.blocks = nn.ModuleList([ResBlock(c) for _ in range(n)])

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        return x


class ChannelAttention(nn.Module):
    def __init__(self, c, heads):
        super().__init__()
        self.qkv = conv(c, 3 * c, 1)
        self.proj = conv(c, c, 1)
        self.temperature = nn.Parameter(torch.ones(heads))
        self.heads = heads

    def forward(self, x):
        n, c, h, w = x.shape
        qkv = self.qkv(x).reshape(n, 3, self.heads, c // self.heads, h * w)
        q = F.normalize(qkv[:, 0], dim=-1, eps=1e-6)
        k = F.normalize(qkv[:, 1], dim=-1, eps=1e-6)
        v = qkv[:, 2]
        attn = torch.softmax(q @ k.transpose(2, 3) * self.temperature.reshape(1, -1, 1, 1), dim=3)
        return x + self.proj((attn @ v).reshape(n, c, h, w))


class ImportanceHead(nn.Module):
    def __init__(self, c_in, hidden, pool):
        super().__init__()
        self.conv = conv(c_in, hidden, 3)
        self.logit = conv(hidden, 1, 1)
        self.pool = pool

    def forward(self, f):
        if self.pool > 1:
            f = F.avg_pool2d(f, self.pool)
        return self.logit(F.relu(self.conv(f)))


class ImportanceGate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.gamma = nn.Parameter(torch.zeros(c))

    def forward(self, f, w):
        s = f.shape[2] // w.shape[2]
        w = F.interpolate(w, scale_factor=s, mode="nearest") - 1.0
        return f + f * w * self.gamma.reshape(1, -1, 1, 1)


def patch_importance(rho, tau):
    b, c, h, w = rho.shape
    n = c * h * w
    return torch.softmax(rho.reshape(b, n) / tau, dim=1).reshape(b, c, h, w) * n


class Dhr(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        c = cfg["width"]
        widths = [c, 2 * c, 4 * c, 8 * c]
        self.cfg = cfg
        self.intro = conv(3, c, 3)
        self.encoders = nn.ModuleList()
        self.downs = nn.ModuleList()
        for l in range(3):
            self.encoders.append(Stage(widths[l], cfg["enc_blocks"][l]))
            self.downs.append(conv(widths[l], widths[l + 1], 3, stride=2))
        self.middle = Stage(widths[3], cfg["mid_blocks"])
        self.attention = (ChannelAttention(widths[3], cfg["attention_heads"])
                          if cfg["attention_heads"] > 0 else None)
        self.head = ImportanceHead(widths[3], cfg["head_width"], cfg["patch"] // 8)
        self.ups = nn.ModuleList()
        self.gates = nn.ModuleList()
        self.decoders = nn.ModuleList()
        for l in range(3):
            self.ups.append(up2(widths[l + 1], widths[l]))
            self.gates.append(ImportanceGate(widths[l]))
            self.decoders.append(Stage(widths[l], cfg["dec_blocks"][l]))
        self.outro = conv(c, 3, 3, gain=0.1)

    def forward(self, x):
        skips = []
        f = self.intro(x)
        for enc, down in zip(self.encoders, self.downs):
            e = enc(f)
            skips.append(e)
            f = down(e)
        f = self.middle(f)
        if self.attention is not None:
            f = self.attention(f)
        rho = self.head(f)
        importance = patch_importance(rho, self.cfg["tau"])
        for l in (2, 1, 0):
            f = self.decoders[l](self.gates[l](self.ups[l](f) + skips[l], importance))
        raw = x + self.outro(f)
        image = raw + (raw.clamp(0.0, 1.0) - raw).detach()
        return image, importance, torch.sigmoid(rho)


def build(name):
    net = Dhr(CONFIGS[name])
    n = sum(p.numel() for p in net.parameters() if p.requires_grad)
    assert n == EXPECTED[name], f"{name}: {n} parameters, the Rust network has {EXPECTED[name]}"
    return net


def bench_forward(args):
    net = build(args.model).eval()
    x = torch.rand(1, 3, args.size, args.size)
    with torch.inference_mode():
        for _ in range(args.warmup):
            net(x)
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            net(x)
            times.append(time.perf_counter() - t0)
    times.sort()
    med = times[len(times) // 2]
    print(f"RESULT bench=forward model={args.model} size={args.size} threads={args.threads} "
          f"median_s={med:.4f} min_s={times[0]:.4f} runs={args.runs}")


def bench_train(args):
    torch.manual_seed(0)
    net = build(args.model).train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=1e-8)
    x = torch.rand(args.batch, 3, args.crop, args.crop)
    y = torch.rand(args.batch, 3, args.crop, args.crop)

    def step():
        opt.zero_grad(set_to_none=True)
        image, _, _ = net(x)
        loss = (image - y).abs().mean()
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(args.warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(args.iters):
        step()
    dt = time.perf_counter() - t0
    print(f"RESULT bench=train model={args.model} batch={args.batch} crop={args.crop} "
          f"threads={args.threads} iters={args.iters} seconds={dt:.3f} "
          f"it_per_s={args.iters / dt:.4f}")


def check(args):
    from safetensors import safe_open
    from safetensors.torch import load_file
    path, inp, out, n, h, w = args.check
    with safe_open(path, "pt") as f:
        meta = f.metadata()
    cfg = json.loads(meta["dehaze.dhr_config"])
    net = Dhr(cfg).eval()
    net.load_state_dict(load_file(path), strict=True)
    import numpy as np
    x = torch.from_numpy(np.fromfile(inp, dtype="<f4").reshape(int(n), 3, int(h), int(w)))
    with torch.inference_mode():
        image, importance, _ = net(x)
    image.numpy().astype("<f4").tofile(out)
    importance.numpy().astype("<f4").tofile(out + ".importance")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bench", choices=["forward", "train"])
    p.add_argument("--check", nargs=6, metavar=("WEIGHTS", "INPUT", "OUTPUT", "N", "H", "W"))
    p.add_argument("--model", choices=sorted(CONFIGS), default="dhr-s")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--crop", type=int, default=128)
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--count", action="store_true", help="print both parameter counts and exit")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    if args.count:
        for name in CONFIGS:
            print(name, sum(q.numel() for q in build(name).parameters()))
        return
    if args.check:
        check(args)
    elif args.bench == "forward":
        bench_forward(args)
    elif args.bench == "train":
        bench_train(args)
    else:
        p.error("give --bench forward|train, --check or --count")


if __name__ == "__main__":
    sys.exit(main())
