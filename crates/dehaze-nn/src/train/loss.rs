//! The training objective, for both networks.
//!
//! **DHR**:
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
//! **KA-Net** (SYSTEMS.md §1.3) has no patches: its reconstruction is per sample,
//!
//! ```text
//! L = (1/B) Σ_b w_b·ℓ_b,   ℓ_b = mean over the pixels and channels of image b of e
//! ```
//!
//! with `w` the sample weights of [`SampleReweighting`] learned on KA-Net's pooled bottleneck
//! feature `z` (`loss.reweighting`; `z` detached, `w` positive with mean 1, so the loss keeps
//! the plain mean's scale), or `w = 1` without it. The weights are redrawn every step (inner
//! Adam steps on that batch alone) from random Fourier features seeded by `train.seed` and
//! the iteration, so a resumed run draws the same ones. They weight the reconstruction only:
//! the contrastive terms below are batch means, as in the authors' CGID code, where the
//! density-ratio weights multiply the per-sample L1 alone (`docs/ka-net-training.md`).
//!
//! The contrastive terms of [`crate::losses`] are added when their weights are nonzero:
//!
//! ```text
//! + λ_m · (L_spatial + L_freq)          MNCD (SYSTEMS.md §2.3), `loss.mncd` = λ_m
//! + λ_c · L_gauss(J, G, I)              Gaussian perceptual contrastive (§1.3), `loss.contrastive`
//! ```
//!
//! The spec's λ_s = λ_f = 0.1 is `mncd = 0.1`. MNCD's K = 3 negatives per crop are built by
//! [`mncd_negatives`]: the hazy input I itself; a denser re-hazed copy
//! `I' = s·I + (1 − s)·A` (s = [`REHAZE_SCALE`], A the dark-channel airlight of the crop),
//! which under `I = t·J + (1 − t)·A` is the same scene at transmission `s·t`; and the dark
//! channel prior's restoration of I, the "weaker dehazer". The feature extractor is VGG19 from
//! `loss.features` (torchvision weights as safetensors) or, without it, the seeded stand-in of
//! [`FeatureExtractor::load_or_seeded`]; the run's log names which.

use burn::nn::pool::AvgPool2dConfig;
use burn::prelude::*;
use dehaze_core::priors::dark_channel::DarkChannelPrior;
use dehaze_core::priors::Dehazer;
use dehaze_core::RgbImage;

use super::config::{LossSection, NetworkConfig, Reconstruction};
use super::network::TrainOutput;
use crate::dhr::dark_channel_density;
use crate::losses::{
    weighted_loss, FeatureExtractor, GaussianContrastive, MncdConfig, SampleReweighting,
};
use crate::weights::WeightsError;

/// The transmission factor of MNCD's re-hazed negative: `t' = REHAZE_SCALE · t`.
pub const REHAZE_SCALE: f32 = 0.6;

/// The negatives of MNCD for `n` hazy crops (planar `[n, 3, crop, crop]` host data), each
/// `[n, 3, crop, crop]` on `device`: the hazy crops, their denser re-hazed copies and their DCP
/// restorations (see the module docs).
pub fn mncd_negatives(hazy: &[f32], n: usize, crop: usize, device: &Device) -> Vec<Tensor<4>> {
    let plane = crop * crop;
    let mut denser = Vec::with_capacity(hazy.len());
    let mut dcp = Vec::with_capacity(hazy.len());
    let prior = DarkChannelPrior::default();
    for crop_data in hazy.chunks_exact(3 * plane) {
        // DCP's restoration, and its airlight estimate for the re-hazed copy.
        let restored = prior.dehaze(&RgbImage::from_planar(crop, crop, crop_data.to_vec()));
        for (c, channel) in crop_data.chunks_exact(plane).enumerate() {
            let haze = (1.0 - REHAZE_SCALE) * restored.airlight[c];
            denser.extend(channel.iter().map(|v| REHAZE_SCALE * v + haze));
        }
        dcp.extend_from_slice(restored.image.data());
    }
    let shape = [n, 3, crop, crop];
    [hazy.to_vec(), denser, dcp]
        .into_iter()
        .map(|v| Tensor::from_data(TensorData::new(v, shape), device))
        .collect()
}

/// The loss and its parts, as tensors (the parts are detached, for logging).
pub struct LossTerms {
    pub total: Tensor<1>,
    pub reconstruction: Tensor<1>,
    /// DHR's density term (unweighted; zero when off and for KA-Net).
    pub density: Tensor<1>,
    /// The weighted contrastive terms `λ_m·(L_spatial + L_freq) + λ_c·L_gauss` (zero when
    /// both weights are).
    pub contrastive: Tensor<1>,
    /// KA-Net's sample weights `[B]` of this step, when `loss.reweighting` is on.
    pub sample_weights: Option<Tensor<1>>,
}

/// The configured objective.
#[derive(Clone, Debug)]
pub struct Objective {
    cfg: LossSection,
    /// DHR's patch size; `None` for KA-Net (per-sample reconstruction).
    patch: Option<usize>,
    /// The frozen feature extractor, when a contrastive weight is nonzero.
    features: Option<FeatureExtractor>,
    /// KA-Net's sample reweighting, when `loss.reweighting` is on.
    reweighting: Option<SampleReweighting>,
}

impl Objective {
    /// The objective of `cfg` for `network`, its random draws seeded by `seed` (`train.seed`);
    /// loads the feature extractor on `device` when a contrastive term needs it.
    pub fn new(
        cfg: &LossSection,
        network: &NetworkConfig,
        seed: u64,
        device: &Device,
    ) -> Result<Self, WeightsError> {
        let features = if cfg.mncd > 0.0 || cfg.contrastive > 0.0 {
            Some(FeatureExtractor::load_or_seeded(
                cfg.features.as_deref(),
                device,
            )?)
        } else {
            None
        };
        let patch = match network {
            NetworkConfig::Dhr(c) => Some(c.patch),
            NetworkConfig::KaNet(_) => None,
        };
        let reweighting = cfg.reweighting.then(|| {
            let default = SampleReweighting::default();
            SampleReweighting {
                steps: cfg.reweighting_steps,
                lambda: cfg.reweighting_lambda,
                seed: default.seed ^ dehaze_core::synth::rng::splitmix64(seed),
                ..default
            }
        });
        Ok(Self {
            cfg: cfg.clone(),
            patch,
            features,
            reweighting,
        })
    }

    /// Whether [`Self::compute`] needs MNCD's negatives.
    pub fn needs_negatives(&self) -> bool {
        self.cfg.mncd > 0.0
    }

    /// Which feature extractor the contrastive terms use, if any (for the run's log).
    pub fn features_description(&self) -> Option<String> {
        self.features.as_ref().map(FeatureExtractor::describe)
    }

    /// The loss of a batch: `hazy` the input, `clear` the target, `out` the network's training
    /// output on it, `negatives` MNCD's negatives ([`mncd_negatives`]; may be empty when
    /// `loss.mncd` = 0), `iteration` the step (it picks the reweighting's random features).
    pub fn compute(
        &self,
        out: &TrainOutput,
        hazy: Tensor<4>,
        clear: Tensor<4>,
        negatives: &[Tensor<4>],
        iteration: u64,
    ) -> LossTerms {
        let mut contrastive = Tensor::<1>::zeros([1], &hazy.device());
        if let Some(features) = &self.features {
            if self.cfg.mncd > 0.0 {
                let m = MncdConfig::default();
                let spatial = m.spatial(features, out.image.clone(), clear.clone(), negatives);
                let freq = m.frequency(out.image.clone(), clear.clone(), negatives);
                contrastive = contrastive + (spatial + freq).mul_scalar(self.cfg.mncd);
            }
            if self.cfg.contrastive > 0.0 {
                let g = GaussianContrastive::default().forward(
                    features,
                    out.image.clone(),
                    clear.clone(),
                    hazy.clone(),
                );
                contrastive = contrastive + g.mul_scalar(self.cfg.contrastive);
            }
        }
        let diff = out.image.clone() - clear;
        let err = match self.cfg.reconstruction {
            Reconstruction::L1 => diff.abs(),
            Reconstruction::Charbonnier => {
                let eps2 = (self.cfg.charbonnier_eps * self.cfg.charbonnier_eps) as f32;
                (diff.square() + eps2).sqrt()
            }
        };
        let mut sample_weights = None;
        let reconstruction = match (self.patch, &out.importance) {
            (Some(patch), Some(importance)) => {
                // DHR: per-patch mean error [B, 1, H/P, W/P].
                let per_patch = AvgPool2dConfig::new([patch, patch])
                    .init()
                    .forward(err.mean_dim(1));
                if self.cfg.dhr_importance_weighted() {
                    (per_patch * importance.clone().detach()).mean()
                } else {
                    per_patch.mean()
                }
            }
            _ => {
                // KA-Net: per-sample mean error [B], weighted by the sample weights.
                let [n, _, _, _] = err.dims();
                let per_sample = err.reshape([n as i64, -1]).mean_dim(1).reshape([n]);
                match (&self.reweighting, &out.z) {
                    (Some(rw), Some(z)) => {
                        let w = rw.weights(z.clone(), iteration);
                        sample_weights = Some(w.clone());
                        weighted_loss(per_sample, w)
                    }
                    _ => per_sample.mean(),
                }
            }
        };
        let mut total = reconstruction.clone() + contrastive.clone();
        let density_weight = self.cfg.dhr_density();
        let density = match (self.patch, &out.density) {
            (Some(patch), Some(predicted)) if density_weight > 0.0 => {
                let target = dark_channel_density(hazy, patch).detach();
                let d = (predicted.clone() - target).abs().mean();
                total = total + d.clone() * (density_weight as f32);
                d
            }
            _ => reconstruction.zeros_like(),
        };
        LossTerms {
            total,
            reconstruction: reconstruction.detach(),
            density: density.detach(),
            contrastive: contrastive.detach(),
            sample_weights,
        }
    }
}
