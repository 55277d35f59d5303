//! DHR, the Density-aware Haze Removal network of API (2026), in our design (spec §2.2).
//!
//! Interface only; the layers land with the DHR issue work.

use std::path::Path;

use burn::prelude::*;

use crate::weights::WeightsError;

/// Size of the network.
#[derive(Debug, Clone, PartialEq)]
pub struct DhrConfig {
    /// Base channel width.
    pub width: usize,
}

impl DhrConfig {
    /// `dhr-s`: at most 1 M parameters, trainable on a CPU.
    pub fn small() -> Self {
        Self { width: 16 }
    }
    /// `dhr-b`: 5–15 M parameters, for GPU training.
    pub fn base() -> Self {
        Self { width: 48 }
    }
}

/// What one forward pass gives.
#[derive(Debug, Clone)]
pub struct DhrOutput {
    /// Restored image `[N, 3, H, W]` in [0, 1].
    pub image: Tensor<4>,
    /// Per-patch importance `w_p = N·softmax(ρ_p/τ)`, `[N, 1, H/P, W/P]`.
    pub importance: Tensor<4>,
}

/// The DHR network.
#[derive(Module, Debug)]
pub struct Dhr {
    _todo: Option<burn::nn::Linear>,
}

impl Dhr {
    /// A network with freshly initialised weights on `device`.
    pub fn new(_config: &DhrConfig, _device: &Device) -> Self {
        todo!("DHR")
    }

    /// `x`: `[N, 3, H, W]` hazy image in [0, 1]; H and W multiples of [`Dhr::size_multiple`].
    pub fn forward(&self, _x: Tensor<4>) -> DhrOutput {
        todo!("DHR")
    }

    /// Loads weights saved by [`Dhr::save`] (safetensors; the configuration travels in the
    /// file's metadata).
    pub fn load(_path: &Path, _device: &Device) -> Result<Self, WeightsError> {
        todo!("DHR weights")
    }

    /// Saves the weights atomically as safetensors, with the configuration in the metadata.
    pub fn save(&self, _path: &Path) -> Result<(), WeightsError> {
        todo!("DHR weights")
    }

    /// H and W must be multiples of this.
    pub fn size_multiple(&self) -> usize {
        16
    }
}
