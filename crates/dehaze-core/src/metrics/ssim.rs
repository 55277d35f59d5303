//! Structural similarity (Wang, Bovik, Sheikh & Simoncelli, TIP 2004) in the three variants the
//! dehazing literature reports.
//!
//! With local means `μx, μy`, variances `σx², σy²` and covariance `σxy` (weighted by the window),
//! `SSIM = ((2μxμy + C1)(2σxy + C2)) / ((μx² + μy² + C1)(σx² + σy² + C2))`, averaged over a map
//! region; `C1 = (0.01·L)²`, `C2 = (0.03·L)²` with `L` the data range.

use super::filter::{gaussian_taps, separable, Border};
use super::{luma, same_size, MetricError, Rgb8};

/// Mean SSIM map of two planes with a separable window `taps`, the image border handled by
/// `border`, variances scaled by `cov_norm`, the map averaged over `[crop..h−crop, crop..w−crop]`.
#[allow(clippy::too_many_arguments)]
fn ssim_plane(
    x: &[f64],
    y: &[f64],
    w: usize,
    h: usize,
    taps: &[f64],
    border: Border,
    cov_norm: f64,
    data_range: f64,
    crop: usize,
) -> f64 {
    let f = |p: &[f64]| separable(p, w, h, taps, taps, border);
    let xx: Vec<f64> = x.iter().map(|v| v * v).collect();
    let yy: Vec<f64> = y.iter().map(|v| v * v).collect();
    let xy: Vec<f64> = x.iter().zip(y).map(|(a, b)| a * b).collect();
    let ((ux, uy), (uxx, (uyy, uxy))) = rayon::join(
        || rayon::join(|| f(x), || f(y)),
        || rayon::join(|| f(&xx), || rayon::join(|| f(&yy), || f(&xy))),
    );
    let c1 = (0.01 * data_range) * (0.01 * data_range);
    let c2 = (0.03 * data_range) * (0.03 * data_range);
    let mut sum = 0.0;
    for r in crop..h - crop {
        for c in crop..w - crop {
            let i = r * w + c;
            let (mx, my) = (ux[i], uy[i]);
            let vx = cov_norm * (uxx[i] - mx * mx);
            let vy = cov_norm * (uyy[i] - my * my);
            let vxy = cov_norm * (uxy[i] - mx * my);
            let num = (2.0 * mx * my + c1) * (2.0 * vxy + c2);
            let den = (mx * mx + my * my + c1) * (vx + vy + c2);
            sum += num / den;
        }
    }
    sum / ((h - 2 * crop) * (w - 2 * crop)) as f64
}

fn channel(img: &Rgb8, c: usize) -> Vec<f64> {
    img.data()
        .iter()
        .skip(c)
        .step_by(3)
        .map(|&v| v as f64 / 255.0)
        .collect()
}

fn ssim_rgb(
    a: &Rgb8,
    b: &Rgb8,
    taps: &[f64],
    cov_norm: f64,
    name: &'static str,
) -> Result<f64, MetricError> {
    same_size(a, b)?;
    let k = taps.len();
    a.require(name, k, k)?;
    let (w, h) = (a.width(), a.height());
    let total: f64 = (0..3)
        .map(|c| {
            ssim_plane(
                &channel(a, c),
                &channel(b, c),
                w,
                h,
                taps,
                Border::Reflect,
                cov_norm,
                1.0,
                k / 2,
            )
        })
        .sum();
    Ok(total / 3.0)
}

/// SSIM on RGB as scikit-image `structural_similarity(x, y, gaussian_weights=True, sigma=1.5,
/// use_sample_covariance=False, data_range=1, channel_axis=-1)` on `x = u8/255`: Gaussian window
/// σ = 1.5 truncated at 3.5σ (11 taps), half-sample-symmetric borders, population statistics,
/// map averaged without its 5-pixel border, then over the channels. Needs at least 11×11.
pub fn ssim_rgb_gauss(a: &Rgb8, b: &Rgb8) -> Result<f64, MetricError> {
    ssim_rgb(a, b, &gaussian_taps(5, 1.5), 1.0, "SSIM (Gaussian)")
}

/// SSIM on RGB with scikit-image's defaults: 7×7 uniform window, half-sample-symmetric
/// borders, **sample** statistics (`cov_norm = 49/48`), map averaged without its 3-pixel border,
/// then over channels. Needs at least 7×7.
pub fn ssim_rgb_uniform(a: &Rgb8, b: &Rgb8) -> Result<f64, MetricError> {
    ssim_rgb(a, b, &[1.0 / 7.0; 7], 49.0 / 48.0, "SSIM (uniform)")
}

/// SSIM on the MATLAB `rgb2ycbcr` luma (0..255, unrounded), as BasicSR's
/// `calculate_ssim(..., test_y_channel=True)` = Wang et al.'s MATLAB reference: 11×11 Gaussian
/// window σ = 1.5 (`cv2.getGaussianKernel`), **valid** region only (the map is
/// `(H−10)×(W−10)`), `L = 255`, population statistics. Needs at least 11×11.
pub fn ssim_y(a: &Rgb8, b: &Rgb8) -> Result<f64, MetricError> {
    same_size(a, b)?;
    a.require("SSIM-Y", 11, 11)?;
    let (w, h) = (a.width(), a.height());
    let ya: Vec<f64> = luma::y_basicsr_plane(a)
        .into_iter()
        .map(f64::from)
        .collect();
    let yb: Vec<f64> = luma::y_basicsr_plane(b)
        .into_iter()
        .map(f64::from)
        .collect();
    // The border mode is irrelevant: the 5-pixel crop keeps exactly the valid region.
    Ok(ssim_plane(
        &ya,
        &yb,
        w,
        h,
        &gaussian_taps(5, 1.5),
        Border::Reflect,
        1.0,
        255.0,
        5,
    ))
}
