//! Training losses of both systems (spec §1.3, §2.2–2.3), written once for any Burn device and
//! differentiable with respect to the restored image.
//!
//! * [`reconstruction`]: L1 and Charbonnier, optionally weighted by DHR's per-patch importance.
//! * [`features`]: the frozen VGG19-topology feature extractor (relu1_1…relu5_1), loaded from a
//!   user-supplied torchvision file or, without one, a seeded random stand-in that says so.
//! * [`spectrum`]: the exact 2-D DFT of any image size as matrix products (for MNCD's frequency
//!   term).
//! * [`mncd`]: API's Multi-Negative Contrastive Dehazing loss and the total
//!   `L = L_rec + 0.1·L_spatial + 0.1·L_freq`.
//! * [`contrastive`]: KA-Net's Gaussian perceptual contrastive loss.
//! * [`priors`]: PSD's physical-prior losses (dark channel, bright channel, CLAHE
//!   reconstruction) for real hazy images without ground truth.
//! * [`reweighting`]: KA-Net's StableNet-style sample weights on the bottleneck feature `z`, and
//!   the weighted per-sample loss they feed.
//!
//! Every loss returns a one-element tensor (Burn's reduction shape) on the device of its
//! inputs; call `backward()` on it (or on a sum of them) on an autodiff device. Targets,
//! negatives and the feature extractor's weights never receive gradients. The reference values
//! of the tests come from `tools/losses_reference.py` (PyTorch, float64), stored in
//! `tests/fixtures/losses/`.

pub mod contrastive;
pub mod features;
pub mod mncd;
pub mod priors;
pub mod reconstruction;
pub mod reweighting;
pub mod spectrum;

pub use contrastive::GaussianContrastive;
pub use features::{FeatureExtractor, FeatureMaps, FeatureSource, VggWidths};
pub use mncd::{MncdConfig, MncdInputs, MncdLoss, MncdTerms};
pub use reconstruction::Reconstruction;
pub use reweighting::{weighted_loss, SampleReweighting};

/// Layer weights ω_l for relu1_1…relu5_1, as in AECR-Net's contrastive regularisation: deeper,
/// more semantic layers count more.
pub const LAYER_WEIGHTS: [f64; 5] = [1.0 / 32.0, 1.0 / 16.0, 1.0 / 8.0, 1.0 / 4.0, 1.0];

/// Mean of the absolute difference over every element: the distance `D` of the contrastive
/// ratios.
pub(crate) fn mean_abs_diff<const D: usize>(
    a: burn::Tensor<D>,
    b: burn::Tensor<D>,
) -> burn::Tensor<1> {
    (a - b).abs().mean()
}

/// Panics with a message naming `what` unless both shapes agree.
pub(crate) fn assert_same_shape<const D: usize>(
    what: &str,
    a: &burn::Tensor<D>,
    b: &burn::Tensor<D>,
) {
    assert_eq!(
        a.dims(),
        b.dims(),
        "{what}: shapes differ ({:?} vs {:?})",
        a.dims(),
        b.dims()
    );
}

#[cfg(test)]
pub(crate) mod test_util {
    //! Reading the PyTorch reference fixture and checking values and gradients.

    use std::collections::HashMap;
    use std::path::PathBuf;

    use burn::tensor::{Device, Tensor, TensorData};
    use safetensors::{Dtype, SafeTensors};

    /// A file under `tests/fixtures/losses/`.
    pub fn fixture_path(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/losses")
            .join(name)
    }

    /// All tensors of `reference.safetensors`, as f64 on the host.
    pub struct Reference {
        tensors: HashMap<String, (Vec<usize>, Vec<f64>)>,
    }

    impl Reference {
        pub fn load() -> Self {
            let path = fixture_path("reference.safetensors");
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let st = SafeTensors::deserialize(&bytes).expect("reference fixture parses");
            let tensors = st
                .iter()
                .map(|(name, view)| {
                    let values: Vec<f64> = match view.dtype() {
                        Dtype::F32 => view
                            .data()
                            .chunks_exact(4)
                            .map(|c| f32::from_le_bytes(c.try_into().unwrap()) as f64)
                            .collect(),
                        Dtype::F64 => view
                            .data()
                            .chunks_exact(8)
                            .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                            .collect(),
                        other => panic!("{name}: unexpected dtype {other:?}"),
                    };
                    (name.to_string(), (view.shape().to_vec(), values))
                })
                .collect();
            Self { tensors }
        }

        pub fn values(&self, name: &str) -> &[f64] {
            &self
                .tensors
                .get(name)
                .unwrap_or_else(|| panic!("no tensor {name} in the reference fixture"))
                .1
        }

        pub fn tensor<const D: usize>(&self, name: &str, device: &Device) -> Tensor<D> {
            let (shape, values) = self
                .tensors
                .get(name)
                .unwrap_or_else(|| panic!("no tensor {name} in the reference fixture"));
            assert_eq!(shape.len(), D, "{name} has rank {}", shape.len());
            let data: Vec<f32> = values.iter().map(|&v| v as f32).collect();
            Tensor::from_data(TensorData::new(data, shape.clone()), device)
        }
    }

    /// The values of a tensor as f64.
    pub fn host<const D: usize>(t: Tensor<D>) -> Vec<f64> {
        t.into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .expect("f32 data")
            .into_iter()
            .map(f64::from)
            .collect()
    }

    /// Asserts `|a − e| ≤ atol + rtol·|e|` element-wise, naming the first failure.
    pub fn assert_close(what: &str, actual: &[f64], expected: &[f64], rtol: f64, atol: f64) {
        assert_eq!(actual.len(), expected.len(), "{what}: lengths differ");
        for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
            assert!(
                (a - e).abs() <= atol + rtol * e.abs(),
                "{what}[{i}]: got {a}, expected {e} (rtol {rtol}, atol {atol})"
            );
        }
    }

    /// Asserts a gradient against its reference: finite, not all zero, and
    /// `|a − e| ≤ rtol·|e| + atol_of_max·max|e|` element-wise (an absolute floor relative to
    /// the largest reference value, since gradients near zero carry only rounding).
    pub fn assert_grad_close(
        what: &str,
        actual: &[f64],
        expected: &[f64],
        rtol: f64,
        atol_of_max: f64,
    ) {
        assert_finite_nonzero(what, actual);
        let scale = expected.iter().fold(0f64, |m, v| m.max(v.abs()));
        assert_close(what, actual, expected, rtol, atol_of_max * scale);
    }

    /// Gradient of `loss(x)` with respect to `x`, computed on the autodiff version of `x`'s
    /// device. Panics if no gradient reaches `x`.
    pub fn input_grad(x: Tensor<4>, loss: impl FnOnce(Tensor<4>) -> Tensor<1>) -> Tensor<4> {
        let x = x.autodiff().require_grad();
        let l = loss(x.clone());
        let grads = l.backward();
        x.grad(&grads).expect("a gradient reaches the input")
    }

    /// Asserts every gradient value is finite and at least one is non-zero.
    pub fn assert_finite_nonzero(what: &str, grad: &[f64]) {
        assert!(
            grad.iter().all(|g| g.is_finite()),
            "{what}: non-finite gradient"
        );
        assert!(grad.iter().any(|&g| g != 0.0), "{what}: all-zero gradient");
    }
}
