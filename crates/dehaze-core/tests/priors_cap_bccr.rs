//! Behaviour of the colour attenuation prior and of BCCR on synthetic haze with a known
//! transmission, on degenerate sizes, and (shape/range only) on a real hazy image.

use dehaze_core::priors::boundary_constraint::BoundaryConstraint;
use dehaze_core::priors::color_attenuation::ColorAttenuationPrior;
use dehaze_core::{Dehazed, Dehazer, Plane, RgbImage};

/// A small deterministic generator (64-bit LCG, top bits) for the test textures.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// A textured, fairly saturated scene: 4×4 blocks of random colours with one dark channel
/// (`0.02–0.1`, as the dark channel of natural scenes) and two in `0.2–0.7`.
fn texture(w: usize, h: usize, seed: u64) -> RgbImage {
    let mut rng = Lcg(seed);
    let (bw, bh) = (w.div_ceil(4), h.div_ceil(4));
    let blocks: Vec<[f32; 3]> = (0..bw * bh)
        .map(|_| {
            let dark = (rng.next() * 3.0) as usize % 3;
            let mut c = [0.0; 3];
            for (i, v) in c.iter_mut().enumerate() {
                *v = if i == dark {
                    0.02 + 0.08 * rng.next()
                } else {
                    0.2 + 0.5 * rng.next()
                };
            }
            c
        })
        .collect();
    let mut rgb = Vec::with_capacity(3 * w * h);
    for y in 0..h {
        for x in 0..w {
            rgb.extend_from_slice(&blocks[(y / 4) * bw + x / 4]);
        }
    }
    RgbImage::from_interleaved(w, h, &rgb)
}

/// `I = J·t + A·(1 − t)` with `t = exp(−d)`, `d` a left-to-right ramp from 0 to `d_max`.
fn hazy_ramp(j: &RgbImage, a: [f32; 3], d_max: f32) -> (RgbImage, Plane) {
    let (w, h) = (j.width(), j.height());
    let t: Vec<f32> = (0..w * h)
        .map(|i| (-(d_max * (i % w) as f32 / (w - 1) as f32)).exp())
        .collect();
    let mut out = RgbImage::new(w, h);
    for (c, (dst, src)) in out.planes_mut().into_iter().zip(j.planes()).enumerate() {
        for ((o, &jv), &tv) in dst.iter_mut().zip(src).zip(&t) {
            *o = jv * tv + a[c] * (1.0 - tv);
        }
    }
    (out, Plane::from_vec(w, h, t))
}

fn pearson(a: &[f32], b: &[f32]) -> f64 {
    let n = a.len() as f64;
    let ma = a.iter().map(|&v| v as f64).sum::<f64>() / n;
    let mb = b.iter().map(|&v| v as f64).sum::<f64>() / n;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let (dx, dy) = (x as f64 - ma, y as f64 - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    sab / (saa * sbb).sqrt()
}

fn check_output(name: &str, input: &RgbImage, out: &Dehazed) {
    assert_eq!(
        (out.image.width(), out.image.height()),
        (input.width(), input.height())
    );
    assert_eq!(
        (out.transmission.width(), out.transmission.height()),
        (input.width(), input.height())
    );
    assert!(
        out.image.data().iter().all(|v| (0.0..=1.0).contains(v)),
        "{name}: image outside [0, 1]"
    );
    assert!(
        out.transmission
            .data()
            .iter()
            .all(|v| (0.0..=1.0).contains(v)),
        "{name}: transmission outside [0, 1]"
    );
    assert!(
        out.airlight.iter().all(|v| (0.0..=1.0).contains(v)),
        "{name}: airlight {:?}",
        out.airlight
    );
}

const AIRLIGHT: [f32; 3] = [0.85, 0.88, 0.92];

#[test]
fn cap_recovers_a_depth_ramp() {
    let j = texture(96, 64, 7);
    let (hazy, t_true) = hazy_ramp(&j, AIRLIGHT, 2.5);
    let out = ColorAttenuationPrior::default().dehaze(&hazy);
    check_output("cap", &hazy, &out);
    let r = pearson(out.transmission.data(), t_true.data());
    let a_err = (0..3)
        .map(|c| (out.airlight[c] - AIRLIGHT[c]).abs())
        .fold(0.0, f32::max);
    println!(
        "CAP: pearson(t, t_true) = {r:.4}, airlight {:?} (max err {a_err:.4})",
        out.airlight
    );
    assert!(r > 0.9, "pearson {r}");
    assert!(a_err < 0.1, "airlight {:?}", out.airlight);
}

#[test]
fn bccr_recovers_a_depth_ramp() {
    let j = texture(96, 64, 11);
    let (hazy, t_true) = hazy_ramp(&j, AIRLIGHT, 2.5);
    let out = BoundaryConstraint::default().dehaze(&hazy);
    check_output("bccr", &hazy, &out);
    let r = pearson(out.transmission.data(), t_true.data());
    let a_err = (0..3)
        .map(|c| (out.airlight[c] - AIRLIGHT[c]).abs())
        .fold(0.0, f32::max);
    println!(
        "BCCR: pearson(t, t_true) = {r:.4}, airlight {:?} (max err {a_err:.4})",
        out.airlight
    );
    assert!(r > 0.9, "pearson {r}");
    assert!(a_err < 0.1, "airlight {:?}", out.airlight);
}

#[test]
fn degenerate_inputs_give_finite_outputs() {
    let mut cases: Vec<(&str, RgbImage)> = vec![
        ("1x1", RgbImage::from_interleaved(1, 1, &[0.3, 0.5, 0.7])),
        ("1xN", texture(1, 17, 3)),
        ("7x1", texture(7, 1, 5)),
        ("2x2", texture(2, 2, 9)),
        ("black", RgbImage::new(16, 12)),
        ("empty", RgbImage::new(0, 0)),
    ];
    let grey = Plane::filled(16, 12, 0.5);
    cases.push(("flat grey", RgbImage::from_grey(&grey)));
    cases.push(("white", RgbImage::from_grey(&Plane::filled(9, 5, 1.0))));
    let methods: [(&str, &dyn Dehazer); 2] = [
        ("cap", &ColorAttenuationPrior::default()),
        ("bccr", &BoundaryConstraint::default()),
    ];
    for (case, img) in &cases {
        for (m, d) in methods {
            let out = d.dehaze(img);
            check_output(&format!("{m} on {case}"), img, &out);
        }
    }
    // A black image stays black.
    for (_, d) in methods {
        let out = d.dehaze(&RgbImage::new(8, 8));
        assert!(out.image.data().iter().all(|&v| v == 0.0));
    }
}

/// Shape/range on a real hazy photo, subsampled (the placeholder filters are slow).
#[test]
fn real_image_shape_and_range() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/real_hazy/ridcp_examples/canon_input.png"
    );
    let Ok(img) = image::open(path) else {
        dehaze_core::testing::missing(path);
        return;
    };
    let img = img.to_rgb8();
    let step = (img.width() / 96).max(1);
    let (w, h) = (
        (img.width() / step) as usize,
        (img.height() / step) as usize,
    );
    let mut rgb = Vec::with_capacity(3 * w * h);
    for y in 0..h {
        for x in 0..w {
            let p = img.get_pixel(x as u32 * step, y as u32 * step);
            rgb.extend(p.0.iter().map(|&v| v as f32 / 255.0));
        }
    }
    let hazy = RgbImage::from_interleaved(w, h, &rgb);
    for (m, out) in [
        ("cap", ColorAttenuationPrior::default().dehaze(&hazy)),
        ("bccr", BoundaryConstraint::default().dehaze(&hazy)),
    ] {
        check_output(m, &hazy, &out);
        // Dehazing should darken the haze veil: the mean falls.
        let mean = |d: &[f32]| d.iter().sum::<f32>() / d.len() as f32;
        println!(
            "{m}: mean {:.3} -> {:.3}, airlight {:?}",
            mean(hazy.data()),
            mean(out.image.data()),
            out.airlight
        );
        assert!(mean(out.image.data()) < mean(hazy.data()));
    }
}

/// One-off timing at 1024×768 (run in release:
/// `cargo test --release -p dehaze-core --test priors_cap_bccr -- --ignored --nocapture`).
#[test]
#[ignore = "timing, run in release"]
fn timing_1024x768() {
    use dehaze_core::filters::guided_filter::guided_filter;
    use std::time::Instant;
    let (hazy, _) = hazy_ramp(&texture(1024, 768, 1), AIRLIGHT, 2.5);
    println!("rayon threads: {}", rayon::current_num_threads());

    let bc = BoundaryConstraint::default();
    let start = Instant::now();
    let a = bc.airlight(&hazy);
    let t_air = start.elapsed();
    let tb = bc.boundary_transmission(&hazy, a);
    let t_bound = start.elapsed() - t_air;
    let _ = bc.regularize(&hazy, &tb);
    let t_reg = start.elapsed() - t_air - t_bound;
    let start = Instant::now();
    let _ = bc.dehaze(&hazy);
    println!(
        "BCCR 1024x768: total {:.3} s (airlight {:.3}, boundary+closing {:.3}, regularisation {:.3})",
        start.elapsed().as_secs_f64(),
        t_air.as_secs_f64(),
        t_bound.as_secs_f64(),
        t_reg.as_secs_f64()
    );

    let cap = ColorAttenuationPrior::default();
    let start = Instant::now();
    let _ = cap.dehaze(&hazy);
    let total = start.elapsed();
    let grey = Plane::from_vec(1024, 768, hazy.plane(1).to_vec());
    let start = Instant::now();
    let _ = guided_filter(&grey, &grey, cap.guided_radius, cap.guided_eps);
    println!(
        "CAP 1024x768: total {:.3} s, of which one guided filter r={} ≈ {:.3} s",
        total.as_secs_f64(),
        cap.guided_radius,
        start.elapsed().as_secs_f64()
    );
}
