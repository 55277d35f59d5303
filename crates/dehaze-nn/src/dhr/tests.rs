use super::*;
use crate::device::cpu;
use burn::module::Module;
use std::path::Path;

/// A deterministic test image `[n, 3, h, w]` in [0, 1].
fn image(n: usize, h: usize, w: usize, dev: &Device) -> Tensor<4> {
    let data: Vec<f32> = (0..n * 3 * h * w)
        .map(|i| 0.5 + 0.45 * ((i as f32) * 0.37).sin() * ((i as f32) * 0.011).cos())
        .collect();
    Tensor::from_data(TensorData::new(data, [n, 3, h, w]), dev)
}

fn values(t: Tensor<4>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().unwrap()
}

#[test]
fn parameter_counts_are_within_the_size_classes() {
    let dev = cpu();
    let s = Dhr::new(&DhrConfig::small(), &dev).num_params();
    let b = Dhr::new(&DhrConfig::base(), &dev).num_params();
    println!("dhr-s: {s} learnable parameters; dhr-b: {b}");
    assert_eq!(s, DHR_S_PARAMS);
    assert_eq!(b, DHR_B_PARAMS);
    assert!(s <= 1_000_000, "dhr-s has {s} > 1 M parameters");
    assert!(
        (5_000_000..=15_000_000).contains(&b),
        "dhr-b has {b} parameters"
    );
}

#[test]
fn output_shapes_and_ranges() {
    let dev = cpu();
    let net = Dhr::new(&DhrConfig::small(), &dev);
    assert_eq!(net.size_multiple(), 16);
    for (n, h, w) in [(2, 32, 32), (1, 48, 64)] {
        let out = net.forward(image(n, h, w, &dev));
        assert_eq!(out.image.dims(), [n, 3, h, w]);
        assert_eq!(out.importance.dims(), [n, 1, h / 16, w / 16]);
        assert_eq!(out.density.dims(), [n, 1, h / 16, w / 16]);
        let px = values(out.image);
        assert!(
            px.iter().all(|v| (0.0..=1.0).contains(v)),
            "image outside [0, 1]"
        );
        let d = values(out.density);
        assert!(d.iter().all(|v| *v > 0.0 && *v < 1.0));
    }
}

#[test]
fn importance_sums_to_the_patch_count_of_each_image() {
    let dev = cpu();
    let net = Dhr::new_seeded(&DhrConfig::small(), &dev, 3);
    let (n, h, w) = (3, 48, 64);
    // Three different images: one flat, two textured.
    let x = Tensor::cat(
        vec![Tensor::full([1, 3, h, w], 0.8, &dev), image(2, h, w, &dev)],
        0,
    );
    let imp = values(net.forward(x).importance);
    let per = (h / 16) * (w / 16);
    for i in 0..n {
        let s: f32 = imp[i * per..(i + 1) * per].iter().sum();
        assert!(
            (s - per as f32).abs() < 1e-3 * per as f32,
            "image {i}: Σw = {s}, want {per}"
        );
        assert!(imp[i * per..(i + 1) * per].iter().all(|v| *v > 0.0));
    }
    // And the formula itself, on known logits: w = N·softmax(ρ/τ).
    let rho = Tensor::<4>::from_data(
        TensorData::new(vec![0.0f32, 1.0, 2.0, 3.0], [1, 1, 2, 2]),
        &dev,
    );
    let w = values(patch_importance(rho, 2.0));
    let e: Vec<f32> = (0..4).map(|i| (i as f32 / 2.0).exp()).collect();
    let z: f32 = e.iter().sum();
    for i in 0..4 {
        assert!((w[i] - 4.0 * e[i] / z).abs() < 1e-5, "{w:?}");
    }
}

#[test]
fn seeded_init_is_reproducible() {
    let dev = cpu();
    let cfg = DhrConfig::small();
    let x = image(1, 32, 32, &dev);
    let a = values(Dhr::new_seeded(&cfg, &dev, 7).forward(x.clone()).image);
    let b = values(Dhr::new_seeded(&cfg, &dev, 7).forward(x.clone()).image);
    let c = values(Dhr::new_seeded(&cfg, &dev, 8).forward(x).image);
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn save_load_round_trip_gives_identical_output() {
    let dev = cpu();
    let mut cfg = DhrConfig::small();
    cfg.tau = 0.5; // a non-default value must travel in the metadata
    let net = Dhr::new_seeded(&cfg, &dev, 11);
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("dhr.safetensors");
    net.save(&path).unwrap();
    let back = Dhr::load(&path, &dev).unwrap();
    assert_eq!(back.config(), &cfg);
    let x = image(2, 32, 48, &dev);
    let (o1, o2) = (net.forward(x.clone()), back.forward(x));
    assert_eq!(values(o1.image), values(o2.image));
    assert_eq!(values(o1.importance), values(o2.importance));
    // Only the weights file is left in the folder (the temporary file was renamed).
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
}

#[test]
fn bad_weight_files_give_clear_errors() {
    let dev = cpu();
    let tmp = tempfile::tempdir().unwrap();
    let err = |p: &Path| Dhr::load(p, &dev).unwrap_err().to_string();

    let missing = tmp.path().join("nope.safetensors");
    let e = err(&missing);
    assert!(e.contains("nope.safetensors"), "{e}");

    let junk = tmp.path().join("junk.safetensors");
    std::fs::write(&junk, b"definitely not safetensors").unwrap();
    let e = err(&junk);
    assert!(
        e.contains("junk.safetensors") && e.contains("not a safetensors file"),
        "{e}"
    );

    let good = tmp.path().join("good.safetensors");
    let net = Dhr::new(&DhrConfig::small(), &dev);
    net.save(&good).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let cut = tmp.path().join("cut.safetensors");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let e = err(&cut);
    assert!(
        e.contains("cut.safetensors") && e.contains("not a safetensors"),
        "{e}"
    );

    // A safetensors file without our metadata (e.g. someone else's model).
    let foreign = tmp.path().join("foreign.safetensors");
    let mut store = burn::store::SafetensorsStore::from_bytes(None);
    burn::store::ModuleSnapshot::save_into(&net, &mut store).unwrap();
    std::fs::write(&foreign, store.get_bytes().unwrap()).unwrap();
    let e = err(&foreign);
    assert!(e.contains("not a DHR weights file"), "{e}");

    // Weights of a different size than the metadata says.
    let mut wrong = DhrConfig::small();
    wrong.width = 8;
    let mut store = burn::store::SafetensorsStore::from_bytes(None)
        .metadata("dehaze.model", "dhr")
        .metadata("dehaze.format_version", "1")
        .metadata("dehaze.dhr_config", serde_json::to_string(&wrong).unwrap());
    burn::store::ModuleSnapshot::save_into(&net, &mut store).unwrap();
    let mismatch = tmp.path().join("mismatch.safetensors");
    std::fs::write(&mismatch, store.get_bytes().unwrap()).unwrap();
    let e = err(&mismatch);
    assert!(e.contains("mismatch.safetensors"), "{e}");
}

#[test]
fn straight_through_clamp_passes_gradients() {
    // An input far outside [0, 1] saturates the clamp; the loss must still reach the weights.
    let dev = cpu().autodiff();
    let net = Dhr::new(&DhrConfig::small(), &dev);
    let x = image(1, 32, 32, &dev) * 3.0;
    let out = net.forward(x);
    let px = values(out.image.clone());
    assert!(px.iter().all(|v| (0.0..=1.0).contains(v)));
    let loss = (out.image - 0.5).abs().mean();
    let grads = loss.backward();
    let g = net.outro.weight.grad(&grads).expect("outro has a gradient");
    let g: Vec<f32> = g.into_data().try_into_vec().unwrap();
    assert!(
        g.iter().any(|v| v.abs() > 0.0),
        "gradient vanished through the clamp"
    );
}

#[test]
fn dark_channel_density_is_the_patch_minimum() {
    let dev = cpu();
    let (h, w) = (16, 32);
    let mut data = vec![0.7f32; 3 * h * w];
    // Left patch: one dark pixel in the green channel.
    data[h * w + 5 * w + 3] = 0.1;
    let x = Tensor::<4>::from_data(TensorData::new(data, [1, 3, h, w]), &dev);
    let d = values(dark_channel_density(x, 16));
    assert_eq!(d.len(), 2);
    assert!(
        (d[0] - 0.1).abs() < 1e-6 && (d[1] - 0.7).abs() < 1e-6,
        "{d:?}"
    );
}

#[test]
fn invalid_configs_are_rejected_with_the_field_name() {
    let mut c = DhrConfig::small();
    c.patch = 12;
    assert!(c.validate().unwrap_err().starts_with("patch"));
    let mut c = DhrConfig::small();
    c.attention_heads = 5;
    assert!(c.validate().unwrap_err().starts_with("attention_heads"));
    let mut c = DhrConfig::small();
    c.tau = 0.0;
    assert!(c.validate().unwrap_err().starts_with("tau"));
}

/// The PyTorch twin (`tools/dhr_torch.py --check`) loads our weights file and computes the
/// same output. Needs torch; run with
/// `DHR_TORCH_PYTHON=/work/venv-torch/bin/python cargo test -p dehaze-nn torch_twin -- --ignored`.
#[test]
#[ignore]
fn torch_twin_gives_the_same_output() {
    let py = std::env::var("DHR_TORCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let dev = cpu();
    let mut net = Dhr::new_seeded(&DhrConfig::small(), &dev, 21);
    // Nonzero gates, so that the importance path is compared too (they start at 0).
    let before = values(net.forward(image(2, 48, 64, &dev)).image);
    for (l, g) in net.gates.iter_mut().enumerate() {
        let c = g.gamma.dims()[0];
        g.gamma = init::constant([c], 0.3 + 0.2 * l as f32, &dev);
    }
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path().join("w.safetensors");
    net.save(&w).unwrap();
    let (n, h, wd) = (2, 48, 64);
    let x = image(n, h, wd, &dev);
    let input: Vec<f32> = values(x.clone());
    let inp = tmp.path().join("x.f32");
    std::fs::write(
        &inp,
        input
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    let outp = tmp.path().join("y.f32");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/dhr_torch.py");
    let st = std::process::Command::new(&py)
        .arg(&script)
        .arg("--check")
        .args([&w, &inp, &outp])
        .args([n.to_string(), h.to_string(), wd.to_string()])
        .status()
        .expect("run python");
    assert!(st.success());
    let read = |p: &Path| -> Vec<f32> {
        std::fs::read(p)
            .unwrap()
            .chunks(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    };
    let out = net.forward(x);
    assert_ne!(
        values(out.image.clone()),
        before,
        "the gates changed nothing"
    );
    for (ours, theirs) in [
        (values(out.image), read(&outp)),
        (
            values(out.importance),
            read(&outp.with_extension("f32.importance")),
        ),
    ] {
        assert_eq!(ours.len(), theirs.len());
        let max = ours
            .iter()
            .zip(&theirs)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        println!("max |burn - torch| = {max:e}");
        assert!(max < 1e-4, "max difference {max}");
    }
}

#[test]
fn min_params_is_a_lower_bound_and_refuses_huge_claimed_networks() {
    assert!(DhrConfig::small().min_params() <= DHR_S_PARAMS as u128);
    assert!(DhrConfig::base().min_params() <= DHR_B_PARAMS as u128);
    // Tight enough to matter: within a factor 2 of the real counts.
    assert!(2 * DhrConfig::small().min_params() >= DHR_S_PARAMS as u128);

    // A tiny file whose metadata claims a network of width 1e6 (10^13+ parameters) is refused
    // before anything is allocated, and the error gives the numbers and names the file.
    let mut cfg = DhrConfig::small();
    cfg.width = 1_000_000;
    cfg.attention_heads = 0;
    let meta = std::collections::HashMap::from([
        ("dehaze.model".to_string(), "dhr".to_string()),
        ("dehaze.format_version".to_string(), "1".to_string()),
        (
            "dehaze.dhr_config".to_string(),
            serde_json::to_string(&cfg).unwrap(),
        ),
    ]);
    let no_tensors: Vec<(String, safetensors::tensor::TensorView)> = Vec::new();
    let bytes = safetensors::serialize(no_tensors, Some(meta)).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("huge.safetensors");
    std::fs::write(&path, bytes).unwrap();
    let e = Dhr::load(&path, &cpu()).unwrap_err().to_string();
    assert!(
        e.contains("huge.safetensors") && e.contains("needs at least") && e.contains("bytes"),
        "{e}"
    );
}
