//! Progress reporting for batches: a bar on a terminal, nothing otherwise.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar over `n` items on standard error. Hidden when `n < 2` or standard error is
/// not a terminal (indicatif draws nothing then), so logs and pipes stay clean.
pub fn bar(n: usize, what: &str) -> ProgressBar {
    if n < 2 {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(Some(n as u64), ProgressDrawTarget::stderr());
    pb.set_style(
        ProgressStyle::with_template(
            "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec}, eta {eta}) {msg}",
        )
        .expect("valid template"),
    );
    pb.set_prefix(what.to_string());
    pb
}

/// Prints a line to standard error without tearing the bar.
pub fn report(pb: &ProgressBar, line: &str) {
    pb.suspend(|| eprintln!("{line}"));
}
