//! Physical-prior losses for real hazy images that have no ground truth, after PSD (Chen et
//! al., "PSD: Principled Synthetic-to-Real Dehazing Guided by Physical Priors", CVPR 2021).
//! They drive the real-domain adaptation stage of the trainer (`train::adapt`); every term,
//! its weight and its ablation are in `docs/training.md`.
//!
//! With `J` the network's restoration of a real hazy crop `I` and `A` the crop's airlight
//! (DCP's estimate, fixed), every term acts on the transmission that `J` implies under the
//! scattering model `J − A = (I − A)/t` (per pixel, the least-squares fit of `1/t` over the
//! three channels):
//!
//! ```text
//! t̂(x)   = clamp( (Σ_c (I_c − A_c)² + ε) / max(Σ_c (I_c − A_c)(J_c − A_c), ε), 0.05, 2 )
//!
//! dark channel     L_dc = mean_x (t̂(x) − t̃_d(x))²  +  S(t̂)
//!                  t̃_d  = 1 − ω·min_{y∈Ω(x)} min_c I_c(y)/A_c             (He et al., ω = 0.95)
//! bright channel   L_bc = mean_x (t̂(x) − t̃_b(x))²  +  S(t̂)
//!                  t̃_b  = 1 − max_{y∈Ω(x)} max_c (1 − I_c(y))/(1 − A'_c)   (A' = mean colour
//!                         of the 0.1 % darkest pixels of the bright channel, as PSD)
//! CLAHE recon.     L_cl = mean_{x,c} | t̂(x)·C_c(x) + (1 − t̂(x))·A_c − I_c(x) |
//! scattering model L_sm = mean_{x,c} ( t̂(x)·(J_c(x) − A_c) − (I_c(x) − A_c) )²
//!
//! S(t) = (1/|W|) Σ_{w∈W} Σ_{i<j∈w} W^w_ij (t_i − t_j)²  = tᵀ L t / |W|       (matting Laplacian)
//! W^w_ij = (1 + (I_i − μ_w)ᵀ (Σ_w + ε_m/9 · U)⁻¹ (I_j − μ_w)) / 9            (3×3 windows w)
//! ```
//!
//! `t̃_d`, `t̃_b` (clamped to [0.05, 1]), the matting weights `W^w_ij` and `C = CLAHE(I)`
//! (OpenCV's, per channel, [`dehaze_core::filters::clahe`]) are computed from the input on the
//! host and receive no gradient. `Ω(x)` is the `k × k` window at `x`.
//!
//! The channel terms are PSD's energies (its `energy_dc_loss` / `energy_bc_loss`): He et al.'s
//! soft matting, a data term pulling the transmission towards the prior's estimate plus the
//! matting-Laplacian smoothness that is edge-aware in `I`. PSD's network predicts `t`; DHR
//! predicts only `J`, hence the implied `t̂`. An earlier version put the window minimum and
//! maximum on `J` itself (`mean |min_Ω min_c J|`, `mean |1 − max_Ω max_c J|`): a 500-iteration
//! run learned to satisfy both with a lattice of single black and white pixels, one per window
//! (the dark- and bright-channel terms fell to 0.0008 and 0.0006, mean NIQE went from 3.8 to
//! 11.1), because a window's extremum is moved by one pixel at the cost of one pixel. Here a
//! one-pixel change of `t̂` costs its matting-Laplacian neighbours as much as it gains.
//! (Reading PSD's code for this: its smoothness term sums the matrix product of the pair
//! differences and the weights instead of their element-wise product, which turns every
//! weight into the same constant, the sum of a window's 81 weights (9); we use the matting
//! Laplacian it intends.)
//!
//! `t̂` reads only the component of `J − A` along `I − A`. The first version fitted `t` the
//! other way round (`I − A ≈ t·(J − A)`, `t̂ = Σ(I−A)(J−A) / Σ(J−A)²`), where a component of
//! `J − A` *across* that line lengthens the denominator and so lowers `t̂` for free: the
//! cheapest way to meet the dark-channel prior was a hue shift, and the 500-iteration runs
//! drifted to a warm cast (mean R − B of the output above the input's: +12 after stage 1,
//! +24 with the dark-channel term, +29 with all three; DCP −3). Now a hue shift buys no
//! transmission. The scattering-model term penalises the across-line part itself: it asks
//! `J` to differ from `I` only by removing haze of the airlight's colour.
//!
//! The CLAHE term asks the haze that `J` removed to be the haze that re-renders the CLAHE
//! estimate into the observed image. The consistency with the pre-trained network
//! (`train::adapt`) keeps the priors from pulling towards over-enhancement.

use burn::prelude::*;
use dehaze_core::filters::min_filter::min_filter;
use dehaze_core::priors::dark_channel::raw_transmission;
use dehaze_core::{Plane, RgbImage};

/// The regulariser `ε_m` of the matting Laplacian (PSD's and Levin et al.'s value).
pub const MATTING_EPS: f32 = 1e-5;

/// The 36 unordered pairs `(i, j)`, `i < j`, of the 9 pixels of a 3×3 window (row-major).
const PAIRS: [(usize, usize); 36] = {
    let mut p = [(0, 0); 36];
    let mut n = 0;
    let mut i = 0;
    while i < 9 {
        let mut j = i + 1;
        while j < 9 {
            p[n] = (i, j);
            n += 1;
            j += 1;
        }
        i += 1;
    }
    p
};

/// The matting-Laplacian weights `W^w_ij` of `img` for every 3×3 window `w` (top-left corner
/// at each of the `(H − 2)·(W − 2)` valid positions) and pair `(i, j)`, `i < j`, of its 9
/// pixels (row-major, in the order of `PAIRS`), planar `[36, H − 2, W − 2]`. Empty if the
/// image is smaller than 3×3.
pub fn matting_weights(img: &RgbImage, eps: f32) -> Vec<f32> {
    let (w, h) = (img.width(), img.height());
    if w < 3 || h < 3 {
        return Vec::new();
    }
    let (ow, oh) = (w - 2, h - 2);
    let plane = ow * oh;
    let [r, g, b] = img.planes();
    let mut out = vec![0.0f32; PAIRS.len() * plane];
    for y in 0..oh {
        for x in 0..ow {
            let mut v = [[0.0f64; 3]; 9];
            for (k, px) in v.iter_mut().enumerate() {
                let i = (y + k / 3) * w + x + k % 3;
                *px = [r[i] as f64, g[i] as f64, b[i] as f64];
            }
            let mut mu = [0.0f64; 3];
            for px in &v {
                for c in 0..3 {
                    mu[c] += px[c] / 9.0;
                }
            }
            let d: Vec<[f64; 3]> = v
                .iter()
                .map(|px| [px[0] - mu[0], px[1] - mu[1], px[2] - mu[2]])
                .collect();
            let mut cov = [[0.0f64; 3]; 3];
            for dp in &d {
                for a in 0..3 {
                    for c in 0..3 {
                        cov[a][c] += dp[a] * dp[c] / 9.0;
                    }
                }
            }
            for (a, row) in cov.iter_mut().enumerate() {
                row[a] += eps as f64 / 9.0;
            }
            let inv = invert3(&cov);
            for (p, &(i, j)) in PAIRS.iter().enumerate() {
                let mut q = 0.0;
                for a in 0..3 {
                    for c in 0..3 {
                        q += d[i][a] * inv[a][c] * d[j][c];
                    }
                }
                out[p * plane + y * ow + x] = ((1.0 + q) / 9.0) as f32;
            }
        }
    }
    out
}

/// The inverse of a symmetric positive-definite 3×3 matrix (adjugate over determinant).
fn invert3(m: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let c =
        |r0: usize, r1: usize, c0: usize, c1: usize| m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
    let adj = [
        [c(1, 2, 1, 2), -c(0, 2, 1, 2), c(0, 1, 1, 2)],
        [-c(1, 2, 0, 2), c(0, 2, 0, 2), -c(0, 1, 0, 2)],
        [c(1, 2, 0, 1), -c(0, 2, 0, 1), c(0, 1, 0, 1)],
    ];
    let det = m[0][0] * adj[0][0] + m[0][1] * adj[1][0] + m[0][2] * adj[2][0];
    adj.map(|row| row.map(|v| v / det))
}

/// He et al.'s raw dark-channel transmission `t̃_d = 1 − ω·dark(I / A)` of `img` (window
/// `k`, ω = 0.95), clamped to [0.05, 1].
pub fn dark_channel_transmission(img: &RgbImage, airlight: [f32; 3], k: usize) -> Plane {
    let t = raw_transmission(img, airlight, k, 0.95);
    let v = t.data().iter().map(|v| v.clamp(0.05, 1.0)).collect();
    Plane::from_vec(img.width(), img.height(), v)
}

/// PSD's bright-channel transmission `t̃_b = 1 − max_Ω max_c (1 − I_c)/(1 − A'_c)` of `img`
/// (window `k`), `A'` the mean colour of the 0.1 % pixels (at least one) with the lowest
/// bright channel `max_Ω max_c I_c`; clamped to [0.05, 1].
pub fn bright_channel_transmission(img: &RgbImage, k: usize) -> Plane {
    let (w, h) = (img.width(), img.height());
    let [r, g, b] = img.planes();
    let neg_max =
        |f: &dyn Fn(usize) -> f32| Plane::from_vec(w, h, (0..w * h).map(|i| -f(i)).collect());
    // bright(x) = −min_Ω(−max_c I_c).
    let bright = min_filter(&neg_max(&|i| r[i].max(g[i]).max(b[i])), k / 2);
    let mut order: Vec<usize> = (0..w * h).collect();
    // Lowest bright channel = highest −bright.
    order.sort_by(|&a, &c| bright.data()[c].total_cmp(&bright.data()[a]));
    let take = ((w * h) as f64 * 0.001).ceil().max(1.0) as usize;
    let mut air = [0.0f32; 3];
    for &i in &order[..take] {
        for (a, p) in air.iter_mut().zip([r, g, b]) {
            *a += p[i] / take as f32;
        }
    }
    let inv = air.map(|a| 1.0 / (1.0 - a).max(1e-3));
    let m = neg_max(&|i| {
        ((1.0 - r[i]) * inv[0])
            .max((1.0 - g[i]) * inv[1])
            .max((1.0 - b[i]) * inv[2])
    });
    let t = min_filter(&m, k / 2);
    Plane::from_vec(
        w,
        h,
        t.data()
            .iter()
            .map(|v| (1.0 + v).clamp(0.05, 1.0))
            .collect(),
    )
}

/// `S(t)`: the matting-Laplacian energy `tᵀLt` per window of a `[B, 1, H, W]` map, with
/// `weights` the [`matting_weights`] of each image, `[B, 36, H − 2, W − 2]`.
pub fn matting_smoothness(t: Tensor<4>, weights: Tensor<4>) -> Tensor<1> {
    let [b, _, h, w] = t.dims();
    let shifted: Vec<Tensor<4>> = (0..9)
        .map(|k| {
            t.clone()
                .slice([0..b, 0..1, k / 3..k / 3 + h - 2, k % 3..k % 3 + w - 2])
        })
        .collect();
    let diffs: Vec<Tensor<4>> = PAIRS
        .iter()
        .map(|&(i, j)| (shifted[i].clone() - shifted[j].clone()).square())
        .collect();
    (Tensor::cat(diffs, 1) * weights).sum_dim(1).mean()
}

/// `L_dc` or `L_bc`: `mean (t̂ − prior)² + S(t̂)` for the restoration `j` of `hazy`, with the
/// prior's transmission `prior` (`[B, 1, H, W]`, [`dark_channel_transmission`] or
/// [`bright_channel_transmission`]), the [`matting_weights`] `weights` and `airlight`
/// (`[B, 3, 1, 1]`); only `j` receives gradients.
pub fn transmission_prior_loss(
    j: Tensor<4>,
    hazy: Tensor<4>,
    airlight: Tensor<4>,
    prior: Tensor<4>,
    weights: Tensor<4>,
) -> Tensor<1> {
    let t = implied_transmission(j, hazy, airlight);
    (t.clone() - prior).square().mean() + matting_smoothness(t, weights)
}

/// The transmission `t̂` that the restoration `j` of `hazy` implies for airlight `airlight`
/// (`[B, 3, 1, 1]`), `[B, 1, H, W]`, clamped to `[0.05, 2]`: `1/t̂` is the least-squares
/// factor of `J − A ≈ (I − A)/t`, so only the part of `J − A` along `I − A` counts (a hue
/// shift of `J` leaves `t̂` unchanged). `J = I` reads as `t̂ = 1` with a gradient; a
/// restoration hazier than the input reads as `t̂ > 1`, which the priors pull back down (the
/// upper clamp only bounds pixels at or beyond `A`).
pub fn implied_transmission(j: Tensor<4>, hazy: Tensor<4>, airlight: Tensor<4>) -> Tensor<4> {
    const EPS: f64 = 1e-6;
    let dj = j - airlight.clone();
    let di = hazy - airlight;
    let along = (di.clone() * dj).sum_dim(1).clamp_min(EPS);
    let norm = di.square().sum_dim(1).add_scalar(EPS);
    (norm / along).clamp(0.05, 2.0)
}

/// `L_sm`: how far the restoration `j` of `hazy` is from the scattering model's line, the
/// squared residual of `I − A ≈ t̂·(J − A)` with `t̂` = [`implied_transmission`]; `airlight`
/// `[B, 3, 1, 1]` receives no gradient. Zero exactly when `J − A` is a multiple (in
/// `[1, 20]`) of `I − A` at every pixel.
pub fn scattering_residual_loss(j: Tensor<4>, hazy: Tensor<4>, airlight: Tensor<4>) -> Tensor<1> {
    let t = implied_transmission(j.clone(), hazy.clone(), airlight.clone());
    ((j - airlight.clone()) * t - (hazy - airlight))
        .square()
        .mean()
}

/// `L_cl`: the CLAHE reconstruction of `hazy` through the transmission `j` implies.
/// `clahe` is `CLAHE(hazy)`, `airlight` `[B, 3, 1, 1]`; neither receives gradients.
pub fn clahe_reconstruction_loss(
    j: Tensor<4>,
    hazy: Tensor<4>,
    clahe: Tensor<4>,
    airlight: Tensor<4>,
) -> Tensor<1> {
    let t = implied_transmission(j, hazy.clone(), airlight.clone());
    let rebuilt = clahe * t.clone() + airlight * (t.neg().add_scalar(1.0));
    (rebuilt - hazy).abs().mean()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    fn dev() -> Device {
        Device::default()
    }

    fn t4(v: Vec<f32>, shape: [usize; 4], d: &Device) -> Tensor<4> {
        Tensor::from_data(TensorData::new(v, shape), d)
    }

    fn scalar(t: Tensor<1>) -> f32 {
        t.into_scalar()
    }

    /// A deterministic [0, 1) pattern.
    fn pattern(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2_654_435_761) | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s >> 8) as f32 / (1u32 << 24) as f32
            })
            .collect()
    }

    /// `I = t·J + (1 − t)·A` at one transmission `t`, planar `[3, plane]`.
    fn uniform_haze(clear: &[f32], plane: usize, t: f32, a: [f32; 3]) -> Vec<f32> {
        clear
            .iter()
            .enumerate()
            .map(|(i, v)| t * v + (1.0 - t) * a[i / plane])
            .collect()
    }

    fn image(w: usize, h: usize, seed: u32) -> RgbImage {
        RgbImage::from_planar(w, h, pattern(3 * w * h, seed))
    }

    /// `S(t)` as the definition reads it, in f64: every window, every pair.
    fn smoothness_by_definition(img: &RgbImage, t: &[f32]) -> f64 {
        let (w, h) = (img.width(), img.height());
        let wts = matting_weights(img, MATTING_EPS);
        let plane = (w - 2) * (h - 2);
        let mut sum = 0.0;
        for y in 0..h - 2 {
            for x in 0..w - 2 {
                for (p, &(i, j)) in PAIRS.iter().enumerate() {
                    let ti = t[(y + i / 3) * w + x + i % 3] as f64;
                    let tj = t[(y + j / 3) * w + x + j % 3] as f64;
                    sum += wts[p * plane + y * (w - 2) + x] as f64 * (ti - tj).powi(2);
                }
            }
        }
        sum / plane as f64
    }

    #[test]
    fn matting_weights_of_a_window_sum_to_five_halves() {
        // Σ_ij W_ij = 9 (the d_i sum to zero) and Σ_i W_ii = 1 + tr((Σ + ε/9)⁻¹Σ) ≈ 4 for a
        // well-conditioned window, so the 36 off-diagonal pairs hold (9 − 4)/2.
        let (w, h) = (5, 4);
        let img = image(w, h, 9);
        let wts = matting_weights(&img, MATTING_EPS);
        let plane = (w - 2) * (h - 2);
        assert_eq!(wts.len(), 36 * plane);
        for p in 0..plane {
            let sum: f32 = (0..36).map(|k| wts[k * plane + p]).sum();
            assert!((sum - 2.5).abs() < 1e-2, "window {p}: {sum}");
        }
        assert!(matting_weights(&image(2, 5, 1), MATTING_EPS).is_empty());
    }

    #[test]
    fn matting_smoothness_matches_the_definition() {
        let d = dev();
        let (w, h) = (9, 7);
        let imgs = [image(w, h, 5), image(w, h, 6)];
        let ts = [pattern(w * h, 7), pattern(w * h, 8)];
        let weights: Vec<f32> = imgs
            .iter()
            .flat_map(|i| matting_weights(i, MATTING_EPS))
            .collect();
        let got = scalar(matting_smoothness(
            t4(ts.concat(), [2, 1, h, w], &d),
            t4(weights, [2, 36, h - 2, w - 2], &d),
        )) as f64;
        let want = (smoothness_by_definition(&imgs[0], &ts[0])
            + smoothness_by_definition(&imgs[1], &ts[1]))
            / 2.0;
        assert!(
            (got - want).abs() < 1e-4 * want.abs().max(1.0),
            "{got} vs {want}"
        );
        assert!(want > 0.0);
    }

    #[test]
    fn matting_smoothness_vanishes_on_maps_locally_affine_in_the_image() {
        // The matting Laplacian's null space: t = aᵀI + b costs (almost) nothing, however much
        // it varies; a map that ignores the image's edges costs a lot.
        let (w, h) = (12, 10);
        let img = image(w, h, 11);
        let [r, g, b] = img.planes();
        let affine: Vec<f32> = (0..w * h)
            .map(|i| 0.3 * r[i] + 0.5 * g[i] - 0.2 * b[i] + 0.1)
            .collect();
        let unrelated = pattern(w * h, 12);
        let (s_affine, s_other) = (
            smoothness_by_definition(&img, &affine),
            smoothness_by_definition(&img, &unrelated),
        );
        assert!(s_affine < 1e-3 * s_other, "{s_affine} vs {s_other}");
    }

    #[test]
    fn a_one_pixel_dip_in_the_transmission_is_not_free() {
        // What defeated the window-extremum version: one pixel per window moved. Here a dip of
        // 0.5 at one pixel of a constant map costs several times what it can gain in the data
        // term (at most 0.25 / HW, were the prior 0.5 lower at exactly that pixel).
        let d = dev();
        let (w, h) = (9, 9);
        let img = image(w, h, 13);
        let mut t = vec![0.8f32; w * h];
        let weights = t4(
            matting_weights(&img, MATTING_EPS),
            [1, 36, h - 2, w - 2],
            &d,
        );
        let flat = scalar(matting_smoothness(
            t4(t.clone(), [1, 1, h, w], &d),
            weights.clone(),
        ));
        assert!(flat.abs() < 1e-6, "{flat}");
        t[4 * w + 4] = 0.3;
        let dip = scalar(matting_smoothness(t4(t, [1, 1, h, w], &d), weights));
        let gain = 0.25 / (w * h) as f32;
        assert!(dip > 5.0 * gain, "S {dip} vs data gain {gain}");
    }

    #[test]
    fn dark_channel_transmission_recovers_a_uniform_haze() {
        // A clear scene with a zero channel in every 3×3 window, hazed at t = 0.6 with A:
        // dark(I/A) = 1 − t, so t̃_d = 1 − 0.95·0.4.
        let (w, h) = (8, 8);
        let mut clear = pattern(3 * w * h, 14);
        for y in (0..h).step_by(2) {
            for x in (0..w).step_by(2) {
                clear[w * h + y * w + x] = 0.0;
            }
        }
        let a = [0.9f32, 0.85, 0.8];
        let hazy = uniform_haze(&clear, w * h, 0.6, a);
        let t = dark_channel_transmission(&RgbImage::from_planar(w, h, hazy), a, 3);
        for v in t.data() {
            assert!((v - (1.0 - 0.95 * 0.4)).abs() < 1e-5, "{v}");
        }
    }

    #[test]
    fn bright_channel_transmission_is_one_on_white_and_low_at_the_darkest_colour() {
        let (w, h) = (6, 6);
        let white = RgbImage::from_planar(w, h, vec![1.0; 3 * w * h]);
        assert!(bright_channel_transmission(&white, 3)
            .data()
            .iter()
            .all(|&v| v == 1.0));
        // Uniform grey: A' is that grey, (1 − I)/(1 − A') = 1 everywhere, t̃_b = 0 → 0.05.
        let grey = RgbImage::from_planar(w, h, vec![0.4; 3 * w * h]);
        assert!(bright_channel_transmission(&grey, 3)
            .data()
            .iter()
            .all(|&v| v == 0.05));
    }

    #[test]
    fn the_prior_loss_is_zero_at_the_prior_and_its_gradient_reaches_j() {
        let d = dev().autodiff();
        let (w, h) = (8, 7);
        let clear = pattern(3 * w * h, 15);
        let a = [0.85f32, 0.85, 0.85];
        let hazy = uniform_haze(&clear, w * h, 0.7, a);
        let img = RgbImage::from_planar(w, h, hazy.clone());
        let air = t4(a.to_vec(), [1, 3, 1, 1], &d);
        let weights = t4(
            matting_weights(&img, MATTING_EPS),
            [1, 36, h - 2, w - 2],
            &d,
        );
        // The clear scene implies t̂ = 0.7 everywhere: with that prior, the loss is ≈ 0.
        let prior = t4(vec![0.7; w * h], [1, 1, h, w], &d);
        let at_truth = scalar(transmission_prior_loss(
            t4(clear.clone(), [1, 3, h, w], &d),
            t4(hazy.clone(), [1, 3, h, w], &d),
            air.clone(),
            prior.clone(),
            weights.clone(),
        ));
        assert!(at_truth < 1e-4, "{at_truth}");
        // The hazy image itself (t̂ = 1) is 0.3² away, and the gradient reaches J.
        let j = t4(hazy.clone(), [1, 3, h, w], &d).require_grad();
        let l = transmission_prior_loss(j.clone(), t4(hazy, [1, 3, h, w], &d), air, prior, weights);
        assert!((scalar(l.clone()) - 0.09).abs() < 1e-3);
        let g: Vec<f32> = j
            .grad(&l.backward())
            .unwrap()
            .into_data()
            .try_into_vec()
            .unwrap();
        assert!(g.iter().any(|v| *v != 0.0) && g.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn scattering_residual_is_zero_on_the_model_and_sees_a_hue_shift() {
        let d = dev();
        let (h, w) = (4, 5);
        let clear = pattern(3 * h * w, 7);
        let a = [0.8f32, 0.85, 0.9];
        let t: Vec<f32> = pattern(h * w, 8).iter().map(|v| 0.2 + 0.7 * v).collect();
        let hazy: Vec<f32> = (0..3 * h * w)
            .map(|i| t[i % (h * w)] * clear[i] + (1.0 - t[i % (h * w)]) * a[i / (h * w)])
            .collect();
        let air = t4(a.to_vec(), [1, 3, 1, 1], &d);
        let loss = |j: &[f32]| {
            scalar(scattering_residual_loss(
                t4(j.to_vec(), [1, 3, h, w], &d),
                t4(hazy.clone(), [1, 3, h, w], &d),
                air.clone(),
            ))
        };
        // The true restoration and the input itself (t̂ = 1) both lie on the model's line (up
        // to the ε of t̂'s denominator).
        assert!(loss(&clear) < 1e-7, "{}", loss(&clear));
        assert!(loss(&hazy) < 1e-7, "{}", loss(&hazy));
        // A warm cast on the true restoration (red up, blue down) is off the line.
        let warm: Vec<f32> = clear
            .iter()
            .enumerate()
            .map(|(i, v)| v + [0.08, 0.0, -0.08][i / (h * w)])
            .collect();
        assert!(loss(&warm) > 1e-4, "{}", loss(&warm));
    }

    #[test]
    fn a_hue_shift_of_the_restoration_buys_no_transmission() {
        let d = dev();
        let (h, w) = (3, 4);
        let a = [0.8f32, 0.85, 0.9];
        let hazy = pattern(3 * h * w, 11);
        // J − A = (I − A)/0.5, then a shift across I − A at every pixel.
        let on_line: Vec<f32> = (0..3 * h * w)
            .map(|i| a[i / (h * w)] + (hazy[i] - a[i / (h * w)]) / 0.5)
            .collect();
        let shifted: Vec<f32> = (0..h * w)
            .flat_map(|p| {
                let di = [0, 1, 2].map(|c| hazy[c * h * w + p] - a[c]);
                // A vector orthogonal to di: di × (1, 0, 0) (or × (0, 1, 0) if parallel).
                let mut o = [0.0, di[2], -di[1]];
                if o[1].abs() + o[2].abs() < 1e-3 {
                    o = [-di[2], 0.0, di[0]];
                }
                [0, 1, 2].map(|c| on_line[c * h * w + p] + 0.3 * o[c])
            })
            .collect();
        // Back to planar order.
        let shifted: Vec<f32> = (0..3 * h * w)
            .map(|i| shifted[(i % (h * w)) * 3 + i / (h * w)])
            .collect();
        let t = |j: &[f32]| -> Vec<f32> {
            implied_transmission(
                t4(j.to_vec(), [1, 3, h, w], &d),
                t4(hazy.clone(), [1, 3, h, w], &d),
                t4(a.to_vec(), [1, 3, 1, 1], &d),
            )
            .into_data()
            .try_into_vec()
            .unwrap()
        };
        let (t_line, t_shift) = (t(&on_line), t(&shifted));
        for (p, (x, y)) in t_line.iter().zip(&t_shift).enumerate() {
            assert!(
                (x - y).abs() < 1e-4,
                "pixel {p}: t̂ {x} on the line, {y} shifted"
            );
        }
        assert!(t_line.iter().any(|v| (v - 0.5).abs() < 0.01), "{t_line:?}");
        // J = I reads as no haze removed; J = A, hazier than I, as the upper bound.
        assert!(t(&hazy).iter().all(|v| (v - 1.0).abs() < 1e-3));
        let at_a: Vec<f32> = (0..3 * h * w).map(|i| a[i / (h * w)]).collect();
        assert!(t(&at_a).iter().all(|v| *v == 2.0), "{:?}", t(&at_a));
    }

    #[test]
    fn implied_transmission_recovers_the_hazing_transmission() {
        let d = dev();
        let (h, w) = (4, 5);
        let clear = pattern(3 * h * w, 3);
        let a = [0.8f32, 0.85, 0.9];
        let t: Vec<f32> = pattern(h * w, 4).iter().map(|v| 0.2 + 0.7 * v).collect();
        let hazy: Vec<f32> = (0..3 * h * w)
            .map(|i| {
                let (c, p) = (i / (h * w), i % (h * w));
                t[p] * clear[i] + (1.0 - t[p]) * a[c]
            })
            .collect();
        let air = t4(a.to_vec(), [1, 3, 1, 1], &d);
        let got: Vec<f32> = implied_transmission(
            t4(clear.clone(), [1, 3, h, w], &d),
            t4(hazy.clone(), [1, 3, h, w], &d),
            air.clone(),
        )
        .into_data()
        .try_into_vec()
        .unwrap();
        for (g, want) in got.iter().zip(&t) {
            assert!((g - want).abs() < 2e-3, "t̂ {g} vs {want}");
        }
        // With the clear scene as the CLAHE estimate, the true restoration rebuilds the hazy
        // image (≈ 0 loss); leaving the haze in (J = I, t̂ = 1) does not.
        let c = t4(clear.clone(), [1, 3, h, w], &d);
        let at_truth = scalar(clahe_reconstruction_loss(
            t4(clear, [1, 3, h, w], &d),
            t4(hazy.clone(), [1, 3, h, w], &d),
            c.clone(),
            air.clone(),
        ));
        let at_input = scalar(clahe_reconstruction_loss(
            t4(hazy.clone(), [1, 3, h, w], &d),
            t4(hazy, [1, 3, h, w], &d),
            c,
            air,
        ));
        assert!(at_truth < 1e-3, "{at_truth}");
        assert!(
            at_input > 20.0 * at_truth.max(1e-4),
            "{at_input} vs {at_truth}"
        );
    }
}
