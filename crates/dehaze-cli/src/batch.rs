//! What every batch command shares: the `--recursive`, `--jobs` and `--max-pixels` flags
//! ([`BatchArgs`]), its thread pool, and turning a panic in one file's work into that file's
//! error so that the batch goes on.

use dehaze_core::io::{ReadOptions, DEFAULT_MAX_PIXELS};
use dehaze_nn::restorer::panic_message;

/// The flags of a command that works through a list of images.
#[derive(Debug, Clone, clap::Args)]
pub struct BatchArgs {
    /// Look into subfolders of folder inputs (outputs, and --clear where the command has it,
    /// follow the same relative paths).
    #[arg(short, long)]
    pub recursive: bool,

    /// Worker threads (default: all cores).
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,

    /// Refuse images with more pixels than this (checked before decoding).
    #[arg(long, value_name = "PIXELS", default_value_t = DEFAULT_MAX_PIXELS)]
    pub max_pixels: u64,
}

impl BatchArgs {
    /// A pool of `--jobs` threads (all cores by default).
    pub fn pool(&self) -> anyhow::Result<rayon::ThreadPool> {
        Ok(rayon::ThreadPoolBuilder::new()
            .num_threads(self.jobs.unwrap_or(0))
            .build()?)
    }

    /// How images are read.
    pub fn read_options(&self) -> ReadOptions {
        ReadOptions {
            max_pixels: self.max_pixels,
        }
    }
}

/// Runs `f`, turning a panic (a bug in a method or a metric) into an error message, so that
/// the rest of the batch goes on.
pub fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .map_err(|panic| format!("internal error: {}", panic_message(&*panic)))
}

/// The exit code of a batch: 0 when everything went well, 1 when a file failed or an operand
/// matched nothing.
pub fn exit_code(failed: usize, problems: &[String]) -> std::process::ExitCode {
    if failed > 0 || !problems.is_empty() {
        std::process::ExitCode::from(1)
    } else {
        std::process::ExitCode::SUCCESS
    }
}
