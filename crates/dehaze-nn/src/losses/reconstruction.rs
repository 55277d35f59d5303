//! Pixel reconstruction losses: L1 and Charbonnier, optionally weighted per patch (spec §2.2).
//!
//! Per pixel the error is `e = |J − G|` (L1) or `e = sqrt((J − G)² + ε²)` (Charbonnier, a
//! smooth L1 with ε = 10⁻³ whose gradient is defined at J = G). The loss of sample `b` is the
//! mean of `e` over its channels and pixels; the batch loss is the mean over samples.
//!
//! DHR weights the per-patch error by its importance map `w` of shape `[N, 1, H/P, W/P]`
//! (`w_p = N_p·softmax(ρ_p/τ)`, so the weights of one image average 1):
//!
//! ```text
//! L_b = (1/N_p) · Σ_p w_p · ‖J_p − G_p‖₁,   ‖J_p − G_p‖₁ = mean of e over the 3·P² values of patch p
//! ```
//!
//! We take ‖·‖₁ of a patch as its *mean* error so that uniform weights (w ≡ 1) give exactly the
//! unweighted loss. It is computed by upsampling `w` to H×W with nearest-neighbour repetition
//! and averaging `w·e` over all values, which equals the formula above because all patches have
//! the same size. Gradients reach the importance map too; a trainer that wants the weights to
//! act only as a fixed emphasis passes `importance.detach()`.

use burn::tensor::Tensor;

use super::assert_same_shape;

/// Which per-pixel error the reconstruction term uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reconstruction {
    /// `|J − G|`.
    L1,
    /// `sqrt((J − G)² + ε²)`.
    Charbonnier {
        /// ε, in the units of the images ([0, 1]).
        eps: f64,
    },
}

impl Reconstruction {
    /// The usual Charbonnier ε for images in [0, 1].
    pub const CHARBONNIER_EPS: f64 = 1e-3;

    /// Charbonnier with ε = [`Self::CHARBONNIER_EPS`].
    pub fn charbonnier() -> Self {
        Self::Charbonnier {
            eps: Self::CHARBONNIER_EPS,
        }
    }

    /// The loss of every sample, `[N]`: the (importance-weighted) mean error over its values.
    ///
    /// `output`, `target`: `[N, C, H, W]`; `importance`: `[N, 1, h, w]` with `H = h·P_h`,
    /// `W = w·P_w` (panics otherwise).
    pub fn per_sample(
        &self,
        output: Tensor<4>,
        target: Tensor<4>,
        importance: Option<Tensor<4>>,
    ) -> Tensor<1> {
        assert_same_shape("reconstruction loss (output vs target)", &output, &target);
        let [n, c, h, w] = output.dims();
        let diff = output - target;
        let err = match *self {
            Self::L1 => diff.abs(),
            Self::Charbonnier { eps } => (diff.clone() * diff).add_scalar(eps * eps).sqrt(),
        };
        let err = match importance {
            Some(imp) => err * upsample_nearest(imp, h, w).expand([n, c, h, w]),
            None => err,
        };
        err.reshape([n, c * h * w]).mean_dim(1).reshape([n])
    }

    /// The batch loss: the mean of [`Self::per_sample`], shape `[1]`.
    pub fn loss(
        &self,
        output: Tensor<4>,
        target: Tensor<4>,
        importance: Option<Tensor<4>>,
    ) -> Tensor<1> {
        self.per_sample(output, target, importance).mean()
    }
}

/// Repeats every value of a `[N, 1, h, w]` map over a `(H/h)×(W/w)` block: nearest-neighbour
/// upsampling by an integer factor, exact and differentiable.
pub fn upsample_nearest(map: Tensor<4>, height: usize, width: usize) -> Tensor<4> {
    let [n, one, h, w] = map.dims();
    assert_eq!(one, 1, "importance map must have one channel, got {one}");
    assert!(
        h > 0 && w > 0 && height.is_multiple_of(h) && width.is_multiple_of(w),
        "importance map {h}x{w} does not tile a {height}x{width} image in whole patches"
    );
    let (ph, pw) = (height / h, width / w);
    map.reshape([n, h, 1, w, 1])
        .expand([n, h, ph, w, pw])
        .reshape([n, 1, height, width])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::cpu;
    use crate::losses::test_util::*;
    use burn::tensor::TensorData;

    #[test]
    fn hand_computed_two_pixels() {
        let dev = cpu();
        // One sample, one channel, 1x2 pixels: J = [0.5, 0.2], G = [0.1, 0.2].
        let j = Tensor::<4>::from_data(TensorData::new(vec![0.5f32, 0.2], [1, 1, 1, 2]), &dev);
        let g = Tensor::<4>::from_data(TensorData::new(vec![0.1f32, 0.2], [1, 1, 1, 2]), &dev);
        // L1: (0.4 + 0) / 2 = 0.2.
        let l1 = host(Reconstruction::L1.loss(j.clone(), g.clone(), None));
        assert_close("l1", &l1, &[0.2], 1e-6, 1e-7);
        // Charbonnier: (sqrt(0.16 + 1e-6) + sqrt(1e-6)) / 2 = (0.40000125 + 0.001) / 2.
        let ch = host(Reconstruction::charbonnier().loss(j.clone(), g.clone(), None));
        assert_close("charbonnier", &ch, &[0.200_500_625], 1e-6, 1e-7);
        // Importance [1.5, 0.5] on 1x1 patches: (1.5·0.4 + 0.5·0) / 2 = 0.3.
        let w = Tensor::<4>::from_data(TensorData::new(vec![1.5f32, 0.5], [1, 1, 1, 2]), &dev);
        let lw = host(Reconstruction::L1.loss(j, g, Some(w)));
        assert_close("weighted l1", &lw, &[0.3], 1e-6, 1e-7);
    }

    #[test]
    fn uniform_importance_equals_unweighted() {
        let dev = cpu();
        let r = Reference::load();
        let out: Tensor<4> = r.tensor("out", &dev);
        let gt: Tensor<4> = r.tensor("gt", &dev);
        let ones = Tensor::<4>::ones([2, 1, 4, 2], &dev);
        for loss in [Reconstruction::L1, Reconstruction::charbonnier()] {
            let plain = host(loss.per_sample(out.clone(), gt.clone(), None));
            let uniform = host(loss.per_sample(out.clone(), gt.clone(), Some(ones.clone())));
            assert_close("uniform importance", &uniform, &plain, 1e-6, 0.0);
        }
    }

    #[test]
    fn matches_pytorch_reference() {
        let dev = cpu();
        let r = Reference::load();
        let out: Tensor<4> = r.tensor("out", &dev);
        let gt: Tensor<4> = r.tensor("gt", &dev);
        let imp: Tensor<4> = r.tensor("importance", &dev);
        for (name, loss) in [
            ("l1", Reconstruction::L1),
            ("charbonnier", Reconstruction::charbonnier()),
        ] {
            let ps = host(loss.per_sample(out.clone(), gt.clone(), None));
            assert_close(
                name,
                &ps,
                r.values(&format!("expected_{name}_per_sample")),
                1e-5,
                1e-7,
            );
            let l = host(loss.loss(out.clone(), gt.clone(), None));
            assert_close(name, &l, r.values(&format!("expected_{name}")), 1e-5, 1e-7);
            let psw = host(loss.per_sample(out.clone(), gt.clone(), Some(imp.clone())));
            let key = format!("expected_{name}_weighted_per_sample");
            assert_close(name, &psw, r.values(&key), 1e-5, 1e-7);
        }
    }

    #[test]
    fn upsampling_repeats_blocks() {
        let dev = cpu();
        let m = Tensor::<4>::from_data(TensorData::new(vec![1f32, 2., 3., 4.], [1, 1, 2, 2]), &dev);
        let up = host(upsample_nearest(m, 4, 6));
        #[rustfmt::skip]
        let expected = [
            1., 1., 1., 2., 2., 2.,
            1., 1., 1., 2., 2., 2.,
            3., 3., 3., 4., 4., 4.,
            3., 3., 3., 4., 4., 4.,
        ];
        assert_close("upsampled", &up, &expected, 0.0, 0.0);
    }

    #[test]
    #[should_panic(expected = "whole patches")]
    fn rejects_importance_that_does_not_tile() {
        let dev = cpu();
        let x = Tensor::<4>::zeros([1, 3, 10, 10], &dev);
        let imp = Tensor::<4>::ones([1, 1, 3, 3], &dev);
        let _ = Reconstruction::L1.loss(x.clone(), x, Some(imp));
    }

    #[test]
    fn gradients_reach_output_and_importance() {
        let dev = cpu();
        let r = Reference::load();
        let out: Tensor<4> = r.tensor("out", &dev);
        let gt: Tensor<4> = r.tensor("gt", &dev);
        let imp: Tensor<4> = r.tensor("importance", &dev);
        for loss in [Reconstruction::L1, Reconstruction::charbonnier()] {
            let g = input_grad(out.clone(), |x| loss.loss(x, gt.clone(), Some(imp.clone())));
            assert_finite_nonzero("output grad", &host(g));
            let gi = input_grad(imp.clone(), |w| loss.loss(out.clone(), gt.clone(), Some(w)));
            assert_finite_nonzero("importance grad", &host(gi));
        }
        // Charbonnier's gradient is finite even where J = G (L1's subgradient there is 0).
        let g = input_grad(gt.clone(), |x| {
            Reconstruction::charbonnier().loss(x, gt.clone(), None)
        });
        assert!(host(g).iter().all(|v| v.is_finite()));
    }
}
