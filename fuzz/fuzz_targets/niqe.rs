//! NIQE's working path: arbitrary pixel values on a 192×96 image, the smallest NIQE gives a
//! number for (two 96×96 blocks at the first scale, two 48×48 at the second). Both luma
//! conventions must give a finite number or an error (e.g. blocks without variance), never a
//! panic or NaN. Every other metric is fuzzed on small images by the `metrics` target.
#![no_main]
use dehaze_core::metrics::{self, NiqeLuma, Rgb8};
use libfuzzer_sys::fuzz_target;

const W: usize = 192;
const H: usize = 96;

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let pixels: Vec<u8> = data.iter().copied().cycle().take(W * H * 3).collect();
    let img = Rgb8::new(W, H, pixels).expect("size matches");
    for luma in [NiqeLuma::Y, NiqeLuma::Gray] {
        if let Ok(v) = metrics::niqe(&img, luma) {
            assert!(!v.is_nan(), "NIQE ({luma:?}) is NaN");
        }
    }
});
