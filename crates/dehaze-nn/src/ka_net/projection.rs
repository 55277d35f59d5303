//! The convolutional projection back to full resolution and the output head.
//!
//! Each level doubles the size with a 2×2 stride-2 transposed convolution (`up`), refines with
//! a residual block and adds the encoder feature of that scale. The skips are the raw encoder
//! features f₄..f₁ (not the bottleneck output):
//!
//! ```text
//! a = crop(up₃₂(x_u)) + f₄                  (dims[3])
//! b = Res(crop(up₁₆(a))) + f₃               (dims[2])
//! c = Res(up₈(b)) + f₂                      (dims[1])
//! d = Res(up₄(c)) + f₁                      (dims[0])
//! e = Res(up₂(d))                           (16)
//! o = up₁(e)                                (8)
//! out = tanh(conv₃ₓ₃(reflect_pad₁(o)))      (3)
//! ```
//!
//! `crop` drops the last row/column when the up-sampled map is one larger than the skip, which
//! happens at the 1/32 and 1/16 levels when H/16 or W/16 is odd (the decoder's extra stride-2
//! embedding rounded up). `Res(x) = x + conv₂(ReLU(conv₁ x))` with zero-padded 3×3 convs.

use burn::nn::conv::{Conv2d, ConvTranspose2d, ConvTranspose2dConfig};
use burn::prelude::*;
use burn::tensor::activation::relu;
use burn::tensor::ops::PadMode;

use super::encoder::Features;
use super::transformer::conv;

/// Widths of the last two levels (1/2 and full size); literals in the official network.
pub(crate) const TAIL_WIDTHS: [usize; 2] = [16, 8];

/// `x + conv₂(ReLU(conv₁ x))`, 3×3 convs with zero padding 1 and bias, no normalisation.
#[derive(Module, Debug)]
pub(crate) struct ResBlock {
    pub conv1: Conv2d,
    pub conv2: Conv2d,
}

impl ResBlock {
    pub fn new(c: usize, device: &Device) -> Self {
        Self {
            conv1: conv(c, c, 3, 1, 1, 1).init(device),
            conv2: conv(c, c, 3, 1, 1, 1).init(device),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        x.clone() + self.conv2.forward(relu(self.conv1.forward(x)))
    }
}

fn up(cin: usize, cout: usize, device: &Device) -> ConvTranspose2d {
    ConvTranspose2dConfig::new([cin, cout], [2, 2])
        .with_stride([2, 2])
        .init(device)
}

/// Drops trailing rows/columns of `x` so that it has `reference`'s spatial size.
fn crop_to(x: Tensor<4>, reference: &Tensor<4>) -> Tensor<4> {
    let [b, c, h, w] = x.dims();
    let [_, _, rh, rw] = reference.dims();
    if (h, w) == (rh, rw) {
        return x;
    }
    assert!(
        rh <= h && rw <= w && h - rh <= 1 && w - rw <= 1,
        "up-sampled map {h}×{w} cannot be cropped to the skip's {rh}×{rw}"
    );
    x.slice([0..b, 0..c, 0..rh, 0..rw])
}

#[derive(Module, Debug)]
pub(crate) struct Projection {
    pub convd32x: ConvTranspose2d,
    pub convd16x: ConvTranspose2d,
    pub dense_4: ResBlock,
    pub convd8x: ConvTranspose2d,
    pub dense_3: ResBlock,
    pub convd4x: ConvTranspose2d,
    pub dense_2: ResBlock,
    pub convd2x: ConvTranspose2d,
    pub dense_1: ResBlock,
    pub convd1x: ConvTranspose2d,
    /// 3×3 conv 8 → 3 present in the official network and checkpoint but never called (the
    /// head below replaces it).
    pub conv_output: Conv2d,
}

impl Projection {
    pub fn new(dims: [usize; 4], device: &Device) -> Self {
        let d = dims;
        let [t2, t1] = TAIL_WIDTHS;
        Self {
            convd32x: up(d[3], d[3], device),
            convd16x: up(d[3], d[2], device),
            dense_4: ResBlock::new(d[2], device),
            convd8x: up(d[2], d[1], device),
            dense_3: ResBlock::new(d[1], device),
            convd4x: up(d[1], d[0], device),
            dense_2: ResBlock::new(d[0], device),
            convd2x: up(d[0], t2, device),
            dense_1: ResBlock::new(t2, device),
            convd1x: up(t2, t1, device),
            conv_output: conv(t1, 3, 3, 1, 1, 1).init(device),
        }
    }

    /// `feats`: encoder features f₁..f₄; `xu`: decoder output at 1/64. Returns the 8-channel
    /// map at full size.
    pub fn forward(&self, feats: &Features, xu: Tensor<4>) -> Tensor<4> {
        let [f1, f2, f3, f4] = feats;
        let a = crop_to(self.convd32x.forward(xu), f4) + f4.clone();
        let b = crop_to(self.convd16x.forward(a), f3);
        let b = self.dense_4.forward(b) + f3.clone();
        let c = crop_to(self.convd8x.forward(b), f2);
        let c = self.dense_3.forward(c) + f2.clone();
        let d = crop_to(self.convd4x.forward(c), f1);
        let d = self.dense_2.forward(d) + f1.clone();
        let e = self.dense_1.forward(self.convd2x.forward(d));
        self.convd1x.forward(e)
    }
}

/// Output head: `tanh(conv₃ₓ₃(reflect_pad₁(o)))`, 8 → 3 channels with bias; values in (−1, 1).
#[derive(Module, Debug)]
pub(crate) struct Head {
    pub conv: Conv2d,
}

impl Head {
    pub fn new(device: &Device) -> Self {
        Self {
            conv: conv(TAIL_WIDTHS[1], 3, 3, 1, 0, 1).init(device),
        }
    }

    pub fn forward(&self, o: Tensor<4>) -> Tensor<4> {
        self.conv
            .forward(o.pad((1, 1, 1, 1), PadMode::Reflect))
            .tanh()
    }
}
