//! `dehaze train --config FILE [--resume] [--device cpu]`: train a DHR or KA-Net network.
//!
//! The work is `dehaze_nn::train::run`; this module parses the arguments, shows a progress
//! bar (loss and iterations per second) and prints where the results went. The config format
//! is documented in `configs/dhr-s.toml` (KA-Net: `configs/ka-net-s.toml`).

use crate::flags::DeviceArg;
use crate::progress;
use clap::Args;
use dehaze_nn::train::{self, Observer, RunOptions, TrainConfig};
use indicatif::ProgressBar;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;

/// Train a DHR or KA-Net dehazing network from a TOML config.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Training config (TOML; see configs/dhr-s.toml). Relative paths in it are relative to
    /// the file's folder.
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,

    /// Continue the run from the latest checkpoint in its output folder.
    #[arg(long)]
    pub resume: bool,

    #[command(flatten)]
    pub device: DeviceArg,
}

/// The progress bar as a training observer.
struct Bar {
    pb: ProgressBar,
}

impl Observer for Bar {
    fn start(&mut self, first: u64, total: u64) {
        self.pb = progress::bar(total as usize, "training");
        self.pb.set_position(first);
        self.pb.reset_eta();
    }

    fn step(&mut self, iteration: u64, loss: f32, it_per_s: f64) -> ControlFlow<()> {
        self.pb.set_position(iteration);
        self.pb
            .set_message(format!("loss {loss:.4} | {it_per_s:.2} it/s"));
        ControlFlow::Continue(())
    }

    fn note(&mut self, line: &str) {
        progress::report(&self.pb, &format!("dehaze train: {line}"));
    }
}

/// Runs `dehaze train`.
pub fn run(args: &TrainArgs) -> anyhow::Result<ExitCode> {
    let config = TrainConfig::from_file(&args.config)?;
    let device = args.device.device()?;
    let opts = RunOptions {
        device,
        resume: args.resume,
    };
    let mut bar = Bar {
        pb: ProgressBar::hidden(),
    };
    let result = train::run(&config, &opts, &mut bar);
    bar.pb.finish_and_clear();
    let summary = result?;
    eprintln!(
        "dehaze train: {} iterations; weights {}{}; log {}",
        summary.iterations,
        summary.weights.display(),
        summary
            .best_psnr
            .map(|(p, it)| format!(" (best validation PSNR {p:.2} dB at iteration {it})"))
            .unwrap_or_default(),
        config.output.dir.join("metrics.csv").display()
    );
    Ok(ExitCode::SUCCESS)
}
