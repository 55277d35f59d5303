//! `dehaze metrics IMG... [--clear DIR]`: image-quality scores as CSV on standard output.
//!
//! One row per image, in input order (images are scored in parallel; rows wait for the ones
//! before them). Columns: `path`, the five no-reference metrics, and with `--clear` the five
//! full-reference metrics against the ground truth of the same name. A cell is empty when the
//! metric has no value on that image (too small, undefined, no ground truth). A file that
//! cannot be read gets no row, an error on standard error, and exit code 1.
//! The metrics and their columns are [`crate::scoring`]'s; ground truth is found by the
//! toolkit's pairing rule ([`dehaze_core::pairing::ClearIndex`]).

use crate::batch::{self, BatchArgs};
use crate::ground_truth::{self, Reference};
use crate::inputs::{self, Input};
use crate::progress;
use crate::scoring::{cell, score, METRICS, N_METRICS, N_NR};
use clap::Args;
use dehaze_core::csv::field as csv_field;
use dehaze_core::io::{self, ReadOptions};
use dehaze_core::metrics::Rgb8;
use dehaze_core::pairing::ClearIndex;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;

#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// Images, folders of images, or glob patterns (quoted) to score.
    #[arg(required = true, value_name = "IMG")]
    pub inputs: Vec<String>,

    /// Folder of ground-truth images: adds the full-reference metrics (PSNR, SSIM) against the
    /// file of the same name (any image extension).
    #[arg(long, value_name = "DIR")]
    pub clear: Option<PathBuf>,

    #[command(flatten)]
    pub batch: BatchArgs,
}

/// The outcome of scoring one file.
struct Scored {
    /// The CSV row, unless the file could not be read.
    row: Option<String>,
    /// Lines for standard error.
    messages: Vec<String>,
    failed: bool,
}

pub fn run(args: &MetricsArgs) -> anyhow::Result<ExitCode> {
    let collected = inputs::collect_reported(&args.inputs, args.batch.recursive);
    let Ok(clear) = ground_truth::open_arg(args.clear.as_deref()) else {
        return Ok(ExitCode::from(2));
    };
    if collected.inputs.is_empty() {
        eprintln!("dehaze: nothing to do");
        return Ok(ExitCode::from(if collected.problems.is_empty() {
            2
        } else {
            1
        }));
    }

    let columns = if clear.is_some() { N_METRICS } else { N_NR };
    let mut header = String::from("path");
    for m in &METRICS[..columns] {
        header.push(',');
        header.push_str(m.name);
    }
    let stdout = std::io::stdout();
    writeln!(stdout.lock(), "{header}")?;

    let read = args.batch.read_options();
    let pool = args.batch.pool()?;
    let pb = progress::bar(collected.inputs.len(), "scoring");
    // Rows finished out of order wait here until the ones before them are printed.
    let pending: Mutex<(usize, BTreeMap<usize, Scored>)> = Mutex::new((0, BTreeMap::new()));
    let failed = Mutex::new(0usize);
    let print_error = Mutex::new(None::<std::io::Error>);
    pool.install(|| {
        collected
            .inputs
            .par_iter()
            .enumerate()
            .for_each(|(i, input)| {
                let scored = score_file(input, clear.as_ref(), columns, &read);
                let mut guard = pending.lock().expect("no panic while holding the lock");
                let (next, waiting) = &mut *guard;
                waiting.insert(i, scored);
                while let Some(s) = waiting.remove(next) {
                    *next += 1;
                    for msg in &s.messages {
                        progress::report(&pb, &format!("dehaze: {msg}"));
                    }
                    if s.failed {
                        *failed.lock().expect("no panic while holding the lock") += 1;
                    }
                    if let Some(row) = s.row {
                        if let Err(e) = pb.suspend(|| writeln!(stdout.lock(), "{row}")) {
                            print_error.lock().expect("not poisoned").get_or_insert(e);
                        }
                    }
                }
                pb.inc(1);
            });
    });
    pb.finish_and_clear();
    if let Some(e) = print_error.into_inner().expect("not poisoned") {
        return Err(anyhow::anyhow!("cannot write to standard output: {e}"));
    }
    let failed = failed.into_inner().expect("not poisoned");
    if failed > 0 {
        eprintln!(
            "dehaze: {} of {} images scored, {failed} failed",
            collected.inputs.len() - failed,
            collected.inputs.len()
        );
    }
    Ok(batch::exit_code(failed, &collected.problems))
}

/// Reads and scores one file (and its ground truth), as a CSV row of `columns` metrics.
fn score_file(
    input: &Input,
    clear: Option<&ClearIndex>,
    columns: usize,
    read: &ReadOptions,
) -> Scored {
    let mut messages = Vec::new();
    let mut failed = false;
    let img = match io::read_image(&input.path, read) {
        Ok(d) => Rgb8::from_rgb_image(&d.rgb),
        Err(e) => {
            return Scored {
                row: None,
                messages: vec![e.to_string()],
                failed: true,
            }
        }
    };
    let reference = match ground_truth::reference(clear, input, read) {
        Reference::NotAsked => None,
        Reference::Missing => {
            messages.push(format!(
                "{}: no ground truth of this name in --clear; full-reference cells left empty",
                input.path.display()
            ));
            None
        }
        Reference::Found { image, .. } => Some(image),
        Reference::Unreadable(e) => {
            messages.push(e);
            failed = true;
            None
        }
    };
    let (values, problem) = score(&img, reference.as_ref());
    if let Some(p) = problem {
        messages.push(format!("{}: {p}", input.path.display()));
        failed = true;
    }
    let mut row = csv_field(&input.path.to_string_lossy());
    for v in &values[..columns] {
        row.push(',');
        row.push_str(&cell(*v));
    }
    Scored {
        row: Some(row),
        messages,
        failed,
    }
}
