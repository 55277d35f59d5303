//! `dehaze metrics IMG... [--clear DIR]`: image-quality scores as CSV on standard output.
//!
//! One row per image, in input order (images are scored in parallel; rows wait for the ones
//! before them). Columns: `path`, the five no-reference metrics, and with `--clear` the five
//! full-reference metrics against the ground truth of the same name. A cell is empty when the
//! metric has no value on that image (too small, undefined, no ground truth). A file that
//! cannot be read gets no row, an error on standard error, and exit code 1.
//!
//! This module also holds what `dehaze eval` shares with it: the metric table ([`METRICS`]),
//! scoring an 8-bit image ([`score`]), finding a ground truth ([`ClearIndex`]) and CSV cells.

use crate::inputs::{self, Input};
use crate::progress;
use clap::Args;
use dehaze_core::io::{self, has_image_extension, ReadOptions, DEFAULT_MAX_PIXELS};
use dehaze_core::metrics::{self as m, MetricError, Rgb8};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

/// One quality metric: its CSV column name, how the report labels it, which way is better.
#[derive(Clone, Copy, Debug)]
pub struct Metric {
    pub name: &'static str,
    pub label: &'static str,
    pub higher_is_better: bool,
    /// Needs a ground truth (full-reference metric).
    pub full_reference: bool,
}

const fn metric(
    name: &'static str,
    label: &'static str,
    higher_is_better: bool,
    full_reference: bool,
) -> Metric {
    Metric {
        name,
        label,
        higher_is_better,
        full_reference,
    }
}

/// Number of no-reference metrics: the first `N_NR` of [`METRICS`].
pub const N_NR: usize = 5;
/// Number of metrics in [`METRICS`].
pub const N_METRICS: usize = 10;

/// Every metric, in CSV column order: the no-reference ones, then the full-reference ones.
pub const METRICS: [Metric; N_METRICS] = [
    metric("fade", "FADE", false, false),
    metric("niqe_y", "NIQE (Y)", false, false),
    metric("niqe_gray", "NIQE (grey)", false, false),
    metric("brisque", "BRISQUE", false, false),
    metric("entropy", "Entropy", true, false),
    metric("psnr_rgb", "PSNR RGB", true, true),
    metric("ssim_rgb_gauss", "SSIM RGB (Gauss)", true, true),
    metric("ssim_rgb_uniform", "SSIM RGB (uniform)", true, true),
    metric("psnr_y", "PSNR Y", true, true),
    metric("ssim_y", "SSIM Y", true, true),
];

/// The value of each of [`METRICS`] for one image; `None` where there is none.
pub type Values = [Option<f64>; N_METRICS];

/// Scores `img`: the no-reference metrics, and the full-reference ones against `reference`.
///
/// Returns the values and, if something went wrong (a size mismatch with the reference, a
/// metric that panicked), one line saying what; the values that could be computed are kept.
/// Non-finite values (e.g. the PSNR of identical images) count as no value.
pub fn score(img: &Rgb8, reference: Option<&Rgb8>) -> (Values, Option<String>) {
    let mut values: Values = [None; N_METRICS];
    let mut problems = Vec::new();
    match guarded(|| m::no_reference(img)) {
        Ok(s) => {
            values[..N_NR].copy_from_slice(&[s.fade, s.niqe_y, s.niqe_gray, s.brisque, s.entropy])
        }
        Err(e) => problems.push(format!("no-reference metrics failed: {e}")),
    }
    if let Some(reference) = reference {
        match guarded(|| full_reference(img, reference)) {
            Ok(Ok(fr)) => values[N_NR..].copy_from_slice(&fr),
            Ok(Err(e)) => problems.push(format!("full-reference metrics: {e}")),
            Err(e) => problems.push(format!("full-reference metrics failed: {e}")),
        }
    }
    for v in &mut values {
        *v = v.filter(|x| x.is_finite());
    }
    let problem = (!problems.is_empty()).then(|| problems.join("; "));
    (values, problem)
}

/// The five full-reference values; `Err` only for images of different sizes. When the images
/// are too small for some metric (SSIM's window), the others are still given.
fn full_reference(img: &Rgb8, reference: &Rgb8) -> Result<[Option<f64>; 5], MetricError> {
    match m::full_reference(img, reference) {
        Ok(s) => Ok([
            s.psnr_rgb,
            s.ssim_rgb_gauss,
            s.ssim_rgb_uniform,
            s.psnr_y,
            s.ssim_y,
        ]
        .map(Some)),
        Err(e @ MetricError::SizeMismatch { .. }) => Err(e),
        Err(_) => Ok([
            m::psnr_rgb(img, reference).ok(),
            m::ssim_rgb_gauss(img, reference).ok(),
            m::ssim_rgb_uniform(img, reference).ok(),
            m::psnr_y(img, reference).ok(),
            m::ssim_y(img, reference).ok(),
        ]),
    }
}

/// Runs `f`, turning a panic (a bug in a metric or a method) into an error message.
pub fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        format!("internal error: {what}")
    })
}

/// A CSV cell for a metric value: 6 decimals, empty when there is none.
pub fn cell(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite())
        .map(|x| format!("{x:.6}"))
        .unwrap_or_default()
}

/// A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180).
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The ground-truth images of a folder, found by name: for an input `sub/05.jpg`, the file
/// `sub/05.jpg` in the folder if there is one, else any image `sub/05.*` (ground truth is often
/// stored as PNG beside JPEG inputs).
#[derive(Debug, Default)]
pub struct ClearIndex {
    root: PathBuf,
    by_stem: HashMap<(PathBuf, String), PathBuf>,
}

impl ClearIndex {
    /// The index of a `--clear DIR` argument, if given; a bad folder is reported on standard
    /// error (`Err`: a usage error).
    pub fn open_arg(dir: Option<&Path>) -> Result<Option<Self>, ()> {
        dir.map(Self::new).transpose().map_err(|e| {
            eprintln!("dehaze: --clear {e}");
        })
    }

    /// Lists `dir` and its subfolders once.
    pub fn new(dir: &Path) -> Result<Self, String> {
        if !dir.is_dir() {
            return Err(format!("{}: not a folder", dir.display()));
        }
        let mut index = ClearIndex {
            root: dir.to_path_buf(),
            by_stem: HashMap::new(),
        };
        let mut pending = vec![dir.to_path_buf()];
        while let Some(d) = pending.pop() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&d)
                .map_err(|e| format!("{}: cannot list folder: {e}", d.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            // Sorted, so that of `a.jpg` and `a.png` the same one is always chosen.
            entries.sort();
            for p in entries {
                if p.is_dir() {
                    pending.push(p);
                } else if has_image_extension(&p) {
                    let rel = p.strip_prefix(dir).unwrap_or(&p);
                    let parent = rel.parent().map(Path::to_path_buf).unwrap_or_default();
                    let stem = rel.file_stem().unwrap_or_default().to_string_lossy().into();
                    index.by_stem.entry((parent, stem)).or_insert(p);
                }
            }
        }
        Ok(index)
    }

    /// The ground truth of `input`, if any.
    pub fn find(&self, input: &Input) -> Option<PathBuf> {
        let exact = self.root.join(&input.relative);
        if exact.is_file() {
            return Some(exact);
        }
        let parent = input
            .relative
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let stem = input.relative.file_stem()?.to_string_lossy().into_owned();
        self.by_stem.get(&(parent, stem)).cloned()
    }
}

#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// Images, folders of images, or glob patterns (quoted) to score.
    #[arg(required = true, value_name = "IMG")]
    pub inputs: Vec<String>,

    /// Folder of ground-truth images: adds the full-reference metrics (PSNR, SSIM) against the
    /// file of the same name (any image extension).
    #[arg(long, value_name = "DIR")]
    pub clear: Option<PathBuf>,

    /// Look into subfolders of folder inputs (and of --clear, by the same relative path).
    #[arg(short, long)]
    pub recursive: bool,

    /// Worker threads (default: all cores).
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,

    /// Refuse images with more pixels than this (checked before decoding).
    #[arg(long, value_name = "PIXELS", default_value_t = DEFAULT_MAX_PIXELS)]
    pub max_pixels: u64,
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
    let collected = inputs::collect_reported(&args.inputs, args.recursive);
    let Ok(clear) = ClearIndex::open_arg(args.clear.as_deref()) else {
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

    let read = ReadOptions {
        max_pixels: args.max_pixels,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .build()?;
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
    Ok(if failed > 0 || !collected.problems.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
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
    let reference = match clear {
        None => None,
        Some(index) => match index.find(input) {
            None => {
                messages.push(format!(
                    "{}: no ground truth of this name in --clear; full-reference cells left empty",
                    input.path.display()
                ));
                None
            }
            Some(p) => match io::read_image(&p, read) {
                Ok(d) => Some(Rgb8::from_rgb_image(&d.rgb)),
                Err(e) => {
                    messages.push(format!("ground truth {e}"));
                    failed = true;
                    None
                }
            },
        },
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_and_fields() {
        assert_eq!(cell(Some(1.0 / 3.0)), "0.333333");
        assert_eq!(cell(Some(f64::INFINITY)), "");
        assert_eq!(cell(None), "");
        assert_eq!(csv_field("a/b.png"), "a/b.png");
        assert_eq!(csv_field("a,\"b\".png"), "\"a,\"\"b\"\".png\"");
    }

    #[test]
    fn clear_index_matches_by_name_then_by_stem() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("sub")).unwrap();
        for f in ["05.png", "07.jpg", "07.png", "sub/x.png", "notes.txt"] {
            std::fs::write(d.join(f), b"x").unwrap();
        }
        let index = ClearIndex::new(d).unwrap();
        let input = |rel: &str| Input {
            path: PathBuf::from("/elsewhere").join(rel),
            relative: PathBuf::from(rel),
        };
        assert_eq!(index.find(&input("05.png")), Some(d.join("05.png")));
        assert_eq!(index.find(&input("05.jpg")), Some(d.join("05.png")));
        assert_eq!(index.find(&input("07.png")), Some(d.join("07.png")));
        assert_eq!(index.find(&input("07.tif")), Some(d.join("07.jpg")));
        assert_eq!(index.find(&input("sub/x.jpg")), Some(d.join("sub/x.png")));
        assert_eq!(index.find(&input("x.jpg")), None);
        assert_eq!(index.find(&input("notes.png")), None);
        assert!(ClearIndex::new(&d.join("05.png")).is_err());
    }
}
