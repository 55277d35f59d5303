//! The results of an evaluation: per image, one [`Row`] per variant (the input, each method,
//! the ground truth), and per variant the means over the set ([`VariantSummary`]).

use crate::scoring::{Values, METRICS, N_METRICS};
use std::path::PathBuf;

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
    pub counts: [usize; N_METRICS],
}

/// Per variant (input, each method, ground truth if any image has one): means and counts.
pub fn summarise(methods: &[&str], results: &[ImageResult]) -> Vec<VariantSummary> {
    let mut variants: Vec<(String, Kind)> = vec![("input".into(), Kind::Input)];
    variants.extend(methods.iter().map(|m| (m.to_string(), Kind::Method)));
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
            let mut sums = [0.0; N_METRICS];
            let mut counts = [0; N_METRICS];
            for row in &rows {
                for (i, v) in row.values.iter().enumerate() {
                    if let Some(v) = v {
                        sums[i] += v;
                        counts[i] += 1;
                    }
                }
            }
            let times: Vec<f64> = rows.iter().filter_map(|r| r.seconds).collect();
            let mut means = [None; N_METRICS];
            for i in 0..N_METRICS {
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
    (0..N_METRICS)
        .filter(|&i| summary.iter().any(|v| v.counts[i] > 0))
        .collect()
}

/// A metric's column heading with its direction: `PSNR RGB ↑`.
pub fn heading(i: usize) -> String {
    let m = &METRICS[i];
    format!("{} {}", m.label, if m.higher_is_better { "↑" } else { "↓" })
}
