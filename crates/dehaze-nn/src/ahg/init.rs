//! Seeded weight initialisation, independent of Burn's global random state.
//!
//! Burn draws initial weights from one generator per backend that every thread shares, so two
//! trainings running in one process (tests do) would get each other's draws. [`SeededInit`]
//! redraws every weight from its own ChaCha stream with the distribution Burn's convolutions
//! use by default (Kaiming uniform with gain `1/√3`):
//!
//! ```text
//! w ~ U(−1/√fan_in, 1/√fan_in),   fan_in = shape[1]·shape[2]·shape[3]
//! ```
//!
//! for a 4-D kernel (both `Conv2d` `[out, in, kh, kw]` and `ConvTranspose2d` `[in, out, kh, kw]`
//! use `shape[1]·kh·kw`), and the same bound for the bias that follows it. Parameters that are
//! all zero (the zero-initialised output layers) are left at zero.

use burn::module::{ModuleMapper, Param};
use burn::prelude::*;
use dehaze_core::synth::rng::{derive_rng, Stream, SynthRng};
use rand::RngExt;

/// A [`ModuleMapper`] that reinitialises float parameters from a seeded stream.
pub struct SeededInit {
    rng: SynthRng,
    fan_in: usize,
}

impl SeededInit {
    /// The stream for `(seed, part)`; give each network its own `part`.
    pub fn new(seed: u64, part: u64) -> Self {
        Self {
            rng: derive_rng(seed, part, 0x1A17, Stream::Params),
            fan_in: 1,
        }
    }
}

impl ModuleMapper for SeededInit {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        param.map(|t| {
            let dims = t.dims();
            if D == 4 {
                self.fan_in = (dims[1] * dims[2] * dims[3]).max(1);
            }
            let old = t.to_data().try_to_vec::<f32>().unwrap_or_default();
            if old.iter().all(|&v| v == 0.0) {
                return t;
            }
            let b = 1.0 / (self.fan_in as f32).sqrt();
            let v: Vec<f32> = (0..old.len())
                .map(|_| self.rng.random_range(-b..b))
                .collect();
            // A fresh tensor is a new autodiff leaf: keep the parameter's gradient tracking.
            let tracked = t.is_require_grad();
            Tensor::from_data(TensorData::new(v, dims), &t.device()).set_require_grad(tracked)
        })
    }
}
