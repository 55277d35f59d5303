//! DHR, the Density-aware Haze Removal network of API (2026), in our design (SYSTEMS.md §2.2;
//! the paper's code is not public).
//!
//! ```text
//! x ─ intro 3×3 ─ E₀ ─ ↓ ─ E₁ ─ ↓ ─ E₂ ─ ↓ ─ M ─ CA ─┬─ head ─ ρ ─ w = N·softmax(ρ/τ)
//!                 │        │        │               │                │
//!                 │        │        └─(+)─ G₂ ─ D₂ ─ ↑ ←──────────────┤ (gates G_l)
//!                 │        └─(+)─ G₁ ─ D₁ ─ ↑                        │
//!                 └─(+)─ G₀ ─ D₀ ─ ↑                                 │
//!                         D₀ ─ outro 3×3 ─ r;   J = clamp(x + r, 0, 1)
//! ```
//!
//! * **Restorer**: a 4-level U-Net (widths `c, 2c, 4c, 8c`) of residual conv blocks
//!   ([`blocks::ResBlock`]); 3×3 stride-2 convolutions down, 2×2 stride-2 transposed
//!   convolutions up, skips added (not concatenated: half the decoder cost, and the decoder
//!   only has to learn a correction of the encoder features).
//! * **Bottleneck** (1/8 resolution): residual blocks and a channel self-attention
//!   ([`blocks::ChannelAttention`]) for image-wide context (airlight, depth trend) at a cost
//!   linear in the pixel count.
//! * **Patch importance** ([`importance`]): `P×P` patches (P = 16), density logits `ρ_p` from
//!   the bottleneck, `w_p = N·softmax(ρ_p/τ)`, which gates the three decoder levels
//!   (`f·(1 + γ(ŵ − 1))`, see [`importance::ImportanceGate`]) and is returned for the
//!   importance-weighted loss; `sigmoid(ρ_p)` is returned as a density in [0, 1] for optional
//!   supervision by the dark channel ([`importance::dark_channel_density`]).
//! * **Output** `J = clamp(x + r, 0, 1)`, a residual on the input. Why not the physical
//!   inversion `J = (I − A(1 − t))/t` from predicted `t` and `A`: the division amplifies
//!   noise and errors without bound where `t → 0` (exactly the dense patches this network is
//!   about), and real haze (non-uniform airlight, glow, sensor noise, JPEG) does not follow
//!   the single-scattering model the inversion assumes. The residual form starts at the
//!   identity (the outro is initialised small), which is already right for clear regions, and
//!   lets the network learn any correction. The clamp is straight-through
//!   (`y = r̃ + stopgrad(clamp(r̃) − r̃)`): values are in [0, 1], but the loss still pulls an
//!   overshooting pixel back instead of seeing a zero gradient.
//!
//! Sizes: [`DhrConfig::small`] (dhr-s) has [`DHR_S_PARAMS`] learnable parameters (≤ 1 M,
//! trainable on a CPU); [`DhrConfig::base`] (dhr-b) has [`DHR_B_PARAMS`] (5–15 M).
//! `tools/dhr_torch.py` is the same architecture in PyTorch, tensor for tensor (same names,
//! same shapes), used for speed comparisons.

mod blocks;
pub mod importance;
mod init;
mod weights;

use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

pub use blocks::{ChannelAttention, ResBlock, Stage};
pub use importance::{dark_channel_density, patch_importance, ImportanceGate, ImportanceHead};

use init::Init;
pub(crate) use weights::write_atomic;

/// Learnable parameters of [`DhrConfig::small`] (asserted by the tests and by
/// `tools/dhr_torch.py`).
pub const DHR_S_PARAMS: usize = 917_944;
/// Learnable parameters of [`DhrConfig::base`].
pub const DHR_B_PARAMS: usize = 8_132_828;

/// Size and shape of the network. Every field is stored in a weights file's metadata, so a
/// file rebuilds its own network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DhrConfig {
    /// Base channel width `c`; the levels are `c, 2c, 4c, 8c` wide.
    pub width: usize,
    /// Residual blocks of the encoder at full, 1/2 and 1/4 resolution.
    pub enc_blocks: [usize; 3],
    /// Residual blocks at the 1/8 bottleneck.
    pub mid_blocks: usize,
    /// Residual blocks of the decoder at full, 1/2 and 1/4 resolution.
    pub dec_blocks: [usize; 3],
    /// Heads of the bottleneck channel attention (0 = no attention); must divide `8c`.
    pub attention_heads: usize,
    /// Patch size `P` of the importance map (a multiple of 8).
    pub patch: usize,
    /// Softmax temperature `τ` of the importance `w = N·softmax(ρ/τ)`.
    pub tau: f32,
    /// Hidden channels of the importance head.
    pub head_width: usize,
}

impl DhrConfig {
    /// `dhr-s`: at most 1 M parameters, trainable on a CPU.
    pub fn small() -> Self {
        Self {
            width: 16,
            enc_blocks: [1, 2, 2],
            mid_blocks: 1,
            dec_blocks: [1, 2, 2],
            attention_heads: 4,
            patch: 16,
            tau: 1.0,
            head_width: 32,
        }
    }

    /// `dhr-b`: 5–15 M parameters, for GPU training.
    pub fn base() -> Self {
        Self {
            width: 48,
            enc_blocks: [1, 2, 2],
            mid_blocks: 1,
            dec_blocks: [1, 2, 2],
            attention_heads: 8,
            patch: 16,
            tau: 1.0,
            head_width: 64,
        }
    }

    /// Checks that the sizes fit together; the error names the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.width == 0 {
            return Err("width: must be at least 1".into());
        }
        if self.patch == 0 || !self.patch.is_multiple_of(8) {
            return Err(format!(
                "patch: {} is not a positive multiple of 8",
                self.patch
            ));
        }
        if self.attention_heads > 0 && !(8 * self.width).is_multiple_of(self.attention_heads) {
            return Err(format!(
                "attention_heads: {} does not divide the bottleneck width {}",
                self.attention_heads,
                8 * self.width
            ));
        }
        if !(self.tau.is_finite() && self.tau > 0.0) {
            return Err(format!("tau: {} is not a positive number", self.tau));
        }
        if self.head_width == 0 {
            return Err("head_width: must be at least 1".into());
        }
        Ok(())
    }

    /// A lower bound on the parameter count, computed without building the network (so that
    /// a weights file's claimed configuration can be checked against the file's size first):
    /// the 3×3 convolutions of the residual blocks, the stride-2 downsamplings, the importance
    /// head's 3×3 convolution and the attention's 1×1 ones. Saturates instead of overflowing.
    pub fn min_params(&self) -> u128 {
        let c = self.width as u128;
        let sq = |w: u128| w.saturating_mul(w);
        let blocks = |n: usize, w: u128| (n as u128).saturating_mul(18u128.saturating_mul(sq(w)));
        let mut total = 0u128;
        for l in 0..3 {
            let w = c.saturating_mul(1 << l);
            total = total
                .saturating_add(blocks(self.enc_blocks[l], w))
                .saturating_add(blocks(self.dec_blocks[l], w))
                .saturating_add(9u128.saturating_mul(w).saturating_mul(w.saturating_mul(2)));
        }
        let bottleneck = c.saturating_mul(8);
        total = total
            .saturating_add(blocks(self.mid_blocks, bottleneck))
            .saturating_add(
                9u128
                    .saturating_mul(bottleneck)
                    .saturating_mul(self.head_width as u128),
            );
        if self.attention_heads > 0 {
            total = total.saturating_add(4u128.saturating_mul(sq(bottleneck)));
        }
        total
    }

    /// H and W of an input must be multiples of this: the patch size (itself a multiple of
    /// the bottleneck's stride 8).
    pub fn size_multiple(&self) -> usize {
        self.patch
    }
}

/// What one forward pass gives.
#[derive(Debug, Clone)]
pub struct DhrOutput {
    /// Restored image `[N, 3, H, W]` in [0, 1].
    pub image: Tensor<4>,
    /// Per-patch importance `w_p = N·softmax(ρ_p/τ)`, `[N, 1, H/P, W/P]`; sums to the number
    /// of patches per image.
    pub importance: Tensor<4>,
    /// Predicted haze density per patch, `sigmoid(ρ_p)` in (0, 1), `[N, 1, H/P, W/P]`.
    pub density: Tensor<4>,
}

/// The DHR network.
#[derive(Module, Debug)]
pub struct Dhr {
    intro: Conv2d,
    encoders: Vec<Stage>,
    downs: Vec<Conv2d>,
    middle: Stage,
    attention: Option<ChannelAttention>,
    head: ImportanceHead,
    ups: Vec<ConvTranspose2d>,
    gates: Vec<ImportanceGate>,
    decoders: Vec<Stage>,
    outro: Conv2d,
    #[module(skip)]
    config: DhrConfig,
}

impl Dhr {
    /// A network with freshly initialised weights on `device` (seed 0; see
    /// [`Dhr::new_seeded`]).
    ///
    /// # Panics
    /// If the configuration is invalid ([`DhrConfig::validate`]).
    pub fn new(config: &DhrConfig, device: &Device) -> Self {
        Self::new_seeded(config, device, 0)
    }

    /// A network whose initial weights are a pure function of `seed` (drawn from a ChaCha8
    /// stream, not Burn's global generator), identical on every run and thread.
    ///
    /// # Panics
    /// If the configuration is invalid ([`DhrConfig::validate`]).
    pub fn new_seeded(config: &DhrConfig, device: &Device, seed: u64) -> Self {
        let mut rng = init::rng(seed);
        Self::build(config, &mut Init::Random(&mut rng), device)
    }

    /// A network of zeros (to be overwritten by loaded weights).
    pub(crate) fn zeroed(config: &DhrConfig, device: &Device) -> Self {
        Self::build(config, &mut Init::Zero, device)
    }

    fn build(config: &DhrConfig, init: &mut Init<'_>, device: &Device) -> Self {
        if let Err(e) = config.validate() {
            panic!("invalid DHR configuration: {e}");
        }
        let c = config.width;
        let widths = [c, 2 * c, 4 * c, 8 * c];
        let intro = init::conv(3, c, 3, 1, 1.0, init, device);
        let mut encoders = Vec::new();
        let mut downs = Vec::new();
        for l in 0..3 {
            encoders.push(Stage::new(widths[l], config.enc_blocks[l], init, device));
            downs.push(init::conv(
                widths[l],
                widths[l + 1],
                3,
                2,
                1.0,
                init,
                device,
            ));
        }
        let middle = Stage::new(widths[3], config.mid_blocks, init, device);
        let attention = (config.attention_heads > 0)
            .then(|| ChannelAttention::new(widths[3], config.attention_heads, init, device));
        let head =
            ImportanceHead::new(widths[3], config.head_width, config.patch / 8, init, device);
        let mut ups = Vec::new();
        let mut gates = Vec::new();
        let mut decoders = Vec::new();
        for l in 0..3 {
            ups.push(init::up2(widths[l + 1], widths[l], init, device));
            gates.push(ImportanceGate::new(widths[l], device));
            decoders.push(Stage::new(widths[l], config.dec_blocks[l], init, device));
        }
        // Small initial residual: the network starts close to the identity.
        let outro = init::conv(c, 3, 3, 1, 0.1, init, device);
        Self {
            intro,
            encoders,
            downs,
            middle,
            attention,
            head,
            ups,
            gates,
            decoders,
            outro,
            config: config.clone(),
        }
    }

    /// The configuration the network was built with.
    pub fn config(&self) -> &DhrConfig {
        &self.config
    }

    /// `x`: `[N, 3, H, W]` hazy image in [0, 1]; H and W multiples of [`Dhr::size_multiple`].
    ///
    /// # Panics
    /// If `x` is not `[N, 3, H, W]` with H and W multiples of [`Dhr::size_multiple`].
    pub fn forward(&self, x: Tensor<4>) -> DhrOutput {
        let [_, ch, h, w] = x.dims();
        let m = self.size_multiple();
        assert!(
            ch == 3 && h % m == 0 && w % m == 0 && h > 0 && w > 0,
            "DHR input must be [N, 3, H, W] with H, W positive multiples of {m}; got [_, {ch}, {h}, {w}]"
        );
        let Encoded { skips, bottom, .. } = self.encode(x.clone(), false);
        let rho = self.head.forward(bottom.clone());
        let mut f = bottom;
        let importance = patch_importance(rho.clone(), self.config.tau);
        for l in (0..3).rev() {
            let up = self.ups[l].forward(f) + skips[l].clone();
            // Not detached: the reconstruction loss trains the head through the gates.
            let gated = self.gates[l].forward(up, importance.clone());
            f = self.decoders[l].forward(gated);
        }
        let raw = x + self.outro.forward(f);
        let image = raw.clone() + (raw.clone().clamp(0.0, 1.0) - raw).detach();
        DhrOutput {
            image,
            importance,
            density: burn::tensor::activation::sigmoid(rho),
        }
    }

    /// H and W must be multiples of this.
    pub fn size_multiple(&self) -> usize {
        self.config.size_multiple()
    }

    /// The encoder half of [`Dhr::forward`]: the intro convolution (kept only if asked: the
    /// restoration does not need it, and holding it costs a full-resolution map), the three
    /// encoder stages (the decoder's skips) and the bottom (middle stage, then attention).
    fn encode(&self, x: Tensor<4>, keep_intro: bool) -> Encoded {
        let mut f = self.intro.forward(x);
        let intro = keep_intro.then(|| f.clone());
        let mut skips = Vec::with_capacity(3);
        for (enc, down) in self.encoders.iter().zip(&self.downs) {
            let e = enc.forward(f);
            skips.push(e.clone());
            f = down.forward(e);
        }
        f = self.middle.forward(f);
        if let Some(attn) = &self.attention {
            f = attn.forward(f);
        }
        Encoded {
            intro,
            skips,
            bottom: f,
        }
    }

    /// The encoder's five feature maps of `x` (`[N, 3, H, W]` in [0, 1], H and W multiples of
    /// [`Dhr::size_multiple`]): the intro convolution and the first encoder stage at scale 1,
    /// the second and third stages at 1/2 and 1/4, the bottom at 1/8. With trained weights
    /// these are features learned for dehazing, the candidate stand-in for VGG19 in the
    /// contrastive losses ([`crate::losses::FeatureExtractor`]).
    pub fn encoder_features(&self, x: Tensor<4>) -> [Tensor<4>; 5] {
        let Encoded {
            intro,
            skips,
            bottom,
        } = self.encode(x, true);
        let [s0, s1, s2]: [Tensor<4>; 3] = skips
            .try_into()
            .unwrap_or_else(|_| unreachable!("three encoder stages"));
        let intro = intro.unwrap_or_else(|| unreachable!("asked for"));
        [intro, s0, s1, s2, bottom]
    }
}

/// What [`Dhr::encode`] gives.
struct Encoded {
    intro: Option<Tensor<4>>,
    skips: Vec<Tensor<4>>,
    bottom: Tensor<4>,
}

#[cfg(test)]
mod tests;
