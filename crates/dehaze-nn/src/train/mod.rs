//! Training DHR and KA-Net: `dehaze train --config FILE [--resume]`.
//!
//! * [`config`]: the TOML configuration, validated key by key;
//! * [`network`]: the networks behind one trait, [`Trainable`] (DHR and KA-Net: seeded
//!   construction, the training forward pass and what the loss reads from it, weights files);
//!   the loop below is written once, generic over it;
//! * [`data`]: pair folders (RESIDE / O-HAZE layouts), on-the-fly synthesis, the validation
//!   split, crops and flips/rotations, all reproducible per seed;
//! * [`loss`]: the reconstruction (DHR: importance-weighted per patch, with the density term;
//!   KA-Net: per sample, with the sample reweighting on `z`), and the contrastive terms (MNCD,
//!   Gaussian perceptual) of [`crate::losses`] when weighted;
//! * [`adapt`]: the real-domain adaptation stage (`[adapt]`): a frozen reference, PSD's
//!   physical priors on unlabeled real crops, consistency and contrastive terms;
//! * [`schedule`]: warm-up + cosine/step learning rate, a pure function of the iteration;
//! * [`checkpoint`]: atomic checkpoints with weights, optimiser state and data-stream state;
//! * [`log`] / [`plot`]: `metrics.csv` and `curves.png`.
//!
//! A run folder ends up with `config.toml` (the effective config), `metrics.csv`,
//! `curves.png`, `checkpoints/`, `latest.safetensors` (the weights of the newest checkpoint, so
//! a run can be evaluated with `--weights` while it goes on), the final weights
//! (`dhr.safetensors` or `ka-net.safetensors`, [`Trainable::WEIGHTS_FILE`]) and, with
//! validation, `best.safetensors` (the weights of the best validation PSNR). Weights files
//! load with [`Dhr::load`] or [`KaNet::load_saved`] (which reads the widths from the file).
//!
//! **Exact resumption.** Everything random is seeded by `train.seed` and drawn from streams
//! whose state is in the checkpoint (initial weights: [`Trainable::new_seeded`]; data: the
//! [`data::Sampler`]; KA-Net's sample weights: the seed and the iteration); the schedule
//! depends only on the iteration; the optimiser state is restored tensor for tensor, and the
//! weights with KA-Net's BatchNorm statistics. A run interrupted after a checkpoint and resumed
//! from it therefore ends with the same weights, bit for bit, as one that was never
//! interrupted (tested by `resume_is_exact` and `ka_net_resume_is_exact`), on the same machine
//! and thread count.
//!
//! **Failure.** A non-finite loss stops the run before the optimiser step, with an error
//! naming the iteration and the last good checkpoint (nothing is written after the bad step).

pub mod adapt;
pub mod checkpoint;
pub mod config;
pub mod data;
pub mod log;
pub mod loss;
pub mod network;
pub mod plot;
pub mod schedule;

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Instant;

use burn::grad_clipping::GradientClippingConfig;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, AdamWConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use dehaze_core::metrics::{psnr_rgb, ssim_rgb_gauss, Rgb8};
use dehaze_core::RgbImage;

use crate::dhr::Dhr;
use crate::ka_net::KaNet;
use checkpoint::TrainState;
use config::{NetworkConfig, OptimName};
use data::{Batch, Sampler, TrainData, ValidationSet};
use log::{MetricsLog, Row};
use loss::Objective;
use schedule::Schedule;

pub use config::{ConfigError, TrainConfig};
pub use network::{TrainOutput, Trainable};

/// Why a run stopped early.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("training data: {0}")]
    Data(#[from] data::DataError),
    #[error("checkpoint {0}")]
    Checkpoint(#[from] checkpoint::CheckpointError),
    #[error("{0}")]
    Io(String),
    #[error("the loss is {value} at iteration {iteration}; stopped before that step was applied. {}", match .last_checkpoint {
        Some((it, p)) => format!("The last good checkpoint is {} (iteration {it}); resume from it with --resume, perhaps with a lower optim.lr.", p.display()),
        None => "No checkpoint was written yet; try a lower optim.lr.".to_string(),
    })]
    NonFinite {
        iteration: u64,
        value: f32,
        last_checkpoint: Option<(u64, PathBuf)>,
    },
    #[error("--resume: {0}")]
    Resume(String),
}

/// How to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The compute device (without autodiff; the trainer adds it).
    pub device: Device,
    /// Continue from the latest checkpoint of the run folder.
    pub resume: bool,
}

/// What happens during a run, for a progress display. Every method has a default that does
/// nothing.
pub trait Observer {
    /// Training starts at `first` (0, or the resumed iteration) of `total` iterations.
    fn start(&mut self, _first: u64, _total: u64) {}
    /// Iteration `iteration` (1-based count of steps done) finished with `loss`; `it_per_s` is
    /// a moving average of the step rate. `Break` stops the run after writing a checkpoint
    /// (so it can be resumed).
    fn step(&mut self, _iteration: u64, _loss: f32, _it_per_s: f64) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
    /// A line worth showing (data summary, validation result, checkpoint written).
    fn note(&mut self, _line: &str) {}
}

/// An observer that shows nothing.
pub struct Silent;
impl Observer for Silent {}

/// What a finished (or stopped) run produced.
#[derive(Clone, Debug)]
pub struct Summary {
    /// Steps done.
    pub iterations: u64,
    /// The final weights.
    pub weights: PathBuf,
    /// The best validation PSNR and its iteration.
    pub best_psnr: Option<(f64, u64)>,
    /// The last checkpoint written.
    pub checkpoint: PathBuf,
}

fn optimizer(c: &TrainConfig) -> ModuleOptimizer {
    let o = &c.optim;
    let clip = o
        .grad_clip_norm
        .map(|n| GradientClippingConfig::Norm(n as f32));
    match o.name {
        OptimName::Adam => AdamConfig::new()
            .with_beta_1(o.betas[0] as f32)
            .with_beta_2(o.betas[1] as f32)
            .with_epsilon(o.eps as f32)
            .with_weight_decay(
                (o.weight_decay > 0.0).then(|| WeightDecayConfig::new(o.weight_decay as f32)),
            )
            .with_grad_clipping(clip)
            .init(),
        OptimName::Adamw => AdamWConfig::new()
            .with_beta_1(o.betas[0] as f32)
            .with_beta_2(o.betas[1] as f32)
            .with_epsilon(o.eps as f32)
            .with_weight_decay(o.weight_decay as f32)
            .with_grad_clipping(clip)
            .init(),
    }
}

fn batch_tensors(b: Batch, device: &Device) -> (Tensor<4>, Tensor<4>) {
    let shape = [b.n, 3, b.crop, b.crop];
    (
        Tensor::from_data(TensorData::new(b.hazy, shape), device),
        Tensor::from_data(TensorData::new(b.clear, shape), device),
    )
}

fn to_image(t: Tensor<4>) -> RgbImage {
    let [_, _, h, w] = t.dims();
    RgbImage::from_planar(
        w,
        h,
        t.into_data().try_into_vec::<f32>().expect("f32 tensor"),
    )
}

/// Mean PSNR and SSIM (RGB, 8-bit, as the evaluation) of the model on the validation pairs.
pub fn validate<M: Trainable>(
    model: &M,
    val: &ValidationSet,
    device: &Device,
) -> Option<(f64, f64)> {
    if val.pairs.is_empty() {
        return None;
    }
    let (mut p, mut s) = (0.0, 0.0);
    for pair in &val.pairs {
        let (w, h) = (pair.hazy.width(), pair.hazy.height());
        let x = Tensor::from_data(
            TensorData::new(pair.hazy.data().to_vec(), [1, 3, h, w]),
            device,
        );
        let out = to_image(model.restore(x));
        let (a, b) = (
            Rgb8::from_rgb_image(&out),
            Rgb8::from_rgb_image(&pair.clear),
        );
        p += psnr_rgb(&a, &b).unwrap_or(f64::NAN).min(100.0);
        s += ssim_rgb_gauss(&a, &b).unwrap_or(f64::NAN);
    }
    let n = val.pairs.len() as f64;
    Some((p / n, s / n))
}

fn io(e: impl std::fmt::Display) -> TrainError {
    TrainError::Io(e.to_string())
}

/// Config sections that must not change on `--resume` (they would change what the
/// checkpoint's state means), with canonical paths: the same run started from another folder
/// names its files differently.
fn resume_fingerprint(c: &TrainConfig) -> String {
    let c = c.with_canonical_paths();
    let v = &c.validation;
    format!(
        "{:?}|{:?}|{}|{}|{}|{:?}|{}|{:?}",
        c.model, c.data, c.train.seed, c.train.batch, v.fraction, v.pairs, v.crop, c.adapt
    )
}

/// Trains the network of `[model]` as `config` says. See the module docs.
pub fn run(
    config: &TrainConfig,
    opts: &RunOptions,
    obs: &mut dyn Observer,
) -> Result<Summary, TrainError> {
    config.validate()?;
    if let Some(n) = config.train.threads {
        if rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .is_err()
            && rayon::current_num_threads() != n
        {
            obs.note(&format!(
                "note: the thread pool was already set up with {} threads; train.threads = {n} ignored",
                rayon::current_num_threads()
            ));
        }
    }
    match config.model.network() {
        NetworkConfig::Dhr(c) => train::<Dhr>(&c, config, opts, obs),
        NetworkConfig::KaNet(c) => train::<KaNet>(&c, config, opts, obs),
    }
}

/// The run of [`run`] for network `M` of size `size`.
fn train<M: Trainable>(
    size: &M::Config,
    config: &TrainConfig,
    opts: &RunOptions,
    obs: &mut dyn Observer,
) -> Result<Summary, TrainError> {
    let out_dir = &config.output.dir;
    std::fs::create_dir_all(out_dir).map_err(|e| io(format!("{}: {e}", out_dir.display())))?;
    let device = opts.device.clone();
    let ad = device.clone().autodiff();

    // Data.
    let (train_data, val) = data::prepare(config)?;
    obs.note(&summary_line(&train_data, &val));

    // Model, optimiser, data stream, log: fresh or from the latest checkpoint.
    let mut model = M::new_seeded(size, &ad, config.train.seed);
    // Adaptation: start from the pre-trained weights, and keep a frozen copy as the reference.
    let adaptation = match &config.adapt {
        Some(a) => {
            let load = |d: &Device| {
                M::load_weights(&a.init, d).map_err(|e| {
                    TrainError::Config(ConfigError::Value {
                        key: "adapt.init".into(),
                        reason: e.to_string(),
                    })
                })
            };
            // Loaded once per device: the autodiff copy trains, the plain copy stays frozen.
            let reference = load(&device)?;
            if &reference.size() != size {
                return Err(TrainError::Config(ConfigError::Value {
                    key: "adapt.init".into(),
                    reason: format!(
                        "{} holds a network of another size ({:?}) than [model] ({:?})",
                        a.init.display(),
                        reference.size(),
                        size
                    ),
                }));
            }
            model = load(&ad)?;
            let features = if adapt::Adaptation::<M>::needs_features(a) {
                Some(
                    crate::losses::FeatureExtractor::load_or_seeded(
                        config.loss.features.as_deref(),
                        &ad,
                    )
                    .map_err(|e| {
                        TrainError::Config(ConfigError::Value {
                            key: "loss.features".into(),
                            reason: e.to_string(),
                        })
                    })?,
                )
            } else {
                None
            };
            if let Some(f) = &features {
                obs.note(&format!(
                    "adaptation's contrastive features: {}",
                    f.describe()
                ));
            }
            obs.note(&format!(
                "adaptation from {} ({} real hazy photos)",
                a.init.display(),
                train_data.real.len()
            ));
            Some(adapt::Adaptation::new(a, reference, &device, features))
        }
        None => None,
    };
    let mut optim = optimizer(config);
    let mut sampler = Sampler::new(config.train.seed);
    let mut start = 0;
    let mut best_psnr = None;
    let mut last_ckpt: Option<(u64, PathBuf)> = None;
    if opts.resume {
        let dir = checkpoint::latest(out_dir)?.ok_or_else(|| {
            TrainError::Resume(format!(
                "no checkpoint in {} (start without --resume)",
                checkpoint::root(out_dir).display()
            ))
        })?;
        let state = checkpoint::read_state(&dir)?;
        let saved: TrainConfig = toml::from_str(&state.config).map_err(|e| {
            TrainError::Resume(format!("{}: bad config record: {e}", dir.display()))
        })?;
        if resume_fingerprint(&saved) != resume_fingerprint(config) {
            return Err(TrainError::Resume(format!(
                "the config's [model], [data], train.seed, train.batch or validation split \
                 (fraction, pairs, crop) differ from those of the checkpoint {}; resuming would \
                 not continue the same run",
                dir.display()
            )));
        }
        // A run killed after its last checkpoint but before the final weights were written
        // resumes to write them (the loop below runs no iteration); only a run that has its
        // weights, or got further than asked, is "already" done.
        let finished =
            state.iteration == config.train.iterations && out_dir.join(M::WEIGHTS_FILE).is_file();
        if finished || state.iteration > config.train.iterations {
            return Err(TrainError::Resume(format!(
                "{} is at iteration {}, already train.iterations = {}",
                dir.display(),
                state.iteration,
                config.train.iterations
            )));
        }
        (model, optim) = checkpoint::load_tensors(&dir, model, optim)?;
        sampler = Sampler::from_state(&state.sampler)?;
        start = state.iteration;
        best_psnr = state.best_psnr;
        obs.note(&format!(
            "resumed from {} (iteration {start})",
            dir.display()
        ));
        last_ckpt = Some((start, dir));
    }
    crate::dhr::write_atomic(
        &out_dir.join("config.toml"),
        config.to_toml_string().as_bytes(),
    )
    .map_err(io)?;
    let mut log = MetricsLog::open(&out_dir.join("metrics.csv"), opts.resume.then_some(start))
        .map_err(TrainError::Io)?;

    let schedule = Schedule::from_config(config);
    let network = config.model.network();
    let objective =
        Objective::new(&config.loss, &network, config.train.seed, &ad).map_err(|e| {
            TrainError::Config(ConfigError::Value {
                key: "loss.features".into(),
                reason: e.to_string(),
            })
        })?;
    if let Some(f) = objective.features_description() {
        obs.note(&format!("contrastive features: {f}"));
    }
    let total = config.train.iterations;
    let (log_every, val_every, ckpt_every) = (
        config.train.log_interval,
        config.validation.interval,
        config.checkpoint.interval,
    );
    let mut acc = (0.0f64, 0.0f64, 0.0f64, 0.0f64, 0u64);
    let mut acc_adapt = [0.0f64; adapt::TERM_NAMES.len()];
    // KA-Net's sample weights: the smallest and largest of the log interval.
    let mut weight_range = (f32::INFINITY, f32::NEG_INFINITY);
    let mut t_log = Instant::now();
    // Speed shown live: an exponential moving average of the step rate (validation and
    // checkpoint time excluded); the log reports the plain mean over each interval.
    let mut live_speed = 0.0f64;
    let mut t_step = Instant::now();
    obs.start(start, total);

    let save = |it: u64, model: &M, optim: &ModuleOptimizer, sampler: &Sampler, best| {
        let state = TrainState {
            iteration: it,
            sampler: sampler.state(),
            best_psnr: best,
            config: config.to_toml_string(),
        };
        checkpoint::save(out_dir, &state, model, optim, config.checkpoint.keep)
    };

    let mut it = start;
    while it < total {
        let lr = schedule.lr(it);
        let batch = sampler.next_batch(&train_data, config.train.batch)?;
        let real = match &config.adapt {
            Some(a) if a.uses_real() => {
                let channels = a.dark_channel > 0.0 || a.bright_channel > 0.0;
                let window = channels.then_some(a.window);
                Some(sampler.next_real_batch(&train_data, a.real_batch, window))
            }
            _ => None,
        };
        let negatives = if objective.needs_negatives() {
            loss::mncd_negatives(&batch.hazy, batch.n, batch.crop, &ad)
        } else {
            Vec::new()
        };
        // The consistency term runs the frozen reference on the supervised crops.
        let supervised_hazy = adaptation
            .as_ref()
            .filter(|a| a.needs_supervised_hazy())
            .map(|_| batch.hazy.clone());
        let (x, y) = batch_tensors(batch, &ad);
        let out = model.forward_train(x.clone());
        let mut terms = objective.compute(&out, x, y, &negatives, it);
        if let Some(a) = &adaptation {
            let h = supervised_hazy.as_deref().unwrap_or_default();
            let extra = a.compute(&model, &out.image, h, real.as_ref(), &ad);
            terms.total = terms.total + extra.total;
            for (acc, p) in acc_adapt.iter_mut().zip(extra.parts) {
                *acc += p as f64;
            }
        }
        let loss: f32 = terms.total.clone().into_scalar();
        #[cfg(test)]
        let loss = if tests::POISON_AT.with(|p| p.get()) == Some(it + 1) {
            f32::NAN
        } else {
            loss
        };
        if !loss.is_finite() {
            return Err(TrainError::NonFinite {
                iteration: it + 1,
                value: loss,
                last_checkpoint: last_ckpt,
            });
        }
        let grads = GradientsParams::from_grads(terms.total.backward(), &model);
        model = optim.step(lr, model, grads);
        it += 1;

        acc.0 += loss as f64;
        acc.1 += terms.reconstruction.into_scalar::<f32>() as f64;
        acc.2 += terms.density.into_scalar::<f32>() as f64;
        acc.3 += terms.contrastive.into_scalar::<f32>() as f64;
        acc.4 += 1;
        if let Some(w) = terms.sample_weights {
            for v in w.into_data().iter::<f32>() {
                weight_range = (weight_range.0.min(v), weight_range.1.max(v));
            }
        }
        if it % log_every == 0 || it == total {
            let n = acc.4 as f64;
            let speed = n / t_log.elapsed().as_secs_f64().max(1e-9);
            log.push(Row {
                iteration: it,
                lr: Some(lr),
                loss: Some(acc.0 / n),
                reconstruction: Some(acc.1 / n),
                density: Some(acc.2 / n),
                contrastive: Some(acc.3 / n),
                adapt: adaptation
                    .as_ref()
                    .map(|_| acc_adapt.iter().sum::<f64>() / n),
                it_per_s: Some(speed),
                ..Default::default()
            })
            .map_err(TrainError::Io)?;
            if adaptation.is_some() {
                let parts: Vec<String> = adapt::TERM_NAMES
                    .iter()
                    .zip(acc_adapt)
                    .filter(|(_, v)| *v != 0.0)
                    .map(|(name, v)| format!("{name} {:.4}", v / n))
                    .collect();
                obs.note(&format!(
                    "iteration {it}: adaptation terms {}",
                    parts.join(", ")
                ));
            }
            if weight_range.0 <= weight_range.1 {
                obs.note(&format!(
                    "iteration {it}: sample weights {:.3}..{:.3} (mean 1)",
                    weight_range.0, weight_range.1
                ));
            }
            acc = (0.0, 0.0, 0.0, 0.0, 0);
            acc_adapt = [0.0; adapt::TERM_NAMES.len()];
            weight_range = (f32::INFINITY, f32::NEG_INFINITY);
            t_log = Instant::now();
        }
        let rate = 1.0 / t_step.elapsed().as_secs_f64().max(1e-9);
        live_speed = if live_speed == 0.0 {
            rate
        } else {
            0.9 * live_speed + 0.1 * rate
        };
        let flow = obs.step(it, loss, live_speed);
        let stopped = flow.is_break();

        let validate_now = (val_every > 0 && it % val_every == 0) || it == total;
        if validate_now {
            if let Some((psnr, ssim)) = validate(&model.valid(), &val, &device) {
                log.push(Row {
                    iteration: it,
                    val_psnr: Some(psnr),
                    val_ssim: Some(ssim),
                    ..Default::default()
                })
                .map_err(TrainError::Io)?;
                let better = best_psnr.is_none_or(|(b, _)| psnr > b);
                if better {
                    best_psnr = Some((psnr, it));
                    model
                        .valid()
                        .save_weights(&out_dir.join("best.safetensors"))
                        .map_err(io)?;
                }
                obs.note(&format!(
                    "iteration {it}: validation PSNR {psnr:.2} dB, SSIM {ssim:.4}{}",
                    if better { " (best)" } else { "" }
                ));
            }
            t_log = Instant::now(); // validation time is not training speed
        }
        if it % ckpt_every == 0 || it == total || stopped {
            let dir = save(it, &model, &optim, &sampler, best_psnr)?;
            model
                .valid()
                .save_weights(&out_dir.join("latest.safetensors"))
                .map_err(io)?;
            obs.note(&format!("checkpoint {}", dir.display()));
            last_ckpt = Some((it, dir));
            plot::write(&out_dir.join("curves.png"), log.rows(), total).map_err(TrainError::Io)?;
            t_log = Instant::now();
        }
        if stopped {
            break;
        }
        t_step = Instant::now();
    }
    let weights = out_dir.join(M::WEIGHTS_FILE);
    model.valid().save_weights(&weights).map_err(io)?;
    let (_, checkpoint) = last_ckpt.expect("a checkpoint is written at the last iteration");
    Ok(Summary {
        iterations: it,
        weights,
        best_psnr,
        checkpoint,
    })
}

fn summary_line(d: &TrainData, v: &ValidationSet) -> String {
    format!(
        "data: {} training pairs, {} synthesis scenes (synthetic share {:.2}), {} real hazy photos{}, {} validation pairs; crop {}",
        d.pairs.len(),
        d.synthetic.as_ref().map_or(0, |s| s.len()),
        d.synthetic_fraction,
        d.real.len(),
        if d.real_skipped > 0 {
            format!(" ({} smaller than the crop skipped)", d.real_skipped)
        } else {
            String::new()
        },
        v.pairs.len(),
        d.crop
    )
}

#[cfg(test)]
mod tests;
