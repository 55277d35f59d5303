//! Depth/disparity readers, hole filling, normalisation and pseudo-depth.

use dehaze_core::synth::depth_maps::{
    fill_invalid, load_normalised_depth, normalised_depth, raw_map_from_samples, read_depth_index,
    read_raw_map, DepthEncoding, DepthFormat,
};
use dehaze_core::synth::pseudo_depth::pseudo_depth;
use dehaze_core::{Plane, RgbImage};
use std::path::Path;

const DEPTH_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/depth");

#[test]
fn disparity_becomes_inverse_depth_normalised() {
    // Disparity falls left to right, so depth grows left to right.
    let (w, h) = (200, 3);
    let raw: Vec<u16> = (0..w * h).map(|i| (250 - (i % w)) as u16).collect();
    let map = raw_map_from_samples(w, h, &raw, &DepthFormat::middlebury(4.0));
    let d = normalised_depth(&map).unwrap();
    let row = d.row(1);
    assert!(row.windows(2).all(|p| p[1] >= p[0]), "not monotonic");
    assert_eq!(row[0], 0.0);
    assert_eq!(row[w - 1], 1.0);
    // Depth ∝ 1/disparity: between the robust percentiles it is affine in 1/disparity.
    let inv = |v: f32| 1.0 / v;
    let (a, b, c) = (inv(240.0), inv(150.0), inv(60.0));
    let (da, db, dc) = (row[10], row[100], row[190]);
    let expect = da + (dc - da) * (b - a) / (c - a);
    assert!((db - expect).abs() < 1e-4, "{db} vs {expect}");
}

#[test]
fn holes_are_filled_from_their_surroundings() {
    let (w, h) = (32, 32);
    // Left half 10, right half 20, a hole in the middle of each half and one on the border.
    let mut v = Plane::from_vec(
        w,
        h,
        (0..w * h)
            .map(|i| if i % w < 16 { 10.0 } else { 20.0 })
            .collect(),
    );
    let mut valid = vec![true; w * h];
    for y in 10..20 {
        for x in 3..9 {
            valid[y * w + x] = false;
        }
        for x in 22..30 {
            valid[y * w + x] = false;
        }
    }
    for y in 0..h {
        valid[y * w] = false;
    }
    for (i, ok) in valid.iter().enumerate() {
        if !ok {
            v.data_mut()[i] = 0.0;
        }
    }
    assert!(fill_invalid(&mut v, &valid));
    for y in 12..18 {
        assert!((v.get(5, y) - 10.0).abs() < 0.5, "{}", v.get(5, y));
        assert!((v.get(26, y) - 20.0).abs() < 0.5, "{}", v.get(26, y));
        assert!((v.get(0, y) - 10.0).abs() < 0.5);
    }
    // Valid pixels are untouched.
    assert_eq!(v.get(12, 5), 10.0);
    assert_eq!(v.get(20, 5), 20.0);
    // Nothing valid: reported, not invented.
    let mut none = Plane::filled(4, 4, 0.0);
    assert!(!fill_invalid(&mut none, &[false; 16]));
}

#[test]
fn kinect_invalid_values_and_empty_maps() {
    let raw = vec![0u16, 1000, 2000, 65535, 3000, 0];
    let map = raw_map_from_samples(3, 2, &raw, &DepthFormat::kinect());
    assert_eq!(map.valid, vec![false, true, true, false, true, false]);
    let d = normalised_depth(&map).unwrap();
    assert!(d.data().iter().all(|v| (0.0..=1.0).contains(v)));
    let none = raw_map_from_samples(2, 1, &[0, 65535], &DepthFormat::kinect());
    assert!(normalised_depth(&none).is_err());
}

#[test]
fn sixteen_bit_png_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("disp.png");
    let (w, h) = (16u32, 8u32);
    let vals: Vec<u16> = (0..w * h)
        .map(|i| {
            if i % 7 == 0 {
                0
            } else {
                256 * (1 + i as u16 % 50)
            }
        })
        .collect();
    image::ImageBuffer::<image::Luma<u16>, _>::from_raw(w, h, vals.clone())
        .unwrap()
        .save(&path)
        .unwrap();
    let map = read_raw_map(&path, &DepthFormat::eth3d()).unwrap();
    assert_eq!(map.encoding, DepthEncoding::Disparity);
    for (i, &v) in vals.iter().enumerate() {
        assert_eq!(map.valid[i], v != 0);
        if v != 0 {
            assert_eq!(map.values.data()[i], v as f32 / 256.0);
        }
    }
    let err = load_normalised_depth(&dir.path().join("missing.png"), &DepthFormat::eth3d())
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing.png"), "{err}");
}

#[test]
fn shared_depth_index_and_maps() {
    let index = Path::new(DEPTH_DIR).join("index.csv");
    if !index.exists() {
        dehaze_core::testing::missing(&index.display().to_string());
        return;
    }
    let entries = read_depth_index(&index).unwrap();
    assert_eq!(entries.len(), 17);
    let eth = entries.iter().find(|e| e.name == "playground").unwrap();
    assert_eq!(eth.format, DepthFormat::eth3d());
    let venus = entries.iter().find(|e| e.name == "venus").unwrap();
    assert_eq!(venus.format, DepthFormat::middlebury(8.0));
    // Read the smallest map of each data set; its valid fraction matches the index's
    // `valid_fraction` column (copied here).
    for (name, expect) in [
        ("tsukuba", 0.793f32),
        ("terrace", 0.5317),
        ("sample", 0.886),
    ] {
        let e = entries.iter().find(|e| e.name == name).unwrap();
        let raw = read_raw_map(&e.depth, &e.format).unwrap();
        assert!(
            (raw.valid_fraction() - expect).abs() < 0.01,
            "{name}: {} vs {expect}",
            raw.valid_fraction()
        );
        let d = dehaze_core::synth::depth_maps::normalised_depth(&raw).unwrap();
        assert!(d.data().iter().all(|v| (0.0..=1.0).contains(v)));
        let img = image::open(&e.rgb).unwrap();
        assert_eq!(
            (img.width() as usize, img.height() as usize),
            (d.width(), d.height())
        );
    }
}

#[test]
fn pseudo_depth_puts_bright_top_far_and_bottom_near() {
    // Pale sky on top, saturated green ground below.
    let (w, h) = (48, 40);
    let mut rgb = Vec::new();
    for y in 0..h {
        for _ in 0..w {
            if y < h / 3 {
                rgb.extend_from_slice(&[0.85, 0.88, 0.92]);
            } else {
                rgb.extend_from_slice(&[0.2, 0.5, 0.15]);
            }
        }
    }
    let d = pseudo_depth(&RgbImage::from_interleaved(w, h, &rgb));
    assert!(d.data().iter().all(|v| (0.0..=1.0).contains(v)));
    let row_mean = |y: usize| d.row(y).iter().sum::<f32>() / w as f32;
    assert!(row_mean(2) > 0.8, "{}", row_mean(2));
    assert!(row_mean(h - 2) < 0.2, "{}", row_mean(h - 2));
    for y in h / 3 + 2..h - 1 {
        assert!(
            row_mean(y) <= row_mean(y - 1) + 1e-3,
            "not decreasing at {y}"
        );
    }
    // Edge-aligned: a clear jump at the horizon.
    assert!(row_mean(h / 3 - 2) - row_mean(h / 3 + 1) > 0.15);
}
