//! Physical-prior losses for real hazy images that have no ground truth, after PSD (Chen et
//! al., "PSD: Principled Synthetic-to-Real Dehazing Guided by Physical Priors", CVPR 2021).
//! They drive the real-domain adaptation stage of the trainer (`train::adapt`); every term,
//! its weight and its ablation are in `docs/training.md`.
//!
//! With `J` the network's restoration of a real hazy crop `I`, `Ω(x)` the `k × k` window at
//! `x` (valid positions only) and `A` the crop's airlight (DCP's estimate, fixed):
//!
//! ```text
//! dark channel     L_dc  = mean_x | min_{y∈Ω(x)} min_c J_c(y) |        (He et al.: ≈ 0 haze-free)
//! bright channel   L_bc  = mean_x | 1 − max_{y∈Ω(x)} max_c J_c(y) |    (a haze-free window has
//!                                                                      a bright pixel)
//! CLAHE recon.     L_cl  = mean_{x,c} | t̂(x)·C_c(x) + (1 − t̂(x))·A_c − I_c(x) |
//!                  t̂(x)  = clamp( Σ_c (I_c − A_c)(J_c − A_c) / (Σ_c (J_c − A_c)² + ε), 0.05, 1 )
//! ```
//!
//! `C = CLAHE(I)` (OpenCV's, per channel, [`dehaze_core::filters::clahe`]) stands in for the
//! clear scene; `t̂` is the transmission the restoration implies under the scattering model
//! `I = t·J + (1 − t)·A` (the per-pixel least-squares solution over the three channels), so the
//! term asks the haze that `J` removed to be the haze that re-renders the CLAHE estimate into
//! the observed image. PSD's network predicts `t` and `A` itself; DHR predicts only `J`, hence
//! the implied `t̂`. Both channel terms are L1 distances, as PSD's: without the absolute
//! value a restoration could lower them without bound by leaving [0, 1] (the network's output
//! is not clamped in training), which a pilot run did within 250 iterations (`L_bc` < 0, the
//! supervised L1 up from 0.12 to 0.50). The dark-channel term alone would be minimised by a black image: the
//! bright-channel and CLAHE terms (and the consistency with the pre-trained network) keep it
//! honest.

use burn::nn::pool::MaxPool2dConfig;
use burn::prelude::*;

/// `min` over a `k × k` window (valid positions), of a `[B, 1, H, W]` map.
fn window_min(x: Tensor<4>, k: usize) -> Tensor<4> {
    window_max(x.neg(), k).neg()
}

/// `max` over a `k × k` window (valid positions), of a `[B, 1, H, W]` map.
fn window_max(x: Tensor<4>, k: usize) -> Tensor<4> {
    let [_, _, h, w] = x.dims();
    let k = k.min(h).min(w).max(1);
    MaxPool2dConfig::new([k, k])
        .with_strides([1, 1])
        .init()
        .forward(x)
}

/// `L_dc`: the mean absolute dark channel of the restoration `j` (`[B, 3, H, W]`), window `k`.
pub fn dark_channel_loss(j: Tensor<4>, k: usize) -> Tensor<1> {
    window_min(j.min_dim(1), k).abs().mean()
}

/// `L_bc`: the mean absolute distance of the bright channel of `j` from 1, window `k`.
pub fn bright_channel_loss(j: Tensor<4>, k: usize) -> Tensor<1> {
    window_max(j.max_dim(1), k)
        .neg()
        .add_scalar(1.0)
        .abs()
        .mean()
}

/// The transmission `t̂` that the restoration `j` of `hazy` implies for airlight `airlight`
/// (`[B, 3, 1, 1]`), `[B, 1, H, W]`, clamped to `[0.05, 1]`.
pub fn implied_transmission(j: Tensor<4>, hazy: Tensor<4>, airlight: Tensor<4>) -> Tensor<4> {
    let dj = j - airlight.clone();
    let di = hazy - airlight;
    let num = (di * dj.clone()).sum_dim(1);
    let den = dj.square().sum_dim(1).add_scalar(1e-4);
    (num / den).clamp(0.05, 1.0)
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

    #[test]
    fn dark_channel_is_zero_with_a_dark_pixel_in_every_window_and_grows_with_haze() {
        let d = dev();
        let (h, w, k) = (12, 12, 3);
        // Channel 0 is zero on a lattice dense enough for every 3×3 window to hold one.
        let mut clear = pattern(3 * h * w, 1);
        for y in 0..h {
            for x in 0..w {
                if y % 2 == 0 && x % 2 == 0 {
                    clear[y * w + x] = 0.0;
                }
            }
        }
        let l0 = scalar(dark_channel_loss(t4(clear.clone(), [1, 3, h, w], &d), k));
        assert_eq!(l0, 0.0);
        // Hazing it, I = t·J + (1 − t)·A with A = 0.9, lifts the dark channel to (1 − t)·A.
        let hazy: Vec<f32> = clear.iter().map(|v| 0.5 * v + 0.45).collect();
        let l1 = scalar(dark_channel_loss(t4(hazy, [1, 3, h, w], &d), k));
        assert!((l1 - 0.45).abs() < 1e-6, "{l1}");
    }

    #[test]
    fn bright_channel_is_zero_with_a_white_pixel_in_every_window() {
        let d = dev();
        let (h, w, k) = (8, 10, 2);
        let mut v = pattern(3 * h * w, 2)
            .into_iter()
            .map(|x| 0.6 * x)
            .collect::<Vec<_>>();
        let dark = scalar(bright_channel_loss(t4(v.clone(), [1, 3, h, w], &d), k));
        assert!(dark > 0.4 - 1e-6, "{dark}");
        for y in 0..h {
            for x in 0..w {
                v[2 * h * w + y * w + x] = 1.0; // blue channel white everywhere
            }
        }
        assert_eq!(scalar(bright_channel_loss(t4(v, [1, 3, h, w], &d), k)), 0.0);
    }

    #[test]
    fn leaving_the_unit_range_is_penalised_not_rewarded() {
        let d = dev();
        let (h, w, k) = (6, 6, 3);
        // Everything at −0.3: the dark channel is −0.3, its loss 0.3 (not −0.3).
        let below = t4(vec![-0.3; 3 * h * w], [1, 3, h, w], &d);
        assert!((scalar(dark_channel_loss(below, k)) - 0.3).abs() < 1e-6);
        // Everything at 1.5: the bright channel is 1.5, its loss 0.5 (not −0.5).
        let above = t4(vec![1.5; 3 * h * w], [1, 3, h, w], &d);
        assert!((scalar(bright_channel_loss(above, k)) - 0.5).abs() < 1e-6);
    }

    #[test]
    fn dark_channel_gradient_reaches_only_the_window_minima() {
        let d = dev().autodiff();
        let (h, w) = (6, 6);
        let v: Vec<f32> = (0..3 * h * w)
            .map(|i| 0.2 + (i % 17) as f32 / 40.0)
            .collect();
        let j = t4(v.clone(), [1, 3, h, w], &d).require_grad();
        let g = dark_channel_loss(j.clone(), 3).backward();
        let grad: Vec<f32> = j.grad(&g).unwrap().into_data().try_into_vec().unwrap();
        let total: f32 = grad.iter().sum();
        // The mean over 4×4 window positions: the gradients sum to one.
        assert!((total - 1.0).abs() < 1e-5, "{total}");
        for (i, gi) in grad.iter().enumerate() {
            if *gi != 0.0 {
                let (p, c) = (i % (h * w), i / (h * w));
                let min_c = (0..3)
                    .map(|cc| v[cc * h * w + p])
                    .fold(f32::INFINITY, f32::min);
                assert_eq!(v[c * h * w + p], min_c, "gradient on a non-minimal channel");
            }
        }
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
