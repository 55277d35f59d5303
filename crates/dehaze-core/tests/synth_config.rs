//! The synthesis config: the shipped defaults file and the errors for bad values.

use dehaze_core::synth::config::SynthConfig;

const DEFAULTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../configs/synth.toml");

#[test]
fn shipped_defaults_equal_builtin_defaults() {
    let cfg = SynthConfig::from_file(std::path::Path::new(DEFAULTS)).unwrap();
    assert_eq!(cfg, SynthConfig::default());
    // Spec values (SYSTEMS.md 1.1).
    assert_eq!(cfg.gamma.p, 0.5);
    assert_eq!([cfg.gamma.gamma.min, cfg.gamma.gamma.max], [1.5, 3.0]);
    assert_eq!([cfg.noise.sigma.min, cfg.noise.sigma.max], [2.0, 25.0]);
    assert_eq!(
        [cfg.scattering.beta.min, cfg.scattering.beta.max],
        [0.3, 1.5]
    );
    assert_eq!([cfg.jpeg.quality.min, cfg.jpeg.quality.max], [30.0, 95.0]);
}

#[test]
fn empty_document_gives_defaults_and_round_trips() {
    let cfg = SynthConfig::from_toml_str("").unwrap();
    assert_eq!(cfg, SynthConfig::default());
    let again = SynthConfig::from_toml_str(&cfg.to_toml_string()).unwrap();
    assert_eq!(again, cfg);
}

#[test]
fn partial_override_keeps_other_defaults() {
    let cfg = SynthConfig::from_toml_str("seed = 9\n[jpeg]\np = 1.0\n").unwrap();
    assert_eq!(cfg.seed, 9);
    assert_eq!(cfg.jpeg.p, 1.0);
    assert_eq!(cfg.jpeg.quality, SynthConfig::default().jpeg.quality);
}

/// Each bad document must fail with a message that contains the named key.
#[test]
fn bad_values_name_the_key() {
    let cases = [
        ("[gamma]\np = 1.5", "gamma.p"),
        ("[jpeg]\np = -0.1", "jpeg.p"),
        ("[gamma]\ngamma = [3.0, 1.5]", "gamma.gamma"),
        ("[noise]\nsigma = [-1.0, 5.0]", "noise.sigma"),
        (
            "[noise.kind_weights]\ngrey = -1.0",
            "noise.kind_weights.grey",
        ),
        ("[scattering]\nbeta = [1.5, 0.3]", "scattering.beta"),
        ("[scattering]\nairlight = [0.5, 1.2]", "scattering.airlight"),
        ("[jpeg]\nquality = [0, 90]", "jpeg.quality"),
        ("[jpeg]\nquality = [30, 101]", "jpeg.quality"),
        ("[jpeg]\nquality = [30.5, 90]", "jpeg.quality"),
        ("[density]\noctaves = 0", "density.octaves"),
        ("[density]\npersistence = 1.5", "density.persistence"),
        ("[blur]\np_motion = 2.0", "blur.p_motion"),
        // Unknown keys (deny_unknown_fields): toml names the key and shows the line.
        ("[scattering]\nbta = [0.3, 1.5]", "bta"),
        ("sede = 3", "sede"),
        ("[fog]\np = 0.5", "fog"),
        // Wrong shapes and types.
        ("[gamma]\ngamma = [1.5]", "gamma"),
        ("[gamma]\np = \"high\"", "p"),
    ];
    for (doc, key) in cases {
        let err = SynthConfig::from_toml_str(doc)
            .expect_err(&format!("`{doc}` should be rejected"))
            .to_string();
        assert!(
            err.contains(key),
            "`{doc}`: error `{err}` does not name `{key}`"
        );
    }
}

#[test]
fn missing_file_names_the_path() {
    let err = SynthConfig::from_file(std::path::Path::new("/nonexistent/synth.toml"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("/nonexistent/synth.toml"), "{err}");
}
