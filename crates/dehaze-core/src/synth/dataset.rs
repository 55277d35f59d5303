//! On-the-fly training data: random crops of (hazy, clear, transmission) synthesised as they
//! are requested, in parallel and reproducibly.
//!
//! Epoch `e` visits every scene once, in the order of a Fisher–Yates permutation drawn from
//! `derive_rng(seed, e, u64::MAX, Dataset)`. Sample `n` of epoch `e` is scene `s = perm_e[n]`,
//! cropped at an origin drawn from `derive_rng(seed, s, e, Dataset)` and hazed as copy `e` of
//! image `s` (so its parameters come from `(seed, s, e)`). The crop is taken from the clean
//! image and the full-image normalised depth *before* synthesis, which keeps the cost
//! proportional to the crop; the Perlin field is evaluated at full-image coordinates so a crop
//! sees the same field as the full image would. A batch is computed with rayon and collected
//! in order, so the sequence is the same for any thread count.

use super::config::SynthConfig;
use super::pipeline::{DepthSource, Sample, SynthError, Synthesizer};
use super::pseudo_depth::pseudo_depth;
use super::rng::{derive_rng, Stream};
use crate::buffer::{Plane, RgbImage};
use rand::RngExt;
use rayon::prelude::*;

/// A clean image with its normalised depth (or density) map; `None` = use the pseudo-depth.
#[derive(Clone, Debug)]
pub struct Scene {
    pub clean: RgbImage,
    pub depth: Option<Plane>,
}

/// One training crop.
#[derive(Clone, Debug)]
pub struct Crop {
    /// Index of the scene it was cut from.
    pub scene: usize,
    /// Top-left pixel of the crop in the scene.
    pub origin: (usize, usize),
    pub sample: Sample,
}

/// A source of random, reproducible training crops.
#[derive(Debug)]
pub struct CropDataset {
    scenes: Vec<(RgbImage, Plane, DepthSource)>,
    synth: Synthesizer,
    crop: usize,
}

fn crop_plane(p: &Plane, x0: usize, y0: usize, cw: usize, ch: usize) -> Plane {
    let mut out = Vec::with_capacity(cw * ch);
    for y in y0..y0 + ch {
        out.extend_from_slice(&p.row(y)[x0..x0 + cw]);
    }
    Plane::from_vec(cw, ch, out)
}

impl CropDataset {
    /// Builds the data set; scenes without a depth map get their pseudo-depth here, once (in
    /// parallel). Crops are `crop × crop`, or the scene's size where it is smaller.
    pub fn new(scenes: Vec<Scene>, config: SynthConfig, crop: usize) -> Result<Self, SynthError> {
        let synth = Synthesizer::new(config).map_err(|e| SynthError::Config(e.to_string()))?;
        let scenes = scenes
            .into_par_iter()
            .map(|s| {
                let (w, h) = (s.clean.width(), s.clean.height());
                if w == 0 || h == 0 {
                    return Err(SynthError::Empty);
                }
                match s.depth {
                    Some(d) if (d.width(), d.height()) != (w, h) => Err(SynthError::SizeMismatch {
                        dw: d.width(),
                        dh: d.height(),
                        iw: w,
                        ih: h,
                    }),
                    Some(d) => Ok((s.clean, d, DepthSource::Map)),
                    None => {
                        let d = pseudo_depth(&s.clean);
                        Ok((s.clean, d, DepthSource::Pseudo))
                    }
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            scenes,
            synth,
            crop: crop.max(1),
        })
    }

    /// Samples per epoch (= number of scenes).
    pub fn len(&self) -> usize {
        self.scenes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scenes.is_empty()
    }

    /// The scene order of `epoch`.
    pub fn permutation(&self, epoch: u64) -> Vec<usize> {
        let mut rng = derive_rng(self.synth.config().seed, epoch, u64::MAX, Stream::Dataset);
        let mut perm: Vec<usize> = (0..self.scenes.len()).collect();
        for i in (1..perm.len()).rev() {
            let j = rng.random_range(0..=i);
            perm.swap(i, j);
        }
        perm
    }

    /// Sample `n` of `epoch` given that epoch's permutation.
    fn sample_with(&self, perm: &[usize], epoch: u64, n: usize) -> Result<Crop, SynthError> {
        let s = perm[n % perm.len()];
        let (clean, depth, source) = &self.scenes[s];
        let (w, h) = (clean.width(), clean.height());
        let (cw, ch) = (self.crop.min(w), self.crop.min(h));
        let mut rng = derive_rng(self.synth.config().seed, s as u64, epoch, Stream::Dataset);
        let x0 = rng.random_range(0..=w - cw);
        let y0 = rng.random_range(0..=h - ch);
        let c = clean.crop(x0, y0, cw, ch);
        let d = crop_plane(depth, x0, y0, cw, ch);
        let mut sample = self
            .synth
            .synthesize_window(&c, Some(&d), (x0, y0), s as u64, epoch)?;
        sample.params.depth_source = *source;
        Ok(Crop {
            scene: s,
            origin: (x0, y0),
            sample,
        })
    }

    /// Sample `n` (0-based, wrapping) of `epoch`.
    pub fn sample(&self, epoch: u64, n: usize) -> Result<Crop, SynthError> {
        if self.scenes.is_empty() {
            return Err(SynthError::Empty);
        }
        self.sample_with(&self.permutation(epoch), epoch, n)
    }

    /// The batches of `epoch`, `batch_size` crops each (the last one may be shorter); each
    /// batch is synthesised in parallel on the current rayon pool when the iterator reaches it.
    pub fn epoch(
        &self,
        epoch: u64,
        batch_size: usize,
    ) -> impl Iterator<Item = Vec<Result<Crop, SynthError>>> + '_ {
        let perm = self.permutation(epoch);
        let bs = batch_size.max(1);
        let n = self.scenes.len();
        (0..n.div_ceil(bs)).map(move |b| {
            (b * bs..((b + 1) * bs).min(n))
                .into_par_iter()
                .map(|i| self.sample_with(&perm, epoch, i))
                .collect()
        })
    }
}
