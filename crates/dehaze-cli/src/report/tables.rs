//! The evaluation's tables: `results.csv` (one row per image × variant), `summary.md` and
//! `summary.json` (the means per variant).

use super::model::{heading, shown_metrics, ImageResult, VariantSummary};
use crate::scoring::{cell, METRICS, N_METRICS};
use dehaze_core::csv::field as csv_field;
use std::fmt::Write as _;

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
                ",".repeat(N_METRICS),
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
