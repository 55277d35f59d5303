//! The frozen feature network φ of the perceptual and contrastive losses (spec "Feature
//! extractor"): VGG19's convolutional stack up to relu5_1, with outputs relu1_1, relu2_1,
//! relu3_1, relu4_1 and relu5_1.
//!
//! Topology (torchvision's `vgg19().features[:30]`): 3×3 convolutions with zero padding 1, each
//! followed by ReLU, in five stages of 2, 2, 4, 4 and 1 convolutions of widths 64, 128, 256, 512,
//! 512, with 2×2 max pooling between stages. The input, an RGB image in [0, 1], is first
//! normalised with the ImageNet mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225), as
//! the weights expect. H and W must be at least 16 (four poolings).
//!
//! Three sources of weights, and [`FeatureExtractor::describe`] always says which one is used:
//!
//! * **A file the user supplies**: torchvision's `vgg19` state dict converted to safetensors
//!   (keys `features.{0,2,5,7,10,12,14,16,19,21,23,25,28}.weight/bias`; other keys such as the
//!   classifier's are ignored). Widths are read from the file, so a reduced-width file with the
//!   same keys loads too (the tests use one).
//! * **Without a file, a seeded random extractor**: the same topology with He-normal weights
//!   (`std = sqrt(2/(9·C_in))`, zero biases), which keeps the activation variance roughly
//!   constant through the ReLU stack so that no layer's features vanish or explode and the
//!   layer weights ω_l keep their relative meaning. By default its widths are a quarter of
//!   VGG19's (16, 32, 64, 128, 128), about 16× cheaper: random filters carry no learned
//!   semantics, so the extra channels of the full width buy little beyond more random
//!   projections of the same local structure, and the cost matters for CPU training (four to
//!   six images per step go through φ). [`FeatureExtractor::seeded`] takes any widths,
//!   including [`VggWidths::VGG19`]. This is *not* a pretrained network and is never labelled
//!   one.
//! * **A DHR weights file** (one `dehaze train` wrote; told apart by its `dehaze.model = "dhr"`
//!   metadata): not VGG19 at all, but the frozen encoder of that network
//!   ([`Dhr::encoder_features`]: intro, three encoder stages, bottom, at scales 1, 1, 1/2,
//!   1/4, 1/8) in place of relu1_1…relu5_1, with the same layer weights. Our offline candidate
//!   for learned features (issue 10, point 4): a network trained on the synthetic task has
//!   filters that respond to haze and to image structure, where random filters respond to
//!   neither. Its input is the image in [0, 1] as the network was trained on it (no ImageNet
//!   normalisation); H and W must be multiples of the network's size multiple.
//!
//! Frozen: the VGG weights are plain tensors, not module parameters, and the DHR encoder's
//! parameters are taken out of autodiff (`Module::no_grad`), so no optimiser can update them and
//! backward never computes their gradients; gradients do flow through them to the input image.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::tensor::activation::relu;
use burn::tensor::module::{conv2d, max_pool2d};
use burn::tensor::ops::{ConvOptions, MaxPoolOptions};
use burn::tensor::{Device, Tensor, TensorData};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use safetensors::{Dtype, SafeTensors};

use crate::dhr::Dhr;
use crate::weights::{WeightsError, KEY_MODEL};

/// Names of the five outputs, in order.
pub const LAYER_NAMES: [&str; 5] = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"];

/// Indices of the 13 convolutions in torchvision's `vgg19().features`, up to conv5_1.
pub const VGG19_CONV_INDICES: [usize; 13] = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28];

/// Stage (0..5) of each convolution: its output width is `widths[stage]`.
const CONV_STAGE: [usize; 13] = [0, 0, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4];

const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

/// The five feature maps relu1_1…relu5_1, at scales 1, 1/2, 1/4, 1/8, 1/16.
pub type FeatureMaps = [Tensor<4>; 5];

/// Output channels of the five stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VggWidths(pub [usize; 5]);

impl VggWidths {
    /// VGG19's widths.
    pub const VGG19: Self = Self([64, 128, 256, 512, 512]);
    /// The default widths of the seeded extractor: a quarter of VGG19's.
    pub const SEEDED_DEFAULT: Self = Self([16, 32, 64, 128, 128]);
}

impl std::fmt::Display for VggWidths {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [a, b, c, d, e] = self.0;
        write!(f, "{a}/{b}/{c}/{d}/{e}")
    }
}

/// Where the extractor's weights came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeatureSource {
    /// Read from a user-supplied safetensors file of torchvision's vgg19 state dict.
    File {
        /// The file.
        path: PathBuf,
        /// The widths found in it.
        widths: VggWidths,
    },
    /// Seeded He-normal random weights (not pretrained).
    Seeded {
        /// The seed.
        seed: u64,
        /// The widths.
        widths: VggWidths,
    },
    /// The frozen encoder of the DHR network saved in this file.
    DhrEncoder {
        /// The file.
        path: PathBuf,
    },
}

/// One frozen 3×3 convolution.
#[derive(Debug, Clone)]
struct FrozenConv {
    weight: Tensor<4>,
    bias: Tensor<1>,
}

/// The frozen feature extractor φ.
#[derive(Debug, Clone)]
pub struct FeatureExtractor {
    backbone: Backbone,
    source: FeatureSource,
}

/// The network behind φ.
#[derive(Debug, Clone)]
enum Backbone {
    /// VGG19's topology.
    Vgg(Box<Vgg>),
    /// A DHR network's encoder, its parameters out of autodiff.
    DhrEncoder(Box<Dhr>),
}

/// VGG19's convolutions, with the ImageNet normalisation of the input.
#[derive(Debug, Clone)]
struct Vgg {
    convs: Vec<FrozenConv>,
    mean: Tensor<4>,
    std: Tensor<4>,
}

impl FeatureExtractor {
    /// The seed of [`Self::load_or_seeded`]'s fallback.
    pub const DEFAULT_SEED: u64 = 0x5647_4731_395F_5345; // "VGG19_SE"

    /// Loads the weights of a torchvision vgg19 state dict saved as safetensors (float32 or
    /// float64). The widths are read from the file and must follow VGG19's layout.
    pub fn from_vgg19_safetensors(path: &Path, device: &Device) -> Result<Self, WeightsError> {
        Self::vgg19_from_bytes(path, &read(path)?, device)
    }

    /// As [`Self::from_vgg19_safetensors`], the file's bytes already read (`path` names it).
    fn vgg19_from_bytes(path: &Path, bytes: &[u8], device: &Device) -> Result<Self, WeightsError> {
        let fail = |reason: String| WeightsError::file(path, reason);
        let st = SafeTensors::deserialize(bytes)
            .map_err(|e| fail(format!("not a safetensors file: {e}")))?;
        let mut widths = [0usize; 5];
        let mut convs = Vec::with_capacity(13);
        let mut c_in = 3;
        for (&idx, &stage) in VGG19_CONV_INDICES.iter().zip(&CONV_STAGE) {
            let (w_shape, w) = read_f32(&st, &format!("features.{idx}.weight")).map_err(fail)?;
            let (b_shape, b) = read_f32(&st, &format!("features.{idx}.bias")).map_err(fail)?;
            let c_out = w_shape.first().copied().unwrap_or(0);
            if widths[stage] == 0 {
                widths[stage] = c_out;
            }
            if w_shape != [widths[stage], c_in, 3, 3] || b_shape != [widths[stage]] || c_out == 0 {
                return Err(fail(format!(
                    "features.{idx}: weight {w_shape:?} / bias {b_shape:?} do not fit VGG19's \
                     layout (expected weight [{}, {c_in}, 3, 3] and bias [{}])",
                    widths[stage].max(1),
                    widths[stage].max(1)
                )));
            }
            convs.push(FrozenConv {
                weight: Tensor::from_data(TensorData::new(w, w_shape), device),
                bias: Tensor::from_data(TensorData::new(b, b_shape), device),
            });
            c_in = widths[stage];
        }
        Ok(Self::assemble(
            convs,
            FeatureSource::File {
                path: path.to_path_buf(),
                widths: VggWidths(widths),
            },
            device,
        ))
    }

    /// The seeded random extractor: VGG19's topology with the given widths, He-normal weights
    /// drawn from ChaCha8 seeded with `seed` (identical on every device), zero biases.
    pub fn seeded(widths: VggWidths, seed: u64, device: &Device) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut convs = Vec::with_capacity(13);
        let mut c_in = 3;
        for &stage in &CONV_STAGE {
            let c_out = widths.0[stage];
            assert!(c_out > 0, "feature widths must be positive, got {widths}");
            let std = (2.0 / (9 * c_in) as f64).sqrt();
            let normal = Normal::new(0.0, std).expect("finite std");
            let w: Vec<f32> = (0..c_out * c_in * 9)
                .map(|_| normal.sample(&mut rng) as f32)
                .collect();
            convs.push(FrozenConv {
                weight: Tensor::from_data(TensorData::new(w, [c_out, c_in, 3, 3]), device),
                bias: Tensor::zeros([c_out], device),
            });
            c_in = c_out;
        }
        Self::assemble(convs, FeatureSource::Seeded { seed, widths }, device)
    }

    /// The frozen encoder of the DHR network saved at `path` ([`Dhr::save`]'s format).
    pub fn from_dhr_weights(path: &Path, device: &Device) -> Result<Self, WeightsError> {
        Self::dhr_encoder_from_bytes(path, read(path)?, device)
    }

    /// As [`Self::from_dhr_weights`], the file's bytes already read (`path` names it).
    fn dhr_encoder_from_bytes(
        path: &Path,
        bytes: Vec<u8>,
        device: &Device,
    ) -> Result<Self, WeightsError> {
        let net = Dhr::from_safetensors_bytes(bytes, device)
            .map_err(|e| WeightsError::file(path, e))?
            .no_grad();
        Ok(Self {
            backbone: Backbone::DhrEncoder(Box::new(net)),
            source: FeatureSource::DhrEncoder {
                path: path.to_path_buf(),
            },
        })
    }

    /// The extractor of the file at `path`: a DHR weights file (`dehaze.model = "dhr"` in its
    /// safetensors metadata) gives that network's frozen encoder, any other file is read as
    /// torchvision's vgg19 state dict.
    pub fn from_file(path: &Path, device: &Device) -> Result<Self, WeightsError> {
        let bytes = read(path)?;
        if names_dhr(&bytes) {
            Self::dhr_encoder_from_bytes(path, bytes, device)
        } else {
            Self::vgg19_from_bytes(path, &bytes, device)
        }
    }

    /// The extractor of `path` when given ([`Self::from_file`]), otherwise the seeded one with
    /// [`VggWidths::SEEDED_DEFAULT`] and [`Self::DEFAULT_SEED`]. Callers should log
    /// [`Self::describe`] so that a run states which one it used.
    pub fn load_or_seeded(path: Option<&Path>, device: &Device) -> Result<Self, WeightsError> {
        match path {
            Some(p) => Self::from_file(p, device),
            None => Ok(Self::seeded(
                VggWidths::SEEDED_DEFAULT,
                Self::DEFAULT_SEED,
                device,
            )),
        }
    }

    fn assemble(convs: Vec<FrozenConv>, source: FeatureSource, device: &Device) -> Self {
        let mean = Tensor::<1>::from_floats(IMAGENET_MEAN, device).reshape([1, 3, 1, 1]);
        let std = Tensor::<1>::from_floats(IMAGENET_STD, device).reshape([1, 3, 1, 1]);
        Self {
            backbone: Backbone::Vgg(Box::new(Vgg { convs, mean, std })),
            source,
        }
    }

    /// Where the weights came from.
    pub fn source(&self) -> &FeatureSource {
        &self.source
    }

    /// One line for the log saying which extractor is in use.
    pub fn describe(&self) -> String {
        match &self.source {
            FeatureSource::File { path, widths } => format!(
                "feature extractor: VGG19 relu1_1..relu5_1 with weights from {} (widths {widths})",
                path.display()
            ),
            FeatureSource::Seeded { seed, widths } => format!(
                "feature extractor: seeded random VGG19-topology network (seed {seed:#x}, widths \
                 {widths}); NOT pretrained: no VGG19 weights file was given"
            ),
            FeatureSource::DhrEncoder { path } => format!(
                "feature extractor: the frozen encoder of the DHR network in {} (intro, three \
                 encoder stages, bottom; not VGG19)",
                path.display()
            ),
        }
    }

    /// The same extractor with its tensors on `device`.
    pub fn to_device(self, device: &Device) -> Self {
        let backbone = match self.backbone {
            Backbone::Vgg(vgg) => Backbone::Vgg(Box::new(Vgg {
                convs: vgg
                    .convs
                    .into_iter()
                    .map(|c| FrozenConv {
                        weight: c.weight.to_device(device),
                        bias: c.bias.to_device(device),
                    })
                    .collect(),
                mean: vgg.mean.to_device(device),
                std: vgg.std.to_device(device),
            })),
            // Moving a module can put its parameters back under autodiff; freeze again.
            Backbone::DhrEncoder(net) => {
                Backbone::DhrEncoder(Box::new(net.to_device(device).no_grad()))
            }
        };
        Self {
            backbone,
            source: self.source,
        }
    }

    /// The five feature maps of `x`, an RGB batch `[N, 3, H, W]` in [0, 1] (VGG19: relu1_1…
    /// relu5_1, H, W ≥ 16; DHR encoder: see the module docs). Differentiable with respect to
    /// `x`; the weights are constants.
    pub fn forward(&self, x: Tensor<4>) -> FeatureMaps {
        let Vgg { convs, mean, std } = match &self.backbone {
            Backbone::Vgg(vgg) => &**vgg,
            Backbone::DhrEncoder(net) => return net.encoder_features(x),
        };
        let [_, c, h, w] = x.dims();
        assert!(
            c == 3 && h >= 16 && w >= 16,
            "feature extractor needs [N, 3, H>=16, W>=16] images, got {:?}",
            x.dims()
        );
        let mut h = (x - mean.clone()) / std.clone();
        let mut outputs = Vec::with_capacity(5);
        let options = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
        for (i, conv) in convs.iter().enumerate() {
            let idx = VGG19_CONV_INDICES[i];
            h = relu(conv2d(
                h,
                conv.weight.clone(),
                Some(conv.bias.clone()),
                options.clone(),
            ));
            if matches!(idx, 0 | 5 | 10 | 19 | 28) {
                outputs.push(h.clone());
            }
            if matches!(idx, 2 | 7 | 16 | 25) {
                h = max_pool2d(h, MaxPoolOptions::new([2, 2]));
            }
        }
        outputs
            .try_into()
            .unwrap_or_else(|_| unreachable!("five outputs"))
    }

    #[cfg(test)]
    fn weights(&self) -> impl Iterator<Item = &Tensor<4>> {
        let convs = match &self.backbone {
            Backbone::Vgg(vgg) => &vgg.convs[..],
            Backbone::DhrEncoder(_) => &[],
        };
        convs.iter().map(|c| &c.weight)
    }
}

/// Whether `bytes` are a safetensors file whose metadata names a DHR network (other files are
/// not: the VGG19 reader then gives the error).
fn names_dhr(bytes: &[u8]) -> bool {
    SafeTensors::read_metadata(bytes).is_ok_and(|(_, meta)| {
        meta.metadata()
            .as_ref()
            .and_then(|m| m.get(KEY_MODEL))
            .is_some_and(|m| m == "dhr")
    })
}

/// The whole file at `path`.
fn read(path: &Path) -> Result<Vec<u8>, WeightsError> {
    std::fs::read(path).map_err(|e| WeightsError::file(path, format!("cannot read: {e}")))
}

/// A float32/float64 tensor of `st` as f32 values with its shape.
fn read_f32(st: &SafeTensors<'_>, name: &str) -> Result<(Vec<usize>, Vec<f32>), String> {
    let view = st.tensor(name).map_err(|_| {
        format!(
            "missing tensor `{name}`: expected torchvision's vgg19 state dict keys \
             features.{{0,2,5,...,28}}.weight/bias"
        )
    })?;
    let data = view.data();
    let values = match view.dtype() {
        Dtype::F32 => data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        Dtype::F64 => data
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")) as f32)
            .collect(),
        other => {
            return Err(format!(
                "tensor `{name}` has dtype {other:?}; convert the file to float32"
            ))
        }
    };
    Ok((view.shape().to_vec(), values))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::cpu;
    use crate::losses::test_util::*;

    fn tiny() -> FeatureExtractor {
        let path = fixture_path("tiny_vgg19.safetensors");
        FeatureExtractor::from_vgg19_safetensors(&path, &cpu()).expect("tiny VGG loads")
    }

    #[test]
    fn loads_torchvision_keys_and_matches_pytorch() {
        let fx = tiny();
        assert_eq!(
            fx.source(),
            &FeatureSource::File {
                path: fixture_path("tiny_vgg19.safetensors"),
                widths: VggWidths([4, 6, 8, 10, 12]),
            }
        );
        assert!(fx.describe().contains("tiny_vgg19.safetensors"));
        let r = Reference::load();
        let feats = fx.forward(r.tensor("out", &cpu()));
        let sizes = [16, 8, 4, 2, 1];
        for ((f, name), (width, size)) in feats
            .into_iter()
            .zip(LAYER_NAMES)
            .zip([4, 6, 8, 10, 12].into_iter().zip(sizes))
        {
            assert_eq!(f.dims(), [2, width, size, size], "{name}");
            let expected = r.values(&format!("expected_features_{name}"));
            assert_close(name, &host(f), expected, 1e-4, 1e-5);
        }
    }

    #[test]
    fn seeded_is_deterministic_and_labelled() {
        let dev = cpu();
        let a = FeatureExtractor::seeded(VggWidths([2, 3, 4, 5, 6]), 7, &dev);
        let b = FeatureExtractor::seeded(VggWidths([2, 3, 4, 5, 6]), 7, &dev);
        let c = FeatureExtractor::seeded(VggWidths([2, 3, 4, 5, 6]), 8, &dev);
        let x = Tensor::<4>::ones([1, 3, 16, 16], &dev).mul_scalar(0.3);
        let fa = host(a.forward(x.clone())[4].clone());
        assert_eq!(fa, host(b.forward(x.clone())[4].clone()));
        assert_ne!(fa, host(c.forward(x)[4].clone()));
        let d = FeatureExtractor::load_or_seeded(None, &dev).unwrap();
        assert!(d.describe().contains("NOT pretrained"), "{}", d.describe());
        assert!(matches!(
            d.source(),
            FeatureSource::Seeded { widths, .. } if *widths == VggWidths::SEEDED_DEFAULT
        ));
    }

    #[test]
    fn seeded_features_keep_their_scale_through_the_stack() {
        // He initialisation: relu5_1 of a random image is neither vanishing nor exploding.
        let dev = cpu();
        let fx = FeatureExtractor::seeded(VggWidths::SEEDED_DEFAULT, 1, &dev);
        let x = Tensor::<4>::random(
            [1, 3, 32, 32],
            burn::tensor::Distribution::Uniform(0.0, 1.0),
            &dev,
        );
        for (f, name) in fx.forward(x).into_iter().zip(LAYER_NAMES) {
            let rms = host(f.clone() * f).iter().sum::<f64>().sqrt();
            assert!(rms.is_finite() && rms > 1e-2, "{name}: rms {rms}");
        }
    }

    /// Backward of the sum of the maps' means; asserts that a finite, nonzero gradient reaches
    /// `x`, the input the maps were computed from.
    fn backward_to_the_input(feats: FeatureMaps, x: &Tensor<4>) -> burn::tensor::Gradients {
        let loss = feats
            .into_iter()
            .map(|f| f.mean())
            .reduce(|a, b| a + b)
            .unwrap();
        let grads = loss.backward();
        assert_finite_nonzero("input grad", &host(x.grad(&grads).expect("input gradient")));
        grads
    }

    #[test]
    fn frozen_weights_but_gradients_reach_the_input() {
        let ad = cpu().autodiff();
        let fx = FeatureExtractor::seeded(VggWidths([2, 3, 4, 5, 6]), 3, &ad);
        let x = Tensor::<4>::ones([1, 3, 16, 16], &ad)
            .mul_scalar(0.5)
            .require_grad();
        let grads = backward_to_the_input(fx.forward(x.clone()), &x);
        for w in fx.weights() {
            assert!(!w.is_require_grad());
            assert!(w.grad(&grads).is_none(), "a frozen weight got a gradient");
        }
    }

    #[test]
    fn a_dhr_weights_file_gives_its_frozen_encoder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stage1.safetensors");
        let cfg = crate::dhr::DhrConfig::small();
        crate::dhr::Dhr::new_seeded(&cfg, &cpu(), 5)
            .save(&path)
            .unwrap();
        let ad = cpu().autodiff();
        // Told apart from a VGG19 file by its metadata, through the trainer's entry point.
        let fx = FeatureExtractor::load_or_seeded(Some(&path), &ad).unwrap();
        assert_eq!(
            fx.source(),
            &FeatureSource::DhrEncoder { path: path.clone() }
        );
        assert!(
            fx.describe().contains("frozen encoder"),
            "{}",
            fx.describe()
        );
        let x = Tensor::<4>::random(
            [1, 3, 32, 32],
            burn::tensor::Distribution::Uniform(0.0, 1.0),
            &ad,
        )
        .require_grad();
        let feats = fx.forward(x.clone());
        let c = cfg.width;
        let shapes = [
            [1, c, 32, 32],
            [1, c, 32, 32],
            [1, 2 * c, 16, 16],
            [1, 4 * c, 8, 8],
            [1, 8 * c, 4, 4],
        ];
        for (f, shape) in feats.iter().zip(shapes) {
            assert_eq!(f.dims(), shape);
        }
        backward_to_the_input(feats, &x);
        // Frozen: no parameter of the encoder is under autodiff.
        let Backbone::DhrEncoder(net) = &fx.backbone else {
            unreachable!("a DHR encoder")
        };
        struct Trainable(usize);
        impl burn::module::ModuleVisitor for Trainable {
            fn visit_float<const D: usize>(&mut self, p: &burn::module::Param<Tensor<D>>) {
                self.0 += usize::from(p.val().is_require_grad());
            }
        }
        let mut trainable = Trainable(0);
        net.visit(&mut trainable);
        assert_eq!(
            trainable.0, 0,
            "parameters of the frozen encoder require gradients"
        );
    }

    #[test]
    fn loader_errors_name_the_file_and_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let dev = cpu();

        let missing = dir.path().join("absent.safetensors");
        let e = FeatureExtractor::from_vgg19_safetensors(&missing, &dev).unwrap_err();
        assert!(e.to_string().contains("absent.safetensors"), "{e}");

        // A file with conv 0 only: the error names the first missing key.
        let partial = dir.path().join("partial.safetensors");
        let w = vec![0u8; 4 * 4 * 3 * 9];
        let b = vec![0u8; 4 * 4];
        let tensors = [
            (
                "features.0.weight",
                safetensors::tensor::TensorView::new(Dtype::F32, vec![4, 3, 3, 3], &w).unwrap(),
            ),
            (
                "features.0.bias",
                safetensors::tensor::TensorView::new(Dtype::F32, vec![4], &b).unwrap(),
            ),
        ];
        safetensors::serialize_to_file(tensors, None, &partial).unwrap();
        let e = FeatureExtractor::from_vgg19_safetensors(&partial, &dev).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("partial.safetensors") && msg.contains("features.2.weight"),
            "{msg}"
        );

        // A wrong input width for conv 0.
        let bad = dir.path().join("bad.safetensors");
        let w = vec![0u8; 4 * 4 * 9]; // [4, 1, 3, 3] float32
        let tensors = [
            (
                "features.0.weight",
                safetensors::tensor::TensorView::new(Dtype::F32, vec![4, 1, 3, 3], &w).unwrap(),
            ),
            (
                "features.0.bias",
                safetensors::tensor::TensorView::new(Dtype::F32, vec![4], &b).unwrap(),
            ),
        ];
        safetensors::serialize_to_file(tensors, None, &bad).unwrap();
        let e = FeatureExtractor::from_vgg19_safetensors(&bad, &dev).unwrap_err();
        assert!(e.to_string().contains("features.0"), "{e}");
    }
}
