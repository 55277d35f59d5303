//! The real-domain adaptation stage: fine-tuning a pre-trained network (DHR or KA-Net: any
//! [`Trainable`]; the terms read only its restored images) on unlabeled real hazy photos
//! (`[adapt]` of the config, [`AdaptSection`]; equations and weights in `docs/training.md`).
//!
//! The stage keeps a frozen copy of the pre-trained network, the *reference*, and adds to the
//! supervised loss of each step
//!
//! ```text
//! λ_cons·|J_s − R(I_s)|₁                                      supervised crops I_s
//! + λ_dc·L_dc(t̂) + λ_bc·L_bc(t̂) + λ_cl·L_cl(J; I, CLAHE(I), A) real crops I (losses::priors;
//!                                                             t̂ the transmission J implies)
//! + λ_sm·L_sm(J; I, A)
//! + λ_rc·|J − R(I)|₁
//! + λ_m·MNCD(J; R(I); I, I', DCP(I)) + λ_g·Gauss(J; R(I); I)
//! ```
//!
//! where `J = f(I)` is the network being trained, `R` the reference. The reference's outputs
//! stand in for the missing ground truth in the two contrastive terms (positive = what the
//! network did before adaptation, negatives = hazier images), and the two consistency terms
//! are PSD's learning without forgetting: the prior terms alone would drift towards
//! over-enhancement, which the no-reference metrics reward and the eye does not.

use burn::prelude::*;

use super::config::AdaptSection;
use super::data::RealBatch;
use super::loss::mncd_negatives;
use super::network::Trainable;
use crate::losses::priors::{
    clahe_reconstruction_loss, scattering_residual_loss, transmission_prior_loss,
};
use crate::losses::{FeatureExtractor, GaussianContrastive, MncdConfig};

/// The adaptation terms of one step, weighted; the parts are detached (for the log).
pub struct AdaptTerms {
    /// Their weighted sum (with gradients).
    pub total: Tensor<1>,
    /// `λ·value` of each term, in [`TERM_NAMES`] order.
    pub parts: [f32; TERM_NAMES.len()],
}

/// The terms, in the order of [`AdaptTerms::parts`] (and of `metrics.csv`'s notes).
pub const TERM_NAMES: [&str; 8] = [
    "consistency",
    "dark_channel",
    "bright_channel",
    "clahe",
    "real_consistency",
    "mncd",
    "contrastive",
    "scattering",
];

/// The configured adaptation objective with its frozen reference network.
pub struct Adaptation<M: Trainable> {
    cfg: AdaptSection,
    /// The pre-trained network, frozen, on the non-autodiff device `device`.
    reference: M,
    device: Device,
    /// The frozen feature extractor of the contrastive terms, when one of them is on.
    features: Option<FeatureExtractor>,
}

fn planar(v: Vec<f32>, n: usize, c: usize, device: &Device) -> Tensor<4> {
    Tensor::from_data(TensorData::new(v, [n, 3, c, c]), device)
}

impl<M: Trainable> Adaptation<M> {
    /// `reference` is the pre-trained network on the plain (non-autodiff) device; `features`
    /// the frozen extractor of the contrastive terms (needed only when `mncd` or `contrastive`
    /// is on).
    pub fn new(
        cfg: &AdaptSection,
        reference: M,
        device: &Device,
        features: Option<FeatureExtractor>,
    ) -> Self {
        Self {
            cfg: cfg.clone(),
            reference,
            device: device.clone(),
            features,
        }
    }

    /// Whether the contrastive terms need the feature extractor.
    pub fn needs_features(cfg: &AdaptSection) -> bool {
        cfg.mncd > 0.0 || cfg.contrastive > 0.0
    }

    /// Whether [`Adaptation::compute`] reads the supervised crops (the consistency term).
    pub fn needs_supervised_hazy(&self) -> bool {
        self.cfg.consistency > 0.0
    }

    /// The reference's output on `x` (host data `[n, 3, c, c]`), on `device`, without gradients.
    fn reference_output(&self, x: &[f32], n: usize, c: usize, device: &Device) -> Tensor<4> {
        let out = self
            .reference
            .restore(planar(x.to_vec(), n, c, &self.device));
        Tensor::from_data(out.into_data(), device)
    }

    /// The terms for a step: `supervised` the network's output on the supervised crops
    /// `supervised_hazy` (host data, `[n, 3, c, c]`; read only when
    /// [`Adaptation::needs_supervised_hazy`]); `real` the real crops, run through `model`
    /// here (`None` when no real term is on). `device` is the autodiff device.
    pub fn compute(
        &self,
        model: &M,
        supervised: &Tensor<4>,
        supervised_hazy: &[f32],
        real: Option<&RealBatch>,
        device: &Device,
    ) -> AdaptTerms {
        let a = &self.cfg;
        let mut total = Tensor::<1>::zeros([1], device);
        let mut parts = [0.0f32; TERM_NAMES.len()];
        let mut add = |i: usize, w: f64, t: Tensor<1>, total: &mut Tensor<1>| {
            let t = t.mul_scalar(w);
            parts[i] = t.clone().into_scalar::<f32>();
            *total = total.clone() + t;
        };
        if a.consistency > 0.0 {
            let [n, _, c, _] = supervised.dims();
            let r = self.reference_output(supervised_hazy, n, c, device);
            add(
                0,
                a.consistency,
                (supervised.clone() - r).abs().mean(),
                &mut total,
            );
        }
        if let Some(b) = real {
            let (n, c) = (b.n, b.crop);
            let hazy = planar(b.hazy.clone(), n, c, device);
            let j = model.forward_train(hazy.clone()).image;
            let air =
                Tensor::<4>::from_data(TensorData::new(b.airlight.clone(), [n, 3, 1, 1]), device);
            if a.dark_channel > 0.0 || a.bright_channel > 0.0 {
                let matting = Tensor::<4>::from_data(
                    TensorData::new(b.matting.clone(), [n, 36, c - 2, c - 2]),
                    device,
                );
                let map = |v: &[f32]| {
                    Tensor::<4>::from_data(TensorData::new(v.to_vec(), [n, 1, c, c]), device)
                };
                for (i, w, prior) in [
                    (1, a.dark_channel, &b.t_dark),
                    (2, a.bright_channel, &b.t_bright),
                ] {
                    if w > 0.0 {
                        let l = transmission_prior_loss(
                            j.clone(),
                            hazy.clone(),
                            air.clone(),
                            map(prior),
                            matting.clone(),
                        );
                        add(i, w, l, &mut total);
                    }
                }
            }
            if a.clahe > 0.0 {
                let clahe = planar(b.clahe.clone(), n, c, device);
                add(
                    3,
                    a.clahe,
                    clahe_reconstruction_loss(j.clone(), hazy.clone(), clahe, air.clone()),
                    &mut total,
                );
            }
            if a.scattering > 0.0 {
                add(
                    7,
                    a.scattering,
                    scattering_residual_loss(j.clone(), hazy.clone(), air),
                    &mut total,
                );
            }
            let needs_ref = a.real_consistency > 0.0 || a.mncd > 0.0 || a.contrastive > 0.0;
            if needs_ref {
                let r = self.reference_output(&b.hazy, n, c, device);
                if a.real_consistency > 0.0 {
                    add(
                        4,
                        a.real_consistency,
                        (j.clone() - r.clone()).abs().mean(),
                        &mut total,
                    );
                }
                if let Some(f) = &self.features {
                    if a.mncd > 0.0 {
                        let neg = mncd_negatives(&b.hazy, n, c, device);
                        let m = MncdConfig::default();
                        let l = m.spatial(f, j.clone(), r.clone(), &neg)
                            + m.frequency(j.clone(), r.clone(), &neg);
                        add(5, a.mncd, l, &mut total);
                    }
                    if a.contrastive > 0.0 {
                        let l = GaussianContrastive::default().forward(f, j.clone(), r, hazy);
                        add(6, a.contrastive, l, &mut total);
                    }
                }
            }
        }
        AdaptTerms { total, parts }
    }
}
