//! `dehaze train-ahg`: train API's learned haze generator (AHG: density encoder, re-hazing
//! decoder, PatchGAN critic) on real hazy/clear pairs. The loop is `dehaze_nn::ahg::train`;
//! this module only maps flags to its config and prints the losses.
//!
//! ```text
//! dehaze train-ahg --data DIR [--data DIR…] --out WEIGHTS.safetensors
//!                  [--steps N] [--minutes M] [--crop 128] [--batch 4] [--seed S] …
//! ```
//!
//! `--data` takes a pair folder (`hazy/` + `clear/`, same file stems) or a folder of them
//! (e.g. `shared/data/paired`). The weights are written atomically at every checkpoint and at
//! the end; `dehaze synth --ahg WEIGHTS` uses them.

use crate::flags::DeviceArg;
use anyhow::Context;
use dehaze_nn::ahg::train::{train, StepLosses, TrainAhgConfig};
use dehaze_nn::ahg::AhgConfig;
use std::path::PathBuf;
use std::process::ExitCode;

/// Train the learned haze generator (AHG) on hazy/clear pairs.
#[derive(Debug, clap::Args)]
pub struct TrainAhgArgs {
    /// Pair folder(s): `hazy/` + `clear/` with matching names, or a folder of such folders.
    #[arg(long, value_name = "DIR", required = true)]
    pub data: Vec<PathBuf>,

    /// Output weights file (safetensors).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,

    /// Maximum number of training steps.
    #[arg(long, default_value_t = 2000)]
    pub steps: usize,

    /// Wall-clock limit in minutes (training stops and saves after the step that passes it).
    #[arg(long, value_name = "M")]
    pub minutes: Option<f64>,

    /// Crop side in pixels.
    #[arg(long, default_value_t = 128)]
    pub crop: usize,

    /// Crops per step.
    #[arg(long, default_value_t = 4)]
    pub batch: usize,

    /// Base channel width of the encoder and decoder U-Nets.
    #[arg(long, default_value_t = 16)]
    pub width: usize,

    /// U-Net levels (halvings).
    #[arg(long, default_value_t = 3)]
    pub levels: usize,

    /// Base channel width of the critic.
    #[arg(long, default_value_t = 16)]
    pub critic_width: usize,

    /// Adam learning rate (generator and critic).
    #[arg(long, default_value_t = 2e-4)]
    pub lr: f64,

    /// Weight of the adversarial term.
    #[arg(long, default_value_t = 0.1)]
    pub lambda_adv: f32,

    /// Seed of the initial weights, crops, flips and mixing draws.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Save the weights every N steps (0: only at the end).
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub checkpoint_every: usize,

    /// Print averaged losses every N steps.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub log_every: usize,

    #[command(flatten)]
    pub device: DeviceArg,
}

fn print(l: &StepLosses) {
    eprintln!(
        "step {:>6}  clear_l1 {:.4}  hazy_l1 {:.4}  adv {:+.4}  critic {:.4}  ({:.0} s)",
        l.step, l.clear_l1, l.hazy_l1, l.adv, l.critic, l.seconds
    );
}

/// Runs `dehaze train-ahg`.
pub fn run(args: &TrainAhgArgs) -> anyhow::Result<ExitCode> {
    let device = args.device.device()?;
    let cfg = TrainAhgConfig {
        data: args.data.clone(),
        out: args.out.clone(),
        model: AhgConfig {
            encoder_width: args.width,
            decoder_width: args.width,
            levels: args.levels,
        },
        critic_width: args.critic_width,
        crop: args.crop,
        batch: args.batch,
        steps: args.steps,
        max_seconds: args.minutes.map(|m| m * 60.0),
        lr: args.lr,
        lr_critic: args.lr,
        lambda_adv: args.lambda_adv,
        seed: args.seed,
        checkpoint_every: args.checkpoint_every,
        log_every: args.log_every,
        ..Default::default()
    };
    let report = train(&cfg, &device, print).context("dehaze train-ahg")?;
    eprintln!(
        "dehaze train-ahg: {} steps on {} pairs ({}×{} crops) in {:.0} s; weights in {}",
        report.steps,
        report.pairs,
        report.crop,
        report.crop,
        report.seconds,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
