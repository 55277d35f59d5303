//! Times the quality metrics on one image:
//! `cargo run --release --example bench_metrics -- IMAGE [REPEATS] [ONLY]`.
//! Prints the best and median wall time of each metric over the repeats (after one warm-up run
//! that also builds the model tables). `ONLY` (e.g. `fade`) restricts the run to the metrics whose
//! name starts with it, which is handy under `valgrind --tool=callgrind`.

use dehaze_core::metrics::{self, NiqeLuma, Rgb8};
use std::time::Instant;

fn time<F: FnMut() -> f64>(name: &str, repeats: usize, only: &str, mut f: F) {
    if !name.starts_with(only) {
        return;
    }
    let v = f(); // warm-up
    let mut t: Vec<f64> = (0..repeats)
        .map(|_| {
            let s = Instant::now();
            std::hint::black_box(f());
            s.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    println!(
        "{name:<12} value {v:>10.6}  best {:>8.4} s  median {:>8.4} s",
        t[0],
        t[t.len() / 2]
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: bench_metrics IMAGE [REPEATS]");
    let repeats: usize = args.next().map_or(10, |s| s.parse().expect("repeats"));
    let only = args.next().unwrap_or_default();
    let img = image::open(&path).expect("decode").to_rgb8();
    let (w, h) = (img.width() as usize, img.height() as usize);
    let img = Rgb8::new(w, h, img.into_raw()).expect("rgb");
    println!(
        "{path}: {w}x{h}, {} rayon threads, {repeats} repeats",
        rayon::current_num_threads()
    );
    time("fade", repeats, &only, || metrics::fade(&img).unwrap());
    time("niqe_y", repeats, &only, || {
        metrics::niqe(&img, NiqeLuma::Y).unwrap()
    });
    time("niqe_gray", repeats, &only, || {
        metrics::niqe(&img, NiqeLuma::Gray).unwrap()
    });
    time("brisque", repeats, &only, || {
        metrics::brisque(&img).unwrap()
    });
    time("entropy", repeats, &only, || {
        metrics::entropy(&img).unwrap()
    });
    time("all NR", repeats, &only, || {
        metrics::no_reference(&img).fade.unwrap()
    });
}
