//! End-to-end tests of `dehaze metrics` and `dehaze eval` on small images made here.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn dehaze(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dehaze"))
        .args(args)
        .output()
        .expect("the dehaze binary runs")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

/// A clear scene (`seed` varies it): smooth colour gradients, a few blocks and a fine texture,
/// so that every metric has structure to work on. At least 96×96, NIQE's minimum.
fn scene(w: u32, h: u32, seed: u32) -> image::RgbImage {
    image::RgbImage::from_fn(w, h, |x, y| {
        let fx = x as f32 / w as f32;
        let fy = y as f32 / h as f32;
        let block = ((x / 16 + y / 16 + seed) % 3) as f32 * 0.12;
        let texture = (((x * 7 + y * 13 + seed * 31) % 17) as f32 / 17.0 - 0.5) * 0.15;
        let r = 0.15 + 0.6 * fx + block + texture;
        let g = 0.2 + 0.5 * fy + texture;
        let b = 0.1 + 0.3 * (1.0 - fx) + block * 0.5 - texture;
        image::Rgb([r, g, b].map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8))
    })
}

/// Koschmieder haze on `clear`: `I = J·t + A·(1 − t)`, with `t` falling from bottom (near) to
/// top (far), airlight `A` a light grey.
fn hazed(clear: &image::RgbImage) -> image::RgbImage {
    let a = [0.88f32, 0.9, 0.92];
    let h = clear.height() as f32;
    image::RgbImage::from_fn(clear.width(), clear.height(), |x, y| {
        let depth = 1.0 - y as f32 / h;
        let t = (-1.6 * depth).exp().max(0.1);
        let p = clear.get_pixel(x, y).0;
        let mut out = [0u8; 3];
        for c in 0..3 {
            let j = p[c] as f32 / 255.0;
            out[c] = ((j * t + a[c] * (1.0 - t)).clamp(0.0, 1.0) * 255.0).round() as u8;
        }
        image::Rgb(out)
    })
}

/// `hazy/` and `clear/` folders with `n` pairs named `img0.png`… (the ground truth of the
/// second pair saved as JPEG, to check pairing by name across extensions).
fn paired_set(root: &Path, n: u32) -> (PathBuf, PathBuf) {
    let hazy = root.join("hazy");
    let clear = root.join("clear");
    std::fs::create_dir_all(&hazy).unwrap();
    std::fs::create_dir_all(&clear).unwrap();
    for i in 0..n {
        let c = scene(112, 100, i);
        hazed(&c).save(hazy.join(format!("img{i}.png"))).unwrap();
        let ext = if i == 1 { "jpg" } else { "png" };
        c.save(clear.join(format!("img{i}.{ext}"))).unwrap();
    }
    (hazy, clear)
}

/// Splits one CSV line into fields (RFC 4180 quoting; no line breaks inside fields here).
fn csv_line(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            (c, _) => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

/// Parses CSV into header and rows, checking every row has a cell per column.
fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut lines = text.lines();
    let header = csv_line(lines.next().expect("a header"));
    let rows: Vec<Vec<String>> = lines.map(csv_line).collect();
    for r in &rows {
        assert_eq!(
            r.len(),
            header.len(),
            "row {r:?} has the wrong number of cells"
        );
    }
    (header, rows)
}

#[test]
fn metrics_prints_a_row_per_image_in_input_order() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (i, name) in ["c.png", "a.png", "b.png"].iter().enumerate() {
        scene(100, 96, i as u32).save(d.join(name)).unwrap();
    }
    std::fs::write(d.join("bad.png"), b"not an image").unwrap();
    // Given order, not name order; a bad file in the middle.
    let out = dehaze(&[
        "metrics",
        s(&d.join("c.png")),
        s(&d.join("bad.png")),
        s(&d.join("a.png")),
        s(&d.join("b.png")),
    ]);
    assert_eq!(out.status.code(), Some(1), "a file failed: exit 1");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.png"),
        "the error names the file: {stderr}"
    );
    let (header, rows) = parse_csv(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(
        header,
        ["path", "fade", "niqe_y", "niqe_gray", "brisque", "entropy"]
    );
    let paths: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        paths,
        [
            s(&d.join("c.png")),
            s(&d.join("a.png")),
            s(&d.join("b.png"))
        ]
    );
    for r in &rows {
        // Entropy is defined on any image; every non-empty cell has 6 decimals.
        assert!(!r[5].is_empty(), "no entropy in {r:?}");
        for c in r[1..].iter().filter(|c| !c.is_empty()) {
            assert!(c.parse::<f64>().is_ok(), "not a number: {c}");
            assert_eq!(c.split('.').nth(1).map(str::len), Some(6), "{c}");
        }
    }
    // Same image, same scores: the folder form gives the rows of a, b, c in name order.
    let folder = dehaze(&["metrics", s(d)]);
    let (_, again) = parse_csv(&String::from_utf8(folder.stdout).unwrap());
    assert_eq!(again.len(), 3, "bad.png fails, the rest is scored");
    assert_eq!(
        again[0][1..],
        rows[1][1..],
        "a.png scored the same both times"
    );
}

#[test]
fn metrics_with_clear_adds_full_reference_columns() {
    let dir = tempfile::tempdir().unwrap();
    let (hazy, clear) = paired_set(dir.path(), 2);
    // An image without ground truth: empty full-reference cells and a warning, not a failure.
    scene(100, 96, 9).save(hazy.join("lonely.png")).unwrap();
    let out = dehaze(&["metrics", s(&hazy), "--clear", s(&clear)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("lonely.png"), "{stderr}");
    let (header, rows) = parse_csv(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(
        header[6..],
        [
            "psnr_rgb",
            "ssim_rgb_gauss",
            "ssim_rgb_uniform",
            "psnr_y",
            "ssim_y"
        ]
    );
    assert_eq!(rows.len(), 3);
    let by_name: HashMap<&str, &Vec<String>> = rows
        .iter()
        .map(|r| (Path::new(&r[0]).file_name().unwrap().to_str().unwrap(), r))
        .collect();
    // img1's ground truth is img1.jpg: paired by name across extensions.
    for name in ["img0.png", "img1.png"] {
        let psnr: f64 = by_name[name][6]
            .parse()
            .expect("a PSNR against the ground truth");
        assert!((3.0..40.0).contains(&psnr), "{name}: PSNR {psnr}");
    }
    assert!(by_name["lonely.png"][6..].iter().all(String::is_empty));
}

/// Means of a column of `results.csv` for one method: (mean, count).
fn csv_mean(rows: &[Vec<String>], method_col: usize, method: &str, col: usize) -> (f64, usize) {
    let values: Vec<f64> = rows
        .iter()
        .filter(|r| r[method_col] == method)
        .filter_map(|r| r[col].parse().ok())
        .collect();
    let n = values.len();
    (values.iter().sum::<f64>() / n.max(1) as f64, n)
}

#[test]
fn eval_writes_csv_summaries_report_and_images() {
    let dir = tempfile::tempdir().unwrap();
    let (hazy, clear) = paired_set(dir.path(), 3);
    let out_dir = dir.path().join("report");
    let out = dehaze(&[
        "eval",
        "--method",
        "dcp",
        "--hazy",
        s(&hazy),
        "--clear",
        s(&clear),
        "--out",
        s(&out_dir),
        "--jobs",
        "2",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // The Markdown summary is also printed.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("| dcp |"), "{stdout}");

    for f in ["results.csv", "summary.md", "summary.json", "report.html"] {
        assert!(out_dir.join(f).is_file(), "{f} missing");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(out_dir.join(f))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(
                mode & 0o044,
                0o044,
                "{f} is not readable by others: {mode:o}"
            );
        }
    }
    for i in 0..3 {
        let saved = image::open(out_dir.join(format!("dcp/img{i}.png"))).unwrap();
        assert_eq!((saved.width(), saved.height()), (112, 100));
    }
    let leftovers: Vec<_> = std::fs::read_dir(&out_dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left behind");

    let csv = std::fs::read_to_string(out_dir.join("results.csv")).unwrap();
    let (header, rows) = parse_csv(&csv);
    assert_eq!(header[..3], ["path", "method", "seconds"]);
    assert_eq!(header.last().unwrap(), "error");
    // 3 images × {input, dcp, clear}.
    assert_eq!(rows.len(), 9);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    for r in &rows {
        assert_eq!(r[col("error")], "", "row {r:?} has an error");
        match r[1].as_str() {
            "dcp" => assert!(r[2].parse::<f64>().unwrap() >= 0.0),
            "input" | "clear" => assert_eq!(r[2], ""),
            other => panic!("unexpected variant {other}"),
        }
    }

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(json["images"], 3);
    assert_eq!(json["paired"], 3);
    assert_eq!(json["methods"], serde_json::json!(["dcp"]));
    let variants = json["variants"].as_array().unwrap();
    let names: Vec<&str> = variants
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["input", "dcp", "clear"]);
    for v in variants {
        let name = v["name"].as_str().unwrap();
        assert_eq!(v["images"], 3);
        assert_eq!(v["failed"], 0);
        for metric in header[3..header.len() - 1].iter() {
            let (mean, n) = csv_mean(&rows, 1, name, col(metric));
            assert_eq!(v["count"][metric], n, "{name} {metric}");
            if n > 0 {
                let j = v["mean"][metric].as_f64().unwrap();
                assert!((j - mean).abs() < 1e-5, "{name} {metric}: {j} vs {mean}");
            } else {
                assert!(v["mean"][metric].is_null());
            }
        }
    }
    // Every image has ground truth: PSNR is there for the input and the output, not for the
    // ground truth itself.
    assert_eq!(variants[0]["count"]["psnr_rgb"], 3);
    assert_eq!(variants[1]["count"]["psnr_rgb"], 3);
    assert_eq!(variants[2]["count"]["psnr_rgb"], 0);
    let (secs, n) = csv_mean(&rows, 1, "dcp", 2);
    assert_eq!(n, 3);
    assert!((variants[1]["mean_seconds"].as_f64().unwrap() - secs).abs() < 1e-5);

    let md = std::fs::read_to_string(out_dir.join("summary.md")).unwrap();
    assert!(md.contains("| input |") && md.contains("| clear |"));

    let html = std::fs::read_to_string(out_dir.join("report.html")).unwrap();
    assert_eq!(html.matches("class=\"cmp\"").count(), 3);
    // input, dcp, clear: three embedded images per comparison.
    assert_eq!(html.matches("src=\"data:image/jpeg;base64,").count(), 9);
}

#[test]
fn eval_goes_on_past_a_bad_image_and_can_skip_saving() {
    let dir = tempfile::tempdir().unwrap();
    let hazy = dir.path().join("hazy");
    std::fs::create_dir(&hazy).unwrap();
    hazed(&scene(100, 96, 1)).save(hazy.join("a.png")).unwrap();
    std::fs::write(hazy.join("b.png"), b"truncated").unwrap();
    hazed(&scene(100, 96, 2)).save(hazy.join("c.png")).unwrap();
    let out_dir = dir.path().join("out");
    let out = dehaze(&[
        "eval",
        "--hazy",
        s(&hazy),
        "--out",
        s(&out_dir),
        "--no-save-images",
        "--limit",
        "2",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("b.png"));
    assert!(
        !out_dir.join("dcp").exists(),
        "--no-save-images saved images"
    );
    let (header, rows) = parse_csv(&std::fs::read_to_string(out_dir.join("results.csv")).unwrap());
    // --limit 2: a.png (input, dcp) and b.png (one row with its error); c.png not evaluated.
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows[2][0].ends_with("b.png"));
    assert!(
        !rows[2][header.len() - 1].is_empty(),
        "b.png's row has no error"
    );
    assert!(!header.contains(&"clear".to_string()));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(json["unreadable"], 1);
    assert_eq!(json["paired"], 0);
    let html = std::fs::read_to_string(out_dir.join("report.html")).unwrap();
    assert_eq!(html.matches("class=\"cmp\"").count(), 1);
    assert!(html.contains("Not evaluated"));
}

/// The command line reads and quantises as the reference pipeline does: on a PNG pair of the
/// shared data, its CSV agrees with `shared/reference/metrics_reference.csv`. (The metrics'
/// own accuracy is tested in dehaze-core; this checks the path from file to CSV cell.)
#[test]
fn metrics_cli_agrees_with_the_reference_values() {
    let shared = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared"));
    let reference = shared.join("reference/metrics_reference.csv");
    let hazy = shared.join("data/paired/Dense-HAZE/hazy/05.png");
    if !reference.is_file() || !hazy.is_file() {
        dehaze_core::testing::missing(&format!("shared/ reference data at {}", shared.display()));
        return;
    }
    let (ref_header, ref_rows) = parse_csv(&std::fs::read_to_string(&reference).unwrap());
    let expected = ref_rows
        .iter()
        .find(|r| r[0] == "data/paired/Dense-HAZE/hazy/05.png")
        .expect("the reference has this image");
    let clear = shared.join("data/paired/Dense-HAZE/clear");
    let out = dehaze(&["metrics", s(&hazy), "--clear", s(&clear)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (header, rows) = parse_csv(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(rows.len(), 1);
    for (i, name) in header.iter().enumerate().skip(1) {
        let j = ref_header.iter().position(|h| h == name).unwrap();
        let got: f64 = rows[0][i]
            .parse()
            .unwrap_or_else(|_| panic!("{name}: no value"));
        let want: f64 = expected[j].parse().unwrap();
        assert!(
            (got - want).abs() <= 1e-3 * want.abs().max(1.0),
            "{name}: {got} vs reference {want}"
        );
    }
}
