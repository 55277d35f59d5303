//! KA-Net's sample reweighting (spec §1.3 (b), our StableNet-style design; the paper's
//! "weighting matrix of training samples" is not released).
//!
//! Goal: per batch, find sample weights under which the dimensions of the bottleneck feature
//! `z` (`[B, C]`, KA-Net's pooled 512-d feature) are as independent as possible, then weight
//! the per-sample restoration loss with them, so that the network cannot lean on spurious
//! correlations carried by a few samples.
//!
//! 1. **Random Fourier features.** Each dimension of `z` is standardised over the batch
//!    (`ẑ = (z − mean)/std`, so the features do not depend on z's scale) and mapped through R
//!    random functions `u_{c,r}(ẑ) = √2·cos(a_{c,r}·ẑ_c + b_{c,r})`, `a ~ N(0, 1)`,
//!    `b ~ U[0, 2π)`, drawn on the host from ChaCha8 seeded by `(seed, draw)`. Independence of
//!    the RFF of two dimensions (not just zero linear correlation) is what decorrelating them
//!    targets.
//! 2. **Weighted cross-covariance.** With sample probabilities `p = softmax(ω)` (Σp = 1),
//!    centred features `ũ_b = u_b − Σ_a p_a u_a` and `Cov_{ij} = Σ_b p_b ũ_{b,i} ũ_{b,j}ᵀ` (the
//!    R×R block between dimensions i and j),
//!
//!    ```text
//!    dec(p) = Σ_{i≠j} ‖Cov_ij‖_F² / (C(C−1))
//!           = pᵀ (K∘K − Σ_c K_c∘K_c) p / (C(C−1)),   K = ŨŨᵀ, K_c = Ũ_cŨ_cᵀ  (B×B)
//!    ```
//!
//!    The second form (from ‖ŨᵀPŨ‖_F² = tr(PKPK)) costs O(B²·C·R) and B×B memory instead of
//!    the (C·R)² covariance matrix (2560² for C = 512, R = 5).
//! 3. **Inner optimisation.** ω starts at 0 (uniform weights) and takes a few Adam steps on
//!
//!    ```text
//!    J(p) = dec(p)/dec(uniform) + λ·B·‖p‖²
//!    ```
//!
//!    on a detached copy of z (the network's graph is untouched). Normalising by the uniform
//!    batch's value makes λ scale-free; `B·‖p‖² = mean(w²) = 1 + Var(w)` for the mean-1
//!    weights `w = B·p`, so λ prices the spread of the weights. The penalty matters: putting all
//!    weight on one sample makes every covariance zero, a degenerate optimum it rules out.
//! 4. **Output**: `w = B·softmax(ω)` — positive, detached, **summing to B** (mean 1), so that
//!    [`weighted_loss`] `= mean_b(w_b·ℓ_b)` equals the plain mean for uniform weights and keeps
//!    the loss scale (and learning rate) unchanged.
//!
//! StableNet also keeps a memory of features from earlier batches; per the spec we reweight each
//! batch on its own.

use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal, Uniform};

/// StableNet-style sample reweighting of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleReweighting {
    /// R, random Fourier features per dimension of z.
    pub rff_features: usize,
    /// Inner Adam steps on ω.
    pub steps: usize,
    /// Inner Adam learning rate.
    pub learning_rate: f64,
    /// λ, the weight of `B·‖p‖²`.
    pub lambda: f64,
    /// Seed of the random Fourier features.
    pub seed: u64,
}

impl Default for SampleReweighting {
    fn default() -> Self {
        Self {
            rff_features: 5,
            steps: 20,
            learning_rate: 0.05,
            lambda: 1.0,
            seed: 0x5354_4142_4C45_4E54, // "STABLENT"
        }
    }
}

impl SampleReweighting {
    /// The sample weights `[B]` for the batch of bottleneck features `z` (`[B, C]`): positive,
    /// summing to B, detached (no gradient reaches z or the network). `draw` picks the random
    /// Fourier features (pass the training step for fresh but reproducible ones).
    /// A batch of one sample, or of one dimension, gets weight 1.
    pub fn weights(&self, z: Tensor<2>, draw: u64) -> Tensor<1> {
        let [b, c] = z.dims();
        let was_autodiff = z.is_autodiff();
        let z = z.detach().without_autodiff();
        let device = z.device();
        let out = if b < 2 || c < 2 {
            Tensor::ones([b], &device)
        } else {
            self.optimise(self.random_fourier_features(z, draw))
                .mul_scalar(b as f64)
        };
        if was_autodiff {
            out.autodiff()
        } else {
            out
        }
    }

    /// Random Fourier features `[B, C, R]` of the batch-standardised `z` (`[B, C]`).
    pub fn random_fourier_features(&self, z: Tensor<2>, draw: u64) -> Tensor<3> {
        let [b, c] = z.dims();
        let device = z.device();
        let (var, mean) = z.clone().var_mean_bias(0);
        let z = (z - mean) / var.add_scalar(1e-12).sqrt();
        let (freq, phase) = self.rff_parameters(c, draw, &device);
        (z.reshape([b, c, 1]) * freq + phase)
            .cos()
            .mul_scalar(std::f64::consts::SQRT_2)
    }

    /// `(a, b)`, each `[1, C, R]`.
    fn rff_parameters(&self, c: usize, draw: u64, device: &Device) -> (Tensor<3>, Tensor<3>) {
        let key = dehaze_core::synth::rng::splitmix64(
            self.seed ^ dehaze_core::synth::rng::splitmix64(draw),
        );
        let mut rng = ChaCha8Rng::seed_from_u64(key);
        let n = c * self.rff_features;
        let freq: Vec<f32> = (0..n)
            .map(|_| StandardNormal.sample(&mut rng))
            .collect::<Vec<f64>>()
            .into_iter()
            .map(|v| v as f32)
            .collect();
        let uniform = Uniform::new(0.0, std::f64::consts::TAU).expect("valid range");
        let phase: Vec<f32> = (0..n).map(|_| uniform.sample(&mut rng) as f32).collect();
        let shape = [1, c, self.rff_features];
        (
            Tensor::from_data(TensorData::new(freq, shape), device),
            Tensor::from_data(TensorData::new(phase, shape), device),
        )
    }

    /// Adam on ω from 0; returns `p = softmax(ω)` (sums to 1), without autodiff.
    fn optimise(&self, features: Tensor<3>) -> Tensor<1> {
        let [b, _, _] = features.dims();
        let device = features.device();
        let uniform = Tensor::<1>::full([b], 1.0 / b as f64, &device);
        let baseline: f64 = decorrelation(features.clone(), uniform.clone()).into_scalar();
        // Nothing to decorrelate (or a non-finite value we must not optimise on).
        if baseline.is_nan() || baseline <= 1e-12 {
            return uniform;
        }
        let features = features.autodiff();
        let (beta1, beta2, adam_eps) = (0.9f64, 0.999f64, 1e-8);
        let mut omega = Tensor::<1>::zeros([b], &device);
        let mut m = Tensor::<1>::zeros([b], &device);
        let mut v = Tensor::<1>::zeros([b], &device);
        for step in 1..=self.steps {
            let leaf = omega.clone().autodiff().require_grad();
            let p = softmax(leaf.clone(), 0);
            let objective = self.objective(features.clone(), p, baseline);
            let grads = objective.backward();
            let g = leaf
                .grad(&grads)
                .expect("ω receives a gradient")
                .without_autodiff();
            m = m.mul_scalar(beta1) + g.clone().mul_scalar(1.0 - beta1);
            v = v.mul_scalar(beta2) + (g.clone() * g).mul_scalar(1.0 - beta2);
            let m_hat = m.clone().div_scalar(1.0 - beta1.powi(step as i32));
            let v_hat = v.clone().div_scalar(1.0 - beta2.powi(step as i32));
            omega =
                omega - (m_hat / v_hat.sqrt().add_scalar(adam_eps)).mul_scalar(self.learning_rate);
        }
        softmax(omega, 0)
    }

    /// `J(p) = dec(p)/baseline + λ·B·‖p‖²` for probabilities `p` (`[B]`, Σp = 1).
    pub fn objective(&self, features: Tensor<3>, p: Tensor<1>, baseline: f64) -> Tensor<1> {
        let [b] = p.dims();
        decorrelation(features, p.clone()).div_scalar(baseline)
            + (p.clone() * p).sum().mul_scalar(self.lambda * b as f64)
    }
}

/// The weighted cross-covariance between the RFF of different dimensions,
/// `Σ_{i≠j} ‖Cov_ij‖_F² / (C(C−1))`, for features `[B, C, R]` and probabilities `p` (`[B]`,
/// Σp = 1); shape `[1]`.
pub fn decorrelation(features: Tensor<3>, p: Tensor<1>) -> Tensor<1> {
    let [b, c, r] = features.dims();
    assert_eq!(p.dims(), [b], "one weight per sample");
    if c < 2 {
        return Tensor::zeros([1], &features.device());
    }
    let mean = (features.clone() * p.clone().reshape([b, 1, 1])).sum_dim(0);
    let centred = features - mean;
    let flat = centred.clone().reshape([b, c * r]);
    let k = flat.clone().matmul(flat.transpose());
    let per_dim = centred.swap_dims(0, 1); // [C, B, R]
    let k_c = per_dim.clone().matmul(per_dim.swap_dims(1, 2)); // [C, B, B]
    let q = k.clone() * k - (k_c.clone() * k_c).sum_dim(0).reshape([b, b]);
    p.clone()
        .reshape([1, b])
        .matmul(q)
        .matmul(p.reshape([b, 1]))
        .reshape([1])
        .div_scalar((c * (c - 1)) as f64)
}

/// `mean_b(w_b·ℓ_b)` for per-sample losses `ℓ` and weights `w` (both `[B]`; with weights
/// summing to B this is `Σ_b w_b·ℓ_b / B`); shape `[1]`.
pub fn weighted_loss(per_sample_losses: Tensor<1>, weights: Tensor<1>) -> Tensor<1> {
    assert_eq!(
        per_sample_losses.dims(),
        weights.dims(),
        "weighted_loss: one weight per sample"
    );
    (per_sample_losses * weights).mean()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::cpu;
    use crate::losses::test_util::*;
    use rand_distr::Normal;

    /// B samples of C independent N(0, 1) dimensions, except sample 0 which carries a strongly
    /// correlated pattern: every dimension at +3.
    fn batch_with_correlated_outlier(b: usize, c: usize, seed: u64) -> Tensor<2> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let normal = Normal::new(0.0, 1.0).unwrap();
        let mut z: Vec<f32> = (0..b * c).map(|_| normal.sample(&mut rng) as f32).collect();
        for v in z.iter_mut().take(c) {
            *v = 3.0;
        }
        Tensor::from_data(TensorData::new(z, [b, c]), &cpu())
    }

    #[test]
    fn gram_form_equals_the_direct_off_diagonal_sum() {
        // Direct f64 computation of Σ_{i≠j} ‖Cov_ij‖² / (C(C−1)) on a small case.
        let (b, c, r) = (5, 3, 2);
        let feats: Vec<f64> = (0..b * c * r)
            .map(|i| ((i * 37 % 11) as f64 - 5.0) / 4.0)
            .collect();
        let p = [0.1, 0.3, 0.2, 0.25, 0.15];
        let at = |bb: usize, cc: usize, rr: usize| feats[(bb * c + cc) * r + rr];
        let mut mean = vec![0.0; c * r];
        for (bb, pb) in p.iter().enumerate() {
            for (i, m) in mean.iter_mut().enumerate() {
                *m += pb * at(bb, i / r, i % r);
            }
        }
        let mut direct = 0.0;
        for i in 0..c * r {
            for j in 0..c * r {
                if i / r == j / r {
                    continue;
                }
                let cov: f64 = (0..b)
                    .map(|bb| {
                        p[bb] * (at(bb, i / r, i % r) - mean[i]) * (at(bb, j / r, j % r) - mean[j])
                    })
                    .sum();
                direct += cov * cov;
            }
        }
        direct /= (c * (c - 1)) as f64;
        let dev = cpu();
        let f32s: Vec<f32> = feats.iter().map(|&v| v as f32).collect();
        let ft = Tensor::<3>::from_data(TensorData::new(f32s, [b, c, r]), &dev);
        let pt = Tensor::<1>::from_floats(p.map(|v| v as f32), &dev);
        let got = host(decorrelation(ft, pt));
        assert_close("decorrelation", &got, &[direct], 1e-5, 1e-9);
    }

    #[test]
    fn weights_reduce_the_decorrelation_objective() {
        let (b, c) = (16, 8);
        let z = batch_with_correlated_outlier(b, c, 11);
        let rw = SampleReweighting::default();
        let w = rw.weights(z.clone(), 0);
        let wv = host(w.clone());
        assert_eq!(wv.len(), b);
        assert!(wv.iter().all(|&x| x > 0.0), "weights positive: {wv:?}");
        let sum: f64 = wv.iter().sum();
        assert!((sum - b as f64).abs() < 1e-4, "weights sum to B: {sum}");

        let feats = rw.random_fourier_features(z, 0);
        let uniform = Tensor::<1>::full([b], 1.0 / b as f64, &cpu());
        let dec_u = host(decorrelation(feats.clone(), uniform.clone()))[0];
        let p = w.div_scalar(b as f64);
        let dec_w = host(decorrelation(feats.clone(), p.clone()))[0];
        assert!(dec_w < 0.9 * dec_u, "decorrelation {dec_u} -> {dec_w}");
        let j_u = host(rw.objective(feats.clone(), uniform, dec_u))[0];
        let j_w = host(rw.objective(feats, p, dec_u))[0];
        assert!(j_w < j_u, "objective {j_u} -> {j_w}");
        // The correlated sample is the one that loses weight.
        let min = wv.iter().cloned().fold(f64::INFINITY, f64::min);
        assert_eq!(wv[0], min, "outlier weight {} vs {wv:?}", wv[0]);
        assert!(wv[0] < 0.8, "outlier weight {}", wv[0]);
    }

    #[test]
    fn weights_are_reproducible_and_detached() {
        let z = batch_with_correlated_outlier(8, 6, 3)
            .autodiff()
            .require_grad();
        let rw = SampleReweighting::default();
        let a = rw.weights(z.clone(), 5);
        assert!(!a.is_require_grad());
        assert_eq!(host(a), host(rw.weights(z.clone(), 5)));
        // A batch of one sample gets weight 1.
        let one = rw.weights(z.slice([0..1, 0..6]), 0);
        assert_eq!(host(one), [1.0]);
    }

    #[test]
    fn weighted_loss_is_the_weighted_mean_and_differentiable() {
        let dev = cpu();
        let losses = Tensor::<1>::from_floats([1.0, 2.0, 4.0], &dev);
        let w = Tensor::<1>::from_floats([0.5, 1.0, 1.5], &dev);
        // (0.5·1 + 1·2 + 1.5·4)/3 = 8.5/3.
        assert_close(
            "weighted",
            &host(weighted_loss(losses.clone(), w.clone())),
            &[8.5 / 3.0],
            1e-6,
            0.0,
        );
        let l = losses.autodiff().require_grad();
        let grads = weighted_loss(l.clone(), w).backward();
        // d/dℓ_b = w_b / B.
        assert_close(
            "grad",
            &host(l.grad(&grads).unwrap()),
            &[0.5 / 3.0, 1.0 / 3.0, 1.5 / 3.0],
            1e-6,
            0.0,
        );
    }
}
