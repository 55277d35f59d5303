//! The command-line interface: `dehaze IN... [options]` or `dehaze SUBCOMMAND`.

use crate::commands::dehaze::DehazeArgs;
use crate::commands::eval::EvalArgs;
use crate::commands::metrics::MetricsArgs;
use clap::{Parser, Subcommand};

/// Remove haze from photos.
///
/// Dehazes image files, folders of images and glob patterns. Outputs never overwrite an input.
/// Exit code: 0 when every file was dehazed, 1 when some failed (the rest are still written),
/// 2 on a usage error or unusable network weights.
#[derive(Debug, Parser)]
#[command(
    name = "dehaze",
    version,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub dehaze: DehazeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the dehazing methods.
    Methods,
    /// Synthesise a paired hazy/clear dataset from clean images (and depth maps).
    Synth(crate::commands::synth::SynthArgs),
    /// Train the learned haze generator (API's AHG) on hazy/clear pairs, for `synth --ahg`.
    TrainAhg(crate::commands::train_ahg::TrainAhgArgs),
    /// Print image-quality metrics as CSV (with --clear, also PSNR/SSIM against ground truth).
    Metrics(MetricsArgs),
    /// Run methods over a set of images, score everything, and write a report
    /// (results.csv, summary.md, summary.json, report.html).
    Eval(EvalArgs),
    /// Train a DHR or KA-Net network from a TOML config (checkpoints, metrics log, curves).
    Train(crate::commands::train::TrainArgs),
}
