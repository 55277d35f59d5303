//! Running the `dehaze` binary from the integration tests, and the fixtures they share.

use std::path::Path;
use std::process::{Command, Output};

/// Runs `dehaze ARGS` in `cwd` (without `RUST_BACKTRACE`, so errors read as a user sees them).
pub fn dehaze(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dehaze"))
        .args(args)
        .current_dir(cwd)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run dehaze")
}

/// The run's standard error, as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `n` hazy/clear pairs of 40×40 pictures under `dir/pairs` (`hazy/` + `clear/`), hazy files
/// named `<i><hazy_suffix>.png`, clear ones `<i>.png`. (Not every test file uses it.)
#[allow(dead_code)]
pub fn pairs(dir: &Path, n: u32, hazy_suffix: &str) {
    for sub in ["hazy", "clear"] {
        std::fs::create_dir_all(dir.join("pairs").join(sub)).unwrap();
    }
    for i in 0..n {
        let clear = image::RgbImage::from_fn(40, 40, |x, y| {
            image::Rgb([(x * 6 + i * 30) as u8, (y * 5) as u8, ((x + y) * 3) as u8])
        });
        let hazy = image::RgbImage::from_fn(40, 40, |x, y| {
            image::Rgb(clear.get_pixel(x, y).0.map(|v| v / 2 + 100))
        });
        clear
            .save(dir.join(format!("pairs/clear/{i}.png")))
            .unwrap();
        hazy.save(dir.join(format!("pairs/hazy/{i}{hazy_suffix}.png")))
            .unwrap();
    }
}
