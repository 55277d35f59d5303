//! Colour attenuation prior (Zhu, Mai & Shao, "A Fast Single Image Haze Removal Algorithm Using
//! Color Attenuation Prior", IEEE TIP 24(11), 2015).
//!
//! # The prior
//!
//! Haze lifts the brightness of a pixel and washes out its colour, and both effects grow with
//! the scene depth. The paper fits, on 500 synthetic hazy images (Sec. III), a linear model of
//! the depth in the HSV value `v` and saturation `s` of the hazy image:
//!
//! ```text
//! d(x) = θ0 + θ1·v(x) + θ2·s(x),   θ0 = 0.121779, θ1 = 0.959710, θ2 = −0.780245
//! ```
//!
//! with `v = max(R,G,B)` and `s = (max − min)/max` (`s = 0` for black), as MATLAB's `rgb2hsv`.
//! The paper's model has a Gaussian noise term `ε ~ N(0, 0.041337²)`; it only describes the
//! fitting residual, and the authors' code adds a random sample of it to the depth at inference
//! time, which makes the output non-deterministic for no benefit. We leave it out.
//!
//! # Pipeline (defaults from the authors' MATLAB release, `JiamingMai/Color-Attenuation-Prior-Dehazing`)
//!
//! 1. Raw depth `d` from the model above.
//! 2. Local minimum over a `15 × 15` window (`min_radius = 7`): the paper (Sec. IV-A, eq. 21)
//!    assumes the depth is locally constant and takes the minimum to suppress white objects,
//!    which the linear model places far away; the authors' code uses `ordfilt2(·, 1, ones(15))`.
//! 3. Airlight (paper Sec. IV-B): among the `⌈0.1 %⌉` pixels with the largest (min-filtered)
//!    depth, the one with the highest intensity in the hazy image, measured as `‖I(x)‖₂`.
//!    (The authors' code instead takes the channel-wise maximum of the 20 strongest candidates,
//!    which can produce a colour that occurs nowhere in the image; we follow the paper's text.)
//! 4. Refinement of the min-filtered depth with the guided filter (He et al., TPAMI 2013). The
//!    authors' code calls MATLAB's `imguidedfilter` with a `60 × 60` neighbourhood and a degree
//!    of smoothing of `1e-3`, guided by the colour image; our guided filter takes a grey guide,
//!    so we guide with the Rec. 601 luma `Y = 0.299 R + 0.587 G + 0.114 B` (MATLAB's
//!    `rgb2gray`), radius `30` (a `61 × 61` window) and `ε = 1e-3` on `[0, 1]` data.
//! 5. Transmission `t = exp(−β·d)`, `β = 1` (paper eq. 23, the authors' default).
//! 6. Recovery (paper eq. 24): `J = (I − A) / min(max(t, t0), t1) + A` with `t0 = 0.05`,
//!    `t1 = 1` (the authors' code), clipped to `[0, 1]`.
//!
//! The returned [`Dehazed::transmission`] is `min(t, 1)`, before the lower bound `t0`.

use super::{Dehazed, Dehazer};
use crate::buffer::{Plane, RgbImage};
use crate::filters::{guided_filter::guided_filter, min_filter::min_filter};

/// Coefficients `θ0, θ1, θ2` of the linear depth model, Zhu et al. (TIP 2015), eq. 13 / Sec. III.
pub const THETA: [f32; 3] = [0.121779, 0.959710, -0.780245];

/// Colour attenuation prior dehazer; `Default` gives the published parameters.
#[derive(Clone, Debug)]
pub struct ColorAttenuationPrior {
    /// Radius of the square minimum filter on the raw depth (`7` → `15 × 15`).
    pub min_radius: usize,
    /// Radius of the guided filter refining the depth (`30` → `61 × 61`).
    pub guided_radius: usize,
    /// Regulariser `ε` of the guided filter (`1e-3`, on `[0, 1]` data).
    pub guided_eps: f32,
    /// Scattering coefficient `β` in `t = exp(−β·d)` (`1.0`).
    pub beta: f32,
    /// Fraction of the deepest pixels searched for the airlight (`0.001` = 0.1 %).
    pub airlight_fraction: f32,
    /// Lower bound on the transmission in the recovery (`0.05`).
    pub t_min: f32,
    /// Upper bound on the transmission in the recovery (`1.0`).
    pub t_max: f32,
}

impl Default for ColorAttenuationPrior {
    fn default() -> Self {
        Self {
            min_radius: 7,
            guided_radius: 30,
            guided_eps: 1e-3,
            beta: 1.0,
            airlight_fraction: 0.001,
            t_min: 0.05,
            t_max: 1.0,
        }
    }
}

impl ColorAttenuationPrior {
    /// The raw depth `θ0 + θ1·v + θ2·s` of every pixel (no local minimum, no refinement).
    pub fn raw_depth(hazy: &RgbImage) -> Plane {
        let [r, g, b] = hazy.planes();
        let data = r
            .iter()
            .zip(g)
            .zip(b)
            .map(|((&r, &g), &b)| {
                let max = r.max(g).max(b);
                let min = r.min(g).min(b);
                let s = if max > 0.0 { (max - min) / max } else { 0.0 };
                THETA[0] + THETA[1] * max + THETA[2] * s
            })
            .collect();
        Plane::from_vec(hazy.width(), hazy.height(), data)
    }

    /// The refined depth map (steps 1, 2 and 4 of the pipeline) and the min-filtered depth.
    fn depths(&self, hazy: &RgbImage) -> (Plane, Plane) {
        let local = min_filter(&Self::raw_depth(hazy), self.min_radius);
        let [r, g, b] = hazy.planes();
        let luma = r
            .iter()
            .zip(g)
            .zip(b)
            .map(|((&r, &g), &b)| 0.299 * r + 0.587 * g + 0.114 * b)
            .collect();
        let luma = Plane::from_vec(hazy.width(), hazy.height(), luma);
        let refined = guided_filter(&luma, &local, self.guided_radius, self.guided_eps);
        (refined, local)
    }
}

/// Airlight of Zhu et al.: among the `⌈fraction·n⌉` pixels of largest `depth`, the colour of
/// the one with the largest `‖I‖₂`. `hazy` must not be empty.
fn airlight_from_depth(hazy: &RgbImage, depth: &Plane, fraction: f32) -> [f32; 3] {
    let n = hazy.pixels();
    let k = ((fraction.clamp(0.0, 1.0) as f64 * n as f64).ceil() as usize).clamp(1, n);
    let d = depth.data();
    let mut idx: Vec<u32> = (0..n as u32).collect();
    // Deepest first; NaN-free input assumed, `total_cmp` keeps it total anyway.
    idx.select_nth_unstable_by(k - 1, |&a, &b| d[b as usize].total_cmp(&d[a as usize]));
    let [r, g, b] = hazy.planes();
    let energy = |i: usize| r[i] * r[i] + g[i] * g[i] + b[i] * b[i];
    let best = idx[..k]
        .iter()
        .map(|&i| i as usize)
        .max_by(|&a, &b| energy(a).total_cmp(&energy(b)).then(b.cmp(&a)))
        .unwrap_or(0);
    [r[best], g[best], b[best]]
}

impl Dehazer for ColorAttenuationPrior {
    fn dehaze(&self, hazy: &RgbImage) -> Dehazed {
        let (w, h) = (hazy.width(), hazy.height());
        if hazy.pixels() == 0 {
            return Dehazed::unchanged(hazy);
        }
        let (depth, local) = self.depths(hazy);
        let airlight = airlight_from_depth(hazy, &local, self.airlight_fraction);

        let t: Vec<f32> = depth
            .data()
            .iter()
            .map(|&d| {
                let t = (-self.beta * d).exp();
                if t.is_finite() {
                    t.min(1.0)
                } else {
                    1.0
                }
            })
            .collect();

        let (t_lo, t_hi) = (self.t_min.max(1e-6), self.t_max.max(self.t_min.max(1e-6)));
        let mut out = RgbImage::new(w, h);
        for (c, (dst, src)) in out.planes_mut().into_iter().zip(hazy.planes()).enumerate() {
            let a = airlight[c];
            for ((o, &i), &t) in dst.iter_mut().zip(src).zip(&t) {
                let j = (i - a) / t.clamp(t_lo, t_hi) + a;
                *o = if j.is_finite() {
                    j.clamp(0.0, 1.0)
                } else {
                    0.0
                };
            }
        }
        Dehazed {
            image: out,
            transmission: Plane::from_vec(w, h, t),
            airlight,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_depth_follows_the_linear_model() {
        // White: v = 1, s = 0; pure red: v = 1, s = 1; black: v = 0, s = 0.
        let img = RgbImage::from_interleaved(3, 1, &[1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        let d = ColorAttenuationPrior::raw_depth(&img);
        let expect = [
            THETA[0] + THETA[1],
            THETA[0] + THETA[1] + THETA[2],
            THETA[0],
        ];
        for (got, want) in d.data().iter().zip(expect) {
            assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        }
    }

    #[test]
    fn airlight_is_brightest_of_the_deepest() {
        // Depth ranks pixels 3 > 2 > 1 > 0; with a fraction covering two pixels, the brighter
        // of pixels 2 and 3 (pixel 2) wins although pixel 0 is brighter still.
        let img = RgbImage::from_interleaved(
            4,
            1,
            &[1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.9, 0.8, 0.7, 0.5, 0.5, 0.5],
        );
        let depth = Plane::from_vec(4, 1, vec![0.0, 0.1, 0.2, 0.3]);
        assert_eq!(airlight_from_depth(&img, &depth, 0.5), [0.9, 0.8, 0.7]);
        assert_eq!(airlight_from_depth(&img, &depth, 0.0), [0.5, 0.5, 0.5]);
    }
}
