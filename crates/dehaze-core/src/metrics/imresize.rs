//! MATLAB `imresize(I, 0.5)` (bicubic, antialiasing on), the downscaling step of NIQE and
//! BRISQUE.

use super::filter::{border_index, Border};

/// Source indices and normalised weights of one output sample.
type Taps = (Vec<usize>, Vec<f64>);

/// Keys' cubic kernel with `a = −0.5` (MATLAB's `cubic`).
fn cubic(x: f64) -> f64 {
    let ax = x.abs();
    let ax2 = ax * ax;
    let ax3 = ax2 * ax;
    if ax <= 1.0 {
        1.5 * ax3 - 2.5 * ax2 + 1.0
    } else if ax <= 2.0 {
        -0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0
    } else {
        0.0
    }
}

/// Contributions of the input samples to each of the `⌈n/2⌉` outputs, MATLAB's
/// `contributions(n, ⌈n/2⌉, 0.5, @cubic, 4, true)`: output `x` (1-based) is centred at input
/// `u = x/s + (1 − 1/s)/2`; with antialiasing the kernel is stretched, `h(t) = s·cubic(s·t)`,
/// over a width of `4/s` (+2 samples); weights are normalised to sum 1. Indices outside the
/// input are mirrored half-sample symmetrically (MATLAB's `symmetric` padding).
fn contributions(n: usize) -> (usize, Vec<Taps>) {
    let scale: f64 = 0.5;
    let out_len = n.div_ceil(2);
    let kernel_width = 4.0 / scale;
    let p = kernel_width.ceil() as usize + 2;
    let rows = (1..=out_len)
        .map(|x| {
            let u = x as f64 / scale + 0.5 * (1.0 - 1.0 / scale);
            let left = (u - kernel_width / 2.0).floor();
            let mut idx = Vec::with_capacity(p);
            let mut wts = Vec::with_capacity(p);
            for k in 0..p {
                let j = left + k as f64; // 1-based input index
                let wgt = scale * cubic((u - j) * scale);
                if wgt != 0.0 {
                    idx.push(border_index(j as isize - 1, n, Border::Reflect).expect("reflect"));
                    wts.push(wgt);
                }
            }
            let s: f64 = wts.iter().sum();
            wts.iter_mut().for_each(|v| *v /= s);
            (idx, wts)
        })
        .collect();
    (out_len, rows)
}

/// Halves a `width×height` plane as MATLAB `imresize(I, 0.5)` (bicubic with antialiasing,
/// symmetric borders), in float64; rows first, then columns. Returns the
/// `⌈width/2⌉×⌈height/2⌉` result and its size. Not re-rounded.
pub fn imresize_half(src: &[f64], width: usize, height: usize) -> (Vec<f64>, usize, usize) {
    assert_eq!(src.len(), width * height, "plane size");
    if width == 0 || height == 0 {
        return (Vec::new(), width.div_ceil(2), height.div_ceil(2));
    }
    let (oh, ch) = contributions(height);
    let (ow, cw) = contributions(width);
    // Height pass: each output row is a weighted sum of whole input rows.
    let mut tmp = vec![0.0; oh * width];
    for (o, (idx, wts)) in ch.iter().enumerate() {
        let orow = &mut tmp[o * width..(o + 1) * width];
        for (&i, &wgt) in idx.iter().zip(wts) {
            let srow = &src[i * width..(i + 1) * width];
            for (d, &s) in orow.iter_mut().zip(srow) {
                *d += wgt * s;
            }
        }
    }
    // Width pass.
    let mut out = vec![0.0; oh * ow];
    for y in 0..oh {
        let trow = &tmp[y * width..(y + 1) * width];
        for (x, (idx, wts)) in cw.iter().enumerate() {
            out[y * ow + x] = idx.iter().zip(wts).map(|(&i, &wgt)| wgt * trow[i]).sum();
        }
    }
    (out, ow, oh)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_stays_constant_and_sizes_round_up() {
        let (out, w, h) = imresize_half(&[0.25; 7 * 5], 7, 5);
        assert_eq!((w, h), (4, 3));
        assert!(out.iter().all(|v| (v - 0.25).abs() < 1e-15));
    }

    #[test]
    fn interior_weights_are_the_stretched_cubic() {
        let (_, rows) = contributions(64);
        let (idx, wts) = &rows[10];
        // Output 11 (1-based) is centred at input 21.5: inputs 18..=25 (1-based).
        assert_eq!(idx, &(17..25).collect::<Vec<_>>());
        let raw: Vec<f64> = [1.75, 1.25, 0.75, 0.25, -0.25, -0.75, -1.25, -1.75]
            .iter()
            .map(|&t: &f64| 0.5 * cubic(t))
            .collect();
        let s: f64 = raw.iter().sum();
        for (a, b) in wts.iter().zip(&raw) {
            assert!((a - b / s).abs() < 1e-15);
        }
    }
}
