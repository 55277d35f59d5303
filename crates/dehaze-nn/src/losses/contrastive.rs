//! KA-Net's Gaussian perceptual contrastive loss (spec §1.3 (a), our design; the paper names it
//! but does not release it).
//!
//! In the frozen feature space φ (relu1_1…relu5_1, [`FeatureExtractor`]), a Gaussian kernel
//! measures similarity; the restored image (anchor) should be similar to the ground truth
//! (positive) and dissimilar to the hazy input (negative):
//!
//! ```text
//! sim_l(a, b) = exp(−‖φ_l(a) − φ_l(b)‖² / (2σ²·n_l)),   n_l = C_l·H_l·W_l (per sample)
//! L = Σ_l ω_l · mean_b[ (1 − sim_l(out_b, gt_b)) / (1 − sim_l(out_b, hazy_b) + ε) ]
//! ```
//!
//! with ω = (1/32, 1/16, 1/8, 1/4, 1). The ratio is taken per sample, then averaged over the
//! batch. Dividing the squared distance by n_l makes σ the scale of a *per-element* feature
//! difference, comparable across layers; the kernel saturates (gradient → 0) once that
//! mean squared difference is many times 2σ², so σ should match the feature scale of the
//! extractor in use (default 1). ε defaults to 10⁻³, larger than the usual 10⁻⁷: a restorer
//! initialised near the identity starts with out ≈ hazy, where a tiny ε would make the ratio
//! explode; with 10⁻³ it is at most 1000·(1 − sim_pos). Gradients flow to `out` only.

use burn::tensor::Tensor;

use super::features::FeatureExtractor;
use super::{assert_same_shape, LAYER_WEIGHTS};

/// The Gaussian perceptual contrastive loss.
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianContrastive {
    /// ω_l for relu1_1…relu5_1.
    pub layer_weights: [f64; 5],
    /// σ, the kernel width on per-element feature differences.
    pub sigma: f64,
    /// ε of the denominator.
    pub eps: f64,
}

impl Default for GaussianContrastive {
    fn default() -> Self {
        Self {
            layer_weights: LAYER_WEIGHTS,
            sigma: 1.0,
            eps: 1e-3,
        }
    }
}

impl GaussianContrastive {
    /// The loss of `output` (anchor) against `target` (positive) and `hazy` (negative), all
    /// `[N, 3, H, W]` in [0, 1]; shape `[1]`.
    pub fn forward(
        &self,
        features: &FeatureExtractor,
        output: Tensor<4>,
        target: Tensor<4>,
        hazy: Tensor<4>,
    ) -> Tensor<1> {
        assert_same_shape("Gaussian contrastive (output vs target)", &output, &target);
        assert_same_shape("Gaussian contrastive (output vs hazy)", &output, &hazy);
        let fo = features.forward(output);
        let fg = features.forward(target.detach());
        let fh = features.forward(hazy.detach());
        let two_sigma2 = 2.0 * self.sigma * self.sigma;
        let mut total: Option<Tensor<1>> = None;
        for (l, &omega) in self.layer_weights.iter().enumerate() {
            if omega == 0.0 {
                continue;
            }
            let [n, c, h, w] = fo[l].dims();
            let n_l = (c * h * w) as f64;
            let sim = |other: &Tensor<4>| {
                let d = fo[l].clone() - other.clone().detach();
                (d.clone() * d)
                    .reshape([n, c * h * w])
                    .sum_dim(1)
                    .reshape([n])
                    .div_scalar(n_l * two_sigma2)
                    .neg()
                    .exp()
            };
            let pos = sim(&fg[l]).neg().add_scalar(1.0);
            let neg = sim(&fh[l]).neg().add_scalar(1.0 + self.eps);
            let term = (pos / neg).mean().mul_scalar(omega);
            total = Some(match total {
                Some(t) => t + term,
                None => term,
            });
        }
        total.unwrap_or_else(|| Tensor::zeros([1], &fo[0].device()))
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

    /// σ and ε of tools/losses_reference.py (GAUSS_SIGMA, GAUSS_EPS).
    fn as_in_reference() -> GaussianContrastive {
        GaussianContrastive {
            sigma: 0.5,
            eps: 1e-3,
            ..GaussianContrastive::default()
        }
    }

    #[test]
    fn matches_pytorch_value_and_gradient() {
        let r = Reference::load();
        let fx = tiny();
        let loss = as_in_reference();
        let out: Tensor<4> = r.tensor("out", &cpu());
        let gt: Tensor<4> = r.tensor("gt", &cpu());
        let hazy: Tensor<4> = r.tensor("hazy", &cpu());
        let v = host(loss.forward(&fx, out.clone(), gt.clone(), hazy.clone()));
        assert_close("gaussian", &v, r.values("expected_gaussian"), 1e-4, 0.0);
        let g = host(input_grad(out, |x| {
            loss.forward(&fx, x, gt.clone(), hazy.clone())
        }));
        assert_grad_close(
            "gaussian grad",
            &g,
            r.values("expected_gaussian_grad"),
            1e-3,
            1e-4,
        );
    }

    #[test]
    fn hand_computed_limits() {
        // out = gt: every 1 − sim_pos is 0, so the loss is exactly 0.
        // out = hazy: 1 − sim_neg = 0, each layer's ratio is (1 − sim_pos)/ε.
        let r = Reference::load();
        let fx = tiny();
        let loss = as_in_reference();
        let gt: Tensor<4> = r.tensor("gt", &cpu());
        let hazy: Tensor<4> = r.tensor("hazy", &cpu());
        assert_eq!(
            host(loss.forward(&fx, gt.clone(), gt.clone(), hazy.clone())),
            [0.0]
        );
        let v = host(loss.forward(&fx, hazy.clone(), gt.clone(), hazy.clone()))[0];
        // Σ ω_l·(1 − sim)/ε ≤ Σ ω_l / ε = (1/32 + 1/16 + 1/8 + 1/4 + 1)/1e-3 = 1468.75.
        assert!(v > 10.0 && v <= 1468.75 + 1e-3, "{v}");
    }
}
