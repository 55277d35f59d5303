//! The AHG training loop: alternating hinge-GAN updates of the critic `C` and the generator
//! (`E` + `D`) on random crops of real hazy/clear pairs.
//!
//! One step, on a batch of aligned crops `(I_c, I_h)`:
//!
//! ```text
//! M_c = E(I_c),  M_h = E(I_h),  M̃ = clamp((α·M_c + (1−α)·M_h) ⊙ F, 0, 1)
//! fake = D(I_c, M̃)
//! C ← Adam step on L_C = mean max(0, 1 − C(I_h)) + mean max(0, 1 + C(sg(fake)))
//! G ← Adam step on L_G = λ_clear·L1(D(I_c, M_c), I_c) + L1(D(I_c, M_h), I_h) − λ_adv·mean C(fake)
//! ```
//!
//! (`sg` = stop-gradient; the generator term uses the critic just updated). `α ~ U[0, 1]` per
//! sample and `F` is a fresh multi-octave Perlin field per sample, rescaled to `[0.5, 1.5]`:
//! exactly the maps generation will feed `D`. Everything random (initial weights, crops, flips,
//! α, F) follows from [`TrainAhgConfig::seed`]; Adam uses `β₁ = 0.5, β₂ = 0.999`, the usual
//! GAN setting.

use super::data::{list_pairs, load_pair, random_batch, DataError, Pair};
use super::discriminator::PatchDiscriminator;
use super::init::SeededInit;
use super::loss::{hinge_critic, hinge_generator, l1, GeneratorLoss, LAMBDA_ADV, LAMBDA_CLEAR};
use super::model::{AhgConfig, AhgGenerator};
use crate::weights::WeightsError;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use dehaze_core::synth::density::{rescale, PerlinField};
use dehaze_core::synth::rng::{derive_rng, Stream, SynthRng};
use rand::RngExt;
use std::path::PathBuf;
use std::time::Instant;

/// Everything a training run needs.
#[derive(Debug, Clone)]
pub struct TrainAhgConfig {
    /// Pair folders (each `hazy/` + `clear/`, or a folder of such folders).
    pub data: Vec<PathBuf>,
    /// Where the generator weights go (written at every checkpoint and at the end).
    pub out: PathBuf,
    pub model: AhgConfig,
    /// Base width of the PatchGAN critic.
    pub critic_width: usize,
    /// Crop side in pixels (rounded down to a multiple of the U-Nets' size multiple and to
    /// the smallest image).
    pub crop: usize,
    pub batch: usize,
    /// Maximum number of steps.
    pub steps: usize,
    /// Wall-clock bound: training stops after the step that passes it.
    pub max_seconds: Option<f64>,
    /// Adam learning rate of the generator and of the critic.
    pub lr: f64,
    pub lr_critic: f64,
    pub lambda_clear: f32,
    pub lambda_adv: f32,
    pub seed: u64,
    /// Save the weights every this many steps (0 = only at the end).
    pub checkpoint_every: usize,
    /// Report averaged losses every this many steps.
    pub log_every: usize,
    /// Perlin field: octaves, persistence, base period (px), rescaled range.
    pub perlin_octaves: u32,
    pub perlin_persistence: f64,
    pub perlin_base_period: f64,
    pub field_range: (f32, f32),
}

impl Default for TrainAhgConfig {
    fn default() -> Self {
        Self {
            data: Vec::new(),
            out: PathBuf::from("ahg.safetensors"),
            model: AhgConfig::default(),
            critic_width: 16,
            crop: 128,
            batch: 4,
            steps: 2000,
            max_seconds: None,
            lr: 2e-4,
            lr_critic: 2e-4,
            lambda_clear: LAMBDA_CLEAR,
            lambda_adv: LAMBDA_ADV,
            seed: 0,
            checkpoint_every: 100,
            log_every: 10,
            perlin_octaves: 5,
            perlin_persistence: 0.5,
            perlin_base_period: 128.0,
            field_range: (0.5, 1.5),
        }
    }
}

/// Why training failed.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Weights(#[from] WeightsError),
    #[error("invalid AHG training config: {0}")]
    Config(String),
}

/// Losses averaged over the steps since the previous report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepLosses {
    /// The last step included.
    pub step: usize,
    /// `L1(D(I_c, E(I_c)), I_c)`.
    pub clear_l1: f32,
    /// `L1(D(I_c, E(I_h)), I_h)`.
    pub hazy_l1: f32,
    /// `−mean C(fake)`.
    pub adv: f32,
    /// The critic's hinge loss.
    pub critic: f32,
    /// Seconds since the start of training.
    pub seconds: f64,
}

/// What a finished run did.
#[derive(Debug, Clone)]
pub struct TrainReport {
    pub steps: usize,
    pub seconds: f64,
    /// The crop side actually used.
    pub crop: usize,
    pub pairs: usize,
    /// One entry per report interval (the last one may cover fewer steps).
    pub history: Vec<StepLosses>,
}

/// Per-sample `α ~ U[0,1]` (`[n, 1, 1, 1]`) and Perlin fields rescaled to `field_range`
/// (`[n, 1, s, s]`), as flat buffers.
fn mix_inputs(
    cfg: &TrainAhgConfig,
    n: usize,
    s: usize,
    rng: &mut SynthRng,
) -> (Vec<f32>, Vec<f32>) {
    let mut alphas = Vec::with_capacity(n);
    let mut fields = Vec::with_capacity(n * s * s);
    for _ in 0..n {
        alphas.push(rng.random_range(0.0f32..=1.0));
        let f = PerlinField::new(
            rng,
            cfg.perlin_octaves,
            cfg.perlin_persistence,
            cfg.perlin_base_period,
        );
        let mut plane = f.render(0, 0, s, s);
        rescale(&mut plane, cfg.field_range.0, cfg.field_range.1);
        fields.extend_from_slice(plane.data());
    }
    (alphas, fields)
}

fn check(cfg: &TrainAhgConfig) -> Result<(), TrainError> {
    let bad = |m: &str| Err(TrainError::Config(m.to_string()));
    if cfg.batch == 0 {
        return bad("batch must be >= 1");
    }
    if cfg.model.encoder_width == 0 || cfg.model.decoder_width == 0 || cfg.critic_width == 0 {
        return bad("network widths must be >= 1");
    }
    if !(1..=6).contains(&cfg.model.levels) {
        return bad("levels must be in 1..=6");
    }
    if !(cfg.lr > 0.0 && cfg.lr_critic > 0.0) {
        return bad("learning rates must be > 0");
    }
    if !(cfg.lambda_clear >= 0.0 && cfg.lambda_adv >= 0.0) {
        return bad("loss weights must be >= 0");
    }
    if !(1..=12).contains(&cfg.perlin_octaves) || cfg.perlin_base_period < 2.0 {
        return bad("Perlin octaves must be in 1..=12 and the base period >= 2 px");
    }
    Ok(())
}

/// Trains on already-loaded pairs and returns the generator (on `device`, without autodiff)
/// with the report. Does not write anything; `log` is called at every report interval.
pub fn train_on_pairs(
    pairs: &[Pair],
    cfg: &TrainAhgConfig,
    device: &Device,
    mut log: impl FnMut(&StepLosses),
    mut checkpoint: impl FnMut(&AhgGenerator, usize) -> Result<(), TrainError>,
) -> Result<(AhgGenerator, TrainReport), TrainError> {
    check(cfg)?;
    if pairs.is_empty() {
        return Err(TrainError::Config("no training pairs".into()));
    }
    let start = Instant::now();
    let ad = device.clone().autodiff();
    let mut gen = AhgGenerator::new(&cfg.model, &ad).map(&mut SeededInit::new(cfg.seed, 1));
    let mut critic =
        PatchDiscriminator::new(cfg.critic_width, &ad).map(&mut SeededInit::new(cfg.seed, 2));
    let m = gen.size_multiple().max(4);
    let min_side = pairs
        .iter()
        .map(|p| p.clear.width().min(p.clear.height()))
        .min()
        .unwrap_or(0);
    let s = cfg.crop.min(min_side) / m * m;
    if s < 16 {
        return Err(TrainError::Config(format!(
            "crop {} (smallest image side {min_side}) leaves less than 16 px at a multiple of {m}",
            cfg.crop
        )));
    }
    let adam = AdamConfig::new()
        .with_beta_1(0.5)
        .with_beta_2(0.999)
        .with_epsilon(1e-8);
    let mut opt_g = adam.init();
    let mut opt_c = adam.init();
    let mut rng = derive_rng(cfg.seed, 0, 0, Stream::Dataset);
    let n = cfg.batch;

    let mut history = Vec::new();
    let mut acc = [0.0f64; 4];
    let mut acc_n = 0usize;
    let mut step = 0;
    while step < cfg.steps {
        step += 1;
        let (c, h) = random_batch(pairs, n, s, &mut rng);
        let (alphas, fields) = mix_inputs(cfg, n, s, &mut rng);
        let clear = Tensor::<4>::from_data(TensorData::new(c, [n, 3, s, s]), &ad);
        let hazy = Tensor::<4>::from_data(TensorData::new(h, [n, 3, s, s]), &ad);
        let alpha = Tensor::<4>::from_data(TensorData::new(alphas, [n, 1, 1, 1]), &ad);
        let field = Tensor::<4>::from_data(TensorData::new(fields, [n, 1, s, s]), &ad);

        let m_c = gen.encoder.forward(clear.clone());
        let m_h = gen.encoder.forward(hazy.clone());
        let rec_c = gen.decoder.forward(clear.clone(), m_c.clone());
        let rec_h = gen.decoder.forward(clear.clone(), m_h.clone());
        let one_minus = alpha.clone().neg().add_scalar(1.0);
        let mix = ((m_c * alpha + m_h * one_minus) * field).clamp(0.0, 1.0);
        let fake = gen.decoder.forward(clear.clone(), mix);

        // Critic step on real hazy crops vs. detached generated ones.
        let critic_loss = hinge_critic(
            critic.forward(hazy.clone()),
            critic.forward(fake.clone().detach()),
        );
        let critic_value: f32 = critic_loss.clone().into_scalar();
        let grads = GradientsParams::from_grads(critic_loss.backward(), &critic);
        critic = opt_c.step(cfg.lr_critic, critic, grads);

        // Generator step against the updated critic.
        let loss = GeneratorLoss {
            clear: l1(rec_c, clear),
            hazy: l1(rec_h, hazy),
            adv: hinge_generator(critic.forward(fake)),
        };
        let total = loss.total(cfg.lambda_clear, cfg.lambda_adv);
        let grads = GradientsParams::from_grads(total.backward(), &gen);
        gen = opt_g.step(cfg.lr, gen, grads);

        for (a, v) in acc.iter_mut().zip([
            loss.clear.into_scalar::<f32>(),
            loss.hazy.into_scalar::<f32>(),
            loss.adv.into_scalar::<f32>(),
            critic_value,
        ]) {
            *a += v as f64;
        }
        acc_n += 1;
        let seconds = start.elapsed().as_secs_f64();
        let out_of_time = cfg.max_seconds.is_some_and(|t| seconds >= t);
        let last = step == cfg.steps || out_of_time;
        if acc_n > 0 && (step % cfg.log_every.max(1) == 0 || last) {
            let k = acc_n as f64;
            let l = StepLosses {
                step,
                clear_l1: (acc[0] / k) as f32,
                hazy_l1: (acc[1] / k) as f32,
                adv: (acc[2] / k) as f32,
                critic: (acc[3] / k) as f32,
                seconds,
            };
            log(&l);
            history.push(l);
            acc = [0.0; 4];
            acc_n = 0;
        }
        if !last && cfg.checkpoint_every > 0 && step % cfg.checkpoint_every == 0 {
            checkpoint(&gen.valid(), step)?;
        }
        if out_of_time {
            break;
        }
    }
    let report = TrainReport {
        steps: step,
        seconds: start.elapsed().as_secs_f64(),
        crop: s,
        pairs: pairs.len(),
        history,
    };
    Ok((gen.valid(), report))
}

/// Metadata recorded with trained weights.
pub fn training_metadata(
    cfg: &TrainAhgConfig,
    step: usize,
    last: Option<&StepLosses>,
) -> Vec<(String, String)> {
    let mut v = vec![
        ("ahg.train.seed".to_string(), cfg.seed.to_string()),
        ("ahg.train.steps".to_string(), step.to_string()),
        ("ahg.train.batch".to_string(), cfg.batch.to_string()),
        ("ahg.train.crop".to_string(), cfg.crop.to_string()),
        ("ahg.train.lr".to_string(), cfg.lr.to_string()),
        (
            "ahg.train.lambda_clear".to_string(),
            cfg.lambda_clear.to_string(),
        ),
        (
            "ahg.train.lambda_adv".to_string(),
            cfg.lambda_adv.to_string(),
        ),
    ];
    if let Some(l) = last {
        v.push(("ahg.train.clear_l1".into(), l.clear_l1.to_string()));
        v.push(("ahg.train.hazy_l1".into(), l.hazy_l1.to_string()));
    }
    v
}

/// Loads every pair under `cfg.data`, trains, and writes the generator weights to `cfg.out`
/// (at every checkpoint and at the end, each time atomically). `log` gets the averaged losses.
pub fn train(
    cfg: &TrainAhgConfig,
    device: &Device,
    log: impl FnMut(&StepLosses),
) -> Result<TrainReport, TrainError> {
    check(cfg)?;
    if cfg.data.is_empty() {
        return Err(TrainError::Config("no data folder given".into()));
    }
    let mut pairs = Vec::new();
    for root in &cfg.data {
        for (h, c) in list_pairs(root)? {
            pairs.push(load_pair(&h, &c)?);
        }
    }
    if let Some(dir) = cfg.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| DataError {
            path: dir.to_path_buf(),
            reason: format!("cannot create folder: {e}"),
        })?;
    }
    let (gen, report) = train_on_pairs(&pairs, cfg, device, log, |g, step| {
        g.save(&cfg.out, &cfg.model, &training_metadata(cfg, step, None))?;
        Ok(())
    })?;
    gen.save(
        &cfg.out,
        &cfg.model,
        &training_metadata(cfg, report.steps, report.history.last()),
    )?;
    Ok(report)
}
