//! `dehaze`: remove haze from photos, from the command line.
//!
//! `dehaze IN... [-o OUT|DIR] [--method dcp|cap|bccr|ka-net|ka-net-s|dhr-s|dhr-b]` dehazes files, folders and globs;
//! subcommands add the rest of the toolkit (`dehaze methods`, …). Exit codes: 0 all went well,
//! 1 some file failed (the others were still processed), 2 usage error.

mod batch;
mod bundled;
mod cli;
mod commands;
mod flags;
mod ground_truth;
mod inputs;
mod outputs;
mod progress;
mod report;
mod scoring;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // A panic is a bug: one line saying where, instead of a backtrace across the batch's output.
    // (Per-file work catches panics and reports them against the file; see commands::dehaze.)
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let at = info.location().map(|l| l.to_string()).unwrap_or_default();
        eprintln!("dehaze: bug: {msg} at {at} (please report)");
    }));
    let cli = cli::Cli::parse();
    let result = match cli.command {
        Some(cli::Command::Methods) => commands::methods::run(),
        Some(cli::Command::Synth(a)) => commands::synth::run(&a),
        Some(cli::Command::TrainAhg(a)) => commands::train_ahg::run(&a),
        Some(cli::Command::Metrics(args)) => commands::metrics::run(&args),
        Some(cli::Command::Eval(args)) => commands::eval::run(&args),
        Some(cli::Command::Train(args)) => commands::train::run(&args),
        None => commands::dehaze::run(&cli.dehaze),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("dehaze: {e:#}");
            ExitCode::from(2)
        }
    }
}
