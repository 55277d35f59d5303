//! BRISQUE — Blind/Referenceless Image Spatial Quality Evaluator (Mittal, Moorthy & Bovik,
//! IEEE TIP 2012), following pyiqa 0.1.16 (`version='original'`) with LIVE's `allmodel` SVR.
//!
//! 1. `Y = round_half_even(255·(0.299r + 0.587g + 0.114b))`, `r = R/255`, with the weights
//!    rounded to float32 as pyiqa builds them (exact decimals flip tie pixels; up to 0.08).
//! 2. Two scales. MSCN with the 7×7 Gaussian (σ 7/6) whose taps are float32-rounded (they sum
//!    to 1 + 1.1e-8, which gives flat regions a small non-zero σ; an exactly normalised window
//!    moves the score by up to 1.7) and **zero padding**: `μ = K⋆Y`,
//!    `σ = sqrt(|K⋆Y² − μ²| + ε)`, `n = (Y − μ)/(σ + 1)`.
//!    GGD fit: `α` = grid value whose `Γ(1/α)Γ(3/α)/Γ(2/α)²` is closest to
//!    `mean(n²)/mean(|n|)²`; features `α, mean(n²)`.
//!    For the circular shifts (0,1), (1,0), (1,1), (−1,1) of the whole image, AGGD fit of
//!    `n·n_shifted`: features `α, η = (σr − σl)·Γ(2/α)/sqrt(Γ(1/α)Γ(3/α)), σl², σr²`.
//!    Then `Y ← imresize(Y, 0.5)` (MATLAB bicubic with antialiasing, not re-rounded).
//! 3. The 36 features are scaled to `s = −1 + 2(f − min)/(max − min)` (published ranges, as
//!    float32 like pyiqa) and scored by the ε-SVR: `Σᵢ cᵢ·exp(−γ‖s − svᵢ‖²) − ρ`.
//!
//! Float64 otherwise (pyiqa is given float64 tensors).

use rayon::prelude::*;
use std::sync::OnceLock;

use super::filter::{correlate2d, Border};
use super::imresize::imresize_half;
use super::nss::{argmin_abs, fit_aggd, gamma, grid, GRID_LEN};
use super::{luma, models, MetricError, Rgb8};

/// `Γ(1/γ)Γ(3/γ)/Γ(2/γ)²` on the grid (the GGD moment ratio).
fn ggd_table() -> &'static [f64] {
    static T: OnceLock<Vec<f64>> = OnceLock::new();
    T.get_or_init(|| {
        (0..GRID_LEN)
            .map(|i| {
                let g = grid(i);
                let a = gamma(2.0 / g);
                gamma(1.0 / g) * gamma(3.0 / g) / (a * a)
            })
            .collect()
    })
}

fn undefined(reason: &'static str) -> MetricError {
    MetricError::Undefined {
        metric: "BRISQUE",
        reason,
    }
}

/// The 18 features of one scale.
fn scale_features(y: &[f64], w: usize, h: usize, out: &mut [f64]) -> Result<(), MetricError> {
    let k = models::brisque_gaussian_window_f32();
    let y2: Vec<f64> = y.iter().map(|v| v * v).collect();
    let (mu, m2) = rayon::join(
        || correlate2d(y, w, h, k, Border::Zero),
        || correlate2d(&y2, w, h, k, Border::Zero),
    );
    let n: Vec<f64> = (0..w * h)
        .map(|i| {
            let sigma = ((m2[i] - mu[i] * mu[i]).abs() + f64::EPSILON).sqrt();
            (y[i] - mu[i]) / (sigma + 1.0)
        })
        .collect();
    let count = n.len() as f64;
    let sigma_sq = n.iter().map(|v| v * v).sum::<f64>() / count;
    let e = n.iter().map(|v| v.abs()).sum::<f64>() / count;
    if sigma_sq.sqrt() <= 1e-8 {
        // pyiqa asserts "Expected image with non zero variance of pixel values".
        return Err(undefined("the normalised luminance is zero everywhere"));
    }
    out[0] = grid(argmin_abs(ggd_table(), sigma_sq / (e * e)));
    out[1] = sigma_sq;
    let shifts = [(0isize, 1isize), (1, 0), (1, 1), (-1, 1)];
    let fits: Vec<_> = shifts
        .par_iter()
        .map(|&(a, b)| {
            // torch.roll: s[i][j] = n[(i − a) mod H][(j − b) mod W]
            let prod = (0..h).flat_map(|i| {
                let si = (i as isize - a).rem_euclid(h as isize) as usize;
                let n = &n;
                (0..w).map(move |j| {
                    let sj = (j as isize - b).rem_euclid(w as isize) as usize;
                    n[i * w + j] * n[si * w + sj]
                })
            });
            fit_aggd(prod)
        })
        .collect();
    for (k, fit) in fits.iter().enumerate() {
        let al = fit.alpha;
        let eta = (fit.sigma_r - fit.sigma_l) * gamma(2.0 / al)
            / (gamma(1.0 / al) * gamma(3.0 / al)).sqrt();
        out[2 + 4 * k..6 + 4 * k].copy_from_slice(&[
            al,
            eta,
            fit.sigma_l * fit.sigma_l,
            fit.sigma_r * fit.sigma_r,
        ]);
    }
    Ok(())
}

/// BRISQUE score of an 8-bit RGB image (lower = better; very clean images can score below 0).
///
/// Needs at least 7×7 pixels. Returns [`MetricError::Undefined`] where pyiqa has no value
/// (a constant black image: all normalised coefficients are zero; or an image whose
/// coefficient products have no negative or no positive values, which gives NaN features).
pub fn brisque(img: &Rgb8) -> Result<f64, MetricError> {
    img.require("BRISQUE", 7, 7)?;
    let (w, h) = (img.width(), img.height());
    let y: Vec<f64> = luma::y_pyiqa_plane(img)
        .into_iter()
        .map(f64::from)
        .collect();
    let mut f = [0.0; 36];
    scale_features(&y, w, h, &mut f[..18])?;
    let (y2, w2, h2) = imresize_half(&y, w, h);
    scale_features(&y2, w2, h2, &mut f[18..])?;
    if f.iter().any(|v| !v.is_finite()) {
        return Err(undefined(
            "a feature is NaN (one-sided coefficient products)",
        ));
    }
    let (lo, hi) = (models::brisque_feature_min(), models::brisque_feature_max());
    let s: Vec<f64> = (0..36)
        .map(|j| {
            let (l, u) = (lo[j] as f32 as f64, hi[j] as f32 as f64);
            -1.0 + 2.0 * (f[j] - l) / (u - l)
        })
        .collect();
    let gamma_rbf = models::brisque_gamma()[0];
    // Kernel terms in parallel, summed in support-vector order (a parallel `sum` would make
    // the last bits depend on the scheduling).
    let terms: Vec<f64> = models::brisque_sv()
        .par_chunks(36)
        .zip(models::brisque_sv_coef().par_iter())
        .map(|(sv, &c)| {
            let d2: f64 = sv.iter().zip(&s).map(|(a, b)| (a - b) * (a - b)).sum();
            c * (-gamma_rbf * d2).exp()
        })
        .collect();
    let score = terms.iter().sum::<f64>() - models::brisque_rho()[0];
    if score.is_finite() {
        Ok(score)
    } else {
        Err(undefined("non-finite SVR output"))
    }
}
