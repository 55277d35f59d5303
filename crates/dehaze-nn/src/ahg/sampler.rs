//! API's hybrid augmentation with a trained AHG: one new hazy version of a clean image per
//! `(image, copy)`, from a hazy reference chosen for it.
//!
//! For sample `(i, k)` of a clean image: the draws ([`draw`]: `α`, the Perlin field's seed, a
//! reference index) are a pure function of `(seed, i, k)`; the hazy reference is the one with
//! the clean image's stem when there is one (a real pair), else the drawn one, else — without
//! references — the physical synthesis of the same sample; then
//! `hazy = D(I_c, clamp((α·E(I_c) + (1−α)·E(I_h)) ⊙ F, 0, 1))`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use dehaze_core::io::{self, file_stem, ReadOptions};
use dehaze_core::synth::Synthesizer;
use dehaze_core::{Plane, RgbImage};

use super::generate::{draw, AhgModel};

/// A loaded generator and its hazy references.
pub struct AhgSampler {
    /// Behind a lock: one image at a time through the networks bounds the memory (a 1 MP
    /// image needs a few hundred MB of activations) and the CPU backend is parallel inside.
    model: Mutex<AhgModel>,
    /// Hazy reference files, sorted; empty = use the physical synthesis.
    references: Vec<PathBuf>,
    by_stem: BTreeMap<String, usize>,
}

/// One generated sample and what made it.
#[derive(Clone, Debug)]
pub struct AhgSample {
    pub hazy: RgbImage,
    /// The density map `M` used.
    pub density: Plane,
    /// The reference's file name, or `physics` for the physical synthesis.
    pub reference: String,
    pub alpha: f32,
    pub field_seed: u64,
}

impl AhgSample {
    /// Mean, minimum and maximum of the density map.
    pub fn density_stats(&self) -> (f64, f32, f32) {
        let d = self.density.data();
        let mean = d.iter().map(|&v| v as f64).sum::<f64>() / d.len().max(1) as f64;
        let (lo, hi) = d
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        (mean, lo, hi)
    }
}

impl AhgSampler {
    /// A sampler with `model` and the hazy `references` (sorted here).
    pub fn new(model: AhgModel, mut references: Vec<PathBuf>) -> Self {
        references.sort();
        let by_stem = references
            .iter()
            .enumerate()
            .map(|(i, p)| (file_stem(p), i))
            .collect();
        AhgSampler {
            model: Mutex::new(model),
            references,
            by_stem,
        }
    }

    /// Sample `(index, copy)` of `clean` (whose file stem is `stem`, with its depth map if
    /// any), `α` drawn from `alpha`, the field from `synth`; errors name the reference file.
    pub fn sample(
        &self,
        synth: &Synthesizer,
        clean: &RgbImage,
        stem: &str,
        depth: Option<&Plane>,
        (index, copy): (u64, u64),
        alpha: (f32, f32),
    ) -> Result<AhgSample, String> {
        let d = draw(
            synth.config().seed,
            index,
            copy,
            alpha,
            self.references.len(),
        );
        let (reference, name) = if self.references.is_empty() {
            let s = synth
                .synthesize(clean, depth, index, copy)
                .map_err(|e| e.to_string())?;
            (s.hazy, "physics".to_string())
        } else {
            let i = self.by_stem.get(stem).copied().unwrap_or(d.reference);
            let p: &Path = &self.references[i];
            let img = io::read_image(p, &ReadOptions::default())
                .map_err(|e| format!("hazy reference {e}"))?;
            (
                img.rgb,
                p.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
            )
        };
        let field = synth.density_field(d.field_seed, 0, 0, clean.width(), clean.height());
        let (hazy, density) = {
            let model = self.model.lock().map_err(|_| "AHG model lock poisoned")?;
            model.generate(clean, &reference, d.alpha, Some(&field))
        };
        Ok(AhgSample {
            hazy,
            density,
            reference: name,
            alpha: d.alpha,
            field_seed: d.field_seed,
        })
    }
}
