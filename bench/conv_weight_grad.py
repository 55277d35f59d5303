#!/usr/bin/env python3
"""Where Burn's tch training step loses to PyTorch: the weight gradient of a convolution.

burn-tch 0.22 does not override `conv2d_weight_backward`, so Burn's autodiff computes it with
burn-backend's default: a forward convolution of the input and the output gradient with the
batch and channel axes swapped (`swap_dims(0, 1)`, the output gradient as a H×W "kernel"),
where PyTorch's autograd calls libtorch's `convolution_backward` (oneDNN's backward-weights
kernel). This times both formulations, in libtorch itself, on the 3×3 convolutions of DHR-S
at the benchmark's batch (8 × 128²), and checks that they agree.

    /work/venv/bin/python bench/conv_weight_grad.py [--threads 2] [--runs 5]

Our own script (torch only). Known upstream: tracel-ai/burn issue 4875, PR 4880.
"""
import argparse
import time

import torch
import torch.nn.functional as F

# (C_in, C_out, H = W of the input, stride) of DHR-S's 3x3 convolutions at a 128² crop.
SHAPES = [(3, 16, 128, 1), (16, 16, 128, 1), (16, 32, 128, 2), (32, 32, 64, 1),
          (64, 64, 32, 1), (128, 128, 16, 1)]


def median_time(f, runs):
    f()
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return sorted(ts)[runs // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=8)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    total_native = total_swapped = 0.0
    print(f"torch {torch.__version__}, {a.threads} threads, batch {a.batch}, median of {a.runs}")
    for c_in, c_out, h, s in SHAPES:
        x = torch.rand(a.batch, c_in, h, h)
        w = torch.rand(c_out, c_in, 3, 3)
        g = torch.rand(a.batch, c_out, (h + s - 1) // s, (h + s - 1) // s)

        def native():
            return torch.ops.aten.convolution_backward(
                g, x, w, [c_out], [s, s], [1, 1], [1, 1], False, [0, 0], 1,
                [False, True, False])[1]

        def swapped():
            # burn-backend's conv2d_weight_grad_no_groups: stride and dilation trade places.
            wg = F.conv2d(x.transpose(0, 1), g.transpose(0, 1), None, stride=1, padding=1,
                          dilation=s).transpose(0, 1)
            return wg[:, :, :3, :3]

        err = (native() - swapped()).abs().max().item() / native().abs().max().item()
        tn, ts = median_time(native, a.runs), median_time(swapped, a.runs)
        total_native += tn
        total_swapped += ts
        print(f"{c_in:>3} -> {c_out:<3} {h:>3}² stride {s}: convolution_backward {tn * 1e3:6.1f} ms,"
              f" swapped-axes conv {ts * 1e3:6.1f} ms ({ts / tn:.1f}x; rel. diff {err:.1e})")
    print(f"all six: convolution_backward {total_native * 1e3:.1f} ms, swapped-axes conv "
          f"{total_swapped * 1e3:.1f} ms ({total_swapped / total_native:.1f}x)")


if __name__ == "__main__":
    main()
