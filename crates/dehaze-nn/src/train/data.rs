//! Training data: paired folders, on-the-fly synthesis, the validation split, random crops
//! and augmentation, reproducible per seed.
//!
//! **Pairs.** A pair folder is paired by the toolkit's one rule ([`dehaze_core::pairing`]):
//! `hazy/` + `clear/` (same stem, RESIDE's `<id>_<A>_<β>` ↔ `<id>`), or O-HAZE's
//! `<name>_hazy.<ext>` ↔ `<name>_GT.<ext>` in the folder or its direct sub-folders. A pair's
//! *scene* is its file
//! stem up to the first `_` (`0070_heavy` and `0070_light` are one RESIDE scene); the
//! validation split holds out whole scenes, so no scene is both trained and validated on.
//!
//! **Synthesis.** Clean images (with depth maps where there are some) are hazed on the fly by
//! [`dehaze_core::synth::CropDataset`]: crop `k` of the run is sample `k mod S` of epoch
//! `⌊k/S⌋` (`S` scenes), a pure function of `(seed, k)`.
//!
//! **Real hazy photos.** Folders of unlabeled real hazy photos (`data.real_hazy`, read
//! recursively) feed the adaptation stage: [`Sampler::next_real_batch`] draws random crops of
//! them, with the same flips and rotations, from the same stream as the supervised batches.
//!
//! **Batches.** The choices of a batch (synthetic or real per slot, which pair, where to
//! crop, which flip/rotation) are drawn in order from one ChaCha8 stream seeded by
//! `train.seed`; the synthesis of the chosen crops then runs in parallel. The stream's
//! position and the synthetic-crop counter are the whole data state ([`SamplerState`]), saved
//! in checkpoints, so a resumed run sees the same batches as an uninterrupted one, for any
//! thread count.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use dehaze_core::filters::clahe::Clahe;
use dehaze_core::io::{self, file_stem as stem, ReadOptions};
use dehaze_core::priors::dark_channel::DarkChannelPrior;
use dehaze_core::synth::depth_maps::{load_normalised_depth, DepthFormat};
use dehaze_core::synth::{CropDataset, Scene, SynthConfig};
use dehaze_core::RgbImage;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::config::{SyntheticSource, TrainConfig};
use crate::losses::priors;

/// Why the data could not be prepared; the message names the file or folder.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DataError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, DataError> {
    Err(DataError(msg.into()))
}

/// Image files of `dir` (not recursive), sorted by name.
fn list_images(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    io::list_images(dir).map_err(DataError)
}

/// The scene id of a file stem: up to the first `_`.
fn scene_of(stem: &str) -> &str {
    stem.split('_').next().unwrap_or(stem)
}

/// A hazy/clear file pair and its scene.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairFiles {
    pub hazy: PathBuf,
    pub clear: PathBuf,
    /// `<folder name>/<scene id>`: pairs of one scene share it.
    pub scene: String,
}

/// The pairs of one folder ([`dehaze_core::pairing::pair_folder`]: `hazy/` + `clear/`, or
/// `*_hazy.*` beside `*_GT.*`), sorted, each with its scene.
pub fn discover_pairs(dir: &Path) -> Result<Vec<PairFiles>, DataError> {
    let folder = dir
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(dehaze_core::pairing::pair_folder(dir)
        .map_err(DataError)?
        .into_iter()
        .map(|p| PairFiles {
            scene: format!("{folder}/{}", scene_of(&stem(&p.hazy))),
            hazy: p.hazy,
            clear: p.clear,
        })
        .collect())
}

/// A loaded hazy/clear pair.
#[derive(Clone, Debug)]
pub struct ImagePair {
    /// The hazy file (for messages).
    pub name: PathBuf,
    pub scene: String,
    pub hazy: RgbImage,
    pub clear: RgbImage,
}

fn read_rgb(path: &Path) -> Result<RgbImage, DataError> {
    io::read_image(path, &ReadOptions::default())
        .map(|d| d.rgb)
        .map_err(|e| DataError(e.to_string()))
}

/// Reads pairs (in parallel); a pair whose two images differ in size is an error.
pub fn load_pairs(files: &[PairFiles]) -> Result<Vec<ImagePair>, DataError> {
    files
        .par_iter()
        .map(|f| {
            let hazy = read_rgb(&f.hazy)?;
            let clear = read_rgb(&f.clear)?;
            if (hazy.width(), hazy.height()) != (clear.width(), clear.height()) {
                return err(format!(
                    "{} is {}×{} but its clear image {} is {}×{}",
                    f.hazy.display(),
                    hazy.width(),
                    hazy.height(),
                    f.clear.display(),
                    clear.width(),
                    clear.height()
                ));
            }
            Ok(ImagePair {
                name: f.hazy.clone(),
                scene: f.scene.clone(),
                hazy,
                clear,
            })
        })
        .collect()
}

/// Splits one folder's pairs into (train, validation) by scene: `round(fraction·scenes)`
/// scenes (at least one, and never all, when the folder has two or more scenes and the
/// fraction is above 0) chosen by a seeded shuffle.
pub fn split_by_scene(
    pairs: Vec<PairFiles>,
    fraction: f64,
    rng: &mut ChaCha8Rng,
) -> (Vec<PairFiles>, Vec<PairFiles>) {
    let mut scenes: Vec<String> = pairs
        .iter()
        .map(|p| p.scene.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let n = scenes.len();
    let n_val = if fraction > 0.0 && n >= 2 {
        ((fraction * n as f64).round() as usize).clamp(1, n - 1)
    } else {
        0
    };
    for i in (1..n).rev() {
        let j = rng.random_range(0..=i);
        scenes.swap(i, j);
    }
    let val: BTreeSet<String> = scenes.into_iter().take(n_val).collect();
    pairs.into_iter().partition(|p| !val.contains(&p.scene))
}

/// One of the 16 flip/rotation combinations (8 distinct dihedral transforms of a square).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Augment {
    pub hflip: bool,
    pub vflip: bool,
    /// Quarter turns.
    pub rot: u8,
}

impl Augment {
    /// Applies the transform to a square planar `[3, c, c]` image.
    pub fn apply(&self, src: &[f32], c: usize) -> Vec<f32> {
        if *self == Augment::default() {
            return src.to_vec();
        }
        let mut out = vec![0.0; src.len()];
        for y in 0..c {
            for x in 0..c {
                let (mut a, mut b) = (y, x);
                for _ in 0..self.rot {
                    (a, b) = (b, c - 1 - a);
                }
                if self.vflip {
                    a = c - 1 - a;
                }
                if self.hflip {
                    b = c - 1 - b;
                }
                for ch in 0..3 {
                    out[ch * c * c + y * c + x] = src[ch * c * c + a * c + b];
                }
            }
        }
        out
    }
}

/// A batch: planar `[n, 3, crop, crop]` hazy and clear crops.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    pub hazy: Vec<f32>,
    pub clear: Vec<f32>,
    pub n: usize,
    pub crop: usize,
    /// How many of the crops were synthesised.
    pub synthetic: usize,
}

/// The state of the data stream: the ChaCha8 stream's key, stream number and word position,
/// and how many synthetic crops were drawn.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SamplerState {
    /// The 32-byte key, hex.
    pub key: String,
    pub stream: u64,
    /// Word position (u128, as decimal text: JSON numbers cannot hold it).
    pub word_pos: String,
    pub synthetic_drawn: u64,
}

/// Draws batches; see the module docs.
#[derive(Clone, Debug)]
pub struct Sampler {
    rng: ChaCha8Rng,
    synthetic_drawn: u64,
}

const DATA_STREAM: u64 = 0x4441_5441_5f42_4154; // "DATA_BAT"
const SPLIT_STREAM: u64 = 0x5641_4c5f_5350_4c54; // "VAL_SPLT"

impl Sampler {
    /// A fresh stream for `seed`.
    pub fn new(seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(DATA_STREAM);
        Self {
            rng,
            synthetic_drawn: 0,
        }
    }

    pub fn state(&self) -> SamplerState {
        SamplerState {
            key: self
                .rng
                .get_seed()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
            stream: self.rng.get_stream(),
            word_pos: self.rng.get_word_pos().to_string(),
            synthetic_drawn: self.synthetic_drawn,
        }
    }

    pub fn from_state(s: &SamplerState) -> Result<Self, DataError> {
        let bad = || DataError(format!("bad data-stream state {s:?}"));
        if s.key.len() != 64 {
            return Err(bad());
        }
        let mut key = [0u8; 32];
        for (i, k) in key.iter_mut().enumerate() {
            *k = u8::from_str_radix(&s.key[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        let mut rng = ChaCha8Rng::from_seed(key);
        rng.set_stream(s.stream);
        rng.set_word_pos(s.word_pos.parse().map_err(|_| bad())?);
        Ok(Self {
            rng,
            synthetic_drawn: s.synthetic_drawn,
        })
    }

    /// The next batch of `n` real hazy crops (the adaptation stage), with what the prior terms
    /// read of each (`crate::losses::priors`): its CLAHE and DCP airlight and, with
    /// `channel_window` (a channel term is on), its dark- and bright-channel transmissions over
    /// that window and its matting weights (left empty otherwise). Panics if there are no real
    /// photos (the config validation prevents it).
    pub fn next_real_batch(
        &mut self,
        data: &TrainData,
        n: usize,
        channel_window: Option<usize>,
    ) -> RealBatch {
        assert!(!data.real.is_empty(), "no real hazy photos loaded");
        let c = data.crop;
        let plans: Vec<(usize, usize, usize, Augment)> = (0..n)
            .map(|_| {
                let i = self.rng.random_range(0..data.real.len());
                let img = &data.real[i];
                let x0 = self.rng.random_range(0..=img.width() - c);
                let y0 = self.rng.random_range(0..=img.height() - c);
                (i, x0, y0, self.augment(data))
            })
            .collect();
        let prior = DarkChannelPrior::default();
        let clahe = Clahe::default();
        let crops: Vec<RealBatch> = plans
            .par_iter()
            .map(|&(i, x0, y0, aug)| {
                let crop = RgbImage::from_planar(
                    c,
                    c,
                    aug.apply(data.real[i].crop(x0, y0, c, c).data(), c),
                );
                let airlight = prior.airlight(&crop);
                let mut one = RealBatch {
                    clahe: clahe.apply_rgb(&crop).data().to_vec(),
                    airlight: airlight.to_vec(),
                    n: 1,
                    crop: c,
                    ..Default::default()
                };
                if let Some(k) = channel_window {
                    one.t_dark = priors::dark_channel_transmission(&crop, airlight, k).into_vec();
                    one.t_bright = priors::bright_channel_transmission(&crop, k).into_vec();
                    one.matting = priors::matting_weights(&crop, priors::MATTING_EPS);
                }
                one.hazy = crop.into_vec();
                one
            })
            .collect();
        let mut b = RealBatch {
            n,
            crop: c,
            ..Default::default()
        };
        for one in crops {
            b.hazy.extend(one.hazy);
            b.clahe.extend(one.clahe);
            b.airlight.extend(one.airlight);
            b.t_dark.extend(one.t_dark);
            b.t_bright.extend(one.t_bright);
            b.matting.extend(one.matting);
        }
        b
    }

    /// A random flip/rotation as the data section allows.
    fn augment(&mut self, data: &TrainData) -> Augment {
        Augment {
            hflip: data.flips && self.rng.random_bool(0.5),
            vflip: data.flips && self.rng.random_bool(0.5),
            rot: if data.rotations {
                self.rng.random_range(0..4u8)
            } else {
                0
            },
        }
    }

    /// The next batch of `n` crops.
    pub fn next_batch(&mut self, data: &TrainData, n: usize) -> Result<Batch, DataError> {
        enum Plan {
            Real { pair: usize, x0: usize, y0: usize },
            Synth { k: u64 },
        }
        let c = data.crop;
        let mut plans = Vec::with_capacity(n);
        for _ in 0..n {
            let synthetic = match (&data.synthetic, data.pairs.is_empty()) {
                (None, _) => false,
                (Some(_), true) => true,
                (Some(_), false) => self.rng.random_bool(data.synthetic_fraction),
            };
            let plan = if synthetic {
                let k = self.synthetic_drawn;
                self.synthetic_drawn += 1;
                Plan::Synth { k }
            } else {
                let pair = self.rng.random_range(0..data.pairs.len());
                let p = &data.pairs[pair];
                let x0 = self.rng.random_range(0..=p.hazy.width() - c);
                let y0 = self.rng.random_range(0..=p.hazy.height() - c);
                Plan::Real { pair, x0, y0 }
            };
            let aug = self.augment(data);
            plans.push((plan, aug));
        }
        let crops: Vec<(Vec<f32>, Vec<f32>)> = plans
            .par_iter()
            .map(|(plan, aug)| {
                let (h, g) = match *plan {
                    Plan::Real { pair, x0, y0 } => {
                        let p = &data.pairs[pair];
                        (p.hazy.crop(x0, y0, c, c), p.clear.crop(x0, y0, c, c))
                    }
                    Plan::Synth { k } => {
                        let ds = data
                            .synthetic
                            .as_ref()
                            .expect("planned only with synthesis");
                        let s = ds.len() as u64;
                        let crop = ds.sample(k / s, (k % s) as usize).map_err(|e| {
                            DataError(format!(
                                "synthesis of crop {k} ({}): {e}",
                                data.scene_names[(k % s) as usize].display()
                            ))
                        })?;
                        (crop.sample.hazy, crop.sample.clear)
                    }
                };
                Ok((aug.apply(h.data(), c), aug.apply(g.data(), c)))
            })
            .collect::<Result<_, DataError>>()?;
        let mut batch = Batch {
            hazy: Vec::with_capacity(n * 3 * c * c),
            clear: Vec::with_capacity(n * 3 * c * c),
            n,
            crop: c,
            synthetic: plans
                .iter()
                .filter(|(p, _)| matches!(p, Plan::Synth { .. }))
                .count(),
        };
        for (h, g) in crops {
            batch.hazy.extend_from_slice(&h);
            batch.clear.extend_from_slice(&g);
        }
        Ok(batch)
    }
}

/// A batch of real hazy crops, planar `[n, 3, crop, crop]`, with what the adaptation terms
/// need of each crop: its CLAHE ([`dehaze_core::filters::clahe`], per channel) and its DCP
/// airlight.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RealBatch {
    /// `[n, 3, crop, crop]`.
    pub hazy: Vec<f32>,
    /// CLAHE of each crop, `[n, 3, crop, crop]`.
    pub clahe: Vec<f32>,
    /// DCP's airlight, `[n, 3]`.
    pub airlight: Vec<f32>,
    /// The dark- and bright-channel transmissions, `[n, 1, crop, crop]` each (empty when no
    /// channel term is on).
    pub t_dark: Vec<f32>,
    pub t_bright: Vec<f32>,
    /// The matting weights, `[n, 36, crop − 2, crop − 2]` (empty when no channel term is on).
    pub matting: Vec<f32>,
    pub n: usize,
    pub crop: usize,
}

/// Image files under `dir` and its sub-folders, sorted by path.
fn list_images_recursive(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let mut files = list_images(dir)?;
    let mut subdirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| DataError(format!("{}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    subdirs.sort();
    for d in subdirs {
        files.extend(list_images_recursive(&d)?);
    }
    Ok(files)
}

/// Loads the real hazy photos of `dirs` (recursively). Photos smaller than the crop are
/// skipped and counted (a real collection has a few thumbnails); a folder without any usable
/// photo is an error.
pub fn load_real_hazy(dirs: &[PathBuf], crop: usize) -> Result<(Vec<RgbImage>, usize), DataError> {
    let mut files = Vec::new();
    for d in dirs {
        if !d.is_dir() {
            return err(format!("{}: not a folder (data.real_hazy)", d.display()));
        }
        let f = list_images_recursive(d)?;
        if f.is_empty() {
            return err(format!("{}: no images (data.real_hazy)", d.display()));
        }
        files.extend(f);
    }
    let images = files
        .par_iter()
        .map(|f| read_rgb(f).map_err(|e| DataError(format!("{}: {e}", f.display()))))
        .collect::<Result<Vec<_>, _>>()?;
    let n = images.len();
    let usable: Vec<RgbImage> = images
        .into_iter()
        .filter(|i| i.width() >= crop && i.height() >= crop)
        .collect();
    if usable.is_empty() && n > 0 {
        return err(format!(
            "data.real_hazy: none of the {n} photos is at least {crop}×{crop} (data.crop)"
        ));
    }
    let skipped = n - usable.len();
    Ok((usable, skipped))
}

/// Everything the batches are drawn from.
#[derive(Debug)]
pub struct TrainData {
    pub pairs: Vec<ImagePair>,
    /// Unlabeled real hazy photos (the adaptation stage), at least `crop` on each side.
    pub real: Vec<RgbImage>,
    /// Real hazy photos left out for being smaller than the crop.
    pub real_skipped: usize,
    pub synthetic: Option<CropDataset>,
    /// The clean image of each synthesis scene (for messages).
    pub scene_names: Vec<PathBuf>,
    pub synthetic_fraction: f64,
    pub crop: usize,
    pub flips: bool,
    pub rotations: bool,
}

/// The held-out pairs, centre-cropped to the validation size.
#[derive(Debug)]
pub struct ValidationSet {
    pub pairs: Vec<ImagePair>,
}

/// Loads the clean images (and depth maps) of the synthetic sources.
fn load_scenes(
    sources: &[SyntheticSource],
    crop: usize,
) -> Result<(Vec<Scene>, Vec<PathBuf>), DataError> {
    let mut jobs = Vec::new();
    for s in sources {
        if !s.clean.is_dir() {
            return err(format!(
                "{}: not a folder (data.synthetic.clean)",
                s.clean.display()
            ));
        }
        let depth: BTreeMap<String, PathBuf> = match &s.depth {
            Some(d) if !d.is_dir() => {
                return err(format!(
                    "{}: not a folder (data.synthetic.depth)",
                    d.display()
                ))
            }
            Some(d) => list_images(d)?.into_iter().map(|p| (stem(&p), p)).collect(),
            None => BTreeMap::new(),
        };
        let encoding = s.depth_kind;
        let files = list_images(&s.clean)?;
        if files.is_empty() {
            return err(format!("{}: no images", s.clean.display()));
        }
        for f in files {
            let d = depth.get(&stem(&f)).cloned();
            jobs.push((f, d, encoding));
        }
    }
    let scenes = jobs
        .par_iter()
        .map(|(f, d, enc)| {
            let clean = read_rgb(f)?;
            if clean.width() < crop || clean.height() < crop {
                return err(format!(
                    "{} is {}×{}, smaller than data.crop = {crop}",
                    f.display(),
                    clean.width(),
                    clean.height()
                ));
            }
            let depth = match d {
                Some(p) => {
                    let m = load_normalised_depth(p, &DepthFormat::generic(*enc))
                        .map_err(|e| DataError(format!("depth map {e}")))?;
                    if (m.width(), m.height()) != (clean.width(), clean.height()) {
                        return err(format!(
                            "depth map {} is {}×{} but {} is {}×{}",
                            p.display(),
                            m.width(),
                            m.height(),
                            f.display(),
                            clean.width(),
                            clean.height()
                        ));
                    }
                    Some(m)
                }
                None => None,
            };
            Ok(Scene { clean, depth })
        })
        .collect::<Result<Vec<_>, DataError>>()?;
    Ok((scenes, jobs.into_iter().map(|(f, _, _)| f).collect()))
}

/// Builds the training data and the validation set of a config.
pub fn prepare(config: &TrainConfig) -> Result<(TrainData, ValidationSet), DataError> {
    let d = &config.data;
    let crop = d.crop;
    let mut split_rng = ChaCha8Rng::seed_from_u64(config.train.seed);
    split_rng.set_stream(SPLIT_STREAM);
    let mut train_files = Vec::new();
    let mut val_files = Vec::new();
    for dir in &d.pairs {
        let (t, v) = split_by_scene(
            discover_pairs(dir)?,
            config.validation.fraction,
            &mut split_rng,
        );
        train_files.extend(t);
        val_files.extend(v);
    }
    for dir in &config.validation.pairs {
        val_files.extend(discover_pairs(dir)?);
    }
    let pairs = load_pairs(&train_files)?;
    if let Some(p) = pairs
        .iter()
        .find(|p| p.hazy.width() < crop || p.hazy.height() < crop)
    {
        return err(format!(
            "{} is {}×{}, smaller than data.crop = {crop}",
            p.name.display(),
            p.hazy.width(),
            p.hazy.height()
        ));
    }
    let (synthetic, scene_names) = if d.synthetic.is_empty() {
        (None, Vec::new())
    } else {
        let mut sc = match &d.synth_config {
            Some(p) => SynthConfig::from_file(p).map_err(|e| DataError(e.to_string()))?,
            None => SynthConfig::default(),
        };
        sc.seed = config.train.seed;
        let (scenes, names) = load_scenes(&d.synthetic, crop)?;
        let ds = CropDataset::new(scenes, sc, crop).map_err(|e| DataError(e.to_string()))?;
        (Some(ds), names)
    };
    if pairs.is_empty() && synthetic.is_none() {
        return err("no training data: every pair was held out for validation");
    }
    let uses_real = config.adapt.as_ref().is_some_and(|a| a.uses_real());
    let (real, real_skipped) = if uses_real {
        load_real_hazy(&d.real_hazy, crop)?
    } else {
        (Vec::new(), 0)
    };
    let m = 16;
    let vc = config.validation.crop;
    // Images too small for the network are left out (DHR: none but those under 16 px).
    let min_side = config.model.network().min_side().max(1);
    let val = load_pairs(&val_files)?
        .into_iter()
        .filter_map(|p| {
            let (w, h) = (p.hazy.width(), p.hazy.height());
            let (cw, ch) = (vc.min(w - w % m), vc.min(h - h % m));
            if cw < min_side || ch < min_side {
                return None;
            }
            let (x0, y0) = ((w - cw) / 2, (h - ch) / 2);
            Some(ImagePair {
                hazy: p.hazy.crop(x0, y0, cw, ch),
                clear: p.clear.crop(x0, y0, cw, ch),
                ..p
            })
        })
        .collect();
    Ok((
        TrainData {
            // With no synthesis every crop is real, whatever the fraction says.
            synthetic_fraction: if pairs.is_empty() {
                1.0
            } else {
                d.synthetic_fraction
            },
            pairs,
            real,
            real_skipped,
            synthetic,
            scene_names,
            crop,
            flips: d.flips,
            rotations: d.rotations,
        },
        ValidationSet { pairs: val },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch_png(path: &Path, w: u32, h: u32, v: u8) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([v, (x * 7 % 256) as u8, (y * 5 % 256) as u8])
        })
        .save(path)
        .unwrap();
    }

    #[test]
    fn reside_layouts_pair_by_stem_or_by_id() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("SOTS");
        touch_png(&d.join("hazy/0001_0.8_0.1.png"), 8, 8, 1);
        touch_png(&d.join("hazy/0001_0.9_0.2.png"), 8, 8, 2);
        touch_png(&d.join("hazy/0007_heavy.png"), 8, 8, 3);
        touch_png(&d.join("clear/0001.png"), 8, 8, 4);
        touch_png(&d.join("clear/0007_heavy.png"), 8, 8, 5);
        let p = discover_pairs(&d).unwrap();
        assert_eq!(p.len(), 3);
        assert!(p[0].clear.ends_with("clear/0001.png"));
        assert!(p[1].clear.ends_with("clear/0001.png"));
        assert!(p[2].clear.ends_with("clear/0007_heavy.png"));
        assert_eq!(p[0].scene, "SOTS/0001");
        assert_eq!(p[2].scene, "SOTS/0007");
        // A hazy image without a clear one is an error naming it.
        touch_png(&d.join("hazy/0009_1.png"), 8, 8, 6);
        let e = discover_pairs(&d).unwrap_err().to_string();
        assert!(
            e.contains("0009_1.png") && e.contains("no clear image"),
            "{e}"
        );
    }

    #[test]
    fn ohaze_layout_pairs_hazy_with_gt() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("O-HAZE");
        touch_png(&d.join("hazy/01_outdoor_hazy.png"), 8, 8, 1);
        touch_png(&d.join("GT/01_outdoor_GT.png"), 8, 8, 2);
        touch_png(&d.join("02_outdoor_hazy.png"), 8, 8, 3);
        touch_png(&d.join("02_outdoor_GT.png"), 8, 8, 4);
        let p = discover_pairs(&d).unwrap();
        assert_eq!(p.len(), 2);
        assert!(p[0].clear.ends_with("GT/01_outdoor_GT.png"));
        assert_eq!(p[1].scene, "O-HAZE/02");
        let empty = t.path().join("empty");
        std::fs::create_dir_all(&empty).unwrap();
        let e = discover_pairs(&empty).unwrap_err().to_string();
        assert!(e.contains("no pairs found"), "{e}");
    }

    #[test]
    fn split_keeps_scenes_together_and_is_seeded() {
        let files: Vec<PairFiles> = (0..10)
            .flat_map(|s| {
                ["heavy", "light"].map(|k| PairFiles {
                    hazy: format!("{s}_{k}").into(),
                    clear: format!("{s}").into(),
                    scene: format!("f/{s}"),
                })
            })
            .collect();
        let run = |seed: u64| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            split_by_scene(files.clone(), 0.2, &mut rng)
        };
        let (t, v) = run(1);
        assert_eq!((t.len(), v.len()), (16, 4));
        for p in &v {
            assert!(
                !t.iter().any(|q| q.scene == p.scene),
                "scene {} on both sides",
                p.scene
            );
        }
        assert_eq!(run(1), (t, v.clone()));
        assert!((0..20).any(|s| run(s).1 != v), "the split ignores the seed");
        // One scene: nothing can be held out.
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let (t, v) = split_by_scene(files[..2].to_vec(), 0.5, &mut rng);
        assert_eq!((t.len(), v.len()), (2, 0));
    }

    #[test]
    fn augmentations_are_the_eight_symmetries_of_the_square() {
        let c = 3;
        let src: Vec<f32> = (0..3 * c * c).map(|i| i as f32).collect();
        let mut seen = BTreeSet::new();
        for h in [false, true] {
            for v in [false, true] {
                for rot in 0..4 {
                    let out = Augment {
                        hflip: h,
                        vflip: v,
                        rot,
                    }
                    .apply(&src, c);
                    // A permutation of the pixels, the same for every channel.
                    let mut sorted = out.clone();
                    sorted.sort_by(f32::total_cmp);
                    assert_eq!(sorted, src);
                    for ch in 1..3 {
                        for i in 0..c * c {
                            assert_eq!(out[ch * c * c + i], out[i] + (ch * c * c) as f32);
                        }
                    }
                    seen.insert(out.iter().map(|v| *v as u32).collect::<Vec<_>>());
                }
            }
        }
        assert_eq!(seen.len(), 8);
        // One quarter turn moves the top-left pixel to a corner other than where it started.
        let r = Augment {
            rot: 1,
            ..Default::default()
        }
        .apply(&src, c);
        assert_ne!(r[0], src[0]);
    }

    #[test]
    fn sampler_state_round_trips_mid_stream() {
        let mut a = Sampler::new(9);
        for _ in 0..37 {
            a.rng.random::<u32>();
        }
        a.synthetic_drawn = 5;
        let mut b = Sampler::from_state(&a.state()).unwrap();
        assert_eq!(b.synthetic_drawn, 5);
        for _ in 0..10 {
            assert_eq!(a.rng.random::<u64>(), b.rng.random::<u64>());
        }
        let mut bad = a.state();
        bad.key = "zz".into();
        assert!(Sampler::from_state(&bad).is_err());
    }
}
