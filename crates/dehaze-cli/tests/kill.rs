//! Kill anywhere, lose nothing: `kill -9` the `dehaze` binary at seeded random moments and
//! check that
//!
//! * a batch (`dehaze IN -o OUT/`) never leaves a partial or corrupt file under a final name
//!   (every output present is byte-identical to the uninterrupted run's; only hidden
//!   `.dehaze-*.tmp` temporaries may be left), never touches its inputs, and a rerun completes
//!   it exactly;
//! * `dehaze train`, killed at random iterations and while a checkpoint is being written,
//!   then `--resume`d (started afresh if no checkpoint was written yet), ends with weights
//!   bit-identical to an uninterrupted run;
//! * `dehaze train-ahg` (no resume: it restarts) never leaves a truncated weights file and its
//!   rerun gives the uninterrupted run's weights bit for bit.
//!
//! Each test also asserts that some kill landed mid-work, so a change that made the runs too
//! fast to interrupt could not pass vacuously. Unix only (SIGKILL).
#![cfg(unix)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{dehaze, stderr};

/// splitmix64: the kill moments, reproducible from the seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// A duration uniform in `[0, max)`.
    fn below(&mut self, max: Duration) -> Duration {
        let ns = max.as_nanos().max(1) as u64;
        Duration::from_nanos(self.next() % ns)
    }
}

fn spawn(args: &[&str], cwd: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_dehaze"))
        .args(args)
        .current_dir(cwd)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn dehaze")
}

/// Waits until `until` says so (polled every millisecond) or the child exits; then SIGKILLs
/// it if it still runs. Returns whether it was killed (rather than having finished).
fn kill_when(mut child: Child, mut until: impl FnMut() -> bool) -> bool {
    loop {
        if child.try_wait().expect("wait").is_some() {
            return false;
        }
        if until() {
            // `Child::kill` is SIGKILL on Unix: no handler, no cleanup, as `kill -9`.
            let _ = child.kill();
            let _ = child.wait();
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn kill_after(child: Child, delay: Duration) -> bool {
    let t0 = Instant::now();
    kill_when(child, || t0.elapsed() >= delay)
}

/// Regular files of `dir` (not recursive) by name.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    rd.map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect()
}

fn is_temporary(name: &str) -> bool {
    name.starts_with(".dehaze-") && name.ends_with(".tmp")
}

/// `snapshot` without the atomic writer's temporaries.
fn finals(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut s = snapshot(dir);
    s.retain(|name, _| !is_temporary(name));
    s
}

fn timed(args: &[&str], cwd: &Path) -> Duration {
    let t0 = Instant::now();
    let o = dehaze(args, cwd);
    assert!(
        o.status.code().is_some_and(|c| c <= 1),
        "dehaze {args:?}: {}",
        stderr(&o)
    );
    t0.elapsed()
}

#[test]
fn killed_batch_never_leaves_partial_outputs_and_reruns_to_completion() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let input = d.join("in");
    std::fs::create_dir(&input).unwrap();
    for i in 0..16u32 {
        let img = image::RgbImage::from_fn(320, 240, |x, y| {
            image::Rgb([
                ((x * 3 + i * 17) % 256) as u8,
                ((y * 2 + x) % 256) as u8,
                (150 + (x ^ y) % 100) as u8,
            ])
        });
        let ext = ["png", "jpg", "tif", "webp"][i as usize % 4];
        img.save(input.join(format!("{i:02}.{ext}"))).unwrap();
    }
    // A bad file: the batch reports it and goes on.
    std::fs::write(input.join("bad.png"), b"not a png").unwrap();
    let inputs_before = snapshot(&input);

    let full = timed(&["in", "-o", "ref/", "-j", "2"], d);
    let reference = finals(&d.join("ref"));
    assert_eq!(reference.len(), 16, "{:?}", reference.keys());

    let mut mid_batch = 0;
    for seed in 1..=6u64 {
        let out = format!("out{seed}/");
        let delay = Rng(seed).below(full);
        let killed = kill_after(spawn(&["in", "-o", &out, "-j", "2"], d), delay);
        let left = snapshot(&d.join(&out));
        let complete = left.keys().filter(|n| !is_temporary(n)).count();
        println!("seed {seed}: killed {killed} after {delay:?} of {full:?}: {complete} outputs complete, {} temporaries", left.len() - complete);
        for (name, bytes) in &left {
            if is_temporary(name) {
                continue;
            }
            assert!(
                reference.get(name) == Some(bytes),
                "seed {seed}: {name} is partial or differs from the uninterrupted run's"
            );
        }
        if killed && complete < reference.len() {
            mid_batch += 1;
        }
        assert_eq!(
            snapshot(&input),
            inputs_before,
            "seed {seed}: inputs changed"
        );
        timed(&["in", "-o", &out, "-j", "2"], d);
        assert_eq!(
            finals(&d.join(&out)),
            reference,
            "seed {seed}: rerun incomplete"
        );
        assert_eq!(
            snapshot(&input),
            inputs_before,
            "seed {seed}: inputs changed"
        );
    }
    assert!(
        mid_batch >= 2,
        "only {mid_batch} of 6 kills landed mid-batch"
    );
}

/// A tiny DHR-S run: 12 iterations, a checkpoint every 2.
fn train_config(out: &str) -> String {
    format!(
        r#"
[model]
name = "dhr-s"
width = 4
[data]
pairs = ["pairs"]
synthetic_fraction = 0.0
crop = 32
[train]
iterations = 12
batch = 2
threads = 2
[validation]
fraction = 0.25
crop = 32
[checkpoint]
interval = 2
[output]
dir = "{out}"
"#
    )
}

/// A safetensors file's content: its header as parsed JSON (the metadata map is serialised in
/// hash order, which differs between processes) and its tensor bytes.
fn weights_content(bytes: &[u8]) -> (serde_json::Value, Vec<u8>) {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = serde_json::from_slice(&bytes[8..8 + n]).expect("safetensors header");
    (header, bytes[8 + n..].to_vec())
}

/// Completes the run of `config`: nothing when its final weights exist (the kill came too late:
/// they are written, atomically, only after the last iteration), `--resume` when a checkpoint
/// exists, else from the start.
fn finish_training(d: &Path, config: &str, run: &Path) {
    if run.join("dhr.safetensors").is_file() {
        return;
    }
    let mut args = vec!["train", "--config", config];
    if run.join("checkpoints").join("latest").is_file() {
        args.push("--resume");
    }
    let o = dehaze(&args, d);
    assert!(o.status.success(), "dehaze {args:?}: {}", stderr(&o));
}

#[test]
fn killed_training_resumes_to_bit_identical_weights() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    common::pairs(d, 4, "_x");
    std::fs::write(d.join("ref.toml"), train_config("run-ref")).unwrap();
    let t0 = Instant::now();
    finish_training(d, "ref.toml", &d.join("run-ref"));
    let full = t0.elapsed();
    let reference = weights_content(&std::fs::read(d.join("run-ref/dhr.safetensors")).unwrap());

    let mut interrupted = 0;
    // Seeds 1-4: random moments; 5-6: the moment a checkpoint folder is being written.
    for seed in 1..=6u64 {
        let name = format!("run-{seed}");
        let config = format!("{name}.toml");
        std::fs::write(d.join(&config), train_config(&name)).unwrap();
        let run = d.join(&name);
        let child = spawn(&["train", "--config", &config], d);
        let killed = if seed <= 4 {
            kill_after(child, Rng(seed).below(full))
        } else {
            let ckpt = run.join("checkpoints");
            // Skip the first `seed - 4` checkpoints, then kill while one is partial.
            let mut seen = 0;
            let mut in_partial = false;
            kill_when(child, || {
                let partial = std::fs::read_dir(&ckpt).is_ok_and(|rd| {
                    rd.filter_map(Result::ok)
                        .any(|e| e.file_name().to_string_lossy().starts_with(".partial-"))
                });
                if partial && !in_partial {
                    seen += 1;
                }
                in_partial = partial;
                partial && seen > (seed - 4) as usize
            })
        };
        let latest = std::fs::read_to_string(run.join("checkpoints/latest")).ok();
        println!("seed {seed}: killed {killed}; latest checkpoint {latest:?}");
        if killed {
            interrupted += 1;
        }
        finish_training(d, &config, &run);
        let weights = weights_content(&std::fs::read(run.join("dhr.safetensors")).unwrap());
        assert!(
            weights == reference,
            "seed {seed}: resumed weights differ from the uninterrupted run's"
        );
    }
    assert!(
        interrupted >= 3,
        "only {interrupted} of 6 kills interrupted training"
    );
}

/// The length a safetensors file must have according to its own header, if it parses.
fn safetensors_complete(bytes: &[u8]) -> bool {
    let Some(n) = bytes
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
    else {
        return false;
    };
    let Some(header) = bytes.get(8..8 + n as usize) else {
        return false;
    };
    let Ok(text) = std::str::from_utf8(header) else {
        return false;
    };
    // The largest end offset of any tensor is the data size.
    let end = text
        .split("\"data_offsets\":[")
        .skip(1)
        .filter_map(|s| {
            s.split(']')
                .next()?
                .split(',')
                .nth(1)?
                .trim()
                .parse::<u64>()
                .ok()
        })
        .max()
        .unwrap_or(0);
    bytes.len() as u64 == 8 + n + end
}

#[test]
fn killed_ahg_training_never_leaves_truncated_weights() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    common::pairs(d, 3, "");
    let args = |out: &str| -> Vec<String> {
        [
            "train-ahg",
            "--data",
            "pairs",
            "--out",
            out,
            "--steps",
            "12",
            "--crop",
            "32",
            "--batch",
            "2",
            "--width",
            "4",
            "--levels",
            "2",
            "--critic-width",
            "4",
            "--checkpoint-every",
            "2",
            "--log-every",
            "4",
        ]
        .map(String::from)
        .to_vec()
    };
    let run = |out: &str| {
        let a = args(out);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let o = dehaze(&a, d);
        assert!(o.status.success(), "{}", stderr(&o));
    };
    let t0 = Instant::now();
    run("ref.safetensors");
    let full = t0.elapsed();
    let reference = std::fs::read(d.join("ref.safetensors")).unwrap();
    assert!(safetensors_complete(&reference));

    let mut with_checkpoint = 0;
    for seed in 1..=4u64 {
        let out = format!("ahg-{seed}.safetensors");
        let a = args(&out);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let killed = kill_after(spawn(&a, d), Rng(seed).below(full));
        let left = std::fs::read(d.join(&out)).ok();
        println!(
            "seed {seed}: killed {killed}; weights file present: {}",
            left.is_some()
        );
        if let Some(bytes) = &left {
            assert!(
                safetensors_complete(bytes),
                "seed {seed}: truncated weights file"
            );
            if killed {
                with_checkpoint += 1;
            }
        }
        run(&out);
        assert!(
            weights_content(&std::fs::read(d.join(&out)).unwrap()) == weights_content(&reference),
            "seed {seed}: rerun weights differ from the uninterrupted run's"
        );
    }
    assert!(with_checkpoint >= 1, "no kill landed after a checkpoint");
}
