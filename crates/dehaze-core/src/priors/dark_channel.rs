//! Dark channel prior (He, Sun & Tang, CVPR 2009) with guided-filter refinement (TPAMI 2013).
//!
//! In a haze-free outdoor patch at least one colour channel is almost black, so the *dark
//! channel*
//!
//! ```text
//! dark(I)(x) = min_{y ∈ Ω(x)} min_{c ∈ {R,G,B}} I_c(y)        (Ω = patch × patch window)
//! ```
//!
//! of the haze-free radiance `J` is ≈ 0. Applied to `I / A` under the scattering model
//! `I = J·t + A·(1 − t)` this gives the transmission estimate
//!
//! ```text
//! t̃ = 1 − ω · dark(I / A)            (ω < 1 keeps a little haze for depth perception)
//! ```
//!
//! The pipeline, which follows the project's reference implementation step by step:
//!
//! 1. `dark(I)` with a `patch × patch` minimum filter, replicate borders ([`dark_channel`]);
//! 2. airlight `A`: among the `n = max(1, ⌊f·H·W⌋)` pixels with the largest dark channel (ties
//!    resolved like a stable ascending sort of the row-major dark channel whose last `n` are
//!    taken), the RGB of the one with the largest `R + G + B`, the first in that sorted order on
//!    ties ([`estimate_airlight`]);
//! 3. raw transmission `t̃ = 1 − ω·dark(I / A)` ([`raw_transmission`]);
//! 4. refinement: guided filter of `t̃` with the guide `g = 0.299R + 0.587G + 0.114B`
//!    ([`luma`], [`guided_filter`]);
//! 5. recovery `J = (I − A) / max(t, t0) + A`, clipped to `[0, 1]` ([`recover`]).
//!
//! The min filter is O(1) per pixel and takes the per-pixel channel minimum (and the division
//! by `A`) in its first pass; the guided filter is two fused running-sum passes; the airlight
//! is found with a histogram and a partial selection instead of a full sort. See
//! `bench/README.md` for timings.
use super::{Dehazed, Dehazer};
use crate::buffer::{Plane, RgbImage};
use crate::filters::guided_filter::{guided_coefficients, guided_output_in_place};
use crate::filters::min_filter::{fmin, min_filter_rows, min_filter_rows_side};
use rayon::prelude::*;

/// Dark channel prior dehazing with its parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct DarkChannelPrior {
    /// Side of the square min-filter window in pixels (radius `patch_size / 2`; an even size
    /// behaves like the next odd one). Default 15.
    pub patch_size: usize,
    /// Fraction `ω` of the haze removed, `t̃ = 1 − ω·dark(I/A)`. Default 0.95.
    pub omega: f32,
    /// Lower bound on the transmission in the recovery (limits noise amplification in dense
    /// haze). Default 0.1.
    pub t0: f32,
    /// Fraction of pixels with the brightest dark channel among which the airlight is picked.
    /// Default 0.001 (0.1 %).
    pub top_fraction: f64,
    /// Guided-filter radius for the transmission refinement. Default 60.
    pub guided_radius: usize,
    /// Guided-filter regulariser. Default 1e-3.
    pub guided_eps: f32,
}

impl Default for DarkChannelPrior {
    fn default() -> Self {
        Self {
            patch_size: 15,
            omega: 0.95,
            t0: 0.1,
            top_fraction: 0.001,
            guided_radius: 60,
            guided_eps: 1e-3,
        }
    }
}

impl DarkChannelPrior {
    /// The airlight `A` alone, as [`Dehazer::dehaze`] estimates it (the dark channel, then
    /// [`estimate_airlight`]), without the transmission and the recovery.
    pub fn airlight(&self, hazy: &RgbImage) -> [f32; 3] {
        let dark = dark_channel(hazy, self.patch_size);
        estimate_airlight(hazy, &dark, self.top_fraction)
    }
}

impl Dehazer for DarkChannelPrior {
    fn dehaze(&self, hazy: &RgbImage) -> Dehazed {
        let (w, h) = (hazy.width(), hazy.height());
        let n = w * h;
        // The stages run on four planes only: the returned transmission `tb` and the three
        // planes of the returned image `ob` double as scratch. Every page of a fresh buffer
        // costs a page fault on first touch (≈ 40 ms per 72 MB on the benchmark machine), so
        // not allocating four more planes saves more time than most of the arithmetic costs.
        let mut tb = zeroed_buffer(n);
        let mut ob = zeroed_buffer(3 * n);
        let (o_r, o_gb) = ob.split_at_mut(n);
        let (o_g, o_b) = o_gb.split_at_mut(n);
        let (r, eps) = (self.guided_radius, self.guided_eps);
        // tb = dark channel → airlight.
        dark_channel_into(hazy, self.patch_size, &mut tb);
        let airlight = airlight_from(hazy, &tb, self.top_fraction);
        // o_r = raw transmission and tb = guide, in one sweep over the RGB rows.
        raw_transmission_into(hazy, airlight, self.patch_size, self.omega, o_r, &mut tb);
        // o_g, o_b = guided-filter coefficients a, b; then tb = refined transmission q (each
        // guide sample is read just before its q overwrites it).
        guided_coefficients(&tb, o_r, w, h, r, eps, o_g, o_b);
        guided_output_in_place(&mut tb, o_g, o_b, w, h, r);
        // ob = recovered image.
        recover_into(hazy, airlight, self.t0, &tb, &mut ob);
        Dehazed {
            image: RgbImage::from_planar(w, h, ob),
            transmission: Plane::from_vec(w, h, tb),
            airlight,
        }
    }
}

/// A zeroed buffer of `len` samples whose pages are not touched yet, advised (on Linux x86-64)
/// to be backed by transparent huge pages.
///
/// The first write to each page of a fresh allocation costs a page fault; on the benchmark VM
/// that is ≈ 0.55 ms per MB with 4 KiB pages and ≈ 0.1 ms per MB with 2 MiB pages (measured
/// with `calloc` + `memset`, 96 MB). The kernel only uses huge pages for anonymous memory that
/// asked for them when `/sys/kernel/mm/transparent_hugepage/enabled` is `madvise` (the common
/// default), so the advice is given before anything is written. Where it is not supported the
/// call fails harmlessly and the buffer is an ordinary one.
fn zeroed_buffer(len: usize) -> Vec<f32> {
    // `vec![0.0; n]` allocates with `alloc_zeroed` (calloc), which for large sizes maps fresh
    // zero pages without writing them.
    let mut v = vec![0.0f32; len];
    advise_huge_pages(&mut v);
    v
}

#[cfg(target_os = "linux")]
fn advise_huge_pages(buf: &mut [f32]) {
    const HUGE: usize = 2 << 20;
    let start = buf.as_mut_ptr() as usize;
    let end = start + std::mem::size_of_val(buf);
    // Only whole 2 MiB pages inside the buffer can be huge; the range stays inside `buf`.
    let (a, b) = (start.next_multiple_of(HUGE), end & !(HUGE - 1));
    if b <= a {
        return;
    }
    // SAFETY: madvise(MADV_HUGEPAGE) on a page-aligned range inside memory we own only sets a
    // flag on the mapping; it changes no contents and cannot invalidate the buffer. The result
    // is ignored: the advice is optional (kernels without THP refuse it).
    unsafe {
        libc::madvise(a as *mut libc::c_void, b - a, libc::MADV_HUGEPAGE);
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_buf: &mut [f32]) {}

/// [`crate::filters::guided_filter::guided_filter`], re-exported here for the stage list above.
pub use crate::filters::guided_filter::guided_filter;

/// The dark channel `min_{patch window} min(R, G, B)`, replicate borders, window radius
/// `patch_size / 2`.
pub fn dark_channel(img: &RgbImage, patch_size: usize) -> Plane {
    let mut out = vec![0.0f32; img.pixels()];
    dark_channel_into(img, patch_size, &mut out);
    Plane::from_vec(img.width(), img.height(), out)
}

fn dark_channel_into(img: &RgbImage, patch_size: usize, out: &mut [f32]) {
    let w = img.width();
    let [r, g, b] = img.planes();
    min_filter_rows(
        w,
        img.height(),
        patch_size / 2,
        |y, row| {
            let s = y * w..(y + 1) * w;
            for (((d, &r), &g), &b) in row
                .iter_mut()
                .zip(&r[s.clone()])
                .zip(&g[s.clone()])
                .zip(&b[s])
            {
                *d = fmin(fmin(r, g), b);
            }
        },
        |_| {},
        out,
    );
}

/// The raw transmission `t̃ = 1 − ω · dark(I / A)` (the channel division is done as a
/// multiplication by `1 / A_c`).
///
/// A channel of `A` below `1e-6` is treated as `1e-6`, so a black airlight channel gives large
/// but finite values instead of infinities.
pub fn raw_transmission(
    img: &RgbImage,
    airlight: [f32; 3],
    patch_size: usize,
    omega: f32,
) -> Plane {
    let mut out = vec![0.0f32; img.pixels()];
    raw_transmission_into(img, airlight, patch_size, omega, &mut out, &mut []);
    Plane::from_vec(img.width(), img.height(), out)
}

/// The raw transmission into `out`; if `guide` is not empty (`H·W` samples), the grey guide
/// ([`luma`]) is written there in the same sweep, while the RGB rows are in cache.
fn raw_transmission_into(
    img: &RgbImage,
    airlight: [f32; 3],
    patch_size: usize,
    omega: f32,
    out: &mut [f32],
    guide: &mut [f32],
) {
    let w = img.width();
    let [r, g, b] = img.planes();
    let [ir, ig, ib] = airlight.map(|a| 1.0 / a.max(1e-6));
    min_filter_rows_side(
        w,
        img.height(),
        patch_size / 2,
        |y, row, guide_row| {
            let s = y * w..(y + 1) * w;
            let (r, g, b) = (&r[s.clone()], &g[s.clone()], &b[s]);
            for (((d, &r), &g), &b) in row.iter_mut().zip(r).zip(g).zip(b) {
                *d = fmin(fmin(r * ir, g * ig), b * ib);
            }
            if let Some(gr) = guide_row {
                luma_row(r, g, b, gr);
            }
        },
        |row| {
            for v in row {
                *v = 1.0 - omega * *v;
            }
        },
        out,
        guide,
    );
}

/// `out = 0.299·r + 0.587·g + 0.114·b` over one run of samples.
#[inline]
fn luma_row(r: &[f32], g: &[f32], b: &[f32], out: &mut [f32]) {
    for (((d, &r), &g), &b) in out.iter_mut().zip(r).zip(g).zip(b) {
        *d = 0.299 * r + 0.587 * g + 0.114 * b;
    }
}

/// The guide image `g = 0.299·R + 0.587·G + 0.114·B`.
pub fn luma(img: &RgbImage) -> Plane {
    let mut out = vec![0.0f32; img.pixels()];
    luma_into(img, &mut out);
    Plane::from_vec(img.width(), img.height(), out)
}

fn luma_into(img: &RgbImage, out: &mut [f32]) {
    let [r, g, b] = img.planes();
    const CHUNK: usize = 1 << 14;
    out.par_chunks_mut(CHUNK).enumerate().for_each(|(i, dst)| {
        let s = i * CHUNK..i * CHUNK + dst.len();
        luma_row(&r[s.clone()], &g[s.clone()], &b[s], dst);
    });
}

fn order_key(v: f32) -> u32 {
    let b = v.to_bits();
    if b >> 31 == 1 {
        !b
    } else {
        b | 0x8000_0000
    }
}

/// The airlight: the RGB value, among the `n = max(1, ⌊top_fraction·H·W⌋)` pixels with the
/// largest dark channel, of the one with the largest `R + G + B`.
///
/// Exactly the selection of a stable ascending sort of the row-major `dark` whose last `n`
/// entries are taken (equal dark values: the later pixels win), and on equal sums the first
/// pixel in that sorted order — but in O(H·W): a 65 536-bin histogram of the top 16 bits of
/// the order key of every 16th pixel gives a bin that (with a 2× margin) lies below the `n`-th
/// largest value, only the pixels from that bin up are collected (if they are fewer than `n`,
/// the bin is recomputed from the full histogram), and a partial selection on (value, index)
/// picks the `n` of them.
///
/// Returns `[0, 0, 0]` for an empty image.
///
/// # Panics
/// If `dark` and `img` differ in size (a programming error).
pub fn estimate_airlight(img: &RgbImage, dark: &Plane, top_fraction: f64) -> [f32; 3] {
    assert_eq!(
        (dark.width(), dark.height()),
        (img.width(), img.height()),
        "estimate_airlight: dark channel size differs"
    );
    airlight_from(img, dark.data(), top_fraction)
}

fn airlight_from(img: &RgbImage, d: &[f32], top_fraction: f64) -> [f32; 3] {
    let len = d.len();
    if len == 0 {
        return [0.0; 3];
    }
    let n = ((top_fraction * len as f64).floor() as usize).clamp(1, len);

    const CHUNK: usize = 1 << 16;
    // Histogram of the top 16 key bits of every `step`-th sample.
    let histogram = |step: usize| -> Vec<u32> {
        d.par_chunks(CHUNK)
            .fold(
                || vec![0u32; 1 << 16],
                |mut h, c| {
                    for &v in c.iter().step_by(step) {
                        h[(order_key(v) >> 16) as usize] += 1;
                    }
                    h
                },
            )
            .reduce(
                || vec![0u32; 1 << 16],
                |mut a, b| {
                    for (x, y) in a.iter_mut().zip(&b) {
                        *x += y;
                    }
                    a
                },
            )
    };
    // The highest bin with at least `need` counts from it up (0 if there are fewer).
    let bin_for = |hist: &[u32], need: usize| -> u32 {
        let mut above = 0usize;
        for (i, &c) in hist.iter().enumerate().rev() {
            above += c as usize;
            if above >= need {
                return i as u32;
            }
        }
        0
    };
    // Candidates: every pixel from bin `bin` up, as (key, index). If at least `n` pixels are
    // there, the n-th largest value is among them with all its ties, so the selection below
    // is exact.
    let collect = |bin: u32| -> Vec<(u32, u32)> {
        d.par_chunks(CHUNK)
            .enumerate()
            .fold(Vec::new, |mut acc, (ci, c)| {
                for (i, &v) in c.iter().enumerate() {
                    let k = order_key(v);
                    if k >> 16 >= bin {
                        acc.push((k, (ci * CHUNK + i) as u32));
                    }
                }
                acc
            })
            .reduce(Vec::new, |mut a, mut b| {
                a.append(&mut b);
                a
            })
    };
    // A threshold from every 16th sample, asking for twice the share of `n` it should see, is
    // almost always low enough and leaves a few thousand candidates; a full histogram is
    // only needed when the candidates come out fewer than `n`. (The full histogram is slow
    // on smooth data: neighbours hit the same bin, so the increments serialise.)
    const STEP: usize = 16;
    let need = 2 * n.div_ceil(STEP) + 16;
    let mut cand = if len.div_ceil(STEP) >= need {
        collect(bin_for(&histogram(STEP), need))
    } else {
        Vec::new()
    };
    if cand.len() < n {
        cand = collect(bin_for(&histogram(1), n));
    }
    // Largest n by (value, index): the last n of a stable ascending sort.
    let m = cand.len();
    let top = if m > n {
        cand.select_nth_unstable(m - n);
        &cand[m - n..]
    } else {
        &cand[..]
    };
    let [r, g, b] = img.planes();
    let sum = |i: usize| r[i] as f64 + g[i] as f64 + b[i] as f64;
    // Largest sum; on equal sums the smallest (value, index), i.e. first in sorted order.
    let best = top
        .iter()
        .copied()
        .max_by(|&x, &y| {
            sum(x.1 as usize)
                .total_cmp(&sum(y.1 as usize))
                .then_with(|| y.cmp(&x))
        })
        .map(|(_, i)| i as usize)
        .unwrap_or(0);
    [r[best], g[best], b[best]]
}

/// Scene radiance `J = (I − A) / max(t, t0) + A`, clipped to `[0, 1]`.
///
/// # Panics
/// If `t` and `img` differ in size (a programming error).
pub fn recover(img: &RgbImage, t: &Plane, airlight: [f32; 3], t0: f32) -> RgbImage {
    let (w, h) = (img.width(), img.height());
    assert_eq!(
        (t.width(), t.height()),
        (w, h),
        "recover: transmission size differs"
    );
    let mut ob = zeroed_buffer(3 * w * h);
    recover_into(img, airlight, t0, t.data(), &mut ob);
    RgbImage::from_planar(w, h, ob)
}

/// Recovery into the three planes of `out` (`3·H·W` samples) from the transmission `t`. One
/// reciprocal per pixel serves the three channels.
fn recover_into(img: &RgbImage, airlight: [f32; 3], t0: f32, t: &[f32], out: &mut [f32]) {
    let n = img.pixels();
    let [ri, gi, bi] = img.planes();
    let [ar, ag, ab] = airlight;
    let (ro, rest) = out.split_at_mut(n);
    let (go, bo) = rest.split_at_mut(n);
    const CHUNK: usize = 1 << 14;
    ro.par_chunks_mut(CHUNK)
        .zip(go.par_chunks_mut(CHUNK))
        .zip(bo.par_chunks_mut(CHUNK))
        .enumerate()
        .for_each(|(i, ((ro, go), bo))| {
            let s = i * CHUNK..i * CHUNK + ro.len();
            let (ri, gi, bi, t) = (&ri[s.clone()], &gi[s.clone()], &bi[s.clone()], &t[s]);
            for x in 0..ro.len() {
                let inv = 1.0 / t[x].max(t0);
                ro[x] = ((ri[x] - ar) * inv + ar).clamp(0.0, 1.0);
                go[x] = ((gi[x] - ag) * inv + ag).clamp(0.0, 1.0);
                bo[x] = ((bi[x] - ab) * inv + ab).clamp(0.0, 1.0);
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random_image(w: usize, h: usize, seed: u64) -> RgbImage {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let data = (0..3 * w * h)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                // u8-like values, so the dark channel has many ties.
                ((s >> 40) % 256) as f32 / 255.0
            })
            .collect();
        RgbImage::from_planar(w, h, data)
    }

    /// The airlight exactly as the reference describes it: a full stable sort.
    fn airlight_by_sort(img: &RgbImage, dark: &Plane, frac: f64) -> [f32; 3] {
        let d = dark.data();
        let mut idx: Vec<usize> = (0..d.len()).collect();
        idx.sort_by(|&a, &b| d[a].total_cmp(&d[b])); // stable
        let n = ((frac * d.len() as f64).floor() as usize).max(1);
        let top = &idx[d.len() - n..];
        let sum = |i: usize| {
            let p = img.pixel(i % img.width(), i / img.width());
            p[0] as f64 + p[1] as f64 + p[2] as f64
        };
        let mut best = top[0];
        for &i in top {
            if sum(i) > sum(best) {
                best = i;
            }
        }
        img.pixel(best % img.width(), best / img.width())
    }

    #[test]
    fn airlight_matches_full_sort() {
        for (seed, (w, h)) in [(1, (1, 1)), (2, (5, 3)), (3, (40, 30)), (4, (97, 61))] {
            let img = random_image(w, h, seed);
            for patch in [1, 3, 15] {
                let dark = dark_channel(&img, patch);
                for frac in [0.0, 0.001, 0.01, 0.2, 1.0] {
                    assert_eq!(
                        estimate_airlight(&img, &dark, frac),
                        airlight_by_sort(&img, &dark, frac),
                        "{w}x{h} patch {patch} frac {frac}"
                    );
                }
            }
        }
    }

    #[test]
    fn airlight_exact_when_the_sampled_threshold_is_too_high() {
        // Every 16th dark value is high: a threshold from those samples alone leaves fewer
        // than n candidates, so the full histogram must take over.
        let (w, h) = (64, 32);
        let img = random_image(w, h, 5);
        let d: Vec<f32> = (0..w * h)
            .map(|i| {
                if i % 16 == 0 {
                    0.9
                } else {
                    (i % 7) as f32 / 10.0
                }
            })
            .collect();
        let dark = Plane::from_vec(w, h, d);
        for frac in [0.01, 0.1, 0.2, 0.5] {
            assert_eq!(
                estimate_airlight(&img, &dark, frac),
                airlight_by_sort(&img, &dark, frac),
                "frac {frac}"
            );
        }
    }

    #[test]
    fn guide_from_the_raw_transmission_sweep_is_luma() {
        for threads in [1, 3, 8] {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("thread pool")
                .install(|| {
                    for (seed, (w, h)) in [(1, (1, 1)), (2, (5, 3)), (3, (40, 30)), (4, (17, 97))] {
                        let img = random_image(w, h, seed);
                        for patch in [1, 3, 15, 301] {
                            let a = [0.9, 0.8, 0.7];
                            let mut raw = vec![0.0; w * h];
                            let mut guide = vec![f32::NAN; w * h];
                            raw_transmission_into(&img, a, patch, 0.95, &mut raw, &mut guide);
                            assert_eq!(guide, luma(&img).data(), "{w}x{h} patch {patch}");
                            assert_eq!(raw, raw_transmission(&img, a, patch, 0.95).data());
                        }
                    }
                });
        }
    }

    #[test]
    fn zeroed_buffer_is_zero_and_writable() {
        // Below, at and above one 2 MiB page, and misaligned lengths.
        for len in [0, 1, 1000, 1 << 19, (1 << 20) + 3, 3 << 20] {
            let mut v = zeroed_buffer(len);
            assert_eq!(v.len(), len);
            assert!(v.iter().all(|&x| x == 0.0));
            for (i, x) in v.iter_mut().enumerate() {
                *x = i as f32;
            }
            assert!(v.iter().enumerate().all(|(i, &x)| x == i as f32));
        }
    }

    #[test]
    fn airlight_alone_is_the_airlight_of_the_full_method() {
        for seed in [1, 2, 3] {
            let img = random_image(40, 31, seed);
            let dcp = DarkChannelPrior::default();
            assert_eq!(dcp.airlight(&img), dcp.dehaze(&img).airlight);
        }
    }

    #[test]
    fn dark_channel_is_min_filter_of_channel_min() {
        let img = random_image(23, 17, 7);
        let [r, g, b] = img.planes();
        let m: Vec<f32> = (0..r.len()).map(|i| r[i].min(g[i]).min(b[i])).collect();
        let want = crate::filters::min_filter::min_filter(&Plane::from_vec(23, 17, m), 7);
        assert_eq!(dark_channel(&img, 15), want);
    }

    #[test]
    fn empty_and_tiny_images_do_not_panic() {
        for (w, h) in [(0, 0), (0, 4), (4, 0), (1, 1), (1, 7), (7, 1)] {
            let img = random_image(w, h, 3);
            let out = DarkChannelPrior::default().dehaze(&img);
            assert_eq!(out.image.pixels(), w * h);
            assert!(out.image.data().iter().all(|v| (0.0..=1.0).contains(v)));
        }
        // A black image has a black airlight: no infinities reach the output.
        let out = DarkChannelPrior::default().dehaze(&RgbImage::new(9, 8));
        assert!(out.image.data().iter().all(|v| (0.0..=1.0).contains(v)));
    }

    #[test]
    fn removes_synthetic_haze() {
        // Left 2/3: random radiance J behind haze t = 0.6, A = 0.9; right 1/3: "sky" (t = 0,
        // I = A). The airlight must come out as 0.9 and the recovery must be closer to J.
        let (w, h) = (96, 48);
        let j = random_image(w, h, 11);
        let sky = |i: usize| i % w >= 2 * w / 3;
        let n = w * h;
        let hazy: Vec<f32> = (0..3 * n)
            .map(|k| {
                if sky(k % n) {
                    0.9
                } else {
                    j.data()[k] * 0.6 + 0.9 * 0.4
                }
            })
            .collect();
        let hazy = RgbImage::from_planar(w, h, hazy);
        let out = DarkChannelPrior::default().dehaze(&hazy);
        assert_eq!(out.airlight, [0.9; 3]);
        let err = |x: &RgbImage| -> f64 {
            (0..3 * n)
                .filter(|&k| !sky(k % n))
                .map(|k| (x.data()[k] as f64 - j.data()[k] as f64).powi(2))
                .sum::<f64>()
        };
        assert!(
            err(&out.image) < 0.5 * err(&hazy),
            "{} vs {}",
            err(&out.image),
            err(&hazy)
        );
    }
}
