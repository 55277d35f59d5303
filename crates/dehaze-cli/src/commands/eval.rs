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

use crate::commands::dehaze::{load_network, restore_network};
use crate::commands::metrics::{self, cell, csv_field, guarded, ClearIndex, Values, METRICS};
use crate::inputs::{self, Input};
use crate::method_choice::{self, MethodChoice, NetworkArgs};
use crate::outputs::{self, Target};
use crate::progress;
use crate::report;
use base64::Engine as _;
use clap::Args;
use dehaze_core::io::{self, Decoded, ReadOptions, SourceInfo, WriteOptions, DEFAULT_MAX_PIXELS};
use dehaze_core::metrics::Rgb8;
use dehaze_nn::inference::Network;
use dehaze_nn::working_size::NetworkSize;
use rayon::prelude::*;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Dehazing method to evaluate (`dehaze methods` lists them); repeat to compare several side
    /// by side. At most one network (ka-net, dhr-s, dhr-b) per run, with its --weights.
    #[arg(short, long = "method", value_name = "METHOD", value_parser = method_choice::parser(),
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

    /// Worker threads (default: all cores). Images are processed in parallel, so the times
    /// measured share the machine; use --jobs 1 for timings to compare with other tools.
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,

    /// Evaluate only the first N images (operands in the order given, folders in name order).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,

    /// Do not save the dehazed images under OUT/<method>/.
    #[arg(long)]
    pub no_save_images: bool,

    /// Longest side, in pixels, of the images shown in report.html (larger ones are reduced).
    #[arg(long, value_name = "PX", default_value_t = 640,
          value_parser = clap::value_parser!(u32).range(16..=4096))]
    pub thumb_size: u32,

    /// Look into subfolders of folder inputs (and of --clear, by the same relative path).
    #[arg(short, long)]
    pub recursive: bool,

    /// Refuse images with more pixels than this (checked before decoding).
    #[arg(long, value_name = "PIXELS", default_value_t = DEFAULT_MAX_PIXELS)]
    pub max_pixels: u64,
}

/// What a row of the results is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Input,
    Method,
    Clear,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Input => "input",
            Kind::Method => "method",
            Kind::Clear => "clear",
        }
    }
}

/// One image × variant: a row of `results.csv`.
#[derive(Clone, Debug)]
pub struct Row {
    /// `input`, a method's name, or `clear`.
    pub variant: String,
    pub kind: Kind,
    /// The method's run time (methods only).
    pub seconds: Option<f64>,
    pub values: Values,
    /// Why this variant has no result (method failed), or a metric problem.
    pub error: Option<String>,
    /// The image as shown in the report: a `data:image/jpeg;base64,…` URI and its size.
    pub thumb: Option<Thumb>,
}

/// A reduced JPEG of an image for the report.
#[derive(Clone, Debug)]
pub struct Thumb {
    pub data_uri: String,
    pub width: u32,
    pub height: u32,
}

/// Everything measured on one input image.
#[derive(Clone, Debug)]
pub struct ImageResult {
    /// The name shown (path relative to the operand it came from).
    pub name: String,
    pub path: PathBuf,
    /// Its ground truth, when paired.
    pub clear: Option<PathBuf>,
    /// `input`, then each method, then `clear` when paired. Empty if unreadable.
    pub rows: Vec<Row>,
    /// Why the image could not be read.
    pub error: Option<String>,
}

/// The means of one variant over the set: a row of the summary.
#[derive(Clone, Debug)]
pub struct VariantSummary {
    pub name: String,
    pub kind: Kind,
    /// Images this variant has a row for.
    pub images: usize,
    /// Rows with an error (method failure or metric problem).
    pub failed: usize,
    /// Mean run time per image (methods only).
    pub mean_seconds: Option<f64>,
    /// Mean of each metric over the rows where it has a value…
    pub means: Values,
    /// …and how many rows that is.
    pub counts: [usize; metrics::N_METRICS],
}

pub fn run(args: &EvalArgs) -> anyhow::Result<ExitCode> {
    let mut methods: Vec<MethodChoice> = Vec::new();
    for &m in &args.methods {
        if !methods.contains(&m) {
            methods.push(m);
        }
    }
    let networks: Vec<_> = methods
        .iter()
        .filter_map(|m| match m {
            MethodChoice::Network(k) => Some(*k),
            MethodChoice::Prior(_) => None,
        })
        .collect();
    let network = match (networks.as_slice(), &args.network.weights) {
        ([], None) => None,
        ([], Some(_)) => {
            eprintln!("dehaze: --weights is for a network method (ka-net, dhr-s, dhr-b)");
            return Ok(ExitCode::from(2));
        }
        ([kind], _) => match load_network(*kind, &args.network) {
            Ok(net) => Some(net),
            Err(e) => {
                eprintln!("dehaze: {e}");
                return Ok(ExitCode::from(2));
            }
        },
        (several, _) => {
            eprintln!(
                "dehaze: one network per eval run (--weights names its weights), not {}",
                several
                    .iter()
                    .map(|k| k.name())
                    .collect::<Vec<_>>()
                    .join(" and ")
            );
            return Ok(ExitCode::from(2));
        }
    };
    let collected = inputs::collect_reported(&args.hazy, args.recursive);
    let Ok(clear) = ClearIndex::open_arg(args.clear.as_deref()) else {
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

    let job = Job {
        methods: &methods,
        network: network.as_ref(),
        max_memory: args.network.max_memory,
        network_size: args.network.network_size,
        clear: clear.as_ref(),
        read: ReadOptions {
            max_pixels: args.max_pixels,
        },
        thumb_size: args.thumb_size,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .build()?;
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
        if job.network.is_some() {
            images.iter().enumerate().map(one).collect()
        } else {
            images.par_iter().enumerate().map(one).collect()
        }
    });
    pb.finish_and_clear();
    let failures = results.iter().filter(|(_, failed)| *failed).count();
    let results: Vec<ImageResult> = results.into_iter().map(|(r, _)| r).collect();

    let summary = summarise(&methods, &results);
    let method_names: Vec<&str> = methods.iter().map(|m| m.name()).collect();
    let paired = results.iter().filter(|r| r.clear.is_some()).count();
    let unreadable = results.iter().filter(|r| r.error.is_some()).count();
    let markdown = summary_markdown(&summary, results.len(), paired, &method_names);
    let files: [(&str, String); 4] = [
        ("results.csv", results_csv(&results)),
        ("summary.md", markdown.clone()),
        (
            "summary.json",
            summary_json(&summary, results.len(), paired, unreadable, &method_names),
        ),
        (
            "report.html",
            report::render(&report::Page {
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
    Ok(if failures > 0 || !collected.problems.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// What to do with each image.
struct Job<'a> {
    methods: &'a [MethodChoice],
    /// The loaded network of the network method, if there is one.
    network: Option<&'a Network>,
    max_memory: u64,
    network_size: NetworkSize,
    clear: Option<&'a ClearIndex>,
    read: ReadOptions,
    thumb_size: u32,
}

impl Job<'_> {
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
        let reference = match self.clear.map(|c| c.find(input)) {
            None => None,
            Some(None) => {
                messages.push(format!(
                    "{}: no ground truth of this name in --clear",
                    input.path.display()
                ));
                None
            }
            Some(Some(p)) => match io::read_image(&p, &self.read) {
                Ok(d) => {
                    result.clear = Some(p);
                    Some(Rgb8::from_rgb_image(&d.rgb))
                }
                Err(e) => {
                    failed = true;
                    messages.push(format!("ground truth {e}"));
                    None
                }
            },
        };
        let hazy8 = Rgb8::from_rgb_image(&hazy);
        let mut rows =
            vec![self.scored_row("input", Kind::Input, None, &hazy8, reference.as_ref())];
        for (k, &method) in self.methods.iter().enumerate() {
            let started = Instant::now();
            let dehazed = guarded(|| match (method, self.network) {
                (MethodChoice::Prior(m), _) => Ok(m.dehaze(&hazy).image),
                (MethodChoice::Network(_), Some(net)) => {
                    restore_network(net, hazy.clone(), self.max_memory, self.network_size)
                        .map(|(r, _)| r.image)
                }
                (MethodChoice::Network(k), None) => Err(format!("{}: not loaded", k.name())),
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
                        values: [None; metrics::N_METRICS],
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
        let (values, error) = metrics::score(img, reference);
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

/// The image reduced to at most `long_side` pixels on its longest side, as a JPEG (quality 85)
/// `data:` URI.
pub fn thumbnail(img: &Rgb8, long_side: u32) -> Result<Thumb, String> {
    let (w, h) = (img.width() as u32, img.height() as u32);
    let full = image::RgbImage::from_raw(w, h, img.data().to_vec())
        .ok_or("image buffer of the wrong size")?;
    let longest = w.max(h);
    let small = if longest > long_side {
        let scale = f64::from(long_side) / f64::from(longest);
        let nw = ((f64::from(w) * scale).round() as u32).max(1);
        let nh = ((f64::from(h) * scale).round() as u32).max(1);
        image::imageops::resize(&full, nw, nh, image::imageops::FilterType::Triangle)
    } else {
        full
    };
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode_image(&small)
        .map_err(|e| e.to_string())?;
    Ok(Thumb {
        data_uri: format!(
            "data:image/jpeg;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&jpeg)
        ),
        width: small.width(),
        height: small.height(),
    })
}

/// Per variant (input, each method, ground truth if any image has one): means and counts.
pub fn summarise(methods: &[MethodChoice], results: &[ImageResult]) -> Vec<VariantSummary> {
    let mut variants: Vec<(String, Kind)> = vec![("input".into(), Kind::Input)];
    variants.extend(methods.iter().map(|m| (m.name().to_string(), Kind::Method)));
    if results.iter().any(|r| r.clear.is_some()) {
        variants.push(("clear".into(), Kind::Clear));
    }
    variants
        .into_iter()
        .map(|(name, kind)| {
            let rows: Vec<&Row> = results
                .iter()
                .flat_map(|r| r.rows.iter())
                .filter(|row| row.variant == name && row.kind == kind)
                .collect();
            let mut sums = [0.0; metrics::N_METRICS];
            let mut counts = [0; metrics::N_METRICS];
            for row in &rows {
                for (i, v) in row.values.iter().enumerate() {
                    if let Some(v) = v {
                        sums[i] += v;
                        counts[i] += 1;
                    }
                }
            }
            let times: Vec<f64> = rows.iter().filter_map(|r| r.seconds).collect();
            let mut means = [None; metrics::N_METRICS];
            for i in 0..metrics::N_METRICS {
                if counts[i] > 0 {
                    means[i] = Some(sums[i] / counts[i] as f64);
                }
            }
            VariantSummary {
                images: rows.len(),
                failed: rows.iter().filter(|r| r.error.is_some()).count(),
                mean_seconds: (!times.is_empty())
                    .then(|| times.iter().sum::<f64>() / times.len() as f64),
                means,
                counts,
                name,
                kind,
            }
        })
        .collect()
}

/// The metrics (indices into [`METRICS`]) that have a value somewhere in the summary.
pub fn shown_metrics(summary: &[VariantSummary]) -> Vec<usize> {
    (0..metrics::N_METRICS)
        .filter(|&i| summary.iter().any(|v| v.counts[i] > 0))
        .collect()
}

/// `results.csv`.
pub fn results_csv(results: &[ImageResult]) -> String {
    let mut out = String::from("path,method,seconds");
    for m in &METRICS {
        out.push(',');
        out.push_str(m.name);
    }
    out.push_str(",error\n");
    for r in results {
        let path = csv_field(&r.path.to_string_lossy());
        if let Some(e) = &r.error {
            // Empty time and metric cells, then the error.
            let _ = writeln!(
                out,
                "{path},input,{},{}",
                ",".repeat(metrics::N_METRICS),
                csv_field(e)
            );
            continue;
        }
        for row in &r.rows {
            let _ = write!(
                out,
                "{path},{},{}",
                csv_field(&row.variant),
                cell(row.seconds)
            );
            for v in &row.values {
                out.push(',');
                out.push_str(&cell(*v));
            }
            out.push(',');
            out.push_str(&csv_field(row.error.as_deref().unwrap_or("")));
            out.push('\n');
        }
    }
    out
}

/// A metric's column heading with its direction: `PSNR RGB ↑`.
pub fn heading(i: usize) -> String {
    let m = &METRICS[i];
    format!("{} {}", m.label, if m.higher_is_better { "↑" } else { "↓" })
}

/// `summary.md`: a Markdown table of the means.
pub fn summary_markdown(
    summary: &[VariantSummary],
    images: usize,
    paired: usize,
    methods: &[&str],
) -> String {
    let shown = shown_metrics(summary);
    let mut out = String::from("# Dehazing evaluation\n\n");
    let _ = writeln!(
        out,
        "{images} images ({paired} with ground truth); methods: {}.\n\n\
         Means over the images where each metric has a value (↑ higher is better, \
         ↓ lower is better); time is the method's mean run time per image.\n",
        methods.join(", ")
    );
    out.push_str("| variant | images | failed | s / image |");
    for &i in &shown {
        let _ = write!(out, " {} |", heading(i));
    }
    out.push_str("\n|---|---:|---:|---:|");
    out.push_str(&"---:|".repeat(shown.len()));
    out.push('\n');
    for v in summary {
        let secs = v
            .mean_seconds
            .map(|s| format!("{s:.3}"))
            .unwrap_or_default();
        let _ = write!(out, "| {} | {} | {} | {secs} |", v.name, v.images, v.failed);
        for &i in &shown {
            let mean = v.means[i].map(|x| format!("{x:.4}")).unwrap_or_default();
            let _ = write!(out, " {mean} |");
        }
        out.push('\n');
    }
    out
}

/// `summary.json`.
pub fn summary_json(
    summary: &[VariantSummary],
    images: usize,
    paired: usize,
    unreadable: usize,
    methods: &[&str],
) -> String {
    use serde_json::{json, Map, Value};
    let variants: Vec<Value> = summary
        .iter()
        .map(|v| {
            let mut means = Map::new();
            let mut counts = Map::new();
            for (i, m) in METRICS.iter().enumerate() {
                means.insert(m.name.into(), json!(v.means[i]));
                counts.insert(m.name.into(), json!(v.counts[i]));
            }
            json!({
                "name": v.name,
                "kind": v.kind.name(),
                "images": v.images,
                "failed": v.failed,
                "mean_seconds": v.mean_seconds,
                "mean": means,
                "count": counts,
            })
        })
        .collect();
    let metrics: Vec<Value> = METRICS
        .iter()
        .map(|m| {
            json!({
                "name": m.name,
                "label": m.label,
                "higher_is_better": m.higher_is_better,
                "full_reference": m.full_reference,
            })
        })
        .collect();
    let doc = json!({
        "generator": concat!("dehaze eval ", env!("CARGO_PKG_VERSION")),
        "images": images,
        "paired": paired,
        "unreadable": unreadable,
        "methods": methods,
        "metrics": metrics,
        "variants": variants,
    });
    let mut text = serde_json::to_string_pretty(&doc).expect("a JSON value serialises");
    text.push('\n');
    text
}
