//! Tests of the AHG networks, losses, training and weights (tiny sizes: they run in seconds).

use super::data::Pair;
use super::loss::{hinge_critic, hinge_generator, l1};
use super::model::{read_metadata, AhgConfig, AhgGenerator};
use super::train::{train_on_pairs, StepLosses, TrainAhgConfig};
use super::*;
use crate::device::cpu;
use crate::weights::WeightsError;
use burn::prelude::*;
use dehaze_core::{Plane, RgbImage};

fn tiny() -> AhgConfig {
    AhgConfig {
        encoder_width: 4,
        decoder_width: 4,
        levels: 2,
    }
}

fn values(t: Tensor<4>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().unwrap()
}

/// A smooth, deterministic test image with values spread over (0, 1).
fn texture(n: usize, c: usize, s: usize, phase: f32) -> Vec<f32> {
    let mut v = Vec::with_capacity(n * c * s * s);
    for b in 0..n {
        for ch in 0..c {
            for y in 0..s {
                for x in 0..s {
                    let a = 0.3 * x as f32 + 0.17 * y as f32 + phase + ch as f32 + b as f32 * 0.7;
                    v.push(0.5 + 0.45 * a.sin());
                }
            }
        }
    }
    v
}

fn tensor(v: Vec<f32>, shape: [usize; 4]) -> Tensor<4> {
    Tensor::from_data(TensorData::new(v, shape), &cpu())
}

#[test]
fn encoder_gives_one_channel_in_the_open_unit_interval() {
    let dev = cpu();
    let e = DensityEncoderNet::new(4, 2, &dev);
    let x = tensor(texture(2, 3, 32, 0.0), [2, 3, 32, 32]);
    let m = e.forward(x.clone());
    assert_eq!(m.dims(), [2, 1, 32, 32]);
    let v = values(m);
    assert!(v.iter().all(|&p| p > 0.0 && p < 1.0), "sigmoid range");
    // Large inputs push the pre-activation far out; the output must still be bounded.
    let v = values(e.forward(x.mul_scalar(1e3)));
    assert!(v.iter().all(|&p| (0.0..=1.0).contains(&p)));
}

#[test]
fn decoder_is_the_scattering_model_with_a_grey_initial_airlight() {
    let dev = cpu();
    let d = RehazeDecoder::new(4, 2, &dev);
    let clear = texture(2, 3, 16, 1.0);
    let out = d.forward(
        tensor(clear.clone(), [2, 3, 16, 16]),
        tensor(vec![0.7; 2 * 16 * 16], [2, 1, 16, 16]),
    );
    assert_eq!(out.dims(), [2, 3, 16, 16]);
    for (o, c) in values(out).into_iter().zip(&clear) {
        // Zero output layer: A = 0.8, so D(I_c, 0.7) = 0.3·I_c + 0.7·0.8.
        assert!((o - (0.3 * c + 0.56)).abs() < 1e-5, "{o} vs {c}");
    }
    // M = 0 is no haze, whatever the weights; M = 1 gives the airlight, inside [0, 1].
    let x = tensor(clear.clone(), [2, 3, 16, 16]);
    let none = d.forward(x.clone(), tensor(vec![0.0; 512], [2, 1, 16, 16]));
    assert_eq!(values(none), clear);
    let full = values(d.forward(x, tensor(vec![1.0; 512], [2, 1, 16, 16])));
    assert!(full.iter().all(|&v| (v - 0.8).abs() < 1e-6));
}

#[test]
#[should_panic(expected = "not a multiple of 4")]
fn unet_refuses_sizes_off_its_multiple() {
    let e = DensityEncoderNet::new(4, 2, &cpu());
    assert_eq!(e.size_multiple(), 4);
    e.forward(tensor(vec![0.5; 3 * 18 * 16], [1, 3, 18, 16]));
}

#[test]
fn critic_scores_a_patch_grid() {
    let c = PatchDiscriminator::new(4, &cpu());
    let s = c.forward(tensor(texture(3, 3, 32, 0.0), [3, 3, 32, 32]));
    assert_eq!(s.dims(), [3, 1, 6, 6]);
}

#[test]
fn hinge_and_l1_values_by_hand() {
    let real = tensor(vec![2.0, 0.5, -1.0, 0.0], [1, 1, 2, 2]);
    let fake = tensor(vec![-2.0, 0.0, 0.5, -0.5], [1, 1, 2, 2]);
    // relu(1 − r) = [0, 0.5, 2, 1] → 0.875;  relu(1 + f) = [0, 1, 1.5, 0.5] → 0.75.
    let c: f32 = hinge_critic(real, fake.clone()).into_scalar();
    assert!((c - 1.625).abs() < 1e-6, "{c}");
    // −mean f = −(−2 + 0 + 0.5 − 0.5)/4 = 0.5.
    let g: f32 = hinge_generator(fake).into_scalar();
    assert!((g - 0.5).abs() < 1e-6, "{g}");
    let a = tensor(vec![0.0, 1.0, 0.25, 0.5], [1, 1, 2, 2]);
    let b = tensor(vec![1.0, 1.0, 0.0, 0.0], [1, 1, 2, 2]);
    // |Δ| = [1, 0, 0.25, 0.5] → 0.4375.
    let v: f32 = l1(a, b).into_scalar();
    assert!((v - 0.4375).abs() < 1e-6, "{v}");
}

/// A 32×32 pair: the hazy image is the clear one under uniform haze `0.55·J + 0.45·0.9`.
fn synthetic_pair() -> Pair {
    let s = 32;
    let c = texture(1, 3, s, 0.3);
    let h: Vec<f32> = c.iter().map(|&v| 0.55 * v + 0.45 * 0.9).collect();
    Pair {
        clear: RgbImage::from_planar(s, s, c),
        hazy: RgbImage::from_planar(s, s, h),
    }
}

fn tiny_train_config(steps: usize) -> TrainAhgConfig {
    TrainAhgConfig {
        model: tiny(),
        critic_width: 4,
        crop: 32,
        batch: 2,
        steps,
        lr: 2e-3,
        lr_critic: 1e-3,
        seed: 3,
        checkpoint_every: 0,
        log_every: 1,
        perlin_base_period: 16.0,
        ..Default::default()
    }
}

#[test]
fn a_few_training_steps_reduce_the_l1_terms() {
    const STEPS: usize = 80;
    let pair = synthetic_pair();
    let mut logged = Vec::new();
    let mut checkpoints = 0;
    let cfg = tiny_train_config(STEPS);
    let (_, report) = train_on_pairs(
        std::slice::from_ref(&pair),
        &cfg,
        &cpu(),
        |l| logged.push(*l),
        |_, _| {
            checkpoints += 1;
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(report.steps, STEPS);
    assert_eq!(report.history.len(), STEPS);
    assert_eq!(logged.len(), STEPS);
    assert_eq!(checkpoints, 0);
    let l1 = |l: &StepLosses| l.clear_l1 + l.hazy_l1;
    let first = report.history[0];
    let tail = &report.history[STEPS - 10..];
    let tail_l1 = tail.iter().map(l1).sum::<f32>() / tail.len() as f32;
    let tail_hazy = tail.iter().map(|l| l.hazy_l1).sum::<f32>() / tail.len() as f32;
    // At step 1, M ≈ 0.5 everywhere: the clear image is half-hazed (clear L1 large).
    assert!(l1(&first) > 0.15, "{first:?}");
    assert!(
        tail_l1 < 0.25 * l1(&first),
        "L1 terms {} → {tail_l1}",
        l1(&first)
    );
    assert!(tail_hazy < 0.03, "hazy L1 {tail_hazy}");
    assert!(report
        .history
        .iter()
        .all(|l| l.critic.is_finite() && l.adv.is_finite()));
}

#[test]
fn training_stops_at_the_time_bound_and_checkpoints() {
    let pair = synthetic_pair();
    let mut cfg = tiny_train_config(1000);
    cfg.max_seconds = Some(0.0);
    cfg.checkpoint_every = 1;
    let mut checkpoints = 0;
    let (_, report) = train_on_pairs(
        std::slice::from_ref(&pair),
        &cfg,
        &cpu(),
        |_| {},
        |_, _| {
            checkpoints += 1;
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(report.steps, 1);
    assert_eq!(
        checkpoints, 0,
        "the final save is the caller's, not a checkpoint"
    );
    cfg.max_seconds = None;
    cfg.steps = 3;
    let r = train_on_pairs(
        std::slice::from_ref(&pair),
        &cfg,
        &cpu(),
        |_| {},
        |_, _| {
            checkpoints += 1;
            Ok(())
        },
    )
    .unwrap();
    assert_eq!((r.1.steps, checkpoints), (3, 2));
}

#[test]
fn weights_round_trip_exactly_with_config_in_metadata() {
    let dev = cpu();
    let cfg = AhgConfig {
        encoder_width: 4,
        decoder_width: 6,
        levels: 2,
    };
    // Train one step so that D's zero-initialised head is no longer zero.
    let pair = synthetic_pair();
    let mut tc = tiny_train_config(2);
    tc.model = cfg;
    let (gen, _) = train_on_pairs(
        std::slice::from_ref(&pair),
        &tc,
        &dev,
        |_| {},
        |_, _| Ok(()),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ahg.safetensors");
    gen.save(&path, &cfg, &[("ahg.train.note".into(), "test".into())])
        .unwrap();
    // Saving again over the file works (atomic replace).
    gen.save(&path, &cfg, &[("ahg.train.note".into(), "test".into())])
        .unwrap();
    let meta = read_metadata(&path).unwrap();
    assert_eq!(meta["dehaze.model"], "ahg-generator");
    assert_eq!(meta["ahg.decoder_width"], "6");
    assert_eq!(meta["ahg.train.note"], "test");
    let (back, cfg2) = AhgGenerator::load(&path, &dev).unwrap();
    assert_eq!(cfg2, cfg);
    let x = tensor(texture(1, 3, 16, 2.0), [1, 3, 16, 16]);
    let m1 = gen.encoder.forward(x.clone());
    let m2 = back.encoder.forward(x.clone());
    assert_eq!(values(m1.clone()), values(m2));
    let y1 = values(gen.decoder.forward(x.clone(), m1.clone()));
    let y2 = values(back.decoder.forward(x.clone(), m1));
    assert_eq!(y1, y2);
    // Two steps moved D's zero-initialised head: the airlight is no longer uniform 0.8, so
    // the comparison above covered trained weights.
    let a = values(
        back.decoder.airlight(
            x,
            gen.encoder
                .forward(tensor(texture(1, 3, 16, 2.0), [1, 3, 16, 16])),
        ),
    );
    assert!(a.iter().any(|v| (v - 0.8).abs() > 1e-4));
}

#[test]
fn bad_weights_files_are_errors_that_name_the_file() {
    let dev = cpu();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.safetensors");
    let garbage = dir.path().join("garbage.safetensors");
    std::fs::write(&garbage, b"this is not a weights file").unwrap();
    let foreign = dir.path().join("foreign.safetensors");
    std::fs::write(
        &foreign,
        safetensors::serialize(
            Vec::<(String, safetensors::tensor::TensorView)>::new(),
            None,
        )
        .unwrap(),
    )
    .unwrap();
    for (p, what) in [
        (&missing, "No such file"),
        (&garbage, "not a safetensors file"),
        (&foreign, "not AHG generator weights"),
    ] {
        let e = AhgModel::load(p, &dev).unwrap_err();
        let WeightsError::File { path, .. } = &e;
        assert_eq!(path, p);
        let msg = e.to_string();
        assert!(
            msg.contains(&p.display().to_string()) && msg.contains(what),
            "{msg}"
        );
    }
    // Right metadata, wrong shapes: a file saved with another width.
    let wide = dir.path().join("wide.safetensors");
    let cfg = tiny();
    AhgGenerator::new(&cfg, &dev)
        .save(&wide, &cfg, &[])
        .unwrap();
    let mut bytes = std::fs::read(&wide).unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let at = text.find("\"ahg.encoder_width\":\"4\"").unwrap();
    bytes[at + "\"ahg.encoder_width\":\"".len()] = b'8';
    std::fs::write(&wide, bytes).unwrap();
    let msg = AhgModel::load(&wide, &dev).unwrap_err().to_string();
    assert!(
        msg.contains("wide.safetensors") && msg.contains("cannot load"),
        "{msg}"
    );
}

#[test]
fn generation_handles_odd_sizes_and_references_of_another_size() {
    let dev = cpu();
    let model = AhgModel::new(AhgGenerator::new(&tiny(), &dev), tiny(), dev);
    let (w, h) = (19, 13);
    let clear = RgbImage::from_planar(w, h, texture(1, 3, 19, 0.0)[..3 * w * h].to_vec());
    let reference = RgbImage::from_grey(&Plane::filled(40, 30, 0.8));
    let field = Plane::filled(w, h, 1.5);
    let (hazy, m) = model.generate(&clear, &reference, 0.25, Some(&field));
    assert_eq!((hazy.width(), hazy.height()), (w, h));
    assert_eq!((m.width(), m.height()), (w, h));
    // M = clamp((α·M_c + (1−α)·M_h)·F) with core's interpolation, recomputed by hand.
    let mc = model.density(&clear);
    let mh = model.density(&RgbImage::from_grey(&Plane::filled(w, h, 0.8)));
    for i in 0..w * h {
        let want = ((0.25 * mc.data()[i] + 0.75 * mh.data()[i]) * 1.5).clamp(0.0, 1.0);
        assert!((m.data()[i] - want).abs() < 1e-5);
    }
    // An untrained D has the grey airlight 0.8: hazy = I_c·(1 − M) + 0.8·M.
    for c in 0..3 {
        for i in 0..w * h {
            let want = clear.plane(c)[i] * (1.0 - m.data()[i]) + 0.8 * m.data()[i];
            assert!((hazy.plane(c)[i] - want).abs() < 1e-5);
        }
    }
    // Edge-replication padding: the map of a padded image equals, on the image, the map of a
    // larger image that has the same replicated border.
    let mut big = vec![0.0f32; 3 * 20 * 16];
    for c in 0..3 {
        for y in 0..16 {
            for x in 0..20 {
                big[c * 320 + y * 20 + x] = clear.plane(c)[y.min(h - 1) * w + x.min(w - 1)];
            }
        }
    }
    let mb = model.density(&RgbImage::from_planar(20, 16, big));
    for y in 0..h {
        for x in 0..w {
            assert!((mb.get(x, y) - mc.get(x, y)).abs() < 1e-6);
        }
    }
}

#[test]
fn bilinear_resize_keeps_constants_and_ramps() {
    let img = RgbImage::from_grey(&Plane::filled(7, 5, 0.3));
    let r = generate::resize_bilinear(&img, 13, 9);
    assert!(r.data().iter().all(|&v| (v - 0.3).abs() < 1e-6));
    // A horizontal ramp stays monotone.
    let ramp = Plane::from_vec(8, 2, (0..16).map(|i| (i % 8) as f32 / 7.0).collect());
    let r = generate::resize_bilinear(&RgbImage::from_grey(&ramp), 5, 2);
    let row = &r.plane(0)[..5];
    assert!(row.windows(2).all(|p| p[1] > p[0]), "{row:?}");
}

#[test]
fn a_huge_claimed_generator_is_refused_before_allocation() {
    // Within the metadata caps (width ≤ 1024, levels ≤ 6) yet ~10^10 parameters: a 200-byte
    // file must not make the loader allocate 40 GB.
    let meta = std::collections::HashMap::from([
        ("dehaze.model".to_string(), "ahg-generator".to_string()),
        ("ahg.encoder_width".to_string(), "1024".to_string()),
        ("ahg.decoder_width".to_string(), "1024".to_string()),
        ("ahg.levels".to_string(), "6".to_string()),
    ]);
    let bytes = safetensors::serialize(
        Vec::<(String, safetensors::tensor::TensorView)>::new(),
        Some(meta),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.safetensors");
    std::fs::write(&path, bytes).unwrap();
    let e = AhgGenerator::load(&path, &cpu()).unwrap_err().to_string();
    assert!(
        e.contains("huge.safetensors") && e.contains("needs at least"),
        "{e}"
    );
    // The bound is a lower bound: the tiny configuration's real network is bigger.
    let real = AhgGenerator::new(&tiny(), &cpu()).num_params() as u128;
    assert!(
        tiny().min_params() <= real,
        "{} > {real}",
        tiny().min_params()
    );
}
