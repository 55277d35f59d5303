//! The training objective of DHR:
//!
//! ```text
//! L = Σ_p ŵ_p·e_p / N  +  λ_d · (1/N) Σ_p |sigmoid(ρ_p) − dark(I)_p|
//! e_p = mean over the pixels and channels of patch p of  |J − G|   (L1)
//!                                                    or  √((J − G)² + ε²)   (Charbonnier)
//! ```
//!
//! `ŵ` is DHR's patch importance with the gradient stopped (`importance_weighted = true`), or
//! one everywhere. The stop-gradient matters: if the loss could move `w`, the cheapest way to lower
//! `Σ w_p·e_p` would be to move importance onto the patches that are already easy, the
//! opposite of the intent. The head is trained instead by the reconstruction loss through
//! the decoder gates (where emphasising dense patches helps the restoration) and by the
//! dark-channel density term. Since `w` has mean 1 the weighted loss stays on the scale of the
//! plain one.
//!
//! The contrastive terms (`loss.mncd`, `loss.contrastive`) belong to `crate::losses`, which is
//! not part of this build: [`EXTERNAL_LOSSES_AVAILABLE`] is false and a nonzero weight is a
//! config error. Wiring them in = set the flag, add their terms in [`Objective::compute`].

use burn::nn::pool::AvgPool2dConfig;
use burn::prelude::*;

use super::config::{LossSection, Reconstruction};
use crate::dhr::{dark_channel_density, DhrOutput};

/// Whether `crate::losses` (MNCD, perceptual contrastive) is in this build.
pub const EXTERNAL_LOSSES_AVAILABLE: bool = false;

/// The loss and its parts, as tensors (the parts are detached, for logging).
pub struct LossTerms {
    pub total: Tensor<1>,
    pub reconstruction: Tensor<1>,
    pub density: Tensor<1>,
}

/// The configured objective.
#[derive(Clone, Debug)]
pub struct Objective {
    cfg: LossSection,
    patch: usize,
}

impl Objective {
    pub fn new(cfg: &LossSection, patch: usize) -> Self {
        Self {
            cfg: cfg.clone(),
            patch,
        }
    }

    /// The loss of a batch: `hazy` the input, `clear` the target, `out` DHR's output on it.
    pub fn compute(&self, out: &DhrOutput, hazy: Tensor<4>, clear: Tensor<4>) -> LossTerms {
        let diff = out.image.clone() - clear;
        let err = match self.cfg.reconstruction {
            Reconstruction::L1 => diff.abs(),
            Reconstruction::Charbonnier => {
                let eps2 = (self.cfg.charbonnier_eps * self.cfg.charbonnier_eps) as f32;
                (diff.square() + eps2).sqrt()
            }
        };
        // Per-patch mean error [B, 1, H/P, W/P].
        let per_patch = AvgPool2dConfig::new([self.patch, self.patch])
            .init()
            .forward(err.mean_dim(1));
        let reconstruction = if self.cfg.importance_weighted {
            (per_patch * out.importance.clone().detach()).mean()
        } else {
            per_patch.mean()
        };
        let mut total = reconstruction.clone();
        let density = if self.cfg.density > 0.0 {
            let target = dark_channel_density(hazy, self.patch).detach();
            let d = (out.density.clone() - target).abs().mean();
            total = total + d.clone() * (self.cfg.density as f32);
            d
        } else {
            reconstruction.zeros_like()
        };
        LossTerms {
            total,
            reconstruction: reconstruction.detach(),
            density: density.detach(),
        }
    }
}
