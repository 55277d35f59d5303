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
use std::mem::MaybeUninit;
use std::sync::OnceLock;

use super::filter::fir;
use super::{linalg, luma, models, MetricError, Rgb8};

const PS: usize = 8;
const NF: usize = 12;

/// A model prepared for the Sherman–Morrison distance: `A⁻¹` with `A = Σ/2`, `A⁻¹·1`,
/// `1ᵀA⁻¹1`.
struct Model {
    mu: [f64; NF],
    /// `A⁻¹` transposed: `a_inv_t[j][i] = A⁻¹[i][j]`.
    a_inv_t: [[f64; NF]; NF],
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
            a_inv_t: std::array::from_fn(|j| std::array::from_fn(|i| a_inv[i * NF + j])),
            a_inv_ones,
        }
    }

    /// Distance of a patch's feature vector `f` (with the sample variance `var` of its
    /// entries); NaN where pyfade's is NaN.
    #[inline(always)]
    fn distance(&self, f: &[f64; NF], var: f64) -> f64 {
        let mut u = [0.0; NF];
        for k in 0..NF {
            u[k] = self.mu[k] - f[k];
        }
        // uᵀA⁻¹u summed as `linalg::quad` does (row i: Σ_j in order from −0.0, then Σ_i),
        // the 12 row sums side by side.
        let mut t = [-0.0f64; NF];
        for (col, &uj) in self.a_inv_t.iter().zip(&u) {
            for (ti, &m) in t.iter_mut().zip(col) {
                *ti += m * uj;
            }
        }
        let base = u.iter().zip(&t).map(|(a, b)| a * b).sum::<f64>();
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

/// Taps of the contrast-energy derivative kernel.
const NK: usize = 20;
/// Patch rows per parallel band.
const BAND_PR: usize = 4;
/// Contrast-energy noise thresholds `τ` of the grey, yellow–blue and red–green channels.
const CE_TAU: [f64; 3] = [
    9.225496406318721e-004 * 255.0,
    8.969246659629488e-004 * 255.0,
    2.069284034165411e-004 * 255.0,
];
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

/// Fills `row[..r]` and `row[r + n..]` of a row whose samples are `row[r..r + n]` with the
/// nearest edge sample.
#[inline(always)]
fn replicate_pad<T: Copy>(row: &mut [T], r: usize) {
    let n = row.len() - 2 * r;
    let (first, last) = (row[r], row[r + n - 1]);
    row[..r].fill(first);
    row[r + n..].fill(last);
}

/// Sample variance (ddof 1); NaN if empty, 0 for one value.
#[inline(always)]
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

/// What every band reads.
struct Input<'a> {
    /// The uncropped interleaved RGB image and its row stride in bytes.
    rgb: &'a [u8],
    stride: usize,
    /// Cropped size.
    w: usize,
    h: usize,
    /// MATLAB grey of the cropped image.
    gray: &'a [u8],
    /// 1-D MSCN Gaussian (marginal of the 7×7 window).
    g1: [f64; 7],
    /// Contrast-energy kernel.
    kce: &'a [f64],
    mu_off: &'a [f64],
    m2_off: &'a [f64],
    /// `−q·log2(q)` for `q = c/64`, `c = 0..=64`.
    ent: [f64; PS * PS + 1],
}

/// Per-thread work rows.
struct Scratch {
    /// One channel's rows `y0 − 9 ..= y0 + rows + 9`, each extended by pyfade's padding to `w + NK − 1`.
    chan: Vec<f64>,
    cx: Vec<f64>,
    cy: Vec<f64>,
    /// Vertically filtered `I` and `I²`, with 3 replicate samples each side.
    vmu: Vec<f64>,
    vm2: Vec<f64>,
    mu: Vec<f64>,
    m2: Vec<f64>,
    /// Vertical 7-sample min / max of the grey, 3 replicate samples each side.
    vlo: Vec<u8>,
    vhi: Vec<u8>,
    /// MSCN of the row above the band (index 0) and the band's rows; σ and σ/μ of the band.
    mscn: Vec<f64>,
    sigma: Vec<f64>,
    cv: Vec<f64>,
    /// One patch's MSCN values, vertical products, `R − G` and yellow–blue values.
    patch: [[f64; PS * PS]; 4],
}

impl Scratch {
    fn new(w: usize) -> Self {
        Self {
            chan: vec![0.0; (BAND_PR * PS + NK - 1) * (w + NK - 1)],
            cx: vec![0.0; w],
            cy: vec![0.0; w],
            vmu: vec![0.0; w + 6],
            vm2: vec![0.0; w + 6],
            mu: vec![0.0; w],
            m2: vec![0.0; w],
            vlo: vec![0; w + 6],
            vhi: vec![0; w + 6],
            mscn: vec![0.0; (BAND_PR * PS + 1) * w],
            sigma: vec![0.0; BAND_PR * PS * w],
            cv: vec![0.0; BAND_PR * PS * w],
            patch: [[0.0; PS * PS]; 4],
        }
    }
}

/// Band `bi` (patch rows `BAND_PR·bi ..`, as many as `feats` holds): writes the contrast
/// magnitudes `C` of the three channels to `cmag` (`[channel][row][x]`, every element) and the
/// patch features other than the contrast energies to `feats`; returns the band's maximum `C`
/// per channel.
fn band(
    inp: &Input,
    bi: usize,
    s: &mut Scratch,
    cmag: &mut [MaybeUninit<f64>],
    feats: &mut [[f64; NF]],
) -> [f64; 3] {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2. (No FMA is enabled: results are bit-identical.)
        return unsafe { band_avx2(inp, bi, s, cmag, feats) };
    }
    band_body(inp, bi, s, cmag, feats)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn band_avx2(
    inp: &Input,
    bi: usize,
    s: &mut Scratch,
    cmag: &mut [MaybeUninit<f64>],
    feats: &mut [[f64; NF]],
) -> [f64; 3] {
    band_body(inp, bi, s, cmag, feats)
}

#[inline(always)]
fn band_body(
    inp: &Input,
    bi: usize,
    s: &mut Scratch,
    cmag: &mut [MaybeUninit<f64>],
    feats: &mut [[f64; NF]],
) -> [f64; 3] {
    let (w, h) = (inp.w, inp.h);
    let pc = w / PS;
    let rows = cmag.len() / (3 * w);
    let y0 = bi * BAND_PR * PS;
    let we = w + NK - 1;

    // Contrast magnitude C = sqrt((c∗gₓ)² + (c∗g_y)²), one channel at a time. MATLAB conv2
    // 'same' with the 20-tap kernel: out[i] = Σ_m k[m]·in[i + 10 − m] on the padded image.
    let mut cmax = [f64::NEG_INFINITY; 3];
    for (c, cm) in cmax.iter_mut().enumerate() {
        // chan row j holds image row ce_src(y0 − 9 + j), extended: index e ↔ column e − 9.
        for (j, ext) in s.chan[..(rows + NK - 1) * we]
            .chunks_exact_mut(we)
            .enumerate()
        {
            let sy = ce_src(y0 as isize - 9 + j as isize, h);
            let src = &inp.rgb[sy * inp.stride..sy * inp.stride + 3 * w];
            let body = &mut ext[9..9 + w];
            match c {
                0 => {
                    for (o, p) in body.iter_mut().zip(src.chunks_exact(3)) {
                        let (r, g, b) = (p[0] as f64, p[1] as f64, p[2] as f64);
                        *o = 0.299 * r + 0.587 * g + 0.114 * b;
                    }
                }
                1 => {
                    for (o, p) in body.iter_mut().zip(src.chunks_exact(3)) {
                        let (r, g, b) = (p[0] as f64, p[1] as f64, p[2] as f64);
                        *o = 0.5 * r + 0.5 * g - b;
                    }
                }
                _ => {
                    for (o, p) in body.iter_mut().zip(src.chunks_exact(3)) {
                        *o = p[0] as f64 - p[1] as f64;
                    }
                }
            }
            for e in (0..9).chain(9 + w..we) {
                ext[e] = ext[9 + ce_src(e as isize - 9, w)];
            }
        }
        for yy in 0..rows {
            // Horizontal: row yy of the band is chan row yy + 9; out[x] = Σ_m k[m]·ext[x + 19 − m].
            let ext = &s.chan[(yy + 9) * we..(yy + 10) * we];
            let hs: [&[f64]; NK] = std::array::from_fn(|m| &ext[NK - 1 - m..NK - 1 - m + w]);
            fir(&mut s.cx, &hs, inp.kce);
            // Vertical: image row y + 10 − m is chan row yy + 19 − m.
            let chan = &s.chan;
            let vs: [&[f64]; NK] = std::array::from_fn(|m| {
                let j = yy + NK - 1 - m;
                &chan[j * we + 9..j * we + 9 + w]
            });
            fir(&mut s.cy, &vs, inp.kce);
            let out = &mut cmag[(c * rows + yy) * w..(c * rows + yy + 1) * w];
            let mut mx = *cm;
            for ((o, &a), &b) in out.iter_mut().zip(&s.cx).zip(&s.cy) {
                let v = (a * a + b * b).sqrt();
                o.write(v);
                mx = if v > mx { v } else { mx };
            }
            *cm = mx;
        }
    }

    // MSCN of the row above the band (circularly) and of the band's rows.
    let ya = (y0 + h - 1) % h;
    let (mu_off, m2_off) = (inp.mu_off, inp.m2_off);
    for (k, y) in std::iter::once(ya).chain(y0..y0 + rows).enumerate() {
        let rows: [&[u8]; 7] = std::array::from_fn(|i| {
            let sy = (y + i).saturating_sub(3).min(h - 1);
            &inp.gray[sy * w..(sy + 1) * w]
        });
        // Vertical pass of μ = G∗I and m₂ = G∗I² (taps in order, from 0.0), and the vertical
        // min / max for the constant-window test.
        {
            let (vmu, vm2) = (&mut s.vmu[3..3 + w], &mut s.vm2[3..3 + w]);
            let (vlo, vhi) = (&mut s.vlo[3..3 + w], &mut s.vhi[3..3 + w]);
            vlo.copy_from_slice(rows[0]);
            vhi.copy_from_slice(rows[0]);
            // First tap: `0.0 + k·v` is `k·v` exactly (k > 0, v ≥ 0, so never −0.0).
            let k0 = inp.g1[0];
            for ((a, b), &v) in vmu.iter_mut().zip(vm2.iter_mut()).zip(rows[0]) {
                let v = v as f64;
                *a = k0 * v;
                *b = k0 * (v * v);
            }
            for (row, &kv) in rows.iter().zip(&inp.g1).skip(1) {
                for ((a, b), &v) in vmu.iter_mut().zip(vm2.iter_mut()).zip(*row) {
                    let v = v as f64;
                    *a += kv * v;
                    *b += kv * (v * v);
                }
                for ((lo, hi), &v) in vlo.iter_mut().zip(vhi.iter_mut()).zip(*row) {
                    *lo = (*lo).min(v);
                    *hi = (*hi).max(v);
                }
            }
        }
        replicate_pad(&mut s.vmu, 3);
        replicate_pad(&mut s.vm2, 3);
        replicate_pad(&mut s.vlo, 3);
        replicate_pad(&mut s.vhi, 3);
        let vmu = &s.vmu;
        let hs: [&[f64]; 7] = std::array::from_fn(|j| &vmu[j..j + w]);
        fir(&mut s.mu, &hs, &inp.g1);
        let vm2 = &s.vm2;
        let hs: [&[f64]; 7] = std::array::from_fn(|j| &vm2[j..j + w]);
        fir(&mut s.m2, &hs, &inp.g1);
        // Constant 7×7 neighbourhood: MATLAB's rounding of the filtered moments.
        let grow = rows[3];
        for ((((lo7, hi7), &gv), m), q) in s
            .vlo
            .windows(7)
            .zip(s.vhi.windows(7))
            .zip(grow)
            .zip(s.mu.iter_mut())
            .zip(s.m2.iter_mut())
        {
            let lo = lo7.iter().fold(255u8, |a, &b| a.min(b));
            let hi = hi7.iter().fold(0u8, |a, &b| a.max(b));
            if lo == hi {
                let gf = gv as f64;
                *m = gf + mu_off[gv as usize];
                *q = gf * gf + m2_off[gv as usize];
            }
        }
        let mscn = &mut s.mscn[k * w..(k + 1) * w];
        if k == 0 {
            for (((o, &m), &q), &g) in mscn.iter_mut().zip(&s.mu).zip(&s.m2).zip(grow) {
                let sg = (q - m * m).abs().sqrt();
                *o = (g as f64 - m) / (sg + 1.0);
            }
        } else {
            let sigma = &mut s.sigma[(k - 1) * w..k * w];
            let cv = &mut s.cv[(k - 1) * w..k * w];
            for (((((o, sd), c), &m), &q), &g) in mscn
                .iter_mut()
                .zip(sigma.iter_mut())
                .zip(cv.iter_mut())
                .zip(&s.mu)
                .zip(&s.m2)
                .zip(grow)
            {
                let sg = (q - m * m).abs().sqrt();
                *sd = sg;
                *o = (g as f64 - m) / (sg + 1.0);
                *c = sg / m;
            }
        }
    }

    // Patch features (all but the contrast energies), pixels of a patch in row-major order.
    for (pi, f) in feats.iter_mut().enumerate() {
        let (r0, x0) = (pi / pc * PS, pi % pc * PS);
        let [v, pair, rg, by] = &mut s.patch;
        let (mut sum_sigma, mut sum_cv) = (-0.0f64, -0.0f64);
        let mut hist = [0u8; 256];
        let (mut dark, mut sat) = (0.0, 0.0);
        for yy in r0..r0 + PS {
            let cur = &s.mscn[(yy + 1) * w + x0..(yy + 1) * w + x0 + PS];
            let up = &s.mscn[yy * w + x0..yy * w + x0 + PS];
            let sg = &s.sigma[yy * w + x0..yy * w + x0 + PS];
            let cvr = &s.cv[yy * w + x0..yy * w + x0 + PS];
            let y = y0 + yy;
            let grow = &inp.gray[y * w + x0..y * w + x0 + PS];
            let px_rgb = &inp.rgb[y * inp.stride + 3 * x0..y * inp.stride + 3 * (x0 + PS)];
            for xx in 0..PS {
                let i = (yy - r0) * PS + xx;
                v[i] = cur[xx];
                pair[i] = cur[xx] * up[xx];
                sum_sigma += sg[xx];
                sum_cv += cvr[xx];
                hist[grow[xx] as usize] += 1;
                let (r, g, b) = (
                    px_rgb[3 * xx] as f64,
                    px_rgb[3 * xx + 1] as f64,
                    px_rgb[3 * xx + 2] as f64,
                );
                let (rn, gn, bn) = (r / 255.0, g / 255.0, b / 255.0);
                let mx = rn.max(gn).max(bn);
                let mn = rn.min(gn).min(bn);
                dark += mn;
                if mx > 0.0 {
                    sat += (mx - mn) / mx;
                }
                rg[i] = r - g;
                by[i] = 0.5 * (r + g) - b;
            }
        }
        // Entropy over the occupied grey levels in ascending order.
        let mut ent = -0.0f64;
        for word in hist.chunks_exact(8) {
            if u64::from_ne_bytes(word.try_into().expect("8 bytes")) != 0 {
                for &cnt in word {
                    if cnt > 0 {
                        ent += inp.ent[cnt as usize];
                    }
                }
            }
        }
        let m_rg = rg.iter().sum::<f64>() / 64.0;
        let m_by = by.iter().sum::<f64>() / 64.0;
        let cf = (sample_var(rg.iter().copied()) + sample_var(by.iter().copied())).sqrt()
            + 0.3 * (m_rg * m_rg + m_by * m_by).sqrt();
        *f = [
            sample_var(v.iter().copied()),
            sample_var(pair.iter().copied().filter(|&p| p >= 0.0)),
            sample_var(pair.iter().copied().filter(|&p| p <= 0.0)),
            sum_sigma / 64.0,
            sum_cv / 64.0,
            0.0,
            0.0,
            0.0,
            ent,
            dark / 64.0,
            sat / 64.0,
            cf,
        ];
    }
    cmax
}

/// Band second pass: turns the band's contrast magnitudes into contrast energies (which need
/// the image-wide maxima `cmax`), adds their patch means to the features and returns each
/// patch's distances to the two models.
fn band_distances(
    cmag: &mut [f64],
    cmax: [f64; 3],
    feats: &[[f64; NF]],
    w: usize,
    out: &mut [(f64, f64)],
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2.
        return unsafe { band_distances_avx2(cmag, cmax, feats, w, out) };
    }
    band_distances_body(cmag, cmax, feats, w, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn band_distances_avx2(
    cmag: &mut [f64],
    cmax: [f64; 3],
    feats: &[[f64; NF]],
    w: usize,
    out: &mut [(f64, f64)],
) {
    band_distances_body(cmag, cmax, feats, w, out)
}

#[inline(always)]
fn band_distances_body(
    cmag: &mut [f64],
    cmax: [f64; 3],
    feats: &[[f64; NF]],
    w: usize,
    out: &mut [(f64, f64)],
) {
    let (fogfree, foggy) = models_pair();
    let rows = cmag.len() / (3 * w);
    let pc = w / PS;
    for (c, plane) in cmag.chunks_exact_mut(rows * w).enumerate() {
        let (m, tau) = (cmax[c], CE_TAU[c]);
        for v in plane.iter_mut() {
            let r = (*v * m) / (*v + m * 0.1) - tau;
            // NaN (flat channel, 0/0) and small responses are 0, as in pyfade.
            *v = if r > 1e-7 { r } else { 0.0 };
        }
    }
    for (pi, (raw, d)) in feats.iter().zip(out.iter_mut()).enumerate() {
        let (r0, x0) = (pi / pc * PS, pi % pc * PS);
        let mut raw = *raw;
        for c in 0..3 {
            let mut sum = -0.0f64;
            for yy in r0..r0 + PS {
                let o = (c * rows + yy) * w + x0;
                for &v in &cmag[o..o + PS] {
                    sum += v;
                }
            }
            raw[5 + c] = sum / 64.0;
        }
        let f = raw.map(f64::ln_1p);
        let var = sample_var(f.iter().copied().filter(|v| !v.is_nan()));
        *d = (fogfree.distance(&f, var), foggy.distance(&f, var));
    }
}

/// MATLAB grey of the rows `out` holds (`w` wide) of the interleaved image `rgb` (row stride
/// `stride` bytes).
fn gray_rows(rgb: &[u8], stride: usize, w: usize, out: &mut [u8]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2.
        return unsafe { gray_rows_avx2(rgb, stride, w, out) };
    }
    gray_rows_body(rgb, stride, w, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn gray_rows_avx2(rgb: &[u8], stride: usize, w: usize, out: &mut [u8]) {
    gray_rows_body(rgb, stride, w, out)
}

#[inline(always)]
fn gray_rows_body(rgb: &[u8], stride: usize, w: usize, out: &mut [u8]) {
    for (y, row) in out.chunks_exact_mut(w).enumerate() {
        luma::gray_matlab_row(&rgb[y * stride..y * stride + 3 * w], row);
    }
}

/// FADE fog density of an 8-bit RGB image (lower = less fog).
///
/// Needs at least 16×16 pixels: pyfade's contrast-energy padding copies 10 rows and columns
/// and fails on an 8-pixel-high or -wide crop. Returns [`MetricError::Undefined`] when no
/// patch has a defined distance (e.g. an all-black image, where `σ/μ = 0/0` everywhere).
///
/// Computed in bands of 8 rows (one patch row) in parallel: each band filters the rows it
/// needs and reduces them to patch statistics at once; only the contrast magnitudes are kept
/// image-wide, because the contrast energy needs their global maximum.
pub fn fade(img: &Rgb8) -> Result<f64, MetricError> {
    img.require("FADE", 2 * PS, 2 * PS)?;
    let (pr, pc) = (img.height() / PS, img.width() / PS);
    let (w, h) = (pc * PS, pr * PS);
    let stride = 3 * img.width();
    let data = img.data();
    // MATLAB grey of the crop (top-left kept).
    let mut gray = vec![0u8; w * h];
    gray.par_chunks_mut(w * 64)
        .enumerate()
        .for_each(|(i, rows)| gray_rows(&data[i * 64 * stride..], stride, w, rows));
    let win = models::fade_mscn_window();
    // The window is an outer product; its marginal is the 1-D Gaussian.
    let g1: [f64; 7] = std::array::from_fn(|j| (0..7).map(|i| win[i * 7 + j]).sum());
    let inp = Input {
        rgb: data,
        stride,
        w,
        h,
        gray: &gray,
        g1,
        kce: models::fade_ce_kernel(),
        mu_off: models::fade_constwin_mu_offsets(),
        m2_off: models::fade_constwin_m2_offsets(),
        ent: std::array::from_fn(|c| {
            let q = c as f64 / (PS * PS) as f64;
            -(q * q.log2())
        }),
    };
    debug_assert_eq!(inp.kce.len(), NK);

    let band_c = 3 * BAND_PR * PS * w;
    let band_f = BAND_PR * pc;
    let mut cmag: Vec<f64> = Vec::with_capacity(3 * w * h);
    let mut feats = vec![[0.0f64; NF]; pr * pc];
    let cmax = cmag.spare_capacity_mut()[..3 * w * h]
        .par_chunks_mut(band_c)
        .zip(feats.par_chunks_mut(band_f))
        .enumerate()
        .map_init(
            || Scratch::new(w),
            |s, (bi, (cm, f))| band(&inp, bi, s, cm, f),
        )
        .reduce(
            || [f64::NEG_INFINITY; 3],
            |a, b| std::array::from_fn(|c| if b[c] > a[c] { b[c] } else { a[c] }),
        );
    // SAFETY: every band wrote every element of its chunk of the spare capacity.
    unsafe { cmag.set_len(3 * w * h) };
    let mut dists = vec![(0.0, 0.0); pr * pc];
    dists
        .par_chunks_mut(band_f)
        .zip(cmag.par_chunks_mut(band_c))
        .zip(feats.par_chunks(band_f))
        .for_each(|((d, cm), f)| band_distances(cm, cmax, f, w, d));

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
