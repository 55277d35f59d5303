//! Training and inference speed of DHR on the CPU (`flex` backend), the Rust side of
//! `bench/train_throughput.sh`; `tools/dhr_torch.py --bench` is the PyTorch side and does the
//! same work.
//!
//! ```text
//! bench_train [--model dhr-s|dhr-b] [--batch 8] [--crop 128] [--iters 10] [--warmup 2]
//! bench_train --forward 512 [--model dhr-s] [--runs 5] [--warmup 1]
//! ... [--device cpu|tch]     (tch: Burn's LibTorch backend, build with `--features tch`)
//! ```
//!
//! Training: Adam (lr 1e-4, betas 0.9/0.999, eps 1e-8), L1 loss between the output and a
//! fixed random target, on a fixed random batch; one step = forward + backward + update.
//! Threads: `RAYON_NUM_THREADS` (flex), `OMP_NUM_THREADS` (libtorch). Prints one `RESULT key=value …`
//! line.

use std::time::Instant;

use dehaze_nn::burn::optim::{AdamConfig, GradientsParams};
use dehaze_nn::burn::prelude::*;
use dehaze_nn::dhr::Dhr;

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse().unwrap_or_else(|_| panic!("bad value for {name}")))
        .unwrap_or(default)
}

fn random(shape: [usize; 4], seed: u32, device: &Device) -> Tensor<4> {
    let n: usize = shape.iter().product();
    let mut s = seed.wrapping_mul(2_654_435_761).max(1);
    let data: Vec<f32> = (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s >> 8) as f32 / (1u32 << 24) as f32
        })
        .collect();
    Tensor::from_data(TensorData::new(data, shape), device)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let model: String = arg(&args, "--model", "dhr-s".to_string());
    let cfg = dehaze_nn::registry::NetworkKind::from_name(&model)
        .and_then(|k| k.dhr_config())
        .expect("--model dhr-s or dhr-b");
    let threads = rayon::current_num_threads();
    let name: String = arg(&args, "--device", "cpu".to_string());
    let cpu = dehaze_nn::device::DeviceChoice::from_name(&name)
        .expect("--device cpu|tch")
        .device()
        .unwrap_or_else(|e| panic!("{e}"));
    let forward: usize = arg(&args, "--forward", 0);
    if forward > 0 {
        let (runs, warmup): (usize, usize) = (arg(&args, "--runs", 5), arg(&args, "--warmup", 1));
        let net = Dhr::new(&cfg, &cpu);
        let x = random([1, 3, forward, forward], 1, &cpu);
        let mut times = Vec::new();
        for i in 0..warmup + runs {
            let t = Instant::now();
            let y = net.forward(x.clone()).image;
            let _ = y.into_data();
            if i >= warmup {
                times.push(t.elapsed().as_secs_f64());
            }
        }
        times.sort_by(f64::total_cmp);
        println!(
            "RESULT bench=forward model={model} device={name} size={forward} threads={threads} median_s={:.4} min_s={:.4} runs={runs}",
            times[times.len() / 2],
            times[0]
        );
        return;
    }
    let (batch, crop, iters, warmup): (usize, usize, usize, usize) = (
        arg(&args, "--batch", 8),
        arg(&args, "--crop", 128),
        arg(&args, "--iters", 10),
        arg(&args, "--warmup", 2),
    );
    let dev = cpu.autodiff();
    let mut net = Dhr::new(&cfg, &dev);
    let mut optim = AdamConfig::new()
        .with_beta_1(0.9)
        .with_beta_2(0.999)
        .with_epsilon(1e-8)
        .init();
    let x = random([batch, 3, crop, crop], 2, &dev);
    let y = random([batch, 3, crop, crop], 3, &dev);
    let mut step = |net: Dhr| {
        let out = net.forward(x.clone()).image;
        let loss = (out - y.clone()).abs().mean();
        let _: f32 = loss.clone().into_scalar();
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        optim.step(1e-4, net, grads)
    };
    for _ in 0..warmup {
        net = step(net);
    }
    let t = Instant::now();
    for _ in 0..iters {
        net = step(net);
    }
    let dt = t.elapsed().as_secs_f64();
    println!(
        "RESULT bench=train model={model} device={name} batch={batch} crop={crop} threads={threads} iters={iters} seconds={dt:.3} it_per_s={:.4}",
        iters as f64 / dt
    );
}
