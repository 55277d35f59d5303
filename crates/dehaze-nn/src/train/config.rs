//! The training configuration (TOML), parsed strictly and validated key by key.
//!
//! Every table uses `deny_unknown_fields`, so a misspelt key is an error naming it (with the
//! line) instead of being silently ignored; [`TrainConfig::validate`] then checks every value
//! and names the offending key (`optim.lr`, `data.crop`, …). Relative paths are resolved
//! against the folder of the config file, so a run does not depend on the working directory.
//! `configs/dhr-s.toml` documents every key; `configs/ka-net-s.toml` the KA-Net ones.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::dhr::DhrConfig;
use crate::ka_net::{self, KaNetConfig};
use crate::registry::NetworkKind;
use dehaze_core::synth::depth_maps::DepthEncoding;

/// A configuration error; the message names the file, or the key and why its value is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {reason}")]
    Read { path: String, reason: String },
    #[error("invalid training config {path}: {message}")]
    Parse { path: String, message: String },
    #[error("invalid training config: `{key}`: {reason}")]
    Value { key: String, reason: String },
}

fn bad<T>(key: &str, reason: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError::Value {
        key: key.to_string(),
        reason: reason.into(),
    })
}

/// `[model] name`: a network `dehaze train` trains.
///
/// The DHR sizes are the registry's ([`NetworkKind`]); the KA-Net configurations are those of
/// [`ka_net::CONFIG_NAMES`] (`ka-net` the official widths, `ka-net-s` the CPU-sized one), so
/// the names are written once, where the networks are defined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelName {
    /// `dhr-s` or `dhr-b`.
    Dhr(NetworkKind),
    /// `ka-net` or `ka-net-s` (a name of [`ka_net::CONFIG_NAMES`]).
    KaNet(&'static str),
}

impl ModelName {
    /// Every name, in the order error messages list them.
    pub fn all() -> Vec<ModelName> {
        NetworkKind::ALL
            .into_iter()
            .filter(|k| k.dhr_config().is_some())
            .map(ModelName::Dhr)
            .chain(ka_net::CONFIG_NAMES.into_iter().map(ModelName::KaNet))
            .collect()
    }

    /// The name as configs write it.
    pub fn name(self) -> &'static str {
        match self {
            ModelName::Dhr(k) => k.name(),
            ModelName::KaNet(n) => n,
        }
    }

    /// Parses a name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::all().into_iter().find(|m| m.name() == name)
    }

    /// Whether this is a DHR network.
    pub fn is_dhr(self) -> bool {
        matches!(self, ModelName::Dhr(_))
    }
}

impl std::fmt::Display for ModelName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for ModelName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for ModelName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        ModelName::from_name(&name).ok_or_else(|| {
            let names: Vec<&str> = ModelName::all().into_iter().map(ModelName::name).collect();
            serde::de::Error::custom(format!(
                "`{name}`: `dehaze train` trains {}",
                names.join(", ")
            ))
        })
    }
}

/// The network a `[model]` section describes, with its size.
#[derive(Clone, Debug, PartialEq)]
pub enum NetworkConfig {
    Dhr(DhrConfig),
    KaNet(KaNetConfig),
}

impl NetworkConfig {
    /// The smallest side an input may have (crops, validation images): DHR takes any positive
    /// multiple of its size multiple, KA-Net [`ka_net::MIN_SIDE`].
    pub fn min_side(&self) -> usize {
        match self {
            NetworkConfig::Dhr(c) => c.size_multiple(),
            NetworkConfig::KaNet(_) => ka_net::MIN_SIDE,
        }
    }
}

/// `[model]`: which network, with optional overrides of its size (for experiments and tests).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSection {
    /// `dhr-s` (≤ 1 M parameters, CPU), `dhr-b` (5–15 M, GPU), `ka-net` (the official
    /// 55.7 M-parameter network) or `ka-net-s` (its widths / 4, 3.5 M, CPU).
    pub name: ModelName,
    /// DHR only: overrides the base channel width of the named configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<usize>,
    /// DHR only: overrides the importance temperature τ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tau: Option<f32>,
    /// KA-Net only: overrides the four encoder widths (`KaNetConfig::dims`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dims: Option<[usize; 4]>,
}

impl ModelSection {
    /// The network configuration this section describes.
    pub fn network(&self) -> NetworkConfig {
        match self.name {
            ModelName::Dhr(kind) => {
                let mut c = kind
                    .dhr_config()
                    .expect("ModelName::Dhr holds a DHR size (ModelName::all)");
                if let Some(w) = self.width {
                    c.width = w;
                }
                if let Some(t) = self.tau {
                    c.tau = t;
                }
                NetworkConfig::Dhr(c)
            }
            ModelName::KaNet(name) => {
                let mut c = KaNetConfig::from_name(name)
                    .expect("ModelName::KaNet holds a name of CONFIG_NAMES");
                if let Some(d) = self.dims {
                    c.dims = d;
                }
                NetworkConfig::KaNet(c)
            }
        }
    }

    /// The DHR configuration this section describes.
    ///
    /// # Panics
    /// If the section names a KA-Net (use [`ModelSection::network`]).
    pub fn dhr_config(&self) -> DhrConfig {
        match self.network() {
            NetworkConfig::Dhr(c) => c,
            NetworkConfig::KaNet(_) => panic!("[model] name = {} is not DHR", self.name),
        }
    }
}

/// The largest KA-Net widths a config may ask for, per stage: 4× the official network's.
/// Every parameter tensor of KA-Net is at most bilinear in the widths, so this bounds the
/// network at 16× the official 55.7 M, about 0.89 G parameters, under [`MAX_PARAMS`]; checked
/// before anything is allocated.
pub const MAX_KA_NET_DIMS: [usize; 4] = [256, 512, 1280, 2048];

/// One folder of clean images for on-the-fly synthesis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyntheticSource {
    /// Clean images (not recursive).
    pub clean: PathBuf,
    /// Depth or disparity maps with the clean images' file stems; images without one (or all,
    /// without this folder) get the pseudo-depth heuristic.
    pub depth: Option<PathBuf>,
    #[serde(default)]
    pub depth_kind: DepthEncoding,
}

/// `[data]`: where the training crops come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSection {
    /// Folders of hazy/clear pairs: RESIDE layout (`hazy/` + `clear/`, same file stem, or
    /// hazy `<id>_<…>` → clear `<id>`) or O-HAZE layout (`*_hazy.*` / `*_GT.*`, in the folder
    /// or its sub-folders).
    #[serde(default)]
    pub pairs: Vec<PathBuf>,
    /// Clean images (with depth) hazed on the fly by `dehaze_core::synth`.
    #[serde(default)]
    pub synthetic: Vec<SyntheticSource>,
    /// Folders of unlabeled real hazy photos (read recursively), the data of the real-domain
    /// adaptation stage ([`AdaptSection`]); no ground truth, so no validation split.
    #[serde(default)]
    pub real_hazy: Vec<PathBuf>,
    /// Synthesis config (as `dehaze synth --config`); default: the built-in defaults. Its
    /// `seed` is replaced by `train.seed`.
    pub synth_config: Option<PathBuf>,
    /// Share of each batch's crops drawn from synthesis (the rest from the pairs).
    #[serde(default = "default_synthetic_fraction")]
    pub synthetic_fraction: f64,
    /// Square crop size (a multiple of 16).
    #[serde(default = "default_crop")]
    pub crop: usize,
    /// Random horizontal and vertical flips.
    #[serde(default = "yes")]
    pub flips: bool,
    /// Random rotations by multiples of 90°.
    #[serde(default = "yes")]
    pub rotations: bool,
}

fn default_synthetic_fraction() -> f64 {
    0.5
}
fn default_crop() -> usize {
    128
}
fn yes() -> bool {
    true
}

/// The reconstruction loss.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reconstruction {
    /// `|J − G|`.
    #[default]
    L1,
    /// `√((J − G)² + ε²)`, a smooth L1.
    Charbonnier,
}

/// `[loss]`: the terms and their weights.
///
/// Which terms apply depends on the network: `importance_weighted` and `density` are DHR's
/// (its patch importance and density head), `reweighting*` KA-Net's (its pooled bottleneck
/// feature `z`); setting one for the other network is a validation error naming the key. The
/// reconstruction and the contrastive terms apply to both.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LossSection {
    pub reconstruction: Reconstruction,
    /// ε of the Charbonnier loss.
    pub charbonnier_eps: f64,
    /// DHR only: weight the per-patch reconstruction error by DHR's patch importance
    /// (`Σ_p w_p·‖J_p − G_p‖₁ / N`, SYSTEMS.md §2.2). Unset means on
    /// ([`LossSection::dhr_importance_weighted`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub importance_weighted: Option<bool>,
    /// DHR only: weight of the density supervision `|sigmoid(ρ_p) − dark(I)_p|`. Unset means
    /// 0.1 ([`LossSection::dhr_density`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub density: Option<f64>,
    /// Weight of the multi-negative contrastive (MNCD) loss, SYSTEMS.md §2.3 (`crate::losses`).
    pub mncd: f64,
    /// Weight of the Gaussian perceptual contrastive loss, SYSTEMS.md §1.3 (`crate::losses`).
    pub contrastive: f64,
    /// The contrastive terms' features: VGG19 weights (torchvision's, as safetensors), or a
    /// DHR weights file, whose frozen encoder is then the extractor
    /// ([`crate::losses::FeatureExtractor::from_file`]); without it they use the seeded
    /// stand-in extractor (the log says which).
    pub features: Option<PathBuf>,
    /// KA-Net only: weight the per-sample reconstruction losses by the StableNet-style sample
    /// weights learned on the pooled bottleneck feature `z` (SYSTEMS.md §1.3 (b),
    /// `crate::losses::reweighting`; `z` detached, weights mean 1). Needs `train.batch ≥ 2`.
    pub reweighting: bool,
    /// Inner Adam steps of the sample weights per training step.
    pub reweighting_steps: usize,
    /// λ of the weights' spread penalty `λ·B·‖p‖²` (> 0: it rules out putting every weight on
    /// one sample).
    pub reweighting_lambda: f64,
}

/// DHR's density weight when `loss.density` is unset.
pub const DEFAULT_DENSITY: f64 = 0.1;

impl Default for LossSection {
    fn default() -> Self {
        let rw = crate::losses::SampleReweighting::default();
        Self {
            reconstruction: Reconstruction::L1,
            charbonnier_eps: 1e-3,
            importance_weighted: None,
            density: None,
            mncd: 0.0,
            contrastive: 0.0,
            features: None,
            reweighting: false,
            reweighting_steps: rw.steps,
            reweighting_lambda: rw.lambda,
        }
    }
}

impl LossSection {
    /// Whether DHR's reconstruction is importance-weighted (`importance_weighted`, default on).
    pub fn dhr_importance_weighted(&self) -> bool {
        self.importance_weighted.unwrap_or(true)
    }

    /// DHR's density weight (`density`, default [`DEFAULT_DENSITY`]).
    pub fn dhr_density(&self) -> f64 {
        self.density.unwrap_or(DEFAULT_DENSITY)
    }
}

/// The optimiser.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimName {
    /// Adam; `weight_decay` is L2 added to the gradient.
    #[default]
    Adam,
    /// AdamW; `weight_decay` is decoupled.
    Adamw,
}

/// `[optim]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OptimSection {
    pub name: OptimName,
    /// Peak learning rate (after warm-up).
    pub lr: f64,
    pub betas: [f64; 2],
    pub eps: f64,
    pub weight_decay: f64,
    /// Clip the global gradient norm to this (none if absent).
    pub grad_clip_norm: Option<f64>,
}

impl Default for OptimSection {
    fn default() -> Self {
        Self {
            name: OptimName::Adam,
            lr: 2e-4,
            betas: [0.9, 0.999],
            eps: 1e-8,
            weight_decay: 0.0,
            grad_clip_norm: None,
        }
    }
}

/// The learning-rate decay after warm-up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleKind {
    /// Half-cosine from `optim.lr` down to `min_lr` at the last iteration.
    #[default]
    Cosine,
    /// Multiply by `gamma` every `step_size` iterations.
    Step,
}

/// `[schedule]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleSection {
    pub kind: ScheduleKind,
    /// Linear warm-up iterations from `lr/warmup` to `lr`.
    pub warmup: u64,
    /// Final learning rate of the cosine schedule.
    pub min_lr: f64,
    /// Step schedule: iterations between decays.
    pub step_size: u64,
    /// Step schedule: decay factor.
    pub gamma: f64,
}

impl Default for ScheduleSection {
    fn default() -> Self {
        Self {
            kind: ScheduleKind::Cosine,
            warmup: 0,
            min_lr: 1e-6,
            step_size: 10_000,
            gamma: 0.5,
        }
    }
}

/// `[train]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSection {
    /// Optimiser steps in all.
    pub iterations: u64,
    /// Crops per step.
    #[serde(default = "default_batch")]
    pub batch: usize,
    /// Seeds the initial weights, the data order, crops, augmentation and synthesis.
    #[serde(default)]
    pub seed: u64,
    /// Worker threads (default: all cores). Results do not depend on it.
    pub threads: Option<usize>,
    /// Iterations between rows of the metrics log.
    #[serde(default = "default_log_interval")]
    pub log_interval: u64,
}

fn default_batch() -> usize {
    8
}
fn default_log_interval() -> u64 {
    10
}

/// `[validation]`: held-out pairs scored with PSNR/SSIM.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ValidationSection {
    /// Share of each pair folder's scenes (grouped by id, so the two densities of one RESIDE
    /// scene stay together) held out for validation.
    pub fraction: f64,
    /// Extra pair folders used only for validation.
    pub pairs: Vec<PathBuf>,
    /// Iterations between validations (0 = only at the end).
    pub interval: u64,
    /// Validation images are centre crops of at most this size (a multiple of 16).
    pub crop: usize,
}

impl Default for ValidationSection {
    fn default() -> Self {
        Self {
            fraction: 0.2,
            pairs: Vec::new(),
            interval: 500,
            crop: 256,
        }
    }
}

/// `[adapt]`: the real-domain adaptation stage (our design after PSD, `docs/training.md`).
///
/// The run starts from the pre-trained weights `init` and keeps a frozen copy of them (the
/// *reference*). Every step adds `real_batch` crops of the unlabeled `data.real_hazy` photos to
/// the `train.batch` supervised crops and minimises
///
/// ```text
/// L = L_sup + λ_cons·|J − J_ref|₁                         (supervised crops)
///   + λ_dc·L_dc + λ_bc·L_bc + λ_cl·L_cl                    (real crops, losses::priors)
///   + λ_rc·|J − J_ref|₁ + λ_m·MNCD(J; J_ref; I, I', DCP) + λ_g·Gauss(J; J_ref; I)
/// ```
///
/// with `J_ref` the reference's output on the same crop. A weight of 0 switches its term off
/// (and skips its cost), which is how the ablation runs are made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdaptSection {
    /// The pre-trained weights: a `.safetensors` of the `[model]` network and size, as
    /// `dehaze train` writes them (DHR or KA-Net).
    pub init: PathBuf,
    /// Real hazy crops per step.
    #[serde(default = "default_real_batch")]
    pub real_batch: usize,
    /// Window (px) of the dark- and bright-channel terms.
    #[serde(default = "default_prior_window")]
    pub window: usize,
    /// λ_dc, the dark-channel term.
    #[serde(default)]
    pub dark_channel: f64,
    /// λ_bc, the bright-channel term.
    #[serde(default)]
    pub bright_channel: f64,
    /// λ_cl, the CLAHE-reconstruction term.
    #[serde(default)]
    pub clahe: f64,
    /// λ_sm, the scattering-model residual: the restoration must differ from the input only
    /// by haze of the airlight's colour (no hue shift).
    #[serde(default)]
    pub scattering: f64,
    /// λ_cons, consistency with the reference on the supervised crops (learning without
    /// forgetting: the synthetic skill is kept).
    #[serde(default)]
    pub consistency: f64,
    /// λ_rc, consistency with the reference on the real crops.
    #[serde(default)]
    pub real_consistency: f64,
    /// λ_m, MNCD on the real crops: positive the reference's output, negatives the hazy crop,
    /// its denser re-hazed copy and DCP's output.
    #[serde(default)]
    pub mncd: f64,
    /// λ_g, KA-Net's Gaussian perceptual contrastive term on the real crops: positive the
    /// reference's output, negative the hazy crop.
    #[serde(default)]
    pub contrastive: f64,
}

fn default_real_batch() -> usize {
    4
}
fn default_prior_window() -> usize {
    15
}

impl AdaptSection {
    /// Whether a term on the real crops is on (they are only drawn then).
    pub fn uses_real(&self) -> bool {
        [
            self.dark_channel,
            self.bright_channel,
            self.clahe,
            self.scattering,
            self.real_consistency,
            self.mncd,
            self.contrastive,
        ]
        .iter()
        .any(|w| *w > 0.0)
    }
}

/// `[checkpoint]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CheckpointSection {
    /// Iterations between checkpoints (one is also written at the end).
    pub interval: u64,
    /// Checkpoints kept (older ones are deleted).
    pub keep: usize,
}

impl Default for CheckpointSection {
    fn default() -> Self {
        Self {
            interval: 1000,
            keep: 3,
        }
    }
}

/// `[output]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSection {
    /// Run folder: checkpoints/, metrics.csv, curves.png, the final weights (dhr.safetensors
    /// or ka-net.safetensors), best.safetensors, latest.safetensors.
    pub dir: PathBuf,
}

/// A whole training configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    pub model: ModelSection,
    pub data: DataSection,
    #[serde(default)]
    pub loss: LossSection,
    #[serde(default)]
    pub optim: OptimSection,
    #[serde(default)]
    pub schedule: ScheduleSection,
    pub train: TrainSection,
    #[serde(default)]
    pub validation: ValidationSection,
    #[serde(default)]
    pub checkpoint: CheckpointSection,
    /// The real-domain adaptation stage; absent for (pre-)training.
    pub adapt: Option<AdaptSection>,
    pub output: OutputSection,
}

/// The largest network a config may ask for (about 4 GB of `f32` weights, before gradients
/// and optimiser state): far above dhr-b's 8 M, far below what exhausts memory unannounced.
pub const MAX_PARAMS: u128 = 1_000_000_000;
/// The most pixels one training batch may hold (`train.batch × data.crop²`); dhr-b's recipe
/// uses 1 M.
pub const MAX_BATCH_PIXELS: u64 = 64 << 20;

impl TrainConfig {
    /// Parses and validates a TOML document; relative paths are resolved against `base`.
    pub fn from_toml_str(text: &str, base: &Path, name: &str) -> Result<Self, ConfigError> {
        let mut cfg: Self = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: name.to_string(),
            message: e.to_string(),
        })?;
        cfg.resolve_paths(base);
        cfg.validate()?;
        Ok(cfg)
    }

    /// Reads, parses and validates a TOML file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::from_toml_str(&text, base, &path.display().to_string())
    }

    /// The configuration as TOML (paths joined to the config file's folder as it was given),
    /// recorded in the run folder and checkpoints.
    pub fn to_toml_string(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    fn resolve_paths(&mut self, base: &Path) {
        self.for_each_path(|p| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        });
    }

    /// The same configuration with every path that exists replaced by its canonical form, so
    /// two spellings of the same files compare equal (`configs/../data` from the repository
    /// root, `../data` from `configs/`): what `--resume` compares.
    pub fn with_canonical_paths(&self) -> Self {
        let mut c = self.clone();
        c.for_each_path(|p| {
            if let Ok(canonical) = std::fs::canonicalize(&*p) {
                *p = canonical;
            }
        });
        c
    }

    /// Applies `f` to every path of the configuration.
    fn for_each_path(&mut self, mut f: impl FnMut(&mut PathBuf)) {
        self.data.pairs.iter_mut().for_each(&mut f);
        self.data.real_hazy.iter_mut().for_each(&mut f);
        if let Some(a) = &mut self.adapt {
            f(&mut a.init);
        }
        for s in &mut self.data.synthetic {
            f(&mut s.clean);
            if let Some(d) = &mut s.depth {
                f(d);
            }
        }
        if let Some(p) = &mut self.data.synth_config {
            f(p);
        }
        self.validation.pairs.iter_mut().for_each(&mut f);
        if let Some(p) = &mut self.loss.features {
            f(p);
        }
        f(&mut self.output.dir);
    }

    /// Checks `[model]` and returns the size multiple of the network's inputs (for the
    /// crops).
    fn validate_model(&self) -> Result<usize, ConfigError> {
        let m = &self.model;
        let dhr = m.name.is_dhr();
        for (key, set, dhr_key) in [
            ("model.width", m.width.is_some(), true),
            ("model.tau", m.tau.is_some(), true),
            ("model.dims", m.dims.is_some(), false),
        ] {
            if set && dhr_key != dhr {
                return bad(
                    key,
                    if dhr_key {
                        format!(
                            "applies to DHR, not {}; KA-Net's widths are `model.dims`",
                            m.name
                        )
                    } else {
                        format!(
                            "applies to KA-Net, not {}; DHR's width is `model.width`",
                            m.name
                        )
                    },
                );
            }
        }
        match m.network() {
            NetworkConfig::Dhr(dhr) => {
                if let Err(e) = dhr.validate() {
                    let key = format!("model.{}", e.split(':').next().unwrap_or("width"));
                    return bad(&key, e);
                }
                // Resource bound: the network is allocated from this before any data is read.
                if dhr.min_params() > MAX_PARAMS {
                    return bad(
                        "model.width",
                        format!(
                            "{} needs at least {} parameters, above the limit of {MAX_PARAMS}",
                            dhr.width,
                            dhr.min_params()
                        ),
                    );
                }
                Ok(dhr.size_multiple())
            }
            NetworkConfig::KaNet(k) => {
                for (i, (&w, &max)) in k.dims.iter().zip(&MAX_KA_NET_DIMS).enumerate() {
                    if w > max {
                        return bad(
                            "model.dims",
                            format!(
                                "dims[{i}] = {w} is above the limit of {max} (4× the official \
                                 widths, which keeps the network under {MAX_PARAMS} parameters)"
                            ),
                        );
                    }
                }
                k.validate().map_err(|e| ConfigError::Value {
                    key: "model.dims".into(),
                    reason: e,
                })?;
                Ok(ka_net::SIZE_MULTIPLE)
            }
        }
    }

    /// Checks the `[loss]` keys that belong to one network (see [`LossSection`]).
    fn validate_network_terms(&self) -> Result<(), ConfigError> {
        let l = &self.loss;
        let name = self.model.name;
        if name.is_dhr() {
            if l.reweighting {
                return bad(
                    "loss.reweighting",
                    format!(
                        "KA-Net's sample reweighting acts on its pooled bottleneck feature z, which {name} does not have; use it with ka-net or ka-net-s"
                    ),
                );
            }
        } else {
            for (key, set) in [
                ("loss.importance_weighted", l.importance_weighted.is_some()),
                ("loss.density", l.density.is_some()),
            ] {
                if set {
                    return bad(
                        key,
                        format!(
                            "applies to DHR's patch importance and density head, which {name} does not have; remove the key (KA-Net's per-sample weighting is `loss.reweighting`)"
                        ),
                    );
                }
            }
        }
        if l.reweighting_steps == 0 || l.reweighting_steps > 1000 {
            return bad(
                "loss.reweighting_steps",
                format!("{} is outside 1..=1000", l.reweighting_steps),
            );
        }
        if !(l.reweighting_lambda.is_finite() && l.reweighting_lambda > 0.0) {
            return bad(
                "loss.reweighting_lambda",
                format!(
                    "{} must be finite and > 0 (it keeps the weights from collapsing onto one sample)",
                    l.reweighting_lambda
                ),
            );
        }
        if l.reweighting && self.train.batch < 2 {
            return bad(
                "loss.reweighting",
                format!(
                    "needs train.batch >= 2 (it is {}): one sample has nothing to be weighted against",
                    self.train.batch
                ),
            );
        }
        Ok(())
    }

    /// Checks every value; the error names the first offending key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mult = self.validate_model()?;

        let d = &self.data;
        if d.pairs.is_empty() && d.synthetic.is_empty() {
            return bad("data", "give `pairs` folders, `synthetic` sources, or both");
        }
        if !(0.0..=1.0).contains(&d.synthetic_fraction) {
            return bad(
                "data.synthetic_fraction",
                format!("{} is outside [0, 1]", d.synthetic_fraction),
            );
        }
        if d.synthetic.is_empty() && d.synthetic_fraction > 0.0 && !d.pairs.is_empty() {
            return bad(
                "data.synthetic_fraction",
                format!(
                    "{} but there are no `data.synthetic` sources; set it to 0",
                    d.synthetic_fraction
                ),
            );
        }
        if d.pairs.is_empty() && d.synthetic_fraction < 1.0 && !d.synthetic.is_empty() {
            return bad(
                "data.synthetic_fraction",
                format!(
                    "{} but there are no `data.pairs` folders; set it to 1",
                    d.synthetic_fraction
                ),
            );
        }
        let min = self.model.network().min_side();
        if d.crop < min || !d.crop.is_multiple_of(mult) || d.crop > 4096 {
            return bad(
                "data.crop",
                format!("{} is not a multiple of {mult} in [{min}, 4096]", d.crop),
            );
        }

        let l = &self.loss;
        for (key, v) in [
            ("loss.density", l.dhr_density()),
            ("loss.mncd", l.mncd),
            ("loss.contrastive", l.contrastive),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return bad(key, format!("weight {v} must be finite and >= 0"));
            }
        }
        self.validate_network_terms()?;
        if !(l.charbonnier_eps.is_finite() && l.charbonnier_eps > 0.0) {
            return bad(
                "loss.charbonnier_eps",
                format!("{} must be > 0", l.charbonnier_eps),
            );
        }
        if let Some(p) = &l.features {
            if !p.is_file() {
                return bad(
                    "loss.features",
                    format!(
                        "{}: no such file (VGG19 weights as safetensors)",
                        p.display()
                    ),
                );
            }
        }

        let o = &self.optim;
        if !(o.lr.is_finite() && o.lr > 0.0 && o.lr <= 1.0) {
            return bad("optim.lr", format!("{} is outside (0, 1]", o.lr));
        }
        for (i, b) in o.betas.iter().enumerate() {
            if !(0.0..1.0).contains(b) {
                return bad(
                    "optim.betas",
                    format!("beta{} = {b} is outside [0, 1)", i + 1),
                );
            }
        }
        if !(o.eps.is_finite() && o.eps > 0.0) {
            return bad("optim.eps", format!("{} must be > 0", o.eps));
        }
        if !(o.weight_decay.is_finite() && o.weight_decay >= 0.0) {
            return bad(
                "optim.weight_decay",
                format!("{} must be >= 0", o.weight_decay),
            );
        }
        if let Some(c) = o.grad_clip_norm {
            if !(c.is_finite() && c > 0.0) {
                return bad("optim.grad_clip_norm", format!("{c} must be > 0"));
            }
        }

        let t = &self.train;
        if t.iterations == 0 {
            return bad("train.iterations", "must be at least 1");
        }
        if t.batch == 0 || t.batch > 4096 {
            return bad("train.batch", format!("{} is outside 1..=4096", t.batch));
        }
        // Resource bound: one batch of crops, before the activations multiply it.
        let pixels = (t.batch as u64) * (self.data.crop as u64).pow(2);
        if pixels > MAX_BATCH_PIXELS {
            return bad(
                "train.batch",
                format!(
                    "{} crops of {}² = {pixels} pixels per step, above the limit of {MAX_BATCH_PIXELS}",
                    t.batch, self.data.crop
                ),
            );
        }
        if t.threads == Some(0) {
            return bad(
                "train.threads",
                "must be at least 1 (omit it to use every core)",
            );
        }
        if t.log_interval == 0 {
            return bad("train.log_interval", "must be at least 1");
        }

        let s = &self.schedule;
        if s.warmup >= t.iterations {
            return bad(
                "schedule.warmup",
                format!(
                    "{} is not below train.iterations = {}",
                    s.warmup, t.iterations
                ),
            );
        }
        if !(s.min_lr.is_finite() && s.min_lr >= 0.0 && s.min_lr <= o.lr) {
            return bad(
                "schedule.min_lr",
                format!("{} is outside [0, optim.lr]", s.min_lr),
            );
        }
        if s.kind == ScheduleKind::Step {
            if s.step_size == 0 {
                return bad("schedule.step_size", "must be at least 1");
            }
            if !(s.gamma.is_finite() && s.gamma > 0.0 && s.gamma <= 1.0) {
                return bad("schedule.gamma", format!("{} is outside (0, 1]", s.gamma));
            }
        }

        let v = &self.validation;
        if !(0.0..1.0).contains(&v.fraction) {
            return bad(
                "validation.fraction",
                format!("{} is outside [0, 1)", v.fraction),
            );
        }
        if v.crop < min || !v.crop.is_multiple_of(mult) || v.crop > 4096 {
            return bad(
                "validation.crop",
                format!("{} is not a multiple of {mult} in [{min}, 4096]", v.crop),
            );
        }

        if let Some(a) = &self.adapt {
            for (key, w) in [
                ("adapt.dark_channel", a.dark_channel),
                ("adapt.bright_channel", a.bright_channel),
                ("adapt.clahe", a.clahe),
                ("adapt.scattering", a.scattering),
                ("adapt.consistency", a.consistency),
                ("adapt.real_consistency", a.real_consistency),
                ("adapt.mncd", a.mncd),
                ("adapt.contrastive", a.contrastive),
            ] {
                if !(w.is_finite() && w >= 0.0) {
                    return bad(key, format!("weight {w} must be finite and >= 0"));
                }
            }
            if a.uses_real() && (a.real_batch == 0 || a.real_batch > 4096) {
                return bad(
                    "adapt.real_batch",
                    format!("{} is outside 1..=4096", a.real_batch),
                );
            }
            if a.uses_real() && d.real_hazy.is_empty() {
                return bad(
                    "data.real_hazy",
                    "the [adapt] terms on real crops need at least one folder of real hazy photos",
                );
            }
            if a.window == 0 || a.window > d.crop {
                return bad(
                    "adapt.window",
                    format!("{} is outside 1..=data.crop ({})", a.window, d.crop),
                );
            }
            if !a.init.is_file() {
                return bad(
                    "adapt.init",
                    format!(
                        "{}: no such file (pre-trained weights of the [model] network)",
                        a.init.display()
                    ),
                );
            }
        }

        if self.checkpoint.interval == 0 {
            return bad("checkpoint.interval", "must be at least 1");
        }
        if self.checkpoint.keep == 0 {
            return bad("checkpoint.keep", "must be at least 1");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
        [model]
        name = "dhr-s"
        [data]
        pairs = ["pairs"]
        synthetic_fraction = 0.0
        [train]
        iterations = 100
        [output]
        dir = "run"
    "#;

    fn parse(text: &str) -> Result<TrainConfig, ConfigError> {
        TrainConfig::from_toml_str(text, Path::new("/base"), "test.toml")
    }

    #[test]
    fn resource_bounds_are_checked_with_the_limit_named() {
        let e = parse(&MINIMAL.replace("name = \"dhr-s\"", "name = \"dhr-s\"\nwidth = 100000"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`model.width`") && e.contains(&MAX_PARAMS.to_string()),
            "{e}"
        );
        let e = parse(
            &MINIMAL
                .replace("iterations = 100", "iterations = 100\nbatch = 4096")
                .replace(
                    "synthetic_fraction = 0.0",
                    "synthetic_fraction = 0.0\ncrop = 256",
                ),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("`train.batch`") && e.contains(&MAX_BATCH_PIXELS.to_string()),
            "{e}"
        );
    }

    #[test]
    fn minimal_config_gets_defaults_and_absolute_paths() {
        let c = parse(MINIMAL).unwrap();
        assert_eq!(c.data.crop, 128);
        assert_eq!(c.train.batch, 8);
        assert_eq!(c.optim.name, OptimName::Adam);
        assert_eq!(c.data.pairs, vec![PathBuf::from("/base/pairs")]);
        assert_eq!(c.output.dir, PathBuf::from("/base/run"));
        assert_eq!(c.model.dhr_config(), DhrConfig::small());
        // Round trip through the recorded TOML.
        let back = parse(&c.to_toml_string()).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_key() {
        let e = parse(&MINIMAL.replace("iterations = 100", "iterations = 100\nbatchsize = 4"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("batchsize"), "{e}");
        let e = parse(&MINIMAL.replace("dhr-s", "dhr-xl"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("dhr-xl"), "{e}");
        let cases = [
            ("[optim]\nlr = -1.0", "optim.lr"),
            ("[optim]\nbetas = [0.9, 1.0]", "optim.betas"),
            ("[loss]\ndensity = -0.5", "loss.density"),
            ("[schedule]\nwarmup = 100", "schedule.warmup"),
            (
                "[schedule]\nkind = \"step\"\nstep_size = 0",
                "schedule.step_size",
            ),
            ("[validation]\nfraction = 1.0", "validation.fraction"),
            ("[validation]\ncrop = 100", "validation.crop"),
            ("[validation]\ncrop = 8192", "validation.crop"),
            ("[checkpoint]\ninterval = 0", "checkpoint.interval"),
        ];
        for (extra, key) in cases {
            let e = parse(&format!("{MINIMAL}\n{extra}"))
                .unwrap_err()
                .to_string();
            assert!(e.contains(&format!("`{key}`")), "{extra}: {e}");
        }
        let e = parse(&MINIMAL.replace("pairs = [\"pairs\"]", "pairs = [\"p\"]\ncrop = 120"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("`data.crop`"), "{e}");
        let e = parse(&MINIMAL.replace("synthetic_fraction = 0.0", "synthetic_fraction = 0.5"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("`data.synthetic_fraction`"), "{e}");
        let e = parse(&MINIMAL.replace("name = \"dhr-s\"", "name = \"dhr-s\"\nwidth = 0"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("`model.width`"), "{e}");
    }

    #[test]
    fn contrastive_weights_parse_and_a_missing_vgg_file_is_named() {
        for key in ["mncd", "contrastive"] {
            let c = parse(&format!("{MINIMAL}\n[loss]\n{key} = 0.1")).unwrap();
            assert_eq!(
                if key == "mncd" {
                    c.loss.mncd
                } else {
                    c.loss.contrastive
                },
                0.1
            );
            let e = parse(&format!("{MINIMAL}\n[loss]\n{key} = -1"))
                .unwrap_err()
                .to_string();
            assert!(e.contains(&format!("`loss.{key}`")), "{e}");
        }
        let e = parse(&format!(
            "{MINIMAL}\n[loss]\nmncd = 0.1\nfeatures = \"no-such-vgg19.safetensors\""
        ))
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("`loss.features`") && e.contains("no-such-vgg19"),
            "{e}"
        );
    }

    #[test]
    fn the_shipped_recipes_are_valid() {
        for (name, size) in [("dhr-s", DhrConfig::small()), ("dhr-b", DhrConfig::base())] {
            let p =
                Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../configs/{name}.toml"));
            let c = TrainConfig::from_file(&p).unwrap();
            assert_eq!(c.model.dhr_config(), size);
            assert_eq!(c.data.pairs.len(), 5);
            assert_eq!(c.data.synthetic.len(), 4);
            assert!(c
                .data
                .synth_config
                .as_ref()
                .unwrap()
                .ends_with("configs/synth.toml"));
            assert!(c.output.dir.ends_with(format!("configs/../runs/{name}")));
        }
    }

    #[test]
    fn ka_net_names_and_keys_parse() {
        let ka = |extra: &str| {
            MINIMAL.replace("name = \"dhr-s\"", &format!("name = \"ka-net-s\"\n{extra}"))
        };
        let c = parse(&ka("")).unwrap();
        assert_eq!(c.model.name, ModelName::KaNet("ka-net-s"));
        assert_eq!(
            c.model.network(),
            NetworkConfig::KaNet(KaNetConfig::small())
        );
        assert!(!c.loss.reweighting);
        let c = parse(&MINIMAL.replace("dhr-s", "ka-net")).unwrap();
        assert_eq!(
            c.model.network(),
            NetworkConfig::KaNet(KaNetConfig::official())
        );
        // Width overrides, and the reweighting keys.
        let text = format!(
            "{}\n[loss]\nreweighting = true\nreweighting_steps = 7\nreweighting_lambda = 0.5\ncontrastive = 0.1",
            ka("dims = [4, 8, 16, 16]")
        );
        let c = parse(&text).unwrap();
        assert_eq!(
            c.model.network(),
            NetworkConfig::KaNet(KaNetConfig {
                dims: [4, 8, 16, 16]
            })
        );
        assert!(c.loss.reweighting);
        assert_eq!(
            (c.loss.reweighting_steps, c.loss.reweighting_lambda),
            (7, 0.5)
        );
        // The DHR-only keys stay unset (and out of the recorded TOML).
        assert_eq!((c.loss.importance_weighted, c.loss.density), (None, None));
        let recorded = c.to_toml_string();
        assert!(
            !recorded.contains("density") && !recorded.contains("importance"),
            "{recorded}"
        );
        assert_eq!(parse(&recorded).unwrap(), c);
        // DHR: unset means the defaults, as before.
        let d = parse(MINIMAL).unwrap();
        assert!(d.loss.dhr_importance_weighted());
        assert_eq!(d.loss.dhr_density(), DEFAULT_DENSITY);
        let e = parse(&MINIMAL.replace("dhr-s", "ka-net-xl"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("ka-net-xl") && e.contains("dhr-s, dhr-b, ka-net, ka-net-s"),
            "{e}"
        );
    }

    #[test]
    fn keys_of_the_other_network_and_bad_ka_net_values_name_the_key() {
        let ka = MINIMAL.replace("dhr-s", "ka-net-s");
        let cases = [
            (
                ka.replace("ka-net-s\"", "ka-net-s\"\nwidth = 8"),
                "model.width",
            ),
            (
                ka.replace("ka-net-s\"", "ka-net-s\"\ntau = 0.5"),
                "model.tau",
            ),
            (
                MINIMAL.replace("dhr-s\"", "dhr-s\"\ndims = [4, 8, 16, 16]"),
                "model.dims",
            ),
            (
                ka.replace("ka-net-s\"", "ka-net-s\"\ndims = [4, 8, 16, 20]"),
                "model.dims",
            ),
            (
                ka.replace("ka-net-s\"", "ka-net-s\"\ndims = [4, 8, 16, 4096]"),
                "model.dims",
            ),
            (
                ka.replace("ka-net-s\"", "ka-net-s\"\ndims = [2048, 2048, 2048, 2048]"),
                "model.dims",
            ),
            (
                format!("{ka}\n[loss]\nimportance_weighted = false"),
                "loss.importance_weighted",
            ),
            (format!("{ka}\n[loss]\ndensity = 0.1"), "loss.density"),
            (
                format!("{MINIMAL}\n[loss]\nreweighting = true"),
                "loss.reweighting",
            ),
            (
                format!(
                    "{}\n[loss]\nreweighting = true",
                    ka.replace("iterations = 100", "iterations = 100\nbatch = 1")
                ),
                "loss.reweighting",
            ),
            (
                format!("{ka}\n[loss]\nreweighting_steps = 0"),
                "loss.reweighting_steps",
            ),
            (
                format!("{ka}\n[loss]\nreweighting_lambda = 0.0"),
                "loss.reweighting_lambda",
            ),
            (format!("{ka}\n[validation]\ncrop = 40"), "validation.crop"),
            (format!("{ka}\n[validation]\ncrop = 32"), "validation.crop"),
            (
                ka.replace(
                    "synthetic_fraction = 0.0",
                    "synthetic_fraction = 0.0\ncrop = 32",
                ),
                "data.crop",
            ),
        ];
        for (text, key) in cases {
            let e = parse(&text).unwrap_err().to_string();
            assert!(e.contains(&format!("`{key}`")), "{key}: {e}");
        }
        // The message says which network the key belongs to.
        let e = parse(&format!("{ka}\n[loss]\ndensity = 0.1"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("DHR") && e.contains("loss.reweighting"), "{e}");
        let e = parse(&format!("{MINIMAL}\n[loss]\nreweighting = true"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("z") && e.contains("dhr-s"), "{e}");
    }

    #[test]
    fn the_shipped_ka_net_recipe_is_valid_and_trains_on_the_training_collection_only() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/ka-net-s.toml");
        let c = TrainConfig::from_file(&p).unwrap();
        assert_eq!(
            c.model.network(),
            NetworkConfig::KaNet(KaNetConfig::small())
        );
        // Reweighting on; the contrastive term off: on the seeded stand-in it pays for a
        // lattice (docs/ka-net-training.md, "The lattice").
        assert!(c.loss.reweighting && c.loss.contrastive == 0.0);
        assert!(c.output.dir.ends_with("configs/../runs/ka-net-s"));
        let mut paths: Vec<&PathBuf> = c.data.pairs.iter().chain(&c.validation.pairs).collect();
        for s in &c.data.synthetic {
            paths.push(&s.clean);
            paths.extend(&s.depth);
        }
        paths.extend(&c.data.real_hazy);
        assert!(paths.len() > 10);
        for p in paths {
            let p = p.to_string_lossy();
            assert!(
                !p.contains("data/real_hazy") && !p.contains("data/paired"),
                "an evaluation set in the training data: {p}"
            );
            assert!(
                ["data/more/", "data/depth/", "data/clean_outdoor/"]
                    .iter()
                    .any(|d| p.contains(d)),
                "{p}"
            );
        }
    }
}
