//! AHG generation on whole images: the trained `E` and `D` behind dehaze-core's image types.
//!
//! ```text
//! M     = clamp((α·E(I_c) + (1−α)·E(I_h)) ⊙ F, 0, 1)      (core's `ahg_density`)
//! hazy  = D(I_c, M)
//! ```
//!
//! Images of any size are accepted: they are padded on the right and bottom by edge
//! replication up to a multiple of the U-Nets' size multiple, and the outputs cropped back.
//! A hazy reference of another size than the clear image is resized bilinearly first
//! ([`resize_bilinear`]).

use super::model::{AhgConfig, AhgGenerator};
use crate::weights::WeightsError;
use burn::prelude::*;
use dehaze_core::synth::density::{ahg_density, DensityEncoder};
use dehaze_core::synth::rng::{derive_rng, Stream};
use dehaze_core::{Plane, RgbImage};
use rand::RngExt;
use std::path::Path;

/// Mixed into the master seed so that AHG draws are independent of the physical pipeline's
/// draws for the same `(image, copy)` ("AHG" in ASCII).
pub const AHG_SEED_SALT: u64 = 0x0041_4847;

/// The random choices of one generated sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AhgDraw {
    /// `α`, the weight of the clear image's map.
    pub alpha: f32,
    /// Seed of the Perlin field `F` (for dehaze-core's `Synthesizer::density_field`).
    pub field_seed: u64,
    /// Index of the hazy reference among `n_refs` (0 when there are none).
    pub reference: usize,
}

/// The draws of sample `(image_index, copy_index)`: a pure function of its arguments, so a
/// sample does not depend on thread count or order. `α ~ U[alpha.0, alpha.1]`.
pub fn draw(
    seed: u64,
    image_index: u64,
    copy_index: u64,
    alpha: (f32, f32),
    n_refs: usize,
) -> AhgDraw {
    let mut rng = derive_rng(
        seed ^ AHG_SEED_SALT,
        image_index,
        copy_index,
        Stream::Params,
    );
    let a = if alpha.1 > alpha.0 {
        rng.random_range(alpha.0..=alpha.1)
    } else {
        alpha.0
    };
    let field_seed = rng.random::<u64>();
    let reference = if n_refs > 0 {
        rng.random_range(0..n_refs)
    } else {
        0
    };
    AhgDraw {
        alpha: a,
        field_seed,
        reference,
    }
}

/// A loaded AHG generator ready for inference.
#[derive(Debug)]
pub struct AhgModel {
    generator: AhgGenerator,
    config: AhgConfig,
    device: Device,
}

/// `data` (planes of `w × h`) padded to `pw × ph` by repeating the last column and row.
fn pad_planes(data: &[f32], planes: usize, w: usize, h: usize, pw: usize, ph: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(planes * pw * ph);
    for p in 0..planes {
        let src = &data[p * w * h..(p + 1) * w * h];
        for y in 0..ph {
            let row = &src[y.min(h - 1) * w..y.min(h - 1) * w + w];
            out.extend_from_slice(row);
            out.extend(std::iter::repeat_n(row[w - 1], pw - w));
        }
    }
    out
}

/// The top-left `w × h` of each `pw × ph` plane of `data`.
fn crop_planes(data: &[f32], planes: usize, pw: usize, ph: usize, w: usize, h: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(planes * w * h);
    for p in 0..planes {
        let src = &data[p * pw * ph..(p + 1) * pw * ph];
        for y in 0..h {
            out.extend_from_slice(&src[y * pw..y * pw + w]);
        }
    }
    out
}

/// Bilinear resize (pixel centres aligned, edges clamped) to `w × h`.
pub fn resize_bilinear(img: &RgbImage, w: usize, h: usize) -> RgbImage {
    let (sw, sh) = (img.width(), img.height());
    if (sw, sh) == (w, h) {
        return img.clone();
    }
    let sx = sw as f32 / w as f32;
    let sy = sh as f32 / h as f32;
    let mut out = Vec::with_capacity(3 * w * h);
    for p in img.planes() {
        for y in 0..h {
            let fy = ((y as f32 + 0.5) * sy - 0.5).clamp(0.0, (sh - 1) as f32);
            let (y0, ty) = (fy.floor() as usize, fy - fy.floor());
            let y1 = (y0 + 1).min(sh - 1);
            for x in 0..w {
                let fx = ((x as f32 + 0.5) * sx - 0.5).clamp(0.0, (sw - 1) as f32);
                let (x0, tx) = (fx.floor() as usize, fx - fx.floor());
                let x1 = (x0 + 1).min(sw - 1);
                let top = p[y0 * sw + x0] * (1.0 - tx) + p[y0 * sw + x1] * tx;
                let bot = p[y1 * sw + x0] * (1.0 - tx) + p[y1 * sw + x1] * tx;
                out.push(top * (1.0 - ty) + bot * ty);
            }
        }
    }
    RgbImage::from_planar(w, h, out)
}

impl AhgModel {
    /// Wraps a generator (its tensors must live on `device`).
    pub fn new(generator: AhgGenerator, config: AhgConfig, device: Device) -> Self {
        Self {
            generator: generator.valid(),
            config,
            device,
        }
    }

    /// Loads weights written by [`AhgGenerator::save`] (e.g. by `dehaze train-ahg`). Errors
    /// name the file.
    pub fn load(path: &Path, device: &Device) -> Result<Self, WeightsError> {
        let (g, c) = AhgGenerator::load(path, device)?;
        Ok(Self::new(g, c, device.clone()))
    }

    pub fn config(&self) -> &AhgConfig {
        &self.config
    }

    fn padded_size(&self, w: usize, h: usize) -> (usize, usize) {
        let m = self.generator.size_multiple();
        (w.div_ceil(m) * m, h.div_ceil(m) * m)
    }

    fn tensor(&self, data: &[f32], planes: usize, w: usize, h: usize) -> Tensor<4> {
        let (pw, ph) = self.padded_size(w, h);
        let padded = pad_planes(data, planes, w, h, pw, ph);
        Tensor::from_data(TensorData::new(padded, [1, planes, ph, pw]), &self.device)
    }

    fn to_vec(&self, t: Tensor<4>, planes: usize, w: usize, h: usize) -> Vec<f32> {
        let (pw, ph) = self.padded_size(w, h);
        let v = t
            .into_data()
            .try_into_vec::<f32>()
            .expect("AHG networks output f32");
        crop_planes(&v, planes, pw, ph, w, h)
    }

    /// `E(img)`: the haze-density map, same size as `img`, in `(0, 1)`.
    pub fn density(&self, img: &RgbImage) -> Plane {
        let (w, h) = (img.width(), img.height());
        let m = self
            .generator
            .encoder
            .forward(self.tensor(img.data(), 3, w, h));
        Plane::from_vec(w, h, self.to_vec(m, 1, w, h))
    }

    /// `D(clear, density)`: `clear` rendered under the map (same size). Panics if the sizes
    /// differ.
    pub fn render(&self, clear: &RgbImage, density: &Plane) -> RgbImage {
        let (w, h) = (clear.width(), clear.height());
        assert_eq!(
            (w, h),
            (density.width(), density.height()),
            "density map size differs from the image"
        );
        let out = self.generator.decoder.forward(
            self.tensor(clear.data(), 3, w, h),
            self.tensor(density.data(), 1, w, h),
        );
        RgbImage::from_planar(w, h, self.to_vec(out, 3, w, h))
    }

    /// A new hazy version of `clear`: `D(I_c, clamp((α·E(I_c) + (1−α)·E(I_h)) ⊙ F, 0, 1))`,
    /// with `hazy_ref` resized to `clear`'s size if needed and `field` (already rescaled, e.g.
    /// to `[0.5, 1.5]`) optional. Returns the image and the map `M` used.
    pub fn generate(
        &self,
        clear: &RgbImage,
        hazy_ref: &RgbImage,
        alpha: f32,
        field: Option<&Plane>,
    ) -> (RgbImage, Plane) {
        let reference = resize_bilinear(hazy_ref, clear.width(), clear.height());
        let m = ahg_density(self, clear, &reference, alpha, field);
        (self.render(clear, &m), m)
    }
}

impl DensityEncoder for AhgModel {
    /// The learned encoder `E`.
    fn encode(&self, img: &RgbImage) -> Plane {
        self.density(img)
    }
}
