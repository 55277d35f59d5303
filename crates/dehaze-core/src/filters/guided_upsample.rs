//! Guided upsampling: carrying a correction computed on a downscaled copy back to full
//! resolution with the locally-linear model of the guided filter (the Fast Guided Filter of
//! He & Sun 2015, as Wu et al.'s Deep Guided Filter, CVPR 2018, uses it behind a network).
//!
//! Given the full-resolution input `I`, its downscaled copy `I_l` and a result `J_l` computed
//! from `I_l` (a network's output), the result is assumed locally affine in the input. Per
//! colour channel `c`, with box means `⟨·⟩` over the `(2r+1)×(2r+1)` window clipped to the
//! low-resolution image (radius `r` in **low-resolution** pixels):
//!
//! ```text
//! a_c = (⟨g_c·J_l,c⟩ − ⟨g_c⟩⟨J_l,c⟩) / (⟨g_c²⟩ − ⟨g_c⟩² + eps),   b_c = ⟨J_l,c⟩ − a_c·⟨g_c⟩
//! A_c = ⟨a_c⟩,   B_c = ⟨b_c⟩                                          (at low resolution)
//! J_c(x) = clamp(up(A_c)(x)·G_c(x) + up(B_c)(x), 0, 1)                 (at full resolution)
//! ```
//!
//! where `g_c` is the low-resolution guide and `G_c` the full-resolution one — the channel
//! `I_c` itself ([`GuideChannels::PerChannel`]) or the grey `(I_R + I_G + I_B)/3` for all three
//! channels ([`GuideChannels::Grey`]) — and `up` is bilinear interpolation, pixel centres
//! aligned (`u = (x + ½)·w_l/W − ½`, clamped to the image). The fit (pass 1 of
//! [`super::guided_filter`], then two box means) costs O(1) per *low-resolution* pixel; the
//! full-resolution step is two bilinear taps and one multiply-add per sample, written over the
//! input in place, so the full-resolution image is held once.
//!
//! [`downscale_area`] makes `I_l`: each output pixel is the mean of the input area it covers
//! (fractional pixels weighted by their covered fraction), the same pixel-centre convention.

use super::box_filter::box_mean;
use super::guided_filter::guided_coefficients;
use crate::buffer::{Plane, RgbImage};
use rayon::prelude::*;

/// Which image guides each colour channel's affine fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuideChannels {
    /// Channel `c` of the output is fitted against channel `c` of the input.
    PerChannel,
    /// All three output channels are fitted against the grey input `(R + G + B)/3`.
    Grey,
}

/// Parameters of [`fit_affine`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GuidedUpsample {
    /// Box radius in low-resolution pixels.
    pub radius: usize,
    /// Regulariser of the slope (on [0, 1] intensities): larger values pull `a` towards 0 in
    /// flat windows, so `J` follows the low-resolution result there instead of the input's noise.
    pub eps: f32,
    /// The guide of each channel's fit.
    pub guide: GuideChannels,
}

impl Default for GuidedUpsample {
    /// The setting measured in `bench/guided_upsample.sh` (bench/README.md).
    fn default() -> Self {
        Self {
            radius: 2,
            eps: 1e-4,
            guide: GuideChannels::PerChannel,
        }
    }
}

/// The mean affine coefficients `A_c`, `B_c` of each channel at low resolution (module docs).
#[derive(Clone, Debug)]
pub struct AffineCoefficients {
    width: usize,
    height: usize,
    guide: GuideChannels,
    a: [Plane; 3],
    b: [Plane; 3],
}

/// `(R + G + B)/3`, per pixel.
fn grey(img: &RgbImage) -> Vec<f32> {
    let [r, g, b] = img.planes();
    r.iter()
        .zip(g)
        .zip(b)
        .map(|((&r, &g), &b)| (r + g + b) / 3.0)
        .collect()
}

/// Fits `J_l ≈ A·I_l + B` per window and channel (module docs). `low_in` is the input the
/// result `low_out` was computed from; both have the same size.
///
/// # Panics
/// If the two sizes differ.
pub fn fit_affine(
    low_in: &RgbImage,
    low_out: &RgbImage,
    params: &GuidedUpsample,
) -> AffineCoefficients {
    let (w, h) = (low_in.width(), low_in.height());
    assert_eq!(
        (low_out.width(), low_out.height()),
        (w, h),
        "fit_affine: input and result sizes differ"
    );
    let grey_guide = match params.guide {
        GuideChannels::Grey => Some(grey(low_in)),
        GuideChannels::PerChannel => None,
    };
    let fit = |c: usize| {
        let guide = grey_guide.as_deref().unwrap_or(low_in.plane(c));
        let (mut a, mut b) = (vec![0.0f32; w * h], vec![0.0f32; w * h]);
        guided_coefficients(
            guide,
            low_out.plane(c),
            w,
            h,
            params.radius,
            params.eps,
            &mut a,
            &mut b,
        );
        (
            box_mean(&Plane::from_vec(w, h, a), params.radius),
            box_mean(&Plane::from_vec(w, h, b), params.radius),
        )
    };
    let [(a0, b0), (a1, b1), (a2, b2)] = [fit(0), fit(1), fit(2)];
    AffineCoefficients {
        width: w,
        height: h,
        guide: params.guide,
        a: [a0, a1, a2],
        b: [b0, b1, b2],
    }
}

/// Bilinear taps along one axis from `len` samples to `out` samples, pixel centres aligned:
/// `(i0, i1, t)` with the value `(1 − t)·v[i0] + t·v[i1]`.
fn bilinear_taps(len: usize, out: usize) -> Vec<(usize, usize, f32)> {
    let scale = len as f64 / out as f64;
    (0..out)
        .map(|x| {
            let u = ((x as f64 + 0.5) * scale - 0.5).clamp(0.0, (len - 1) as f64);
            let i0 = u.floor() as usize;
            let i1 = (i0 + 1).min(len - 1);
            (i0, i1, (u - i0 as f64) as f32)
        })
        .collect()
}

impl AffineCoefficients {
    /// Low-resolution width and height the coefficients were fitted at.
    pub fn size(&self) -> (usize, usize) {
        (self.width, self.height)
    }

    /// Replaces the full-resolution input `image` by `J = clamp(up(A)·G + up(B), 0, 1)`
    /// (module docs). Any size works; a size equal to the fit's reproduces its result.
    pub fn apply_in_place(&self, image: &mut RgbImage) {
        let (w, h) = (image.width(), image.height());
        if w == 0 || h == 0 || self.width == 0 || self.height == 0 {
            return;
        }
        let (lw, lh) = (self.width, self.height);
        let xs = bilinear_taps(lw, w);
        let ys = bilinear_taps(lh, h);
        let guide = self.guide;
        let [r, g, b] = image.planes_mut();
        r.par_chunks_mut(w)
            .zip(g.par_chunks_mut(w))
            .zip(b.par_chunks_mut(w))
            .enumerate()
            .for_each_init(
                || vec![0.0f32; 6 * lw],
                |rows, (y, ((r, g), b))| {
                    // The six coefficient rows (A, B per channel) interpolated to row y.
                    let (y0, y1, ty) = ys[y];
                    for c in 0..3 {
                        for (k, plane) in [&self.a[c], &self.b[c]].into_iter().enumerate() {
                            let (p0, p1) = (plane.row(y0), plane.row(y1));
                            let dst = &mut rows[(2 * c + k) * lw..(2 * c + k + 1) * lw];
                            for ((d, &v0), &v1) in dst.iter_mut().zip(p0).zip(p1) {
                                *d = v0 + ty * (v1 - v0);
                            }
                        }
                    }
                    let tap = |row: &[f32], (x0, x1, t): (usize, usize, f32)| {
                        row[x0] + t * (row[x1] - row[x0])
                    };
                    let row = |i: usize| &rows[i * lw..(i + 1) * lw];
                    for (x, &t) in xs.iter().enumerate() {
                        let px = [r[x], g[x], b[x]];
                        let mean = (px[0] + px[1] + px[2]) / 3.0;
                        let out = std::array::from_fn::<f32, 3, _>(|c| {
                            let gc = match guide {
                                GuideChannels::PerChannel => px[c],
                                GuideChannels::Grey => mean,
                            };
                            (tap(row(2 * c), t) * gc + tap(row(2 * c + 1), t)).clamp(0.0, 1.0)
                        });
                        r[x] = out[0];
                        g[x] = out[1];
                        b[x] = out[2];
                    }
                },
            );
    }
}

/// Carries `low_out` (computed from `low_in`, the downscaled copy of `full`) to `full`'s
/// resolution, in place: [`fit_affine`] then [`AffineCoefficients::apply_in_place`].
pub fn guided_upsample(
    low_in: &RgbImage,
    low_out: &RgbImage,
    full: &mut RgbImage,
    params: &GuidedUpsample,
) {
    fit_affine(low_in, low_out, params).apply_in_place(full);
}

/// The size whose longer side is `long_side` and whose aspect ratio is `w:h` (each side
/// rounded, at least 1). Sizes whose longer side is already at most `long_side` are returned
/// unchanged.
pub fn working_size(w: usize, h: usize, long_side: usize) -> (usize, usize) {
    let long = w.max(h);
    if long <= long_side || long == 0 {
        return (w, h);
    }
    let scale = long_side as f64 / long as f64;
    let side = |n: usize| ((n as f64 * scale).round() as usize).clamp(1, long_side);
    (side(w), side(h))
}

/// Area weights along one axis from `len` samples to `out ≤ len` samples: output `i` covers
/// the input interval `[i·s, (i + 1)·s)`, `s = len/out`, each input sample weighted by the
/// fraction of it inside (weights sum to 1).
fn area_taps(len: usize, out: usize) -> Vec<(usize, Vec<f32>)> {
    let s = len as f64 / out as f64;
    (0..out)
        .map(|i| {
            let (lo, hi) = (i as f64 * s, ((i + 1) as f64 * s).min(len as f64));
            let first = lo.floor() as usize;
            let last = (hi.ceil() as usize).min(len);
            let weights = (first..last)
                .map(|j| {
                    let covered = (hi.min(j as f64 + 1.0) - lo.max(j as f64)).max(0.0);
                    (covered / (hi - lo)) as f32
                })
                .collect();
            (first, weights)
        })
        .collect()
}

/// Downscales `img` to `w × h` (each at most the input's side) by area averaging (module
/// docs): horizontal pass, then vertical, rows in parallel.
///
/// # Panics
/// If `w` or `h` is 0 or larger than the input's side.
pub fn downscale_area(img: &RgbImage, w: usize, h: usize) -> RgbImage {
    let (iw, ih) = (img.width(), img.height());
    assert!(
        w > 0 && h > 0 && w <= iw && h <= ih,
        "downscale_area: {iw}×{ih} to {w}×{h}"
    );
    let xt = area_taps(iw, w);
    let yt = area_taps(ih, h);
    let mut out = Vec::with_capacity(3 * w * h);
    for plane in img.planes() {
        // Horizontal: ih rows of w samples.
        let mut narrow = vec![0.0f32; w * ih];
        narrow
            .par_chunks_mut(w)
            .zip(plane.par_chunks(iw))
            .for_each(|(dst, src)| {
                for (d, (first, wts)) in dst.iter_mut().zip(&xt) {
                    *d = src[*first..].iter().zip(wts).map(|(&v, &k)| v * k).sum();
                }
            });
        // Vertical: h rows, each a weighted sum of input rows.
        let mut small = vec![0.0f32; w * h];
        small
            .par_chunks_mut(w)
            .zip(&yt)
            .for_each(|(dst, (first, wts))| {
                for (j, &k) in wts.iter().enumerate() {
                    let src = &narrow[(first + j) * w..][..w];
                    for (d, &v) in dst.iter_mut().zip(src) {
                        *d += k * v;
                    }
                }
            });
        out.extend_from_slice(&small);
    }
    RgbImage::from_planar(w, h, out)
}

/// Bilinear resampling of a plane to `w × h` (pixel centres aligned, module docs): for maps
/// computed at the working size (a network's importance map) shown at full size.
pub fn resize_bilinear(plane: &Plane, w: usize, h: usize) -> Plane {
    let (pw, ph) = (plane.width(), plane.height());
    if pw == 0 || ph == 0 || w == 0 || h == 0 {
        return Plane::filled(w, h, 0.0);
    }
    let xs = bilinear_taps(pw, w);
    let ys = bilinear_taps(ph, h);
    let mut out = vec![0.0f32; w * h];
    out.par_chunks_mut(w).enumerate().for_each(|(y, dst)| {
        let (y0, y1, ty) = ys[y];
        let (r0, r1) = (plane.row(y0), plane.row(y1));
        for (d, &(x0, x1, tx)) in dst.iter_mut().zip(&xs) {
            let top = r0[x0] + tx * (r0[x1] - r0[x0]);
            let bottom = r1[x0] + tx * (r1[x1] - r1[x0]);
            *d = top + ty * (bottom - top);
        }
    });
    Plane::from_vec(w, h, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filters::test_support::random_plane;

    fn random_rgb(w: usize, h: usize, seed: u64) -> RgbImage {
        let mut data = Vec::with_capacity(3 * w * h);
        for c in 0..3 {
            data.extend_from_slice(random_plane(w, h, seed * 3 + c).data());
        }
        RgbImage::from_planar(w, h, data)
    }

    /// Applies `f` to every sample of every channel.
    fn map(img: &RgbImage, f: impl Fn(usize, f32) -> f32) -> RgbImage {
        let mut data = Vec::with_capacity(img.data().len());
        for (c, p) in img.planes().into_iter().enumerate() {
            data.extend(p.iter().map(|&v| f(c, v)));
        }
        RgbImage::from_planar(img.width(), img.height(), data)
    }

    #[test]
    fn a_global_affine_map_is_carried_to_full_resolution_exactly() {
        // J = a_c·I + b_c with one (a, b) per channel: every window fits it exactly (up to
        // eps), so the full-resolution result is the same map applied to the full input, even
        // where the low-resolution copy cannot show the full image's detail.
        let full = random_rgb(157, 93, 1);
        let (lw, lh) = working_size(157, 93, 40);
        assert_eq!((lw, lh), (40, 24));
        let low = downscale_area(&full, lw, lh);
        let (a, b) = ([0.6f32, 0.8, 0.5], [0.1f32, 0.05, 0.3]);
        let low_out = map(&low, |c, v| a[c] * v + b[c]);
        let params = GuidedUpsample {
            radius: 2,
            eps: 1e-7,
            guide: GuideChannels::PerChannel,
        };
        let mut out = full.clone();
        guided_upsample(&low, &low_out, &mut out, &params);
        let want = map(&full, |c, v| a[c] * v + b[c]);
        let max = out
            .data()
            .iter()
            .zip(want.data())
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
        assert!(max < 2e-3, "max |Δ| {max}");
    }

    #[test]
    fn the_grey_guide_cannot_follow_a_per_channel_map_that_the_channel_guide_can() {
        // J_c = 1 − I_c inverts each channel: the per-channel fit reproduces it; a grey guide
        // can only give each channel a multiple of the grey value, so it must be off.
        let full = random_rgb(64, 48, 2);
        let low = downscale_area(&full, 32, 24);
        let low_out = map(&low, |_, v| 1.0 - v);
        let err = |guide| {
            let mut out = full.clone();
            let params = GuidedUpsample {
                radius: 1,
                eps: 1e-7,
                guide,
            };
            guided_upsample(&low, &low_out, &mut out, &params);
            let want = map(&full, |_, v| 1.0 - v);
            out.data()
                .iter()
                .zip(want.data())
                .map(|(x, y)| (x - y).abs())
                .sum::<f32>()
                / out.data().len() as f32
        };
        let (per_channel, grey) = (err(GuideChannels::PerChannel), err(GuideChannels::Grey));
        assert!(per_channel < 1e-3, "{per_channel}");
        assert!(grey > 0.05, "{grey}");
    }

    #[test]
    fn at_equal_size_the_result_is_the_guided_filter_of_the_low_result() {
        // Same size: up() is the identity, so J_c = A_c·I_c + B_c, He et al.'s guided filter
        // of J_l,c guided by I_c (clamped to [0, 1]).
        let img = random_rgb(37, 29, 3);
        let target = random_rgb(37, 29, 4);
        let params = GuidedUpsample {
            radius: 3,
            eps: 1e-2,
            guide: GuideChannels::PerChannel,
        };
        let mut out = img.clone();
        guided_upsample(&img, &target, &mut out, &params);
        for c in 0..3 {
            let guide = Plane::from_vec(37, 29, img.plane(c).to_vec());
            let src = Plane::from_vec(37, 29, target.plane(c).to_vec());
            let want = super::super::guided_filter::guided_filter(&guide, &src, 3, 1e-2);
            for (&x, &y) in out.plane(c).iter().zip(want.data()) {
                assert!((x - y.clamp(0.0, 1.0)).abs() < 1e-5, "{x} vs {y}");
            }
        }
    }

    #[test]
    fn area_downscale_averages_whole_blocks_and_keeps_the_mean() {
        let img = random_rgb(12, 9, 5);
        let small = downscale_area(&img, 4, 3);
        // Integer ratio 3: each output is the mean of its 3×3 block.
        for c in 0..3 {
            for y in 0..3 {
                for x in 0..4 {
                    let mut s = 0.0;
                    for j in 0..3 {
                        for i in 0..3 {
                            s += img.plane(c)[(3 * y + j) * 12 + 3 * x + i];
                        }
                    }
                    let got = small.plane(c)[y * 4 + x];
                    assert!((got - s / 9.0).abs() < 1e-6);
                }
            }
        }
        // Fractional ratio: the image mean is kept.
        let odd = downscale_area(&img, 5, 4);
        let mean = |p: &[f32]| p.iter().sum::<f32>() / p.len() as f32;
        for c in 0..3 {
            assert!((mean(odd.plane(c)) - mean(img.plane(c))).abs() < 1e-5);
        }
    }

    #[test]
    fn working_size_keeps_the_aspect_and_small_images() {
        assert_eq!(working_size(6000, 4000, 1024), (1024, 683));
        assert_eq!(working_size(4000, 6000, 512), (341, 512));
        assert_eq!(working_size(800, 600, 1024), (800, 600));
        assert_eq!(working_size(5000, 1, 100), (100, 1));
    }

    #[test]
    fn bilinear_resize_is_exact_on_a_linear_ramp_inside() {
        let p = Plane::from_vec(4, 1, vec![0.0, 1.0, 2.0, 3.0]);
        let up = resize_bilinear(&p, 8, 1);
        // Centres: u = (x + ½)/2 − ½ → −0.25 (clamped), 0.25, 0.75, …, 3.25 (clamped).
        let want = [0.0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3.0];
        for (g, w) in up.data().iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "{:?}", up.data());
        }
    }
}
