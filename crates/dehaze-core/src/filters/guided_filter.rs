//! He et al.'s guided filter (TPAMI 2013) with a grey guide, in two fused streaming passes.
//!
//! With box means `⟨·⟩` over the `(2r+1)×(2r+1)` window clipped to the image
//! (see [`super::box_filter`]):
//!
//! ```text
//! a = (⟨g·p⟩ − ⟨g⟩⟨p⟩) / (⟨g²⟩ − ⟨g⟩² + eps),   b = ⟨p⟩ − a·⟨g⟩,   q = ⟨a⟩·g + ⟨b⟩
//! ```
//!
//! * **pass 1** streams the four sums `Σg, Σp, Σg·p, Σg²` together (one set of column sums per
//!   band, updated row by row; one horizontal prefix per row) and writes `a` and `b` directly;
//! * **pass 2** box-sums `a` and `b` the same way and writes `q`.
//!
//! So the intermediate means are never stored: only `a` and `b` are (`f32`). All sums, means,
//! the covariance and the variance are `f64`, because `⟨g²⟩ − ⟨g⟩²` cancels to values far below
//! `eps` in flat regions. Both passes run over row bands in parallel (rayon).
use super::box_filter::{band_height, box_sums_band, inv_counts};
use crate::buffer::Plane;
use rayon::prelude::*;

/// He et al.'s guided filter of `src` with the grey `guide`, radius `radius`, regulariser `eps`:
/// `a = cov(g,p)/(var(g)+eps)`, `b = mean(p) − a·mean(g)`, `q = mean(a)·g + mean(b)`,
/// box means clipped to the image.
///
/// # Panics
/// If `guide` and `src` differ in size (a programming error, not an input error).
pub fn guided_filter(guide: &Plane, src: &Plane, radius: usize, eps: f32) -> Plane {
    let (w, h) = (src.width(), src.height());
    assert_eq!(
        (guide.width(), guide.height()),
        (w, h),
        "guided_filter: guide and source sizes differ"
    );
    let n = w * h;
    let (mut a, mut b, mut out) = (vec![0.0f32; n], vec![0.0f32; n], vec![0.0f32; n]);
    let (g, p) = (guide.data(), src.data());
    guided_coefficients(g, p, w, h, radius, eps, &mut a, &mut b);
    guided_output(g, &a, &b, w, h, radius, &mut out);
    Plane::from_vec(w, h, out)
}

/// Whether the AVX2 + FMA versions of the band loops can run on this CPU (checked once per
/// pass; the result is cached by the standard library).
pub(crate) fn simd_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Pass 1 of [`guided_filter`] on raw row-major slices (all `w * h` long): writes the
/// coefficients `a` and `b`. Callers that own spare buffers (the dark channel prior reuses its
/// output image) pass them here instead of allocating: fresh pages cost a page fault each.
#[allow(clippy::too_many_arguments)]
pub(crate) fn guided_coefficients(
    guide: &[f32],
    src: &[f32],
    w: usize,
    h: usize,
    radius: usize,
    eps: f32,
    a: &mut [f32],
    b: &mut [f32],
) {
    guided_coefficients_with(guide, src, w, h, radius, eps, a, b, simd_available());
}

/// [`guided_coefficients`] with the instruction set chosen by the caller (`simd`: the AVX2 +
/// FMA build of the same code, only where [`simd_available`]); both give identical bits.
#[allow(clippy::too_many_arguments)]
pub(crate) fn guided_coefficients_with(
    guide: &[f32],
    src: &[f32],
    w: usize,
    h: usize,
    radius: usize,
    eps: f32,
    a: &mut [f32],
    b: &mut [f32],
    simd: bool,
) {
    let n = w * h;
    debug_assert!(guide.len() == n && src.len() == n && a.len() == n && b.len() == n);
    if n == 0 {
        return;
    }
    let simd = simd && simd_available();
    let inv_nx = inv_counts(w, radius);
    let band = band_height(h, radius);
    let eps = eps as f64;
    a.par_chunks_mut(band * w)
        .zip(b.par_chunks_mut(band * w))
        .enumerate()
        .for_each(|(i, (ca, cb))| {
            let args = CoefBand {
                guide,
                src,
                w,
                h,
                radius,
                eps,
                inv_nx: &inv_nx,
                y0: i * band,
            };
            #[cfg(target_arch = "x86_64")]
            if simd {
                // SAFETY: `simd` is only true where AVX2 and FMA were detected at run time.
                unsafe { coefficients_band_avx2(&args, ca, cb) };
                return;
            }
            let _ = simd;
            coefficients_band(&args, ca, cb);
        });
}

/// The read-only inputs of one band of pass 1.
struct CoefBand<'a> {
    guide: &'a [f32],
    src: &'a [f32],
    w: usize,
    h: usize,
    radius: usize,
    eps: f64,
    inv_nx: &'a [f64],
    y0: usize,
}

/// One band of pass 1: the rows `y0 .. y0 + ca.len() / w` of `a` and `b`.
#[inline(always)]
fn coefficients_band(c: &CoefBand, ca: &mut [f32], cb: &mut [f32]) {
    let (w, y0, eps) = (c.w, c.y0, c.eps);
    let rows = y0..y0 + ca.len() / w;
    box_sums_band(
        [c.guide, c.src],
        w,
        c.h,
        c.radius,
        rows,
        #[inline(always)]
        |[g, p]| {
            let (g, p) = (g as f64, p as f64);
            [g, p, g * p, g * g]
        },
        #[inline(always)]
        |y, inv_ny, sums| {
            let o = (y - y0) * w;
            let (ra, rb) = (&mut ca[o..o + w], &mut cb[o..o + w]);
            for (((a, b), &[sg, sp, sgp, sgg]), &ix) in
                ra.iter_mut().zip(rb.iter_mut()).zip(sums).zip(c.inv_nx)
            {
                let inv = ix * inv_ny;
                let (mg, mp) = (sg * inv, sp * inv);
                let cov = sgp * inv - mg * mp;
                let var = sgg * inv - mg * mg;
                let ax = cov / (var + eps);
                *a = ax as f32;
                *b = (mp - ax * mg) as f32;
            }
        },
    );
}

/// [`coefficients_band`] compiled for AVX2 + FMA (no fused multiply-adds are written, so the
/// results are the same bits as the portable build).
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn coefficients_band_avx2(c: &CoefBand, ca: &mut [f32], cb: &mut [f32]) {
    coefficients_band(c, ca, cb);
}

/// Pass 2 of [`guided_filter`]: `out = ⟨a⟩·g + ⟨b⟩` (all slices `w * h` long).
pub(crate) fn guided_output(
    guide: &[f32],
    a: &[f32],
    b: &[f32],
    w: usize,
    h: usize,
    radius: usize,
    out: &mut [f32],
) {
    guided_output_with(Some(guide), a, b, w, h, radius, out, simd_available());
}

/// [`guided_output`] in place: `guide_out` holds the guide on entry and `⟨a⟩·g + ⟨b⟩` on exit.
/// Pass 2 box-sums only `a` and `b`; the guide is read at the output row itself, just before
/// that row is written, so no second plane is needed (the dark channel prior then keeps the
/// refined transmission where its guide was, in the buffer it returns).
pub(crate) fn guided_output_in_place(
    guide_out: &mut [f32],
    a: &[f32],
    b: &[f32],
    w: usize,
    h: usize,
    radius: usize,
) {
    guided_output_with(None, a, b, w, h, radius, guide_out, simd_available());
}

/// [`guided_output`] with the instruction set chosen by the caller (see
/// [`guided_coefficients_with`]); `guide: None` reads the guide from `out` (in place).
#[allow(clippy::too_many_arguments)]
pub(crate) fn guided_output_with(
    guide: Option<&[f32]>,
    a: &[f32],
    b: &[f32],
    w: usize,
    h: usize,
    radius: usize,
    out: &mut [f32],
    simd: bool,
) {
    let n = w * h;
    debug_assert!(guide.is_none_or(|g| g.len() == n));
    debug_assert!(a.len() == n && b.len() == n && out.len() == n);
    if n == 0 {
        return;
    }
    let simd = simd && simd_available();
    let inv_nx = inv_counts(w, radius);
    let band = band_height(h, radius);
    out.par_chunks_mut(band * w)
        .enumerate()
        .for_each(|(i, chunk)| {
            let args = OutBand {
                guide,
                a,
                b,
                w,
                h,
                radius,
                inv_nx: &inv_nx,
                y0: i * band,
            };
            #[cfg(target_arch = "x86_64")]
            if simd {
                // SAFETY: `simd` is only true where AVX2 and FMA were detected at run time.
                unsafe { output_band_avx2(&args, chunk) };
                return;
            }
            let _ = simd;
            output_band(&args, chunk);
        });
}

/// The read-only inputs of one band of pass 2.
struct OutBand<'a> {
    /// `None`: the guide is in the output rows (in place).
    guide: Option<&'a [f32]>,
    a: &'a [f32],
    b: &'a [f32],
    w: usize,
    h: usize,
    radius: usize,
    inv_nx: &'a [f64],
    y0: usize,
}

/// One band of pass 2: the rows `y0 .. y0 + chunk.len() / w` of the output.
#[inline(always)]
fn output_band(c: &OutBand, chunk: &mut [f32]) {
    let (w, y0) = (c.w, c.y0);
    let rows = y0..y0 + chunk.len() / w;
    box_sums_band(
        [c.a, c.b],
        w,
        c.h,
        c.radius,
        rows,
        #[inline(always)]
        |[a, b]| [a as f64, b as f64],
        #[inline(always)]
        |y, inv_ny, sums| {
            let o = (y - y0) * w;
            let dst = &mut chunk[o..o + w];
            match c.guide {
                Some(guide) => {
                    let g = &guide[y * w..(y + 1) * w];
                    for (((d, &[sa, sb]), &g), &ix) in dst.iter_mut().zip(sums).zip(g).zip(c.inv_nx)
                    {
                        let inv = ix * inv_ny;
                        *d = ((sa * g as f64 + sb) * inv) as f32;
                    }
                }
                None => {
                    for ((d, &[sa, sb]), &ix) in dst.iter_mut().zip(sums).zip(c.inv_nx) {
                        let inv = ix * inv_ny;
                        *d = ((sa * *d as f64 + sb) * inv) as f32;
                    }
                }
            }
        },
    );
}

/// [`output_band`] compiled for AVX2 + FMA.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn output_band_avx2(c: &OutBand, chunk: &mut [f32]) {
    output_band(c, chunk);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filters::test_support::*;

    /// The definition, with every box mean evaluated directly in f64.
    fn naive(guide: &Plane, src: &Plane, r: usize, eps: f64) -> Vec<f64> {
        let (w, h) = (src.width(), src.height());
        let mean = |f: &dyn Fn(usize) -> f64| -> Vec<f64> {
            let mut out = vec![0.0; w * h];
            for y in 0..h {
                for x in 0..w {
                    let (x0, x1) = (x.saturating_sub(r), x.saturating_add(r).min(w - 1));
                    let (y0, y1) = (y.saturating_sub(r), y.saturating_add(r).min(h - 1));
                    let mut s = 0.0;
                    for j in y0..=y1 {
                        for i in x0..=x1 {
                            s += f(j * w + i);
                        }
                    }
                    out[y * w + x] = s / ((x1 - x0 + 1) * (y1 - y0 + 1)) as f64;
                }
            }
            out
        };
        let g = |i: usize| guide.data()[i] as f64;
        let p = |i: usize| src.data()[i] as f64;
        let mg = mean(&g);
        let mp = mean(&p);
        let mgp = mean(&|i| g(i) * p(i));
        let mgg = mean(&|i| g(i) * g(i));
        let a: Vec<f64> = (0..w * h)
            .map(|i| (mgp[i] - mg[i] * mp[i]) / (mgg[i] - mg[i] * mg[i] + eps))
            .collect();
        let b: Vec<f64> = (0..w * h).map(|i| mp[i] - a[i] * mg[i]).collect();
        let ma = mean(&|i| a[i]);
        let mb = mean(&|i| b[i]);
        (0..w * h).map(|i| ma[i] * g(i) + mb[i]).collect()
    }

    #[test]
    fn matches_naive_on_many_shapes() {
        on_several_pool_sizes(matches_naive_on_many_shapes_inner);
    }

    fn matches_naive_on_many_shapes_inner() {
        let shapes = [(1, 1), (1, 9), (9, 1), (2, 3), (7, 5), (33, 17), (17, 40)];
        for (n, &(w, h)) in shapes.iter().enumerate() {
            let g = random_plane(w, h, 2 * n as u64 + 1);
            let p = random_plane(w, h, 2 * n as u64 + 2);
            for r in [0, 1, 3, 8, 100] {
                for eps in [1e-3f32, 1e-1] {
                    let got = guided_filter(&g, &p, r, eps);
                    let want = naive(&g, &p, r, eps as f64);
                    for (i, (&q, &e)) in got.data().iter().zip(&want).enumerate() {
                        assert!(
                            (q as f64 - e).abs() <= 2e-5,
                            "{w}x{h} r={r} eps={eps} at {i}: {q} vs {e}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn simd_and_portable_paths_agree_bitwise() {
        if !simd_available() {
            eprintln!("no AVX2/FMA on this CPU: only the portable path exists");
            return;
        }
        for (n, &(w, h, r)) in [
            (1, 1, 0),
            (7, 5, 2),
            (61, 43, 8),
            (130, 97, 60),
            (9, 300, 60),
        ]
        .iter()
        .enumerate()
        {
            let g = random_plane(w, h, 3 * n as u64 + 1);
            let p = random_plane(w, h, 3 * n as u64 + 2);
            let (g, p) = (g.data(), p.data());
            let run = |simd: bool| {
                let (mut a, mut b, mut q) = (vec![0.0; w * h], vec![0.0; w * h], vec![0.0; w * h]);
                guided_coefficients_with(g, p, w, h, r, 1e-3, &mut a, &mut b, simd);
                guided_output_with(Some(g), &a, &b, w, h, r, &mut q, simd);
                let mut q2 = g.to_vec();
                guided_output_with(None, &a, &b, w, h, r, &mut q2, simd);
                assert_eq!(q, q2, "in place {w}x{h} r={r} simd {simd}");
                (a, b, q)
            };
            let (portable, simd) = (run(false), run(true));
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&portable.0), bits(&simd.0), "a {w}x{h} r={r}");
            assert_eq!(bits(&portable.1), bits(&simd.1), "b {w}x{h} r={r}");
            assert_eq!(bits(&portable.2), bits(&simd.2), "q {w}x{h} r={r}");
        }
    }

    #[test]
    fn constant_source_is_kept() {
        let g = random_plane(40, 30, 5);
        let p = Plane::filled(40, 30, 0.25);
        for &v in guided_filter(&g, &p, 60, 1e-3).data() {
            assert!((v - 0.25).abs() < 1e-6, "{v}");
        }
    }
}
