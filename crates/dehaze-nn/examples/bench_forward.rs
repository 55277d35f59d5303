//! Forward-pass timing of the networks on the CPU (Burn's flex backend).
//!
//! ```text
//! RAYON_NUM_THREADS=2 cargo run --release -p dehaze-nn --example bench_forward -- \
//!     --model ka-net --size 512 --reps 5
//! ```
//!
//! The flex backend runs its parallel kernels (and gemm's) on rayon's global pool, so
//! `RAYON_NUM_THREADS` sets the thread count. Weights are freshly initialised (timing does not
//! depend on their values); one untimed warm-up pass precedes the timed ones. Prints the median,
//! minimum and maximum wall time of one forward pass on a `1×3×size×size` input.

use std::time::Instant;

use dehaze_nn::burn::prelude::*;
use dehaze_nn::dhr::{Dhr, DhrConfig};
use dehaze_nn::ka_net::{KaNet, KaNetConfig};

struct Args {
    model: String,
    size: usize,
    reps: usize,
    warmup: usize,
}

fn parse() -> Result<Args, String> {
    let mut args = Args {
        model: "ka-net".into(),
        size: 512,
        reps: 5,
        warmup: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--model" => args.model = value()?,
            "--size" => args.size = value()?.parse().map_err(|e| format!("--size: {e}"))?,
            "--reps" => args.reps = value()?.parse().map_err(|e| format!("--reps: {e}"))?,
            "--warmup" => args.warmup = value()?.parse().map_err(|e| format!("--warmup: {e}"))?,
            "-h" | "--help" => {
                return Err(
                    "usage: bench_forward [--model ka-net|dhr-s|dhr-b] [--size 512] \
                            [--reps 5] [--warmup 1]"
                        .into(),
                )
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if args.reps == 0 {
        return Err("--reps must be at least 1".into());
    }
    Ok(args)
}

fn main() {
    let args = parse().unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    let device = dehaze_nn::device::cpu();
    let s = args.size;
    let x = Tensor::<4>::random(
        [1, 3, s, s],
        burn::tensor::Distribution::Uniform(0.0, 1.0),
        &device,
    );
    // Each closure runs one forward pass and waits for its result.
    let run: Box<dyn Fn()> = match args.model.as_str() {
        "ka-net" => {
            let net = KaNet::new(&KaNetConfig::official(), &device);
            let x = x.mul_scalar(2.0).sub_scalar(1.0);
            Box::new(move || {
                let (y, z) = net.forward(x.clone());
                let _ = (y.into_data(), z.into_data());
            })
        }
        "dhr-s" | "dhr-b" => {
            let config = if args.model == "dhr-s" {
                DhrConfig::small()
            } else {
                DhrConfig::base()
            };
            let net = Dhr::new(&config, &device);
            Box::new(move || {
                let out = net.forward(x.clone());
                let _ = (out.image.into_data(), out.importance.into_data());
            })
        }
        other => {
            eprintln!("unknown model {other} (ka-net, dhr-s, dhr-b)");
            std::process::exit(2)
        }
    };
    for _ in 0..args.warmup {
        run();
    }
    let (mut ms, mut cpu): (Vec<f64>, Vec<f64>) = (0..args.reps)
        .map(|_| {
            let (t0, c0) = (Instant::now(), cpu_ms());
            run();
            (t0.elapsed().as_secs_f64() * 1e3, cpu_ms() - c0)
        })
        .unzip();
    let wall = median(&mut ms);
    println!(
        "burn-flex {} threads {} size {s} reps {}: median {wall:.1} ms (min {:.1}, max {:.1}); \
         cpu median {:.0} ms",
        args.model,
        rayon::current_num_threads(),
        args.reps,
        ms[0],
        ms[ms.len() - 1],
        median(&mut cpu)
    );
}

/// Sorts `v` and returns its median.
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// CPU time (user + system) this process has used so far, in ms, from `/proc/self/stat`
/// (clock-tick resolution, usually 10 ms); NaN where that file does not exist. On a shared
/// machine it is a steadier measure than wall time, which includes time spent waiting for a
/// core.
fn cpu_ms() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse().ok())
        .collect();
    // Linux reports ticks of USER_HZ, which is 100 on every mainstream configuration.
    f.iter().sum::<f64>() * 10.0
}
