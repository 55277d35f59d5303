//! KA-Net: parameter counts, checkpoint loading, parity with the official network and with our
//! PyTorch reference.
//!
//! **Official parity** (`parity_with_the_official_network`): the fixture
//! `tests/fixtures/ka_net_official/io.safetensors` holds outputs of the official code itself
//! (`LD_model1.Dehaze` from github.com/fyxnl/KA_Net `testcode/`, unmodified, float64, on the CPU)
//! at full width. Its weights are not stored: every tensor is a formula of its key and shape,
//! implemented here (`formula_tensor`) and in the script; the fixture keeps the state-dict
//! listing, the injected random-Fourier draw, the calibrated head conv and the outputs (1.3 MB).
//! Regenerate it (needs torch, timm, numpy, safetensors; the official code is never committed):
//! ```text
//! git clone https://github.com/fyxnl/KA_Net /tmp/KA_Net
//! /work/venv/bin/python tools/ka_net_official_fixture.py --testcode /tmp/KA_Net/testcode \
//!     --out crates/dehaze-nn/tests/fixtures/ka_net_official/io.safetensors --compare-ours
//! ```
//!
//! **Reference parity** (`parity_with_pytorch_reference`, tiny widths, checkpoint layouts):
//! the fixture in `tests/fixtures/ka_net/` is written by
//! `tools/ka_net_torch.py fixture --dims 4 8 16 16 --out crates/dehaze-nn/tests/fixtures/ka_net`
//! (random weights with non-trivial LayerNorm/BatchNorm state, saved in the official checkpoint
//! layout and as safetensors, plus inputs, the RFF draw and the expected outputs computed in
//! float64).
//!
//! The full-size parity check is ignored by default (55.7 M parameters, a 256×256 input):
//! ```text
//! /work/venv-torch/bin/python tools/ka_net_torch.py fixture --dims 64 128 320 512 \
//!     --sizes 256x256 --out /work/ka_net_full
//! KA_NET_FULL_DIR=/work/ka_net_full cargo test -p dehaze-nn --release --test ka_net -- \
//!     --ignored --nocapture
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use dehaze_nn::burn::prelude::*;
use dehaze_nn::ka_net::{
    KaNet, KaNetConfig, CONFIG_NAMES, KA_NET_PARAMS, KA_NET_S_PARAMS, SIZE_MULTIPLE,
};
use dehaze_nn::weights::WeightsError;
use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;

/// Parity tolerance (max abs difference against the float64 PyTorch reference).
const TOLERANCE: f32 = 1e-4;

fn device() -> Device {
    dehaze_nn::device::cpu()
}

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ka_net")
}

/// A safetensors file read whole: its metadata and its float32 tensors.
struct Arrays {
    metadata: BTreeMap<String, String>,
    tensors: BTreeMap<String, (Vec<usize>, Vec<f32>)>,
}

fn read_arrays(path: &Path) -> Arrays {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (_, meta) = SafeTensors::read_metadata(&bytes).expect("safetensors header");
    let metadata = meta
        .metadata()
        .clone()
        .map(|m| m.into_iter().collect())
        .unwrap_or_default();
    let st = SafeTensors::deserialize(&bytes).expect("safetensors");
    let tensors = st
        .tensors()
        .into_iter()
        .filter(|(_, v)| v.dtype() == Dtype::F32)
        .map(|(k, v)| {
            let data = v
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect();
            (k, (v.shape().to_vec(), data))
        })
        .collect();
    Arrays { metadata, tensors }
}

impl Arrays {
    fn get(&self, name: &str) -> &(Vec<usize>, Vec<f32>) {
        self.tensors
            .get(name)
            .unwrap_or_else(|| panic!("fixture has no '{name}'"))
    }

    fn tensor<const D: usize>(&self, name: &str) -> Tensor<D> {
        let (shape, data) = self.get(name);
        Tensor::from_data(TensorData::new(data.clone(), shape.clone()), &device())
    }

    fn dims(&self) -> [usize; 4] {
        let dims: Vec<usize> = self.metadata["dims"]
            .split(',')
            .map(|v| v.parse().unwrap())
            .collect();
        dims.try_into().unwrap()
    }

    fn sizes(&self) -> Vec<String> {
        self.metadata["sizes"]
            .split(',')
            .map(str::to_string)
            .collect()
    }
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// The model in `dir/ka_net.pth` with the fixture's RFF draw, and the fixture arrays.
fn load_reference(dir: &Path) -> (KaNet, Arrays) {
    let io = read_arrays(&dir.join("io.safetensors"));
    let config = KaNetConfig { dims: io.dims() };
    let mut model =
        KaNet::load(&dir.join("ka_net.pth"), &config, &device()).unwrap_or_else(|e| panic!("{e}"));
    model.set_rff(io.tensor("rff_w"), io.tensor("rff_b"));
    (model, io)
}

/// Runs every fixture input through `model` and compares output and z with the reference.
/// Returns the worst differences (output, z).
fn check_parity(model: &KaNet, io: &Arrays) -> (f32, f32) {
    let (mut worst_out, mut worst_z) = (0.0f32, 0.0f32);
    for size in io.sizes() {
        let x = io.tensor::<4>(&format!("input_{size}"));
        let t0 = Instant::now();
        let (out, z) = model.forward(x);
        let out = values(out);
        let elapsed = t0.elapsed();
        let d_out = max_abs_diff(&out, &io.get(&format!("output_{size}")).1);
        let d_z = max_abs_diff(&values(z), &io.get(&format!("z_{size}")).1);
        println!(
            "KA-Net dims {:?} at {size}: max |Δout| = {d_out:.3e}, max |Δz| = {d_z:.3e} \
             (forward {:.1} ms)",
            io.dims(),
            elapsed.as_secs_f64() * 1e3
        );
        assert!(
            d_out <= TOLERANCE && d_z <= TOLERANCE,
            "{size}: max |Δout| = {d_out:e}, max |Δz| = {d_z:e} exceed {TOLERANCE:e}"
        );
        worst_out = worst_out.max(d_out);
        worst_z = worst_z.max(d_z);
    }
    (worst_out, worst_z)
}

#[test]
fn parameter_counts_match_the_official_network() {
    let model = KaNet::new(&KaNetConfig::official(), &device());
    let counts = model.parameter_counts();
    println!(
        "official KA-Net: {} learnable parameters, {} used in the forward pass",
        counts.learnable, counts.used
    );
    assert_eq!(counts.learnable, KA_NET_PARAMS);
    assert_eq!(KA_NET_PARAMS, 55_657_426);
    assert_eq!(counts.used, 55_360_759);

    // The official names of our tensors are exactly the keys of the doc's state-dict listing
    // (Appendix A), BatchNorm step counters aside.
    let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/ka-net-architecture.md");
    let text = std::fs::read_to_string(&doc).unwrap();
    let appendix = text.split("## Appendix A").nth(1).expect("Appendix A");
    let mut listed: Vec<String> = appendix
        .lines()
        .filter_map(|l| {
            let key = l.split_whitespace().next()?;
            let is_key = key.contains('.') && l.contains('[');
            (is_key && !key.ends_with(".num_batches_tracked")).then(|| key.to_string())
        })
        .collect();
    listed.sort();
    assert_eq!(listed.len(), 481 - 14);
    assert_eq!(model.official_keys(), listed);
}

#[test]
fn tiny_counts_match_the_pytorch_reference() {
    let weights = read_arrays(&fixture_dir().join("ka_net.safetensors"));
    let learnable: usize = weights
        .tensors
        .iter()
        .filter(|(k, _)| !k.ends_with("running_mean") && !k.ends_with("running_var"))
        .map(|(_, (shape, _))| shape.iter().product::<usize>())
        .sum();
    let model = KaNet::new(&KaNetConfig::tiny(), &device());
    assert_eq!(model.parameter_counts().learnable, learnable);
    assert_eq!(learnable, 88_252);
}

#[test]
fn parity_with_pytorch_reference() {
    let (model, io) = load_reference(&fixture_dir());
    assert_eq!(io.dims(), KaNetConfig::tiny().dims);
    let (d_out, d_z) = check_parity(&model, &io);
    println!("fixture parity: worst max |Δout| = {d_out:.3e}, worst max |Δz| = {d_z:.3e}");
}

#[test]
fn forward_is_deterministic() {
    let dev = device();
    let config = KaNetConfig::tiny();
    let a = KaNet::load(&fixture_dir().join("ka_net.pth"), &config, &dev).unwrap();
    let b = KaNet::load(&fixture_dir().join("ka_net.safetensors"), &config, &dev).unwrap();
    // The seeded RFF draw is the same in every instance.
    assert_eq!(values(a.rff().0), values(b.rff().0));
    assert_eq!(values(a.rff().1), values(b.rff().1));
    let x = Tensor::<4>::random(
        [2, 3, 64, 48],
        burn::tensor::Distribution::Uniform(-1.0, 1.0),
        &dev,
    );
    let (y1, z1) = a.forward(x.clone());
    let (y2, z2) = a.forward(x.clone());
    let (y3, _) = b.forward(x);
    let y1 = values(y1);
    assert_eq!(y1, values(y2));
    assert_eq!(values(z1), values(z2));
    assert_eq!(y1, values(y3));
    assert!(y1.iter().all(|v| v.is_finite() && v.abs() < 1.0));
}

#[test]
fn batch_items_are_independent() {
    let (model, io) = load_reference(&fixture_dir());
    let x = io.tensor::<4>("input_64x64");
    let pair = Tensor::cat(vec![x.clone(), x.clone().flip([3])], 0);
    let (y, z) = model.forward(pair);
    let (y0, z0) = model.forward(x);
    let [n, c, h, w] = y.dims();
    assert_eq!([n, c, h, w], [2, 3, 64, 64]);
    let first = values(y.slice([0..1, 0..c, 0..h, 0..w]));
    assert!(max_abs_diff(&first, &values(y0)) < 1e-5);
    assert!(max_abs_diff(&values(z.slice([0..1, 0..16])), &values(z0)) < 1e-5);
}

#[test]
fn ka_net_s_is_the_official_architecture_at_quarter_width() {
    let dev = device();
    let official = KaNetConfig::official();
    let small = KaNetConfig::small();
    assert_eq!(CONFIG_NAMES, ["ka-net", "ka-net-s"]);
    assert_eq!(KaNetConfig::from_name("ka-net-s"), Some(small.clone()));
    assert_eq!(KaNetConfig::from_name("ka-net"), Some(official.clone()));
    assert_eq!(KaNetConfig::from_name("ka-net-xl"), None);
    assert_eq!(small.name(), Some("ka-net-s"));
    assert_eq!(official.name(), Some("ka-net"));
    assert_eq!(KaNetConfig::tiny().name(), None);
    assert_eq!(small.dims, official.dims.map(|d| d / 4));
    assert!(small.validate().is_ok());

    let model = KaNet::new(&small, &dev);
    assert_eq!(model.dims(), small.dims);
    let counts = model.parameter_counts();
    println!(
        "ka-net-s {:?}: {} learnable parameters, {} used",
        small.dims, counts.learnable, counts.used
    );
    assert_eq!(counts.learnable, KA_NET_S_PARAMS);
    assert_eq!(KA_NET_S_PARAMS, 3_541_378);
    // The official state-dict names, every one of them: only the shapes differ.
    assert_eq!(
        model.official_keys(),
        KaNet::new(&official, &dev).official_keys()
    );
}

#[test]
fn saves_in_the_official_layout_and_loads_back() {
    let dev = device();
    let dir = tempfile::tempdir().unwrap();

    // The tiny fixture network, saved: the same tensors, names and layouts as the file PyTorch
    // wrote from its state dict.
    let tiny = KaNet::load(
        &fixture_dir().join("ka_net.pth"),
        &KaNetConfig::tiny(),
        &dev,
    )
    .unwrap();
    let saved = dir.path().join("tiny.safetensors");
    tiny.save(&saved).unwrap();
    let ours = read_arrays(&saved);
    let torch = read_arrays(&fixture_dir().join("ka_net.safetensors"));
    assert_eq!(ours.tensors, torch.tensors);
    assert_eq!(ours.metadata["dehaze.ka_net_dims"], "4,8,16,16");

    // ka-net-s round trip, its widths read back from the file.
    let model = KaNet::new(&KaNetConfig::small(), &dev);
    let path = dir.path().join("ka-net-s.safetensors");
    model.save(&path).unwrap();
    let config = KaNet::saved_config(&path).unwrap();
    assert_eq!(config, Some(KaNetConfig::small()));
    let loaded = KaNet::load(&path, &config.unwrap(), &dev).unwrap();
    let x = Tensor::<4>::random(
        [1, 3, 64, 48],
        burn::tensor::Distribution::Uniform(-1.0, 1.0),
        &dev,
    );
    assert_eq!(
        values(model.forward(x.clone()).0),
        values(loaded.forward(x).0)
    );
    let err = KaNet::load(&path, &KaNetConfig::reduced(), &dev)
        .expect_err("reduced widths must not load ka-net-s weights")
        .to_string();
    assert!(err.contains("shape"), "{err}");

    // Files without our metadata (the official layouts) have no stored widths.
    for name in ["ka_net.pth", "ka_net.safetensors", "ka_net_bare_legacy.pth"] {
        assert_eq!(
            KaNet::saved_config(&fixture_dir().join(name)).unwrap(),
            None
        );
    }
}

/// Writes the fixture's tensors as safetensors under new names (`rename`), dropping those
/// mapped to `None` and replacing data through `edit`.
fn rewrite_safetensors(
    out: &Path,
    rename: impl Fn(&str) -> Option<String>,
    edit: impl Fn(&str, &[usize], &[u8]) -> (Vec<usize>, Vec<u8>),
) {
    let bytes = std::fs::read(fixture_dir().join("ka_net.safetensors")).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let owned: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = st
        .tensors()
        .into_iter()
        .filter_map(|(k, v)| {
            let name = rename(&k)?;
            let (shape, data) = edit(&k, v.shape(), v.data());
            Some((name, v.dtype(), shape, data))
        })
        .collect();
    let views: Vec<(String, TensorView)> = owned
        .iter()
        .map(|(k, dt, shape, data)| {
            (
                k.clone(),
                TensorView::new(*dt, shape.clone(), data).unwrap(),
            )
        })
        .collect();
    safetensors::serialize_to_file(views, None, out).unwrap();
}

fn keep(_: &str, shape: &[usize], data: &[u8]) -> (Vec<usize>, Vec<u8>) {
    (shape.to_vec(), data.to_vec())
}

fn load_error(path: &Path) -> String {
    match KaNet::load(path, &KaNetConfig::tiny(), &device()) {
        Ok(_) => panic!("{} loaded but should not", path.display()),
        Err(e @ WeightsError::File { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains(&path.display().to_string()), "{msg}");
            msg
        }
    }
}

#[test]
fn loads_every_checkpoint_layout() {
    let dev = device();
    let config = KaNetConfig::tiny();
    let dir = tempfile::tempdir().unwrap();
    let prefixed = dir.path().join("prefixed.safetensors");
    rewrite_safetensors(&prefixed, |k| Some(format!("module.{k}")), keep);
    let x = read_arrays(&fixture_dir().join("io.safetensors")).tensor::<4>("input_48x80");
    let reference = values(
        KaNet::load(&fixture_dir().join("ka_net.pth"), &config, &dev)
            .unwrap()
            .forward(x.clone())
            .0,
    );
    for path in [
        fixture_dir().join("ka_net.safetensors"),
        fixture_dir().join("ka_net_bare_legacy.pth"),
        prefixed,
    ] {
        let model = KaNet::load(&path, &config, &dev).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            values(model.forward(x.clone()).0),
            reference,
            "{}",
            path.display()
        );
    }
}

#[test]
fn rejects_incomplete_or_foreign_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let victim = "block.MRFEB1.MRFRB_2.AM.SAU.conv_sigm.2.weight";

    let missing = dir.path().join("missing.safetensors");
    rewrite_safetensors(&missing, |k| (k != victim).then(|| k.to_string()), keep);
    let msg = load_error(&missing);
    assert!(msg.contains("missing") && msg.contains(victim), "{msg}");

    let extra = dir.path().join("extra.safetensors");
    rewrite_safetensors(
        &extra,
        |k| Some(k.replace("Tdecoder.norm1.", "Tdecoder.norm9.")),
        keep,
    );
    let msg = load_error(&extra);
    assert!(
        msg.contains("unexpected") && msg.contains("Tdecoder.norm9.weight"),
        "{msg}"
    );
    assert!(msg.contains("Tdecoder.norm1.weight"), "{msg}");

    let misshaped = dir.path().join("misshaped.safetensors");
    let key = "Tencoder.block2.0.attn.q.weight";
    rewrite_safetensors(
        &misshaped,
        |k| Some(k.to_string()),
        |k, shape, data| {
            if k == key {
                (vec![shape[0] * shape[1]], data.to_vec())
            } else {
                (shape.to_vec(), data.to_vec())
            }
        },
    );
    let msg = load_error(&misshaped);
    assert!(msg.contains(key) && msg.contains("shape"), "{msg}");

    // A checkpoint of another configuration.
    let other = dir.path().join("other.pth");
    std::fs::copy(fixture_dir().join("ka_net.pth"), &other).unwrap();
    let err = KaNet::load(&other, &KaNetConfig::reduced(), &device())
        .expect_err("reduced config must not load tiny weights")
        .to_string();
    assert!(err.contains("shape") && err.contains("other.pth"), "{err}");

    let garbage = dir.path().join("garbage.pth");
    std::fs::write(&garbage, b"definitely not a checkpoint").unwrap();
    load_error(&garbage);

    let truncated = dir.path().join("truncated.pth");
    let bytes = std::fs::read(fixture_dir().join("ka_net.pth")).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    load_error(&truncated);

    load_error(&dir.path().join("does-not-exist.pth"));
}

#[test]
#[should_panic(expected = "multiple of 16")]
fn rejects_sizes_off_the_grid() {
    let model = KaNet::new(&KaNetConfig::tiny(), &device());
    let _ = model.forward(Tensor::zeros([1, 3, 64, 2 * SIZE_MULTIPLE + 8], &device()));
}

#[test]
fn config_validation_names_the_width() {
    assert!(KaNetConfig::official().validate().is_ok());
    assert!(KaNetConfig::reduced().validate().is_ok());
    assert!(KaNetConfig::tiny().validate().is_ok());
    let err = KaNetConfig {
        dims: [8, 16, 32, 40],
    }
    .validate()
    .unwrap_err();
    assert!(err.contains("dims[3]"), "{err}");
}

/// Full-size parity against `tools/ka_net_torch.py fixture --dims 64 128 320 512` output (see
/// the module docs). Set `KA_NET_FULL_DIR` (default `/work/ka_net_full`).
#[test]
#[ignore = "needs the full-size fixture written by tools/ka_net_torch.py (about 220 MB)"]
fn full_size_parity_with_pytorch_reference() {
    let dir = std::env::var("KA_NET_FULL_DIR").unwrap_or_else(|_| "/work/ka_net_full".into());
    let t0 = Instant::now();
    let (model, io) = load_reference(Path::new(&dir));
    println!("loaded {dir} in {:.1} s", t0.elapsed().as_secs_f64());
    assert_eq!(io.dims(), KaNetConfig::official().dims);
    let (d_out, d_z) = check_parity(&model, &io);
    println!("full-size parity: max |Δout| = {d_out:.3e}, max |Δz| = {d_z:.3e}");

    // The same weights as safetensors and as a legacy (non-zip) pickle of the bare state dict.
    let x = io.tensor::<4>(&format!("input_{}", io.sizes()[0]));
    let reference = values(model.forward(x.clone()).0);
    for name in ["ka_net.safetensors", "ka_net_bare_legacy.pth"] {
        let mut other = KaNet::load(
            &Path::new(&dir).join(name),
            &KaNetConfig::official(),
            &device(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        other.set_rff(io.tensor("rff_w"), io.tensor("rff_b"));
        assert_eq!(values(other.forward(x.clone()).0), reference, "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// Parity with the official network (github.com/fyxnl/KA_Net, testcode/LD_model1.Dehaze)

fn official_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ka_net_official/io.safetensors")
}

/// 32-bit FNV-1a of `key`'s bytes (the per-tensor seed of the formula weights).
fn fnv1a(key: &str) -> u32 {
    key.bytes().fold(0x811C_9DC5, |h: u32, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// `n` values in [−1, 1), exact in f32: `(lowbias32(i·0x9E3779B9 ⊕ seed) >> 8) / 2²³ − 1`.
/// The same function as `uniform` in `tools/ka_net_official_fixture.py`.
fn formula_uniform(seed: u32, n: usize) -> Vec<f32> {
    (0..n as u32)
        .map(|i| {
            let mut x = i.wrapping_mul(0x9E37_79B9) ^ seed;
            x ^= x >> 16;
            x = x.wrapping_mul(0x7FEB_352D);
            x ^= x >> 15;
            x = x.wrapping_mul(0x846C_A68B);
            x ^= x >> 16;
            (x >> 8) as f32 / 8_388_608.0 - 1.0
        })
        .collect()
}

/// The value of the official state-dict entry `key` with PyTorch shape `shape`
/// (`formula_tensor` in `tools/ka_net_official_fixture.py`).
fn formula_tensor(key: &str, shape: &[usize]) -> Vec<f32> {
    let u = formula_uniform(fnv1a(key), shape.iter().product());
    let map = |f: &dyn Fn(f32) -> f32| u.iter().map(|&v| f(v)).collect();
    if key.ends_with("running_var") {
        map(&|v| 1.0 + 0.5 * v)
    } else if key.ends_with("running_mean") || key.ends_with(".bias") {
        map(&|v| 0.1 * v)
    } else if key.ends_with("task_query") {
        let s = 3f64.sqrt() as f32;
        map(&|v| s * v)
    } else if key.ends_with(".weight") && shape.len() == 1 {
        map(&|v| 1.0 + 0.2 * v)
    } else if key.ends_with(".weight") {
        let fan_in = if key.starts_with("convtail.convd") {
            shape[0]
        } else {
            shape[1..].iter().product()
        };
        let s = (3.0 / fan_in as f64).sqrt() as f32;
        map(&|v| s * v)
    } else {
        panic!("no formula for {key}")
    }
}

/// The `[1, 3, h, w]` input of size `h`×`w`.
fn formula_input(h: usize, w: usize) -> Tensor<4> {
    let data = formula_uniform(fnv1a(&format!("input_{h}x{w}")), 3 * h * w);
    Tensor::from_data(TensorData::new(data, [1, 3, h, w]), &device())
}

/// The official state dict's `(key, PyTorch shape)` listing stored in the fixture.
fn official_listing(io: &Arrays) -> Vec<(String, Vec<usize>)> {
    serde_json::from_str(&io.metadata["state_dict"]).expect("state_dict metadata")
}

#[test]
fn formula_weights_match_the_fixture_script() {
    let io = read_arrays(&official_fixture());
    let listing = official_listing(&io);
    let mut checked = 0;
    for (name, (_, want)) in &io.tensors {
        let Some(key) = name.strip_prefix("formula.") else {
            continue;
        };
        let have = if key == "input_16x16" {
            values(formula_input(16, 16))
        } else {
            let shape = &listing.iter().find(|(k, _)| k == key).expect(key).1;
            formula_tensor(key, shape)
        };
        assert_eq!(&have[..want.len()], &want[..], "{key}");
        checked += 1;
    }
    assert_eq!(checked, 8);
}

/// The official network's outputs on formula weights (written by
/// `tools/ka_net_official_fixture.py`; see the module docs) against ours: the whole network at
/// full width, at 128×96, 144×112 (not a multiple of 32) and 256×256, where every attention has
/// more than one key/value token.
#[test]
fn parity_with_the_official_network() {
    let t0 = Instant::now();
    let io = read_arrays(&official_fixture());
    let listing = official_listing(&io);
    assert_eq!(listing.len(), 481, "official state-dict entries");
    let learnable: usize = listing
        .iter()
        .filter(|(k, _)| !k.contains("running_") && !k.ends_with("num_batches_tracked"))
        .map(|(_, s)| s.iter().product::<usize>())
        .sum();
    assert_eq!(learnable, 55_657_426);
    assert_eq!(io.metadata["parameters"], learnable.to_string());

    // The formula weights (and the fixture's calibrated head) as a bare-key safetensors file,
    // loaded through the official-name loader.
    let owned: Vec<(String, Vec<usize>, Vec<u8>)> = listing
        .iter()
        .filter(|(k, _)| !k.ends_with("num_batches_tracked"))
        .map(|(k, shape)| {
            let data = match io.tensors.get(&format!("weight.{k}")) {
                Some((s, d)) => {
                    assert_eq!(s, shape, "{k}");
                    d.clone()
                }
                None => formula_tensor(k, shape),
            };
            let bytes = data.iter().flat_map(|v| v.to_le_bytes()).collect();
            (k.clone(), shape.clone(), bytes)
        })
        .collect();
    let views: Vec<(String, TensorView)> = owned
        .iter()
        .map(|(k, shape, data)| {
            let view = TensorView::new(Dtype::F32, shape.clone(), data).unwrap();
            (k.clone(), view)
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("formula.safetensors");
    safetensors::serialize_to_file(views, None, &path).unwrap();
    drop(owned);
    let mut model =
        KaNet::load(&path, &KaNetConfig::official(), &device()).unwrap_or_else(|e| panic!("{e}"));
    model.set_rff(io.tensor("rff_w"), io.tensor("rff_b"));
    println!(
        "formula weights built and loaded in {:.1} s",
        t0.elapsed().as_secs_f64()
    );

    let mut worst = 0.0f32;
    let sizes = io.sizes();
    assert_eq!(sizes, ["128x96", "144x112", "256x256"]);
    for size in sizes {
        let (h, w) = size.split_once('x').unwrap();
        let x = formula_input(h.parse().unwrap(), w.parse().unwrap());
        let t = Instant::now();
        let (out, z) = model.forward(x);
        let d_out = max_abs_diff(&values(out), &io.get(&format!("output_{size}")).1);
        let d_z = max_abs_diff(&values(z), &io.get(&format!("z_{size}")).1);
        println!(
            "KA-Net vs official at {size}: max |Δout| = {d_out:.3e}, max |Δz| = {d_z:.3e} \
             (forward {:.1} s)",
            t.elapsed().as_secs_f64()
        );
        assert!(
            d_out <= TOLERANCE && d_z <= TOLERANCE,
            "{size}: max |Δout| = {d_out:e}, max |Δz| = {d_z:e} exceed {TOLERANCE:e}"
        );
        worst = worst.max(d_out).max(d_z);
    }
    println!(
        "official parity: worst max |Δ| = {worst:.3e}, {:.1} s in all",
        t0.elapsed().as_secs_f64()
    );
}
