//! Image-quality metrics of the dehazing literature, numerically faithful to the published
//! implementations that papers actually run.
//!
//! | metric | reference implementation | module |
//! |---|---|---|
//! | FADE (fog density, lower = less fog) | fade-python 1.0.0 (`pyfade`), MATLAB-aligned port of Choi et al. 2015 | [`fade`] |
//! | NIQE (lower = better), Y or grey luma | BasicSR 1.4.2 `calculate_niqe` | [`niqe`] |
//! | BRISQUE (lower = better) | pyiqa 0.1.16, version `original`, LIVE `allmodel` SVR | [`brisque`] |
//! | grey-level entropy (bits) | pyiqa 0.1.16 `entropy` | [`entropy`] |
//! | PSNR / SSIM on RGB | `10·log10(1/MSE)`, scikit-image `structural_similarity` | [`psnr_rgb`], [`ssim_rgb_gauss`], [`ssim_rgb_uniform`] |
//! | PSNR / SSIM on Y | BasicSR 1.4.2 `calculate_psnr` / `calculate_ssim` (`test_y_channel`) | [`psnr_y`], [`ssim_y`] |
//!
//! All metrics are defined on **8-bit RGB** images ([`Rgb8`]): every reference computes them
//! from `uint8` pixels, and several of them round an intermediate luma to integers, so feeding
//! them anything else would not reproduce published numbers. Dehazed `f32` outputs are quantised
//! with [`Rgb8::from_rgb_image`] (`round(x·255)`), as the evaluation protocol does.
//!
//! The reproduction details that matter (float32 emulation, rounding rules, border modes) are
//! documented on each function; the model parameters (FADE MVG models, NIQE pristine model,
//! BRISQUE SVR) are embedded in the crate (see `metrics/models/README.md`).
//!
//! Errors: images smaller than what a metric needs (8×8 for FADE, 96×96 for NIQE, 7×7 for
//! BRISQUE/SSIM) give [`MetricError::TooSmall`]; full-reference metrics on differently sized
//! images give [`MetricError::SizeMismatch`]; inputs on which the reference implementation itself
//! has no value (e.g. BRISQUE of a constant image, whose normalised coefficients are all zero)
//! give [`MetricError::Undefined`] instead of a NaN.

mod brisque;
mod entropy;
mod fade;
mod filter;
mod imresize;
mod linalg;
mod luma;
mod models;
mod niqe;
mod nss;
mod psnr;
mod ssim;

pub use brisque::brisque;
pub use entropy::entropy;
pub use fade::fade;
pub use imresize::imresize_half;
pub use niqe::{niqe, NiqeLuma};
pub use psnr::{psnr_rgb, psnr_y};
pub use ssim::{ssim_rgb_gauss, ssim_rgb_uniform, ssim_y};

use crate::buffer::RgbImage;

/// Why a metric could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricError {
    /// The two images of a full-reference metric differ in size.
    #[error("image sizes differ: {a_width}x{a_height} vs {b_width}x{b_height}")]
    SizeMismatch {
        a_width: usize,
        a_height: usize,
        b_width: usize,
        b_height: usize,
    },
    /// The image is smaller than the metric's analysis window.
    #[error(
        "{metric} needs an image of at least {min_width}x{min_height} pixels, got {width}x{height}"
    )]
    TooSmall {
        metric: &'static str,
        min_width: usize,
        min_height: usize,
        width: usize,
        height: usize,
    },
    /// The interleaved buffer does not hold `width·height·3` bytes.
    #[error("buffer holds {len} bytes, expected {expected} for {width}x{height} RGB")]
    BadBuffer {
        width: usize,
        height: usize,
        len: usize,
        expected: usize,
    },
    /// The metric has no value on this image (the reference implementation would return NaN
    /// or fail), e.g. a constant image for BRISQUE or NIQE.
    #[error("{metric} is undefined on this image: {reason}")]
    Undefined {
        metric: &'static str,
        reason: &'static str,
    },
}

/// An 8-bit RGB image, interleaved `R,G,B` bytes, row-major (the layout of
/// `image::RgbImage::into_raw()`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rgb8 {
    width: usize,
    height: usize,
    data: Vec<u8>,
}

impl Rgb8 {
    /// Wraps interleaved RGB bytes; `data.len()` must be `width·height·3`.
    pub fn new(width: usize, height: usize, data: Vec<u8>) -> Result<Self, MetricError> {
        let expected = width * height * 3;
        if data.len() != expected {
            return Err(MetricError::BadBuffer {
                width,
                height,
                len: data.len(),
                expected,
            });
        }
        Ok(Self {
            width,
            height,
            data,
        })
    }

    /// Quantises a planar `f32` image in `[0, 1]` to 8 bits as `round(clamp(x, 0, 1)·255)`
    /// (NaN maps to 0), the way dehazed outputs are written and evaluated.
    pub fn from_rgb_image(img: &RgbImage) -> Self {
        let (w, h) = (img.width(), img.height());
        let [r, g, b] = img.planes();
        let q = |x: f32| {
            if x.is_nan() {
                0
            } else {
                (x.clamp(0.0, 1.0) * 255.0).round() as u8
            }
        };
        let mut data = Vec::with_capacity(w * h * 3);
        for i in 0..w * h {
            data.extend_from_slice(&[q(r[i]), q(g[i]), q(b[i])]);
        }
        Self {
            width: w,
            height: h,
            data,
        }
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn height(&self) -> usize {
        self.height
    }

    /// The interleaved bytes.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    pub fn into_raw(self) -> Vec<u8> {
        self.data
    }

    /// Pixel `i` (row-major index) as `[R, G, B]`.
    #[inline]
    pub(crate) fn px(&self, i: usize) -> [u8; 3] {
        let o = 3 * i;
        [self.data[o], self.data[o + 1], self.data[o + 2]]
    }

    pub(crate) fn require(
        &self,
        metric: &'static str,
        min_width: usize,
        min_height: usize,
    ) -> Result<(), MetricError> {
        if self.width < min_width || self.height < min_height {
            Err(MetricError::TooSmall {
                metric,
                min_width,
                min_height,
                width: self.width,
                height: self.height,
            })
        } else {
            Ok(())
        }
    }
}

pub(crate) fn same_size(a: &Rgb8, b: &Rgb8) -> Result<(), MetricError> {
    if a.width != b.width || a.height != b.height {
        Err(MetricError::SizeMismatch {
            a_width: a.width,
            a_height: a.height,
            b_width: b.width,
            b_height: b.height,
        })
    } else {
        Ok(())
    }
}

/// The no-reference scores of one image (the CSV columns `fade,niqe_y,niqe_gray,brisque,entropy`).
/// A metric that cannot be computed on the image is `None` (see [`MetricError`]).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct NoReferenceScores {
    pub fade: Option<f64>,
    pub niqe_y: Option<f64>,
    pub niqe_gray: Option<f64>,
    pub brisque: Option<f64>,
    pub entropy: Option<f64>,
}

/// The full-reference scores of an image against its ground truth (the CSV columns
/// `psnr_rgb,ssim_rgb_gauss,ssim_rgb_uniform,psnr_y,ssim_y`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FullReferenceScores {
    pub psnr_rgb: f64,
    pub ssim_rgb_gauss: f64,
    pub ssim_rgb_uniform: f64,
    pub psnr_y: f64,
    pub ssim_y: f64,
}

/// Computes all five no-reference metrics, each in parallel with the others (rayon).
/// A metric that fails on this image (too small, undefined) is `None`; the others are still
/// computed.
pub fn no_reference(img: &Rgb8) -> NoReferenceScores {
    let ((fade_v, (niqe_y, niqe_gray)), (brisque_v, entropy_v)) = rayon::join(
        || {
            rayon::join(
                || fade(img).ok(),
                || {
                    rayon::join(
                        || niqe(img, NiqeLuma::Y).ok(),
                        || niqe(img, NiqeLuma::Gray).ok(),
                    )
                },
            )
        },
        || rayon::join(|| brisque(img).ok(), || entropy(img).ok()),
    );
    NoReferenceScores {
        fade: fade_v,
        niqe_y,
        niqe_gray,
        brisque: brisque_v,
        entropy: entropy_v,
    }
}

/// Computes all five full-reference metrics of `img` against `reference` (same size).
pub fn full_reference(img: &Rgb8, reference: &Rgb8) -> Result<FullReferenceScores, MetricError> {
    same_size(img, reference)?;
    let ((psnr_rgb_v, ssim_g), ((ssim_u, psnr_y_v), ssim_y_v)) = rayon::join(
        || {
            rayon::join(
                || psnr_rgb(img, reference),
                || ssim_rgb_gauss(img, reference),
            )
        },
        || {
            rayon::join(
                || {
                    rayon::join(
                        || ssim_rgb_uniform(img, reference),
                        || psnr_y(img, reference),
                    )
                },
                || ssim_y(img, reference),
            )
        },
    );
    Ok(FullReferenceScores {
        psnr_rgb: psnr_rgb_v?,
        ssim_rgb_gauss: ssim_g?,
        ssim_rgb_uniform: ssim_u?,
        psnr_y: psnr_y_v?,
        ssim_y: ssim_y_v?,
    })
}
