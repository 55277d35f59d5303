//! `dehaze train` end to end on a tiny network and data set.

use std::path::Path;

mod common;
use common::{dehaze, stderr};

/// Two hazy/clear pairs in RESIDE layout under `dir/pairs`.
fn pairs(dir: &Path) {
    for sub in ["hazy", "clear"] {
        std::fs::create_dir_all(dir.join("pairs").join(sub)).unwrap();
    }
    for i in 0..2u32 {
        let clear = image::RgbImage::from_fn(40, 40, |x, y| {
            image::Rgb([(x * 6 + i * 30) as u8, (y * 5) as u8, ((x + y) * 3) as u8])
        });
        let hazy = image::RgbImage::from_fn(40, 40, |x, y| {
            image::Rgb(clear.get_pixel(x, y).0.map(|v| v / 2 + 100))
        });
        clear
            .save(dir.join(format!("pairs/clear/{i}.png")))
            .unwrap();
        hazy.save(dir.join(format!("pairs/hazy/{i}_x.png")))
            .unwrap();
    }
}

const CONFIG: &str = r#"
[model]
name = "dhr-s"
width = 4
[data]
pairs = ["pairs"]
synthetic_fraction = 0.0
crop = 32
[train]
iterations = 3
batch = 2
[validation]
fraction = 0.5
crop = 32
[checkpoint]
interval = 2
[output]
dir = "run"
"#;

#[test]
fn trains_resumes_and_reports_config_errors() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    pairs(d);
    std::fs::write(d.join("c.toml"), CONFIG).unwrap();
    let o = dehaze(&["train", "--config", "c.toml"], d);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("3 iterations") && err.contains("dhr.safetensors"),
        "{err}"
    );
    for f in [
        "dhr.safetensors",
        "metrics.csv",
        "curves.png",
        "config.toml",
    ] {
        assert!(d.join("run").join(f).is_file(), "{f} missing");
    }
    // Resuming a finished run is an error (exit code 2) that says so.
    let o = dehaze(&["train", "--config", "c.toml", "--resume"], d);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("already"), "{}", stderr(&o));

    // A bad value names its key.
    std::fs::write(d.join("bad.toml"), CONFIG.replace("batch = 2", "batch = 0")).unwrap();
    let o = dehaze(&["train", "--config", "bad.toml"], d);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("`train.batch`"), "{}", stderr(&o));
    // Unknown devices are refused by the argument parser.
    let o = dehaze(&["train", "--config", "c.toml", "--device", "tpu"], d);
    assert_eq!(o.status.code(), Some(2));
}
