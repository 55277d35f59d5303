//! `curves.png`: the training curves drawn straight into an image (no plotting crate): the
//! training loss on a log scale, and the validation PSNR and SSIM, each against the
//! iteration, with tick labels in a built-in 5×7 pixel font.

use std::path::Path;

use image::{Rgb, RgbImage};

use super::log::Row;

const W: u32 = 900;
const PANEL_H: u32 = 260;
const LEFT: i64 = 80;
const RIGHT: i64 = 20;
const TOP: i64 = 28;
const BOTTOM: i64 = 34;
const WHITE: Rgb<u8> = Rgb([255, 255, 255]);
const BLACK: Rgb<u8> = Rgb([0, 0, 0]);
const GRID: Rgb<u8> = Rgb([225, 225, 225]);
const BLUE: Rgb<u8> = Rgb([31, 100, 200]);
const ORANGE: Rgb<u8> = Rgb([230, 120, 20]);
const GREEN: Rgb<u8> = Rgb([30, 150, 60]);

/// 5×7 glyphs, one row per byte (bit 4 = leftmost column).
fn glyph(c: char) -> [u8; 7] {
    match c {
        '0' => [14, 17, 19, 21, 25, 17, 14],
        '1' => [4, 12, 4, 4, 4, 4, 14],
        '2' => [14, 17, 1, 2, 4, 8, 31],
        '3' => [31, 2, 4, 2, 1, 17, 14],
        '4' => [2, 6, 10, 18, 31, 2, 2],
        '5' => [31, 16, 30, 1, 1, 17, 14],
        '6' => [6, 8, 16, 30, 17, 17, 14],
        '7' => [31, 1, 2, 4, 8, 8, 8],
        '8' => [14, 17, 17, 14, 17, 17, 14],
        '9' => [14, 17, 17, 15, 1, 2, 12],
        '.' => [0, 0, 0, 0, 0, 12, 12],
        '-' => [0, 0, 0, 31, 0, 0, 0],
        'e' => [0, 0, 14, 17, 31, 16, 14],
        '(' => [2, 4, 8, 8, 8, 4, 2],
        ')' => [8, 4, 2, 2, 2, 4, 8],
        'A' => [14, 17, 17, 31, 17, 17, 17],
        'B' => [30, 17, 17, 30, 17, 17, 30],
        'C' => [14, 17, 16, 16, 16, 17, 14],
        'D' => [28, 18, 17, 17, 17, 18, 28],
        'E' => [31, 16, 16, 30, 16, 16, 31],
        'G' => [14, 17, 16, 23, 17, 17, 15],
        'I' => [14, 4, 4, 4, 4, 4, 14],
        'L' => [16, 16, 16, 16, 16, 16, 31],
        'M' => [17, 27, 21, 21, 17, 17, 17],
        'N' => [17, 17, 25, 21, 19, 17, 17],
        'O' => [14, 17, 17, 17, 17, 17, 14],
        'P' => [30, 17, 17, 30, 16, 16, 16],
        'R' => [30, 17, 17, 30, 20, 18, 17],
        'S' => [15, 16, 16, 14, 1, 1, 30],
        'T' => [31, 4, 4, 4, 4, 4, 4],
        'V' => [17, 17, 17, 17, 17, 10, 4],
        _ => [0; 7],
    }
}

fn put(img: &mut RgbImage, x: i64, y: i64, c: Rgb<u8>) {
    if x >= 0 && y >= 0 && (x as u32) < img.width() && (y as u32) < img.height() {
        img.put_pixel(x as u32, y as u32, c);
    }
}

/// Text at `(x, y)` (top-left), pixels doubled; returns the width drawn.
fn text(img: &mut RgbImage, x: i64, y: i64, s: &str, c: Rgb<u8>) -> i64 {
    for (i, ch) in s.chars().enumerate() {
        let g = glyph(ch);
        for (r, bits) in g.iter().enumerate() {
            for col in 0..5 {
                if bits & (16 >> col) != 0 {
                    for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                        put(
                            img,
                            x + i as i64 * 12 + col * 2 + dx,
                            y + r as i64 * 2 + dy,
                            c,
                        );
                    }
                }
            }
        }
    }
    s.chars().count() as i64 * 12
}

fn line(img: &mut RgbImage, (x0, y0): (i64, i64), (x1, y1): (i64, i64), c: Rgb<u8>, thick: bool) {
    let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
    let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
    let (mut x, mut y, mut e) = (x0, y0, dx + dy);
    loop {
        put(img, x, y, c);
        if thick {
            put(img, x + 1, y, c);
            put(img, x, y + 1, c);
        }
        if x == x1 && y == y1 {
            break;
        }
        let e2 = 2 * e;
        if e2 >= dy {
            e += dy;
            x += sx;
        }
        if e2 <= dx {
            e += dx;
            y += sy;
        }
    }
}

/// A "nice" tick spacing (1, 2 or 5 × 10^k) giving about `n` intervals over `range`.
fn nice_step(range: f64, n: f64) -> f64 {
    let raw = (range / n).max(f64::MIN_POSITIVE);
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nf = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nf * mag
}

/// Multiples of `step` in `[lo, hi]`.
fn ticks_in(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// A tick label with as many decimals as the spacing needs.
fn label(v: f64, step: f64) -> String {
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    format!("{v:.decimals$}")
}

/// One panel: `points` (x = iteration, y) in `colour`, axes, ticks and `title`.
fn panel(
    img: &mut RgbImage,
    top: i64,
    title: &str,
    points: &[(f64, f64)],
    log: bool,
    colour: Rgb<u8>,
    x_max: f64,
) {
    let (x0, x1) = (LEFT, W as i64 - RIGHT);
    let (y0, y1) = (top + TOP, top + PANEL_H as i64 - BOTTOM);
    text(img, x0, top + 6, title, BLACK);
    let pts: Vec<(f64, f64)> = points
        .iter()
        .filter(|(_, y)| y.is_finite() && (!log || *y > 0.0))
        .map(|&(x, y)| (x, if log { y.log10() } else { y }))
        .collect();
    // Axis ranges.
    let (mut lo, mut hi) = pts
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.1), b.max(p.1))
        });
    if pts.is_empty() {
        (lo, hi) = (0.0, 1.0);
    }
    if log {
        (lo, hi) = (lo.floor(), hi.ceil().max(lo.floor() + 1.0));
    } else {
        let pad = ((hi - lo) * 0.05).max(1e-3);
        (lo, hi) = (lo - pad, hi + pad);
    }
    let x_max = x_max.max(1.0);
    let px = |x: f64| x0 + ((x / x_max) * (x1 - x0) as f64).round() as i64;
    let py = |y: f64| y1 - (((y - lo) / (hi - lo)) * (y1 - y0) as f64).round() as i64;
    // Grid and tick labels.
    let (ticks, step) = if log {
        ((lo as i64..=hi as i64).map(|v| v as f64).collect(), 1.0)
    } else {
        let step = nice_step(hi - lo, 4.0);
        (ticks_in(lo, hi, step), step)
    };
    for t in ticks {
        let y = py(t);
        line(img, (x0, y), (x1, y), GRID, false);
        let s = if log {
            format!("1e{}", t as i64)
        } else {
            label(t, step)
        };
        text(
            img,
            x0 - 8 - s.chars().count() as i64 * 12,
            y - 7,
            &s,
            BLACK,
        );
    }
    let xstep = nice_step(x_max, 5.0).max(1.0);
    for xv in ticks_in(0.0, x_max, xstep) {
        let x = px(xv);
        line(img, (x, y0), (x, y1), GRID, false);
        let s = format!("{}", xv.round() as u64);
        text(img, x - s.len() as i64 * 6, y1 + 8, &s, BLACK);
    }
    line(img, (x0, y0), (x0, y1), BLACK, false);
    line(img, (x0, y1), (x1, y1), BLACK, false);
    for w in pts.windows(2) {
        line(
            img,
            (px(w[0].0), py(w[0].1)),
            (px(w[1].0), py(w[1].1)),
            colour,
            true,
        );
    }
    if pts.len() == 1 {
        let (x, y) = (px(pts[0].0), py(pts[0].1));
        for d in -2..=2 {
            line(img, (x - 2, y + d), (x + 2, y + d), colour, false);
        }
    }
}

/// Draws the curves of `rows` (the iterations up to `x_max`) into a PNG image.
pub fn render(rows: &[Row], x_max: u64) -> RgbImage {
    let mut img = RgbImage::from_pixel(W, 3 * PANEL_H + 30, WHITE);
    let series = |f: fn(&Row) -> Option<f64>| -> Vec<(f64, f64)> {
        rows.iter()
            .filter_map(|r| f(r).map(|v| (r.iteration as f64, v)))
            .collect()
    };
    let xm = x_max as f64;
    panel(
        &mut img,
        0,
        "TRAIN LOSS (LOG SCALE)",
        &series(|r| r.loss),
        true,
        BLUE,
        xm,
    );
    panel(
        &mut img,
        PANEL_H as i64,
        "VALIDATION PSNR (DB)",
        &series(|r| r.val_psnr),
        false,
        ORANGE,
        xm,
    );
    panel(
        &mut img,
        2 * PANEL_H as i64,
        "VALIDATION SSIM",
        &series(|r| r.val_ssim),
        false,
        GREEN,
        xm,
    );
    let t = "ITERATION";
    text(
        &mut img,
        (W as i64 - t.len() as i64 * 12) / 2,
        3 * PANEL_H as i64 + 8,
        t,
        BLACK,
    );
    img
}

/// Renders and writes `curves.png` atomically.
pub fn write(path: &Path, rows: &[Row], x_max: u64) -> Result<(), String> {
    let img = render(rows, x_max);
    let mut bytes = std::io::Cursor::new(Vec::new());
    img.write_to(&mut bytes, image::ImageFormat::Png)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    crate::dhr::write_atomic(path, bytes.get_ref()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_numbers() {
        assert_eq!(nice_step(12.0, 5.0), 5.0);
        assert_eq!(nice_step(20000.0, 5.0), 5000.0);
        assert_eq!(ticks_in(0.0, 12.0, 5.0), vec![0.0, 5.0, 10.0]);
        let s = nice_step(0.004, 4.0);
        assert!((s - 0.001).abs() < 1e-12);
        assert_eq!(label(14.2, 0.02), "14.20");
        assert_eq!(label(25.0, 5.0), "25");
    }

    #[test]
    fn draws_lines_in_each_panel() {
        let rows: Vec<Row> = (1..=20)
            .map(|i| Row {
                iteration: i * 10,
                loss: Some(0.3 / i as f64),
                val_psnr: (i % 5 == 0).then_some(15.0 + i as f64 * 0.3),
                val_ssim: (i % 5 == 0).then_some(0.5 + i as f64 * 0.01),
                ..Default::default()
            })
            .collect();
        let img = render(&rows, 200);
        let count = |c: Rgb<u8>| img.pixels().filter(|p| **p == c).count();
        assert!(count(BLUE) > 300, "loss curve missing");
        assert!(count(ORANGE) > 100, "PSNR curve missing");
        assert!(count(GREEN) > 100, "SSIM curve missing");
        assert!(count(BLACK) > 1000, "axes or labels missing");
        // The loss falls: its curve starts higher (smaller y) on the left than on the right.
        let ys = |x: u32| (0..PANEL_H).find(|&y| *img.get_pixel(x, y) == BLUE);
        let (l, r) = (
            ys(LEFT as u32 + 90).unwrap(),
            ys(W - RIGHT as u32 - 5).unwrap(),
        );
        assert!(l < r, "left {l} right {r}");
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("curves.png");
        write(&p, &rows, 200).unwrap();
        assert_eq!(image::open(&p).unwrap().width(), W);
    }
}
