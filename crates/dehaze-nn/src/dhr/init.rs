//! Seeded weight initialisation for DHR.
//!
//! Burn's initialisers draw from the backend's global generator, which is shared by every
//! thread of the process; two networks built at the same time (tests, a trainer beside a
//! validator) would interleave their draws. DHR instead draws every weight from its own
//! ChaCha8 stream, so `Dhr::new_seeded(config, device, s)` gives the same weights on any
//! thread, any backend and any run; the trainer's `--resume` equality test relies on it.
//!
//! The rule is PyTorch's default for convolutions: `w, b ~ U(−1/√fan_in, 1/√fan_in)`, with
//! `fan_in = C_in·k²` for a convolution and `fan_in = C_out·k²` for a transposed one (PyTorch
//! reads the fan from the weight's second axis, which is `C_out` for a transposed convolution).
//! `tools/dhr_torch.py` uses the same rule, so both implementations start from the same weight
//! statistics.

use burn::module::Param;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{Initializer, PaddingConfig2d};
use burn::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Where the weights come from.
pub(crate) enum Init<'a> {
    /// Drawn from this stream.
    Random(&'a mut ChaCha8Rng),
    /// All zero (a network about to be overwritten by loaded weights: no draws wasted).
    Zero,
}

impl Init<'_> {
    /// `n` values from `U(−bound, bound)` (or zeros).
    fn uniform(&mut self, n: usize, bound: f32) -> Vec<f32> {
        match self {
            Init::Random(rng) => (0..n)
                .map(|_| (rng.random::<f32>() * 2.0 - 1.0) * bound)
                .collect(),
            Init::Zero => vec![0.0; n],
        }
    }
}

/// The generator of a network seeded with `seed`.
pub(crate) fn rng(seed: u64) -> ChaCha8Rng {
    // A fixed stream word keeps network weights apart from the data streams of the trainer,
    // which are keyed by the same user seed.
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(0x4448_525f_494e_4954); // "DHR_INIT"
    rng
}

fn param<const D: usize>(values: Vec<f32>, shape: [usize; D], device: &Device) -> Param<Tensor<D>> {
    Param::from_tensor(Tensor::from_data(TensorData::new(values, shape), device))
}

/// A `k×k` convolution `c_in → c_out` with the given stride and "same"-style zero padding
/// `(k−1)/2`; `gain` scales the initial weights (the output convolution starts small).
pub(crate) fn conv(
    c_in: usize,
    c_out: usize,
    k: usize,
    stride: usize,
    gain: f32,
    init: &mut Init<'_>,
    device: &Device,
) -> Conv2d {
    let p = (k - 1) / 2;
    let mut conv = Conv2dConfig::new([c_in, c_out], [k, k])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
        .with_initializer(Initializer::Zeros)
        .init(device);
    let bound = 1.0 / ((c_in * k * k) as f32).sqrt();
    conv.weight = param(
        init.uniform(c_out * c_in * k * k, bound * gain),
        [c_out, c_in, k, k],
        device,
    );
    conv.bias = Some(param(init.uniform(c_out, bound * gain), [c_out], device));
    conv
}

/// A `2×2` stride-2 transposed convolution `c_in → c_out` (exact 2× upsampling: every input
/// pixel becomes one 2×2 output block).
pub(crate) fn up2(
    c_in: usize,
    c_out: usize,
    init: &mut Init<'_>,
    device: &Device,
) -> ConvTranspose2d {
    let mut up = ConvTranspose2dConfig::new([c_in, c_out], [2, 2])
        .with_stride([2, 2])
        .with_initializer(Initializer::Zeros)
        .init(device);
    let bound = 1.0 / ((c_out * 4) as f32).sqrt();
    up.weight = param(
        init.uniform(c_in * c_out * 4, bound),
        [c_in, c_out, 2, 2],
        device,
    );
    up.bias = Some(param(init.uniform(c_out, bound), [c_out], device));
    up
}

/// A parameter of `shape` filled with `value`.
pub(crate) fn constant<const D: usize>(
    shape: [usize; D],
    value: f32,
    device: &Device,
) -> Param<Tensor<D>> {
    param(vec![value; shape.iter().product()], shape, device)
}
