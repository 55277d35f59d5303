//! Each degradation factor measured on small procedural images.

use dehaze_core::synth::config::{Range, SynthConfig};
use dehaze_core::synth::degradations::{
    add_gaussian_noise, add_poisson_noise, apply_blur, apply_gamma, blur_kernel, jpeg_roundtrip,
    Blur, NoiseKind,
};
use dehaze_core::synth::density::{octave_weights, rescale, Perlin, PerlinField};
use dehaze_core::synth::rng::{derive_rng, Stream};
use dehaze_core::synth::scattering::{
    apply_scattering, recover_transmission, transmission_from_depth,
};
use dehaze_core::synth::Synthesizer;
use dehaze_core::{Plane, RgbImage};

/// A smooth colourful test scene with some texture (sums of sines), values in [0.05, 0.95].
fn scene(w: usize, h: usize) -> RgbImage {
    let mut rgb = Vec::with_capacity(3 * w * h);
    for y in 0..h {
        for x in 0..w {
            let (fx, fy) = (x as f32, y as f32);
            for c in 0..3 {
                let v = 0.5
                    + 0.25 * ((fx * (0.05 + 0.03 * c as f32)) + fy * 0.07).sin()
                    + 0.15 * ((fx * 0.31 - fy * 0.23 + c as f32).sin() * (fy * 0.11).cos());
                rgb.push(v.clamp(0.05, 0.95));
            }
        }
    }
    RgbImage::from_interleaved(w, h, &rgb)
}

fn mean_std(v: &[f32]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().map(|&x| x as f64).sum::<f64>() / n;
    let var = v.iter().map(|&x| (x as f64 - m).powi(2)).sum::<f64>() / n;
    (m, var.sqrt())
}

fn corr(a: &[f32], b: &[f32]) -> f64 {
    let (ma, sa) = mean_std(a);
    let (mb, sb) = mean_std(b);
    let cov = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (x as f64 - ma) * (y as f64 - mb))
        .sum::<f64>()
        / a.len() as f64;
    cov / (sa * sb)
}

fn psnr(a: &RgbImage, b: &RgbImage) -> f64 {
    let mse = a
        .data()
        .iter()
        .zip(b.data())
        .map(|(&x, &y)| ((x - y) as f64).powi(2))
        .sum::<f64>()
        / a.data().len() as f64;
    10.0 * (1.0 / mse).log10()
}

#[test]
fn gaussian_noise_sigma_is_measured_back_within_10_percent() {
    let grey = RgbImage::from_grey(&Plane::filled(96, 96, 0.5));
    for sigma8 in [2.0f32, 10.0, 25.0] {
        for kind in [
            NoiseKind::Colour,
            NoiseKind::Grey,
            NoiseKind::Correlated { rho: 0.6 },
        ] {
            let mut img = grey.clone();
            let mut rng = derive_rng(1, 2, 3, Stream::Noise);
            add_gaussian_noise(&mut img, kind, sigma8 / 255.0, &mut rng);
            for c in 0..3 {
                let (m, s) = mean_std(img.plane(c));
                let rel = (s * 255.0 / sigma8 as f64 - 1.0).abs();
                assert!(rel < 0.10, "{kind:?} σ={sigma8}: measured {:.3}", s * 255.0);
                assert!((m - 0.5).abs() < 0.01);
            }
            let r01 = corr(img.plane(0), img.plane(1));
            match kind {
                NoiseKind::Colour => assert!(r01.abs() < 0.05, "colour ρ {r01}"),
                NoiseKind::Grey => assert!(r01 > 0.999, "grey ρ {r01}"),
                NoiseKind::Correlated { rho } => {
                    assert!((r01 - rho as f64).abs() < 0.06, "correlated ρ {r01}")
                }
            }
        }
    }
}

#[test]
fn poisson_noise_variance_follows_the_signal() {
    let peak = 200.0;
    for level in [0.2f32, 0.8] {
        let mut img = RgbImage::from_grey(&Plane::filled(96, 96, level));
        add_poisson_noise(&mut img, peak, &mut derive_rng(5, 0, 0, Stream::Noise));
        let (m, s) = mean_std(img.plane(0));
        let expect = (level as f64 / peak as f64).sqrt();
        assert!((m - level as f64).abs() < 0.01);
        assert!(
            (s / expect - 1.0).abs() < 0.10,
            "level {level}: std {s} vs {expect}"
        );
    }
}

#[test]
fn gamma_darkens_midtones_and_keeps_extremes() {
    let data: Vec<f32> = vec![0.0, 0.25, 0.5, 1.0];
    let mut img = RgbImage::from_grey(&Plane::from_vec(4, 1, data));
    apply_gamma(&mut img, 2.0);
    let got = img.plane(0);
    for (g, e) in got.iter().zip([0.0, 0.0625, 0.25, 1.0]) {
        assert!((g - e).abs() < 1e-6, "{got:?}");
    }
}

#[test]
fn jpeg_lowers_psnr_monotonically_with_quality() {
    let img = scene(64, 48);
    let mut last = f64::INFINITY;
    for q in [95u8, 80, 60, 40, 20, 5] {
        let out = jpeg_roundtrip(&img, q).unwrap();
        assert_eq!((out.width(), out.height()), (64, 48));
        let p = psnr(&img, &out);
        assert!(p < last, "PSNR at q={q} is {p:.2} dB, not below {last:.2}");
        last = p;
    }
    assert!(last > 15.0);
}

#[test]
fn blur_kernels_are_normalised_and_smooth() {
    for b in [
        Blur::Defocus { radius: 2.5 },
        Blur::Motion {
            length: 7.0,
            angle: 0.7,
        },
    ] {
        let (size, k) = blur_kernel(b);
        assert_eq!(k.len(), size * size);
        assert!((k.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        // Fine oblique stripes (about 4 px period).
        let stripes: Vec<f32> = (0..48 * 40)
            .map(|i| 0.5 + 0.4 * ((i % 48) as f32 * 1.3 + (i / 48) as f32 * 0.9).sin())
            .collect();
        let img = RgbImage::from_grey(&Plane::from_vec(48, 40, stripes));
        let out = apply_blur(&img, b);
        // Blur lowers the energy of the image's high frequencies: compare the mean absolute
        // horizontal+vertical gradient.
        let grad = |im: &RgbImage| -> f64 {
            let p = im.plane(1);
            let w = im.width();
            let mut s = 0.0;
            for y in 1..im.height() {
                for x in 1..w {
                    s += ((p[y * w + x] - p[y * w + x - 1]).abs()
                        + (p[y * w + x] - p[(y - 1) * w + x]).abs())
                        as f64;
                }
            }
            s
        };
        assert!(grad(&out) < 0.5 * grad(&img), "{b:?}");
        // A constant image is unchanged.
        let flat = RgbImage::from_grey(&Plane::filled(16, 16, 0.3));
        let f = apply_blur(&flat, b);
        assert!(f.data().iter().all(|&v| (v - 0.3).abs() < 1e-5));
    }
}

#[test]
fn transmission_is_recovered_from_a_known_depth() {
    let (w, h) = (40, 30);
    let depth = Plane::from_vec(
        w,
        h,
        (0..w * h)
            .map(|i| (i % w) as f32 / (w - 1) as f32)
            .collect(),
    );
    let clean = scene(w, h);
    // Only scattering: every optional factor off.
    let mut cfg = SynthConfig {
        seed: 11,
        ..Default::default()
    };
    cfg.gamma.p = 0.0;
    cfg.noise.p = 0.0;
    cfg.density.p = 0.0;
    cfg.jpeg.p = 0.0;
    let synth = Synthesizer::new(cfg).unwrap();
    let s = synth.synthesize(&clean, Some(&depth), 3, 1).unwrap();
    let p = &s.params;
    assert!((0.3..=1.5).contains(&p.beta));
    let a = p.airlight;
    let t_rec = recover_transmission(&s.hazy, &clean, a);
    let mut checked = 0;
    for i in 0..w * h {
        let expect = (-p.beta * depth.data()[i]).exp();
        assert!((s.transmission.data()[i] - expect).abs() < 1e-6);
        let r = t_rec.data()[i];
        if r.is_finite() {
            assert!((r - expect).abs() < 1e-3, "pixel {i}: {r} vs {expect}");
            checked += 1;
        }
    }
    assert!(checked > w * h / 2);
    // Nearest point (d = 0) is untouched, farthest has t = e^{-β}.
    let tmin = s.transmission.data().iter().copied().fold(1.0f32, f32::min);
    assert!((tmin - (-p.beta).exp()).abs() < 1e-6);
    assert!((p.t_min - tmin).abs() < 1e-6);
}

#[test]
fn scattering_limits() {
    let clean = scene(8, 8);
    let a = [0.9, 0.8, 0.7];
    let t1 = transmission_from_depth(&Plane::filled(8, 8, 0.0), 1.0);
    assert_eq!(apply_scattering(&clean, &t1, a), clean);
    let t0 = Plane::filled(8, 8, 0.0);
    let fog = apply_scattering(&clean, &t0, a);
    for (c, &ac) in a.iter().enumerate() {
        assert!(fog.plane(c).iter().all(|&v| v == ac));
    }
}

#[test]
fn perlin_noise_is_bounded_and_zero_on_the_lattice() {
    let p = Perlin::new(&mut derive_rng(3, 0, 0, Stream::Params));
    let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
    for i in 0..4000 {
        let (x, y) = (i as f32 * 0.173, (i * 7 % 1000) as f32 * 0.091);
        let v = p.noise(x, y);
        lo = lo.min(v);
        hi = hi.max(v);
    }
    assert!(lo >= -1.0 && hi <= 1.0 && hi - lo > 0.5, "{lo} {hi}");
    for (x, y) in [(0.0, 0.0), (5.0, 17.0), (255.0, 3.0), (300.0, 512.0)] {
        assert_eq!(p.noise(x, y), 0.0);
    }
}

#[test]
fn octave_weights_follow_persistence() {
    for n in 4..=6 {
        let w = octave_weights(n, 0.5);
        assert_eq!(w.len(), n as usize);
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        for i in 1..w.len() {
            assert!((w[i] / w[i - 1] - 0.5).abs() < 1e-12);
        }
        // w_0 = 1 / Σ 0.5^j
        let s: f64 = (0..n).map(|j| 0.5f64.powi(j as i32)).sum();
        assert!((w[0] - 1.0 / s).abs() < 1e-12);
    }
}

#[test]
fn perlin_field_rescales_to_range_and_crops_consistently() {
    let f = PerlinField::new(&mut derive_rng(9, 0, 0, Stream::Params), 5, 0.5, 128.0);
    let mut full = f.render(0, 0, 96, 80);
    let crop = f.render(20, 30, 16, 16);
    for y in 0..16 {
        for x in 0..16 {
            assert_eq!(crop.get(x, y), full.get(20 + x, 30 + y));
        }
    }
    rescale(&mut full, 0.5, 1.5);
    let (lo, hi) = full
        .data()
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    assert!(
        (lo - 0.5).abs() < 1e-6 && (hi - 1.5).abs() < 1e-6,
        "{lo} {hi}"
    );
    // The field varies smoothly at the base period: neighbouring pixels differ little.
    let d = full.data();
    let max_step = (1..d.len())
        .filter(|i| i % 96 != 0)
        .map(|i| (d[i] - d[i - 1]).abs())
        .fold(0.0f32, f32::max);
    assert!(max_step < 0.2, "max step {max_step}");
}

#[test]
fn density_field_modulates_transmission_within_bounds() {
    let mut cfg = SynthConfig {
        seed: 4,
        ..Default::default()
    };
    cfg.gamma.p = 0.0;
    cfg.noise.p = 0.0;
    cfg.jpeg.p = 0.0;
    cfg.density.p = 1.0;
    cfg.density.field = Range::new(0.5, 1.5);
    let synth = Synthesizer::new(cfg).unwrap();
    let depth = Plane::filled(64, 48, 1.0);
    let s = synth
        .synthesize(&scene(64, 48), Some(&depth), 0, 0)
        .unwrap();
    let b = s.params.beta;
    assert!(s.params.density_seed.is_some());
    // t = exp(-β)^F with F in [0.5, 1.5]: bounded by exp(-1.5β) and exp(-0.5β), both reached.
    let (lo, hi) = s
        .transmission
        .data()
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, c), &v| {
            (a.min(v), c.max(v))
        });
    assert!((lo - (-1.5 * b).exp()).abs() < 1e-5, "{lo}");
    assert!((hi - (-0.5 * b).exp()).abs() < 1e-5, "{hi}");
}

#[test]
fn density_maps_interpolate_and_ahg_fallback_uses_pseudo_depth() {
    use dehaze_core::synth::density::{ahg_density, interpolate_maps, DensityEncoder};
    use dehaze_core::synth::pseudo_depth::PseudoDepthEncoder;
    let mc = Plane::filled(6, 4, 0.2);
    let mh = Plane::filled(6, 4, 0.8);
    let m = interpolate_maps(&mc, &mh, 0.25);
    assert!(m.data().iter().all(|&v| (v - 0.65).abs() < 1e-6));
    // With α = 1 and no field the AHG map is the encoding of the clear image.
    let clear = scene(24, 20);
    let enc = PseudoDepthEncoder;
    let a = ahg_density(&enc, &clear, &clear, 1.0, None);
    assert_eq!(a, enc.encode(&clear));
    // A field of 2 doubles the map (clamped to 1).
    let two = Plane::filled(24, 20, 2.0);
    let b = ahg_density(&enc, &clear, &clear, 1.0, Some(&two));
    for (x, y) in a.data().iter().zip(b.data()) {
        assert!((y - (2.0 * x).min(1.0)).abs() < 1e-6);
    }
}
