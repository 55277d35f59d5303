//! `dehaze train` end to end on a tiny network and data set.

mod common;
use common::{dehaze, stderr};

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
    common::pairs(d, 2, "_x");
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
