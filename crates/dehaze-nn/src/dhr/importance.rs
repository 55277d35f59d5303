//! Patch importance: the density head, the importance weights and the decoder gate.
//!
//! The image is split into `P×P` patches. A light head on the bottleneck features predicts a
//! density logit `ρ_p` per patch; the patch importance is
//!
//! ```text
//! w_p = N · softmax_p(ρ_p / τ)        (Σ_p w_p = N, mean 1; N = patches of the image)
//! ```
//!
//! so a patch of average density has weight 1, denser patches more, lighter ones less; `τ`
//! sets how peaked the weights are. `d_p = sigmoid(ρ_p)` is the predicted haze density in
//! [0, 1], which the trainer can supervise with [`dark_channel_density`].

use burn::module::Param;
use burn::nn::conv::Conv2d;
use burn::nn::pool::AvgPool2dConfig;
use burn::prelude::*;
use burn::tensor::activation::{relu, softmax};

use super::init::{self, Init};

/// Bottleneck features → per-patch density logits `ρ`, `[N, 1, H/P, W/P]`:
/// average-pool to patch resolution, 3×3 conv + ReLU (neighbouring patches as context),
/// 1×1 conv to one logit.
#[derive(Module, Debug)]
pub struct ImportanceHead {
    conv: Conv2d,
    logit: Conv2d,
    /// Pooling factor from the bottleneck to patch resolution (`P / 8`).
    pool: usize,
}

impl ImportanceHead {
    pub(crate) fn new(
        c_in: usize,
        hidden: usize,
        pool: usize,
        init: &mut Init<'_>,
        device: &Device,
    ) -> Self {
        Self {
            conv: init::conv(c_in, hidden, 3, 1, 1.0, init, device),
            logit: init::conv(hidden, 1, 1, 1, 1.0, init, device),
            pool,
        }
    }

    /// Density logits `ρ` from bottleneck features.
    pub fn forward(&self, features: Tensor<4>) -> Tensor<4> {
        let x = if self.pool > 1 {
            AvgPool2dConfig::new([self.pool, self.pool])
                .init()
                .forward(features)
        } else {
            features
        };
        self.logit.forward(relu(self.conv.forward(x)))
    }
}

/// `w = N·softmax(ρ/τ)` over the patches of each image; `rho`: `[B, 1, h, w]`, `N = h·w`.
pub fn patch_importance(rho: Tensor<4>, tau: f32) -> Tensor<4> {
    let [b, c, h, w] = rho.dims();
    let n = c * h * w;
    softmax(rho.reshape([b, n]) / tau, 1).reshape([b, c, h, w]) * (n as f32)
}

/// Nearest-neighbour upsampling by an integer factor (each value becomes an `s×s` block).
pub fn upsample_nearest(x: Tensor<4>, s: usize) -> Tensor<4> {
    if s == 1 {
        return x;
    }
    let [b, c, h, w] = x.dims();
    x.reshape([b, c, h, 1, w, 1])
        .expand([b, c, h, s, w, s])
        .reshape([b, c, h * s, w * s])
}

/// Importance gating of one decoder level: `f ← f·(1 + γ ⊙ (ŵ − 1))`, `ŵ` the importance
/// upsampled (nearest) to the level's resolution, `γ` a learned per-channel vector
/// initialised to 0.
///
/// Why this form rather than `f·(1 + ŵ)`: the importance has mean 1, so `ŵ − 1` is a
/// centred signal and the gate raises the features of dense patches and lowers those of
/// light ones while keeping the image-wide feature energy unchanged (`f·(1 + ŵ)` would double
/// every feature on average and shift the decoder's operating point). With `γ = 0` the
/// network starts as a plain U-Net and learns per channel how strongly density should
/// modulate it; some channels (e.g. colour) may not need it at all. The gate is also the path
/// by which the reconstruction loss trains the head.
#[derive(Module, Debug)]
pub struct ImportanceGate {
    pub(crate) gamma: Param<Tensor<1>>,
}

impl ImportanceGate {
    pub(crate) fn new(c: usize, device: &Device) -> Self {
        Self {
            gamma: init::constant([c], 0.0, device),
        }
    }

    /// `features`: `[B, C, H, W]`; `importance`: `[B, 1, H/s, W/s]`.
    pub fn forward(&self, features: Tensor<4>, importance: Tensor<4>) -> Tensor<4> {
        let [_, c, h, _] = features.dims();
        let s = h / importance.dims()[2];
        let w = upsample_nearest(importance, s) - 1.0;
        let gamma = self.gamma.val().reshape([1, c, 1, 1]);
        features.clone() + features * w * gamma
    }
}

/// A haze-density target per patch from the hazy input alone: the dark channel
/// `dark(I)_p = min_{x∈p} min_c I_c(x)`, `[B, 1, H/P, W/P]`.
///
/// Under the dark channel prior (He et al.), a haze-free patch has a dark channel near 0 and
/// `1 − t ≈ dark(I/A)`, so with the airlight near white the dark channel of a patch estimates
/// its haze density `1 − t`; it needs no ground truth, so it works on real hazy images too.
/// It is biased upwards on bright or white objects (the prior's known failure), hence a weak
/// auxiliary target, not the importance itself.
pub fn dark_channel_density(x: Tensor<4>, patch: usize) -> Tensor<4> {
    let min_c = x.min_dim(1);
    let [b, _, h, w] = min_c.dims();
    let (ph, pw) = (h / patch, w / patch);
    min_c
        .reshape([b, 1, ph, patch, pw, patch])
        .swap_dims(3, 4)
        .reshape([b, 1, ph, pw, patch * patch])
        .min_dim(4)
        .reshape([b, 1, ph, pw])
}
