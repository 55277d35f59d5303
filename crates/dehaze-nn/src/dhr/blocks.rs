//! The restorer's building blocks: residual convolution blocks and the bottleneck's channel
//! attention.

use burn::module::Param;
use burn::nn::conv::Conv2d;
use burn::prelude::*;
use burn::tensor::activation::{relu, softmax};

use super::init::{self, Init};

/// `y = x + conv₂(ReLU(conv₁(x)))`, both 3×3 at constant width.
///
/// No normalisation layer: restoration networks keep absolute intensities (haze is an
/// intensity offset), which batch/instance statistics would wash out, and a plain residual
/// stack trains stably at these depths.
#[derive(Module, Debug)]
pub struct ResBlock {
    conv1: Conv2d,
    conv2: Conv2d,
}

impl ResBlock {
    pub(crate) fn new(c: usize, init: &mut Init<'_>, device: &Device) -> Self {
        Self {
            conv1: init::conv(c, c, 3, 1, 1.0, init, device),
            conv2: init::conv(c, c, 3, 1, 1.0, init, device),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let y = self.conv2.forward(relu(self.conv1.forward(x.clone())));
        x + y
    }
}

/// A run of residual blocks at one resolution.
#[derive(Module, Debug)]
pub struct Stage {
    blocks: Vec<ResBlock>,
}

impl Stage {
    pub(crate) fn new(c: usize, n: usize, init: &mut Init<'_>, device: &Device) -> Self {
        Self {
            blocks: (0..n).map(|_| ResBlock::new(c, init, device)).collect(),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.blocks.iter().fold(x, |x, b| b.forward(x))
    }
}

/// Multi-head *channel* ("transposed") self-attention, `y = x + W_o·V·softmax(τ_h·Q̂K̂ᵀ)`:
/// per head, the `C/h × C/h` attention matrix compares channels over all pixels, with `Q̂`,
/// `K̂` each channel's response L2-normalised over the pixels and `τ_h` a learned temperature
/// (initialised to 1).
///
/// Why here and why this form: haze is a global phenomenon (one airlight, a smooth depth
/// trend), so the bottleneck benefits from image-wide context; spatial attention would cost
/// `O((HW)²)`, while channel attention costs `O(HW·C²/h)`, linear in the pixel count, so the
/// same network runs on 128² training crops and multi-megapixel photos.
#[derive(Module, Debug)]
pub struct ChannelAttention {
    qkv: Conv2d,
    proj: Conv2d,
    temperature: Param<Tensor<1>>,
    heads: usize,
}

impl ChannelAttention {
    pub(crate) fn new(c: usize, heads: usize, init: &mut Init<'_>, device: &Device) -> Self {
        Self {
            qkv: init::conv(c, 3 * c, 1, 1, 1.0, init, device),
            proj: init::conv(c, c, 1, 1, 1.0, init, device),
            temperature: init::constant([heads], 1.0, device),
            heads,
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [n, c, h, w] = x.dims();
        let (heads, ch) = (self.heads, c / self.heads);
        let qkv = self
            .qkv
            .forward(x.clone())
            .reshape([n, 3, heads, ch, h * w]);
        let part = |i: usize| {
            qkv.clone()
                .slice([0..n, i..i + 1, 0..heads, 0..ch, 0..h * w])
                .reshape([n, heads, ch, h * w])
        };
        let (q, k, v) = (l2_normalise(part(0)), l2_normalise(part(1)), part(2));
        let tau = self.temperature.val().reshape([1, heads, 1, 1]);
        let attn = softmax(q.matmul(k.swap_dims(2, 3)) * tau, 3);
        let y = attn.matmul(v).reshape([n, c, h, w]);
        x + self.proj.forward(y)
    }
}

/// `t / max(‖t‖₂, 1e-6)` along the last axis (as PyTorch's `F.normalize`).
fn l2_normalise(t: Tensor<4>) -> Tensor<4> {
    let norm = t.clone().square().sum_dim(3).sqrt().clamp_min(1e-6);
    t / norm
}
