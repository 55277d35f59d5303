//! Wall-clock benchmark of the dehazing priors on one image (used by `bench/dcp_bench.sh`).
//!
//! ```text
//! cargo run --release -p dehaze-core --example bench_priors -- IMAGE [--runs N]
//!     [--methods dcp,cap,bccr | all | none] [--stages] [--warmup N]
//! ```
//!
//! The image is decoded once; each method then runs `--warmup` untimed times (default 1) and
//! `--runs` timed times (default 7), and one line per method is printed:
//!
//! ```text
//! method dcp runs 7 median_s 0.1234 min_s 0.1200
//! ```
//!
//! `--stages` also times the dark-channel-prior stages one by one (same runs, median each),
//! through the public per-stage functions; each allocates its own output, so first-touch page
//! faults are included and the stages add up to more than the fused `dcp` run.
//! The thread count is rayon's (`RAYON_NUM_THREADS`).
use dehaze_core::io::{read_image, ReadOptions};
use dehaze_core::priors::dark_channel::{
    dark_channel, estimate_airlight, guided_filter, luma, raw_transmission, recover,
    DarkChannelPrior,
};
use dehaze_core::{Dehazer, Method, RgbImage};
use std::hint::black_box;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

fn time<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let t = Instant::now();
    let out = black_box(f());
    (out, t.elapsed().as_secs_f64())
}

struct Args {
    image: PathBuf,
    runs: usize,
    warmup: usize,
    methods: Vec<Method>,
    stages: bool,
}

fn parse() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut image = None;
    let (mut runs, mut warmup, mut stages) = (7usize, 1usize, false);
    let mut methods = vec![Method::Dcp];
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--runs" => {
                runs = value("--runs")?
                    .parse()
                    .map_err(|e| format!("--runs: {e}"))?
            }
            "--warmup" => {
                warmup = value("--warmup")?
                    .parse()
                    .map_err(|e| format!("--warmup: {e}"))?
            }
            "--methods" => {
                let v = value("--methods")?;
                methods = if v == "all" {
                    Method::ALL.to_vec()
                } else if v == "none" {
                    Vec::new()
                } else {
                    v.split(',')
                        .map(|m| Method::from_name(m).ok_or(format!("unknown method {m:?}")))
                        .collect::<Result<_, _>>()?
                };
            }
            "--stages" => stages = true,
            _ if a.starts_with("--") => return Err(format!("unknown option {a}")),
            _ => image = Some(PathBuf::from(a)),
        }
    }
    Ok(Args {
        image: image
            .ok_or("usage: bench_priors IMAGE [--runs N] [--methods LIST|all] [--stages]")?,
        runs: runs.max(1),
        warmup,
        methods,
        stages,
    })
}

/// Times each stage of the dark channel prior separately (medians over `runs`).
fn dcp_stages(img: &RgbImage, runs: usize) {
    let p = DarkChannelPrior::default();
    let names = [
        "dark_channel",
        "airlight",
        "raw_transmission",
        "luma",
        "guided_filter",
        "recover",
    ];
    let mut t = vec![Vec::new(); names.len()];
    for _ in 0..runs {
        let (dark, s0) = time(|| dark_channel(img, p.patch_size));
        let (a, s1) = time(|| estimate_airlight(img, &dark, p.top_fraction));
        drop(dark);
        let (raw, s2) = time(|| raw_transmission(img, a, p.patch_size, p.omega));
        let (g, s3) = time(|| luma(img));
        let (q, s4) = time(|| guided_filter(&g, &raw, p.guided_radius, p.guided_eps));
        let (_, s5) = time(|| recover(img, &q, a, p.t0));
        for (v, s) in t.iter_mut().zip([s0, s1, s2, s3, s4, s5]) {
            v.push(s);
        }
    }
    let mut total = 0.0;
    for (name, v) in names.iter().zip(&mut t) {
        let m = median(v);
        total += m;
        println!("stage {name} median_s {m:.4}");
    }
    println!("stage sum_of_medians median_s {total:.4}");
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let decoded = match read_image(&args.image, &ReadOptions::default()) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let img = decoded.rgb;
    println!(
        "image {} {}x{} threads {}",
        args.image.display(),
        img.width(),
        img.height(),
        rayon::current_num_threads()
    );
    for &m in &args.methods {
        // A method that is still a stub panics; report it and go on with the others.
        let ran = std::panic::catch_unwind(|| {
            for _ in 0..args.warmup {
                black_box(m.dehaze(&img));
            }
            (0..args.runs)
                .map(|_| time(|| m.dehaze(&img)).1)
                .collect::<Vec<f64>>()
        });
        match ran {
            Ok(mut v) => {
                let min = v.iter().copied().fold(f64::INFINITY, f64::min);
                println!(
                    "method {} runs {} median_s {:.4} min_s {:.4}",
                    m.name(),
                    v.len(),
                    median(&mut v),
                    min
                );
            }
            Err(_) => println!("method {} failed", m.name()),
        }
    }
    if args.stages {
        black_box(DarkChannelPrior::default().dehaze(&img));
        dcp_stages(&img, args.runs);
    }
    ExitCode::SUCCESS
}
