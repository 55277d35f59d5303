//! AHG's density encoder `E`: `M = σ(U_E(I))`, a one-channel haze-density map in `(0, 1)`.
//!
//! The sigmoid bounds the map like the normalised optical depth it stands for (dehaze-core's
//! `t = exp(−β·M)` convention), so maps of different images can be interpolated and scaled by a
//! Perlin field and still mean the same thing.

use super::unet::UNet;
use burn::prelude::*;
use burn::tensor::activation::sigmoid;

/// `E`: image `[N, 3, H, W]` in `[0, 1]` → density `[N, 1, H, W]` in `(0, 1)`.
#[derive(Module, Debug)]
pub struct DensityEncoderNet {
    unet: UNet,
}

impl DensityEncoderNet {
    /// A fresh encoder of base width `width` with `levels` U-Net levels.
    pub fn new(width: usize, levels: usize, device: &Device) -> Self {
        Self {
            unet: UNet::new(3, 1, width, levels, false, device),
        }
    }

    /// H and W must be multiples of this.
    pub fn size_multiple(&self) -> usize {
        self.unet.size_multiple()
    }

    /// `M = σ(U_E(I))`.
    pub fn forward(&self, image: Tensor<4>) -> Tensor<4> {
        sigmoid(self.unet.forward(image))
    }
}
