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
    let mut ms: Vec<f64> = (0..args.reps)
        .map(|_| {
            let t0 = Instant::now();
            run();
            t0.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    let median = if ms.len() % 2 == 1 {
        ms[ms.len() / 2]
    } else {
        (ms[ms.len() / 2 - 1] + ms[ms.len() / 2]) / 2.0
    };
    println!(
        "burn-flex {} threads {} size {s} reps {}: median {median:.1} ms (min {:.1}, max {:.1})",
        args.model,
        rayon::current_num_threads(),
        args.reps,
        ms[0],
        ms[ms.len() - 1]
    );
}
