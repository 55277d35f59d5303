//! `dehaze IN... [-o OUT|DIR]`: the main job.

use crate::batch::{self, BatchArgs};
use crate::flags::{self, tile_error, NetworkArgs};
use crate::inputs::{self, Input};
use crate::outputs::{self, Target};
use crate::progress;
use clap::{Args, ValueEnum};
use dehaze_core::buffer::Plane;
use dehaze_core::io::{self, Decoded, ReadOptions, WriteOptions};
use dehaze_nn::memory::format_bytes;
use dehaze_nn::restorer::{MethodChoice, Restorer};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

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

    /// Dehazing method (`dehaze methods` lists them). Networks (ka-net, ka-net-s, dhr-s,
    /// dhr-b) need weights (--weights) and process one image at a time, tiled to --max-memory.
    #[arg(short, long, value_parser = flags::parser(), default_value = "dcp")]
    pub method: MethodChoice,

    #[command(flatten)]
    pub network: NetworkArgs,

    /// Output format for folder and beside-input outputs (default: the input's format).
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,

    /// JPEG quality of JPEG outputs, 1-100.
    #[arg(short, long, default_value_t = 95, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub quality: u8,

    /// Also write the transmission map, as `<output name>_transmission.png` (prior methods).
    #[arg(long)]
    pub save_transmission: bool,

    /// Also write DHR's patch-importance map, as `<output name>_importance.png` (grey, at the
    /// image's size, scaled so that the most important patch is white).
    #[arg(long)]
    pub save_importance: bool,

    #[command(flatten)]
    pub batch: BatchArgs,

    /// Print each file as it is written, and the time it took.
    #[arg(short, long)]
    pub verbose: bool,
}

pub fn run(args: &DehazeArgs) -> anyhow::Result<ExitCode> {
    if let Err(e) = check_flags(args) {
        eprintln!("dehaze: {e}");
        return Ok(ExitCode::from(2));
    }
    // A network is loaded once, before the inputs are listed, and serves the whole batch.
    let restorer = match args.network.restorer(args.method) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("dehaze: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let collected = inputs::collect_reported(&args.inputs, args.batch.recursive);
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

    let pool = args.batch.pool()?;

    let pb = progress::bar(collected.inputs.len(), "dehazing");
    let failed = AtomicUsize::new(0);
    let job = FileJob {
        restorer: &restorer,
        read: args.batch.read_options(),
        write: WriteOptions {
            jpeg_quality: args.quality,
        },
        save_transmission: args.save_transmission,
        save_importance: args.save_importance,
        budget: format!("--max-memory {}", format_bytes(args.network.max_memory)),
    };
    // One file: run it, time it, report it; errors are counted and the batch goes on.
    let one = |(input, output): (&Input, &Result<PathBuf, String>)| {
        let started = Instant::now();
        let result = output.clone().and_then(|out| {
            batch::guarded(|| job.process(input, &out))
                .map_err(|e| format!("{}: {e}", input.path.display()))
                .and_then(|r| r)
                .map(|note| (out, note))
        });
        match result {
            Ok((out, note)) if args.verbose => progress::report(
                &pb,
                &format!(
                    "{} -> {} ({:.2} s{note})",
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
    };
    pool.install(|| {
        if restorer.images_in_parallel() {
            collected
                .inputs
                .par_iter()
                .zip(plan.par_iter())
                .for_each(one);
        } else {
            collected.inputs.iter().zip(plan.iter()).for_each(one);
        }
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
    Ok(batch::exit_code(failed, &collected.problems))
}

/// Flags that do not fit the method are usage errors, not silently ignored. (Weights for a
/// prior are refused where the restorer is built.)
fn check_flags(args: &DehazeArgs) -> Result<(), String> {
    let which = |has: fn(MethodChoice) -> bool| {
        MethodChoice::all()
            .into_iter()
            .filter(|&m| has(m))
            .map(MethodChoice::name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let m = args.method;
    if args.save_transmission && !m.has_transmission() {
        return Err(format!(
            "--save-transmission: {m} estimates no transmission map ({} do)",
            which(MethodChoice::has_transmission)
        ));
    }
    if args.save_importance && !m.has_importance() {
        return Err(format!(
            "--save-importance: {m} has no importance map ({} have)",
            which(MethodChoice::has_importance)
        ));
    }
    Ok(())
}

/// What to do with each file.
struct FileJob<'a> {
    restorer: &'a Restorer,
    read: ReadOptions,
    write: WriteOptions,
    save_transmission: bool,
    save_importance: bool,
    /// The memory budget as the verbose note names it.
    budget: String,
}

impl FileJob<'_> {
    /// Reads, dehazes and writes one image (and the maps asked for); the error is one line
    /// naming the file. Returns a note on how a network ran, for `--verbose`.
    fn process(&self, input: &Input, output: &Path) -> Result<String, String> {
        let Decoded { rgb, alpha, info } =
            io::read_image(&input.path, &self.read).map_err(|e| e.to_string())?;
        let restored = self
            .restorer
            .restore(rgb)
            .map_err(|e| format!("{}: {}", input.path.display(), tile_error(&e)))?;
        create_parent(output)?;
        let out = Decoded {
            rgb: restored.image,
            alpha,
            info,
        };
        io::write_image(output, &out, &self.write).map_err(|e| e.to_string())?;
        drop(out);
        if let (true, Some(t)) = (self.save_transmission, &restored.transmission) {
            io::write_plane(&outputs::transmission_path(output), t, false, &self.write)
                .map_err(|e| e.to_string())?;
        }
        if let (true, Some(map)) = (self.save_importance, restored.importance) {
            let path = outputs::importance_path(output);
            io::write_plane(&path, &scaled_to_max(map), false, &self.write)
                .map_err(|e| e.to_string())?;
        }
        Ok(restored
            .run
            .map(|run| run.note(&self.budget))
            .unwrap_or_default())
    }
}

/// The importance map divided by its maximum, so that it spans [0, 1] for a grey image
/// (`w_p` has mean 1 and no fixed upper bound).
fn scaled_to_max(mut map: Plane) -> Plane {
    let max = map.data().iter().copied().fold(0.0f32, f32::max);
    if max > 0.0 {
        for v in map.data_mut() {
            *v /= max;
        }
    }
    map
}

fn create_parent(output: &Path) -> Result<(), String> {
    if let Some(dir) = output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("{}: cannot create folder: {e}", dir.display()))?;
    }
    Ok(())
}
