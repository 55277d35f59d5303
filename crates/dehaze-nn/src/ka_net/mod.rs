//! KA-Net (Feng et al., TPAMI 2024): the localization-and-removal network, layer for layer as in
//! the official inference code (see `docs/ka-net-architecture.md`).
//!
//! Interface only; the layers land with the port.

use std::path::Path;

use burn::prelude::*;

use crate::weights::WeightsError;

/// Sizes must be a multiple of this for the forward pass (four stride-2 stages after a stride-4
/// embedding, plus the decoder's extra stride-2 embedding handled by cropping).
pub const SIZE_MULTIPLE: usize = 16;

/// Widths of the architecture. [`KaNetConfig::official`] is the published network.
#[derive(Debug, Clone, PartialEq)]
pub struct KaNetConfig {
    /// Encoder stage widths (official: 64, 128, 320, 512).
    pub dims: [usize; 4],
}

impl KaNetConfig {
    /// The published configuration (55,657,426 learnable parameters).
    pub fn official() -> Self {
        Self {
            dims: [64, 128, 320, 512],
        }
    }
}

/// The KA-Net network.
#[derive(Module, Debug)]
pub struct KaNet {
    _todo: Option<burn::nn::Linear>,
}

impl KaNet {
    /// A network with freshly initialised weights on `device`.
    pub fn new(_config: &KaNetConfig, _device: &Device) -> Self {
        todo!("KA-Net port")
    }

    /// Loads a checkpoint: the official PyTorch pickle (state dict under `model`, keys prefixed
    /// with `module.`), or the same tensors as safetensors.
    pub fn load(
        _path: &Path,
        _config: &KaNetConfig,
        _device: &Device,
    ) -> Result<Self, WeightsError> {
        todo!("KA-Net loader")
    }

    /// Forward pass. `x`: `[N, 3, H, W]` normalised to [−1, 1], H and W multiples of
    /// [`SIZE_MULTIPLE`]. Returns the tanh output `[N, 3, H, W]` and the pooled feature
    /// `z`: `[N, dims[3]]`.
    pub fn forward(&self, _x: Tensor<4>) -> (Tensor<4>, Tensor<2>) {
        todo!("KA-Net port")
    }
}
