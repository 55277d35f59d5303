//! MNCD, the Multi-Negative Contrastive Dehazing loss of API (spec §2.3, our design), and the
//! total training objective of DHR.
//!
//! The restored image J (anchor) should be close to the ground truth G (positive) and far from
//! K negatives N_1..N_K chosen by the caller (the hazy input, re-hazed copies at other
//! densities, the output of a weaker dehazer such as DCP). With D = mean absolute difference:
//!
//! ```text
//! L_spatial = Σ_l ω_l · D(φ_l(J), φ_l(G)) / ((1/K)·Σ_k D(φ_l(J), φ_l(N_k)) + ε)
//! L_freq    = α · D(|F(J)|, |F(G)|) / ((1/K)·Σ_k D(|F(J)|, |F(N_k)|) + ε)
//!           + β · P(J, G)           / ((1/K)·Σ_k P(J, N_k)           + ε)
//! P(a, b)   = ½·(D(cos θ_a, cos θ_b) + D(sin θ_a, sin θ_b))
//! L         = L_rec + λ_s·L_spatial + λ_f·L_freq,   λ_s = λ_f = 0.1
//! ```
//!
//! φ_l are relu1_1…relu5_1 of the frozen [`FeatureExtractor`], ω = (1/32, 1/16, 1/8, 1/4, 1)
//! and ε = 10⁻⁷ (AECR-Net's values). F is the orthonormal 2-D DFT of each channel
//! ([`super::spectrum`], exact for any size), |F| its amplitude and (cos θ, sin θ) its unit
//! phasor, which replaces the ill-conditioned angle (see [`super::spectrum::amplitude_phasor`]);
//! α = β = 1. Each D averages over the whole batch. The positive and the negatives are
//! constants: their features and spectra are computed detached, so only J receives gradients.
//! L_rec is the (importance-weighted) [`Reconstruction`] loss, optionally weighted per sample
//! by the [`super::reweighting`] weights.

use burn::tensor::Tensor;

use super::features::FeatureExtractor;
use super::reconstruction::Reconstruction;
use super::reweighting::weighted_loss;
use super::spectrum::{amplitude_phasor, dft2};
use super::{assert_same_shape, mean_abs_diff, LAYER_WEIGHTS};

/// The hyper-parameters of the two contrastive terms.
#[derive(Debug, Clone, PartialEq)]
pub struct MncdConfig {
    /// ω_l for relu1_1…relu5_1.
    pub layer_weights: [f64; 5],
    /// ε of every ratio's denominator.
    pub eps: f64,
    /// δ of the amplitude `sqrt(Re² + Im² + δ²)` (orthonormal DFT units).
    pub spectrum_delta: f64,
    /// α, the weight of the amplitude ratio in L_freq.
    pub amplitude_weight: f64,
    /// β, the weight of the phase ratio in L_freq.
    pub phase_weight: f64,
}

impl Default for MncdConfig {
    fn default() -> Self {
        Self {
            layer_weights: LAYER_WEIGHTS,
            eps: 1e-7,
            spectrum_delta: 1e-3,
            amplitude_weight: 1.0,
            phase_weight: 1.0,
        }
    }
}

impl MncdConfig {
    /// L_spatial of `output` against `target` and `negatives` (at least one, all of the
    /// output's shape).
    pub fn spatial(
        &self,
        features: &FeatureExtractor,
        output: Tensor<4>,
        target: Tensor<4>,
        negatives: &[Tensor<4>],
    ) -> Tensor<1> {
        check_inputs(&output, &target, negatives);
        let k = negatives.len() as f64;
        let fo = features.forward(output);
        let fg = features.forward(target.detach());
        let fn_: Vec<_> = negatives
            .iter()
            .map(|n| features.forward(n.clone().detach()))
            .collect();
        let mut total: Option<Tensor<1>> = None;
        for (l, &omega) in self.layer_weights.iter().enumerate() {
            if omega == 0.0 {
                continue;
            }
            let pos = mean_abs_diff(fo[l].clone(), fg[l].clone().detach());
            let neg = fn_
                .iter()
                .map(|f| mean_abs_diff(fo[l].clone(), f[l].clone().detach()))
                .reduce(|a, b| a + b)
                .expect("at least one negative")
                .div_scalar(k);
            let term = (pos / neg.add_scalar(self.eps)).mul_scalar(omega);
            total = Some(match total {
                Some(t) => t + term,
                None => term,
            });
        }
        total.unwrap_or_else(|| Tensor::zeros([1], &fo[0].device()))
    }

    /// L_freq of `output` against `target` and `negatives`.
    pub fn frequency(
        &self,
        output: Tensor<4>,
        target: Tensor<4>,
        negatives: &[Tensor<4>],
    ) -> Tensor<1> {
        check_inputs(&output, &target, negatives);
        let k = negatives.len() as f64;
        let delta = self.spectrum_delta;
        let (ao, co, so) = amplitude_phasor(dft2(output), delta);
        let constant = |x: &Tensor<4>| {
            let (a, c, s) = amplitude_phasor(dft2(x.clone().detach()), delta);
            (a.detach(), c.detach(), s.detach())
        };
        let (ag, cg, sg) = constant(&target);
        let negs: Vec<_> = negatives.iter().map(constant).collect();
        let phase = |c: &Tensor<4>, s: &Tensor<4>| {
            (mean_abs_diff(co.clone(), c.clone()) + mean_abs_diff(so.clone(), s.clone()))
                .mul_scalar(0.5)
        };
        let amp_pos = mean_abs_diff(ao.clone(), ag);
        let amp_neg = negs
            .iter()
            .map(|(a, _, _)| mean_abs_diff(ao.clone(), a.clone()))
            .reduce(|a, b| a + b)
            .expect("at least one negative")
            .div_scalar(k);
        let pha_pos = phase(&cg, &sg);
        let pha_neg = negs
            .iter()
            .map(|(_, c, s)| phase(c, s))
            .reduce(|a, b| a + b)
            .expect("at least one negative")
            .div_scalar(k);
        (amp_pos / amp_neg.add_scalar(self.eps)).mul_scalar(self.amplitude_weight)
            + (pha_pos / pha_neg.add_scalar(self.eps)).mul_scalar(self.phase_weight)
    }
}

fn check_inputs(output: &Tensor<4>, target: &Tensor<4>, negatives: &[Tensor<4>]) {
    assert!(!negatives.is_empty(), "MNCD needs at least one negative");
    assert_same_shape("MNCD (output vs target)", output, target);
    for n in negatives {
        assert_same_shape("MNCD (output vs negative)", output, n);
    }
}

/// What one training step feeds the loss.
#[derive(Debug, Clone)]
pub struct MncdInputs {
    /// The network's restored image J, `[N, 3, H, W]` in [0, 1].
    pub output: Tensor<4>,
    /// The ground truth G.
    pub target: Tensor<4>,
    /// The negatives N_1..N_K (at least one), each like `output`.
    pub negatives: Vec<Tensor<4>>,
    /// DHR's per-patch importance `[N, 1, H/P, W/P]` for L_rec, if any.
    pub importance: Option<Tensor<4>>,
    /// Per-sample weights `[N]` for L_rec (from [`super::SampleReweighting`]), if any.
    pub sample_weights: Option<Tensor<1>>,
}

/// The loss terms of one step; `total` is what to call `backward()` on.
#[derive(Debug, Clone)]
pub struct MncdTerms {
    /// `L_rec + λ_s·L_spatial + λ_f·L_freq`.
    pub total: Tensor<1>,
    /// L_rec.
    pub reconstruction: Tensor<1>,
    /// L_spatial (unweighted by λ_s; zero and not computed when λ_s = 0).
    pub spatial: Tensor<1>,
    /// L_freq (unweighted by λ_f; zero and not computed when λ_f = 0).
    pub frequency: Tensor<1>,
}

/// The total objective `L = L_rec + λ_s·L_spatial + λ_f·L_freq`.
#[derive(Debug, Clone, PartialEq)]
pub struct MncdLoss {
    /// The per-pixel error of L_rec.
    pub reconstruction: Reconstruction,
    /// λ_s (0.1).
    pub spatial_weight: f64,
    /// λ_f (0.1).
    pub frequency_weight: f64,
    /// The contrastive terms' parameters.
    pub mncd: MncdConfig,
}

impl Default for MncdLoss {
    /// L1 reconstruction (the ‖·‖₁ of spec §2.2), λ_s = λ_f = 0.1, default [`MncdConfig`].
    fn default() -> Self {
        Self {
            reconstruction: Reconstruction::L1,
            spatial_weight: 0.1,
            frequency_weight: 0.1,
            mncd: MncdConfig::default(),
        }
    }
}

impl MncdLoss {
    /// All terms for one batch. `features` is only used when λ_s ≠ 0.
    pub fn forward(&self, features: &FeatureExtractor, inputs: MncdInputs) -> MncdTerms {
        let MncdInputs {
            output,
            target,
            negatives,
            importance,
            sample_weights,
        } = inputs;
        let device = output.device();
        let per_sample = self
            .reconstruction
            .per_sample(output.clone(), target.clone(), importance);
        let reconstruction = match sample_weights {
            Some(w) => weighted_loss(per_sample, w),
            None => per_sample.mean(),
        };
        let spatial = if self.spatial_weight != 0.0 {
            self.mncd
                .spatial(features, output.clone(), target.clone(), &negatives)
        } else {
            Tensor::zeros([1], &device)
        };
        let frequency = if self.frequency_weight != 0.0 {
            self.mncd.frequency(output, target, &negatives)
        } else {
            Tensor::zeros([1], &device)
        };
        let total = reconstruction.clone()
            + spatial.clone().mul_scalar(self.spatial_weight)
            + frequency.clone().mul_scalar(self.frequency_weight);
        MncdTerms {
            total,
            reconstruction,
            spatial,
            frequency,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::cpu;
    use crate::losses::test_util::*;

    fn tiny() -> FeatureExtractor {
        FeatureExtractor::from_vgg19_safetensors(&fixture_path("tiny_vgg19.safetensors"), &cpu())
            .unwrap()
    }

    fn negatives(r: &Reference) -> Vec<Tensor<4>> {
        ["hazy", "neg2", "neg3"]
            .iter()
            .map(|n| r.tensor(n, &cpu()))
            .collect()
    }

    #[test]
    fn spatial_matches_pytorch_value_and_gradient() {
        let r = Reference::load();
        let fx = tiny();
        let cfg = MncdConfig::default();
        let negs = negatives(&r);
        let out: Tensor<4> = r.tensor("out", &cpu());
        let gt: Tensor<4> = r.tensor("gt", &cpu());
        let v = host(cfg.spatial(&fx, out.clone(), gt.clone(), &negs));
        assert_close("spatial", &v, r.values("expected_mncd_spatial"), 1e-4, 0.0);
        let g = input_grad(out, |x| cfg.spatial(&fx, x, gt.clone(), &negs));
        let g = host(g);
        assert_grad_close(
            "spatial grad",
            &g,
            r.values("expected_mncd_spatial_grad"),
            1e-3,
            1e-4,
        );
    }

    #[test]
    fn frequency_matches_pytorch_value_and_gradient() {
        let r = Reference::load();
        let cfg = MncdConfig::default();
        let negs = negatives(&r);
        let out: Tensor<4> = r.tensor("out", &cpu());
        let gt: Tensor<4> = r.tensor("gt", &cpu());
        let v = host(cfg.frequency(out.clone(), gt.clone(), &negs));
        assert_close(
            "frequency",
            &v,
            r.values("expected_mncd_frequency"),
            1e-4,
            0.0,
        );
        let g = host(input_grad(out, |x| cfg.frequency(x, gt.clone(), &negs)));
        assert_grad_close(
            "frequency grad",
            &g,
            r.values("expected_mncd_frequency_grad"),
            1e-3,
            1e-3,
        );
    }

    #[test]
    fn total_matches_pytorch_and_is_differentiable() {
        let r = Reference::load();
        let fx = tiny();
        let loss = MncdLoss::default();
        let inputs = |out: Tensor<4>| MncdInputs {
            output: out,
            target: r.tensor("gt", &cpu()),
            negatives: negatives(&r),
            importance: Some(r.tensor("importance", &cpu())),
            sample_weights: None,
        };
        let terms = loss.forward(&fx, inputs(r.tensor("out", &cpu())));
        assert_close(
            "total",
            &host(terms.total),
            r.values("expected_mncd_total"),
            1e-4,
            0.0,
        );
        assert_close(
            "rec",
            &host(terms.reconstruction),
            r.values("expected_l1_weighted"),
            1e-5,
            0.0,
        );
        let g = input_grad(r.tensor("out", &cpu()), |x| {
            loss.forward(&fx, inputs(x)).total
        });
        assert_finite_nonzero("total grad", &host(g));
    }

    #[test]
    fn ratio_is_small_near_the_target_and_large_near_a_negative() {
        // Hand check of the ratio's direction: J = G gives 0 (up to Charbonnier-free L1),
        // J = the only negative gives a huge value (denominator ε).
        let r = Reference::load();
        let fx = tiny();
        let cfg = MncdConfig::default();
        let gt: Tensor<4> = r.tensor("gt", &cpu());
        let hazy: Tensor<4> = r.tensor("hazy", &cpu());
        let negs = std::slice::from_ref(&hazy);
        let at_gt = host(cfg.spatial(&fx, gt.clone(), gt.clone(), negs))[0];
        assert_eq!(at_gt, 0.0);
        let at_neg = host(cfg.spatial(&fx, hazy.clone(), gt.clone(), negs))[0];
        assert!(at_neg > 1e3, "{at_neg}");
        let f_gt = host(cfg.frequency(gt.clone(), gt.clone(), negs))[0];
        assert_eq!(f_gt, 0.0);
    }

    #[test]
    fn zero_weights_skip_the_contrastive_terms() {
        let r = Reference::load();
        let fx = tiny();
        let loss = MncdLoss {
            spatial_weight: 0.0,
            frequency_weight: 0.0,
            ..MncdLoss::default()
        };
        let terms = loss.forward(
            &fx,
            MncdInputs {
                output: r.tensor("out", &cpu()),
                target: r.tensor("gt", &cpu()),
                negatives: negatives(&r),
                importance: None,
                sample_weights: Some(Tensor::<1>::from_floats([2.0, 0.0], &cpu())),
            },
        );
        // Sample weights (2, 0): L_rec = (2·l_0 + 0·l_1)/2 = l_0.
        let l0 = r.values("expected_l1_per_sample")[0];
        assert_close("weighted rec", &host(terms.total), &[l0], 1e-5, 0.0);
        assert_eq!(host(terms.spatial), [0.0]);
    }
}
