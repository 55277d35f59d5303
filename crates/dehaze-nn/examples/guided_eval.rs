//! What running a network at a working size and guided-upsampling its result loses against the
//! whole-image pass, the Rust side of `bench/guided_upsample.sh`.
//!
//! ```text
//! guided_eval DIR [--sizes 512,768,1024] [--metrics | --all-metrics] [--min-side N]
//!             [--weights FILE]
//! ```
//!
//! For every image under `DIR` (recursively): the bundled DHR-S (or `--weights`) on the whole
//! image (the reference), then for each working size `s` whose long side is below the image's,
//! the network on the area-downscaled copy and guided upsampling back to full size
//! (dehaze-nn's `working_size`), for a sweep of guide / radius / eps settings. Prints, per size
//! and setting, the mean PSNR (RGB, 8-bit) of the guided output against the reference over the
//! images the size changes; with `--metrics`, also the mean FADE, NIQE (Y) and BRISQUE of the
//! reference and of the guided output with the default setting, over the same images
//! (`--all-metrics`: with every setting). `--min-side N` skips images whose long side is at
//! most N (a quicker sweep).

use std::path::{Path, PathBuf};
use std::time::Instant;

use dehaze_core::buffer::RgbImage;
use dehaze_core::filters::guided_upsample::{
    downscale_area, fit_affine, working_size, GuideChannels, GuidedUpsample,
};
use dehaze_core::io::{list_images, read_image, ReadOptions};
use dehaze_core::metrics::{brisque, fade, niqe, psnr_rgb, NiqeLuma, Rgb8};
use dehaze_nn::inference::{image_to_tensor, tensor_to_image, Network};
use dehaze_nn::registry::NetworkKind;

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    out.extend(list_images(dir).expect("list images"));
    let mut subdirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    subdirs.sort();
    for d in subdirs {
        walk(&d, out);
    }
}

fn restore(net: &Network, img: &RgbImage) -> RgbImage {
    tensor_to_image(net.restore(image_to_tensor(img, net.device())).image)
}

/// FADE, NIQE (Y), BRISQUE.
fn scores(img: &RgbImage) -> [f64; 3] {
    let q = Rgb8::from_rgb_image(img);
    [
        fade(&q).unwrap_or(f64::NAN),
        niqe(&q, NiqeLuma::Y).unwrap_or(f64::NAN),
        brisque(&q).unwrap_or(f64::NAN),
    ]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = PathBuf::from(args.get(1).expect("usage: guided_eval DIR [--sizes ...]"));
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let sizes: Vec<usize> = value("--sizes")
        .unwrap_or_else(|| "512,768,1024".into())
        .split(',')
        .map(|s| s.parse().expect("--sizes N,N,..."))
        .collect();
    let all_metrics = args.iter().any(|a| a == "--all-metrics");
    let with_metrics = all_metrics || args.iter().any(|a| a == "--metrics");
    let min_side: usize = value("--min-side").map_or(0, |v| v.parse().expect("--min-side N"));
    let device = dehaze_nn::device::cpu();
    let net = match value("--weights") {
        Some(p) => Network::load(NetworkKind::DhrS, Path::new(&p), &device),
        // The weights the CLI bundles.
        None => Network::load(
            NetworkKind::DhrS,
            Path::new(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../models/dhr-s.safetensors"
            )),
            &device,
        ),
    }
    .expect("weights");

    let default = GuidedUpsample::default();
    let mut settings = vec![default];
    for guide in [GuideChannels::PerChannel, GuideChannels::Grey] {
        for radius in [1, 2, 4, 8] {
            for eps in [1e-4f32, 1e-3, 1e-2, 1e-1] {
                let s = GuidedUpsample { radius, eps, guide };
                if s != default {
                    settings.push(s);
                }
            }
        }
    }

    let mut files = Vec::new();
    walk(&dir, &mut files);
    // Per size: PSNR sums per setting, count, metric sums (reference, guided), seconds.
    let mut psnr = vec![vec![0.0f64; settings.len()]; sizes.len()];
    let mut count = vec![0usize; sizes.len()];
    let mut metric_ref = vec![[0.0f64; 3]; sizes.len()];
    let mut metric_guided = vec![vec![[0.0f64; 3]; settings.len()]; sizes.len()];
    let mut seconds_low = vec![0.0f64; sizes.len()];
    let mut seconds_whole = vec![0.0f64; sizes.len()];
    for path in &files {
        let full = read_image(path, &ReadOptions::default()).expect("read").rgb;
        let (w, h) = (full.width(), full.height());
        if w.max(h) <= min_side {
            continue;
        }
        let t = Instant::now();
        let whole = restore(&net, &full);
        let whole_s = t.elapsed().as_secs_f64();
        let whole8 = Rgb8::from_rgb_image(&whole);
        let whole_scores = with_metrics.then(|| scores(&whole));
        let mut line = format!("{} {w}x{h} whole {whole_s:.2}s", path.display());
        for (k, &size) in sizes.iter().enumerate() {
            let (lw, lh) = working_size(w, h, size);
            if (lw, lh) == (w, h) {
                continue;
            }
            let t = Instant::now();
            let low = downscale_area(&full, lw, lh);
            let low_out = restore(&net, &low);
            seconds_low[k] += t.elapsed().as_secs_f64();
            seconds_whole[k] += whole_s;
            count[k] += 1;
            if let Some(reference) = whole_scores {
                for m in 0..3 {
                    metric_ref[k][m] += reference[m];
                }
            }
            for (j, s) in settings.iter().enumerate() {
                let mut out = full.clone();
                fit_affine(&low, &low_out, s).apply_in_place(&mut out);
                let p = psnr_rgb(&Rgb8::from_rgb_image(&out), &whole8).expect("same size");
                psnr[k][j] += p.min(99.0);
                if j == 0 {
                    line.push_str(&format!(" | {size}: {p:.2} dB"));
                }
                if with_metrics && (j == 0 || all_metrics) {
                    let got = scores(&out);
                    for m in 0..3 {
                        metric_guided[k][j][m] += got[m];
                    }
                }
            }
        }
        eprintln!("{line}");
    }

    println!("\nimages: {} under {}", files.len(), dir.display());
    for (k, &size) in sizes.iter().enumerate() {
        let n = count[k] as f64;
        if count[k] == 0 {
            continue;
        }
        println!(
            "\n== working size {size}: {} images larger (the others are unchanged); network time \
             {:.1} s vs {:.1} s for their whole-image passes",
            count[k], seconds_low[k], seconds_whole[k]
        );
        let mut order: Vec<usize> = (0..settings.len()).collect();
        order.sort_by(|&a, &b| psnr[k][b].total_cmp(&psnr[k][a]));
        let names = ["fade", "niqe_y", "brisque"];
        if with_metrics {
            let mut line = format!("WHOLE size={size} n={}", count[k]);
            for m in 0..3 {
                line.push_str(&format!(" {}={:.4}", names[m], metric_ref[k][m] / n));
            }
            println!("{line}");
        }
        for &j in &order {
            let s = &settings[j];
            let mut line = format!(
                "RESULT size={size} guide={:?} radius={} eps={:e} psnr_db={:.2}",
                s.guide,
                s.radius,
                s.eps,
                psnr[k][j] / n
            );
            if with_metrics && (j == 0 || all_metrics) {
                for m in 0..3 {
                    let (r, g) = (metric_ref[k][m] / n, metric_guided[k][j][m] / n);
                    line.push_str(&format!(
                        " {0}={1:.4} {0}_change_pct={2:+.2}",
                        names[m],
                        g,
                        100.0 * (g - r) / r
                    ));
                }
            }
            if j == 0 {
                line.push_str(" (default)");
            }
            println!("{line}");
        }
    }
}
