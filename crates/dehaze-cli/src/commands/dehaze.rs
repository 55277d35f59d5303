//! `dehaze IN... [-o OUT|DIR]`: the main job.

use crate::inputs::{self, Input};
use crate::outputs::{self, Target};
use crate::progress;
use clap::builder::TypedValueParser;
use clap::{Args, ValueEnum};
use dehaze_core::io::{self, Decoded, ReadOptions, WriteOptions, DEFAULT_MAX_PIXELS};
use dehaze_core::Method;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// `--method`'s parser: the names of [`Method::ALL`], so new methods appear by themselves.
pub(crate) fn method_parser() -> impl clap::builder::TypedValueParser<Value = Method> {
    clap::builder::PossibleValuesParser::new(Method::ALL.map(Method::name))
        .map(|name| Method::from_name(&name).expect("parser admits only known names"))
}

/// Output formats for `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Png,
    Jpg,
    Tif,
    Webp,
    Bmp,
}

#[derive(Debug, Args)]
pub struct DehazeArgs {
    /// Images, folders of images, or glob patterns (quoted) to dehaze.
    #[arg(required = true, value_name = "IN")]
    pub inputs: Vec<String>,

    /// Output file (one input) or folder (created if needed). Default: beside each input,
    /// as `<name>_dehazed.<ext>`. Inputs are never overwritten.
    #[arg(short, long, value_name = "OUT|DIR")]
    pub output: Option<PathBuf>,

    /// Dehazing method (`dehaze methods` lists them).
    #[arg(short, long, value_parser = method_parser(), default_value = "dcp")]
    pub method: Method,

    /// Output format for folder and beside-input outputs (default: the input's format).
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,

    /// JPEG quality of JPEG outputs, 1-100.
    #[arg(short, long, default_value_t = 95, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub quality: u8,

    /// Also write the transmission map, as `<output name>_transmission.png`.
    #[arg(long)]
    pub save_transmission: bool,

    /// Look into subfolders of folder inputs (outputs mirror the folder tree).
    #[arg(short, long)]
    pub recursive: bool,

    /// Worker threads (default: all cores).
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,

    /// Refuse images with more pixels than this (checked before decoding).
    #[arg(long, value_name = "PIXELS", default_value_t = DEFAULT_MAX_PIXELS)]
    pub max_pixels: u64,

    /// Print each file as it is written, and the time it took.
    #[arg(short, long)]
    pub verbose: bool,
}

pub fn run(args: &DehazeArgs) -> anyhow::Result<ExitCode> {
    let collected = inputs::collect_reported(&args.inputs, args.recursive);
    if collected.inputs.is_empty() {
        eprintln!("dehaze: nothing to do");
        return Ok(ExitCode::from(if collected.problems.is_empty() {
            2
        } else {
            1
        }));
    }
    let target = match Target::from_arg(args.output.as_deref(), collected.inputs.len()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("dehaze: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let extension = args.format.map(|f| format!("{f:?}").to_ascii_lowercase());
    let plan = outputs::plan(&collected.inputs, &target, extension.as_deref());

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .build()?;
    let pb = progress::bar(collected.inputs.len(), "dehazing");
    let failed = AtomicUsize::new(0);
    let job = Job {
        method: args.method,
        read: ReadOptions {
            max_pixels: args.max_pixels,
        },
        write: WriteOptions {
            jpeg_quality: args.quality,
        },
        save_transmission: args.save_transmission,
    };
    pool.install(|| {
        collected
            .inputs
            .par_iter()
            .zip(plan.par_iter())
            .for_each(|(input, output)| {
                let started = Instant::now();
                let result = output
                    .clone()
                    .and_then(|out| job.process(input, &out).map(|()| out));
                match result {
                    Ok(out) if args.verbose => progress::report(
                        &pb,
                        &format!(
                            "{} -> {} ({:.2} s)",
                            input.path.display(),
                            out.display(),
                            started.elapsed().as_secs_f64()
                        ),
                    ),
                    Ok(_) => {}
                    Err(e) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        progress::report(&pb, &format!("dehaze: {e}"));
                    }
                }
                pb.inc(1);
            });
    });
    pb.finish_and_clear();

    let failed = failed.into_inner();
    let total = collected.inputs.len();
    if failed > 0 || total > 1 {
        eprintln!(
            "dehaze: {} of {total} images dehazed, {failed} failed",
            total - failed
        );
    }
    Ok(if failed > 0 || !collected.problems.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// What to do with each file.
struct Job {
    method: Method,
    read: ReadOptions,
    write: WriteOptions,
    save_transmission: bool,
}

impl Job {
    /// Reads, dehazes and writes one image; the error is one line naming the file. A panic
    /// (a bug) is caught and reported for this file so that the rest of the batch goes on.
    fn process(&self, input: &Input, output: &Path) -> Result<(), String> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.process_inner(input, output)
        }))
        .unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(format!("{}: internal error: {what}", input.path.display()))
        })
    }

    fn process_inner(&self, input: &Input, output: &Path) -> Result<(), String> {
        let decoded = io::read_image(&input.path, &self.read).map_err(|e| e.to_string())?;
        let result = self.method.dehaze(&decoded.rgb);
        if let Some(dir) = output.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("{}: cannot create folder: {e}", dir.display()))?;
        }
        let out = Decoded {
            rgb: result.image,
            alpha: decoded.alpha,
            info: decoded.info,
        };
        io::write_image(output, &out, &self.write).map_err(|e| e.to_string())?;
        if self.save_transmission {
            let t = outputs::transmission_path(output);
            io::write_plane(&t, &result.transmission, false, &self.write)
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}
