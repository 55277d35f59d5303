//! Peak signal-to-noise ratio.

use super::{luma, same_size, MetricError, Rgb8};

/// PSNR over all three channels: `x = a/255`, `y = b/255` (float64),
/// `MSE = mean((x − y)²)` over `H·W·3` samples, `PSNR = 10·log10(1/MSE)` dB.
/// No border crop, no colour conversion. Identical images give `+∞`.
pub fn psnr_rgb(a: &Rgb8, b: &Rgb8) -> Result<f64, MetricError> {
    same_size(a, b)?;
    a.require("PSNR", 1, 1)?;
    let sse: f64 = a
        .data()
        .iter()
        .zip(b.data())
        .map(|(&p, &q)| {
            let d = p as f64 / 255.0 - q as f64 / 255.0;
            d * d
        })
        .sum();
    let mse = sse / a.data().len() as f64;
    Ok(10.0 * (1.0 / mse).log10())
}

/// PSNR on the MATLAB `rgb2ycbcr` luma, as BasicSR's `calculate_psnr(..., test_y_channel=True)`:
/// `Y = 16 + (65.481·R + 128.553·G + 24.966·B)/255` on 0..255 (BasicSR's float32 recipe, not
/// rounded), `PSNR = 10·log10(255²/mean((Y₁ − Y₂)²))`. Identical images give `+∞`.
pub fn psnr_y(a: &Rgb8, b: &Rgb8) -> Result<f64, MetricError> {
    same_size(a, b)?;
    a.require("PSNR-Y", 1, 1)?;
    let n = a.width() * a.height();
    let sse: f64 = (0..n)
        .map(|i| {
            let d = luma::y_basicsr(a.px(i)) as f64 - luma::y_basicsr(b.px(i)) as f64;
            d * d
        })
        .sum();
    let mse = sse / n as f64;
    Ok(10.0 * (255.0 * 255.0 / mse).log10())
}
