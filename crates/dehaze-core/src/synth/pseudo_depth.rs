//! Pseudo-depth for clean images that come without a depth map.
//!
//! A hand-made heuristic, not a depth estimator. Two cues, mixed linearly:
//!
//! * **Ground-plane prior**: for a level camera over flat ground, the ground recedes towards
//!   the horizon, so depth grows upwards: `d_v(y) = 1 − y/(H−1)` (0 on the bottom row, 1 on the
//!   top row).
//! * **Sky cue**: sky and distant, already-hazy scenery are bright and unsaturated:
//!   `c = V·(1 − S)` with `V = max(R,G,B)` and `S = (max − min)/max` (HSV value and saturation).
//!
//! `d₀ = w·d_v + (1−w)·c` with `w = 0.6`, then a guided filter (He et al.) with the grey image
//! `(R+G+B)/3` as guide, radius `max(2, min(W,H)/32)` and `ε = 10⁻²`, which makes the map follow
//! the image's edges (so haze does not bleed across object outlines), and finally a min–max
//! rescale to `[0, 1]`.
//!
//! **Limits.** It knows nothing about geometry: white or grey foreground objects (walls, cars,
//! clothing) are pushed far by the sky cue; indoor scenes, downward- or upward-looking cameras
//! and scenes with a near object at the top (a tree branch, a ceiling) break the ground-plane
//! prior; dark distant mountains are pulled near. The result is only plausible for outdoor
//! landscape and street views, which is the intended use (a fallback so that such images can
//! be hazed at all). Prefer a measured or learned depth map whenever one exists.

use super::density::DensityEncoder;
use crate::buffer::{Plane, RgbImage};
use crate::filters::guided_filter::guided_filter;

/// Weight of the ground-plane prior against the sky cue.
pub const GROUND_WEIGHT: f32 = 0.6;

/// The pseudo-depth of `img`, in `[0, 1]` (module doc).
pub fn pseudo_depth(img: &RgbImage) -> Plane {
    let (w, h) = (img.width(), img.height());
    let [r, g, b] = img.planes();
    let mut d0 = Vec::with_capacity(w * h);
    let mut grey = Vec::with_capacity(w * h);
    for y in 0..h {
        let dv = if h > 1 {
            1.0 - y as f32 / (h - 1) as f32
        } else {
            0.5
        };
        for x in 0..w {
            let i = y * w + x;
            let (rv, gv, bv) = (r[i], g[i], b[i]);
            let mx = rv.max(gv).max(bv);
            let mn = rv.min(gv).min(bv);
            let s = if mx > 1e-6 { (mx - mn) / mx } else { 0.0 };
            let c = mx * (1.0 - s);
            d0.push(GROUND_WEIGHT * dv + (1.0 - GROUND_WEIGHT) * c);
            grey.push((rv + gv + bv) / 3.0);
        }
    }
    let radius = (w.min(h) / 32).max(2);
    let mut d = guided_filter(
        &Plane::from_vec(w, h, grey),
        &Plane::from_vec(w, h, d0),
        radius,
        1e-2,
    );
    super::density::rescale(&mut d, 0.0, 1.0);
    d
}

/// The pseudo-depth used as a haze-density map: the stand-in for AHG's learned encoder.
#[derive(Clone, Copy, Debug, Default)]
pub struct PseudoDepthEncoder;

impl DensityEncoder for PseudoDepthEncoder {
    fn encode(&self, img: &RgbImage) -> Plane {
        pseudo_depth(img)
    }
}
