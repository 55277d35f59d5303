//! Small correlation kernels shared by the metrics: separable and dense 2-D correlation with
//! the border modes the reference implementations use. Everything accumulates in `f64`;
//! rows are processed in parallel (rayon) and the inner loops run over contiguous rows so the
//! compiler can vectorise them.

use rayon::prelude::*;

/// How samples outside the image are defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Border {
    /// `0` outside (PyTorch `conv2d` zero padding).
    Zero,
    /// The nearest edge sample (`scipy.ndimage` mode `nearest`, MATLAB `replicate`).
    Replicate,
    /// Half-sample symmetric `d c b a | a b c d` (`scipy.ndimage` mode `reflect`, MATLAB
    /// `symmetric`).
    Reflect,
}

/// Maps a possibly out-of-range index to a source index, or `None` for a zero sample.
#[inline]
pub(crate) fn border_index(i: isize, n: usize, border: Border) -> Option<usize> {
    let n_i = n as isize;
    if (0..n_i).contains(&i) {
        return Some(i as usize);
    }
    match border {
        Border::Zero => None,
        Border::Replicate => Some(i.clamp(0, n_i - 1) as usize),
        Border::Reflect => {
            // Period 2n: 0..n-1 forwards, then n-1..0 backwards.
            let p = 2 * n_i;
            let m = i.rem_euclid(p);
            Some(if m < n_i { m } else { p - 1 - m } as usize)
        }
    }
}

/// Pads a `w×h` plane by `r` samples on every side according to `border`.
fn pad(src: &[f64], w: usize, h: usize, r: usize, border: Border) -> Vec<f64> {
    let (pw, ph) = (w + 2 * r, h + 2 * r);
    let mut out = vec![0.0; pw * ph];
    out.par_chunks_mut(pw).enumerate().for_each(|(py, row)| {
        let Some(sy) = border_index(py as isize - r as isize, h, border) else {
            return;
        };
        let srow = &src[sy * w..(sy + 1) * w];
        row[r..r + w].copy_from_slice(srow);
        for px in 0..r {
            if let Some(sx) = border_index(px as isize - r as isize, w, border) {
                row[px] = srow[sx];
            }
            if let Some(sx) = border_index((w + r + px) as isize - r as isize, w, border) {
                row[w + r + px] = srow[sx];
            }
        }
    });
    out
}

/// Dense 2-D correlation with a square `k×k` kernel (`k` odd, row-major), output the same size
/// as the input: `out[y][x] = Σ_{i,j} K[i][j] · src[y+i−r][x+j−r]`, `r = k/2`.
pub(crate) fn correlate2d(
    src: &[f64],
    w: usize,
    h: usize,
    kernel: &[f64],
    border: Border,
) -> Vec<f64> {
    let k = (kernel.len() as f64).sqrt() as usize;
    debug_assert_eq!(k * k, kernel.len());
    let r = k / 2;
    let padded = pad(src, w, h, r, border);
    let pw = w + 2 * r;
    let mut out = vec![0.0; w * h];
    out.par_chunks_mut(w).enumerate().for_each(|(y, orow)| {
        // Taps in the order i, j: the same sums as a tap-by-tap pass over the row.
        let srcs: Vec<&[f64]> = (0..k * k)
            .map(|t| {
                let (i, j) = (t / k, t % k);
                &padded[(y + i) * pw + j..(y + i) * pw + j + w]
            })
            .collect();
        fir_dispatch(orow, &srcs, kernel);
    });
    out
}

/// Output samples computed together by [`fir`] (a few vector registers of accumulators).
const BLOCK: usize = 32;

/// `out[x] = Σ_m k[m]·srcs[m][x]`, accumulated from `0.0` in tap order (so every output is
/// bit-identical to a tap-by-tap pass over whole rows), `BLOCK` outputs at a time so the
/// accumulators stay in registers. Every `srcs[m]` holds at least `out.len()` samples.
#[inline(always)]
pub(crate) fn fir(out: &mut [f64], srcs: &[&[f64]], k: &[f64]) {
    let w = out.len();
    let full = w - w % BLOCK;
    for (x, o) in (0..full).step_by(BLOCK).zip(out.chunks_exact_mut(BLOCK)) {
        let mut acc = [0.0f64; BLOCK];
        for (s, &kv) in srcs.iter().zip(k) {
            let s: &[f64; BLOCK] = s[x..x + BLOCK].try_into().expect("block");
            for (a, &v) in acc.iter_mut().zip(s) {
                *a += kv * v;
            }
        }
        o.copy_from_slice(&acc);
    }
    for x in full..w {
        let mut a = 0.0;
        for (s, &kv) in srcs.iter().zip(k) {
            a += kv * s[x];
        }
        out[x] = a;
    }
}

/// [`fir`], compiled for AVX2 where the CPU has it (no FMA: the results are the same).
fn fir_dispatch(out: &mut [f64], srcs: &[&[f64]], k: &[f64]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2.
        return unsafe { fir_avx2(out, srcs, k) };
    }
    fir(out, srcs, k)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn fir_avx2(out: &mut [f64], srcs: &[&[f64]], k: &[f64]) {
    fir(out, srcs, k)
}

/// Separable correlation: first along columns with `kcol` (axis 0), then along rows with `krow`
/// (axis 1), as `scipy.ndimage.correlate1d` applied axis by axis. Odd kernel lengths, centred.
pub(crate) fn separable(
    src: &[f64],
    w: usize,
    h: usize,
    kcol: &[f64],
    krow: &[f64],
    border: Border,
) -> Vec<f64> {
    let rc = kcol.len() / 2;
    let rr = krow.len() / 2;
    // Vertical pass: whole rows at a time.
    let mut tmp = vec![0.0; w * h];
    tmp.par_chunks_mut(w).enumerate().for_each(|(y, orow)| {
        for (i, &kv) in kcol.iter().enumerate() {
            if let Some(sy) = border_index(y as isize + i as isize - rc as isize, h, border) {
                let s = &src[sy * w..(sy + 1) * w];
                for (o, &v) in orow.iter_mut().zip(s) {
                    *o += kv * v;
                }
            }
        }
    });
    // Horizontal pass on a padded copy of each row.
    let mut out = vec![0.0; w * h];
    out.par_chunks_mut(w).zip(tmp.par_chunks(w)).for_each_init(
        || vec![0.0; w + 2 * rr],
        |prow, (orow, trow)| {
            prow[rr..rr + w].copy_from_slice(trow);
            for p in 0..rr {
                prow[p] =
                    border_index(p as isize - rr as isize, w, border).map_or(0.0, |sx| trow[sx]);
                prow[w + rr + p] =
                    border_index((w + p) as isize, w, border).map_or(0.0, |sx| trow[sx]);
            }
            for (j, &kv) in krow.iter().enumerate() {
                let s = &prow[j..j + w];
                for (o, &v) in orow.iter_mut().zip(s) {
                    *o += kv * v;
                }
            }
        },
    );
    out
}

/// 1-D Gaussian taps `exp(−x²/(2σ²))`, `x = −r..=r`, normalised to sum 1.
pub(crate) fn gaussian_taps(radius: usize, sigma: f64) -> Vec<f64> {
    let mut t: Vec<f64> = (0..=2 * radius)
        .map(|i| {
            let x = i as f64 - radius as f64;
            (-(x * x) / (2.0 * sigma * sigma)).exp()
        })
        .collect();
    let s: f64 = t.iter().sum();
    t.iter_mut().for_each(|v| *v /= s);
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn border_modes() {
        let n = 4;
        let f = |i, b| border_index(i, n, b);
        assert_eq!(f(-1, Border::Reflect), Some(0));
        assert_eq!(f(-2, Border::Reflect), Some(1));
        assert_eq!(f(4, Border::Reflect), Some(3));
        assert_eq!(f(5, Border::Reflect), Some(2));
        assert_eq!(f(-1, Border::Replicate), Some(0));
        assert_eq!(f(9, Border::Replicate), Some(3));
        assert_eq!(f(-1, Border::Zero), None);
    }

    #[test]
    fn separable_equals_dense_for_outer_product() {
        let (w, h) = (13, 9);
        let src: Vec<f64> = (0..w * h).map(|i| ((i * 37) % 23) as f64).collect();
        let g = gaussian_taps(3, 7.0 / 6.0);
        let k2: Vec<f64> = (0..49).map(|i| g[i / 7] * g[i % 7]).collect();
        for b in [Border::Zero, Border::Replicate, Border::Reflect] {
            let a = separable(&src, w, h, &g, &g, b);
            let d = correlate2d(&src, w, h, &k2, b);
            for (x, y) in a.iter().zip(&d) {
                assert!((x - y).abs() < 1e-12, "{b:?}: {x} vs {y}");
            }
        }
    }
}
