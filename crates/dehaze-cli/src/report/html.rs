//! `report.html` of `dehaze eval`: one self-contained page.
//!
//! Everything is in the file: the CSS and the script come from `template.html` (compiled in),
//! the images are JPEG `data:` URIs, and the summary table, the bar chart (inline SVG) and the
//! comparison widgets are written here as plain HTML, so the page reads even without
//! JavaScript. The script only makes the sliders and the image pickers move; when it has set
//! everything up without an exception it marks `<body data-ready="1">` (and `data-error` if
//! something threw), which the browser test reads back.

use super::model::{heading, shown_metrics, ImageResult, Kind, Row, VariantSummary};
use crate::scoring::{METRICS, N_METRICS};
use std::fmt::Write as _;

const TEMPLATE: &str = include_str!("template.html");

/// What the page shows.
pub struct Page<'a> {
    pub title: &'a str,
    pub methods: &'a [&'a str],
    pub summary: &'a [VariantSummary],
    pub images: &'a [ImageResult],
    /// How many images have a ground truth.
    pub paired: usize,
}

/// The whole HTML document.
pub fn render(page: &Page) -> String {
    let mut body = String::new();
    let _ = writeln!(
        body,
        "<header><h1>{}</h1><p class=\"muted\">{} images ({} with ground truth) · methods: {} · \
         dehaze {}</p></header>",
        esc(page.title),
        page.images.len(),
        page.paired,
        esc(&page.methods.join(", ")),
        env!("CARGO_PKG_VERSION"),
    );
    body.push_str("<section id=\"summary\"><h2>Summary</h2>\n");
    body.push_str(
        "<p class=\"muted\">Mean of each metric over the images where it has a value \
         (↑ higher is better, ↓ lower is better; the best of the input and the methods is in \
         bold). Time: the method's mean run time per image. The ground truth row shows what the \
         no-reference metrics give on haze-free images.</p>\n",
    );
    summary_table(&mut body, page.summary);
    body.push_str("</section>\n<section id=\"chart\"><h2>Metric means</h2>\n");
    chart(&mut body, page.summary);
    body.push_str("</section>\n<section id=\"images\"><h2>Images</h2>\n");
    body.push_str(
        "<p class=\"muted\">Drag across an image (or use the slider) to compare; pick what is \
         shown on each side below it.</p>\n",
    );
    for (i, image) in page.images.iter().enumerate() {
        image_card(&mut body, i, image);
    }
    body.push_str("</section>\n");
    TEMPLATE
        .replace("{{title}}", &esc(page.title))
        .replace("{{body}}", &body)
}

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A metric value with as many decimals as its size deserves.
fn fmt_value(v: f64) -> String {
    let decimals = match v.abs() {
        a if a >= 100.0 => 1,
        a if a >= 10.0 => 2,
        a if a >= 1.0 => 3,
        _ => 4,
    };
    format!("{v:.decimals$}")
}

/// Colour of the `k`-th variant of the summary (input grey, ground truth green, methods from a
/// palette that stays readable on white).
fn colour(kind: Kind, method_index: usize) -> &'static str {
    const PALETTE: [&str; 6] = [
        "#1f77b4", "#e6761a", "#8e5cc4", "#d62728", "#17a2b8", "#b8860b",
    ];
    match kind {
        Kind::Input => "#8a9199",
        Kind::Clear => "#2e8b57",
        Kind::Method => PALETTE[method_index % PALETTE.len()],
    }
}

/// Colours of the summary's variants, in order.
fn colours(summary: &[VariantSummary]) -> Vec<&'static str> {
    let mut k = 0;
    summary
        .iter()
        .map(|v| {
            let c = colour(v.kind, k);
            if v.kind == Kind::Method {
                k += 1;
            }
            c
        })
        .collect()
}

/// Index of the best value among `values` (`None` entries and those not `eligible` skipped).
fn best(values: &[Option<f64>], eligible: &[bool], higher_is_better: bool) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, v) in values.iter().enumerate() {
        let (Some(v), true) = (*v, eligible[i]) else {
            continue;
        };
        let better = match best {
            None => true,
            Some((_, b)) => {
                if higher_is_better {
                    v > b
                } else {
                    v < b
                }
            }
        };
        if better {
            best = Some((i, v));
        }
    }
    best.map(|(i, _)| i)
}

fn summary_table(out: &mut String, summary: &[VariantSummary]) {
    let shown = shown_metrics(summary);
    let colours = colours(summary);
    out.push_str("<div class=\"scroll\"><table class=\"summary\" id=\"summary-table\"><thead><tr><th>variant</th><th>images</th><th>failed</th><th>s / image</th>");
    for &i in &shown {
        let _ = write!(
            out,
            "<th data-metric=\"{}\">{}</th>",
            METRICS[i].name,
            esc(&heading(i))
        );
    }
    out.push_str("</tr></thead><tbody>\n");
    let eligible: Vec<bool> = summary.iter().map(|v| v.kind != Kind::Clear).collect();
    let bests: Vec<Option<usize>> = (0..N_METRICS)
        .map(|i| {
            let values: Vec<Option<f64>> = summary.iter().map(|v| v.means[i]).collect();
            best(&values, &eligible, METRICS[i].higher_is_better)
        })
        .collect();
    for (k, v) in summary.iter().enumerate() {
        let secs = v
            .mean_seconds
            .map(|s| format!("{s:.3}"))
            .unwrap_or_default();
        let _ = write!(
            out,
            "<tr data-variant=\"{name}\"><th><span class=\"swatch\" style=\"background:{c}\"></span>{name}</th><td>{}</td><td>{}</td><td>{secs}</td>",
            v.images,
            v.failed,
            name = esc(&v.name),
            c = colours[k],
        );
        for &i in &shown {
            match v.means[i] {
                Some(m) => {
                    let class = if bests[i] == Some(k) {
                        " class=\"best\""
                    } else {
                        ""
                    };
                    let _ = write!(
                        out,
                        "<td{class} title=\"mean of {} images\">{}</td>",
                        v.counts[i],
                        fmt_value(m)
                    );
                }
                None => out.push_str("<td></td>"),
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
}

/// The bar chart: one small panel per metric (their scales differ too much for one axis), a
/// horizontal bar per variant, scaled to the largest value of that metric.
fn chart(out: &mut String, summary: &[VariantSummary]) {
    let shown = shown_metrics(summary);
    if shown.is_empty() {
        out.push_str("<p class=\"muted\">No metric could be computed.</p>\n");
        return;
    }
    let colours = colours(summary);
    const PANEL_W: f64 = 300.0;
    const GAP: f64 = 20.0;
    const LABEL_W: f64 = 70.0;
    const VALUE_W: f64 = 62.0;
    const ROW_H: f64 = 20.0;
    const TITLE_H: f64 = 24.0;
    let columns = shown.len().min(3);
    let rows_of_panels = shown.len().div_ceil(columns);
    let panel_h = TITLE_H + ROW_H * summary.len() as f64 + 12.0;
    let width = columns as f64 * PANEL_W + (columns - 1) as f64 * GAP;
    let height = rows_of_panels as f64 * (panel_h + GAP) - GAP;
    let bar_w = PANEL_W - LABEL_W - VALUE_W - 8.0;
    let _ = writeln!(
        out,
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" \
         style=\"max-width:{width}px\" role=\"img\" aria-label=\"Bar chart of the mean of each metric per variant\">"
    );
    for (p, &i) in shown.iter().enumerate() {
        let x0 = (p % columns) as f64 * (PANEL_W + GAP);
        let y0 = (p / columns) as f64 * (panel_h + GAP);
        let scale = summary
            .iter()
            .filter_map(|v| v.means[i])
            .map(f64::abs)
            .fold(0.0, f64::max);
        let scale = if scale > 0.0 { scale } else { 1.0 };
        let _ = writeln!(
            out,
            "<g class=\"panel\" data-metric=\"{}\"><rect class=\"frame\" x=\"{x0}\" y=\"{y0}\" width=\"{PANEL_W}\" height=\"{panel_h}\" rx=\"6\"/>\
             <text class=\"ptitle\" x=\"{}\" y=\"{}\">{}</text>",
            METRICS[i].name,
            x0 + 10.0,
            y0 + 17.0,
            esc(&heading(i))
        );
        for (k, v) in summary.iter().enumerate() {
            let y = y0 + TITLE_H + k as f64 * ROW_H;
            let _ = write!(
                out,
                "<text class=\"label\" x=\"{}\" y=\"{}\">{}</text>",
                x0 + LABEL_W,
                y + 14.0,
                esc(&v.name)
            );
            match v.means[i] {
                Some(m) => {
                    let w = (m.max(0.0) / scale * bar_w).max(1.0);
                    let _ = write!(
                        out,
                        "<rect class=\"bar\" data-variant=\"{name}\" x=\"{}\" y=\"{}\" width=\"{w:.1}\" height=\"{}\" fill=\"{}\"><title>{name}: {} (mean of {} images)</title></rect>\
                         <text class=\"value\" x=\"{:.1}\" y=\"{}\">{}</text>",
                        x0 + LABEL_W + 6.0,
                        y + 3.0,
                        ROW_H - 6.0,
                        colours[k],
                        fmt_value(m),
                        v.counts[i],
                        x0 + LABEL_W + 10.0 + w,
                        y + 14.0,
                        fmt_value(m),
                        name = esc(&v.name),
                    );
                }
                None => {
                    let _ = write!(
                        out,
                        "<text class=\"value none\" x=\"{}\" y=\"{}\">n/a</text>",
                        x0 + LABEL_W + 10.0,
                        y + 14.0
                    );
                }
            }
        }
        out.push_str("</g>\n");
    }
    out.push_str("</svg>\n");
}

/// One image: the comparison widget and its scores.
fn image_card(out: &mut String, index: usize, image: &ImageResult) {
    let _ = write!(
        out,
        "<article class=\"image\" id=\"image-{index}\"><h3>{}",
        esc(&image.name)
    );
    if let Some(c) = &image.clear {
        let _ = write!(
            out,
            " <span class=\"muted\">· ground truth {}</span>",
            esc(&c.to_string_lossy())
        );
    }
    out.push_str("</h3>\n");
    if let Some(e) = &image.error {
        let _ = writeln!(
            out,
            "<p class=\"error\">Not evaluated: {}</p></article>",
            esc(e)
        );
        return;
    }
    let shown: Vec<&Row> = image.rows.iter().filter(|r| r.thumb.is_some()).collect();
    if let Some(first) = shown.first() {
        let left = first.variant.as_str();
        // The right side starts on the first method's output, else whatever else there is.
        let right = shown
            .iter()
            .find(|r| r.kind == Kind::Method)
            .or(shown.get(1))
            .map_or(left, |r| r.variant.as_str());
        let thumb = first.thumb.as_ref().expect("filtered on thumbnails");
        let display_w = thumb.width.max(360);
        let _ = write!(
            out,
            "<div class=\"cmp\" data-left=\"{l}\" data-right=\"{r}\">\
             <div class=\"stage\" style=\"max-width:{display_w}px;aspect-ratio:{}/{}\">",
            thumb.width,
            thumb.height,
            l = esc(left),
            r = esc(right),
        );
        for row in &shown {
            let t = row.thumb.as_ref().expect("filtered on thumbnails");
            let class = if row.variant == left {
                "v left"
            } else if row.variant == right {
                "v right"
            } else {
                "v"
            };
            let _ = write!(
                out,
                "<img class=\"{class}\" data-v=\"{v}\" alt=\"{v}\" draggable=\"false\" src=\"{}\">",
                t.data_uri,
                v = esc(&row.variant),
            );
        }
        let _ = write!(
            out,
            "<div class=\"divider\"></div><span class=\"tag tag-left\">{}</span>\
             <span class=\"tag tag-right\">{}</span></div>\n<div class=\"controls\">",
            esc(left),
            esc(right)
        );
        let picker = |out: &mut String, class: &str, label: &str, selected: &str| {
            let _ = write!(out, "<select class=\"{class}\" aria-label=\"{label}\">");
            for row in &shown {
                let sel = if row.variant == selected {
                    " selected"
                } else {
                    ""
                };
                let _ = write!(
                    out,
                    "<option value=\"{v}\"{sel}>{v}</option>",
                    v = esc(&row.variant)
                );
            }
            out.push_str("</select>");
        };
        picker(out, "pick-left", "left image", left);
        out.push_str(
            "<input class=\"slider\" type=\"range\" min=\"0\" max=\"100\" step=\"0.5\" value=\"50\" aria-label=\"split position\">",
        );
        picker(out, "pick-right", "right image", right);
        out.push_str("</div></div>\n");
    }
    scores_table(out, image);
    out.push_str("</article>\n");
}

/// The scores of one image's variants; the best of the input and the methods in bold.
fn scores_table(out: &mut String, image: &ImageResult) {
    let shown: Vec<usize> = (0..N_METRICS)
        .filter(|&i| image.rows.iter().any(|r| r.values[i].is_some()))
        .collect();
    out.push_str(
        "<div class=\"scroll\"><table class=\"scores\"><thead><tr><th>variant</th><th>s</th>",
    );
    for &i in &shown {
        let _ = write!(out, "<th>{}</th>", esc(&heading(i)));
    }
    out.push_str("<th></th></tr></thead><tbody>");
    let eligible: Vec<bool> = image.rows.iter().map(|r| r.kind != Kind::Clear).collect();
    for (k, row) in image.rows.iter().enumerate() {
        let secs = row.seconds.map(|s| format!("{s:.3}")).unwrap_or_default();
        let _ = write!(
            out,
            "<tr data-variant=\"{v}\"><th>{v}</th><td>{secs}</td>",
            v = esc(&row.variant)
        );
        for &i in &shown {
            let values: Vec<Option<f64>> = image.rows.iter().map(|r| r.values[i]).collect();
            let is_best = best(&values, &eligible, METRICS[i].higher_is_better) == Some(k);
            match row.values[i] {
                Some(v) if is_best => {
                    let _ = write!(out, "<td class=\"best\">{}</td>", fmt_value(v));
                }
                Some(v) => {
                    let _ = write!(out, "<td>{}</td>", fmt_value(v));
                }
                None => out.push_str("<td></td>"),
            }
        }
        let note = row.error.as_deref().map(esc).unwrap_or_default();
        let _ = write!(out, "<td class=\"error\">{note}</td></tr>");
    }
    out.push_str("</tbody></table></div>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::{summarise, Thumb};
    use std::path::PathBuf;

    fn thumb() -> Thumb {
        Thumb {
            data_uri: "data:image/jpeg;base64,AAAA".into(),
            width: 40,
            height: 30,
        }
    }

    fn row(variant: &str, kind: Kind, psnr: Option<f64>, fade: f64) -> Row {
        let mut values = [None; N_METRICS];
        values[0] = Some(fade);
        values[5] = psnr;
        Row {
            variant: variant.into(),
            kind,
            seconds: (kind == Kind::Method).then_some(0.25),
            values,
            error: None,
            thumb: Some(thumb()),
        }
    }

    fn fake() -> Vec<ImageResult> {
        vec![
            ImageResult {
                name: "a <&> b.png".into(),
                path: PathBuf::from("hazy/a.png"),
                clear: Some(PathBuf::from("clear/a.png")),
                rows: vec![
                    row("input", Kind::Input, Some(12.0), 2.0),
                    row("dcp", Kind::Method, Some(20.0), 0.5),
                    row("clear", Kind::Clear, None, 0.3),
                ],
                error: None,
            },
            ImageResult {
                name: "broken.png".into(),
                path: PathBuf::from("hazy/broken.png"),
                clear: None,
                rows: vec![],
                error: Some("not an image".into()),
            },
        ]
    }

    #[test]
    fn page_has_table_chart_and_one_slider_per_readable_image() {
        let images = fake();
        let summary = summarise(&["dcp"], &images);
        let html = render(&Page {
            title: "T",
            methods: &["dcp"],
            summary: &summary,
            images: &images,
            paired: 1,
        });
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(!html.contains("{{"), "a placeholder was left in the page");
        assert_eq!(html.matches("class=\"cmp\"").count(), 1);
        assert_eq!(html.matches("class=\"slider\"").count(), 1);
        // input, dcp, clear for FADE; input, dcp for PSNR (clear has none).
        assert_eq!(html.matches("<rect class=\"bar\"").count(), 5);
        assert!(html.contains("a &lt;&amp;&gt; b.png"));
        assert!(!html.contains("a <&> b.png"));
        assert!(html.contains("Not evaluated: not an image"));
        // The page must not pull anything from elsewhere: the only URL is the SVG namespace,
        // every image is a data: URI.
        let svg_ns = html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count();
        assert_eq!(html.matches("http").count(), svg_ns);
        assert!(!html.contains("<link") && !html.contains("@import"));
        assert!(html
            .match_indices("src=\"")
            .all(|(i, _)| html[i + 5..].starts_with("data:")));
        // Best value in bold: dcp has the lower FADE and the higher PSNR, not the ground truth.
        let summary_html =
            &html[html.find("summary-table").unwrap()..html.find("</table>").unwrap()];
        let dcp = &summary_html[summary_html.find("data-variant=\"dcp\"").unwrap()..];
        let dcp_row = &dcp[..dcp.find("</tr>").unwrap()];
        assert_eq!(dcp_row.matches("class=\"best\"").count(), 2, "{dcp_row}");
    }

    #[test]
    fn best_skips_missing_and_ineligible() {
        let v = [Some(3.0), None, Some(5.0), Some(9.0)];
        let e = [true, true, true, false];
        assert_eq!(best(&v, &e, true), Some(2));
        assert_eq!(best(&v, &e, false), Some(0));
        assert_eq!(best(&[None, None], &[true, true], true), None);
    }

    #[test]
    fn values_get_sensible_decimals() {
        assert_eq!(fmt_value(123.456), "123.5");
        assert_eq!(fmt_value(21.3456), "21.35");
        assert_eq!(fmt_value(2.34567), "2.346");
        assert_eq!(fmt_value(0.123456), "0.1235");
    }
}
