//! The network methods from the command line: refusals without usable weights, flag checks,
//! and `dehaze methods`.

use image::{DynamicImage, ImageBuffer};
use std::path::Path;

mod common;
use common::{dehaze, stderr};

/// A folder with one small picture, `in.png`.
fn with_picture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let img = ImageBuffer::from_fn(24, 20, |x, y| {
        image::Rgb([(x * 9) as u8, (y * 11) as u8, 180])
    });
    DynamicImage::ImageRgb8(img)
        .save(dir.path().join("in.png"))
        .unwrap();
    dir
}

/// No output (`in_dehazed.png`, maps) was written.
fn no_output(d: &Path) {
    let outputs: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("in_"))
        .collect();
    assert!(outputs.is_empty(), "outputs were written: {outputs:?}");
}

/// Runs `method` on in.png without `--weights`, checks it is refused as a usage error (exit 2)
/// that names `--weights FILE`, and returns the message.
fn refused_without_weights(method: &str, d: &Path) -> String {
    let out = dehaze(&["in.png", "-m", method], d);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{method}: {err}");
    assert!(err.contains("--weights FILE"), "{method}: {err}");
    err
}

#[test]
fn networks_without_weights_are_refused_with_how_to_get_them() {
    let dir = with_picture();
    let d = dir.path();
    let err = refused_without_weights("ka-net", d);
    assert!(err.contains("ka-net"), "{err}");
    assert!(err.contains("official checkpoint"), "{err}");
    assert!(
        err.contains("random"),
        "should say it never runs random weights: {err}"
    );

    // dhr-s and ka-net-s have weights built in (models/); dhr-b has none.
    let err = refused_without_weights("dhr-b", d);
    assert!(
        err.contains("dehaze train --config configs/dhr-b.toml"),
        "{err}"
    );
    no_output(d);
}

#[test]
fn unusable_weights_files_are_named_with_the_reason() {
    let dir = with_picture();
    let d = dir.path();
    std::fs::write(d.join("junk.pth"), b"this is not a checkpoint at all").unwrap();
    std::fs::write(d.join("empty.safetensors"), b"").unwrap();
    // A truncated safetensors file: header length far beyond the file.
    let mut cut = 1_000_000u64.to_le_bytes().to_vec();
    cut.extend_from_slice(b"{\"a\":");
    std::fs::write(d.join("cut.safetensors"), &cut).unwrap();
    for (method, file, reason) in [
        ("ka-net", "junk.pth", "not a weights file"),
        ("dhr-s", "empty.safetensors", "file is empty"),
        ("dhr-s", "cut.safetensors", "not a weights file"),
        ("dhr-b", "missing.safetensors", "cannot open"),
        // A picture given as weights.
        ("ka-net", "in.png", "not a weights file"),
    ] {
        let out = dehaze(&["in.png", "-m", method, "--weights", file], d);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{method} {file}: {err}");
        assert!(
            err.contains(file) && err.contains(reason),
            "{method} {file}: {err}"
        );
        assert!(!err.contains("bug"), "a refusal, not a crash: {err}");
    }
    no_output(d);
}

#[test]
fn flags_that_do_not_fit_the_method_are_usage_errors() {
    let dir = with_picture();
    let d = dir.path();
    std::fs::write(d.join("w.safetensors"), b"x").unwrap();
    for (args, says) in [
        (vec!["-m", "dcp", "--weights", "w.safetensors"], "--weights"),
        (vec!["-m", "cap", "--save-importance"], "--save-importance"),
        (
            vec!["-m", "ka-net", "--save-importance"],
            "--save-importance",
        ),
        (
            vec!["-m", "dhr-s", "--save-transmission"],
            "--save-transmission",
        ),
        (vec!["-m", "dhr-s", "--max-memory", "lots"], "lots"),
        (vec!["-m", "dhr-s", "--device", "tpu"], "tpu"),
    ] {
        let mut all = vec!["in.png"];
        all.extend(&args);
        let out = dehaze(&all, d);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    no_output(d);
}

/// Default builds have no GPU backend: asking for one names the cargo feature.
#[cfg(not(feature = "cuda"))]
#[test]
fn gpu_device_without_the_feature_names_it() {
    let dir = with_picture();
    let out = dehaze(&["in.png", "-m", "dhr-s", "--device", "cuda"], dir.path());
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--features cuda"), "{err}");
}

/// `dehaze methods` builds each network once to count its learnable parameters.
#[test]
fn methods_lists_networks_with_exact_parameter_counts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dehaze(&["methods"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let row = |name: &str| {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no row for {name}:\n{text}"))
            .to_string()
    };
    for prior in ["dcp", "cap", "bccr"] {
        assert!(row(prior).contains("none needed"), "{text}");
    }
    let count = |name: &str| -> usize {
        row(name)
            .split_whitespace()
            .nth(1)
            .unwrap()
            .replace(',', "")
            .parse()
            .unwrap()
    };
    assert_eq!(count("ka-net"), 55_657_426, "{text}");
    assert_eq!(count("ka-net-s"), 3_541_378, "{text}");
    let networks: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with("ka-net") || n.starts_with("dhr"))
        .collect();
    assert_eq!(networks, ["ka-net", "ka-net-s", "dhr-s", "dhr-b"], "{text}");
    let (s, b) = (count("dhr-s"), count("dhr-b"));
    assert!(s > 0 && s <= 1_000_000, "dhr-s: {s}");
    assert!((5_000_000..=15_000_000).contains(&b), "dhr-b: {b}");
    assert!(row("ka-net").contains("--weights FILE"), "{text}");
    assert!(row("ka-net-s").contains("bundled"), "{text}");
    assert!(row("dhr-s").contains("bundled"), "{text}");
    assert!(row("dhr-b").contains("--weights FILE"), "{text}");
}

/// dhr-s and ka-net-s run without `--weights`, on a 24×20 picture (below KA-Net's 48 px
/// minimum side, so ka-net-s's input is padded up to it).
#[test]
fn bundled_networks_run_without_weights() {
    let dir = with_picture();
    let d = dir.path();
    for method in ["dhr-s", "ka-net-s"] {
        let name = format!("{method}.png");
        let out = dehaze(&["in.png", "-m", method, "-o", &name], d);
        assert!(out.status.success(), "{method}: {}", stderr(&out));
        let img = image::open(d.join(&name)).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (24, 20), "{method}");
    }
}

#[test]
fn a_budget_too_small_for_any_tile_names_the_file_and_the_flag() {
    let dir = with_picture();
    let d = dir.path();
    let out = dehaze(&["in.png", "-m", "dhr-s", "--max-memory", "1M"], d);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("in.png")
            && err.contains("above the limit of 1.0 MiB")
            && err.contains("--max-memory"),
        "{err}"
    );
    no_output(d);
}

/// DHR weights as `dehaze train` writes them (seeded, untrained: enough for the plumbing).
fn dhr_weights(dir: &Path) {
    use dehaze_nn::dhr::{Dhr, DhrConfig};
    let cpu = dehaze_nn::device::cpu();
    Dhr::new_seeded(&DhrConfig::small(), &cpu, 1)
        .save(&dir.join("w.safetensors"))
        .unwrap();
}

#[test]
fn dhr_with_weights_dehazes_and_writes_its_importance() {
    let dir = with_picture();
    let d = dir.path();
    dhr_weights(d);
    let out = dehaze(
        &[
            "in.png",
            "-m",
            "dhr-s",
            "--weights",
            "w.safetensors",
            "-o",
            "out.png",
            "--save-importance",
        ],
        d,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    for f in ["out.png", "out_importance.png"] {
        let img = image::open(d.join(f)).unwrap();
        assert_eq!((img.width(), img.height()), (24, 20), "{f}");
    }
}

#[test]
fn eval_scores_a_network_beside_the_priors() {
    let dir = with_picture();
    let d = dir.path();
    dhr_weights(d);
    let out = dehaze(
        &[
            "eval",
            "-m",
            "dcp",
            "-m",
            "dhr-s",
            "--weights",
            "w.safetensors",
            "--hazy",
            "in.png",
            "-o",
            "rep",
        ],
        d,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = std::fs::read_to_string(d.join("rep/summary.md")).unwrap();
    assert!(summary.contains("| dhr-s |"), "{summary}");
    assert!(d.join("rep/dhr-s/in.png").is_file());
    // Two networks in one run, or weights without a network, are usage errors.
    for args in [
        vec!["-m", "dhr-s", "-m", "dhr-b", "--weights", "w.safetensors"],
        vec!["-m", "dcp", "--weights", "w.safetensors"],
    ] {
        let mut all = vec!["eval", "--hazy", "in.png", "-o", "rep2"];
        all.extend(args);
        let out = dehaze(&all, d);
        assert_eq!(out.status.code(), Some(2), "{all:?}: {}", stderr(&out));
    }
}

/// A 64×48 picture (KA-Net's sides must be at least 48) and a seeded, untrained KA-Net-S as
/// `dehaze train` saves it (enough for the plumbing), `ka-net-s.safetensors`.
fn with_ka_net_s(dir: &Path) {
    use dehaze_nn::ka_net::{KaNet, KaNetConfig};
    let img = ImageBuffer::from_fn(64, 48, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 5) as u8, 200 - (x + y) as u8])
    });
    DynamicImage::ImageRgb8(img)
        .save(dir.join("in64.png"))
        .unwrap();
    KaNet::new_seeded(&KaNetConfig::small(), &dehaze_nn::device::cpu(), 3)
        .save(&dir.join("ka-net-s.safetensors"))
        .unwrap();
}

#[test]
fn ka_net_s_with_weights_dehazes_and_is_evaluated() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    with_ka_net_s(d);
    let weights = ["--weights", "ka-net-s.safetensors"];
    let mut args = vec!["in64.png", "-m", "ka-net-s", "-o", "out.png", "-v"];
    args.extend(weights);
    let out = dehaze(&args, d);
    assert!(out.status.success(), "{}", stderr(&out));
    let img = image::open(d.join("out.png")).unwrap();
    assert_eq!((img.width(), img.height()), (64, 48));

    let mut args = vec!["eval", "-m", "dcp", "-m", "ka-net-s", "--hazy", "in64.png"];
    args.extend(weights);
    args.extend(["-o", "rep"]);
    let out = dehaze(&args, d);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = std::fs::read_to_string(d.join("rep/summary.md")).unwrap();
    assert!(summary.contains("| ka-net-s |"), "{summary}");
    assert!(d.join("rep/ka-net-s/in64.png").is_file());
}

#[test]
fn ka_net_weights_of_other_widths_are_refused_naming_the_file_and_widths() {
    let dir = with_picture();
    let d = dir.path();
    with_ka_net_s(d);
    dhr_weights(d);
    for (method, file, says) in [
        // Needs the official widths: refused before the 55.7 M parameters are allocated.
        (
            "ka-net",
            "ka-net-s.safetensors",
            "holds KA-Net widths [16, 32, 80, 128] (as its metadata records), but ka-net has \
             widths [64, 128, 320, 512] (they are ka-net-s weights: use --method ka-net-s)",
        ),
        ("ka-net-s", "w.safetensors", "holds a `dhr` model"),
        ("ka-net-s", "w.safetensors", "[16, 32, 80, 128]"),
    ] {
        let out = dehaze(&["in.png", "-m", method, "--weights", file], d);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{method} {file}: {err}");
        assert!(
            err.contains(file) && err.contains(says),
            "{method} {file}: {err}"
        );
    }
    no_output(d);
}
