//! Square minimum (grey-scale erosion) filter in O(1) operations per pixel.
//!
//! For a radius `r` (window side `k = 2r + 1`) and replicate ("nearest") borders,
//!
//! ```text
//! out(x, y) = min { src(clamp(x + i), clamp(y + j)) : |i| ≤ r, |j| ≤ r }
//! ```
//!
//! The filter is separable (a vertical then a horizontal 1-D minimum), and each 1-D pass uses
//! the van Herk / Gil-Werman decomposition: cut the border-padded sequence `p` into blocks of
//! `k` samples, compute the prefix minimum `G` and the suffix minimum `H` inside every block;
//! a window `[i, i + k − 1]` spans at most two blocks, so
//!
//! ```text
//! min p[i ..= i + k − 1] = min(H[i], G[i + k − 1])
//! ```
//!
//! costs three comparisons per sample whatever `r` is.
//!
//! The vertical pass treats whole rows as the samples (`G`, `H` and the final minimum are
//! element-wise minima of row slices, which vectorise), and streams block by block: only the
//! `k` suffix-minimum rows of the previous block, the `k` rows of the current block and one
//! prefix row are kept, so nothing is transposed and the working set stays in cache. Every
//! vertical output row is then filtered horizontally while it is hot. Row bands run in
//! parallel (rayon); each band re-reads the `r` rows of context above and below it.
//!
//! The input rows come from a callback, so callers can fold a per-pixel map into the first
//! pass (the dark channel takes `min(R, G, B)` there, and `min_c I_c / A_c` for the raw
//! transmission) without materialising the mapped plane.
use crate::buffer::Plane;
use rayon::prelude::*;

/// Minimum over the `(2r+1)×(2r+1)` window centred on each pixel, replicate ("nearest") borders.
///
/// A radius at least as large as the image is allowed (the window then covers the whole row or
/// column). An empty plane gives an empty plane.
pub fn min_filter(src: &Plane, radius: usize) -> Plane {
    let (w, h) = (src.width(), src.height());
    let data = src.data();
    let mut out = vec![0.0f32; w * h];
    min_filter_rows(
        w,
        h,
        radius,
        |y, row| row.copy_from_slice(&data[y * w..(y + 1) * w]),
        |_| {},
        &mut out,
    );
    Plane::from_vec(w, h, out)
}

/// `min(a, b)` as a single `minps`-style comparison (for NaN it returns `b`; the filters do not
/// promise anything about NaN beyond not panicking).
#[inline(always)]
pub(crate) fn fmin(a: f32, b: f32) -> f32 {
    if a < b {
        a
    } else {
        b
    }
}

/// `acc[i] = min(acc[i], src[i])`.
#[inline]
fn min_assign(acc: &mut [f32], src: &[f32]) {
    for (a, &s) in acc.iter_mut().zip(src) {
        *a = fmin(*a, s);
    }
}

/// The streaming min filter behind [`min_filter`] and the dark channel.
///
/// `fill(y, row)` must write input row `y` (`row.len() == w`); it may be called more than once
/// for the same `y` (band context, replicated border rows). `finish(row)` is applied to every
/// finished output row (a per-pixel map fused into the last pass). `out` holds `w * h` samples.
pub(crate) fn min_filter_rows<F, G>(
    w: usize,
    h: usize,
    radius: usize,
    fill: F,
    finish: G,
    out: &mut [f32],
) where
    F: Fn(usize, &mut [f32]) + Sync,
    G: Fn(&mut [f32]) + Sync,
{
    min_filter_rows_side(w, h, radius, |y, row, _| fill(y, row), finish, out, &mut []);
}

/// [`min_filter_rows`] with a side output: `side` is empty or holds `w * h` samples, and
/// `fill(y, row, side_row)` gets `Some(row y of side)` exactly once for every `y` (in the
/// band that owns the row), `None` on the other calls. So a per-pixel quantity that needs
/// the same input samples (the dark channel prior's grey guide) is written while they are
/// hot, without a pass of its own.
#[allow(clippy::too_many_arguments)]
pub(crate) fn min_filter_rows_side<F, G>(
    w: usize,
    h: usize,
    radius: usize,
    fill: F,
    finish: G,
    out: &mut [f32],
    side: &mut [f32],
) where
    F: Fn(usize, &mut [f32], Option<&mut [f32]>) + Sync,
    G: Fn(&mut [f32]) + Sync,
{
    debug_assert_eq!(out.len(), w * h);
    debug_assert!(side.is_empty() || side.len() == w * h);
    if w == 0 || h == 0 {
        return;
    }
    // A window wider than the image is the same as one exactly covering it (replicated samples
    // never lower the minimum); clamping also keeps `2r + 1` from overflowing.
    let rx = radius.min(w - 1);
    let ry = radius.min(h - 1);
    let threads = rayon::current_num_threads().max(1);
    // Bands of at least 8 rows and at least 4k rows, so the re-read context stays small.
    let band = h.div_ceil(threads).max(4 * (2 * ry + 1)).max(8).min(h);
    let run = |i: usize, chunk: &mut [f32], side: Option<&mut [f32]>| {
        let rows = chunk.len() / w;
        let mut horiz = Horizontal::new(w, rx);
        vertical_band(w, h, ry, i * band, rows, &fill, side, |o, v| {
            let dst = &mut chunk[o * w..(o + 1) * w];
            horiz.run(v, dst);
            finish(dst);
        });
    };
    if side.is_empty() {
        out.par_chunks_mut(band * w)
            .enumerate()
            .for_each(|(i, chunk)| run(i, chunk, None));
    } else {
        out.par_chunks_mut(band * w)
            .zip(side.par_chunks_mut(band * w))
            .enumerate()
            .for_each(|(i, (chunk, side))| run(i, chunk, Some(side)));
    }
}

/// Vertical van Herk pass over the output rows `y0 .. y0 + rows`; calls `emit(o, row)` with the
/// vertical minimum of output row `y0 + o`, in increasing `o`. `side` (the band's rows of the
/// side output, if any) is handed to `fill` row by row, once per own row.
#[allow(clippy::too_many_arguments)]
fn vertical_band<F, E>(
    w: usize,
    h: usize,
    ry: usize,
    y0: usize,
    rows: usize,
    fill: &F,
    mut side: Option<&mut [f32]>,
    mut emit: E,
) where
    F: Fn(usize, &mut [f32], Option<&mut [f32]>),
    E: FnMut(usize, &[f32]),
{
    let k = 2 * ry + 1;
    // Padded row index `i` (0 .. rows + 2r) is image row clamp(y0 + i − r); for
    // `r ≤ i < r + rows` it is the band's own row `y0 + i − r`, read exactly once.
    let len = rows + 2 * ry;
    let src_row = |i: usize| (y0 + i).saturating_sub(ry).min(h - 1);
    let mut fill_padded = |i: usize, row: &mut [f32]| {
        let own = i.checked_sub(ry).filter(|&o| o < rows);
        let side_row = match (own, side.as_deref_mut()) {
            (Some(o), Some(s)) => Some(&mut s[o * w..(o + 1) * w]),
            _ => None,
        };
        fill(src_row(i), row, side_row);
    };
    // `prev`: suffix minima of the previous block; `cur`: rows of the current block;
    // `g`: running prefix minimum of the current block; `v`: one output row.
    let mut prev = vec![0.0f32; k * w];
    let mut cur = vec![0.0f32; k * w];
    let mut g = vec![0.0f32; w];
    let mut v = vec![0.0f32; w];

    // Block 0 is always complete (len ≥ k because rows ≥ 1).
    for j in 0..k {
        fill_padded(j, &mut prev[j * w..(j + 1) * w]);
    }
    suffix_min_rows(&mut prev, w, k);
    emit(0, &prev[..w]);

    let mut start = k;
    while start < len {
        let n = k.min(len - start);
        for j in 0..n {
            let row = &mut cur[j * w..(j + 1) * w];
            fill_padded(start + j, row);
            if j == 0 {
                g.copy_from_slice(row);
            } else {
                min_assign(&mut g, row);
            }
            // Output o = start + j − (k − 1): window [o, o + k − 1] = suffix of the previous
            // block from offset j + 1, plus the prefix of this block up to offset j.
            let o = start + j + 1 - k;
            if j + 1 < k {
                for ((d, &a), &b) in v.iter_mut().zip(&prev[(j + 1) * w..(j + 2) * w]).zip(&g) {
                    *d = fmin(a, b);
                }
                emit(o, &v);
            } else {
                emit(o, &g);
            }
        }
        if n == k {
            suffix_min_rows(&mut cur, w, k);
        }
        std::mem::swap(&mut prev, &mut cur);
        start += k;
    }
}

/// In-place suffix minimum over the `k` rows of `block` (row `j` becomes min of rows `j..k`).
fn suffix_min_rows(block: &mut [f32], w: usize, k: usize) {
    for j in (0..k.saturating_sub(1)).rev() {
        let (head, tail) = block.split_at_mut((j + 1) * w);
        min_assign(&mut head[j * w..], &tail[..w]);
    }
}

/// Horizontal van Herk pass with reusable scratch rows.
struct Horizontal {
    r: usize,
    pad: Vec<f32>,
    pre: Vec<f32>,
    suf: Vec<f32>,
}

impl Horizontal {
    fn new(w: usize, r: usize) -> Self {
        let len = w + 2 * r;
        Self {
            r,
            pad: vec![0.0; len],
            pre: vec![0.0; len],
            suf: vec![0.0; len],
        }
    }

    /// `dst[x] = min src[clamp(x − r) ..= clamp(x + r)]`.
    fn run(&mut self, src: &[f32], dst: &mut [f32]) {
        let (w, r) = (src.len(), self.r);
        let k = 2 * r + 1;
        let len = w + 2 * r;
        let (pad, pre, suf) = (
            &mut self.pad[..len],
            &mut self.pre[..len],
            &mut self.suf[..len],
        );
        pad[..r].fill(src[0]);
        pad[r..r + w].copy_from_slice(src);
        pad[r + w..].fill(src[w - 1]);
        // Blocks are independent, so out-of-order execution overlaps their min chains.
        for ((p, g), s) in pad.chunks(k).zip(pre.chunks_mut(k)).zip(suf.chunks_mut(k)) {
            let mut acc = p[0];
            for (gi, &pi) in g.iter_mut().zip(p) {
                acc = fmin(acc, pi);
                *gi = acc;
            }
            let mut acc = p[p.len() - 1];
            for (si, &pi) in s.iter_mut().zip(p).rev() {
                acc = fmin(acc, pi);
                *si = acc;
            }
        }
        for ((d, &a), &b) in dst.iter_mut().zip(&suf[..w]).zip(&pre[k - 1..]) {
            *d = fmin(a, b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filters::test_support::*;

    /// Direct evaluation of the definition.
    fn naive(src: &Plane, r: usize) -> Plane {
        let (w, h) = (src.width(), src.height());
        let mut out = vec![0.0f32; w * h];
        for y in 0..h {
            for x in 0..w {
                let mut m = f32::INFINITY;
                for j in -(r as isize)..=r as isize {
                    for i in -(r as isize)..=r as isize {
                        let yy = (y as isize + j).clamp(0, h as isize - 1) as usize;
                        let xx = (x as isize + i).clamp(0, w as isize - 1) as usize;
                        m = m.min(src.get(xx, yy));
                    }
                }
                out[y * w + x] = m;
            }
        }
        Plane::from_vec(w, h, out)
    }

    #[test]
    fn matches_naive_on_many_shapes() {
        on_several_pool_sizes(matches_naive_on_many_shapes_inner);
    }

    fn matches_naive_on_many_shapes_inner() {
        for (n, &(w, h)) in SHAPES.iter().enumerate() {
            let src = random_plane(w, h, n as u64 + 1);
            for r in [0, 1, 2, 3, 7, 20, 100] {
                assert_eq!(min_filter(&src, r), naive(&src, r), "{w}x{h} r={r}");
            }
        }
    }

    #[test]
    fn empty_and_huge_radius() {
        let empty = Plane::filled(0, 5, 0.0);
        assert_eq!(min_filter(&empty, 3).data().len(), 0);
        let src = random_plane(5, 4, 9);
        let m = src.data().iter().copied().fold(f32::INFINITY, f32::min);
        assert!(min_filter(&src, usize::MAX).data().iter().all(|&v| v == m));
    }
}
