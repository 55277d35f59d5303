//! NIQE — Natural Image Quality Evaluator (Mittal, Soundararajan & Bovik, "Making a
//! 'completely blind' image quality analyzer", IEEE SPL 2013), following BasicSR 1.4.2's
//! `calculate_niqe(img, crop_border=0)` with the official pristine model (96×96 blocks).
//!
//! 1. Luma ([`NiqeLuma`]), rounded half to even as BasicSR does (in float32).
//! 2. Crop to `96·⌊H/96⌋ × 96·⌊W/96⌋` (top-left).
//! 3. Per scale: MSCN `Î = (I − μ)/(σ + 1)`, `μ = G∗I`, `σ = sqrt(|G∗I² − μ²|)` with the 7×7
//!    Gaussian (σ 7/6) and replicate borders. BasicSR runs this in **float32** (scipy keeps the
//!    input dtype): the correlations accumulate in float64 but are stored as float32, and `I²`,
//!    `μ²`, the difference, the square root and the division are float32. We do the same; with
//!    plain float64 hazy images with flat skies miss the reference by up to 0.06.
//! 4. Per block (96×96 at scale 1, 48×48 at scale 2), 18 features: the AGGD fit `(α, (βl+βr)/2)`
//!    of `Î`, and for the circular shifts (0,1), (1,0), (1,1), (1,−1) of the block the AGGD fit of
//!    the product `Î·Î_shifted`: `(α, η = (βr − βl)·Γ(2/α)/Γ(1/α), βl, βr)`, where
//!    `β = σ·sqrt(Γ(1/α)/Γ(3/α))`.
//! 5. Scale 2 is `imresize(I/255, 0.5)·255` (MATLAB bicubic with antialiasing), not re-rounded.
//! 6. `μd` = NaN-ignoring mean of the 36-dim block features, `Σd` = sample covariance of the
//!    NaN-free blocks, `NIQE = sqrt((μp − μd)ᵀ pinv((Σp + Σd)/2) (μp − μd))`.

use rayon::prelude::*;

use super::filter::{correlate2d, Border};
use super::imresize::imresize_half;
use super::nss::{fit_aggd, gamma};
use super::{linalg, luma, models, MetricError, Rgb8};

const BLOCK: usize = 96;
const NF: usize = 36;

/// Which luma NIQE is computed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NiqeLuma {
    /// MATLAB `rgb2ycbcr` Y (`16 + (65.481R + 128.553G + 24.966B)/255`), BasicSR
    /// `convert_to='y'` — the usual choice in super-resolution and dehazing papers.
    Y,
    /// OpenCV `BGR2GRAY` (`0.299R + 0.587G + 0.114B`), BasicSR `convert_to='gray'`.
    Gray,
}

/// MSCN coefficients in BasicSR's float32 arithmetic (see the module docs).
fn mscn_f32(img: &[f32], w: usize, h: usize) -> Vec<f32> {
    let win = models::niqe_gaussian_window();
    let x: Vec<f64> = img.iter().map(|&v| v as f64).collect();
    let x2: Vec<f64> = img.iter().map(|&v| (v * v) as f64).collect();
    let (mu, m2) = rayon::join(
        || correlate2d(&x, w, h, win, Border::Replicate),
        || correlate2d(&x2, w, h, win, Border::Replicate),
    );
    img.iter()
        .zip(mu.iter().zip(&m2))
        .map(|(&i, (&mu, &m2))| {
            let (mu, m2) = (mu as f32, m2 as f32);
            let sigma = (m2 - mu * mu).abs().sqrt();
            (i - mu) / (sigma + 1.0)
        })
        .collect()
}

/// The 18 features of one `bs×bs` block of the MSCN map starting at `(x0, y0)`.
fn block_features(n: &[f32], w: usize, x0: usize, y0: usize, bs: usize, out: &mut [f64]) {
    let row = |r: usize| &n[(y0 + r) * w + x0..(y0 + r) * w + x0 + bs];
    // The values of each fit, in row-major order, gathered without per-sample index arithmetic.
    let mut vals: Vec<f64> = Vec::with_capacity(bs * bs);
    for r in 0..bs {
        vals.extend(row(r).iter().map(|&v| v as f64));
    }
    let a = fit_aggd(vals.iter().copied());
    let scale = |alpha: f64| (gamma(1.0 / alpha) / gamma(3.0 / alpha)).sqrt();
    let s = scale(a.alpha);
    out[0] = a.alpha;
    out[1] = (a.sigma_l * s + a.sigma_r * s) / 2.0;
    for (k, (dr, dc)) in [(0isize, 1isize), (1, 0), (1, 1), (1, -1)]
        .into_iter()
        .enumerate()
    {
        // np.roll: shifted[r][c] = block[(r − dr) mod bs][(c − dc) mod bs]; product in float32.
        vals.clear();
        for r in 0..bs {
            let (cur, sh) = (
                row(r),
                row((r as isize - dr).rem_euclid(bs as isize) as usize),
            );
            for (c, &v) in cur.iter().enumerate() {
                let cs = match dc {
                    1 if c == 0 => bs - 1,
                    1 => c - 1,
                    -1 if c + 1 == bs => 0,
                    -1 => c + 1,
                    _ => c,
                };
                vals.push((v * sh[cs]) as f64);
            }
        }
        let a = fit_aggd(vals.iter().copied());
        let s = scale(a.alpha);
        let (bl, br) = (a.sigma_l * s, a.sigma_r * s);
        let o = &mut out[2 + 4 * k..6 + 4 * k];
        o[0] = a.alpha;
        o[1] = (br - bl) * (gamma(2.0 / a.alpha) / gamma(1.0 / a.alpha));
        o[2] = bl;
        o[3] = br;
    }
}

/// NIQE of an 8-bit RGB image on the chosen luma (lower = better).
///
/// Needs at least one 96×96 block ([`MetricError::TooSmall`]) and at least two blocks whose
/// features are all defined, since the image's feature covariance needs two samples
/// ([`MetricError::Undefined`] otherwise, e.g. for a 96×96 image or a constant image; BasicSR
/// fails on those).
pub fn niqe(img: &Rgb8, luma_kind: NiqeLuma) -> Result<f64, MetricError> {
    img.require("NIQE", BLOCK, BLOCK)?;
    let (nbw, nbh) = (img.width() / BLOCK, img.height() / BLOCK);
    let (w, h) = (nbw * BLOCK, nbh * BLOCK);
    let full: Vec<f32> = match luma_kind {
        NiqeLuma::Y => luma::y_basicsr_plane(img)
            .into_iter()
            .map(f32::round_ties_even)
            .collect(),
        NiqeLuma::Gray => luma::gray_opencv_rounded(img),
    };
    let fw = img.width();
    let mut lum = Vec::with_capacity(w * h);
    for y in 0..h {
        lum.extend_from_slice(&full[y * fw..y * fw + w]);
    }

    let nblocks = nbw * nbh;
    let mut feats = vec![0.0f64; nblocks * NF];
    let n1 = mscn_f32(&lum, w, h);
    // Scale 2: imresize(I/255, 0.5)·255, in float32 storage like BasicSR.
    let x: Vec<f64> = lum.iter().map(|&v| (v / 255.0f32) as f64).collect();
    let (half, w2, h2) = imresize_half(&x, w, h);
    let lum2: Vec<f32> = half.iter().map(|&v| (v as f32) * 255.0f32).collect();
    let n2 = mscn_f32(&lum2, w2, h2);
    feats.par_chunks_mut(NF).enumerate().for_each(|(b, f)| {
        let (bx, by) = (b % nbw, b / nbw);
        block_features(&n1, w, bx * BLOCK, by * BLOCK, BLOCK, &mut f[..18]);
        let bs2 = BLOCK / 2;
        block_features(&n2, w2, bx * bs2, by * bs2, bs2, &mut f[18..]);
    });

    // μd: NaN-ignoring column means; Σd: sample covariance of the NaN-free blocks.
    let mut mu_d = [0.0; NF];
    for (j, m) in mu_d.iter_mut().enumerate() {
        let (s, k) = feats
            .chunks(NF)
            .map(|f| f[j])
            .filter(|v| !v.is_nan())
            .fold((0.0, 0usize), |(s, k), v| (s + v, k + 1));
        *m = s / k as f64;
    }
    let clean: Vec<&[f64]> = feats
        .chunks(NF)
        .filter(|f| f.iter().all(|v| !v.is_nan()))
        .collect();
    if clean.len() < 2 || mu_d.iter().any(|v| !v.is_finite()) {
        return Err(MetricError::Undefined {
            metric: "NIQE",
            reason: "fewer than two 96x96 blocks with defined statistics",
        });
    }
    let mut mean_c = [0.0; NF];
    for f in &clean {
        for j in 0..NF {
            mean_c[j] += f[j];
        }
    }
    mean_c.iter_mut().for_each(|v| *v /= clean.len() as f64);
    let pris_cov = models::niqe_pris_cov();
    let mut cov = vec![0.0; NF * NF];
    for i in 0..NF {
        for j in i..NF {
            let c: f64 = clean
                .iter()
                .map(|f| (f[i] - mean_c[i]) * (f[j] - mean_c[j]))
                .sum::<f64>()
                / (clean.len() - 1) as f64;
            cov[i * NF + j] = (pris_cov[i * NF + j] + c) / 2.0;
            cov[j * NF + i] = (pris_cov[j * NF + i] + c) / 2.0;
        }
    }
    let inv = linalg::pinv_sym(&cov, NF);
    let d: Vec<f64> = models::niqe_pris_mu()
        .iter()
        .zip(&mu_d)
        .map(|(p, m)| p - m)
        .collect();
    let q = linalg::quad(&d, &inv, &d).sqrt();
    if q.is_finite() {
        Ok(q)
    } else {
        Err(MetricError::Undefined {
            metric: "NIQE",
            reason: "non-finite distance to the pristine model",
        })
    }
}
