//! The multi-factor synthesis pipeline: draws one sample's parameters from the config and
//! applies the factors in order
//!
//! ```text
//! J' = J^γ                      (p = gamma.p)
//! J' ← Poisson(peak·J')/peak    (p = noise.p_poisson)
//! J' ← J' + n,  n ~ N(0, σ²)    (p = noise.p; colour / grey / correlated)
//! J' ← J' ⊛ k                   (defocus disc or motion line; p = blur.p_*)
//! t  = exp(−β·d)  [· then t ← t^F with a Perlin field F, p = density.p]
//! I  = J'·t + A·(1 − t),  A_c = A + δ_c
//! I  ← JPEG_q(I)                (p = jpeg.p)
//! ```
//!
//! which is the order SYSTEMS.md §1.1 prescribes (noise before scattering, as in the RIDCP
//! pipeline whose ranges these are). The clear target is the untouched `J`.
//!
//! **Determinism.** The parameters of sample `(image i, copy k)` come from the stream
//! `derive_rng(seed, i, k, Params)` and its per-pixel noise from `derive_rng(seed, i, k, Noise)`
//! ([`super::rng`]); nothing else is random, so a sample is a pure function of
//! `(config, clean, depth, i, k)` and can be computed on any thread.

use super::config::{ConfigError, SynthConfig};
use super::degradations::{
    add_gaussian_noise, add_poisson_noise, apply_blur, apply_gamma, jpeg_roundtrip, uniform, Blur,
    NoiseKind,
};
use super::density::{modulate_transmission, rescale, PerlinField};
use super::pseudo_depth::pseudo_depth;
use super::rng::{derive_rng, Stream, SynthRng};
use super::scattering::{apply_scattering, transmission_from_depth};
use crate::buffer::{Plane, RgbImage};
use rand::RngExt;
use std::fmt::Write as _;

/// Why a sample could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("depth map is {dw}×{dh} but the image is {iw}×{ih}")]
    SizeMismatch {
        dw: usize,
        dh: usize,
        iw: usize,
        ih: usize,
    },
    #[error("empty image")]
    Empty,
    #[error("JPEG round trip failed: {0}")]
    Jpeg(String),
    #[error("{0}")]
    Config(String),
}

/// Where the depth of a sample came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DepthSource {
    /// A measured depth/disparity map, or a density map, supplied by the caller.
    Map,
    /// [`pseudo_depth`] of the clean image.
    Pseudo,
}

/// Everything that was drawn for one sample: enough to reproduce it and to study the data.
#[derive(Clone, Debug, PartialEq)]
pub struct SynthParams {
    pub image_index: u64,
    pub copy_index: u64,
    pub gamma: Option<f32>,
    pub poisson_peak: Option<f32>,
    /// Gaussian noise kind and σ in 8-bit grey levels (σ/255 on the `[0,1]` scale).
    pub noise: Option<(NoiseKind, f32)>,
    pub blur: Option<Blur>,
    pub beta: f32,
    /// Per-channel airlight after the colour shift.
    pub airlight: [f32; 3],
    /// Seed of the Perlin density field, if one was applied.
    pub density_seed: Option<u64>,
    pub jpeg_quality: Option<u8>,
    pub depth_source: DepthSource,
    /// Mean and minimum of the final transmission.
    pub t_mean: f32,
    pub t_min: f32,
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

impl SynthParams {
    /// The CSV header matching [`SynthParams::to_csv_row`] (empty cells = factor not applied).
    pub const CSV_HEADER: &'static str = "image_index,copy_index,depth_source,gamma,poisson_peak,\
noise_kind,noise_sigma_255,noise_rho,blur,blur_size,blur_angle,beta,airlight_r,airlight_g,\
airlight_b,density_seed,jpeg_quality,t_mean,t_min";

    /// One CSV row (no newline). All cells are numbers or fixed words, so nothing needs quoting.
    pub fn to_csv_row(&self) -> String {
        let mut s = String::new();
        let (nk, ns, nr) = match self.noise {
            Some((k, sigma)) => (
                k.name().to_string(),
                format!("{sigma:.4}"),
                match k {
                    NoiseKind::Correlated { rho } => format!("{rho:.4}"),
                    _ => String::new(),
                },
            ),
            None => Default::default(),
        };
        let (bk, bs, ba) = match self.blur {
            Some(Blur::Defocus { radius }) => ("defocus", format!("{radius:.4}"), String::new()),
            Some(Blur::Motion { length, angle }) => {
                ("motion", format!("{length:.4}"), format!("{angle:.4}"))
            }
            None => ("", String::new(), String::new()),
        };
        let _ = write!(
            s,
            "{},{},{},{},{},{nk},{ns},{nr},{bk},{bs},{ba},{:.4},{:.4},{:.4},{:.4},{},{},{:.4},{:.4}",
            self.image_index,
            self.copy_index,
            match self.depth_source {
                DepthSource::Map => "map",
                DepthSource::Pseudo => "pseudo",
            },
            opt(self.gamma.map(|g| format!("{g:.4}"))),
            opt(self.poisson_peak.map(|p| format!("{p:.1}"))),
            self.beta,
            self.airlight[0],
            self.airlight[1],
            self.airlight[2],
            opt(self.density_seed),
            opt(self.jpeg_quality),
            self.t_mean,
            self.t_min,
        );
        s
    }
}

/// One synthesised pair with its transmission and parameters.
#[derive(Clone, Debug)]
pub struct Sample {
    pub hazy: RgbImage,
    pub clear: RgbImage,
    /// The final transmission `t` (after the density field), in `(0, 1]`.
    pub transmission: Plane,
    pub params: SynthParams,
}

/// The synthesiser: a validated config.
#[derive(Clone, Debug, Default)]
pub struct Synthesizer {
    config: SynthConfig,
}

impl Synthesizer {
    /// Validates and wraps a config.
    pub fn new(config: SynthConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self { config })
    }

    pub fn config(&self) -> &SynthConfig {
        &self.config
    }

    /// Draws the parameters of sample `(image_index, copy_index)`; the fields that depend on
    /// the image (`depth_source`, `t_mean`, `t_min`) are placeholders.
    pub fn draw_params(&self, image_index: u64, copy_index: u64) -> SynthParams {
        let c = &self.config;
        let mut rng = derive_rng(c.seed, image_index, copy_index, Stream::Params);
        let r = &mut rng;
        let gamma = r
            .random_bool(c.gamma.p)
            .then(|| uniform(r, c.gamma.gamma.min, c.gamma.gamma.max) as f32);
        let n = &c.noise;
        let poisson_peak = r
            .random_bool(n.p_poisson)
            .then(|| uniform(r, n.poisson_peak.min, n.poisson_peak.max) as f32);
        let noise = r.random_bool(n.p).then(|| {
            let w = &n.kind_weights;
            let total = w.colour + w.grey + w.correlated;
            let u = uniform(r, 0.0, total);
            let sigma = uniform(r, n.sigma.min, n.sigma.max) as f32;
            let kind = if u < w.colour {
                NoiseKind::Colour
            } else if u < w.colour + w.grey {
                NoiseKind::Grey
            } else {
                NoiseKind::Correlated {
                    rho: uniform(r, n.correlation.min, n.correlation.max) as f32,
                }
            };
            (kind, sigma)
        });
        let b = &c.blur;
        let blur = if r.random_bool(b.p_defocus) {
            Some(Blur::Defocus {
                radius: uniform(r, b.defocus_radius.min, b.defocus_radius.max) as f32,
            })
        } else if r.random_bool(b.p_motion) {
            Some(Blur::Motion {
                length: uniform(r, b.motion_length.min, b.motion_length.max) as f32,
                angle: r.random_range(0.0..std::f32::consts::PI),
            })
        } else {
            None
        };
        let s = &c.scattering;
        let beta = uniform(r, s.beta.min, s.beta.max) as f32;
        let a = uniform(r, s.airlight.min, s.airlight.max);
        let airlight = std::array::from_fn(|_| {
            (a + uniform(r, s.airlight_shift.min, s.airlight_shift.max)).clamp(0.0, 1.0) as f32
        });
        let density_seed = r.random_bool(c.density.p).then(|| r.random::<u64>());
        let jpeg_quality = r.random_bool(c.jpeg.p).then(|| {
            let (lo, hi) = (c.jpeg.quality.min as u8, c.jpeg.quality.max as u8);
            r.random_range(lo..=hi)
        });
        SynthParams {
            image_index,
            copy_index,
            gamma,
            poisson_peak,
            noise,
            blur,
            beta,
            airlight,
            density_seed,
            jpeg_quality,
            depth_source: DepthSource::Map,
            t_mean: 1.0,
            t_min: 1.0,
        }
    }

    /// The (rescaled) Perlin field of a sample whose density seed is `seed`, over the window
    /// at `(x0, y0)` of size `w × h` of the full image.
    pub fn density_field(&self, seed: u64, x0: usize, y0: usize, w: usize, h: usize) -> Plane {
        let d = &self.config.density;
        let mut rng: SynthRng = derive_rng(seed, 0, 0, Stream::Params);
        let field = PerlinField::new(&mut rng, d.octaves, d.persistence, d.base_period);
        let mut f = field.render(x0, y0, w, h);
        rescale(&mut f, d.field.min as f32, d.field.max as f32);
        f
    }

    /// Synthesises sample `(image_index, copy_index)` from `clean` and a normalised depth
    /// (or density) map in `[0, 1]`; without one, the pseudo-depth of `clean` is used.
    pub fn synthesize(
        &self,
        clean: &RgbImage,
        depth: Option<&Plane>,
        image_index: u64,
        copy_index: u64,
    ) -> Result<Sample, SynthError> {
        self.synthesize_window(clean, depth, (0, 0), image_index, copy_index)
    }

    /// As [`Synthesizer::synthesize`] for a crop whose top-left pixel is `origin` in the full
    /// image: the Perlin field is evaluated at full-image coordinates.
    pub fn synthesize_window(
        &self,
        clean: &RgbImage,
        depth: Option<&Plane>,
        origin: (usize, usize),
        image_index: u64,
        copy_index: u64,
    ) -> Result<Sample, SynthError> {
        let (w, h) = (clean.width(), clean.height());
        if w == 0 || h == 0 {
            return Err(SynthError::Empty);
        }
        let mut params = self.draw_params(image_index, copy_index);
        let pseudo;
        let depth = match depth {
            Some(d) => {
                if (d.width(), d.height()) != (w, h) {
                    return Err(SynthError::SizeMismatch {
                        dw: d.width(),
                        dh: d.height(),
                        iw: w,
                        ih: h,
                    });
                }
                d
            }
            None => {
                params.depth_source = DepthSource::Pseudo;
                pseudo = pseudo_depth(clean);
                &pseudo
            }
        };
        let mut noise_rng = derive_rng(self.config.seed, image_index, copy_index, Stream::Noise);
        let mut j = clean.clone();
        if let Some(g) = params.gamma {
            apply_gamma(&mut j, g);
        }
        if let Some(peak) = params.poisson_peak {
            add_poisson_noise(&mut j, peak, &mut noise_rng);
        }
        if let Some((kind, sigma)) = params.noise {
            add_gaussian_noise(&mut j, kind, sigma / 255.0, &mut noise_rng);
        }
        if let Some(b) = params.blur {
            j = apply_blur(&j, b);
        }
        let mut t = transmission_from_depth(depth, params.beta);
        if let Some(seed) = params.density_seed {
            let f = self.density_field(seed, origin.0, origin.1, w, h);
            modulate_transmission(&mut t, &f);
        }
        let mut hazy = apply_scattering(&j, &t, params.airlight);
        if let Some(q) = params.jpeg_quality {
            hazy = jpeg_roundtrip(&hazy, q).map_err(|e| SynthError::Jpeg(e.to_string()))?;
        }
        let td = t.data();
        params.t_mean = td.iter().map(|&v| v as f64).sum::<f64>() as f32 / td.len() as f32;
        params.t_min = td.iter().copied().fold(f32::INFINITY, f32::min);
        Ok(Sample {
            hazy,
            clear: clean.clone(),
            transmission: t,
            params,
        })
    }
}
