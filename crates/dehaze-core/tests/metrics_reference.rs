//! Checks the quality metrics against the values of the published Python implementations
//! (`shared/reference/metrics_reference.csv`, see `shared/reference/README.md`).
//!
//! Each row's image is decoded by `io::read_image` and the SHA-256 of its RGB bytes must equal
//! `decoded_rgb_sha256` (the pixels of OpenCV/Pillow, i.e. libjpeg-turbo for the 63 JPEG rows):
//! a row whose pixels differ is a failure, so this also proves the default build's JPEG decoder
//! is libjpeg-turbo-identical. Tolerances (|ours − reference|): PSNR 1e-4 dB,
//! SSIM 1e-4, entropy 1e-5, FADE 1e-3 relative, NIQE 1e-2, BRISQUE 0.05.
//!
//! `reference_all_rows` scores every row, in the default suite. The test data is not part of
//! the repository; without it the test prints a note and passes.

use dehaze_core::metrics::{self, NiqeLuma, Rgb8};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared");

struct Row {
    path: String,
    cols: BTreeMap<String, String>,
}

fn load_rows() -> Option<Vec<Row>> {
    let csv = Path::new(SHARED).join("reference/metrics_reference.csv");
    let text = match std::fs::read_to_string(&csv) {
        Ok(t) => t,
        Err(_) => {
            dehaze_core::testing::missing(&csv.display().to_string());
            return None;
        }
    };
    let mut lines = text.lines();
    let header: Vec<String> = lines.next()?.split(',').map(str::to_owned).collect();
    Some(
        lines
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let cols: BTreeMap<String, String> = header
                    .iter()
                    .cloned()
                    .zip(l.split(',').map(str::to_owned))
                    .collect();
                Row {
                    path: cols["path"].clone(),
                    cols,
                }
            })
            .collect(),
    )
}

fn is_jpeg(path: &Path) -> bool {
    matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("jpg" | "jpeg")
    )
}

/// Decodes to RGB8 through the tool's own reader, `io::read_image` (JPEG: libjpeg-turbo's
/// decoder, `dehaze_core::jpeg`; alpha dropped without compositing, like the references). Its
/// `f32` samples are `u8 / 255`, so rounding `· 255` gives the decoded bytes back exactly.
fn decode(path: &Path) -> Rgb8 {
    let img = dehaze_core::io::read_image(path, &Default::default())
        .unwrap_or_else(|e| panic!("{e}"))
        .rgb;
    let (w, h) = (img.width(), img.height());
    let [r, g, b] = img.planes();
    let q = |v: f32| (v * 255.0).round() as u8;
    let data = (0..w * h)
        .flat_map(|i| [q(r[i]), q(g[i]), q(b[i])])
        .collect();
    Rgb8::new(w, h, data).expect("buffer size")
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// (column, tolerance, relative?)
const METRICS: [(&str, f64, bool); 10] = [
    ("fade", 1e-3, true),
    ("niqe_y", 1e-2, false),
    ("niqe_gray", 1e-2, false),
    ("brisque", 0.05, false),
    ("entropy", 1e-5, false),
    ("psnr_rgb", 1e-4, false),
    ("ssim_rgb_gauss", 1e-4, false),
    ("ssim_rgb_uniform", 1e-4, false),
    ("psnr_y", 1e-4, false),
    ("ssim_y", 1e-4, false),
];

fn run(step: usize) {
    let Some(rows) = load_rows() else { return };
    let shared = PathBuf::from(SHARED);
    let mut max_diff: BTreeMap<&str, (f64, String)> = BTreeMap::new();
    let mut compared = BTreeMap::<&str, usize>::new();
    let mut failures = Vec::new();
    let (mut scored, mut jpeg_rows, mut excluded_other) = (0, 0, 0);
    let selected: Vec<&Row> = rows.iter().step_by(step).collect();
    for row in &selected {
        let path = shared.join(&row.path);
        if !path.exists() {
            eprintln!("NOTE: {} missing; skipping the row", path.display());
            excluded_other += 1;
            continue;
        }
        let img = decode(&path);
        if sha256_hex(img.data()) != row.cols["decoded_rgb_sha256"] {
            failures.push(format!(
                "{}: decoded pixels differ from the reference decoder's",
                row.path
            ));
            continue;
        }
        if is_jpeg(&path) {
            jpeg_rows += 1;
        }
        scored += 1;
        let mut ours: BTreeMap<&str, Result<f64, metrics::MetricError>> = BTreeMap::new();
        ours.insert("fade", metrics::fade(&img));
        ours.insert("niqe_y", metrics::niqe(&img, NiqeLuma::Y));
        ours.insert("niqe_gray", metrics::niqe(&img, NiqeLuma::Gray));
        ours.insert("brisque", metrics::brisque(&img));
        ours.insert("entropy", metrics::entropy(&img));
        let ref_path = &row.cols["ref_path"];
        if !ref_path.is_empty() {
            let reference = decode(&shared.join(ref_path));
            let fr = metrics::full_reference(&img, &reference);
            let get = |f: fn(&metrics::FullReferenceScores) -> f64| fr.clone().map(|s| f(&s));
            ours.insert("psnr_rgb", get(|s| s.psnr_rgb));
            ours.insert("ssim_rgb_gauss", get(|s| s.ssim_rgb_gauss));
            ours.insert("ssim_rgb_uniform", get(|s| s.ssim_rgb_uniform));
            ours.insert("psnr_y", get(|s| s.psnr_y));
            ours.insert("ssim_y", get(|s| s.ssim_y));
        }
        for (name, tol, relative) in METRICS {
            let expected = &row.cols[name];
            if expected.is_empty() {
                continue;
            }
            let expected: f64 = expected.parse().expect("number");
            let Some(value) = ours.get(name) else {
                failures.push(format!("{}: {name} not computed", row.path));
                continue;
            };
            let value = match value {
                Ok(v) => *v,
                Err(e) => {
                    failures.push(format!("{}: {name}: {e}", row.path));
                    continue;
                }
            };
            let diff = (value - expected).abs();
            let scaled = if relative {
                diff / expected.abs().max(1e-12)
            } else {
                diff
            };
            *compared.entry(name).or_default() += 1;
            let entry = max_diff.entry(name).or_insert((0.0, String::new()));
            if scaled > entry.0 || entry.1.is_empty() {
                *entry = (scaled, row.path.clone());
            }
            if scaled > tol {
                failures.push(format!(
                    "{}: {name} = {value:.6} vs reference {expected:.6} (diff {scaled:.3e}{}, tolerance {tol:e})",
                    row.path,
                    if relative { " relative" } else { "" }
                ));
            }
        }
    }
    println!(
        "reference rows selected: {}, scored: {scored} (JPEG: {jpeg_rows}), excluded (file missing): {excluded_other}",
        selected.len()
    );
    println!(
        "{:<17} {:>5} {:>12} {:>10}  worst row",
        "metric", "rows", "max |diff|", "tolerance"
    );
    for (name, tol, relative) in METRICS {
        let (d, p) = max_diff.get(name).cloned().unwrap_or_default();
        println!(
            "{name:<17} {:>5} {d:>12.3e} {:>10}  {p}",
            compared.get(name).copied().unwrap_or(0),
            format!("{tol:e}{}", if relative { " rel" } else { "" })
        );
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// All 123 rows (about 45 s of CPU in the test profile; the default suite runs it, so every
/// build proves its JPEG decoder libjpeg-turbo-identical).
#[test]
fn reference_all_rows() {
    run(1);
}
