//! The image-space degradation factors of the multi-factor hazy imaging model (KA-Net's
//! "multiple degradation factors"; ranges from the RIDCP synthesis pipeline): luminance
//! gamma, sensor noise, optical blur and JPEG re-compression. Scattering itself is in
//! [`super::scattering`].
//!
//! All functions take and return `[0, 1]` images; those that can leave the range clamp.

use crate::buffer::RgbImage;
use rand::RngExt;
use rand_distr::{Distribution, Normal, Poisson, StandardNormal};
use serde::Serialize;

/// `J ← J^γ` per sample. With γ > 1 mid-tones darken while black and white stay fixed,
/// which imitates an under-exposed, dim-light capture.
pub fn apply_gamma(img: &mut RgbImage, gamma: f32) {
    for p in img.planes_mut() {
        for v in p.iter_mut() {
            *v = v.clamp(0.0, 1.0).powf(gamma);
        }
    }
}

/// How Gaussian sensor noise is spread over the channels.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NoiseKind {
    /// Independent `N(0, σ²)` in each channel.
    Colour,
    /// One `N(0, σ²)` plane added to all three channels (luminance noise).
    Grey,
    /// `n_c = σ·(√ρ·z + √(1−ρ)·z_c)` with a shared `z` and per-channel `z_c`: each channel has
    /// standard deviation σ and any two channels have correlation ρ (demosaicking and
    /// colour-matrix processing correlate real sensor noise across channels).
    Correlated { rho: f32 },
}

impl NoiseKind {
    /// A short name for records (`colour`, `grey`, `correlated`).
    pub fn name(&self) -> &'static str {
        match self {
            NoiseKind::Colour => "colour",
            NoiseKind::Grey => "grey",
            NoiseKind::Correlated { .. } => "correlated",
        }
    }
}

/// Adds zero-mean Gaussian noise of standard deviation `sigma` (on the `[0,1]` scale) of the
/// given kind, then clamps to `[0,1]`.
pub fn add_gaussian_noise<R: rand::Rng>(
    img: &mut RgbImage,
    kind: NoiseKind,
    sigma: f32,
    rng: &mut R,
) {
    if sigma <= 0.0 {
        return;
    }
    let n = img.pixels();
    let z = |rng: &mut R| -> f32 { StandardNormal.sample(rng) };
    match kind {
        NoiseKind::Colour => {
            for p in img.planes_mut() {
                for v in p.iter_mut() {
                    *v = (*v + sigma * z(rng)).clamp(0.0, 1.0);
                }
            }
        }
        NoiseKind::Grey => {
            let [r, g, b] = img.planes_mut();
            for i in 0..n {
                let e = sigma * z(rng);
                r[i] = (r[i] + e).clamp(0.0, 1.0);
                g[i] = (g[i] + e).clamp(0.0, 1.0);
                b[i] = (b[i] + e).clamp(0.0, 1.0);
            }
        }
        NoiseKind::Correlated { rho } => {
            let rho = rho.clamp(0.0, 1.0);
            let (a, c) = (rho.sqrt(), (1.0 - rho).sqrt());
            let [r, g, b] = img.planes_mut();
            for i in 0..n {
                let shared = z(rng);
                for p in [&mut r[i], &mut g[i], &mut b[i]] {
                    *p = (*p + sigma * (a * shared + c * z(rng))).clamp(0.0, 1.0);
                }
            }
        }
    }
}

/// Poisson shot noise: each sample becomes `Poisson(peak·v)/peak`, so its variance is
/// `v/peak` (signal-dependent, the first half of the Poisson–Gaussian sensor model; the
/// Gaussian read noise is [`add_gaussian_noise`]). `peak` is the photon count of white.
pub fn add_poisson_noise<R: rand::Rng>(img: &mut RgbImage, peak: f32, rng: &mut R) {
    if peak.is_nan() || peak <= 0.0 {
        return;
    }
    let peak = peak as f64;
    for p in img.planes_mut() {
        for v in p.iter_mut() {
            let lambda = (*v as f64).clamp(0.0, 1.0) * peak;
            let k = if lambda <= 0.0 {
                0.0
            } else if lambda > 1e5 {
                // Normal approximation; Poisson's sampler is slow for very large λ.
                let d = Normal::new(lambda, lambda.sqrt()).expect("finite parameters");
                d.sample(rng)
            } else {
                Poisson::new(lambda)
                    .map(|d| d.sample(rng))
                    .unwrap_or(lambda)
            };
            *v = ((k / peak) as f32).clamp(0.0, 1.0);
        }
    }
}

/// Optical blur applied before scattering.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub enum Blur {
    /// Uniform disc (pillbox) of radius `radius` px: the point-spread function of an
    /// out-of-focus thin lens in geometric optics.
    Defocus { radius: f32 },
    /// Uniform line of length `length` px at `angle` radians: constant-velocity camera shake.
    Motion { length: f32, angle: f32 },
}

/// The normalised kernel of `blur`, as `(size, weights)` with `size` odd, row-major.
///
/// The disc and the line are rasterised by 4×4 supersampling of each kernel pixel (disc: the
/// fraction of the pixel inside `x²+y² ≤ r²`; line: the fraction of sub-samples within half a
/// pixel of the segment), so that non-integer sizes change the kernel smoothly.
pub fn blur_kernel(blur: Blur) -> (usize, Vec<f32>) {
    const SS: usize = 4;
    let (half, inside): (usize, Box<dyn Fn(f32, f32) -> bool>) = match blur {
        Blur::Defocus { radius } => {
            let r = radius.max(0.0);
            (
                r.ceil() as usize,
                Box::new(move |x, y| x * x + y * y <= r * r),
            )
        }
        Blur::Motion { length, angle } => {
            let l = length.max(0.0) / 2.0;
            let (dx, dy) = (angle.cos(), angle.sin());
            (
                (l.ceil() as usize).max(1),
                Box::new(move |x, y| {
                    let along = x * dx + y * dy;
                    let across = -x * dy + y * dx;
                    along.abs() <= l && across.abs() <= 0.5
                }),
            )
        }
    };
    let size = 2 * half + 1;
    let mut k = vec![0.0f32; size * size];
    for ky in 0..size {
        for kx in 0..size {
            let mut hits = 0;
            for sy in 0..SS {
                for sx in 0..SS {
                    let x = kx as f32 - half as f32 + (sx as f32 + 0.5) / SS as f32 - 0.5;
                    let y = ky as f32 - half as f32 + (sy as f32 + 0.5) / SS as f32 - 0.5;
                    if inside(x, y) {
                        hits += 1;
                    }
                }
            }
            k[ky * size + kx] = hits as f32;
        }
    }
    let sum: f32 = k.iter().sum();
    if sum <= 0.0 {
        // Degenerate (zero-size) blur: the identity kernel.
        let mut id = vec![0.0; size * size];
        id[size * size / 2] = 1.0;
        return (size, id);
    }
    k.iter_mut().for_each(|v| *v /= sum);
    (size, k)
}

/// Convolves each channel with the kernel of `blur`, edges replicated.
pub fn apply_blur(img: &RgbImage, blur: Blur) -> RgbImage {
    let (size, k) = blur_kernel(blur);
    let half = (size / 2) as isize;
    let (w, h) = (img.width(), img.height());
    let mut out = Vec::with_capacity(3 * w * h);
    for p in img.planes() {
        for y in 0..h as isize {
            for x in 0..w as isize {
                let mut s = 0.0f32;
                for ky in 0..size as isize {
                    let yy = (y + ky - half).clamp(0, h as isize - 1) as usize;
                    let row = &p[yy * w..(yy + 1) * w];
                    let krow = &k[ky as usize * size..(ky as usize + 1) * size];
                    for (kx, &kv) in krow.iter().enumerate() {
                        if kv != 0.0 {
                            let xx = (x + kx as isize - half).clamp(0, w as isize - 1) as usize;
                            s += kv * row[xx];
                        }
                    }
                }
                out.push(s);
            }
        }
    }
    RgbImage::from_planar(w, h, out)
}

/// Quantises to 8 bits (round half up), the representation every encoder sees.
pub fn to_rgb8(img: &RgbImage) -> Vec<u8> {
    img.to_interleaved()
        .iter()
        .map(|v| (v.clamp(0.0, 1.0) * 255.0 + 0.5) as u8)
        .collect()
}

/// Encodes the image as a baseline JPEG at `quality` (1–100) with the `image` crate's
/// encoder and decodes it again: block-DCT quantisation artefacts and chroma loss, as in
/// images that went through a web pipeline. Errors only if the codec fails.
pub fn jpeg_roundtrip(img: &RgbImage, quality: u8) -> Result<RgbImage, image::ImageError> {
    use image::ImageDecoder;
    let (w, h) = (img.width(), img.height());
    let mut bytes = Vec::new();
    let mut enc =
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality.clamp(1, 100));
    enc.encode(
        &to_rgb8(img),
        w as u32,
        h as u32,
        image::ExtendedColorType::Rgb8,
    )?;
    let dec = image::codecs::jpeg::JpegDecoder::new(std::io::Cursor::new(&bytes))?;
    let mut buf = vec![0u8; dec.total_bytes() as usize];
    let colour = dec.color_type();
    dec.read_image(&mut buf)?;
    let rgb: Vec<f32> = match colour {
        image::ColorType::L8 => buf.iter().flat_map(|&v| [v as f32 / 255.0; 3]).collect(),
        _ => buf.iter().map(|&v| v as f32 / 255.0).collect(),
    };
    Ok(RgbImage::from_interleaved(w, h, &rgb))
}

/// Draws a value uniformly from `[min, max]` (returns `min` when they are equal).
pub(crate) fn uniform<R: rand::Rng>(rng: &mut R, min: f64, max: f64) -> f64 {
    if max > min {
        rng.random_range(min..=max)
    } else {
        min
    }
}
