//! Contrast-limited adaptive histogram equalisation (CLAHE, Zuiderveld 1994), as OpenCV's
//! `cv::createCLAHE(clip, (gx, gy))->apply()` computes it on 8-bit images.
//!
//! The real-domain adaptation uses it as PSD does (Chen et al., CVPR 2021): `CLAHE(I)` of a
//! hazy crop is a rough, haze-free-looking estimate of the scene, against which the network's
//! implied transmission is checked (`crate`-external: `dehaze_nn::losses::priors`).
//!
//! The algorithm, per plane, with `B = 256` bins:
//!
//! 1. The plane (quantised to 8 bits) is cut into `gx × gy` tiles of `⌊W'/gx⌋ × ⌊H'/gy⌋`
//!    pixels, where `W' × H'` is the plane padded at the bottom and right by reflection
//!    (OpenCV's `BORDER_REFLECT_101`) to a multiple of the grid, exactly as OpenCV pads: when
//!    either side is not a multiple, *both* sides are padded by `g − (n mod g)` (a full tile
//!    when `n mod g = 0`).
//! 2. Each tile's histogram `h` is clipped at `c = max(1, ⌊clip·N_tile/B⌋)`; the clipped mass
//!    is spread back, `⌊excess/B⌋` to every bin and the remainder one by one at a stride of
//!    `max(⌊B/rest⌋, 1)` from bin 0.
//! 3. The tile's mapping is `lut(v) = round((B−1)/N_tile · Σ_{u≤v} h(u))`.
//! 4. A pixel at column `x` takes the bilinear blend of the mappings of the four nearest tile
//!    centres, `t_x = x/tile_w − 1/2` (clamped at the borders), rounded to 8 bits.
//!
//! Matched bit for bit against OpenCV 4 on random and natural images
//! (`tests/clahe_opencv.rs`).

use crate::buffer::{Plane, RgbImage};

/// Histogram bins (8-bit images).
const BINS: usize = 256;

/// CLAHE parameters (OpenCV's names and defaults are `clipLimit = 40`, `tileGridSize = 8×8`;
/// PSD uses clip 2 on an 8×8 grid, which is this type's default).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Clahe {
    /// Contrast limit, as a multiple of the mean bin count (≤ 0: no clipping, plain AHE).
    pub clip_limit: f32,
    /// Tiles across and down.
    pub grid: (usize, usize),
}

impl Default for Clahe {
    fn default() -> Self {
        Self {
            clip_limit: 2.0,
            grid: (8, 8),
        }
    }
}

/// OpenCV's `BORDER_REFLECT_101` index into `0..n` (`n ≥ 1`).
fn reflect101(i: usize, n: usize) -> usize {
    if n == 1 {
        return 0;
    }
    let period = 2 * (n - 1);
    let m = i % period;
    if m < n {
        m
    } else {
        period - m
    }
}

impl Clahe {
    /// CLAHE of 8-bit samples (`width × height`, row-major).
    pub fn apply_u8(&self, src: &[u8], width: usize, height: usize) -> Vec<u8> {
        assert_eq!(src.len(), width * height, "CLAHE: size mismatch");
        let (gx, gy) = (self.grid.0.max(1), self.grid.1.max(1));
        if width == 0 || height == 0 {
            return Vec::new();
        }
        // The padded extent OpenCV computes its tiles on.
        let (ew, eh) = if width.is_multiple_of(gx) && height.is_multiple_of(gy) {
            (width, height)
        } else {
            (width + gx - width % gx, height + gy - height % gy)
        };
        let (tw, th) = (ew / gx, eh / gy);
        let tile_area = tw * th;
        let clip = if self.clip_limit > 0.0 {
            ((self.clip_limit * tile_area as f32 / BINS as f32) as i64).max(1) as usize
        } else {
            usize::MAX
        };
        let lut_scale = (BINS - 1) as f32 / tile_area as f32;
        let sample = |x: usize, y: usize| src[reflect101(y, height) * width + reflect101(x, width)];

        let mut luts = vec![0u8; gx * gy * BINS];
        for ty in 0..gy {
            for tx in 0..gx {
                let mut hist = [0usize; BINS];
                for y in ty * th..(ty + 1) * th {
                    for x in tx * tw..(tx + 1) * tw {
                        hist[sample(x, y) as usize] += 1;
                    }
                }
                if clip != usize::MAX {
                    let mut excess = 0;
                    for h in hist.iter_mut() {
                        if *h > clip {
                            excess += *h - clip;
                            *h = clip;
                        }
                    }
                    let batch = excess / BINS;
                    let mut rest = excess - batch * BINS;
                    hist.iter_mut().for_each(|h| *h += batch);
                    if let Some(step) = BINS.checked_div(rest) {
                        let step = step.max(1);
                        let mut i = 0;
                        while i < BINS && rest > 0 {
                            hist[i] += 1;
                            i += step;
                            rest -= 1;
                        }
                    }
                }
                let lut = &mut luts[(ty * gx + tx) * BINS..][..BINS];
                let mut sum = 0usize;
                for (v, l) in lut.iter_mut().enumerate() {
                    sum += hist[v];
                    *l = to_u8(sum as f32 * lut_scale);
                }
            }
        }

        // Bilinear blend of the four nearest tiles' mappings.
        let axis = |i: usize, tile: usize, tiles: usize| {
            let f = i as f32 * (1.0 / tile as f32) - 0.5;
            let lo = f.floor();
            let w = f - lo;
            let lo = lo as isize;
            let a = lo.max(0) as usize;
            let b = ((lo + 1) as usize).min(tiles - 1);
            (a, b, 1.0 - w, w)
        };
        let xs: Vec<_> = (0..width).map(|x| axis(x, tw, gx)).collect();
        let mut out = vec![0u8; width * height];
        for y in 0..height {
            let (y1, y2, wy1, wy2) = axis(y, th, gy);
            let (r1, r2) = (y1 * gx * BINS, y2 * gx * BINS);
            for (x, &(x1, x2, wx1, wx2)) in xs.iter().enumerate() {
                let v = src[y * width + x] as usize;
                let lut = |row: usize, col: usize| luts[row + col * BINS + v] as f32;
                let top = lut(r1, x1) * wx1 + lut(r1, x2) * wx2;
                let bottom = lut(r2, x1) * wx1 + lut(r2, x2) * wx2;
                out[y * width + x] = to_u8(top * wy1 + bottom * wy2);
            }
        }
        out
    }

    /// CLAHE of a plane in `[0, 1]`, through 8 bits (values rounded to `k/255`).
    pub fn apply_plane(&self, p: &Plane) -> Plane {
        let q: Vec<u8> = p.data().iter().map(|&v| to_u8(v * 255.0)).collect();
        let out = self.apply_u8(&q, p.width(), p.height());
        Plane::from_vec(
            p.width(),
            p.height(),
            out.into_iter().map(|v| v as f32 / 255.0).collect(),
        )
    }

    /// CLAHE of each colour channel separately (as PSD applies OpenCV's to R, G and B).
    pub fn apply_rgb(&self, img: &RgbImage) -> RgbImage {
        let (w, h) = (img.width(), img.height());
        let mut data = Vec::with_capacity(3 * w * h);
        for plane in img.data().chunks_exact(w * h) {
            let q: Vec<u8> = plane.iter().map(|&v| to_u8(v * 255.0)).collect();
            data.extend(
                self.apply_u8(&q, w, h)
                    .into_iter()
                    .map(|v| v as f32 / 255.0),
            );
        }
        RgbImage::from_planar(w, h, data)
    }
}

/// OpenCV's `saturate_cast<uchar>(float)`: round half to even, then clamp.
fn to_u8(v: f32) -> u8 {
    v.round_ties_even().clamp(0.0, 255.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflect101_mirrors_without_repeating_the_edge() {
        let n = 4;
        let got: Vec<usize> = (0..9).map(|i| reflect101(i, n)).collect();
        assert_eq!(got, [0, 1, 2, 3, 2, 1, 0, 1, 2]);
        assert_eq!(reflect101(5, 1), 0);
    }

    #[test]
    fn stretches_a_low_contrast_image() {
        // A 64×48 ramp over 100..140: CLAHE widens the range (the clip limit of 2 caps how
        // much; exact values are checked against OpenCV in tests/clahe_opencv.rs).
        let (w, h) = (64, 48);
        let src: Vec<u8> = (0..w * h).map(|i| 100 + (i % w * 40 / w) as u8).collect();
        let out = Clahe::default().apply_u8(&src, w, h);
        let (lo, hi) = (*out.iter().min().unwrap(), *out.iter().max().unwrap());
        assert!(
            hi - lo > 50,
            "range {lo}..{hi} not stretched beyond the input's 100..139"
        );
    }

    #[test]
    fn the_clip_limit_bounds_the_gain() {
        // A stronger limit lets more contrast through.
        let (w, h) = (40, 40);
        let src: Vec<u8> = (0..w * h).map(|i| 120 + (i % 7) as u8).collect();
        let spread = |clip: f32| {
            let o = Clahe {
                clip_limit: clip,
                grid: (2, 2),
            }
            .apply_u8(&src, w, h);
            *o.iter().max().unwrap() as i32 - *o.iter().min().unwrap() as i32
        };
        assert!(
            spread(1.0) < spread(4.0),
            "{} vs {}",
            spread(1.0),
            spread(4.0)
        );
        assert!(spread(4.0) <= spread(0.0));
    }

    #[test]
    fn tiny_and_odd_sizes_work() {
        for (w, h) in [(1, 1), (1, 9), (9, 1), (7, 13), (17, 8)] {
            let src: Vec<u8> = (0..w * h).map(|i| (i * 37 % 256) as u8).collect();
            assert_eq!(Clahe::default().apply_u8(&src, w, h).len(), w * h);
        }
    }
}
