//! The `dehaze` binary end to end: what a user sees for good and bad input.

use image::{DynamicImage, ImageBuffer};
use std::path::{Path, PathBuf};

mod common;
use common::{dehaze, stderr};

/// A small hazy-looking colour image.
fn hazy_rgb(w: u32, h: u32) -> image::RgbImage {
    ImageBuffer::from_fn(w, h, |x, y| {
        let t = 0.3 + 0.6 * (y as f32 / h as f32);
        let j = [
            (x * 5 % 200) as f32,
            (y * 3 % 180) as f32,
            ((x + y) % 90) as f32,
        ];
        image::Rgb(j.map(|v| (v * t + 220.0 * (1.0 - t)) as u8))
    })
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn batch_with_bad_files_goes_on_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let inp = d.join("in");
    std::fs::create_dir(&inp).unwrap();
    DynamicImage::ImageRgb8(hazy_rgb(40, 30))
        .save(inp.join("good.png"))
        .unwrap();
    std::fs::write(inp.join("empty.png"), b"").unwrap();
    std::fs::write(inp.join("notes.jpg"), b"not an image").unwrap();
    let mut jpeg = std::io::Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(hazy_rgb(64, 64))
        .write_to(&mut jpeg, image::ImageFormat::Jpeg)
        .unwrap();
    let jpeg = jpeg.into_inner();
    std::fs::write(inp.join("cut.jpg"), &jpeg[..jpeg.len() / 2]).unwrap();

    let out = dehaze(&["in", "-o", "out/"], d);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    for bad in ["empty.png", "notes.jpg", "cut.jpg"] {
        let line = err
            .lines()
            .find(|l| l.contains(bad))
            .unwrap_or_else(|| panic!("no error line for {bad}: {err}"));
        assert!(line.starts_with("dehaze: "), "{line}");
    }
    assert!(err.contains("1 of 4 images dehazed, 3 failed"), "{err}");
    // Only the good file has an output; no partial or temporary files.
    assert_eq!(files_in(&d.join("out")), ["good.png"]);
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    DynamicImage::ImageRgb8(hazy_rgb(8, 8))
        .save(d.join("a.png"))
        .unwrap();
    for args in [
        vec![],
        vec!["a.png", "--method", "nope"],
        vec!["a.png", "-o", "out.xyz"],
        vec!["a.png", "--quality", "0"],
    ] {
        let out = dehaze(&args, d);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn missing_input_exits_1_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dehaze(&["nope.png"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("nope.png: no such file"));
}

#[test]
fn an_input_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    DynamicImage::ImageRgb8(hazy_rgb(20, 10))
        .save(d.join("a.png"))
        .unwrap();
    let before = std::fs::read(d.join("a.png")).unwrap();
    for args in [vec!["a.png", "-o", "a.png"], vec!["a.png", "-o", "./"]] {
        let out = dehaze(&args, d);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(stderr(&out).contains("would overwrite an input"));
        assert_eq!(std::fs::read(d.join("a.png")).unwrap(), before);
    }
}

#[test]
fn default_naming_and_transmission() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    DynamicImage::ImageRgb8(hazy_rgb(33, 17))
        .save(d.join("a.png"))
        .unwrap();
    let out = dehaze(&["a.png", "--save-transmission"], d);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        files_in(d),
        ["a.png", "a_dehazed.png", "a_dehazed_transmission.png"]
    );
    let t = image::open(d.join("a_dehazed_transmission.png")).unwrap();
    assert!(t.as_luma8().is_some());
    assert_eq!((t.width(), t.height()), (33, 17));
}

#[test]
fn grey_sixteen_bit_comes_back_grey_sixteen_bit() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let grey: ImageBuffer<image::Luma<u16>, Vec<u16>> = ImageBuffer::from_fn(24, 16, |x, y| {
        image::Luma([(30000 + x * 900 + y * 500) as u16])
    });
    DynamicImage::ImageLuma16(grey)
        .save(d.join("g.png"))
        .unwrap();
    let out = dehaze(&["g.png", "-o", "g_out.tif"], d);
    assert!(out.status.success(), "{}", stderr(&out));
    let img = image::open(d.join("g_out.tif")).unwrap();
    assert!(img.as_luma16().is_some(), "{:?}", img.color());
}

#[test]
fn each_method_runs_on_tiny_and_odd_images() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (w, h) in [(1, 1), (1, 9), (9, 1), (17, 5)] {
        DynamicImage::ImageRgb8(hazy_rgb(w, h))
            .save(d.join(format!("t{w}x{h}.png")))
            .unwrap();
    }
    for method in ["dcp", "cap", "bccr"] {
        let out = dehaze(&["t*.png", "-m", method, "-o", method], d);
        assert!(out.status.success(), "{method}: {}", stderr(&out));
        assert_eq!(files_in(&d.join(method)).len(), 4, "{method}");
    }
}

/// The README's first command, on the bundled example: the result must be closer to the
/// example's haze-free ground truth than the hazy input is.
#[test]
fn bundled_example_gets_clearer() {
    let root = repo_root();
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("valley_dehazed.png");
    let out = dehaze(
        &["examples/valley_hazy.png", "-o", out_path.to_str().unwrap()],
        &root,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let clear = image::open(root.join("examples/valley_clear.png"))
        .unwrap()
        .to_rgb8();
    let hazy = image::open(root.join("examples/valley_hazy.png"))
        .unwrap()
        .to_rgb8();
    let dehazed = image::open(&out_path).unwrap().to_rgb8();
    let psnr = |a: &image::RgbImage| {
        let mse = a
            .as_raw()
            .iter()
            .zip(clear.as_raw())
            .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
            .sum::<f64>()
            / a.as_raw().len() as f64;
        10.0 * (255.0f64 * 255.0 / mse).log10()
    };
    let (before, after) = (psnr(&hazy), psnr(&dehazed));
    println!("example PSNR vs ground truth: hazy {before:.2} dB, dehazed {after:.2} dB");
    assert!(
        after > before + 3.0,
        "hazy {before:.2} dB, dehazed {after:.2} dB"
    );
}
