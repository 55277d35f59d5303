//! The networks `dehaze train` trains, behind one trait: [`Trainable`], implemented by
//! [`Dhr`] and [`KaNet`].
//!
//! The training loop, the checkpoints, validation and the adaptation stage are written once,
//! generic over `M: Trainable`; what differs between the networks is only here:
//!
//! * how a seeded network is built ([`Trainable::new_seeded`], from `train.seed`);
//! * what a training forward pass gives the objective ([`TrainOutput`]): DHR's patch importance
//!   and density, KA-Net's pooled bottleneck feature `z`;
//! * the pre- and post-processing around the network ([`Trainable::restore`], as inference
//!   does it: KA-Net maps [0, 1] to [−1, 1] and clamps its tanh output);
//! * the weights file (safetensors; [`Dhr::load`] and [`KaNet::load_saved`] read it back).
//!
//! A trait rather than an enum of models: the loop is monomorphised per network, so DHR's
//! training is the code it was before (bit for bit), and a checkpoint's `model.bpk` holds the
//! network's own record, not an enum wrapper's (older DHR checkpoints still resume).

use std::fmt::Debug;
use std::path::Path;

use burn::module::Module;
use burn::prelude::*;

use crate::dhr::{Dhr, DhrConfig};
use crate::ka_net::{KaNet, KaNetConfig};
use crate::weights::WeightsError;

/// What one training forward pass gives the objective ([`super::loss::Objective`]).
#[derive(Debug, Clone)]
pub struct TrainOutput {
    /// The restored image `[N, 3, H, W]`, in [0, 1] in the forward pass (the clamp passes
    /// gradients straight through, so a pixel outside [0, 1] is still pulled towards its
    /// target).
    pub image: Tensor<4>,
    /// DHR's per-patch importance `[N, 1, H/P, W/P]` (mean 1), which weights the
    /// reconstruction when `loss.importance_weighted`; `None` for KA-Net.
    pub importance: Option<Tensor<4>>,
    /// DHR's predicted haze density per patch, `sigmoid(ρ_p)`, supervised by `loss.density`;
    /// `None` for KA-Net.
    pub density: Option<Tensor<4>>,
    /// KA-Net's pooled bottleneck feature `z` `[N, C]`, the input of the sample reweighting
    /// (`loss.reweighting`); `None` for DHR.
    pub z: Option<Tensor<2>>,
}

/// A network the trainer can train (see the module docs).
pub trait Trainable: Module + Sized {
    /// The size of the network (what `[model]` describes).
    type Config: Clone + PartialEq + Debug;

    /// The file name of the final weights in the run folder (`dhr.safetensors`,
    /// `ka-net.safetensors`).
    const WEIGHTS_FILE: &'static str;

    /// A network whose initial weights are a pure function of `seed`.
    fn new_seeded(config: &Self::Config, device: &Device, seed: u64) -> Self;

    /// The size of this network, to check a loaded file against `[model]`.
    fn size(&self) -> Self::Config;

    /// Loads a weights file written by [`Trainable::save_weights`] (its size read from the
    /// file).
    fn load_weights(path: &Path, device: &Device) -> Result<Self, WeightsError>;

    /// Writes the weights as safetensors, atomically.
    fn save_weights(&self, path: &Path) -> Result<(), WeightsError>;

    /// H and W of an input must be multiples of this.
    fn size_multiple(&self) -> usize;

    /// The training forward pass on `hazy` (`[N, 3, H, W]` in [0, 1]).
    fn forward_train(&self, hazy: Tensor<4>) -> TrainOutput;

    /// The restored image as inference computes it (`[N, 3, H, W]` in [0, 1]), for validation
    /// and for the frozen reference of the adaptation stage.
    fn restore(&self, hazy: Tensor<4>) -> Tensor<4>;
}

impl Trainable for Dhr {
    type Config = DhrConfig;
    const WEIGHTS_FILE: &'static str = "dhr.safetensors";

    fn new_seeded(config: &DhrConfig, device: &Device, seed: u64) -> Self {
        Dhr::new_seeded(config, device, seed)
    }

    fn size(&self) -> DhrConfig {
        self.config().clone()
    }

    fn load_weights(path: &Path, device: &Device) -> Result<Self, WeightsError> {
        Dhr::load(path, device)
    }

    fn save_weights(&self, path: &Path) -> Result<(), WeightsError> {
        self.save(path)
    }

    fn size_multiple(&self) -> usize {
        Dhr::size_multiple(self)
    }

    fn forward_train(&self, hazy: Tensor<4>) -> TrainOutput {
        let out = self.forward(hazy);
        TrainOutput {
            image: out.image,
            importance: Some(out.importance),
            density: Some(out.density),
            z: None,
        }
    }

    fn restore(&self, hazy: Tensor<4>) -> Tensor<4> {
        self.forward(hazy).image
    }
}

/// KA-Net's input normalisation: [0, 1] → [−1, 1] (mean 0.5, std 0.5, as the official code).
fn ka_net_input(hazy: Tensor<4>) -> Tensor<4> {
    hazy.mul_scalar(2.0).sub_scalar(1.0)
}

impl Trainable for KaNet {
    type Config = KaNetConfig;
    const WEIGHTS_FILE: &'static str = "ka-net.safetensors";

    fn new_seeded(config: &KaNetConfig, device: &Device, seed: u64) -> Self {
        KaNet::new_seeded(config, device, seed)
    }

    fn size(&self) -> KaNetConfig {
        self.config()
    }

    fn load_weights(path: &Path, device: &Device) -> Result<Self, WeightsError> {
        KaNet::load_saved(path, device)
    }

    fn save_weights(&self, path: &Path) -> Result<(), WeightsError> {
        self.save(path)
    }

    fn size_multiple(&self) -> usize {
        crate::ka_net::SIZE_MULTIPLE
    }

    /// The official output is `clamp(tanh(·), 0, 1)` (not de-normalised); training sees that
    /// image, with the clamp's gradient passed straight through (as DHR's output clamp).
    fn forward_train(&self, hazy: Tensor<4>) -> TrainOutput {
        let (y, z) = self.forward(ka_net_input(hazy));
        let image = y.clone() + (y.clone().clamp(0.0, 1.0) - y).detach();
        TrainOutput {
            image,
            importance: None,
            density: None,
            z: Some(z),
        }
    }

    fn restore(&self, hazy: Tensor<4>) -> Tensor<4> {
        self.forward(ka_net_input(hazy)).0.clamp(0.0, 1.0)
    }
}
