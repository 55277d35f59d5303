//! The PatchGAN critic of AHG training.
//!
//! Four 4×4 convolutions (stride 2, 2, 1, 1; padding 1) with LeakyReLU(0.2) between them map an
//! image `[N, 3, H, W]` to a grid of real/fake scores `[N, 1, H/4 − 2, W/4 − 2]`; each score
//! sees a receptive field of 34×34 pixels, so the critic judges the local texture of haze
//! (veiling, contrast loss, colour cast) rather than scene content. It is unconditional: a
//! generated image with a density different from the paired hazy image is no less realistic,
//! so the clear image is not shown to it. Scores are raw (no sigmoid): the hinge loss
//! ([`super::loss`]) works on them directly.

use super::unet::LEAKY_SLOPE;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::PaddingConfig2d;
use burn::prelude::*;
use burn::tensor::activation::leaky_relu;

/// The critic `C`.
#[derive(Module, Debug)]
pub struct PatchDiscriminator {
    convs: Vec<Conv2d>,
}

impl PatchDiscriminator {
    /// Channels `width, 2·width, 4·width, 1`.
    pub fn new(width: usize, device: &Device) -> Self {
        let layers = [
            (3, width, 2),
            (width, 2 * width, 2),
            (2 * width, 4 * width, 1),
            (4 * width, 1, 1),
        ];
        let convs = layers
            .into_iter()
            .map(|(i, o, s)| {
                Conv2dConfig::new([i, o], [4, 4])
                    .with_stride([s, s])
                    .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                    .init(device)
            })
            .collect();
        Self { convs }
    }

    /// Raw patch scores `[N, 1, h, w]`; larger = judged more real.
    pub fn forward(&self, image: Tensor<4>) -> Tensor<4> {
        let last = self.convs.len() - 1;
        let mut x = image;
        for (i, c) in self.convs.iter().enumerate() {
            x = c.forward(x);
            if i < last {
                x = leaky_relu(x, LEAKY_SLOPE);
            }
        }
        x
    }
}
