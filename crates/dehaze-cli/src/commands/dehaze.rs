//! `dehaze IN... [-o OUT|DIR]`: the main job.

use crate::inputs::{self, Input};
use crate::method_choice::{self, MethodChoice, NetworkArgs};
use crate::outputs::{self, Target};
use crate::progress;
use clap::{Args, ValueEnum};
use dehaze_core::buffer::{Plane, RgbImage};
use dehaze_core::filters::guided_upsample::GuidedUpsample;
use dehaze_core::io::{self, Decoded, ReadOptions, WriteOptions, DEFAULT_MAX_PIXELS};
use dehaze_core::Method;
use dehaze_nn::inference::{Network, NetworkKind};
use dehaze_nn::memory::{format_bytes, plan_tiles};
use dehaze_nn::tiling::{restore_tiled, AxisTiles, RestoredImage, TileSpec};
use dehaze_nn::working_size::{restore_at_size, NetworkSize};
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

    /// Dehazing method (`dehaze methods` lists them). Networks (ka-net, dhr-s, dhr-b) need
    /// weights (--weights) and process one image at a time, tiled to --max-memory.
    #[arg(short, long, value_parser = method_choice::parser(), default_value = "dcp")]
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
    if let Err(e) = check_flags(args) {
        eprintln!("dehaze: {e}");
        return Ok(ExitCode::from(2));
    }
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
    // A network is loaded once, before the first file, and serves the whole batch.
    let network = match args.method {
        MethodChoice::Prior(_) => None,
        MethodChoice::Network(kind) => match load_network(kind, &args.network) {
            Ok(net) => Some(net),
            Err(e) => {
                eprintln!("dehaze: {e}");
                return Ok(ExitCode::from(2));
            }
        },
    };

    let pb = progress::bar(collected.inputs.len(), "dehazing");
    let failed = AtomicUsize::new(0);
    let job = Job {
        read: ReadOptions {
            max_pixels: args.max_pixels,
        },
        write: WriteOptions {
            jpeg_quality: args.quality,
        },
        save_transmission: args.save_transmission,
        save_importance: args.save_importance,
        max_memory: args.network.max_memory,
        network_size: args.network.network_size,
    };
    // One file: run it, time it, report it; errors are counted and the batch goes on.
    let one = |input: &Input,
               output: &Result<PathBuf, String>,
               work: &dyn Fn(&Path) -> Result<String, String>| {
        let started = Instant::now();
        let result = output
            .clone()
            .and_then(|out| guarded(input, || work(&out)).map(|note| (out, note)));
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
    pool.install(|| match (&network, args.method) {
        // A network runs one image at a time: its memory budget is the process's, and its
        // backend uses the pool's threads within each image.
        (Some(net), _) => {
            for (input, output) in collected.inputs.iter().zip(&plan) {
                one(input, output, &|out| job.process_network(net, input, out));
            }
        }
        (None, MethodChoice::Prior(method)) => {
            collected
                .inputs
                .par_iter()
                .zip(plan.par_iter())
                .for_each(|(input, output)| {
                    one(input, output, &|out| job.process_prior(method, input, out));
                });
        }
        (None, MethodChoice::Network(_)) => unreachable!("networks are loaded above"),
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

/// Flags that do not fit the method are usage errors, not silently ignored.
fn check_flags(args: &DehazeArgs) -> Result<(), String> {
    match args.method {
        MethodChoice::Prior(m) => {
            if args.network.weights.is_some() {
                return Err(format!(
                    "--weights is for network methods; {} needs none",
                    m.name()
                ));
            }
            if args.save_importance {
                return Err(format!(
                    "--save-importance: {} has no importance map (dhr-s and dhr-b have)",
                    m.name()
                ));
            }
        }
        MethodChoice::Network(kind) => {
            if args.save_transmission {
                return Err(format!(
                    "--save-transmission: {} estimates no transmission map (dcp, cap and bccr do)",
                    kind.name()
                ));
            }
            if args.save_importance && !kind.has_importance() {
                return Err(format!(
                    "--save-importance: {} has no importance map (dhr-s and dhr-b have)",
                    kind.name()
                ));
            }
        }
    }
    Ok(())
}

/// The network with `--weights FILE`, else with the weights compiled into this build, else a
/// refusal that says how to get weights: a network never runs with random weights.
pub(crate) fn load_network(kind: NetworkKind, args: &NetworkArgs) -> Result<Network, String> {
    let device = args.device.device().map_err(|e| format!("--device: {e}"))?;
    let weights = args.weights.as_deref();
    let loaded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match weights {
        Some(path) => Some(Network::load(kind, path, &device)),
        None => Network::load_bundled(kind, &device),
    }))
    .map_err(|panic| {
        format!(
            "{}: internal error while loading the weights: {}",
            kind.name(),
            panic_message(&*panic)
        )
    })?;
    match loaded {
        Some(Ok(net)) => Ok(net),
        Some(Err(e)) => Err(format!("cannot load {} weights from {e}", kind.name())),
        None => Err(format!(
            "{} has no weights in this build, and networks never run with untrained (random) \
             weights: {}",
            kind.name(),
            kind.weights_hint()
        )),
    }
}

/// Runs `work` for one file, turning a panic (a bug) into this file's error so that the rest of
/// the batch goes on.
fn guarded<T>(input: &Input, work: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).unwrap_or_else(|panic| {
        Err(format!(
            "{}: internal error: {}",
            input.path.display(),
            panic_message(&*panic)
        ))
    })
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// What to do with each file.
struct Job {
    read: ReadOptions,
    write: WriteOptions,
    save_transmission: bool,
    save_importance: bool,
    max_memory: u64,
    network_size: NetworkSize,
}

impl Job {
    /// Reads, dehazes with a prior and writes one image; the error is one line naming the file.
    fn process_prior(
        &self,
        method: Method,
        input: &Input,
        output: &Path,
    ) -> Result<String, String> {
        let decoded = io::read_image(&input.path, &self.read).map_err(|e| e.to_string())?;
        let result = method.dehaze(&decoded.rgb);
        create_parent(output)?;
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
        Ok(String::new())
    }

    /// Reads, restores with the network (at the working size, or tiled to the memory limit)
    /// and writes one image. Returns a note on how it ran for `--verbose`.
    fn process_network(
        &self,
        net: &Network,
        input: &Input,
        output: &Path,
    ) -> Result<String, String> {
        let Decoded { rgb, alpha, info } =
            io::read_image(&input.path, &self.read).map_err(|e| e.to_string())?;
        // The input's buffer becomes the output (guided upsampling writes in place).
        let (restored, note) = restore_network(net, rgb, self.max_memory, self.network_size)
            .map_err(|e| format!("{}: {e}", input.path.display()))?;
        create_parent(output)?;
        let out = Decoded {
            rgb: restored.image,
            alpha,
            info,
        };
        io::write_image(output, &out, &self.write).map_err(|e| e.to_string())?;
        drop(out);
        if self.save_importance {
            if let Some(map) = restored.importance {
                let path = outputs::importance_path(output);
                io::write_plane(&path, &scaled_to_max(map), false, &self.write)
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(note)
    }
}

/// Restores `rgb` with `net` at `size` (dehaze-nn's working_size: downscaled copy + guided
/// upsampling above the working size), each pass tiled to `max_memory` where it must be.
/// Returns the result and a note on how it ran (for `--verbose`).
pub(crate) fn restore_network(
    net: &Network,
    rgb: RgbImage,
    max_memory: u64,
    size: NetworkSize,
) -> Result<(RestoredImage, String), String> {
    let (w, h) = (rgb.width(), rgb.height());
    let (lw, lh) = size.network_input(w, h);
    let mut note = if (lw, lh) == (w, h) {
        String::new()
    } else {
        format!(", network at {lw}×{lh}, guided upsampling to {w}×{h}")
    };
    let restored = restore_at_size(rgb, size, &GuidedUpsample::default(), |low| {
        let (r, tiles, spec) = restore_within(net, low, max_memory)?;
        note.push_str(&if tiles == 1 {
            ", whole image".to_string()
        } else {
            format!(
                ", {tiles} tiles of {} px for --max-memory {}",
                spec.tile,
                format_bytes(max_memory)
            )
        });
        Ok::<_, String>(r)
    })?;
    Ok((restored, note))
}

/// Restores `rgb` with `net` in tiles sized for `max_memory` (one tile when it fits). Returns
/// the result, the number of tiles and their layout; the error says why no tile fits.
pub(crate) fn restore_within(
    net: &Network,
    rgb: &RgbImage,
    max_memory: u64,
) -> Result<(RestoredImage, usize, TileSpec), String> {
    let (w, h) = (rgb.width(), rgb.height());
    let multiple = net.size_multiple();
    let spec = plan_tiles(
        &net.kind().tiling(),
        w,
        h,
        net.weights_bytes(),
        max_memory,
        multiple,
    )
    .map_err(|e| format!("{w}×{h} with {}: {e}", net.kind().name()))?;
    let tiles = AxisTiles::new(w, multiple, &spec).starts.len()
        * AxisTiles::new(h, multiple, &spec).starts.len();
    let restored = restore_tiled(
        rgb,
        multiple,
        &spec,
        net.device(),
        |x| net.restore(x),
        |_, _| {},
    );
    Ok((restored, tiles, spec))
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
