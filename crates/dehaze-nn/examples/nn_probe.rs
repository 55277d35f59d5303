//! Measurements behind the inference design: backend speed, tile memory, whole-file peak memory.
//!
//! ```text
//! # Forward-pass time on a CPU backend (best of --reps, after one warm-up pass):
//! cargo run --release -p dehaze-nn --example nn_probe -- bench --net conv --size 256 --reps 5
//! cargo run --release -p dehaze-nn --features ndarray --example nn_probe -- bench --backend ndarray ...
//! # Peak resident memory of one forward pass at a tile size (one process per size):
//! cargo run --release -p dehaze-nn --example nn_probe -- memory --net conv --tile 512
//! # The `dehaze` CLI's path (read, plan tiles for --max-memory, restore tiled, write) with a
//! # network; run under /usr/bin/time -v for the peak:
//! cargo run --release -p dehaze-nn --example nn_probe -- image --net conv --max-memory 2G IN OUT
//! # A large test picture: a real photo upscaled (bilinear) to W×H:
//! cargo run --release -p dehaze-nn --example nn_probe -- upscale IN OUT 6000 4000
//! ```
//!
//! `--net conv` is a stand-in: five 3×3 convolutions at 32 channels (receptive radius 5), for
//! measuring the machinery before the real networks exist; `ka-net`, `ka-net-s`, `dhr-s`, `dhr-b`
//! build the real ones with random weights (fine for time and memory, never for pictures).
//! Threads: the backends use rayon's global pool when built with rayon (`RAYON_NUM_THREADS`).

use std::time::Instant;

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::PaddingConfig2d;
use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::{Device, Distribution, Tensor};
use dehaze_core::io::{self, Decoded, ReadOptions, WriteOptions};
use dehaze_nn::inference::{restore_padded, Network, Restored};
use dehaze_nn::memory::{self, TileCost, TilingModel};
use dehaze_nn::registry::NetworkKind;
use dehaze_nn::tiling::{restore_tiled, AxisTiles};

/// The stand-in: conv 3→32, three conv 32→32, conv 32→3, ReLU between, sigmoid out.
#[derive(Module, Debug)]
struct ConvStack {
    convs: Vec<Conv2d>,
}

impl ConvStack {
    fn new(device: &Device) -> Self {
        let conv = |i, o| {
            Conv2dConfig::new([i, o], [3, 3])
                .with_padding(PaddingConfig2d::Same)
                .init(device)
        };
        Self {
            convs: vec![
                conv(3, 32),
                conv(32, 32),
                conv(32, 32),
                conv(32, 32),
                conv(32, 3),
            ],
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let last = self.convs.len() - 1;
        self.convs.iter().enumerate().fold(x, |y, (i, c)| {
            let y = c.forward(y);
            if i == last {
                sigmoid(y)
            } else {
                relu(y)
            }
        })
    }
}

/// The stand-in's memory model, measured with `memory --net conv` on flex: the pass took
/// exactly 384 bytes per pixel at tiles of 256² to 1536² (24.0 MiB at 256², 864.0 MiB at 1536²).
const CONV_TILING: TilingModel = TilingModel {
    cost: TileCost {
        base: 0.0,
        per_pixel: 384.0,
        per_pixel_sq: 0.0,
    },
    margin: 8,
    ramp: 16,
};

enum Net {
    Conv(ConvStack),
    Real(Box<dehaze_nn::inference::Network>),
}

impl Net {
    fn new(name: &str, device: &Device) -> Self {
        match name {
            "conv" => Net::Conv(ConvStack::new(device)),
            other => Net::Real(Box::new(Network::build(
                NetworkKind::from_name(other).unwrap_or_else(|| {
                    panic!("--net: conv, ka-net, ka-net-s, dhr-s or dhr-b, not {other}")
                }),
                device,
            ))),
        }
    }

    fn restore(&self, x: Tensor<4>) -> Restored {
        match self {
            Net::Conv(c) => restore_padded(x, 16, 16, |t| (c.forward(t), None)),
            Net::Real(n) => n.restore(x),
        }
    }

    fn tiling(&self) -> TilingModel {
        match self {
            Net::Conv(_) => CONV_TILING,
            Net::Real(n) => n.kind().tiling(),
        }
    }

    fn weights_bytes(&self) -> u64 {
        match self {
            Net::Conv(c) => c.num_params() as u64 * 4,
            Net::Real(n) => n.weights_bytes(),
        }
    }
}

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.to_string())
}

fn device(backend: &str) -> Device {
    match backend {
        "flex" => Device::flex(),
        #[cfg(feature = "ndarray")]
        #[allow(deprecated)]
        "ndarray" => Device::ndarray(),
        other => panic!(
            "--backend {other}: not in this build (flex, or ndarray with --features ndarray)"
        ),
    }
}

/// Peak and current resident set size of this process, in MiB (`VmHWM`, `VmRSS`).
fn rss_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// Forces the lazily initialised weights into memory (one tiny pass), so that they count in the
/// baseline and not in the tile. 64 px: KA-Net's attention needs a side of at least 48.
fn warm(net: &Net, device: &Device) {
    let x = Tensor::<4>::random([1, 3, 64, 64], Distribution::Uniform(0.0, 1.0), device);
    let _ = net.restore(x).image.into_data();
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map(String::as_str).unwrap_or("");
    let backend = arg(&args, "--backend", "flex");
    let dev = device(&backend);
    let net = Net::new(&arg(&args, "--net", "conv"), &dev);
    match mode {
        "bench" => {
            let size: usize = arg(&args, "--size", "256").parse().expect("--size N");
            let reps: usize = arg(&args, "--reps", "5").parse().expect("--reps N");
            let x = Tensor::<4>::random([1, 3, size, size], Distribution::Uniform(0.0, 1.0), &dev);
            let _ = net.restore(x.clone()).image.into_data();
            let mut times = Vec::new();
            for _ in 0..reps {
                let t = Instant::now();
                let _ = net.restore(x.clone()).image.into_data();
                times.push(t.elapsed().as_secs_f64());
            }
            times.sort_by(f64::total_cmp);
            println!(
                "backend={backend} net={} size={size} best={:.4}s median={:.4}s threads={}",
                arg(&args, "--net", "conv"),
                times[0],
                times[times.len() / 2],
                std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "default".into())
            );
        }
        "memory" => {
            let tile: usize = arg(&args, "--tile", "512").parse().expect("--tile N");
            warm(&net, &dev);
            let (_, before) = rss_mib();
            let x = Tensor::<4>::random([1, 3, tile, tile], Distribution::Uniform(0.0, 1.0), &dev);
            let t = Instant::now();
            let _ = net.restore(x).image.into_data();
            let secs = t.elapsed().as_secs_f64();
            let (peak, _) = rss_mib();
            println!(
                "net={} tile={tile} pixels={} baseline_mib={before:.1} peak_mib={peak:.1} pass_mib={:.1} seconds={secs:.2}",
                arg(&args, "--net", "conv"),
                tile * tile,
                peak - before
            );
        }
        "image" => {
            let (input, output) = (&args[args.len() - 2], &args[args.len() - 1]);
            let budget =
                memory::parse_size(&arg(&args, "--max-memory", "2G")).expect("--max-memory");
            let started = Instant::now();
            let Decoded { rgb, alpha, info } =
                io::read_image(input.as_ref(), &ReadOptions::default()).expect("read");
            let (w, h) = (rgb.width(), rgb.height());
            let spec = memory::plan_tiles(&net.tiling(), w, h, net.weights_bytes(), budget, 16)
                .expect("plan");
            let tiles = AxisTiles::new(w, 16, &spec).starts.len()
                * AxisTiles::new(h, 16, &spec).starts.len();
            let restored = restore_tiled(&rgb, 16, &spec, &dev, |x| net.restore(x), |_, _| {});
            drop(rgb);
            let out = Decoded {
                rgb: restored.image,
                alpha,
                info,
            };
            io::write_image(output.as_ref(), &out, &WriteOptions::default()).expect("write");
            let (peak, _) = rss_mib();
            println!(
                "{w}x{h}: {tiles} tiles of {} px, peak {peak:.0} MiB, {:.1} s",
                spec.tile,
                started.elapsed().as_secs_f64()
            );
        }
        "upscale" => {
            let n = args.len();
            let (input, output) = (&args[1], &args[2]);
            let (w, h): (usize, usize) = (
                args[n - 2].parse().expect("W"),
                args[n - 1].parse().expect("H"),
            );
            let src = io::read_image(input.as_ref(), &ReadOptions::default()).expect("read");
            let big = upscale(&src.rgb, w, h);
            let out = Decoded {
                rgb: big,
                alpha: None,
                info: src.info,
            };
            io::write_image(output.as_ref(), &out, &WriteOptions::default()).expect("write");
        }
        _ => eprintln!(
            "usage: nn_probe bench|memory|image|upscale [options] (see the example's docs)"
        ),
    }
}

/// Bilinear resampling of `img` to `w×h` (pixel centres aligned).
fn upscale(
    img: &dehaze_core::buffer::RgbImage,
    w: usize,
    h: usize,
) -> dehaze_core::buffer::RgbImage {
    let (sw, sh) = (img.width(), img.height());
    let mut out = dehaze_core::buffer::RgbImage::new(w, h);
    let coord = |i: usize, n: usize, sn: usize| {
        let f = ((i as f32 + 0.5) * sn as f32 / n as f32 - 0.5).clamp(0.0, (sn - 1) as f32);
        let i0 = f.floor() as usize;
        (i0, (i0 + 1).min(sn - 1), f - i0 as f32)
    };
    let xs: Vec<_> = (0..w).map(|x| coord(x, w, sw)).collect();
    for (c, plane) in out.planes_mut().into_iter().enumerate() {
        let src = img.plane(c);
        for y in 0..h {
            let (y0, y1, fy) = coord(y, h, sh);
            for (x, &(x0, x1, fx)) in xs.iter().enumerate() {
                let top = src[y0 * sw + x0] * (1.0 - fx) + src[y0 * sw + x1] * fx;
                let bottom = src[y1 * sw + x0] * (1.0 - fx) + src[y1 * sw + x1] * fx;
                plane[y * w + x] = top * (1.0 - fy) + bottom * fy;
            }
        }
    }
    out
}
