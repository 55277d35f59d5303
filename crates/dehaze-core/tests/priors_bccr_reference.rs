//! Comparison of our BCCR with the `image_dehazer` Python package (0.0.9). Not run by CI: it
//! needs the files written by `tools/bccr_reference.py`:
//!
//! ```text
//! /work/venv-bccr/bin/python tools/bccr_reference.py /tmp/bccr_ref IMAGE...
//! BCCR_REF_DIR=/tmp/bccr_ref cargo test -p dehaze-core --test priors_bccr_reference \
//!     -- --ignored --nocapture
//! ```
//!
//! For each `NAME.input.png` it prints the airlights and the mean / max absolute differences of
//! the transmission and of the dehazed image (on `[0, 255]`) against the package as shipped
//! (`pkg`) and against the package with its boundary constraint taken over all three channels
//! (`fixed`, which is what we implement).

use dehaze_core::priors::boundary_constraint::BoundaryConstraint;
use dehaze_core::{Dehazer, RgbImage};
use std::path::Path;

fn load_rgb(path: &Path) -> (usize, usize, Vec<u8>) {
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8();
    (img.width() as usize, img.height() as usize, img.into_raw())
}

fn load_f32(path: &Path) -> Vec<f32> {
    std::fs::read(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// Mean and max of `|a − b|`.
fn diff(a: impl Iterator<Item = f64>, b: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut sum, mut max, mut n) = (0.0, 0.0f64, 0usize);
    for (x, y) in a.zip(b) {
        let d = (x - y).abs();
        sum += d;
        max = max.max(d);
        n += 1;
    }
    (sum / n.max(1) as f64, max)
}

#[test]
#[ignore = "needs tools/bccr_reference.py output in BCCR_REF_DIR"]
fn compare_with_image_dehazer() {
    let dir = std::env::var("BCCR_REF_DIR").unwrap_or_else(|_| "/tmp/bccr_ref".into());
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!("skipped: {dir} not found");
        return;
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            Some(name.strip_suffix(".input.png")?.to_owned())
        })
        .collect();
    names.sort();
    let dir = Path::new(&dir);
    let bc = BoundaryConstraint::default();
    for name in names {
        let (w, h, rgb) = load_rgb(&dir.join(format!("{name}.input.png")));
        let samples: Vec<f32> = rgb.iter().map(|&v| v as f32 / 255.0).collect();
        let hazy = RgbImage::from_interleaved(w, h, &samples);

        let start = std::time::Instant::now();
        let out = bc.dehaze(&hazy);
        let secs = start.elapsed().as_secs_f64();
        let t_raw = bc
            .regularize(&hazy, &bc.boundary_transmission(&hazy, out.airlight))
            .into_vec();
        let ours = out.image.to_interleaved();
        let a = out.airlight.map(|v| (v * 255.0).round());
        let a_ref = std::fs::read_to_string(dir.join(format!("{name}.airlight.txt"))).unwrap();
        println!(
            "{name} ({w}x{h}, ours {secs:.2} s): airlight ours {a:?}, package {}",
            a_ref.trim()
        );
        for tag in ["pkg", "fixed"] {
            let t_ref = load_f32(&dir.join(format!("{name}.{tag}_t.f32")));
            assert_eq!(t_ref.len(), w * h);
            let (_, _, j_ref) = load_rgb(&dir.join(format!("{name}.{tag}.png")));
            let (tm, tx) = diff(
                t_raw.iter().map(|&v| v as f64),
                t_ref.iter().map(|&v| v as f64),
            );
            let (jm, jx) = diff(
                ours.iter().map(|&v| v as f64 * 255.0),
                j_ref.iter().map(|&v| v as f64),
            );
            // The package truncates its float result to uint8; do the same before comparing.
            let (fm, fx) = diff(
                ours.iter().map(|&v| (v as f64 * 255.0).floor()),
                j_ref.iter().map(|&v| v as f64),
            );
            let same = ours
                .iter()
                .zip(&j_ref)
                .filter(|(&v, &r)| (v as f64 * 255.0).floor() as u8 == r)
                .count() as f64
                / ours.len() as f64;
            println!(
                "  vs {tag:5}: t mean {tm:.2e} max {tx:.2e} | J(0-255) mean {jm:.3} max {jx:.1} | \
                 floor(J) mean {fm:.3} max {fx:.0}, identical {:.3}%",
                100.0 * same
            );
        }
    }
}
