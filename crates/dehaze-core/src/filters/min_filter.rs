//! PLACEHOLDER (naive O(r) per pixel): to be replaced by van Herk / Gil-Werman, same API.
use crate::buffer::Plane;

/// Minimum over the `(2r+1)×(2r+1)` window centred on each pixel, replicate ("nearest") borders.
pub fn min_filter(src: &Plane, radius: usize) -> Plane {
    let (w, h) = (src.width(), src.height());
    let mut tmp = vec![0.0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            let lo = x.saturating_sub(radius);
            let hi = (x + radius).min(w - 1);
            tmp[y * w + x] = (lo..=hi)
                .map(|i| src.get(i, y))
                .fold(f32::INFINITY, f32::min);
        }
    }
    let mut out = vec![0.0f32; w * h];
    for y in 0..h {
        let lo = y.saturating_sub(radius);
        let hi = (y + radius).min(h - 1);
        for x in 0..w {
            out[y * w + x] = (lo..=hi)
                .map(|j| tmp[j * w + x])
                .fold(f32::INFINITY, f32::min);
        }
    }
    Plane::from_vec(w, h, out)
}
