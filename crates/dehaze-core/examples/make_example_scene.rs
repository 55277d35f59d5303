//! Renders the bundled example `examples/valley_hazy.png` (and its haze-free ground truth
//! `examples/valley_clear.png`): a procedurally drawn landscape of mountain ridges, a meadow and
//! sky, with known depth, hazed by the scattering model `I = J·t + A·(1 − t)`, `t = e^{−β·d}`.
//!
//! The picture is made entirely by this program (no photograph, no third-party data), so the
//! repository owns it. Deterministic: the same binary always writes the same pixels.
//!
//! ```text
//! cargo run --release -p dehaze-core --example make_example_scene -- examples/
//! ```

use dehaze_core::io::{write_image, Decoded, SourceInfo, WriteOptions};
use dehaze_core::RgbImage;
use std::path::PathBuf;

const W: usize = 640;
const H: usize = 400;
/// Scattering coefficient on depth normalised to [0, 1] (sky at 1): t ranges 0.14–0.95.
const BETA: f32 = 2.0;
/// Airlight: a slightly blue-grey haze.
const AIRLIGHT: [f32; 3] = [0.82, 0.85, 0.88];

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "examples".into()));
    let (clear, depth) = render();
    let mut hazy = clear.clone();
    let n = W * H;
    for (c, plane) in hazy.planes_mut().into_iter().enumerate() {
        for i in 0..n {
            let t = (-BETA * depth[i]).exp();
            plane[i] = plane[i] * t + AIRLIGHT[c] * (1.0 - t);
        }
    }
    let info = SourceInfo::rgb8();
    for (name, rgb) in [("valley_clear.png", clear), ("valley_hazy.png", hazy)] {
        let img = Decoded {
            rgb,
            alpha: None,
            info: info.clone(),
        };
        let path = dir.join(name);
        write_image(&path, &img, &WriteOptions::default()).expect("write example");
        println!("wrote {}", path.display());
    }
}

/// The clear scene and its depth (0 = at the camera, 1 = sky).
fn render() -> (RgbImage, Vec<f32>) {
    let mut rgb = vec![0.0f32; 3 * W * H];
    let mut depth = vec![1.0f32; W * H];
    // Ridges from far to near: (horizon row at x = 0 as a fraction of H, roughness, depth,
    // base colour). Nearer ridges sit lower and are drawn over the farther ones.
    let ridges: [(f32, f32, f32, [f32; 3]); 4] = [
        (0.30, 0.10, 0.80, [0.36, 0.40, 0.46]),
        (0.42, 0.09, 0.55, [0.26, 0.36, 0.28]),
        (0.55, 0.07, 0.33, [0.22, 0.33, 0.16]),
        (0.68, 0.05, 0.18, [0.30, 0.27, 0.14]),
    ];
    for y in 0..H {
        for x in 0..W {
            let i = y * W + x;
            let (fx, fy) = (x as f32 / W as f32, y as f32 / H as f32);
            // Sky: pale at the horizon, deeper blue above, a few soft clouds.
            let cloud = (fbm(fx * 6.0, fy * 14.0, 7) - 0.55).max(0.0) * 1.6;
            let mut colour = [
                0.35 + 0.35 * fy + cloud,
                0.55 + 0.25 * fy + cloud,
                0.90 + 0.05 * fy + cloud * 0.5,
            ];
            let mut d = 1.0;
            for (k, &(base, rough, rd, rc)) in ridges.iter().enumerate() {
                let top = base
                    + rough * (fbm(fx * 3.0, k as f32 * 7.3, 11 + k as u32) - 0.5) * 2.0
                    + 0.04 * (fx * std::f32::consts::PI * (1.5 + k as f32)).sin();
                if fy > top {
                    // Texture: forest/rock detail, finer for nearer ridges.
                    let s = 40.0 / rd;
                    let tex = fbm(fx * s, fy * s, 23 + k as u32);
                    let shade = 0.75 + 0.5 * tex - 0.25 * (fy - top);
                    colour = rc.map(|v| v * shade);
                    d = rd - 0.08 * (fy - top);
                }
            }
            // Meadow in the foreground: depth falls to 0.05 at the bottom row.
            let meadow_top = 0.80 + 0.03 * (fx * 9.0).sin();
            if fy > meadow_top {
                let tex = fbm(fx * 120.0, fy * 40.0, 31);
                let flowers = if hash(x as u32 / 3, y as u32 / 3, 5) > 0.985 {
                    0.5
                } else {
                    0.0
                };
                colour = [
                    0.25 + 0.25 * tex + flowers,
                    0.45 + 0.25 * tex + flowers * 0.6,
                    0.12 + 0.1 * tex,
                ];
                d = 0.05 + 0.12 * (1.0 - fy) / (1.0 - meadow_top);
            }
            for (c, v) in colour.iter().enumerate() {
                rgb[c * W * H + i] = v.clamp(0.0, 1.0);
            }
            depth[i] = d.clamp(0.0, 1.0);
        }
    }
    (RgbImage::from_planar(W, H, rgb), depth)
}

/// Fractal value noise in `[0, 1]`: five octaves, each half the amplitude and twice the
/// frequency of the last.
fn fbm(x: f32, y: f32, seed: u32) -> f32 {
    let (mut sum, mut amp, mut norm, mut f) = (0.0, 1.0, 0.0, 1.0);
    for o in 0..5 {
        sum += amp * value_noise(x * f, y * f, seed.wrapping_add(o * 101));
        norm += amp;
        amp *= 0.5;
        f *= 2.0;
    }
    sum / norm
}

/// Smoothly interpolated lattice noise in `[0, 1]`.
fn value_noise(x: f32, y: f32, seed: u32) -> f32 {
    let (xi, yi) = (x.floor(), y.floor());
    let (tx, ty) = (x - xi, y - yi);
    let (sx, sy) = (tx * tx * (3.0 - 2.0 * tx), ty * ty * (3.0 - 2.0 * ty));
    let (xi, yi) = (xi as i32 as u32, yi as i32 as u32);
    let a = hash(xi, yi, seed);
    let b = hash(xi.wrapping_add(1), yi, seed);
    let c = hash(xi, yi.wrapping_add(1), seed);
    let d = hash(xi.wrapping_add(1), yi.wrapping_add(1), seed);
    let top = a + (b - a) * sx;
    let bottom = c + (d - c) * sx;
    top + (bottom - top) * sy
}

/// A deterministic hash of a lattice point to `[0, 1)`.
fn hash(x: u32, y: u32, seed: u32) -> f32 {
    let mut h = x
        .wrapping_mul(0x27d4_eb2d)
        .wrapping_add(y.wrapping_mul(0x1656_67b1))
        .wrapping_add(seed.wrapping_mul(0x9e37_79b9));
    h ^= h >> 15;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    (h >> 8) as f32 / (1u32 << 24) as f32
}
