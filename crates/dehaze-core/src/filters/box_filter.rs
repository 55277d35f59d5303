//! PLACEHOLDER (naive): to be replaced by running sums, same API.
use crate::buffer::Plane;

/// Mean over the `(2r+1)×(2r+1)` window centred on each pixel, the window clipped to the
/// image (sum over the valid part divided by its pixel count).
pub fn box_mean(src: &Plane, radius: usize) -> Plane {
    let (w, h) = (src.width(), src.height());
    let mut out = vec![0.0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            let (x0, x1) = (x.saturating_sub(radius), (x + radius).min(w - 1));
            let (y0, y1) = (y.saturating_sub(radius), (y + radius).min(h - 1));
            let mut s = 0.0f64;
            for j in y0..=y1 {
                for i in x0..=x1 {
                    s += src.get(i, j) as f64;
                }
            }
            out[y * w + x] = (s / ((x1 - x0 + 1) * (y1 - y0 + 1)) as f64) as f32;
        }
    }
    Plane::from_vec(w, h, out)
}
