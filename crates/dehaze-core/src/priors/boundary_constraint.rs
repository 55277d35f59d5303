//! Boundary constraint and contextual regularisation (Meng, Wang, Duan, Xiang & Pan, "Efficient
//! Image Dehazing with Boundary Constraint and Contextual Regularization", ICCV 2013).
//!
//! The steps and the default parameters follow the `image_dehazer` Python package (version
//! 0.0.9, PyPI), a widely used implementation of the paper; where it departs from the paper
//! we say so below. All intensities are on `[0, 1]`; the package works on `[0, 255]`, so its
//! constants `C0 = 20`, `C1 = 300` become `20/255` and `300/255` here.
//!
//! # 1. Airlight
//!
//! Per channel, the maximum of the `15 × 15` local minimum of that channel (a grey-erosion,
//! then the brightest value): `A^c = max_x min_{y ∈ Ω(x)} I^c(y)`. The three channels are
//! estimated independently, as in the package.
//!
//! # 2. Boundary constraint (paper eqs. 8–11)
//!
//! The radiance is assumed to lie in `[C0, C1]` per channel. Inverting
//! `J = (I − A)/t + A` for both bounds gives a lower bound on the transmission,
//!
//! ```text
//! t_b(x) = min( max_c max( (A^c − I^c(x)) / (A^c − C0), (I^c(x) − A^c) / (C1 − A^c) ), 1 )
//! ```
//!
//! followed by a morphological closing (dilation then erosion) over a `3 × 3` window, which
//! fills the small dark holes of `t_b` (paper eq. 12, the package's `boundaryConstraint_windowSze`).
//!
//! *Deviation from the package:* its maximum over the channels is written `np.maximum(t_b,
//! t_g, t_r)`, whose third argument is NumPy's output array, so it only uses the blue and
//! green channels; we take the maximum over all three, as the paper does. Degenerate
//! airlights are handled explicitly: if `A^c ≤ C0` no transmission can bring a pixel darker
//! than `A^c` up to `C0`, so that term is `1` for `I^c < A^c` and `0` otherwise (the package
//! divides by zero or gets the sign wrong there); likewise for `A^c ≥ C1`.
//!
//! # 3. Contextual regularisation (paper eqs. 13–26)
//!
//! With `D_j` a bank of nine normalised high-order filters (the eight Kirsch compass kernels and
//! the `3 × 3` Laplacian, each divided by its Frobenius norm), `⊛` circular correlation (the
//! package's `cv2.filter2D` on a wrap-padded image), and weights computed on the hazy image
//!
//! ```text
//! W_j(x) = exp( − Σ_c (D_j ⊛ I^c)(x)² / (2σ²) ),   σ = 0.5,
//! ```
//!
//! (the package's version of the paper's eq. 17, which compares pixel pairs instead), the
//! refined transmission minimises
//!
//! ```text
//! E(t) = (λ/2)·‖t − t_b‖² + Σ_j ‖W_j ∘ (D_j ⊛ t)‖₁ / N,    N = 9 filters, λ = 0.1
//! ```
//!
//! (the `1/N` is the package's; the paper has none). Half-quadratic splitting introduces
//! `u_j ≈ D_j ⊛ t` with a penalty `(β/2)·Σ_j ‖u_j − D_j ⊛ t‖²` and alternates, for
//! `β = 1, 2√2, 8` (start 1, multiply by `2√2` while `β < 16`; paper Sec. 4):
//!
//! * **u-step** (soft thresholding, closed form):
//!   `u_j = sign(D_j ⊛ t) · max(|D_j ⊛ t| − W_j/(N·β), 0)`;
//! * **t-step** (quadratic; circulant operators are diagonal in the Fourier domain, eq. 26):
//!
//! ```text
//!         F⁻¹[ γ·F(t_b) + Σ_j F(D_jᵀ u_j) ]
//! t  =  | ----------------------------------- |,     γ = λ/β,
//!         γ + Σ_j |F(D_j)|²
//! ```
//!
//! where `D_jᵀ` is correlation with the kernel rotated by 180° (the adjoint), and the modulus
//! of the complex result is taken as the package does. Implementation notes: `Σ_j D_jᵀ u_j` is
//! summed in the image domain, so each iteration costs one forward and one inverse 2-D FFT
//! (instead of nine forward ones); `Σ_j |F(D_j)|²` is the DFT of the summed autocorrelation of
//! the kernels (a symmetric `5 × 5` kernel), a real cosine sum evaluated directly; the 2-D FFT
//! is row FFTs, a blocked transpose, row FFTs (the spectrum stays transposed), planned once.
//!
//! # 4. Recovery (paper eq. 3, with the package's exponent)
//!
//! ```text
//! J^c = (I^c − A^c) / max(t, 10⁻⁴)^δ + A^c,   δ = 0.85,   clipped to [0, 1]
//! ```
//!
//! `δ < 1` keeps some haze for depth perception. [`Dehazed::transmission`] is the regularised
//! `t` clamped to `[0, 1]` (the recovery uses it unclamped, as the package does).

use super::{Dehazed, Dehazer};
use crate::buffer::{Plane, RgbImage};
use crate::filters::min_filter::min_filter;
use rayon::prelude::*;
use rustfft::num_complex::Complex32;
use rustfft::{Fft, FftPlanner};
use std::sync::Arc;

/// Boundary constraint + contextual regularisation dehazer; `Default` gives the defaults of
/// the `image_dehazer` package (0.0.9), rescaled to `[0, 1]` intensities.
#[derive(Clone, Debug)]
pub struct BoundaryConstraint {
    /// Radius of the local minimum used for the airlight (`7` → the package's `15 × 15`).
    pub airlight_radius: usize,
    /// Radius of the closing of the boundary-constraint map (`1` → the package's `3 × 3`).
    pub closing_radius: usize,
    /// Lower radiance bound `C0` (`20/255`).
    pub c0: f32,
    /// Upper radiance bound `C1` (`300/255`; above 1 on purpose).
    pub c1: f32,
    /// Weight `λ` of the data term `‖t − t_b‖²` (`0.1`).
    pub lambda: f32,
    /// Width `σ` of the exponential weighting on the filtered hazy image (`0.5`).
    pub sigma: f32,
    /// Exponent `δ` on the transmission in the recovery (`0.85`).
    pub delta: f32,
    /// First penalty weight `β` of the splitting (`1`).
    pub beta_start: f64,
    /// The iterations run while `β < beta_max` (`16`).
    pub beta_max: f64,
    /// `β` is multiplied by this after each iteration (`2√2`); values `≤ 1` run one iteration.
    pub beta_rate: f64,
}

impl Default for BoundaryConstraint {
    fn default() -> Self {
        Self {
            airlight_radius: 7,
            closing_radius: 1,
            c0: 20.0 / 255.0,
            c1: 300.0 / 255.0,
            lambda: 0.1,
            sigma: 0.5,
            delta: 0.85,
            beta_start: 1.0,
            beta_max: 16.0,
            beta_rate: 2.0 * std::f64::consts::SQRT_2,
        }
    }
}

/// A `3 × 3` kernel, `k[row][col]`, applied by correlation.
type Kernel = [[f32; 3]; 3];

/// The eight Kirsch compass kernels and the Laplacian, unnormalised (the package's bank).
const BANK: [[[i8; 3]; 3]; 9] = [
    [[-3, -3, -3], [-3, 0, 5], [-3, 5, 5]],
    [[-3, -3, -3], [-3, 0, -3], [5, 5, 5]],
    [[-3, -3, -3], [5, 0, -3], [5, 5, -3]],
    [[5, -3, -3], [5, 0, -3], [5, -3, -3]],
    [[5, 5, -3], [5, 0, -3], [-3, -3, -3]],
    [[5, 5, 5], [-3, 0, -3], [-3, -3, -3]],
    [[-3, 5, 5], [-3, 0, 5], [-3, -3, -3]],
    [[-3, -3, 5], [-3, 0, 5], [-3, -3, 5]],
    [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
];

/// The filter bank, each kernel divided by its Frobenius norm.
fn filter_bank() -> [Kernel; 9] {
    BANK.map(|k| {
        let norm = k
            .iter()
            .flatten()
            .map(|&v| f64::from(v) * f64::from(v))
            .sum::<f64>()
            .sqrt();
        k.map(|row| row.map(|v| (f64::from(v) / norm) as f32))
    })
}

/// The kernel rotated by 180°: correlation with it is the adjoint of correlation with `k`.
fn flip(k: &Kernel) -> Kernel {
    let mut f = [[0.0; 3]; 3];
    for (a, row) in k.iter().enumerate() {
        for (b, &v) in row.iter().enumerate() {
            f[2 - a][2 - b] = v;
        }
    }
    f
}

/// Adds the circular (wrap-around) correlation of row `y` of `src` (`w × h`) with `k` to `out`:
/// `out[x] += Σ_{a,b} k[a][b]·src((y+a−1) mod h, (x+b−1) mod w)`. Works for any `w, h ≥ 1`.
fn correlate_row_add(src: &[f32], w: usize, h: usize, y: usize, k: &Kernel, out: &mut [f32]) {
    let rows = [(y + h - 1) % h, y, (y + 1) % h];
    for (kr, &r) in k.iter().zip(&rows) {
        let row = &src[r * w..(r + 1) * w];
        let [k0, k1, k2] = *kr;
        if w >= 3 {
            for (o, win) in out[1..w - 1].iter_mut().zip(row.windows(3)) {
                *o += k0 * win[0] + k1 * win[1] + k2 * win[2];
            }
        }
        let edges: &[usize] = if w == 1 { &[0] } else { &[0, w - 1] };
        for &x in edges {
            out[x] += k0 * row[(x + w - 1) % w] + k1 * row[x] + k2 * row[(x + 1) % w];
        }
    }
}

/// Rows per rayon task for a `rows`-row pass: a few tasks per thread.
fn rows_per_task(rows: usize) -> usize {
    rows.div_ceil(4 * rayon::current_num_threads()).max(1)
}

/// Runs `fft` on every consecutive `len`-sample row of `data`, in parallel.
fn fft_rows(fft: &dyn Fft<f32>, data: &mut [Complex32], len: usize) {
    let chunk = rows_per_task(data.len() / len) * len;
    let scratch_len = fft.get_inplace_scratch_len();
    data.par_chunks_mut(chunk).for_each_init(
        || vec![Complex32::default(); scratch_len],
        |scratch, rows| fft.process_with_scratch(rows, scratch),
    );
}

/// `dst[x·rows + y] = src[y·cols + x]` for a `rows × cols` row-major `src`; blocked, parallel.
fn transpose(src: &[Complex32], dst: &mut [Complex32], cols: usize, rows: usize) {
    const B: usize = 16;
    dst.par_chunks_mut(B * rows)
        .enumerate()
        .for_each(|(bi, block)| {
            let x0 = bi * B;
            let nb = block.len() / rows;
            for y in 0..rows {
                let s = &src[y * cols + x0..y * cols + x0 + nb];
                for (k, &v) in s.iter().enumerate() {
                    block[k * rows + y] = v;
                }
            }
        });
}

/// A planned 2-D FFT of a `w × h` image. The spectrum is kept **transposed**:
/// `spec[kx·h + ky]`, which saves the transpose back after the column pass.
struct Fft2 {
    w: usize,
    h: usize,
    row_fwd: Arc<dyn Fft<f32>>,
    row_inv: Arc<dyn Fft<f32>>,
    col_fwd: Arc<dyn Fft<f32>>,
    col_inv: Arc<dyn Fft<f32>>,
}

impl Fft2 {
    fn new(w: usize, h: usize) -> Self {
        let mut planner = FftPlanner::new();
        Self {
            w,
            h,
            row_fwd: planner.plan_fft_forward(w),
            row_inv: planner.plan_fft_inverse(w),
            col_fwd: planner.plan_fft_forward(h),
            col_inv: planner.plan_fft_inverse(h),
        }
    }

    /// Spatial `img` (row-major, overwritten) → transposed spectrum `spec`.
    fn forward(&self, img: &mut [Complex32], spec: &mut [Complex32]) {
        fft_rows(&*self.row_fwd, img, self.w);
        transpose(img, spec, self.w, self.h);
        fft_rows(&*self.col_fwd, spec, self.h);
    }

    /// Transposed spectrum `spec` (overwritten) → spatial `img`, unnormalised (`× w·h`).
    fn inverse(&self, spec: &mut [Complex32], img: &mut [Complex32]) {
        fft_rows(&*self.col_inv, spec, self.h);
        transpose(spec, img, self.h, self.w);
        fft_rows(&*self.row_inv, img, self.w);
    }
}

/// `Σ_j |F(D_j)|²` on the `w × h` DFT grid, in the transposed layout of [`Fft2`].
///
/// `|F(D)|² = F(R)` with `R[a][b] = Σ_{p,q} D[p][q]·D[p+a][q+b]` the autocorrelation of `D`
/// (`a, b ∈ −2..=2`); `R` is point-symmetric, so its DFT is the real sum
/// `Σ_{a,b} R[a][b]·cos(2π(ky·a/h + kx·b/w))`, which also handles images smaller than the
/// kernel (the DFT of the wrapped kernel at integer frequencies is the same sum).
fn otf_energy(bank: &[Kernel; 9], w: usize, h: usize) -> Vec<f32> {
    let mut r = [[0.0f64; 5]; 5];
    for k in bank {
        for a in -2i32..=2 {
            for b in -2i32..=2 {
                let mut s = 0.0f64;
                for p in 0..3i32 {
                    for q in 0..3i32 {
                        let (pa, qb) = (p + a, q + b);
                        if (0..3).contains(&pa) && (0..3).contains(&qb) {
                            s += f64::from(k[p as usize][q as usize])
                                * f64::from(k[pa as usize][qb as usize]);
                        }
                    }
                }
                r[(a + 2) as usize][(b + 2) as usize] += s;
            }
        }
    }
    let tables = |n: usize| -> Vec<[(f64, f64); 5]> {
        (0..n)
            .map(|k| {
                std::array::from_fn(|i| {
                    let a = i as i64 - 2;
                    let phase = (k as i64 * a).rem_euclid(n as i64) as f64 / n as f64;
                    let ang = 2.0 * std::f64::consts::PI * phase;
                    (ang.cos(), ang.sin())
                })
            })
            .collect()
    };
    let (ty, tx) = (tables(h), tables(w));
    let mut out = vec![0.0f32; w * h];
    out.par_chunks_mut(h).zip(&tx).for_each(|(col, cx)| {
        // cos(α+β) = cos α cos β − sin α sin β, with α from the row index a, β from b.
        let mut p = [0.0f64; 5];
        let mut q = [0.0f64; 5];
        for a in 0..5 {
            for b in 0..5 {
                p[a] += r[a][b] * cx[b].0;
                q[a] += r[a][b] * cx[b].1;
            }
        }
        for (o, cy) in col.iter_mut().zip(&ty) {
            let v: f64 = (0..5).map(|a| cy[a].0 * p[a] - cy[a].1 * q[a]).sum();
            *o = v.max(0.0) as f32;
        }
    });
    out
}

impl BoundaryConstraint {
    /// Step 1: per-channel airlight `A^c = max_x min_{Ω(x)} I^c`.
    pub fn airlight(&self, hazy: &RgbImage) -> [f32; 3] {
        let (w, h) = (hazy.width(), hazy.height());
        let planes = hazy.planes();
        std::array::from_fn(|c| {
            let p = Plane::from_vec(w, h, planes[c].to_vec());
            min_filter(&p, self.airlight_radius)
                .data()
                .iter()
                .fold(0.0f32, |m, &v| m.max(v))
        })
    }

    /// Step 2: the boundary-constraint transmission `t_b`, closed, in `[0, 1]`.
    pub fn boundary_transmission(&self, hazy: &RgbImage, airlight: [f32; 3]) -> Plane {
        const TINY: f32 = 1e-6;
        let (w, h) = (hazy.width(), hazy.height());
        let mut tb = vec![0.0f32; w * h];
        for (plane, &a) in hazy.planes().into_iter().zip(&airlight) {
            let (lo_den, hi_den) = (a - self.c0, self.c1 - a);
            tb.par_iter_mut().zip(plane).for_each(|(t, &i)| {
                let lo = if lo_den > TINY {
                    (a - i) / lo_den
                } else if i < a {
                    1.0
                } else {
                    0.0
                };
                let hi = if hi_den > TINY {
                    (i - a) / hi_den
                } else if i > a {
                    1.0
                } else {
                    0.0
                };
                *t = t.max(lo).max(hi);
            });
        }
        tb.iter_mut().for_each(|t| *t = t.clamp(0.0, 1.0));
        // Closing = dilation then erosion; dilation is −min_filter(−t).
        let neg = Plane::from_vec(w, h, tb.into_iter().map(|t| -t).collect());
        let dilated: Vec<f32> = min_filter(&neg, self.closing_radius)
            .into_vec()
            .into_iter()
            .map(|t| -t)
            .collect();
        min_filter(&Plane::from_vec(w, h, dilated), self.closing_radius)
    }

    /// Thresholds `W_j / N` of the u-step for each filter of the bank.
    fn weights(&self, hazy: &RgbImage, bank: &[Kernel; 9]) -> Vec<Vec<f32>> {
        let (w, h) = (hazy.width(), hazy.height());
        let inv = 1.0 / (2.0 * self.sigma * self.sigma);
        let n_filters = bank.len() as f32;
        let planes = hazy.planes();
        bank.iter()
            .map(|k| {
                let mut wt = vec![0.0f32; w * h];
                let chunk = rows_per_task(h) * w;
                wt.par_chunks_mut(chunk).enumerate().for_each_init(
                    || vec![0.0f32; w],
                    |resp, (ci, rows)| {
                        for (ri, out) in rows.chunks_mut(w).enumerate() {
                            let y = ci * rows_per_task(h) + ri;
                            out.fill(0.0);
                            for p in planes {
                                resp.fill(0.0);
                                correlate_row_add(p, w, h, y, k, resp);
                                for (o, &d) in out.iter_mut().zip(resp.iter()) {
                                    *o += d * d;
                                }
                            }
                            for o in out.iter_mut() {
                                *o = (-*o * inv).exp() / n_filters;
                            }
                        }
                    },
                );
                wt
            })
            .collect()
    }

    /// Step 3: contextual regularisation of `t_b`; the result is `≥ 0`, possibly above 1.
    pub fn regularize(&self, hazy: &RgbImage, tb: &Plane) -> Plane {
        let (w, h) = (tb.width(), tb.height());
        let n = w * h;
        let bank = filter_bank();
        let flipped = bank.map(|k| flip(&k));
        let thresholds = self.weights(hazy, &bank);
        let ds = otf_energy(&bank, w, h);
        let fft = Fft2::new(w, h);

        let mut img: Vec<Complex32> = tb.data().iter().map(|&v| Complex32::new(v, 0.0)).collect();
        let mut spec_b = vec![Complex32::default(); n];
        fft.forward(&mut img, &mut spec_b);
        let mut spec = vec![Complex32::default(); n];

        let mut t = tb.data().to_vec();
        let mut u = vec![0.0f32; n];
        let mut acc = vec![0.0f32; n];
        let rpt = rows_per_task(h);
        let scale = 1.0 / n as f32;
        let mut beta = self.beta_start.max(f64::MIN_POSITIVE);
        for _ in 0..64 {
            if beta >= self.beta_max {
                break;
            }
            let inv_beta = (1.0 / beta) as f32;
            acc.fill(0.0);
            for ((k, kf), thr) in bank.iter().zip(&flipped).zip(&thresholds) {
                // u_j = soft-threshold(D_j ⊛ t, W_j/(N·β)).
                u.par_chunks_mut(rpt * w)
                    .enumerate()
                    .for_each(|(ci, rows)| {
                        for (ri, out) in rows.chunks_mut(w).enumerate() {
                            let y = ci * rpt + ri;
                            out.fill(0.0);
                            correlate_row_add(&t, w, h, y, k, out);
                            for (o, &th) in out.iter_mut().zip(&thr[y * w..(y + 1) * w]) {
                                let mag = (o.abs() - th * inv_beta).max(0.0);
                                *o = if *o < 0.0 { -mag } else { mag };
                            }
                        }
                    });
                // acc += D_jᵀ u_j.
                acc.par_chunks_mut(rpt * w)
                    .enumerate()
                    .for_each(|(ci, rows)| {
                        for (ri, out) in rows.chunks_mut(w).enumerate() {
                            correlate_row_add(&u, w, h, ci * rpt + ri, kf, out);
                        }
                    });
            }
            let gamma = (f64::from(self.lambda) / beta) as f32;
            img.par_iter_mut()
                .zip(&acc)
                .for_each(|(c, &a)| *c = Complex32::new(a, 0.0));
            fft.forward(&mut img, &mut spec);
            spec.par_iter_mut()
                .zip(&spec_b)
                .zip(&ds)
                .for_each(|((s, &b), &d)| *s = (b * gamma + *s) / (gamma + d));
            fft.inverse(&mut spec, &mut img);
            t.par_iter_mut()
                .zip(&img)
                .for_each(|(t, c)| *t = c.norm() * scale);
            beta *= self.beta_rate;
        }
        Plane::from_vec(w, h, t)
    }
}

impl Dehazer for BoundaryConstraint {
    fn dehaze(&self, hazy: &RgbImage) -> Dehazed {
        let (w, h) = (hazy.width(), hazy.height());
        if hazy.pixels() == 0 {
            return Dehazed::unchanged(hazy);
        }
        let airlight = self.airlight(hazy);
        let tb = self.boundary_transmission(hazy, airlight);
        let t = self.regularize(hazy, &tb).into_vec();

        let mut out = RgbImage::new(w, h);
        for (c, (dst, src)) in out.planes_mut().into_iter().zip(hazy.planes()).enumerate() {
            let a = airlight[c];
            dst.par_iter_mut()
                .zip(src)
                .zip(&t)
                .for_each(|((o, &i), &t)| {
                    let j = (i - a) / t.max(1e-4).powf(self.delta) + a;
                    *o = if j.is_finite() {
                        j.clamp(0.0, 1.0)
                    } else {
                        0.0
                    };
                });
        }
        let transmission = t
            .into_iter()
            .map(|t| {
                if t.is_finite() {
                    t.clamp(0.0, 1.0)
                } else {
                    1.0
                }
            })
            .collect();
        Dehazed {
            image: out,
            transmission: Plane::from_vec(w, h, transmission),
            airlight,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Direct evaluation of `Σ_j |F(D_j)|²` from the wrapped kernels, for small sizes.
    fn otf_energy_direct(bank: &[Kernel; 9], w: usize, h: usize) -> Vec<f32> {
        let mut out = vec![0.0f32; w * h];
        for kx in 0..w {
            for ky in 0..h {
                let mut total = 0.0f64;
                for k in bank {
                    let (mut re, mut im) = (0.0f64, 0.0f64);
                    for (a, row) in k.iter().enumerate() {
                        for (b, &v) in row.iter().enumerate() {
                            let ang = 2.0
                                * std::f64::consts::PI
                                * (ky as f64 * (a as f64 - 1.0) / h as f64
                                    + kx as f64 * (b as f64 - 1.0) / w as f64);
                            re += f64::from(v) * ang.cos();
                            im -= f64::from(v) * ang.sin();
                        }
                    }
                    total += re * re + im * im;
                }
                out[kx * h + ky] = total as f32;
            }
        }
        out
    }

    #[test]
    fn otf_energy_matches_direct_dft() {
        let bank = filter_bank();
        for (w, h) in [(1, 1), (1, 5), (2, 3), (7, 4), (16, 9)] {
            let fast = otf_energy(&bank, w, h);
            let slow = otf_energy_direct(&bank, w, h);
            for (a, b) in fast.iter().zip(&slow) {
                assert!((a - b).abs() < 1e-4, "{w}x{h}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn fft2_round_trip_and_dc() {
        let (w, h) = (6, 5);
        let fft = Fft2::new(w, h);
        let src: Vec<Complex32> = (0..w * h)
            .map(|i| Complex32::new((i as f32 * 0.37).sin(), 0.0))
            .collect();
        let mut img = src.clone();
        let mut spec = vec![Complex32::default(); w * h];
        fft.forward(&mut img, &mut spec);
        let sum: f32 = src.iter().map(|c| c.re).sum();
        assert!((spec[0].re - sum).abs() < 1e-4);
        // Transposed layout: spec[kx·h + ky]; check one off-axis bin against the definition.
        let (kx, ky) = (2usize, 1usize);
        let mut want = Complex32::default();
        for y in 0..h {
            for x in 0..w {
                let ang = -2.0
                    * std::f32::consts::PI
                    * (kx as f32 * x as f32 / w as f32 + ky as f32 * y as f32 / h as f32);
                want += src[y * w + x] * Complex32::new(ang.cos(), ang.sin());
            }
        }
        assert!((spec[kx * h + ky] - want).norm() < 1e-4);
        fft.inverse(&mut spec, &mut img);
        for (a, b) in img.iter().zip(&src) {
            assert!((a.re / (w * h) as f32 - b.re).abs() < 1e-5);
        }
    }

    #[test]
    fn correlation_adjoint_identity() {
        // <D ⊛ x, y> = <x, flip(D) ⊛ y> for the circular correlation.
        let (w, h) = (5, 4);
        let x: Vec<f32> = (0..w * h).map(|i| (i as f32 * 0.7).cos()).collect();
        let y: Vec<f32> = (0..w * h).map(|i| (i as f32 * 1.3).sin()).collect();
        for k in filter_bank() {
            let (mut dx, mut fy) = (vec![0.0f32; w * h], vec![0.0f32; w * h]);
            for r in 0..h {
                correlate_row_add(&x, w, h, r, &k, &mut dx[r * w..(r + 1) * w]);
                correlate_row_add(&y, w, h, r, &flip(&k), &mut fy[r * w..(r + 1) * w]);
            }
            let lhs: f32 = dx.iter().zip(&y).map(|(a, b)| a * b).sum();
            let rhs: f32 = x.iter().zip(&fy).map(|(a, b)| a * b).sum();
            assert!((lhs - rhs).abs() < 1e-4, "{lhs} vs {rhs}");
        }
    }

    #[test]
    fn boundary_constraint_bounds() {
        let bc = BoundaryConstraint {
            closing_radius: 0,
            ..Default::default()
        };
        // A = 0.8: a pixel at C0 needs t = 1, a pixel at A needs t = 0.
        let c0 = bc.c0;
        let img = RgbImage::from_interleaved(2, 1, &[c0, c0, c0, 0.8, 0.8, 0.8]);
        let tb = bc.boundary_transmission(&img, [0.8; 3]);
        assert!((tb.data()[0] - 1.0).abs() < 1e-6);
        assert!(tb.data()[1].abs() < 1e-6);
    }
}
