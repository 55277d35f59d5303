//! AHG's re-hazing decoder `D`: renders a clear image under a haze-density map.
//!
//! ```text
//! D(I_c, M) = I_c ⊙ (1 − M) + A ⊙ M,     A = σ(a₀ + U_D([I_c, M])),   a₀ = logit(0.8)
//! ```
//!
//! This is the atmospheric scattering model `I = J·t + A·(1 − t)` with the map read as haze
//! opacity, `t = 1 − M` (\[ours\]), and a per-pixel, per-channel "airlight" `A` predicted by a
//! small U-Net that sees the clear image and the map concatenated (4 channels). `A` is free
//! to differ from the global airlight, so `D` can also render colour casts and the loss of
//! detail of real haze. Why this form rather than a free image-to-image U-Net:
//!
//! * `M = 0` is no haze and denser maps give denser haze by construction, which is what
//!   interpolated and Perlin-scaled maps need to mean at generation time;
//! * the output is a convex combination of two images in `[0, 1]`, so it is one as well;
//! * from the first step, raising `M` moves the image towards a bright grey (`σ(a₀) = 0.8`),
//!   the right direction for haze, so `E` gets a useful gradient at once: "lower on clear
//!   images, higher on hazy ones". With a free U-Net, or a gate whose direction must first be
//!   learned, the two L1 terms cancel (any output between `I_c` and `I_h` costs the same) and
//!   the encoder collapsed to `M ≡ 0` in our tests.
//!
//! `U_D`'s output layer starts at zero, so `A` starts as uniform grey 0.8.

use super::unet::UNet;
use burn::prelude::*;
use burn::tensor::activation::sigmoid;

/// `a₀ = logit(0.8) = ln 4`: the initial airlight is a bright grey.
pub const AIRLIGHT_LOGIT_INIT: f64 = 1.386_294_361_119_890_6;

/// `D`: `(I_c [N, 3, H, W], M [N, 1, H, W])` → hazy image `[N, 3, H, W]` in `[0, 1]`.
#[derive(Module, Debug)]
pub struct RehazeDecoder {
    unet: UNet,
}

impl RehazeDecoder {
    /// A fresh decoder of base width `width` with `levels` U-Net levels (zero output layer).
    pub fn new(width: usize, levels: usize, device: &Device) -> Self {
        Self {
            unet: UNet::new(4, 3, width, levels, true, device),
        }
    }

    /// H and W must be multiples of this.
    pub fn size_multiple(&self) -> usize {
        self.unet.size_multiple()
    }

    /// The airlight `A = σ(a₀ + U_D([I_c, M]))`, `[N, 3, H, W]`.
    pub fn airlight(&self, clear: Tensor<4>, density: Tensor<4>) -> Tensor<4> {
        let u = self.unet.forward(Tensor::cat(vec![clear, density], 1));
        sigmoid(u.add_scalar(AIRLIGHT_LOGIT_INIT))
    }

    /// `I_c ⊙ (1 − M) + A ⊙ M` (`M` broadcast over the colour channels).
    pub fn forward(&self, clear: Tensor<4>, density: Tensor<4>) -> Tensor<4> {
        let a = self.airlight(clear.clone(), density.clone());
        clear.clone() + (a - clear) * density
    }
}
