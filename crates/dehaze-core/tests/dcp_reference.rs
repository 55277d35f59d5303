//! The dark channel prior against the project's reference output
//! (`shared/reference/images/dcp_1024x768.png`, see `shared/reference/README.md`, section
//! "The reference dark channel prior"): after rounding to 8 bits (half to even), at least
//! 99.9 % of the samples must be within 1/255 of the reference.
//!
//! The PNGs are decoded with the `image` crate directly (8-bit RGB → f32 / 255). The test is
//! skipped, with a note, when the shared data is not there (a failure with
//! `DEHAZE_REQUIRE_ALL=1`, [`dehaze_core::testing`]).
use dehaze_core::priors::dark_channel::DarkChannelPrior;
use dehaze_core::{Dehazer, RgbImage};
use std::path::Path;

const REF_DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/reference/images"
);

fn load_rgb8(path: &Path) -> (usize, usize, Vec<u8>) {
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("decoding {}: {e}", path.display()))
        .to_rgb8();
    let (w, h) = img.dimensions();
    (w as usize, h as usize, img.into_raw())
}

#[test]
fn dcp_matches_reference_output() {
    let hazy_path = Path::new(REF_DIR).join("hazy_1024x768.png");
    let ref_path = Path::new(REF_DIR).join("dcp_1024x768.png");
    if !hazy_path.exists() || !ref_path.exists() {
        dehaze_core::testing::missing(&format!("the reference images under {REF_DIR}"));
        return;
    }
    let (w, h, hazy) = load_rgb8(&hazy_path);
    let (rw, rh, reference) = load_rgb8(&ref_path);
    assert_eq!((w, h), (rw, rh));
    let rgb: Vec<f32> = hazy.iter().map(|&v| v as f32 / 255.0).collect();
    let out = DarkChannelPrior::default().dehaze(&RgbImage::from_interleaved(w, h, &rgb));
    let ours = out.image.to_interleaved();

    let mut max_diff = 0u8;
    let mut sum_diff = 0u64;
    let mut within = 0usize;
    let mut exact = 0usize;
    for (&o, &r) in ours.iter().zip(&reference) {
        // `round_ties_even` = numpy's round; o is already clipped to [0, 1].
        let q = (o * 255.0).round_ties_even() as u8;
        let d = q.abs_diff(r);
        max_diff = max_diff.max(d);
        sum_diff += d as u64;
        within += (d <= 1) as usize;
        exact += (d == 0) as usize;
    }
    let n = reference.len();
    let frac = within as f64 / n as f64;
    println!(
        "DCP vs reference ({w}x{h}, {n} samples): airlight {:?}, max diff {max_diff}/255, \
         mean diff {:.6}/255, within 1/255: {:.5} %, identical: {} of {n}",
        out.airlight,
        sum_diff as f64 / n as f64,
        100.0 * frac,
        exact
    );
    assert!(frac >= 0.999, "only {:.4} % within 1/255", 100.0 * frac);
}
