//! Burn's LibTorch backend (`--features tch`, `--device tch`) computes what the default `flex`
//! backend computes: the shipped DHR-S restores the same picture, and one training step
//! (forward, L1 loss, backward, Adam) moves the weights the same way. Built only with the
//! feature (it links libtorch); `.ci/run` runs it where a torch 2.9.0 is installed.
#![cfg(feature = "tch")]

use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData};
use dehaze_core::buffer::RgbImage;
use dehaze_nn::device::DeviceChoice;
use dehaze_nn::dhr::{Dhr, DhrConfig};
use dehaze_nn::inference::{image_to_tensor, tensor_to_image, Network};
use dehaze_nn::registry::NetworkKind;

fn devices() -> (Device, Device) {
    (
        DeviceChoice::Cpu.device().unwrap(),
        DeviceChoice::Tch
            .device()
            .expect("a tch build has the tch device"),
    )
}

/// A smooth hazy-looking test picture, 72×56 (not a multiple of 16: the padding runs too).
fn picture() -> RgbImage {
    let (w, h) = (72, 56);
    let mut data = Vec::with_capacity(3 * w * h);
    for c in 0..3 {
        for y in 0..h {
            for x in 0..w {
                let v = 0.5 + 0.3 * ((x as f32 * 0.21 + c as f32).sin() * (y as f32 * 0.13).cos());
                data.push(v);
            }
        }
    }
    RgbImage::from_planar(w, h, data)
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn shipped_dhr_s_restores_the_same_picture_on_tch_as_on_flex() {
    let (flex, tch) = devices();
    let img = picture();
    let run = |device: &Device| {
        // The weights the CLI bundles.
        let net = Network::load(
            NetworkKind::DhrS,
            std::path::Path::new(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../models/dhr-s.safetensors"
            )),
            device,
        )
        .expect("loads");
        tensor_to_image(net.restore(image_to_tensor(&img, device)).image)
    };
    let (a, b) = (run(&flex), run(&tch));
    let d = max_abs_diff(a.data(), b.data());
    assert!(d < 1e-4, "max |flex − tch| = {d}");
}

#[test]
fn one_training_step_moves_the_weights_the_same_way_on_tch_as_on_flex() {
    let (flex, tch) = devices();
    // The L1 loss before and after one Adam step from the same seeded weights and batch.
    let losses = |device: &Device| {
        let dev = device.clone().autodiff();
        let net = Dhr::new_seeded(&DhrConfig::small(), &dev, 3);
        let n = 2 * 3 * 32 * 32;
        let values = |k: u32| -> Vec<f32> {
            (0..n as u32)
                .map(|i| ((i * 7919 + k * 104_729) % 1000) as f32 / 1000.0)
                .collect()
        };
        let x = Tensor::<4>::from_data(TensorData::new(values(1), [2, 3, 32, 32]), &dev);
        let y = Tensor::<4>::from_data(TensorData::new(values(2), [2, 3, 32, 32]), &dev);
        let loss = |net: &Dhr| (net.forward(x.clone()).image - y.clone()).abs().mean();
        let before = loss(&net);
        let first: f32 = before.clone().into_scalar();
        let grads = GradientsParams::from_grads(before.backward(), &net);
        let net = AdamConfig::new().init().step(1e-3, net, grads);
        let second: f32 = loss(&net).into_scalar();
        (first, second)
    };
    let (a, b) = (losses(&flex), losses(&tch));
    assert!(
        (a.0 - b.0).abs() < 1e-5,
        "loss before: flex {} tch {}",
        a.0,
        b.0
    );
    assert!(
        (a.1 - a.0).abs() > 1e-4,
        "the step must change the loss: {a:?}"
    );
    assert!(
        (a.1 - b.1).abs() < 1e-4,
        "loss after: flex {} tch {}",
        a.1,
        b.1
    );
}
