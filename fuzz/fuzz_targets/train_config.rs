//! Any text → `dehaze train`'s TOML config (`TrainConfig::from_toml_str`, which validates).
//! Must give a config or an error, never panic. (`train-ahg` takes command-line flags, no file.)
#![no_main]
use dehaze_nn::train::config::TrainConfig;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = TrainConfig::from_toml_str(text, Path::new("/nonexistent"), "fuzz.toml");
});
