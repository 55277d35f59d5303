//! Any bytes → `io::decode_image` (format sniffed from the content: PNG, JPEG, TIFF, WebP,
//! BMP) → each classical method → `io::write_image` in every output format. Must return an
//! error or an image, never panic, hang or run out of memory. The pixel limit is small so each
//! input stays fast; the limit check itself is what keeps huge headers cheap.
#![no_main]
use dehaze_core::io::{decode_image, write_image, ReadOptions, WriteOptions};
use dehaze_core::Method;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let opts = ReadOptions {
        max_pixels: 64 * 64,
    };
    let Ok(img) = decode_image(Path::new("fuzz-input"), data, &opts) else {
        return;
    };
    assert!(img.rgb.width() * img.rgb.height() <= 64 * 64);
    for m in Method::ALL {
        let out = m.dehaze(&img.rgb);
        assert_eq!(out.image.width(), img.rgb.width());
    }
    // Write back in every format (to memory-backed /dev/shm when there is one).
    let dir = if Path::new("/dev/shm").is_dir() {
        "/dev/shm"
    } else {
        "/tmp"
    };
    for ext in ["png", "jpg", "tif", "webp", "bmp"] {
        let p = Path::new(dir).join(format!("dehaze-fuzz-{}.{ext}", std::process::id()));
        write_image(&p, &img, &WriteOptions::default()).expect("encoding a decoded image");
        let _ = std::fs::remove_file(&p);
    }
});
