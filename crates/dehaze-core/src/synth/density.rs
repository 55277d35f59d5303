//! Non-homogeneous haze density (API's AHG fallback): multi-octave Perlin fields, and
//! interpolation between haze-density maps.
//!
//! **Perlin field.** With gradient noise `P(x, y) ∈ [−1, 1]` (Perlin's improved noise:
//! a seeded permutation of 0..256 hashes each lattice corner to one of 8 gradients
//! `(±1,±1), (±1,0), (0,±1)`, blended with the quintic fade `6t⁵ − 15t⁴ + 10t³`), the field is
//!
//! ```text
//! F(x, y) = Σ_{i=0}^{n−1} w_i · P(k_i·x + u_i, k_i·y + v_i),   w_i = p^i / Σ_j p^j,
//! k_i = 2^i / base_period,   (u_i, v_i) ~ U[0, 256)²
//! ```
//!
//! then rescaled affinely so that its minimum and maximum over the image are the configured
//! `[lo, hi]` (default `[0.5, 1.5]`). Applied as `t ← t^F`, i.e. a local scattering coefficient
//! `β·F`: haze is thinner where `F < 1` and denser where `F > 1`.
//!
//! **Density maps.** A haze-density map `M ∈ [0, 1]` plays the role of normalised optical
//! depth: `t = exp(−β·M)`. API's AHG encodes a clear and a hazy image into `M_c` and `M_h`
//! and renders new haze from `α·M_c + (1−α)·M_h`, modulated by `F`. The learned encoder
//! plugs in through [`DensityEncoder`]; [`crate::synth::pseudo_depth::PseudoDepthEncoder`]
//! is the hand-made fallback.

use super::rng::SynthRng;
use crate::buffer::{Plane, RgbImage};
use rand::RngExt;

/// 2-D gradient noise with a seeded permutation table.
#[derive(Clone, Debug)]
pub struct Perlin {
    /// The permutation of 0..256, repeated once so that `perm[i + perm[j]]` needs no wrap.
    perm: [u8; 512],
}

impl Perlin {
    /// A noise function whose permutation is a Fisher–Yates shuffle drawn from `rng`.
    pub fn new(rng: &mut SynthRng) -> Self {
        let mut p: [u8; 256] = std::array::from_fn(|i| i as u8);
        for i in (1..256).rev() {
            let j = rng.random_range(0..=i);
            p.swap(i, j);
        }
        let mut perm = [0u8; 512];
        perm[..256].copy_from_slice(&p);
        perm[256..].copy_from_slice(&p);
        Self { perm }
    }

    fn fade(t: f32) -> f32 {
        t * t * t * (t * (t * 6.0 - 15.0) + 10.0)
    }

    fn grad(hash: u8, x: f32, y: f32) -> f32 {
        match hash & 7 {
            0 => x + y,
            1 => -x + y,
            2 => x - y,
            3 => -x - y,
            4 => x,
            5 => -x,
            6 => y,
            _ => -y,
        }
    }

    /// The noise at `(x, y)`, in `[−1, 1]`; 0 on every integer lattice point.
    pub fn noise(&self, x: f32, y: f32) -> f32 {
        let (xf, yf) = (x.floor(), y.floor());
        let (xi, yi) = ((xf as i64 & 255) as usize, (yf as i64 & 255) as usize);
        let (dx, dy) = (x - xf, y - yf);
        let (u, v) = (Self::fade(dx), Self::fade(dy));
        let p = &self.perm;
        let a = p[xi] as usize + yi;
        let b = p[xi + 1] as usize + yi;
        let g00 = Self::grad(p[a], dx, dy);
        let g10 = Self::grad(p[b], dx - 1.0, dy);
        let g01 = Self::grad(p[a + 1], dx, dy - 1.0);
        let g11 = Self::grad(p[b + 1], dx - 1.0, dy - 1.0);
        let lerp = |a: f32, b: f32, t: f32| a + t * (b - a);
        // The extreme |g| at the cell centre is 1 for these gradients, so the result is in [−1, 1].
        lerp(lerp(g00, g10, u), lerp(g01, g11, u), v).clamp(-1.0, 1.0)
    }
}

/// The octave weights `w_i = p^i / Σ_{j<n} p^j` (they sum to 1).
pub fn octave_weights(octaves: u32, persistence: f64) -> Vec<f64> {
    let raw: Vec<f64> = (0..octaves).map(|i| persistence.powi(i as i32)).collect();
    let sum: f64 = raw.iter().sum();
    raw.into_iter().map(|w| w / sum).collect()
}

/// A multi-octave Perlin field: everything needed to evaluate it at any pixel, so that a
/// crop of the field equals the field of the crop's region.
#[derive(Clone, Debug)]
pub struct PerlinField {
    noise: Perlin,
    /// `(weight, frequency, u, v)` per octave.
    octaves: Vec<(f32, f32, f32, f32)>,
}

impl PerlinField {
    /// Draws the permutation and the octave offsets from `rng`.
    pub fn new(rng: &mut SynthRng, octaves: u32, persistence: f64, base_period: f64) -> Self {
        let noise = Perlin::new(rng);
        let octaves = octave_weights(octaves, persistence)
            .into_iter()
            .enumerate()
            .map(|(i, w)| {
                let k = (2f64.powi(i as i32) / base_period) as f32;
                let u = rng.random_range(0.0f32..256.0);
                let v = rng.random_range(0.0f32..256.0);
                (w as f32, k, u, v)
            })
            .collect();
        Self { noise, octaves }
    }

    /// `F(x, y) = Σ_i w_i·P(k_i·x + u_i, k_i·y + v_i)`, in `[−1, 1]`.
    pub fn value(&self, x: f32, y: f32) -> f32 {
        self.octaves
            .iter()
            .map(|&(w, k, u, v)| w * self.noise.noise(k * x + u, k * y + v))
            .sum()
    }

    /// The raw field over the `width × height` window whose top-left pixel is `(x0, y0)`
    /// of the full image.
    pub fn render(&self, x0: usize, y0: usize, width: usize, height: usize) -> Plane {
        let mut data = Vec::with_capacity(width * height);
        for y in 0..height {
            for x in 0..width {
                data.push(self.value((x0 + x) as f32, (y0 + y) as f32));
            }
        }
        Plane::from_vec(width, height, data)
    }
}

/// Rescales `field` affinely so that its minimum becomes `lo` and its maximum `hi`
/// (a constant field becomes `(lo + hi)/2`).
pub fn rescale(field: &mut Plane, lo: f32, hi: f32) {
    let d = field.data_mut();
    let (mn, mx) = d
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    if mx.is_nan() || mn.is_nan() || mx <= mn {
        d.iter_mut().for_each(|v| *v = 0.5 * (lo + hi));
        return;
    }
    let s = (hi - lo) / (mx - mn);
    d.iter_mut()
        .for_each(|v| *v = (lo + (*v - mn) * s).clamp(lo, hi));
}

/// `t ← t^F` per pixel.
pub fn modulate_transmission(t: &mut Plane, field: &Plane) {
    for (tv, &f) in t.data_mut().iter_mut().zip(field.data()) {
        *tv = tv.max(0.0).powf(f);
    }
}

/// `α·M_c + (1−α)·M_h`, clamped to `[0, 1]`. Panics if the sizes differ.
pub fn interpolate_maps(m_clear: &Plane, m_hazy: &Plane, alpha: f32) -> Plane {
    assert_eq!(
        (m_clear.width(), m_clear.height()),
        (m_hazy.width(), m_hazy.height()),
        "density maps differ in size"
    );
    let data = m_clear
        .data()
        .iter()
        .zip(m_hazy.data())
        .map(|(&c, &h)| (alpha * c + (1.0 - alpha) * h).clamp(0.0, 1.0))
        .collect();
    Plane::from_vec(m_clear.width(), m_clear.height(), data)
}

/// Maps an image to a single-channel haze-density map in `[0, 1]` (AHG's encoder E). A
/// learned encoder implements this trait; the physical fallback is the pseudo-depth.
pub trait DensityEncoder: Send + Sync {
    fn encode(&self, img: &RgbImage) -> Plane;
}

/// AHG's new density map `(α·E(clear) + (1−α)·E(hazy))·F`, clamped to `[0, 1]`, where `F` is an
/// optional (already rescaled) Perlin field.
pub fn ahg_density(
    encoder: &dyn DensityEncoder,
    clear: &RgbImage,
    hazy: &RgbImage,
    alpha: f32,
    field: Option<&Plane>,
) -> Plane {
    let mut m = interpolate_maps(&encoder.encode(clear), &encoder.encode(hazy), alpha);
    if let Some(f) = field {
        for (v, &fv) in m.data_mut().iter_mut().zip(f.data()) {
            *v = (*v * fv).clamp(0.0, 1.0);
        }
    }
    m
}
