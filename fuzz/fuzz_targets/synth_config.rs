//! Any text → the haze-synthesis TOML config (`SynthConfig::from_toml_str`, which validates).
//! A config that parses must serialise back and parse again to the same config.
#![no_main]
use dehaze_core::synth::config::SynthConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(cfg) = SynthConfig::from_toml_str(text) {
        let again = SynthConfig::from_toml_str(&cfg.to_toml_string())
            .expect("a valid config's own TOML parses");
        assert_eq!(again.to_toml_string(), cfg.to_toml_string());
    }
});
