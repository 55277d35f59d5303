//! Scoring an image with every quality metric the reports show: the metric table
//! ([`METRICS`]), [`score`] on an 8-bit image (what is saved is what is scored), and the CSV
//! cell of a value. Shared by `dehaze metrics` and `dehaze eval`.

use crate::batch::guarded;
use dehaze_core::metrics::{self as m, MetricError, Rgb8};

/// One quality metric: its CSV column name, how the report labels it, which way is better.
#[derive(Clone, Copy, Debug)]
pub struct Metric {
    pub name: &'static str,
    pub label: &'static str,
    pub higher_is_better: bool,
    /// Needs a ground truth (full-reference metric).
    pub full_reference: bool,
}

const fn metric(
    name: &'static str,
    label: &'static str,
    higher_is_better: bool,
    full_reference: bool,
) -> Metric {
    Metric {
        name,
        label,
        higher_is_better,
        full_reference,
    }
}

/// Number of no-reference metrics: the first `N_NR` of [`METRICS`].
pub const N_NR: usize = 5;
/// Number of metrics in [`METRICS`].
pub const N_METRICS: usize = 10;

/// Every metric, in CSV column order: the no-reference ones, then the full-reference ones.
pub const METRICS: [Metric; N_METRICS] = [
    metric("fade", "FADE", false, false),
    metric("niqe_y", "NIQE (Y)", false, false),
    metric("niqe_gray", "NIQE (grey)", false, false),
    metric("brisque", "BRISQUE", false, false),
    metric("entropy", "Entropy", true, false),
    metric("psnr_rgb", "PSNR RGB", true, true),
    metric("ssim_rgb_gauss", "SSIM RGB (Gauss)", true, true),
    metric("ssim_rgb_uniform", "SSIM RGB (uniform)", true, true),
    metric("psnr_y", "PSNR Y", true, true),
    metric("ssim_y", "SSIM Y", true, true),
];

/// The value of each of [`METRICS`] for one image; `None` where there is none.
pub type Values = [Option<f64>; N_METRICS];

/// Scores `img`: the no-reference metrics, and the full-reference ones against `reference`.
///
/// Returns the values and, if something went wrong (a size mismatch with the reference, a
/// metric that panicked), one line saying what; the values that could be computed are kept.
/// Non-finite values (e.g. the PSNR of identical images) count as no value.
pub fn score(img: &Rgb8, reference: Option<&Rgb8>) -> (Values, Option<String>) {
    let mut values: Values = [None; N_METRICS];
    let mut problems = Vec::new();
    match guarded(|| m::no_reference(img)) {
        Ok(s) => {
            values[..N_NR].copy_from_slice(&[s.fade, s.niqe_y, s.niqe_gray, s.brisque, s.entropy])
        }
        Err(e) => problems.push(format!("no-reference metrics failed: {e}")),
    }
    if let Some(reference) = reference {
        match guarded(|| full_reference(img, reference)) {
            Ok(Ok(fr)) => values[N_NR..].copy_from_slice(&fr),
            Ok(Err(e)) => problems.push(format!("full-reference metrics: {e}")),
            Err(e) => problems.push(format!("full-reference metrics failed: {e}")),
        }
    }
    for v in &mut values {
        *v = v.filter(|x| x.is_finite());
    }
    let problem = (!problems.is_empty()).then(|| problems.join("; "));
    (values, problem)
}

/// The five full-reference values; `Err` only for images of different sizes. When the images
/// are too small for some metric (SSIM's window), the others are still given.
fn full_reference(img: &Rgb8, reference: &Rgb8) -> Result<[Option<f64>; 5], MetricError> {
    match m::full_reference(img, reference) {
        Ok(s) => Ok([
            s.psnr_rgb,
            s.ssim_rgb_gauss,
            s.ssim_rgb_uniform,
            s.psnr_y,
            s.ssim_y,
        ]
        .map(Some)),
        Err(e @ MetricError::SizeMismatch { .. }) => Err(e),
        Err(_) => Ok([
            m::psnr_rgb(img, reference).ok(),
            m::ssim_rgb_gauss(img, reference).ok(),
            m::ssim_rgb_uniform(img, reference).ok(),
            m::psnr_y(img, reference).ok(),
            m::ssim_y(img, reference).ok(),
        ]),
    }
}

/// A CSV cell for a metric value: 6 decimals, empty when there is none.
pub fn cell(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite())
        .map(|x| format!("{x:.6}"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn cells_have_six_decimals_or_nothing() {
        assert_eq!(super::cell(Some(1.0 / 3.0)), "0.333333");
        assert_eq!(super::cell(Some(f64::INFINITY)), "");
        assert_eq!(super::cell(None), "");
    }
}
