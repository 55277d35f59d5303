//! The AHG generator (encoder `E` + decoder `D`) and its weights file.
//!
//! Weights are safetensors written through burn-store; the file's metadata carries
//! `dehaze.model = ahg-generator` and the [`AhgConfig`] (`ahg.encoder_width`,
//! `ahg.decoder_width`, `ahg.levels`), so a file is self-describing: [`AhgGenerator::load`]
//! rebuilds the right shapes before reading the tensors. Extra metadata (training seed, step
//! count, final losses) may ride along. Saving writes a temporary file next to the target and
//! renames it over the target (burn-store's atomic commit), so a crash never leaves a
//! half-written weights file under the final name.

use super::decoder::RehazeDecoder;
use super::encoder::DensityEncoderNet;
use crate::weights::WeightsError;
use burn::prelude::*;
use burn::store::{ModuleSnapshot, SafetensorsStore};
use std::collections::BTreeMap;
use std::path::Path;

/// Metadata key naming the model kind, and its value for AHG generator files.
pub const MODEL_KEY: &str = "dehaze.model";
/// Value of [`MODEL_KEY`] in AHG generator files.
pub const MODEL_NAME: &str = "ahg-generator";

/// Sizes of the two networks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AhgConfig {
    /// Base channel width of `E`'s U-Net.
    pub encoder_width: usize,
    /// Base channel width of `D`'s U-Net.
    pub decoder_width: usize,
    /// Number of U-Net levels (halvings) in both.
    pub levels: usize,
}

impl Default for AhgConfig {
    /// 16 channels, 3 levels: about 0.5 M parameters per network, trainable on a CPU.
    fn default() -> Self {
        Self {
            encoder_width: 16,
            decoder_width: 16,
            levels: 3,
        }
    }
}

impl AhgConfig {
    /// The config as metadata entries.
    pub fn to_metadata(&self) -> Vec<(String, String)> {
        vec![
            ("ahg.encoder_width".into(), self.encoder_width.to_string()),
            ("ahg.decoder_width".into(), self.decoder_width.to_string()),
            ("ahg.levels".into(), self.levels.to_string()),
        ]
    }

    /// Reads the config back from metadata; the error names the missing or bad key.
    /// A lower bound on the generator's parameter count, without building it: the two 3×3
    /// convolutions of each UNet level's block (`width·2^(l+1)` channels), encoder and decoder.
    /// The widths double per level, so the metadata's caps alone (width 1024, 6 levels) would
    /// still allow a 10-billion-parameter network; the loader checks this against the file size.
    pub fn min_params(&self) -> u128 {
        let unet = |width: usize| -> u128 {
            (0..self.levels.min(64))
                .map(|l| {
                    let c = (width as u128).saturating_mul(1u128 << (l + 1).min(100));
                    18u128.saturating_mul(c.saturating_mul(c))
                })
                .fold(0u128, u128::saturating_add)
        };
        unet(self.encoder_width).saturating_add(unet(self.decoder_width))
    }

    pub fn from_metadata(meta: &BTreeMap<String, String>) -> Result<Self, String> {
        let get = |k: &str, max: usize| -> Result<usize, String> {
            let v = meta
                .get(k)
                .ok_or_else(|| format!("metadata has no `{k}`"))?;
            match v.parse::<usize>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(format!(
                    "metadata `{k}` = {v:?} is not an integer in 1..={max}"
                )),
            }
        };
        Ok(Self {
            encoder_width: get("ahg.encoder_width", 1024)?,
            decoder_width: get("ahg.decoder_width", 1024)?,
            levels: get("ahg.levels", 6)?,
        })
    }
}

/// `E` and `D` together: the part of AHG that generation needs.
#[derive(Module, Debug)]
pub struct AhgGenerator {
    pub encoder: DensityEncoderNet,
    pub decoder: RehazeDecoder,
}

/// The string metadata of a safetensors file.
pub fn read_metadata(path: &Path) -> Result<BTreeMap<String, String>, WeightsError> {
    let bytes = std::fs::read(path).map_err(|e| WeightsError::file(path, e.to_string()))?;
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes)
        .map_err(|e| WeightsError::file(path, format!("not a safetensors file ({e})")))?;
    Ok(meta
        .metadata()
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect())
}

impl AhgGenerator {
    /// Fresh networks on `device`.
    pub fn new(config: &AhgConfig, device: &Device) -> Self {
        Self {
            encoder: DensityEncoderNet::new(config.encoder_width, config.levels, device),
            decoder: RehazeDecoder::new(config.decoder_width, config.levels, device),
        }
    }

    /// H and W must be multiples of this.
    pub fn size_multiple(&self) -> usize {
        self.encoder
            .size_multiple()
            .max(self.decoder.size_multiple())
    }

    /// Saves the weights atomically as safetensors with `config` (and `extra`) in the metadata.
    pub fn save(
        &self,
        path: &Path,
        config: &AhgConfig,
        extra: &[(String, String)],
    ) -> Result<(), WeightsError> {
        // Serialised in memory, then written with the shared atomic write: burn's file store
        // writes in place, so a kill mid-save would leave a truncated file under the final name.
        let mut store = SafetensorsStore::from_bytes(None).metadata(MODEL_KEY, MODEL_NAME);
        for (k, v) in config
            .to_metadata()
            .into_iter()
            .chain(extra.iter().cloned())
        {
            store = store.metadata(k, v);
        }
        self.save_into(&mut store)
            .map_err(|e| WeightsError::file(path, format!("cannot write weights: {e}")))?;
        let bytes = store
            .get_bytes()
            .map_err(|e| WeightsError::file(path, format!("cannot write weights: {e}")))?;
        dehaze_core::fs::write_atomic(path, &bytes)
            .map_err(|e| WeightsError::file(path, format!("cannot write weights: {}", e.reason)))
    }

    /// Loads a file written by [`AhgGenerator::save`]; returns the networks and their config.
    /// Errors name the file and say whether it is unreadable, not safetensors, not AHG
    /// weights, or has tensors of the wrong shape.
    pub fn load(path: &Path, device: &Device) -> Result<(Self, AhgConfig), WeightsError> {
        let meta = read_metadata(path)?;
        match meta.get(MODEL_KEY).map(String::as_str) {
            Some(MODEL_NAME) => {}
            Some(other) => {
                return Err(WeightsError::file(
                    path,
                    format!("holds `{other}` weights, not AHG generator weights"),
                ))
            }
            None => {
                return Err(WeightsError::file(
                    path,
                    format!("not AHG generator weights (no `{MODEL_KEY}` metadata)"),
                ))
            }
        }
        let config = AhgConfig::from_metadata(&meta).map_err(|e| WeightsError::file(path, e))?;
        let file_len = std::fs::metadata(path)
            .map_err(|e| WeightsError::file(path, format!("cannot read: {e}")))?
            .len();
        crate::weights::check_fits(config.min_params(), file_len)
            .map_err(|e| WeightsError::file(path, e))?;
        let mut model = Self::new(&config, device);
        let mut store = SafetensorsStore::from_file(path);
        model
            .load_from(&mut store)
            .map_err(|e| WeightsError::file(path, format!("cannot load AHG weights: {e}")))?;
        Ok((model, config))
    }
}
