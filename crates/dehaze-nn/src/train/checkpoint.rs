//! Checkpoints: everything needed to continue a run exactly.
//!
//! A checkpoint is a folder `checkpoints/iter-NNNNNNNN/` holding
//!
//! * `model.bpk`: the network's weights (and KA-Net's BatchNorm statistics) in Burn's
//!   burnpack format, which (unlike safetensors) keeps each parameter's id; the optimiser
//!   state is keyed by those ids;
//! * `optimizer.bpk`: the optimiser state (Adam moments and step counts);
//! * `state.json`: the iteration, the data-stream state (ChaCha8 key, stream, word position,
//!   synthetic-crop counter), the best validation PSNR so far, and the config it was trained
//!   with.
//!
//! The learning-rate schedule is a pure function of the iteration ([`super::schedule`]), so the
//! iteration is its position. The folder is written under a temporary name and renamed into
//! place, then `checkpoints/latest` (the folder's name) is replaced atomically: a crash at any
//! moment leaves the previous checkpoint intact and `latest` pointing at a complete one.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use serde::{Deserialize, Serialize};

use super::data::SamplerState;

/// Why a checkpoint could not be written or read; the message names the file.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct CheckpointError {
    pub path: PathBuf,
    pub reason: String,
}

fn cerr(path: &Path, reason: impl ToString) -> CheckpointError {
    CheckpointError {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// The non-tensor part of a checkpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    /// Optimiser steps taken.
    pub iteration: u64,
    pub sampler: SamplerState,
    /// Best validation PSNR so far and its iteration.
    pub best_psnr: Option<(f64, u64)>,
    /// The training config (TOML) of the run.
    pub config: String,
}

const LATEST: &str = "latest";

/// The checkpoint folder of `run_dir`.
pub fn root(run_dir: &Path) -> PathBuf {
    run_dir.join("checkpoints")
}

fn name(iteration: u64) -> String {
    format!("iter-{iteration:08}")
}

/// Writes a checkpoint atomically and deletes all but the newest `keep`; returns its folder.
pub fn save<M: Module>(
    run_dir: &Path,
    state: &TrainState,
    model: &M,
    optimizer: &ModuleOptimizer,
    keep: usize,
) -> Result<PathBuf, CheckpointError> {
    let root = root(run_dir);
    std::fs::create_dir_all(&root).map_err(|e| cerr(&root, e))?;
    let tmp = tempfile::Builder::new()
        .prefix(".partial-")
        .tempdir_in(&root)
        .map_err(|e| cerr(&root, e))?;
    let model_path = tmp.path().join("model.bpk");
    model
        .clone()
        .save_file(&model_path)
        .map_err(|e| cerr(&model_path, e))?;
    let optim_path = tmp.path().join("optimizer.bpk");
    optimizer
        .to_record()
        .save(&optim_path)
        .map_err(|e| cerr(&optim_path, e))?;
    let state_path = tmp.path().join("state.json");
    let json = serde_json::to_string_pretty(state).map_err(|e| cerr(&state_path, e))?;
    std::fs::write(&state_path, json).map_err(|e| cerr(&state_path, e))?;
    for f in [&model_path, &optim_path, &state_path] {
        std::fs::File::open(f)
            .and_then(|f| f.sync_all())
            .map_err(|e| cerr(f, e))?;
    }
    let dest = root.join(name(state.iteration));
    if dest.exists() {
        // Left by an earlier run that got further than the checkpoint it was resumed from.
        std::fs::remove_dir_all(&dest).map_err(|e| cerr(&dest, e))?;
    }
    let kept = tmp.keep();
    std::fs::rename(&kept, &dest).map_err(|e| cerr(&dest, e))?;
    dehaze_core::fs::sync_dir(&root).map_err(|e| cerr(&root, e))?;
    crate::dhr::write_atomic(&root.join(LATEST), name(state.iteration).as_bytes())
        .map_err(|e| cerr(&root.join(LATEST), e))?;
    prune(&root, keep, &dest)?;
    Ok(dest)
}

/// The checkpoint folders under `root`, oldest first.
fn list(root: &Path) -> Result<Vec<PathBuf>, CheckpointError> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root)
        .map_err(|e| cerr(root, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("iter-"))
        })
        .collect();
    v.sort();
    Ok(v)
}

fn prune(root: &Path, keep: usize, newest: &Path) -> Result<(), CheckpointError> {
    let all = list(root)?;
    let excess = all.len().saturating_sub(keep);
    for p in all.into_iter().filter(|p| p != newest).take(excess) {
        std::fs::remove_dir_all(&p).map_err(|e| cerr(&p, e))?;
    }
    Ok(())
}

/// The folder `checkpoints/latest` names, if there is one.
pub fn latest(run_dir: &Path) -> Result<Option<PathBuf>, CheckpointError> {
    let file = root(run_dir).join(LATEST);
    match std::fs::read_to_string(&file) {
        Ok(n) => {
            let dir = root(run_dir).join(n.trim());
            if !dir.join("state.json").is_file() {
                return Err(cerr(
                    &file,
                    format!("names {} which is not a checkpoint", dir.display()),
                ));
            }
            Ok(Some(dir))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(cerr(&file, e)),
    }
}

/// Reads a checkpoint's state.
pub fn read_state(dir: &Path) -> Result<TrainState, CheckpointError> {
    let p = dir.join("state.json");
    let text = std::fs::read_to_string(&p).map_err(|e| cerr(&p, e))?;
    serde_json::from_str(&text).map_err(|e| cerr(&p, e))
}

/// Loads a checkpoint's weights into `model` (same network and configuration) and its
/// optimiser state into `optimizer`.
pub fn load_tensors<M: Module>(
    dir: &Path,
    model: M,
    optimizer: ModuleOptimizer,
) -> Result<(M, ModuleOptimizer), CheckpointError> {
    let mp = dir.join("model.bpk");
    let model = model.try_load_file(&mp).map_err(|e| cerr(&mp, e))?;
    let op = dir.join("optimizer.bpk");
    let optimizer = optimizer.load(&op).map_err(|e| cerr(&op, e))?;
    Ok((model, optimizer))
}
