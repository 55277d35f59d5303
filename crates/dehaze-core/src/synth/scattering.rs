//! The atmospheric scattering model (Koschmieder):
//!
//! ```text
//! I(x) = J(x)·t(x) + A·(1 − t(x)),      t(x) = exp(−β·d(x))
//! ```
//!
//! `J` is the haze-free radiance, `A` the airlight (one value per channel), `β` the
//! scattering coefficient and `d` the scene depth *normalised to [0, 1]* (so `β` is the optical
//! thickness at the farthest point and `t ∈ [e^{−β}, 1]`). Normalisation makes the relative depth
//! of a disparity map (`depth ∝ 1/disparity`, unknown scale) and metric depth usable alike.

use crate::buffer::{Plane, RgbImage};

/// `t = exp(−β·d)` per pixel.
pub fn transmission_from_depth(depth: &Plane, beta: f32) -> Plane {
    let data = depth.data().iter().map(|&d| (-beta * d).exp()).collect();
    Plane::from_vec(depth.width(), depth.height(), data)
}

/// `I = J·t + A·(1−t)` per channel, clamped to `[0, 1]`. Panics if the sizes differ.
pub fn apply_scattering(clean: &RgbImage, t: &Plane, airlight: [f32; 3]) -> RgbImage {
    assert_eq!(
        (clean.width(), clean.height()),
        (t.width(), t.height()),
        "transmission size differs from the image"
    );
    let mut out = Vec::with_capacity(3 * clean.pixels());
    for (c, p) in clean.planes().into_iter().enumerate() {
        let a = airlight[c];
        out.extend(
            p.iter()
                .zip(t.data())
                .map(|(&j, &tv)| (j * tv + a * (1.0 - tv)).clamp(0.0, 1.0)),
        );
    }
    RgbImage::from_planar(clean.width(), clean.height(), out)
}

/// Recovers `t` from a hazy/clear pair and a known airlight, for checking:
/// `t = (I − A)/(J − A)`, averaged over the channels where `|J − A| > 0.05` (else NaN).
pub fn recover_transmission(hazy: &RgbImage, clean: &RgbImage, airlight: [f32; 3]) -> Plane {
    let n = clean.pixels();
    let mut data = vec![f32::NAN; n];
    for (i, out) in data.iter_mut().enumerate() {
        let (mut s, mut k) = (0.0f32, 0);
        for (c, &a) in airlight.iter().enumerate() {
            let j = clean.plane(c)[i];
            if (j - a).abs() > 0.05 {
                s += (hazy.plane(c)[i] - a) / (j - a);
                k += 1;
            }
        }
        if k > 0 {
            *out = s / k as f32;
        }
    }
    Plane::from_vec(clean.width(), clean.height(), data)
}
