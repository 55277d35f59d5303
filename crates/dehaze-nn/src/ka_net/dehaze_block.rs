//! The bottleneck "DehazeBlock" at 1/32 resolution: residual convolutions, then a multi-branch
//! block mixing a random-Fourier-feature branch and two dilated branches through a learned
//! gate.
//!
//! ```text
//! r   = conv₂(ReLU(conv₁(x)) + x)                       (3×3, zero pad 1, bias)
//! u   = ConvBn₁ₓ₁(r)                                    (C → C/8)
//! φ   = √(2/D) · cos(W u + b)                           (per pixel; W: D×C/8, b: D; D = C)
//! y₁  = Branch₁(φ),  y₂ = Branch₃(r),  y₃ = Branch₅(r)  (dilations 1, 3, 5)
//! out = Gate(y₁, y₂, y₃) + r + x
//! ```

use burn::nn::conv::Conv2d;
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::dilated_branch::{ConvBn, DilatedBranch};
use super::transformer::conv;

/// Seed of the random-Fourier-feature draw ("KANET" in ASCII).
///
/// The official network draws `W ~ N(0, 1)` and `b ~ U[0, 2π)` afresh on every forward call,
/// so its outputs are not reproducible run to run. We draw them once, at construction, from a
/// ChaCha8 stream seeded with this value (W row-major first, then b), which makes inference
/// deterministic. They are constants, not learnable and not stored in checkpoints; use
/// [`KaNet::set_rff`](super::KaNet::set_rff) to inject other values (e.g. for parity tests).
pub const RFF_SEED: u64 = 0x004b_414e_4554;

/// Dilations of the three residual branches.
pub(crate) const DILATIONS: [usize; 3] = [1, 3, 5];

/// Draws the seeded RFF constants: `W` (`d × d/8`, N(0, 1)) and `b` (`d`, U[0, 2π)).
pub(crate) fn seeded_rff(d: usize) -> (Vec<f32>, Vec<f32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(RFF_SEED);
    let w = (0..d * (d / 8))
        .map(|_| rng.sample::<f32, _>(StandardNormal))
        .collect();
    let b = (0..d)
        .map(|_| rng.random::<f32>() * std::f32::consts::TAU)
        .collect();
    (w, b)
}

/// Gating of the three branches by their global means:
///
/// `s_j = mean_{c,h,w}(y_j)`, `w = σ(L₂ ReLU(L₁ s))` (bias-free 3 → 3 linears),
/// `out = ConvBn₁ₓ₁(Σ_j w_j · y_j)`.
#[derive(Module, Debug)]
pub(crate) struct Gate {
    pub fc1: Linear,
    pub fc2: Linear,
    pub fuse: ConvBn,
}

impl Gate {
    pub fn new(c: usize, device: &Device) -> Self {
        Self {
            fc1: LinearConfig::new(3, 3).with_bias(false).init(device),
            fc2: LinearConfig::new(3, 3).with_bias(false).init(device),
            fuse: ConvBn::new(c, c, 1, 1, device),
        }
    }

    pub fn forward(&self, ys: [Tensor<4>; 3]) -> Tensor<4> {
        let [b, _, _, _] = ys[0].dims();
        let means: Vec<Tensor<2>> = ys
            .iter()
            .map(|y| y.clone().reshape([b as i64, -1]).mean_dim(1))
            .collect();
        let w = sigmoid(
            self.fc2
                .forward(relu(self.fc1.forward(Tensor::cat(means, 1)))),
        );
        let mixed = ys
            .into_iter()
            .enumerate()
            .map(|(j, y)| y * w.clone().narrow(1, j, 1).reshape([b, 1, 1, 1]))
            .reduce(|a, y| a + y)
            .expect("three branches");
        self.fuse.forward(mixed)
    }
}

/// The multi-branch block (`MRFEB1` in the official code): RFF branch, dilated branches, gate,
/// residual.
#[derive(Module, Debug)]
pub(crate) struct MultiBranch {
    /// Dilations 1, 3, 5; branch 0 runs on the RFF features, 1 and 2 on the input.
    pub branches: Vec<DilatedBranch>,
    pub gate: Gate,
    /// 1×1 ConvBn C → C/8 producing the RFF input `u`.
    pub rff_embed: ConvBn,
    /// RFF projection `W`, `[D, C/8]`: a constant, not a parameter.
    pub rff_w: Tensor<2>,
    /// RFF phase `b`, `[D]`: a constant, not a parameter.
    pub rff_b: Tensor<1>,
}

impl MultiBranch {
    pub fn new(c: usize, device: &Device) -> Self {
        assert!(
            c.is_multiple_of(8),
            "bottleneck width {c} must be a multiple of 8"
        );
        let (w, b) = seeded_rff(c);
        Self {
            branches: DILATIONS
                .iter()
                .map(|&d| DilatedBranch::new(c, d, device))
                .collect(),
            gate: Gate::new(c, device),
            rff_embed: ConvBn::new(c, c / 8, 1, 1, device),
            rff_w: Tensor::from_data(TensorData::new(w, [c, c / 8]), device),
            rff_b: Tensor::from_data(TensorData::new(b, [c]), device),
        }
    }

    /// Random Fourier features of `u` `[B, C/8, H, W]`: `√(2/D)·cos(W u + b)` at every pixel,
    /// computed as a 1×1 convolution with weight `W` and bias `b`.
    pub fn fourier_features(&self, u: Tensor<4>) -> Tensor<4> {
        let [d, k] = self.rff_w.dims();
        let weight = self.rff_w.clone().reshape([d, k, 1, 1]);
        let proj = conv2d(
            u,
            weight,
            Some(self.rff_b.clone()),
            ConvOptions::new([1, 1], [0, 0], [1, 1], 1),
        );
        proj.cos().mul_scalar((2.0 / d as f64).sqrt())
    }

    pub fn forward(&self, r: Tensor<4>) -> Tensor<4> {
        let phi = self.fourier_features(self.rff_embed.forward(r.clone()));
        let ys = [
            self.branches[0].forward(phi),
            self.branches[1].forward(r.clone()),
            self.branches[2].forward(r.clone()),
        ];
        self.gate.forward(ys) + r
    }
}

/// The bottleneck block: `out = MultiBranch(conv₂(ReLU(conv₁ x) + x)) + x`.
#[derive(Module, Debug)]
pub(crate) struct DehazeBlock {
    pub conv1: Conv2d,
    pub conv2: Conv2d,
    pub branches: MultiBranch,
}

impl DehazeBlock {
    pub fn new(c: usize, device: &Device) -> Self {
        Self {
            conv1: conv(c, c, 3, 1, 1, 1).init(device),
            conv2: conv(c, c, 3, 1, 1, 1).init(device),
            branches: MultiBranch::new(c, device),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let r = self
            .conv2
            .forward(relu(self.conv1.forward(x.clone())) + x.clone());
        self.branches.forward(r) + x
    }
}
