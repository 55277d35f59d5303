//! FADE — Fog Aware Density Evaluator (Choi, You & Bovik, "Referenceless prediction of
//! perceptual fog density and perceptual image defogging", IEEE TIP 2015), following
//! fade-python 1.0.0 (`pyfade`), the MATLAB-aligned port, with patch size 8.
//!
//! 1. Crop to a multiple of 8 (top-left kept). Grey `I = round_half_up(0.298936021293775·R +
//!    0.587043074451121·G + 0.114020904255103·B)` (MATLAB `rgb2gray` on `uint8`).
//! 2. MSCN: `μ = G∗I`, `m₂ = G∗I²` with the 7×7 Gaussian (σ 7/6), replicate borders. Where the
//!    7×7 neighbourhood is constant, MATLAB's `imfilter` leaves a known rounding error; pyfade
//!    reproduces it with a lookup, `μ = g + Δμ[g]`, `m₂ = g² + Δm₂[g]`, and so do we.
//!    `σ = sqrt(|m₂ − μ²|)`, `Î = (I − μ)/(σ + 1)`.
//! 3. Per 8×8 patch, 12 statistics `f`, each then `log(1 + f)`:
//!    sample variance of `Î`; sample variances of the positive and negative parts of the
//!    vertical product `Î(i,j)·Î(i−1,j)` (circular over the image); mean `σ`; mean `σ/μ`;
//!    mean contrast energy of the grey, yellow–blue and red–green channels; entropy of the
//!    patch's grey levels; mean dark channel `min(r,g,b)`; mean HSV saturation;
//!    colourfulness `sqrt(s²_rg + s²_by) + 0.3·sqrt(m²_rg + m²_by)`.
//! 4. Mahalanobis-like distance of each patch to the fog-free and foggy MVG models:
//!    `u = μ_model − f`, `v` = sample variance of the 12 entries of `f`,
//!    `D = sqrt(uᵀ((Σ + v·11ᵀ)/2)⁻¹u)` (Sherman–Morrison on `A = Σ/2`).
//!    `FADE = mean(D_fogfree) / (mean(D_foggy) + 1)`, means over the patches where `D` is
//!    defined (NaN-ignoring, like pyfade).
//!
//! Contrast energy (Groen et al.): `CE = C·max(C)/(C + 0.1·max(C)) − τ_c` (kept where > 1e-7,
//! else 0), `C = sqrt((c∗gₓ)² + (c∗g_y)²)` with `g` the 20-tap second derivative of a Gaussian
//! (σ 3.25) and the image padded by copying its first/last 10 rows and columns (pyfade's
//! `border_in`), `τ = (9.2255e-4, 8.9692e-4, 2.0693e-4)·255` for grey
//! (`0.299R + 0.587G + 0.114B`), yellow–blue (`(R+G)/2 − B`) and red–green (`R − G`).
//!
//! Everything is float64, as in pyfade.

use rayon::prelude::*;
use std::sync::OnceLock;

use super::filter::{separable, Border};
use super::{linalg, luma, models, MetricError, Rgb8};

const PS: usize = 8;
const NF: usize = 12;

/// A model prepared for the Sherman–Morrison distance: `A⁻¹` with `A = Σ/2`, `A⁻¹·1`,
/// `1ᵀA⁻¹1`.
struct Model {
    mu: [f64; NF],
    a_inv: Vec<f64>,
    a_inv_ones: [f64; NF],
    ones_quad: f64,
}

impl Model {
    fn new(mu: &[f64], cov: &[f64]) -> Self {
        let half: Vec<f64> = cov.iter().map(|v| v / 2.0).collect();
        let a_inv = linalg::invert(&half, NF).expect("FADE model covariance is invertible");
        let mut a_inv_ones = [0.0; NF];
        for (i, o) in a_inv_ones.iter_mut().enumerate() {
            *o = (0..NF).map(|j| a_inv[i * NF + j]).sum();
        }
        Self {
            mu: mu.try_into().expect("12 means"),
            ones_quad: a_inv_ones.iter().sum(),
            a_inv,
            a_inv_ones,
        }
    }

    /// Distance of a patch's feature vector `f` (with the sample variance `var` of its
    /// entries); NaN where pyfade's is NaN.
    fn distance(&self, f: &[f64; NF], var: f64) -> f64 {
        let mut u = [0.0; NF];
        for k in 0..NF {
            u[k] = self.mu[k] - f[k];
        }
        let base = linalg::quad(&u, &self.a_inv, &u);
        let alpha = var / 2.0;
        let mu_ones: f64 = u.iter().zip(&self.a_inv_ones).map(|(a, b)| a * b).sum();
        let mut d2 = base - alpha * mu_ones * mu_ones / (1.0 + alpha * self.ones_quad);
        if d2 < 0.0 && d2.abs() < 1e-12 {
            d2 = 0.0;
        }
        d2.sqrt()
    }
}

fn models_pair() -> &'static (Model, Model) {
    static M: OnceLock<(Model, Model)> = OnceLock::new();
    M.get_or_init(|| {
        (
            Model::new(models::fade_fogfree_mu(), models::fade_fogfree_cov()),
            Model::new(models::fade_foggy_mu(), models::fade_foggy_cov()),
        )
    })
}

/// Source index for pyfade's `border_in` padding (first/last 10 samples copied, not mirrored)
/// seen from image coordinates: `t < 0 → t + 10`, `t ≥ n → t − 10`.
#[inline]
fn ce_src(t: isize, n: usize) -> usize {
    let n = n as isize;
    (if t < 0 {
        t + 10
    } else if t >= n {
        t - 10
    } else {
        t
    }) as usize
}

/// Contrast-energy map of one channel (see the module docs).
fn contrast_energy(ch: &[f64], w: usize, h: usize, threshold: f64) -> Vec<f64> {
    let k = models::fade_ce_kernel();
    let nk = k.len(); // 20; MATLAB conv2 'same': out[i] = Σ_m k[m]·in[i + 10 − m]
                      // Horizontal derivative: cx[y][x] = Σ_m k[m]·row[x + 10 − m], row extended to x − 9 ..= x + 10.
    let mut cx = vec![0.0; w * h];
    cx.par_chunks_mut(w).enumerate().for_each_init(
        || vec![0.0; w + nk],
        |ext, (y, out)| {
            let row = &ch[y * w..(y + 1) * w];
            // ext[j] = row at t = j − 9
            for (j, e) in ext.iter_mut().enumerate().take(w + nk - 1) {
                *e = row[ce_src(j as isize - 9, w)];
            }
            for (m, &kv) in k.iter().enumerate() {
                // t = x + 10 − m → j = x + 19 − m
                let s = &ext[nk - 1 - m..nk - 1 - m + w];
                for (o, &v) in out.iter_mut().zip(s) {
                    *o += kv * v;
                }
            }
        },
    );
    // Vertical derivative and magnitude.
    let mut c = vec![0.0; w * h];
    c.par_chunks_mut(w).enumerate().for_each_init(
        || vec![0.0; w],
        |acc, (y, out)| {
            acc.iter_mut().for_each(|v| *v = 0.0);
            for (m, &kv) in k.iter().enumerate() {
                let sy = ce_src(y as isize + 10 - m as isize, h);
                let s = &ch[sy * w..(sy + 1) * w];
                for (o, &v) in acc.iter_mut().zip(s) {
                    *o += kv * v;
                }
            }
            let gx = &cx[y * w..(y + 1) * w];
            for ((o, &a), &b) in out.iter_mut().zip(gx).zip(acc.iter()) {
                *o = (a * a + b * b).sqrt();
            }
        },
    );
    let cmax = c.par_iter().cloned().reduce(|| f64::NEG_INFINITY, f64::max);
    c.par_iter_mut().for_each(|v| {
        let r = (*v * cmax) / (*v + cmax * 0.1) - threshold;
        // NaN (flat channel, 0/0) and small responses are 0, as in pyfade.
        *v = if r > 1e-7 { r } else { 0.0 };
    });
    c
}

/// Sample variance (ddof 1) of the values selected by `keep`; NaN if none, 0 if one.
fn sample_var(vals: impl Iterator<Item = f64> + Clone) -> f64 {
    let (mut n, mut s) = (0usize, 0.0);
    for v in vals.clone() {
        n += 1;
        s += v;
    }
    match n {
        0 => f64::NAN,
        1 => 0.0,
        _ => {
            let m = s / n as f64;
            vals.map(|v| (v - m) * (v - m)).sum::<f64>() / (n as f64 - 1.0)
        }
    }
}

/// FADE fog density of an 8-bit RGB image (lower = less fog).
///
/// Needs at least 16×16 pixels: pyfade's contrast-energy padding copies 10 rows and columns
/// and fails on an 8-pixel-high or -wide crop. Returns [`MetricError::Undefined`] when no
/// patch has a defined distance (e.g. an all-black image, where `σ/μ = 0/0` everywhere).
pub fn fade(img: &Rgb8) -> Result<f64, MetricError> {
    img.require("FADE", 2 * PS, 2 * PS)?;
    let (pr, pc) = (img.height() / PS, img.width() / PS);
    let (w, h) = (pc * PS, pr * PS);
    let full_w = img.width();
    // Crop to the patch grid.
    let mut data = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        data.extend_from_slice(&img.data()[y * full_w * 3..(y * full_w + w) * 3]);
    }
    let img = Rgb8::new(w, h, data).expect("cropped size");
    let n = w * h;
    let rgb = |c: usize| -> Vec<f64> { (0..n).map(|i| img.px(i)[c] as f64).collect() };
    let (r, g, b) = (rgb(0), rgb(1), rgb(2));
    let gray_u8 = luma::gray_matlab(&img);

    let ((mscn_sigma, mscn_cv_pair), (ce_gray, (ce_by, ce_rg))) = rayon::join(
        || {
            let gray: Vec<f64> = gray_u8.iter().map(|&v| v as f64).collect();
            let win = models::fade_mscn_window();
            // The window is an outer product; its marginal is the 1-D Gaussian.
            let g1: Vec<f64> = (0..7)
                .map(|j| (0..7).map(|i| win[i * 7 + j]).sum())
                .collect();
            let sq: Vec<f64> = gray.iter().map(|v| v * v).collect();
            let (mut mu, mut m2) = rayon::join(
                || separable(&gray, w, h, &g1, &g1, Border::Replicate),
                || separable(&sq, w, h, &g1, &g1, Border::Replicate),
            );
            constant_window_fixup(&gray_u8, w, h, &mut mu, &mut m2);
            let mut sigma = vec![0.0; n];
            let mut mscn = vec![0.0; n];
            let mut cv = vec![0.0; n];
            for i in 0..n {
                let s = (m2[i] - mu[i] * mu[i]).abs().sqrt();
                sigma[i] = s;
                mscn[i] = (gray[i] - mu[i]) / (s + 1.0);
                cv[i] = s / mu[i];
            }
            ((sigma, mscn), cv)
        },
        || {
            let gray: Vec<f64> = (0..n)
                .map(|i| 0.299 * r[i] + 0.587 * g[i] + 0.114 * b[i])
                .collect();
            let by: Vec<f64> = (0..n).map(|i| 0.5 * r[i] + 0.5 * g[i] - b[i]).collect();
            let rg: Vec<f64> = (0..n).map(|i| r[i] - g[i]).collect();
            rayon::join(
                || contrast_energy(&gray, w, h, 9.225496406318721e-004 * 255.0),
                || {
                    rayon::join(
                        || contrast_energy(&by, w, h, 8.969246659629488e-004 * 255.0),
                        || contrast_energy(&rg, w, h, 2.069284034165411e-004 * 255.0),
                    )
                },
            )
        },
    );
    let ((sigma, mscn), cv) = (mscn_sigma, mscn_cv_pair);
    let (fogfree, foggy) = models_pair();

    // Per-patch features and distances, patches in parallel.
    let dists: Vec<(f64, f64)> = (0..pr * pc)
        .into_par_iter()
        .map(|p| {
            let (py, px) = (p / pc, p % pc);
            let idx = move |k: usize| (py * PS + k / PS) * w + px * PS + k % PS;
            let pix = (0..PS * PS).map(idx);
            let mean = |v: &[f64]| pix.clone().map(|i| v[i]).sum::<f64>() / (PS * PS) as f64;
            let pair = |i: usize| {
                let y = i / w;
                let above = if y == 0 { i + (h - 1) * w } else { i - w };
                mscn[i] * mscn[above]
            };
            let mut hist = [0u8; 256];
            for i in pix.clone() {
                hist[gray_u8[i] as usize] += 1;
            }
            let ent: f64 = hist
                .iter()
                .filter(|&&c| c > 0)
                .map(|&c| {
                    let q = c as f64 / (PS * PS) as f64;
                    -(q * q.log2())
                })
                .sum();
            let (mut dark, mut sat) = (0.0, 0.0);
            for i in pix.clone() {
                let (rn, gn, bn) = (r[i] / 255.0, g[i] / 255.0, b[i] / 255.0);
                let mx = rn.max(gn).max(bn);
                let mn = rn.min(gn).min(bn);
                dark += mn;
                if mx > 0.0 {
                    sat += (mx - mn) / mx;
                }
            }
            let rg = pix.clone().map(|i| r[i] - g[i]);
            let by = pix.clone().map(|i| 0.5 * (r[i] + g[i]) - b[i]);
            let m_rg = rg.clone().sum::<f64>() / 64.0;
            let m_by = by.clone().sum::<f64>() / 64.0;
            let cf =
                (sample_var(rg) + sample_var(by)).sqrt() + 0.3 * (m_rg * m_rg + m_by * m_by).sqrt();
            let raw = [
                sample_var(pix.clone().map(|i| mscn[i])),
                sample_var(pix.clone().map(pair).filter(|&v| v >= 0.0)),
                sample_var(pix.clone().map(pair).filter(|&v| v <= 0.0)),
                mean(&sigma),
                mean(&cv),
                mean(&ce_gray),
                mean(&ce_by),
                mean(&ce_rg),
                ent,
                dark / 64.0,
                sat / 64.0,
                cf,
            ];
            let f = raw.map(f64::ln_1p);
            let var = sample_var(f.iter().copied().filter(|v| !v.is_nan()));
            (fogfree.distance(&f, var), foggy.distance(&f, var))
        })
        .collect();
    let nanmean = |sel: fn(&(f64, f64)) -> f64| {
        let (s, k) = dists
            .iter()
            .map(sel)
            .filter(|v| !v.is_nan())
            .fold((0.0, 0usize), |(s, k), v| (s + v, k + 1));
        s / k as f64
    };
    let df = nanmean(|d| d.0);
    let dff = nanmean(|d| d.1);
    let score = df / (dff + 1.0);
    if score.is_finite() {
        Ok(score)
    } else {
        Err(MetricError::Undefined {
            metric: "FADE",
            reason: "no 8x8 patch has defined statistics",
        })
    }
}

/// Replaces the filtered moments where the 7×7 replicate-padded neighbourhood is constant by
/// MATLAB's values (`μ = g + Δμ[g]`, `m₂ = g² + Δm₂[g]`).
fn constant_window_fixup(gray: &[u8], w: usize, h: usize, mu: &mut [f64], m2: &mut [f64]) {
    let (mu_off, m2_off) = (
        models::fade_constwin_mu_offsets(),
        models::fade_constwin_m2_offsets(),
    );
    // Row-wise then column-wise 7-sample min and max (replicate borders).
    let clampi = |i: isize, n: usize| i.clamp(0, n as isize - 1) as usize;
    let mut rmin = vec![0u8; w * h];
    let mut rmax = vec![0u8; w * h];
    for y in 0..h {
        for x in 0..w {
            let (mut lo, mut hi) = (255u8, 0u8);
            for d in -3..=3isize {
                let v = gray[y * w + clampi(x as isize + d, w)];
                lo = lo.min(v);
                hi = hi.max(v);
            }
            rmin[y * w + x] = lo;
            rmax[y * w + x] = hi;
        }
    }
    for y in 0..h {
        for x in 0..w {
            let (mut lo, mut hi) = (255u8, 0u8);
            for d in -3..=3isize {
                let j = clampi(y as isize + d, h) * w + x;
                lo = lo.min(rmin[j]);
                hi = hi.max(rmax[j]);
            }
            if lo == hi {
                let i = y * w + x;
                let gv = gray[i] as usize;
                let gf = gray[i] as f64;
                mu[i] = gf + mu_off[gv];
                m2[i] = gf * gf + m2_off[gv];
            }
        }
    }
}
