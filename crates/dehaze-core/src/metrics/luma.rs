//! The luma conversions of the reference implementations, bit-exact where it matters.
//!
//! Several metrics round a luma to integers, so a last-bit difference in the conversion flips
//! pixels that land on `.5` and moves NR scores beyond the test tolerances. Each function here
//! reproduces one library's arithmetic (precision and evaluation order).

use super::Rgb8;

/// MATLAB `rgb2gray` on `uint8` (pyfade's `rgb2gray_matlab`):
/// `round_half_up(0.298936021293775·R + 0.587043074451121·G + 0.114020904255103·B)`, float64.
#[inline(always)]
pub(crate) fn gray_matlab_px([r, g, b]: [u8; 3]) -> u8 {
    let v =
        r as f64 * 0.298936021293775 + g as f64 * 0.587043074451121 + b as f64 * 0.114020904255103;
    (v + 0.5).floor().clamp(0.0, 255.0) as u8
}

/// [`gray_matlab_px`] of one interleaved RGB row into `out`.
#[inline(always)]
pub(crate) fn gray_matlab_row(rgb: &[u8], out: &mut [u8]) {
    for (o, p) in out.iter_mut().zip(rgb.chunks_exact(3)) {
        *o = gray_matlab_px([p[0], p[1], p[2]]);
    }
}

/// BasicSR's MATLAB-`rgb2ycbcr` luma on 0..255, unrounded, reproducing its float32 recipe:
/// `x = f32(u8)/255` (f32), `y64 = x_B·24.966 + x_G·128.553 + x_R·65.481 + 16` (float64, numpy
/// promotes to the float64 coefficients), `Y = f32(f32(y64/255)·255)`.
#[inline]
pub(crate) fn y_basicsr(px: [u8; 3]) -> f32 {
    let [r, g, b] = px.map(|v| (v as f32 / 255.0f32) as f64);
    let y64 = b * 24.966 + g * 128.553 + r * 65.481 + 16.0;
    ((y64 / 255.0) as f32) * 255.0f32
}

/// BasicSR Y plane (unrounded, f32 values).
pub(crate) fn y_basicsr_plane(img: &Rgb8) -> Vec<f32> {
    (0..img.width() * img.height())
        .map(|i| y_basicsr(img.px(i)))
        .collect()
}

/// OpenCV `cvtColor(f32(BGR)/255, COLOR_BGR2GRAY)·255` in float32, then rounded half to even
/// (BasicSR NIQE, `convert_to='gray'`).
///
/// OpenCV's vectorised float path evaluates pixels in full groups of 8 as
/// `t = G·cg; t = fma(B,cb,t); t = fma(R,cr,t)` and the `W mod 8` tail pixels of each row as
/// `t = B·cb; t = fma(G,cg,t); t = fma(R,cr,t)`, with `c = f32(0.299, 0.587, 0.114)`. The two
/// orders round `.5` cases differently, so both are emulated.
pub(crate) fn gray_opencv_rounded(img: &Rgb8) -> Vec<f32> {
    let (w, h) = (img.width(), img.height());
    let (cr, cg, cb) = (0.299f32, 0.587f32, 0.114f32);
    let full = w - w % 8;
    let mut out = Vec::with_capacity(w * h);
    for y in 0..h {
        for x in 0..w {
            let [r, g, b] = img.px(y * w + x).map(|v| v as f32 / 255.0f32);
            let t = if x < full {
                r.mul_add(cr, b.mul_add(cb, g * cg))
            } else {
                r.mul_add(cr, g.mul_add(cg, b * cb))
            };
            out.push((t * 255.0f32).round_ties_even());
        }
    }
    out
}

/// pyiqa's `to_y_channel(x, 255)` (YIQ luma) on `x = u8/255` (float64):
/// `round_half_even(255·(r·wR + g·wG + b·wB))` with the float32-rounded weights
/// `f32(0.299), f32(0.587), f32(0.114)` widened to float64 (pyiqa builds the matrix in float32).
#[inline]
pub(crate) fn y_pyiqa(px: [u8; 3]) -> u8 {
    let [r, g, b] = px.map(|v| v as f64 / 255.0);
    let y = r * (0.299f32 as f64) + g * (0.587f32 as f64) + b * (0.114f32 as f64);
    (y * 255.0).round_ties_even().clamp(0.0, 255.0) as u8
}

pub(crate) fn y_pyiqa_plane(img: &Rgb8) -> Vec<u8> {
    (0..img.width() * img.height())
        .map(|i| y_pyiqa(img.px(i)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luma_extremes() {
        assert_eq!(y_basicsr([0, 0, 0]), 16.0);
        assert!((y_basicsr([255, 255, 255]) - 235.0).abs() < 1e-4);
        assert_eq!(y_pyiqa([255, 255, 255]), 255);
        assert_eq!(y_pyiqa([0, 0, 0]), 0);
        let img = Rgb8::new(1, 1, vec![255, 255, 255]).unwrap();
        assert_eq!(gray_matlab_px(img.px(0)), 255);
        assert_eq!(gray_opencv_rounded(&img), vec![255.0]);
    }
}
