//! The dilated residual branches of the bottleneck and their channel/spatial attention pair.
//!
//! All convolutions here use zero padding; every BatchNorm is ε = 1e-5 and at inference uses
//! its running statistics: `BN(x) = γ·(x − μ)/√(σ² + ε) + β`.

use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{relu, sigmoid};

use super::transformer::conv;

/// Reduction of the channel attention's bottleneck (C → C/16 → C).
pub(crate) const SE_REDUCTION: usize = 16;

/// `ReLU(BN(conv(x)))`: the conv–BatchNorm–ReLU unit used throughout the bottleneck.
#[derive(Module, Debug)]
pub(crate) struct ConvBn {
    pub conv: Conv2d,
    pub bn: BatchNorm,
}

impl ConvBn {
    /// Square kernel `k`, dilation `d`, zero padding `d·⌊k/2⌋` (size-preserving), with bias.
    pub fn new(cin: usize, cout: usize, k: usize, d: usize, device: &Device) -> Self {
        Self {
            conv: conv(cin, cout, k, 1, d * (k / 2), d).init(device),
            bn: BatchNormConfig::new(cout).init(device),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        relu(self.bn.forward(self.conv.forward(x)))
    }
}

/// Channel attention with a per-pixel modulation:
///
/// `v = W₂ ReLU(W₁ avgpool(x))` (a per-channel vector, bias-free linears C → C/16 → C),
/// `m = conv₂ ReLU(conv₁ x)` (bias-free 3×3 convs C → C/16 → C, a per-pixel map),
/// `out = x ⊙ σ(v ⊙ m)`.
#[derive(Module, Debug)]
pub(crate) struct ChannelAttention {
    pub fc_down: Linear,
    pub fc_up: Linear,
    pub conv_down: Conv2d,
    pub conv_up: Conv2d,
}

impl ChannelAttention {
    pub fn new(c: usize, device: &Device) -> Self {
        let r = c / SE_REDUCTION;
        assert!(
            r > 0,
            "channel attention needs at least {SE_REDUCTION} channels, got {c}"
        );
        Self {
            fc_down: LinearConfig::new(c, r).with_bias(false).init(device),
            fc_up: LinearConfig::new(r, c).with_bias(false).init(device),
            conv_down: conv(c, r, 3, 1, 1, 1).with_bias(false).init(device),
            conv_up: conv(r, c, 3, 1, 1, 1).with_bias(false).init(device),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [b, c, _, _] = x.dims();
        let pooled = x.clone().mean_dim(3).mean_dim(2).reshape([b, c]);
        let v = self.fc_up.forward(relu(self.fc_down.forward(pooled)));
        let m = self
            .conv_up
            .forward(relu(self.conv_down.forward(x.clone())));
        x * sigmoid(v.reshape([b, c, 1, 1]) * m)
    }
}

/// Spatial attention: `out = x ⊙ σ(s₂ ReLU(s₁ [mean_c(x), conv₁ₓ₁(x)]))` with 1×1 convs
/// C → 1, 2 → 1 and 1 → 1 (all with bias).
#[derive(Module, Debug)]
pub(crate) struct SpatialAttention {
    pub squeeze: Conv2d,
    pub mix: Conv2d,
    pub scale: Conv2d,
}

impl SpatialAttention {
    pub fn new(c: usize, device: &Device) -> Self {
        Self {
            squeeze: conv(c, 1, 1, 1, 0, 1).init(device),
            mix: conv(2, 1, 1, 1, 0, 1).init(device),
            scale: conv(1, 1, 1, 1, 0, 1).init(device),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let m = Tensor::cat(
            vec![x.clone().mean_dim(1), self.squeeze.forward(x.clone())],
            1,
        );
        let map = sigmoid(self.scale.forward(relu(self.mix.forward(m))));
        x * map
    }
}

/// The attention pair: `ConvBn₁ₓ₁([CA(x), SA(x)])`, 2C → C.
#[derive(Module, Debug)]
pub(crate) struct AttentionPair {
    pub channel: ChannelAttention,
    pub spatial: SpatialAttention,
    pub fuse: ConvBn,
}

impl AttentionPair {
    pub fn new(c: usize, device: &Device) -> Self {
        Self {
            channel: ChannelAttention::new(c, device),
            spatial: SpatialAttention::new(c, device),
            fuse: ConvBn::new(2 * c, c, 1, 1, device),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let both = Tensor::cat(
            vec![self.channel.forward(x.clone()), self.spatial.forward(x)],
            1,
        );
        self.fuse.forward(both)
    }
}

/// Dilated residual branch with dilation D (1, 3 or 5):
///
/// `a = ConvBn_D(x)`, `c = ConvBn₁ₓ₁([a, ConvBn_D(a)])`, `out = AttentionPair(c) + x`.
/// The two dilated convs are sequential (the second consumes the first's output).
#[derive(Module, Debug)]
pub(crate) struct DilatedBranch {
    pub conv1: ConvBn,
    pub conv2: ConvBn,
    pub fuse: ConvBn,
    pub attention: AttentionPair,
}

impl DilatedBranch {
    pub fn new(c: usize, dilation: usize, device: &Device) -> Self {
        Self {
            conv1: ConvBn::new(c, c, 3, dilation, device),
            conv2: ConvBn::new(c, c, 3, dilation, device),
            fuse: ConvBn::new(2 * c, c, 1, 1, device),
            attention: AttentionPair::new(c, device),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let a = self.conv1.forward(x.clone());
        let c = self
            .fuse
            .forward(Tensor::cat(vec![a.clone(), self.conv2.forward(a)], 1));
        self.attention.forward(c) + x
    }
}
