//! DHR weight files: safetensors with the network's configuration in the metadata.
//!
//! Metadata keys: `dehaze.model = "dhr"`, `dehaze.format_version = "1"` and
//! `dehaze.dhr_config` = the [`DhrConfig`] as JSON, so [`Dhr::load`] rebuilds the network the
//! file was saved from without being told its size. Tensor names are the module paths
//! (`encoders.1.blocks.0.conv1.weight`, …), the same as the PyTorch twin in
//! `tools/dhr_torch.py`, so the file loads there with `load_state_dict` as is.

use std::path::Path;

use burn::prelude::*;
use burn::store::{ModuleSnapshot, SafetensorsStore};

use super::{Dhr, DhrConfig};
use crate::weights::{WeightsError, KEY_MODEL};

const KEY_VERSION: &str = "dehaze.format_version";
const KEY_CONFIG: &str = "dehaze.dhr_config";

/// Writes `bytes` to `path` atomically ([`dehaze_core::fs::write_atomic`]).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WeightsError> {
    dehaze_core::fs::write_atomic(path, bytes).map_err(|e| WeightsError::file(path, e.reason))
}

impl Dhr {
    /// The weights as a safetensors byte buffer with the configuration in the metadata.
    pub fn to_safetensors_bytes(&self) -> Result<Vec<u8>, String> {
        let config = serde_json::to_string(&self.config).map_err(|e| e.to_string())?;
        let mut store = SafetensorsStore::from_bytes(None)
            .metadata(KEY_MODEL, "dhr")
            .metadata(KEY_VERSION, "1")
            .metadata(KEY_CONFIG, config);
        self.save_into(&mut store).map_err(|e| e.to_string())?;
        store.get_bytes().map_err(|e| e.to_string())
    }

    /// Saves the weights atomically as safetensors, with the configuration in the metadata.
    pub fn save(&self, path: &Path) -> Result<(), WeightsError> {
        let bytes = self
            .to_safetensors_bytes()
            .map_err(|e| WeightsError::file(path, e))?;
        write_atomic(path, &bytes)
    }

    /// Loads weights saved by [`Dhr::save`] (safetensors; the configuration travels in the
    /// file's metadata). Every tensor of the network must be in the file with its shape, and
    /// the file must hold nothing else.
    pub fn load(path: &Path, device: &Device) -> Result<Self, WeightsError> {
        let bytes = std::fs::read(path).map_err(|e| WeightsError::file(path, e))?;
        Self::from_safetensors_bytes(bytes, device).map_err(|e| WeightsError::file(path, e))
    }

    /// As [`Dhr::load`] from a byte buffer.
    pub fn from_safetensors_bytes(bytes: Vec<u8>, device: &Device) -> Result<Self, String> {
        let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes)
            .map_err(|e| format!("not a safetensors file ({e})"))?;
        let meta = meta.metadata().clone().unwrap_or_default();
        match meta.get(KEY_MODEL).map(String::as_str) {
            Some("dhr") => {}
            Some(other) => return Err(format!("holds a `{other}` model, not DHR")),
            None => {
                return Err(format!(
                "no `{KEY_MODEL}` entry in the metadata: not a DHR weights file written by dehaze"
            ))
            }
        }
        match meta.get(KEY_VERSION).map(String::as_str) {
            Some("1") => {}
            v => {
                return Err(format!(
                    "unsupported DHR weights format version {v:?} (expected 1)"
                ))
            }
        }
        let config: DhrConfig = meta
            .get(KEY_CONFIG)
            .ok_or_else(|| format!("no `{KEY_CONFIG}` entry in the metadata"))
            .and_then(|s| {
                serde_json::from_str(s).map_err(|e| format!("bad `{KEY_CONFIG}`: {e}"))
            })?;
        config
            .validate()
            .map_err(|e| format!("bad `{KEY_CONFIG}`: {e}"))?;
        crate::weights::check_fits(config.min_params(), bytes.len() as u64)
            .map_err(|e| format!("bad `{KEY_CONFIG}`: {e}"))?;
        let mut model = Dhr::zeroed(&config, device);
        let mut store = SafetensorsStore::from_bytes(Some(bytes));
        let result = model.load_from(&mut store).map_err(|e| e.to_string())?;
        if !result.errors.is_empty() {
            return Err(format!(
                "{} tensor(s) could not be loaded: {:?}",
                result.errors.len(),
                result.errors
            ));
        }
        if !result.missing.is_empty() {
            let names: Vec<&str> = result.missing.iter().map(|(p, _)| p.as_str()).collect();
            return Err(format!("missing tensors: {}", names.join(", ")));
        }
        if !result.unused.is_empty() {
            return Err(format!(
                "tensors the network does not have: {}",
                result.unused.join(", ")
            ));
        }
        Ok(model)
    }
}
