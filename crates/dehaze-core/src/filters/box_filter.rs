//! Box (mean) filter over a square window clipped to the image, by running sums.
//!
//! For radius `r` the output is
//!
//! ```text
//! out(x, y) = S(x, y) / (n_x(x) · n_y(y)),   S(x, y) = Σ_{|i|≤r, |j|≤r, inside} src(x + i, y + j)
//! ```
//!
//! where `n_x(x) = min(x + r, W − 1) − max(x − r, 0) + 1` (and `n_y` likewise) is the number of
//! valid columns (rows): the clipped window is a rectangle, so its pixel count factorises.
//!
//! `S` is computed in O(1) per pixel and channel:
//!
//! * **vertical**: per-column sums `C(x) = Σ_j src(x, y + j)` over the rows of the window, updated
//!   row by row (add the row entering at `y + r`, subtract the one leaving at `y − r − 1`);
//! * **horizontal**: a sliding window over one row of column sums,
//!   `S(x) = S(x − 1) + C(x + r) − C(x − r − 1)` (terms outside the row left out).
//!
//! Sums are kept in `f64`: a radius-60 window adds 14 641 samples, and the guided filter
//! subtracts products of such means (`var = E[g²] − E[g]²`), where `f32` would lose the
//! regulariser `eps = 1e-3`. Row bands run in parallel (rayon); each band warms up its own
//! column sums from the `r` rows above it.
//!
//! `box_sums_band` is the shared engine: it sums `N` per-pixel quantities computed from `M`
//! input planes at once (the guided filter needs `g`, `p`, `g·p`, `g²` in one pass), and hands
//! each finished row of window sums to a callback.
use crate::buffer::Plane;
use rayon::prelude::*;
use std::ops::Range;

/// Mean over the `(2r+1)×(2r+1)` window centred on each pixel, the window clipped to the
/// image (sum over the valid part divided by its pixel count).
///
/// A radius at least as large as the image is allowed. An empty plane gives an empty plane.
pub fn box_mean(src: &Plane, radius: usize) -> Plane {
    let (w, h) = (src.width(), src.height());
    let mut out = vec![0.0f32; w * h];
    if w == 0 || h == 0 {
        return Plane::from_vec(w, h, out);
    }
    let data = src.data();
    let inv_nx = inv_counts(w, radius);
    let band = band_height(h, radius);
    out.par_chunks_mut(band * w)
        .enumerate()
        .for_each(|(i, chunk)| {
            let y0 = i * band;
            let rows = y0..y0 + chunk.len() / w;
            box_sums_band(
                [data],
                w,
                h,
                radius,
                rows,
                |[v]| [v as f64],
                |y, inv_ny, sums| {
                    let dst = &mut chunk[(y - y0) * w..(y - y0 + 1) * w];
                    for ((d, &[s]), &ix) in dst.iter_mut().zip(sums).zip(&inv_nx) {
                        *d = (s * ix * inv_ny) as f32;
                    }
                },
            );
        });
    Plane::from_vec(w, h, out)
}

/// `1 / n(i)` for `i in 0..len`, where `n(i)` is the number of indices of `[i − r, i + r]`
/// inside `0..len`.
pub(crate) fn inv_counts(len: usize, radius: usize) -> Vec<f64> {
    (0..len)
        .map(|i| 1.0 / window_count(i, len, radius) as f64)
        .collect()
}

/// Number of indices of `[i − r, i + r]` inside `0..len` (`i < len`).
fn window_count(i: usize, len: usize, radius: usize) -> usize {
    i.saturating_add(radius).min(len - 1) - i.saturating_sub(radius) + 1
}

/// Rows per parallel band: one band per worker thread, but never so thin that re-reading the
/// `2r` rows of context would dominate.
pub(crate) fn band_height(h: usize, radius: usize) -> usize {
    let threads = rayon::current_num_threads().max(1);
    let context = radius.min(h).saturating_mul(2);
    h.div_ceil(threads).max(context).max(8).min(h).max(1)
}

/// Box sums of `N` quantities over the output rows `rows`.
///
/// `srcs` are `M` row-major planes of `w × h` samples; `quant` maps the `M` samples of a pixel
/// to the `N` quantities to sum (evaluated in `f64`). For every `y` in `rows`, in order,
/// `emit(y, 1 / n_y(y), sums)` receives the window sums `sums[x][q]` (window clipped to the
/// image, not yet divided by the count).
///
/// Always inlined, so a caller compiled with wider vector instructions (the guided filter's
/// AVX2 path) gets the whole loop nest in them.
///
/// The `N` sums of a column are stored together (`[f64; N]` per column), so each update is a
/// short vector operation and the `N` horizontal running sums advance side by side.
#[inline(always)]
pub(crate) fn box_sums_band<const M: usize, const N: usize, Q, E>(
    srcs: [&[f32]; M],
    w: usize,
    h: usize,
    radius: usize,
    rows: Range<usize>,
    quant: Q,
    mut emit: E,
) where
    Q: Fn([f32; M]) -> [f64; N],
    E: FnMut(usize, f64, &[[f64; N]]),
{
    if w == 0 || h == 0 || rows.is_empty() {
        return;
    }
    let rx = radius.min(w - 1);
    let ry = radius.min(h - 1);
    let mut col = vec![[0.0f64; N]; w];
    let mut sums = vec![[0.0f64; N]; w];
    let row = |y: usize| -> [&[f32]; M] { std::array::from_fn(|m| &srcs[m][y * w..(y + 1) * w]) };

    let y0 = rows.start;
    for y in y0.saturating_sub(ry)..=(y0 + ry).min(h - 1) {
        update_columns(&mut col, row(y), None, &quant);
    }
    for y in rows {
        if y > y0 {
            let enter = (y + ry < h).then(|| row(y + ry));
            let leave = y.checked_sub(ry + 1).map(row);
            match (enter, leave) {
                (Some(a), s) => update_columns(&mut col, a, s, &quant),
                (None, Some(s)) => {
                    // Only a row leaves: subtract it (as "adding" its negation).
                    update_columns_sub(&mut col, s, &quant)
                }
                (None, None) => {}
            }
        }
        horizontal_sums(&col, rx, &mut sums);
        let ny = window_count(y, h, ry);
        emit(y, 1.0 / ny as f64, &sums);
    }
}

#[inline(always)]
fn gather<const M: usize>(rows: &[&[f32]; M], x: usize) -> [f32; M] {
    std::array::from_fn(|m| rows[m][x])
}

/// `col[x] += quant(add[x]) − quant(sub[x])` (without the subtraction when `sub` is `None`).
#[inline(always)]
fn update_columns<const M: usize, const N: usize>(
    col: &mut [[f64; N]],
    add: [&[f32]; M],
    sub: Option<[&[f32]; M]>,
    quant: &impl Fn([f32; M]) -> [f64; N],
) {
    let w = col.len();
    let add: [&[f32]; M] = add.map(|r| &r[..w]);
    match sub {
        Some(sub) => {
            let sub: [&[f32]; M] = sub.map(|r| &r[..w]);
            for (x, c) in col.iter_mut().enumerate() {
                let a = quant(gather(&add, x));
                let s = quant(gather(&sub, x));
                for q in 0..N {
                    c[q] += a[q] - s[q];
                }
            }
        }
        None => {
            for (x, c) in col.iter_mut().enumerate() {
                let a = quant(gather(&add, x));
                for q in 0..N {
                    c[q] += a[q];
                }
            }
        }
    }
}

/// `col[x] −= quant(sub[x])`.
#[inline(always)]
fn update_columns_sub<const M: usize, const N: usize>(
    col: &mut [[f64; N]],
    sub: [&[f32]; M],
    quant: &impl Fn([f32; M]) -> [f64; N],
) {
    let w = col.len();
    let sub: [&[f32]; M] = sub.map(|r| &r[..w]);
    for (x, c) in col.iter_mut().enumerate() {
        let s = quant(gather(&sub, x));
        for q in 0..N {
            c[q] -= s[q];
        }
    }
}

/// `sums[x] = Σ col[max(x − r, 0) ..= min(x + r, w − 1)]` by a sliding window over the row:
/// each step adds the column entering and subtracts the one leaving (their difference first,
/// so the N dependency chains are one addition per step), with no prefix array to write and
/// re-read. In f64 the drift over a row is ~1e-16 relative to the sums.
#[inline(always)]
fn horizontal_sums<const N: usize>(col: &[[f64; N]], r: usize, sums: &mut [[f64; N]]) {
    let w = col.len();
    let sums = &mut sums[..w];
    // Window of x = 0: columns 0 ..= min(r, w − 1).
    let mut acc = [0.0f64; N];
    for c in &col[..(r + 1).min(w)] {
        for q in 0..N {
            acc[q] += c[q];
        }
    }
    sums[0] = acc;
    // x in 1 ..= w − 1: column x + r enters if x + r < w, column x − r − 1 leaves if x > r.
    let enter_end = w.saturating_sub(r); // x < enter_end ⇔ x + r < w
    let leave_start = r + 1; // x ≥ leave_start ⇔ x − r − 1 ≥ 0
    let (lo, hi) = (
        leave_start.min(enter_end).max(1),
        leave_start.max(enter_end).max(1),
    );
    for x in 1..lo.min(w) {
        // Only one of the two can happen below `lo`.
        if x < enter_end {
            let e = &col[x + r];
            for q in 0..N {
                acc[q] += e[q];
            }
        }
        if x >= leave_start {
            let l = &col[x - r - 1];
            for q in 0..N {
                acc[q] -= l[q];
            }
        }
        sums[x] = acc;
    }
    if leave_start < enter_end {
        // Interior: both enter and leave.
        for (x, s) in sums.iter_mut().enumerate().take(enter_end).skip(lo) {
            let (e, l) = (&col[x + r], &col[x - r - 1]);
            let d: [f64; N] = std::array::from_fn(|q| e[q] - l[q]);
            for q in 0..N {
                acc[q] += d[q];
            }
            *s = acc;
        }
    } else {
        // Neither (the window covers the whole row).
        for s in sums.iter_mut().take(hi.min(w)).skip(lo) {
            *s = acc;
        }
    }
    for x in hi..w {
        let l = &col[x - r - 1];
        for q in 0..N {
            acc[q] -= l[q];
        }
        sums[x] = acc;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filters::test_support::*;

    fn naive(src: &Plane, r: usize) -> Vec<f64> {
        let (w, h) = (src.width(), src.height());
        let mut out = vec![0.0; w * h];
        for y in 0..h {
            for x in 0..w {
                let (x0, x1) = (x.saturating_sub(r), x.saturating_add(r).min(w - 1));
                let (y0, y1) = (y.saturating_sub(r), y.saturating_add(r).min(h - 1));
                let mut s = 0.0f64;
                for j in y0..=y1 {
                    for i in x0..=x1 {
                        s += src.get(i, j) as f64;
                    }
                }
                out[y * w + x] = s / ((x1 - x0 + 1) * (y1 - y0 + 1)) as f64;
            }
        }
        out
    }

    #[test]
    fn matches_naive_on_many_shapes() {
        on_several_pool_sizes(matches_naive_on_many_shapes_inner);
    }

    fn matches_naive_on_many_shapes_inner() {
        for (n, &(w, h)) in SHAPES.iter().enumerate() {
            let src = random_plane(w, h, n as u64 + 11);
            for r in [0, 1, 2, 3, 7, 20, 100] {
                let got = box_mean(&src, r);
                let want = naive(&src, r);
                for (i, (&g, &e)) in got.data().iter().zip(&want).enumerate() {
                    assert!(
                        (g as f64 - e).abs() <= 1e-6,
                        "{w}x{h} r={r} at {i}: {g} vs {e}"
                    );
                }
            }
        }
    }

    #[test]
    fn empty_and_huge_radius() {
        assert_eq!(box_mean(&Plane::filled(3, 0, 0.0), 2).data().len(), 0);
        let src = random_plane(6, 5, 3);
        let mean = src.data().iter().map(|&v| v as f64).sum::<f64>() / 30.0;
        for &v in box_mean(&src, usize::MAX).data() {
            assert!((v as f64 - mean).abs() < 1e-6);
        }
    }

    #[test]
    fn large_window_keeps_precision() {
        // A constant plane must stay constant through 14 641-sample sums.
        let src = Plane::filled(300, 200, 0.123_456_7);
        for &v in box_mean(&src, 60).data() {
            assert!((v - 0.123_456_7).abs() <= 1e-7, "{v}");
        }
    }
}
