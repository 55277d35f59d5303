//! The small U-Net body shared by AHG's encoder and decoder.
//!
//! ```text
//! x ─ block(c_in→w) ─┬──────────────────────────────────── cat ─ block(2w→w) ─ 1×1 conv → c_out
//!                    └ down(w→2w) ─┬──────── cat ─ block(4w→2w) ─ up(2w→w) ┘
//!                                  └ down(2w→4w) ─ up(4w→2w) ┘            (levels = 2)
//! ```
//!
//! `block` = two 3×3 convolutions, each followed by LeakyReLU(0.2); `down` = a 3×3 stride-2
//! convolution + LeakyReLU and a `block`; `up` = a 2×2 stride-2 transposed convolution (no
//! overlap, so no checkerboard) + LeakyReLU. Channels double at each level. There is no
//! normalisation layer: batches are small and the maps must keep absolute levels (a density
//! is not scale-free). H and W must be multiples of `2^levels` ([`UNet::size_multiple`]).

use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{Initializer, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::leaky_relu;

/// Negative slope of every LeakyReLU in AHG.
pub const LEAKY_SLOPE: f64 = 0.2;

/// Two 3×3 convolutions with LeakyReLU.
#[derive(Module, Debug)]
pub struct ConvBlock {
    conv1: Conv2d,
    conv2: Conv2d,
}

/// A 3×3 "same" convolution.
pub fn conv3(c_in: usize, c_out: usize, stride: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([c_in, c_out], [3, 3])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init(device)
}

impl ConvBlock {
    pub fn new(c_in: usize, c_out: usize, device: &Device) -> Self {
        Self {
            conv1: conv3(c_in, c_out, 1, device),
            conv2: conv3(c_out, c_out, 1, device),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = leaky_relu(self.conv1.forward(x), LEAKY_SLOPE);
        leaky_relu(self.conv2.forward(x), LEAKY_SLOPE)
    }
}

/// One encoder level: stride-2 convolution, then a block.
#[derive(Module, Debug)]
pub struct Down {
    conv: Conv2d,
    block: ConvBlock,
}

impl Down {
    fn new(c_in: usize, c_out: usize, device: &Device) -> Self {
        Self {
            conv: conv3(c_in, c_out, 2, device),
            block: ConvBlock::new(c_out, c_out, device),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.block
            .forward(leaky_relu(self.conv.forward(x), LEAKY_SLOPE))
    }
}

/// One decoder level: 2× upsampling by a transposed convolution, concatenation with the skip,
/// then a block.
#[derive(Module, Debug)]
pub struct Up {
    up: ConvTranspose2d,
    block: ConvBlock,
}

impl Up {
    fn new(c_in: usize, c_out: usize, device: &Device) -> Self {
        Self {
            up: ConvTranspose2dConfig::new([c_in, c_out], [2, 2])
                .with_stride([2, 2])
                .init(device),
            block: ConvBlock::new(2 * c_out, c_out, device),
        }
    }

    fn forward(&self, x: Tensor<4>, skip: Tensor<4>) -> Tensor<4> {
        let x = leaky_relu(self.up.forward(x), LEAKY_SLOPE);
        self.block.forward(Tensor::cat(vec![x, skip], 1))
    }
}

/// A U-Net `[N, c_in, H, W] → [N, c_out, H, W]` with a linear (1×1) output head.
#[derive(Module, Debug)]
pub struct UNet {
    inc: ConvBlock,
    downs: Vec<Down>,
    ups: Vec<Up>,
    head: Conv2d,
}

impl UNet {
    /// `width` channels at full resolution, `levels` halvings. With `zero_head` the output
    /// layer starts at zero (the network initially outputs 0 everywhere; gradients still
    /// reach every layer through the head's weights after the first step).
    pub fn new(
        c_in: usize,
        c_out: usize,
        width: usize,
        levels: usize,
        zero_head: bool,
        device: &Device,
    ) -> Self {
        let ch = |l: usize| width << l;
        let downs = (0..levels)
            .map(|l| Down::new(ch(l), ch(l + 1), device))
            .collect();
        let ups = (0..levels)
            .rev()
            .map(|l| Up::new(ch(l + 1), ch(l), device))
            .collect();
        let mut head = Conv2dConfig::new([width, c_out], [1, 1]);
        if zero_head {
            head = head.with_initializer(Initializer::Zeros);
        }
        Self {
            inc: ConvBlock::new(c_in, width, device),
            downs,
            ups,
            head: head.init(device),
        }
    }

    /// H and W must be multiples of this (`2^levels`).
    pub fn size_multiple(&self) -> usize {
        1 << self.downs.len()
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [_, _, h, w] = x.dims();
        let m = self.size_multiple();
        assert!(
            h % m == 0 && w % m == 0,
            "U-Net input {h}×{w} is not a multiple of {m}"
        );
        let mut skips = Vec::with_capacity(self.downs.len());
        let mut x = self.inc.forward(x);
        for d in &self.downs {
            skips.push(x.clone());
            x = d.forward(x);
        }
        for u in &self.ups {
            let skip = skips.pop().expect("one skip per level");
            x = u.forward(x, skip);
        }
        self.head.forward(x)
    }
}
