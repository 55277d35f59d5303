//! Running the `dehaze` binary from the integration tests.

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
