#!/usr/bin/env python3
"""KA-Net inference network in PyTorch: our own reference implementation for the Burn port.

This is the architecture of `docs/ka-net-architecture.md` written independently, with parameter
names identical to the official state dict (so the official checkpoint loads into it and our
fixtures load into the official network), the width plan derived from `dims` so that a reduced
configuration exists, and the random-Fourier-feature draw (W, b) held fixed instead of redrawn
per call. It is the reference the Rust parity tests compare against.

Modes:
  count     [--dims ...] [--doc docs/ka-net-architecture.md]
            Print learnable/used parameter counts; with --doc also compare the state-dict key
            list and shapes (in order) with the doc's Appendix A.
  fixture   --out DIR [--dims 4 8 16 16] [--sizes 64x64 48x80] [--seed 0]
            Random weights (non-trivial LayerNorm/BatchNorm state), written as the official
            checkpoint layout {'model': {'module.'+k: v}} (zip pickle), as a legacy (non-zip)
            pickle of the bare state dict, and as safetensors (bare keys); plus `io.safetensors`
            with the inputs, RFF W and b, and the expected output and z per input size.
  bench     [--size 512] [--threads 2] [--reps 5] [--dims ...]
            Median forward time (ms) of the network with random weights at 1x3xSxS.

Requires torch, numpy and safetensors (e.g. /work/venv-torch/bin/python).
"""
import argparse
import math
import os
import re
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

OFFICIAL_DIMS = (64, 128, 320, 512)
REDUCED_DIMS = (8, 16, 32, 64)
# The checked-in parity fixture's configuration (KaNetConfig::tiny): small enough that three
# copies of its weights stay well under 2 MB.
TINY_DIMS = (4, 8, 16, 16)
# Encoder plan (official): heads, spatial-reduction ratios; the MLP ratio is 2 everywhere.
ENC_HEADS = (1, 2, 4, 4)
# Heads of the intra-patch blocks patch_block1..3: the official code passes num_heads[0],
# num_heads[1], num_heads[1] (not ENC_HEADS[0..3]); only inputs with more than one key/value
# token in patch_block3 (larger than 64x64) show the difference.
PATCH_HEADS = (1, 2, 2)
ENC_SR = (4, 2, 2, 1)
ENC_MLP = 2
# Decoder plan: 3 blocks, 8 heads, MLP ratio 4, no spatial reduction, 48 learned queries.
DEC_DEPTH = 3
DEC_HEADS = 8
DEC_MLP = 4
DEC_QUERIES = 48
# Widths of the last two up-sampling levels and of the head are literals in the official code.
TAIL_WIDTHS = (16, 8)
# Modules that exist in the state dict but are never called by the forward pass.
UNUSED_PREFIXES = ("Tencoder.mini_patch_embed4.", "convtail.conv_output.")


# ----------------------------------------------------------------------------------------------
# Transformer parts


def tokens(x):
    """(B, C, H, W) -> (B, H*W, C), token index h*W + w."""
    return x.flatten(2).transpose(1, 2)


def image(t, h, w):
    """(B, H*W, C) -> (B, C, H, W), the inverse of `tokens`."""
    b, _, c = t.shape
    return t.transpose(1, 2).reshape(b, c, h, w)


class PatchEmbed(nn.Module):
    """Overlapping patch embedding: conv (k, stride s, pad k//2) -> tokens -> LayerNorm(1e-5)."""

    def __init__(self, cin, cout, k, s):
        super().__init__()
        self.proj = nn.Conv2d(cin, cout, k, s, k // 2)
        self.norm = nn.LayerNorm(cout, eps=1e-5)

    def forward(self, x):
        x = self.proj(x)
        _, _, h, w = x.shape
        return self.norm(tokens(x)), h, w


class Attention(nn.Module):
    """Multi-head attention with optional spatial reduction of keys/values.

    Encoder form: queries from the tokens. Decoder form (`learned_queries`): queries from a
    learned (48, C) table, resized (nearest) along the query axis to the token count.
    """

    def __init__(self, dim, heads, sr, learned_queries=False):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        if learned_queries:
            self.task_query = nn.Parameter(torch.randn(1, DEC_QUERIES, dim))
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.proj = nn.Linear(dim, dim)
        self.sr_ratio = sr
        if sr > 1:
            self.sr = nn.Conv2d(dim, dim, sr, sr)
            self.norm = nn.LayerNorm(dim, eps=1e-5)

    def split(self, t):
        b, n, c = t.shape
        return t.reshape(b, n, self.heads, c // self.heads).permute(0, 2, 1, 3)

    def forward(self, x, h, w):
        b, n, c = x.shape
        src = x
        if self.sr_ratio > 1:
            src = self.norm(tokens(self.sr(image(x, h, w))))
        kv = self.kv(src)
        k, v = self.split(kv[..., :c]), self.split(kv[..., c:])
        if hasattr(self, "task_query"):
            q = self.split(self.q(self.task_query).expand(b, -1, -1))
            # Nearest resize of the query axis to the token count (default interpolate mode).
            q = F.interpolate(q, size=(k.shape[2], k.shape[3]))
        else:
            q = self.split(self.q(x))
        a = torch.softmax((q @ k.transpose(-2, -1)) * self.scale, dim=-1)
        out = (a @ v).transpose(1, 2).reshape(b, n, c)
        return self.proj(out)


class DepthwiseConv(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 3, 1, 1, groups=dim)

    def forward(self, t, h, w):
        return tokens(self.dwconv(image(t, h, w)))


class MixFFN(nn.Module):
    """fc1 -> depthwise 3x3 conv on the token grid -> exact GELU -> fc2."""

    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.dwconv = DepthwiseConv(hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, t, h, w):
        return self.fc2(F.gelu(self.dwconv(self.fc1(t), h, w)))


class Block(nn.Module):
    """x + Attn(LN x), then x + MLP(LN x); both LayerNorms eps 1e-6."""

    def __init__(self, dim, heads, mlp_ratio, sr, learned_queries=False):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads, sr, learned_queries)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = MixFFN(dim, dim * mlp_ratio)

    def forward(self, x, h, w):
        x = x + self.attn(self.norm1(x), h, w)
        return x + self.mlp(self.norm2(x), h, w)


class Encoder(nn.Module):
    """Four-stage transformer encoder with the intra-patch branch feeding stages 2-4."""

    def __init__(self, dims):
        super().__init__()
        d = dims
        self.dims = d
        self.patch_embed1 = PatchEmbed(3, d[0], 7, 4)
        self.patch_embed2 = PatchEmbed(d[0], d[1], 3, 2)
        self.patch_embed3 = PatchEmbed(d[1], d[2], 3, 2)
        self.patch_embed4 = PatchEmbed(d[2], d[3], 3, 2)
        self.mini_patch_embed1 = PatchEmbed(d[0], d[1], 3, 2)
        self.mini_patch_embed2 = PatchEmbed(d[1], d[2], 3, 2)
        self.mini_patch_embed3 = PatchEmbed(d[2], d[3], 3, 2)
        self.mini_patch_embed4 = PatchEmbed(d[0], d[3], 3, 2)  # never called
        for s in range(4):
            blocks = [Block(d[s], ENC_HEADS[s], ENC_MLP, ENC_SR[s]) for _ in range(2)]
            setattr(self, f"block{s + 1}", nn.ModuleList(blocks))
            setattr(self, f"norm{s + 1}", nn.LayerNorm(d[s], eps=1e-6))
            if s < 3:
                # Intra-patch block at the next width, with this stage's sr.
                pb = [Block(d[s + 1], PATCH_HEADS[s], ENC_MLP, ENC_SR[s])]
                setattr(self, f"patch_block{s + 1}", nn.ModuleList(pb))
                setattr(self, f"pnorm{s + 1}", nn.LayerNorm(d[s + 1], eps=1e-6))

    @staticmethod
    def run(blocks, norm, t, h, w):
        for blk in blocks:
            t = blk(t, h, w)
        return image(norm(t), h, w)

    def forward(self, x):
        feats = []
        t, h, w = self.patch_embed1(x)
        mini = self.mini_patch_embed1(image(t, h, w))
        for s in range(1, 5):
            f = self.run(getattr(self, f"block{s}"), getattr(self, f"norm{s}"), t, h, w)
            feats.append(f)
            if s == 4:
                break
            p, ph, pw = mini
            q = self.run(getattr(self, f"patch_block{s}"), getattr(self, f"pnorm{s}"), p, ph, pw)
            t, h, w = getattr(self, f"patch_embed{s + 1}")(f)
            merged = image(t, h, w) + q
            if s < 3:
                mini = getattr(self, f"mini_patch_embed{s + 1}")(merged)
            t = tokens(merged)
        return feats


class Decoder(nn.Module):
    """Stride-2 embedding of the bottleneck, three learned-query blocks, LayerNorm."""

    def __init__(self, dim):
        super().__init__()
        self.patch_embed1 = PatchEmbed(dim, dim, 3, 2)
        self.block1 = nn.ModuleList(
            [Block(dim, DEC_HEADS, DEC_MLP, 1, learned_queries=True) for _ in range(DEC_DEPTH)]
        )
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)

    def forward(self, x):
        t, h, w = self.patch_embed1(x)
        return Encoder.run(self.block1, self.norm1, t, h, w)


# ----------------------------------------------------------------------------------------------
# Convolutional parts


class Conv(nn.Module):
    """A conv under the attribute name `conv2d`, as the official wrappers store it."""

    def __init__(self, cin, cout, k, pad, reflect=False):
        super().__init__()
        self.reflect = reflect
        self.pad = pad
        self.conv2d = nn.Conv2d(cin, cout, k, 1, 0 if reflect else pad)

    def forward(self, x):
        if self.reflect:
            x = F.pad(x, (self.pad,) * 4, mode="reflect")
        return self.conv2d(x)


class Up(nn.Module):
    """Transposed conv, kernel 2 stride 2: doubles H and W."""

    def __init__(self, cin, cout):
        super().__init__()
        self.conv2d = nn.ConvTranspose2d(cin, cout, 2, 2)

    def forward(self, x):
        return self.conv2d(x)


class ResBlock(nn.Module):
    """x + conv2(ReLU(conv1(x))), 3x3 zero-padded convs, no normalisation."""

    def __init__(self, c):
        super().__init__()
        self.conv1 = Conv(c, c, 3, 1)
        self.conv2 = Conv(c, c, 3, 1)

    def forward(self, x):
        return x + self.conv2(F.relu(self.conv1(x)))


def crop_to(x, ref):
    """Drop trailing rows/columns so x matches ref's spatial size (odd-size levels)."""
    return x[:, :, : ref.shape[2], : ref.shape[3]]


class Projection(nn.Module):
    """Transposed-conv projection back to full size with ResBlocks and encoder skip adds."""

    def __init__(self, dims):
        super().__init__()
        d = dims
        t2, t1 = TAIL_WIDTHS
        self.convd32x = Up(d[3], d[3])
        self.convd16x = Up(d[3], d[2])
        self.dense_4 = nn.Sequential(ResBlock(d[2]))
        self.convd8x = Up(d[2], d[1])
        self.dense_3 = nn.Sequential(ResBlock(d[1]))
        self.convd4x = Up(d[1], d[0])
        self.dense_2 = nn.Sequential(ResBlock(d[0]))
        self.convd2x = Up(d[0], t2)
        self.dense_1 = nn.Sequential(ResBlock(t2))
        self.convd1x = Up(t2, t1)
        self.conv_output = Conv(t1, 3, 3, 1)  # never called

    def forward(self, feats, xu):
        f1, f2, f3, f4 = feats
        a = crop_to(self.convd32x(xu), f4) + f4
        b = crop_to(self.convd16x(a), f3)
        b = self.dense_4(b) + f3
        c = self.dense_3(self.convd8x(b)) + f2
        d = self.dense_2(self.convd4x(c)) + f1
        e = self.dense_1(self.convd2x(d))
        return self.convd1x(e)


def conv_bn(cin, cout, k=1, dilation=1):
    """Sequential(conv, BN, ReLU): keys `.0` (conv) and `.1` (BN)."""
    pad = dilation * (k // 2)
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, 1, pad, dilation=dilation), nn.BatchNorm2d(cout), nn.ReLU()
    )


class ChannelAttention(nn.Module):
    """x * sigmoid(MLP(avgpool x) * ConvMap(x)), reduction 16, no biases."""

    def __init__(self, c, reduction=16):
        super().__init__()
        r = c // reduction
        self.fc = nn.Sequential(nn.Linear(c, r, bias=False), nn.ReLU(), nn.Linear(r, c, bias=False))
        self.fc1 = nn.Sequential(
            nn.Conv2d(c, r, 3, 1, 1, bias=False), nn.ReLU(), nn.Conv2d(r, c, 3, 1, 1, bias=False)
        )

    def forward(self, x):
        v = self.fc(x.mean(dim=(2, 3)))[:, :, None, None]
        return x * torch.sigmoid(v * self.fc1(x))


class SpatialAttention(nn.Module):
    """x * sigmoid(conv(ReLU(conv([mean_c x, conv1x1 x]))))."""

    def __init__(self, c):
        super().__init__()
        self.conv_1 = nn.Conv2d(c, 1, 1)
        self.conv_sigm = nn.Sequential(nn.Conv2d(2, 1, 1), nn.ReLU(), nn.Conv2d(1, 1, 1), nn.Sigmoid())

    def forward(self, x):
        m = torch.cat([x.mean(dim=1, keepdim=True), self.conv_1(x)], 1)
        return x * self.conv_sigm(m)


class AttentionPair(nn.Module):
    """conv_bn(cat[CA(x), SA(x)]) with a 1x1 conv 2C -> C."""

    def __init__(self, c):
        super().__init__()
        self.CAU = ChannelAttention(c)
        self.SAU = SpatialAttention(c)
        self.conv_out = conv_bn(2 * c, c)

    def forward(self, x):
        return self.conv_out(torch.cat([self.CAU(x), self.SAU(x)], 1))


class DilatedBranch(nn.Module):
    """a = cbr(dconv1 x); c = cbr(1x1 cat[a, cbr(dconv2 a)]); return AM(c) + x."""

    def __init__(self, c, dilation):
        super().__init__()
        self.DFconv1 = conv_bn(c, c, 3, dilation)
        self.DFconv2 = conv_bn(c, c, 3, dilation)
        self.conv_cat = conv_bn(2 * c, c)
        self.AM = AttentionPair(c)

    def forward(self, x):
        a = self.DFconv1(x)
        return self.AM(self.conv_cat(torch.cat([a, self.DFconv2(a)], 1))) + x


class Gate(nn.Module):
    """w = sigmoid(L2 ReLU(L1 [mean y1, mean y2, mean y3])); conv_bn(sum_j w_j y_j)."""

    def __init__(self, c):
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(3, 3, bias=False), nn.ReLU(), nn.Linear(3, 3, bias=False), nn.Sigmoid())
        self.conv_out = conv_bn(c, c)

    def forward(self, ys):
        s = torch.stack([y.mean(dim=(1, 2, 3)) for y in ys], 1)
        w = self.fc(s)
        return self.conv_out(sum(w[:, j, None, None, None] * y for j, y in enumerate(ys)))


class MultiBranch(nn.Module):
    """RFF branch + dilated branches (1, 3, 5), gated, plus the input."""

    def __init__(self, c):
        super().__init__()
        self.MRFRB_1 = DilatedBranch(c, 1)
        self.MRFRB_2 = DilatedBranch(c, 3)
        self.MRFRB_3 = DilatedBranch(c, 5)
        self.AGB = Gate(c)
        self.faix = conv_bn(c, c // 8)
        # Random Fourier features: W (c x c/8) ~ N(0,1), b (c) ~ U[0, 2pi). Not state.
        self.rff_w = torch.randn(c, c // 8)
        self.rff_b = torch.rand(c) * (2 * math.pi)

    def forward(self, x):
        u = self.faix(x)
        d = self.rff_w.shape[0]
        proj = torch.einsum("kd,ndhw->nkhw", self.rff_w.to(u), u) + self.rff_b.to(u)[None, :, None, None]
        phi = math.sqrt(2.0 / d) * torch.cos(proj)
        ys = [self.MRFRB_1(phi), self.MRFRB_2(x), self.MRFRB_3(x)]
        return self.AGB(ys) + x


class DehazeBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, 1, 1)
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1)
        self.MRFEB1 = MultiBranch(c)

    def forward(self, x):
        r = self.conv2(F.relu(self.conv1(x)) + x)
        return self.MRFEB1(r) + x


class KaNet(nn.Module):
    """Returns (tanh output, z) with z = spatial mean of the encoder's last feature map."""

    def __init__(self, dims=OFFICIAL_DIMS):
        super().__init__()
        self.Tencoder = Encoder(dims)
        self.Tdecoder = Decoder(dims[3])
        self.convtail = Projection(dims)
        self.clean = Conv(TAIL_WIDTHS[1], 3, 3, 1, reflect=True)
        self.block = DehazeBlock(dims[3])

    def set_rff(self, w, b):
        self.block.MRFEB1.rff_w = w.clone()
        self.block.MRFEB1.rff_b = b.clone()

    def forward(self, x):
        feats = self.Tencoder(x)
        z = feats[3].mean(dim=(2, 3))
        xu = self.Tdecoder(self.block(feats[3]))
        out = torch.tanh(self.clean(self.convtail(feats, xu)))
        return out, z


# ----------------------------------------------------------------------------------------------
# Modes


def counts(model):
    total = sum(p.numel() for p in model.parameters())
    unused = sum(p.numel() for n, p in model.named_parameters() if n.startswith(UNUSED_PREFIXES))
    return total, total - unused


def appendix_keys(doc):
    """(key, shape) pairs of the doc's Appendix A listing, in order."""
    text = Path(doc).read_text()
    body = text.split("## Appendix A", 1)[1]
    out = []
    for line in body.splitlines():
        m = re.match(r"^(\S+)\s+\[([0-9, ]*)\]\s", line)
        if m:
            shape = tuple(int(v) for v in m.group(2).split(",") if v.strip())
            out.append((m.group(1), shape))
    return out


def randomize(model, gen):
    """Random weights with non-trivial normalisation state (for fixtures)."""
    with torch.no_grad():
        for name, mod in model.named_modules():
            if isinstance(mod, (nn.LayerNorm, nn.BatchNorm2d)):
                mod.weight.copy_(1.0 + 0.2 * torch.randn(mod.weight.shape, generator=gen))
                mod.bias.copy_(0.1 * torch.randn(mod.bias.shape, generator=gen))
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.copy_(0.1 * torch.randn(mod.running_mean.shape, generator=gen))
                mod.running_var.copy_(0.5 + torch.rand(mod.running_var.shape, generator=gen))
                mod.num_batches_tracked.fill_(int(torch.randint(1, 1000, (1,), generator=gen)))
            if isinstance(mod, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                fan_in = mod.weight[0].numel() if not isinstance(mod, nn.ConvTranspose2d) else mod.weight.shape[0]
                bound = 1.0 / math.sqrt(fan_in)
                mod.weight.copy_((torch.rand(mod.weight.shape, generator=gen) * 2 - 1) * math.sqrt(3) * bound)
                if mod.bias is not None:
                    mod.bias.copy_((torch.rand(mod.bias.shape, generator=gen) * 2 - 1) * bound)
            if isinstance(mod, Attention) and hasattr(mod, "task_query"):
                mod.task_query.copy_(torch.randn(mod.task_query.shape, generator=gen))


def calibrate_head(model, size, gen):
    """Scale the head conv so the pre-tanh output has unit spread: a saturated tanh would hide
    differences from a parity test."""
    x = torch.rand(1, 3, *size, generator=gen) * 2 - 1
    with torch.no_grad():
        feats = model.Tencoder(x)
        o = model.convtail(feats, model.Tdecoder(model.block(feats[3])))
        pre = model.clean(o)
        s = pre.std().item()
        model.clean.conv2d.weight /= s
        model.clean.conv2d.bias /= s


def parse_size(s):
    h, w = s.lower().split("x")
    return int(h), int(w)


def write_checkpoints(model, out):
    from safetensors.torch import save_file

    sd = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    torch.save({"model": {"module." + k: v for k, v in sd.items()}, "epoch": 1}, out / "ka_net.pth")
    torch.save(sd, out / "ka_net_bare_legacy.pth", _use_new_zipfile_serialization=False)
    save_file(sd, str(out / "ka_net.safetensors"))


def mode_fixture(args):
    from safetensors.torch import save_file

    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    dims = tuple(args.dims)
    model = KaNet(dims).eval()
    randomize(model, gen)
    c = dims[3]
    w = torch.randn(c, c // 8, generator=gen)
    b = torch.rand(c, generator=gen) * (2 * math.pi)
    model.set_rff(w, b)
    calibrate_head(model, parse_size(args.sizes[0]), gen)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_checkpoints(model, out)
    io = {"rff_w": w, "rff_b": b}
    ref = KaNet(dims).double().eval()
    ref.load_state_dict(model.state_dict())
    ref.set_rff(w.double(), b.double())
    for size in args.sizes:
        h, wd = parse_size(size)
        x = torch.rand(1, 3, h, wd, generator=gen) * 2 - 1
        with torch.no_grad():
            y64, z64 = ref(x.double())
            y32, z32 = model(x)
        tag = f"{h}x{wd}"
        io[f"input_{tag}"] = x
        io[f"output_{tag}"] = y64.float()
        io[f"z_{tag}"] = z64.float()
        sat = (y64.abs() > 0.99).double().mean().item()
        print(
            f"{tag}: out mean {y64.mean():.4f} std {y64.std():.4f} saturated {sat:.3f}; "
            f"z std {z64.std():.4f}; torch f32 vs f64 max diff out {(y32.double() - y64).abs().max():.2e} "
            f"z {(z32.double() - z64).abs().max():.2e}"
        )
    meta = {"dims": ",".join(str(v) for v in dims), "sizes": ",".join(args.sizes), "seed": str(args.seed)}
    save_file({k: v.contiguous() for k, v in io.items()}, str(out / "io.safetensors"), metadata=meta)
    total, used = counts(model)
    print(f"dims {dims}: {total} learnable parameters, {used} used; wrote {out}")
    for p in sorted(out.iterdir()):
        print(f"  {p.name}: {p.stat().st_size} bytes")


def mode_count(args):
    model = KaNet(tuple(args.dims))
    total, used = counts(model)
    print(f"dims {tuple(args.dims)}: {total} learnable parameters, {used} used in the forward pass")
    if args.doc:
        want = appendix_keys(args.doc)
        have = [(k, tuple(v.shape)) for k, v in model.state_dict().items()]
        if have != want:
            for i, (a, b) in enumerate(zip(have, want)):
                if a != b:
                    print(f"first difference at {i}: ours {a}, doc {b}")
                    break
            print(f"ours {len(have)} entries, doc {len(want)}")
            sys.exit(1)
        print(f"state-dict keys and shapes match Appendix A exactly ({len(have)} entries, in order)")


def mode_bench(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = KaNet(tuple(args.dims)).eval()
    x = torch.rand(1, 3, args.size, args.size) * 2 - 1
    times, cpu = [], []
    with torch.inference_mode():
        model(x)  # warm-up
        for _ in range(args.reps):
            t0, c0 = time.perf_counter(), time.process_time()
            model(x)
            times.append((time.perf_counter() - t0) * 1e3)
            cpu.append((time.process_time() - c0) * 1e3)
    print(
        f"pytorch {torch.__version__} threads {torch.get_num_threads()} size {args.size} "
        f"reps {args.reps}: median {statistics.median(times):.1f} ms "
        f"(min {min(times):.1f}, max {max(times):.1f}); cpu median {statistics.median(cpu):.0f} ms"
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["count", "fixture", "bench"])
    ap.add_argument("--dims", type=int, nargs=4, default=None)
    ap.add_argument("--doc")
    ap.add_argument("--out")
    ap.add_argument("--sizes", nargs="+", default=["64x64", "48x80"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    if args.dims is None:
        args.dims = list(TINY_DIMS if args.mode == "fixture" else OFFICIAL_DIMS)
    {"count": mode_count, "fixture": mode_fixture, "bench": mode_bench}[args.mode](args)


if __name__ == "__main__":
    main()
