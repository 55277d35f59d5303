//! `dehaze eval --method M... --hazy IN... [--clear DIR] [--out DIR]`: runs dehazing methods
//! over a set of images, scores the input and every output, and writes a report.
//!
//! Into `--out` (default `eval-report/`), each file written atomically:
//!
//! * `results.csv`: one row per image × {input, each method, ground truth}: `path` (the hazy
//!   input), `method`, `seconds` (the method's run time), the metric columns, `error`;
//! * `summary.md`, `summary.json`: per variant, the mean of each metric over the images where
//!   it has a value (with that count), the mean time per image, and image counts;
//! * `report.html`: one self-contained page (inline CSS/JS, images as `data:` URIs) with the
//!   summary table, a bar chart of the means, and a comparison slider for each image;
//! * `<method>/<name>.png`: the dehazed images, as scored (unless `--no-save-images`).
//!
//! Outputs are scored as they are saved: quantised to 8 bits ([`Rgb8::from_rgb_image`]). The
//! ground-truth row has the no-reference metrics only, as a target for them. A method that fails
//! (or panics) on an image is recorded in its row; the batch goes on and the exit code is 1.

use crate::batch::{self, guarded, BatchArgs};
use crate::flags::{self, tile_error, NetworkArgs};
use crate::ground_truth::{self, Reference};
use crate::inputs::{self, Input};
use crate::outputs::{self, Target};
use crate::progress;
use crate::report::model::{summarise, ImageResult, Kind, Row};
use crate::report::thumbnail::thumbnail;
use crate::report::{html, tables};
use crate::scoring::{score, N_METRICS};
use clap::Args;
use dehaze_core::io::{self, Decoded, ReadOptions, SourceInfo, WriteOptions};
use dehaze_core::metrics::Rgb8;
use dehaze_core::pairing::ClearIndex;
use dehaze_nn::restorer::{MethodChoice, Restorer};
use rayon::prelude::*;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Dehazing method to evaluate (`dehaze methods` lists them); repeat to compare several side
    /// by side. --weights is for the one network among them; other networks use the weights
    /// bundled with this build.
    #[arg(short, long = "method", value_name = "METHOD", value_parser = flags::parser(),
          default_value = "dcp")]
    pub methods: Vec<MethodChoice>,

    #[command(flatten)]
    pub network: NetworkArgs,

    /// Hazy images: folders, files or glob patterns (quoted).
    #[arg(long, required = true, num_args = 1.., value_name = "IN")]
    pub hazy: Vec<String>,

    /// Folder of ground-truth images, paired with the hazy ones by name (any image extension):
    /// adds the full-reference metrics (PSNR, SSIM).
    #[arg(long, value_name = "DIR")]
    pub clear: Option<PathBuf>,

    /// Report folder (created if needed; our files in it are replaced).
    #[arg(short, long, value_name = "DIR", default_value = "eval-report")]
    pub out: PathBuf,

    /// Evaluate only the first N images (operands in the order given, folders in name order).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,

    /// Do not save the dehazed images under `OUT/<method>/`.
    #[arg(long)]
    pub no_save_images: bool,

    /// Longest side, in pixels, of the images shown in report.html (larger ones are reduced).
    #[arg(long, value_name = "PX", default_value_t = 640,
          value_parser = clap::value_parser!(u32).range(16..=4096))]
    pub thumb_size: u32,

    /// Images are processed in parallel (priors), so the times measured share the machine; use
    /// --jobs 1 for timings to compare with other tools.
    #[command(flatten)]
    pub batch: BatchArgs,
}

pub fn run(args: &EvalArgs) -> anyhow::Result<ExitCode> {
    let mut methods: Vec<MethodChoice> = Vec::new();
    for &m in &args.methods {
        if !methods.contains(&m) {
            methods.push(m);
        }
    }
    let restorers = match args.network.restorers(&methods) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("dehaze: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let collected = inputs::collect_reported(&args.hazy, args.batch.recursive);
    let Ok(clear) = ground_truth::open_arg(args.clear.as_deref()) else {
        return Ok(ExitCode::from(2));
    };
    let mut images = collected.inputs;
    if let Some(n) = args.limit {
        images.truncate(n);
    }
    if images.is_empty() {
        eprintln!("dehaze: nothing to do");
        return Ok(ExitCode::from(if collected.problems.is_empty() {
            2
        } else {
            1
        }));
    }
    if args.out.is_file() {
        eprintln!(
            "dehaze: --out {}: is a file, not a folder",
            args.out.display()
        );
        return Ok(ExitCode::from(2));
    }
    std::fs::create_dir_all(&args.out)
        .map_err(|e| anyhow::anyhow!("{}: cannot create folder: {e}", args.out.display()))?;

    // Where each method's outputs go: OUT/<method>/<relative name>.png, never over an input.
    let saves: Vec<Vec<Result<PathBuf, String>>> = methods
        .iter()
        .map(|m| {
            if args.no_save_images {
                Vec::new()
            } else {
                let dir = Target::Folder(args.out.join(m.name()));
                outputs::plan(&images, &dir, Some("png"))
            }
        })
        .collect();

    let job = Evaluation {
        restorers: &restorers,
        clear: clear.as_ref(),
        read: args.batch.read_options(),
        thumb_size: args.thumb_size,
    };
    let pool = args.batch.pool()?;
    let pb = progress::bar(images.len(), "evaluating");
    let one = |(i, input): (usize, &Input)| {
        let save: Vec<Option<&Result<PathBuf, String>>> = saves.iter().map(|s| s.get(i)).collect();
        let (result, messages, failed) = job.evaluate(input, &save);
        for msg in &messages {
            progress::report(&pb, &format!("dehaze: {msg}"));
        }
        pb.inc(1);
        (result, failed)
    };
    // A network takes one image at a time (its memory budget is the process's; its backend
    // uses the pool's threads within the image); priors alone run images in parallel.
    let results: Vec<(ImageResult, bool)> = pool.install(|| {
        if restorers.iter().all(Restorer::images_in_parallel) {
            images.par_iter().enumerate().map(one).collect()
        } else {
            images.iter().enumerate().map(one).collect()
        }
    });
    pb.finish_and_clear();
    let failures = results.iter().filter(|(_, failed)| *failed).count();
    let results: Vec<ImageResult> = results.into_iter().map(|(r, _)| r).collect();

    let method_names: Vec<&str> = methods.iter().map(|m| m.name()).collect();
    let summary = summarise(&method_names, &results);
    let paired = results.iter().filter(|r| r.clear.is_some()).count();
    let unreadable = results.iter().filter(|r| r.error.is_some()).count();
    let markdown = tables::summary_markdown(&summary, results.len(), paired, &method_names);
    let files: [(&str, String); 4] = [
        ("results.csv", tables::results_csv(&results)),
        ("summary.md", markdown.clone()),
        (
            "summary.json",
            tables::summary_json(&summary, results.len(), paired, unreadable, &method_names),
        ),
        (
            "report.html",
            html::render(&html::Page {
                title: "Dehazing evaluation",
                methods: &method_names,
                summary: &summary,
                images: &results,
                paired,
            }),
        ),
    ];
    for (name, text) in &files {
        let path = args.out.join(name);
        dehaze_core::fs::write_atomic(&path, text.as_bytes())?;
    }
    print!("{markdown}");
    std::io::stdout().flush()?;
    eprintln!(
        "dehaze: report in {} ({} images, {} with ground truth, {failures} with problems)",
        args.out.join("report.html").display(),
        results.len(),
        paired
    );
    Ok(batch::exit_code(failures, &collected.problems))
}

/// What to do with each image.
struct Evaluation<'a> {
    /// One per method, in order.
    restorers: &'a [Restorer],
    clear: Option<&'a ClearIndex>,
    read: ReadOptions,
    thumb_size: u32,
}

impl Evaluation<'_> {
    /// Runs the methods on one image and scores everything. Returns the result, the lines to
    /// report, and whether something failed (unreadable image or ground truth, a method or a
    /// metric failing, an output not saved; a missing ground truth is only a warning).
    fn evaluate(
        &self,
        input: &Input,
        save: &[Option<&Result<PathBuf, String>>],
    ) -> (ImageResult, Vec<String>, bool) {
        let mut messages = Vec::new();
        let mut failed = false;
        let mut result = ImageResult {
            name: input.relative.to_string_lossy().into_owned(),
            path: input.path.clone(),
            clear: None,
            rows: Vec::new(),
            error: None,
        };
        let hazy = match io::read_image(&input.path, &self.read) {
            Ok(d) => d.rgb,
            Err(e) => {
                result.error = Some(e.reason.clone());
                messages.push(e.to_string());
                return (result, messages, true);
            }
        };
        let reference = match ground_truth::reference(self.clear, input, &self.read) {
            Reference::NotAsked => None,
            Reference::Missing => {
                messages.push(format!(
                    "{}: no ground truth of this name in --clear",
                    input.path.display()
                ));
                None
            }
            Reference::Found { path, image } => {
                result.clear = Some(path);
                Some(image)
            }
            Reference::Unreadable(e) => {
                failed = true;
                messages.push(e);
                None
            }
        };
        let hazy8 = Rgb8::from_rgb_image(&hazy);
        let mut rows =
            vec![self.scored_row("input", Kind::Input, None, &hazy8, reference.as_ref())];
        for (k, restorer) in self.restorers.iter().enumerate() {
            let method = restorer.method();
            let started = Instant::now();
            let dehazed = guarded(|| {
                restorer
                    .restore(hazy.clone())
                    .map(|r| r.image)
                    .map_err(|e| tile_error(&e))
            })
            .and_then(|r| r);
            let seconds = started.elapsed().as_secs_f64();
            let out = match dehazed {
                Ok(image) => image,
                Err(e) => {
                    rows.push(Row {
                        variant: method.name().to_string(),
                        kind: Kind::Method,
                        seconds: None,
                        values: [None; N_METRICS],
                        error: Some(e),
                        thumb: None,
                    });
                    continue;
                }
            };
            let out8 = Rgb8::from_rgb_image(&out);
            rows.push(self.scored_row(
                method.name(),
                Kind::Method,
                Some(seconds),
                &out8,
                reference.as_ref(),
            ));
            match save.get(k).copied().flatten() {
                Some(Ok(path)) => {
                    if let Err(e) = save_png(path, out) {
                        failed = true;
                        messages.push(e);
                    }
                }
                Some(Err(e)) => {
                    failed = true;
                    messages.push(e.clone());
                }
                None => {}
            }
        }
        if let Some(clear8) = &reference {
            rows.push(self.scored_row("clear", Kind::Clear, None, clear8, None));
        }
        for row in &rows {
            if let Some(e) = &row.error {
                failed = true;
                messages.push(format!("{} ({}): {e}", input.path.display(), row.variant));
            }
        }
        result.rows = rows;
        (result, messages, failed)
    }

    /// Scores one variant of an image and makes its thumbnail.
    fn scored_row(
        &self,
        variant: &str,
        kind: Kind,
        seconds: Option<f64>,
        img: &Rgb8,
        reference: Option<&Rgb8>,
    ) -> Row {
        let (values, error) = score(img, reference);
        Row {
            variant: variant.to_string(),
            kind,
            seconds,
            values,
            error,
            thumb: thumbnail(img, self.thumb_size).ok(),
        }
    }
}

/// Writes a dehazed image as the 8-bit RGB PNG that was scored.
fn save_png(path: &Path, rgb: dehaze_core::RgbImage) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("{}: cannot create folder: {e}", dir.display()))?;
    }
    let decoded = Decoded {
        rgb,
        alpha: None,
        info: SourceInfo::rgb8(),
    };
    io::write_image(path, &decoded, &WriteOptions::default()).map_err(|e| e.to_string())
}
