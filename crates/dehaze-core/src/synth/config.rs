//! The synthesis configuration: every factor's probability and parameter range, plus the
//! master seed, read from TOML (`configs/synth.toml` documents the defaults).
//!
//! Ranges are written as two-element arrays `[min, max]` and drawn uniformly. Every table uses
//! `deny_unknown_fields`, so a misspelt key is an error that names it instead of being
//! silently ignored; [`SynthConfig::validate`] then checks the values and names the offending
//! key (`noise.sigma`, `jpeg.p`, …) in its error.

use serde::{Deserialize, Serialize};
use std::path::Path;

/// A configuration error; the message names the key (or the file and line for TOML syntax
/// and unknown-key errors).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid synthesis config{}: {message}", .path.as_deref().map(|p| format!(" {p}")).unwrap_or_default())]
    Parse {
        path: Option<String>,
        message: String,
    },
    #[error("invalid synthesis config: `{key}`: {reason}")]
    Value { key: String, reason: String },
}

/// A closed interval `[min, max]` from which a parameter is drawn uniformly.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "[f64; 2]", into = "[f64; 2]")]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

impl Range {
    pub const fn new(min: f64, max: f64) -> Self {
        Self { min, max }
    }

    fn check(&self, key: &str, lo: f64, hi: f64) -> Result<(), ConfigError> {
        let bad = |reason: String| {
            Err(ConfigError::Value {
                key: key.to_string(),
                reason,
            })
        };
        if !self.min.is_finite() || !self.max.is_finite() {
            return bad(format!("[{}, {}] is not finite", self.min, self.max));
        }
        if self.min > self.max {
            return bad(format!("min {} > max {}", self.min, self.max));
        }
        if self.min < lo || self.max > hi {
            return bad(format!(
                "[{}, {}] is outside the allowed interval [{lo}, {hi}]",
                self.min, self.max
            ));
        }
        Ok(())
    }
}

impl From<[f64; 2]> for Range {
    fn from(v: [f64; 2]) -> Self {
        Self::new(v[0], v[1])
    }
}

impl From<Range> for [f64; 2] {
    fn from(r: Range) -> Self {
        [r.min, r.max]
    }
}

fn check_p(key: &str, p: f64) -> Result<(), ConfigError> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(ConfigError::Value {
            key: key.to_string(),
            reason: format!("probability {p} is outside [0, 1]"),
        })
    }
}

/// Luminance gamma `J ← J^γ` (γ > 1 darkens: simulates dim light).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GammaConfig {
    pub p: f64,
    pub gamma: Range,
}

impl Default for GammaConfig {
    fn default() -> Self {
        Self {
            p: 0.5,
            gamma: Range::new(1.5, 3.0),
        }
    }
}

/// Relative weights of the three Gaussian noise kinds (they need not sum to 1; they are
/// normalised when drawn).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NoiseKindWeights {
    /// Independent noise per channel.
    pub colour: f64,
    /// One noise plane added to all three channels.
    pub grey: f64,
    /// Per-channel noise with inter-channel correlation ρ drawn from `noise.correlation`.
    pub correlated: f64,
}

impl Default for NoiseKindWeights {
    fn default() -> Self {
        Self {
            colour: 0.4,
            grey: 0.4,
            correlated: 0.2,
        }
    }
}

/// Sensor noise: additive Gaussian of standard deviation σ (in 8-bit units, i.e. σ/255 on
/// the `[0,1]` scale), optionally preceded by Poisson shot noise.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NoiseConfig {
    /// Probability that Gaussian noise is added at all.
    pub p: f64,
    /// σ range in 8-bit grey levels.
    pub sigma: Range,
    pub kind_weights: NoiseKindWeights,
    /// Inter-channel correlation ρ for the correlated kind.
    pub correlation: Range,
    /// Probability of Poisson shot noise (Poisson–Gaussian model).
    pub p_poisson: f64,
    /// Photon count of a white pixel for the Poisson step: smaller = noisier.
    pub poisson_peak: Range,
}

impl Default for NoiseConfig {
    fn default() -> Self {
        Self {
            p: 1.0,
            sigma: Range::new(2.0, 25.0),
            kind_weights: NoiseKindWeights::default(),
            correlation: Range::new(0.3, 0.9),
            p_poisson: 0.0,
            poisson_peak: Range::new(100.0, 1000.0),
        }
    }
}

/// Optical blur: defocus (uniform disc) or linear motion; at most one is applied, defocus
/// tried first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BlurConfig {
    pub p_defocus: f64,
    /// Disc radius in pixels.
    pub defocus_radius: Range,
    pub p_motion: f64,
    /// Motion path length in pixels (the angle is uniform in [0, π)).
    pub motion_length: Range,
}

impl Default for BlurConfig {
    fn default() -> Self {
        Self {
            p_defocus: 0.0,
            defocus_radius: Range::new(1.0, 3.0),
            p_motion: 0.0,
            motion_length: Range::new(3.0, 9.0),
        }
    }
}

/// Atmospheric scattering `I = J·t + A·(1−t)`, `t = exp(−β·d)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScatteringConfig {
    /// Scattering coefficient β, applied to depth normalised to [0, 1].
    pub beta: Range,
    /// Grey airlight level A.
    pub airlight: Range,
    /// Per-channel shift added to A (colour cast).
    pub airlight_shift: Range,
}

impl Default for ScatteringConfig {
    fn default() -> Self {
        Self {
            beta: Range::new(0.3, 1.5),
            airlight: Range::new(0.25, 1.0),
            airlight_shift: Range::new(-0.025, 0.025),
        }
    }
}

/// Non-homogeneous haze: a multi-octave Perlin field `F ∈ [field.min, field.max]` turns the
/// transmission into `t^F`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DensityConfig {
    /// Probability that the field is applied.
    pub p: f64,
    /// Number of octaves (1–12).
    pub octaves: u32,
    /// Persistence p of the octave weights `w_i = p^i / Σ_j p^j`.
    pub persistence: f64,
    /// Period of the lowest octave in pixels (the base frequency is its inverse).
    pub base_period: f64,
    /// The interval the field is rescaled to.
    pub field: Range,
}

impl Default for DensityConfig {
    fn default() -> Self {
        Self {
            p: 0.5,
            octaves: 5,
            persistence: 0.5,
            base_period: 128.0,
            field: Range::new(0.5, 1.5),
        }
    }
}

/// JPEG re-compression.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JpegConfig {
    pub p: f64,
    /// Quality range, integers within 1..=100 (drawn uniformly among the integers).
    pub quality: Range,
}

impl Default for JpegConfig {
    fn default() -> Self {
        Self {
            p: 0.5,
            quality: Range::new(30.0, 95.0),
        }
    }
}

/// The whole synthesis configuration. The factors run in the order gamma → noise → blur →
/// scattering (with the optional density field) → JPEG.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SynthConfig {
    /// Master seed: the parameters and noise of sample (image i, copy k) depend only on
    /// (seed, i, k).
    pub seed: u64,
    pub gamma: GammaConfig,
    pub noise: NoiseConfig,
    pub blur: BlurConfig,
    pub scattering: ScatteringConfig,
    pub density: DensityConfig,
    pub jpeg: JpegConfig,
}

impl SynthConfig {
    /// Parses and validates a TOML document. Missing keys take their defaults.
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        Self::parse(text, None)
    }

    /// Reads, parses and validates a TOML file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, Some(path.display().to_string()))
    }

    fn parse(text: &str, path: Option<String>) -> Result<Self, ConfigError> {
        let cfg: Self = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path,
            message: e.to_string(),
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Serialises to TOML (e.g. to record the exact config next to a generated data set).
    pub fn to_toml_string(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    /// Checks every value; the error names the first offending key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let value = |key: &str, reason: String| {
            Err(ConfigError::Value {
                key: key.to_string(),
                reason,
            })
        };
        check_p("gamma.p", self.gamma.p)?;
        self.gamma.gamma.check("gamma.gamma", 0.05, 20.0)?;

        let n = &self.noise;
        check_p("noise.p", n.p)?;
        n.sigma.check("noise.sigma", 0.0, 255.0)?;
        let w = &n.kind_weights;
        for (key, v) in [
            ("noise.kind_weights.colour", w.colour),
            ("noise.kind_weights.grey", w.grey),
            ("noise.kind_weights.correlated", w.correlated),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return value(key, format!("weight {v} must be finite and >= 0"));
            }
        }
        if n.p > 0.0 && w.colour + w.grey + w.correlated <= 0.0 {
            return value(
                "noise.kind_weights",
                "all weights are 0 while noise.p > 0".into(),
            );
        }
        n.correlation.check("noise.correlation", 0.0, 1.0)?;
        check_p("noise.p_poisson", n.p_poisson)?;
        n.poisson_peak.check("noise.poisson_peak", 1.0, 1e7)?;

        let b = &self.blur;
        check_p("blur.p_defocus", b.p_defocus)?;
        b.defocus_radius.check("blur.defocus_radius", 0.0, 32.0)?;
        check_p("blur.p_motion", b.p_motion)?;
        b.motion_length.check("blur.motion_length", 0.0, 64.0)?;

        let s = &self.scattering;
        s.beta.check("scattering.beta", 0.0, 20.0)?;
        s.airlight.check("scattering.airlight", 0.0, 1.0)?;
        s.airlight_shift
            .check("scattering.airlight_shift", -0.5, 0.5)?;

        let d = &self.density;
        check_p("density.p", d.p)?;
        if !(1..=12).contains(&d.octaves) {
            return value(
                "density.octaves",
                format!("{} is outside 1..=12", d.octaves),
            );
        }
        if !(d.persistence.is_finite() && d.persistence > 0.0 && d.persistence <= 1.0) {
            return value(
                "density.persistence",
                format!("{} is outside (0, 1]", d.persistence),
            );
        }
        if !(d.base_period.is_finite() && d.base_period >= 2.0) {
            return value(
                "density.base_period",
                format!("{} must be >= 2 pixels", d.base_period),
            );
        }
        d.field.check("density.field", 0.0, 10.0)?;

        check_p("jpeg.p", self.jpeg.p)?;
        let q = self.jpeg.quality;
        q.check("jpeg.quality", 1.0, 100.0)?;
        if q.min.fract() != 0.0 || q.max.fract() != 0.0 {
            return value(
                "jpeg.quality",
                format!("[{}, {}] must be integers", q.min, q.max),
            );
        }
        Ok(())
    }
}
