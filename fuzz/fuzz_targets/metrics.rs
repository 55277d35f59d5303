//! Arbitrary small images (1–32 × 1–32, any pixel values) → every no-reference metric and the
//! full-reference ones against a second image of the same size. Each must give a finite number
//! or an error (image too small, no variance), never a panic or NaN.
//!
//! The sizes reach the working path of FADE (16×16), SSIM (11×11) and BRISQUE (7×7), and NIQE's
//! size refusal; NIQE's own path (two 96×96 blocks) is the `niqe` target. Instrumented, a 32×32
//! image costs about 7 ms of the shared machine and a 192×96 one about 60 ms: with both in one
//! target (the earlier 1–200 × 1–104 sizes, or a size byte selecting 192×96) the corpus fills
//! with NIQE-sized inputs, whose features are the most numerous, and it runs at 7–20 per second.
#![no_main]
use dehaze_core::metrics::{self, NiqeLuma, Rgb8};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let (w, h) = (1 + data[0] as usize % 32, 1 + data[1] as usize % 32);
    let body = &data[2..];
    let n = w * h * 3;
    let pixels: Vec<u8> = body.iter().copied().cycle().take(n).collect();
    let other: Vec<u8> = body.iter().rev().copied().cycle().take(n).collect();
    let img = Rgb8::new(w, h, pixels).expect("size matches");
    let reference = Rgb8::new(w, h, other).expect("size matches");
    let finite = |name: &str, r: Result<f64, metrics::MetricError>| {
        if let Ok(v) = r {
            assert!(!v.is_nan(), "{name} is NaN on a {w}×{h} image");
        }
    };
    finite("FADE", metrics::fade(&img));
    finite("NIQE-Y", metrics::niqe(&img, NiqeLuma::Y));
    finite("NIQE-gray", metrics::niqe(&img, NiqeLuma::Gray));
    finite("BRISQUE", metrics::brisque(&img));
    finite("entropy", metrics::entropy(&img));
    if let Ok(s) = metrics::full_reference(&img, &reference) {
        assert!(!s.psnr_rgb.is_nan() && !s.ssim_rgb_gauss.is_nan() && !s.ssim_y.is_nan());
    }
});
