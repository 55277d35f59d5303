//! Hazy/clear training pairs for AHG: listing, loading, random crops and flips.
//!
//! A pair folder holds `hazy/` and `clear/`, paired by the toolkit's one rule
//! ([`dehaze_core::pairing`]: same stem, extensions may differ — SOTS-outdoor pairs a `.jpg`
//! hazy image with a `.png` ground truth — or RESIDE's `<id>_<A>_<β>` ↔ `<id>`). A root given
//! to [`list_pairs`] is either such a folder or a folder of them (e.g. `shared/data/more/paired`).
//!
//! A training crop takes the same window of both images and, with probability ½, mirrors both
//! left–right. Vertical flips are not used: haze has a vertical structure (sky and far
//! scene on top) that an upside-down sample would contradict.

use dehaze_core::io::{self, ReadOptions};
use dehaze_core::RgbImage;
use rand::RngExt;

use std::path::{Path, PathBuf};

/// A data problem; the message names the file or folder.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", path.display())]
pub struct DataError {
    pub path: PathBuf,
    pub reason: String,
}

fn data_error(path: &Path, reason: impl Into<String>) -> DataError {
    DataError {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// `(hazy, clear)` paths under `root`, sorted: `root` is a pair folder or a folder of them,
/// each paired by the toolkit's one rule ([`dehaze_core::pairing::pair_folder`]; a hazy image
/// without a clear one is an error naming it). Errors if `root` holds no pair at all.
pub fn list_pairs(root: &Path) -> Result<Vec<(PathBuf, PathBuf)>, DataError> {
    let is_pair_folder = |d: &Path| d.join("hazy").is_dir() && d.join("clear").is_dir();
    let mut dirs = Vec::new();
    if is_pair_folder(root) {
        dirs.push(root.to_path_buf());
    } else {
        let entries = std::fs::read_dir(root).map_err(|e| data_error(root, e.to_string()))?;
        let mut subs: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| is_pair_folder(p))
            .collect();
        subs.sort();
        dirs.extend(subs);
    }
    let mut pairs = Vec::new();
    for d in dirs {
        let found = dehaze_core::pairing::pair_folder(&d).map_err(|reason| DataError {
            path: d.clone(),
            reason,
        })?;
        pairs.extend(found.into_iter().map(|p| (p.hazy, p.clear)));
    }
    if pairs.is_empty() {
        return Err(data_error(
            root,
            "no hazy/clear pairs (expected hazy/ and clear/ with matching file names)",
        ));
    }
    Ok(pairs)
}

/// One loaded pair.
#[derive(Debug, Clone)]
pub struct Pair {
    pub hazy: RgbImage,
    pub clear: RgbImage,
}

/// Reads a pair; the two images must have the same size.
pub fn load_pair(hazy: &Path, clear: &Path) -> Result<Pair, DataError> {
    let read = |p: &Path| {
        io::read_image(p, &ReadOptions::default())
            .map(|d| d.rgb)
            .map_err(|e| data_error(p, e.reason))
    };
    let (h, c) = (read(hazy)?, read(clear)?);
    if (h.width(), h.height()) != (c.width(), c.height()) {
        return Err(data_error(
            hazy,
            format!(
                "is {}×{} but its clear image {} is {}×{}",
                h.width(),
                h.height(),
                clear.display(),
                c.width(),
                c.height()
            ),
        ));
    }
    Ok(Pair { hazy: h, clear: c })
}

/// The `size × size` window at `(x0, y0)` of `img`, optionally mirrored left–right, appended
/// to `out` as planar RGB (the `[3, size, size]` slab of an NCHW batch).
pub fn push_crop(
    img: &RgbImage,
    x0: usize,
    y0: usize,
    size: usize,
    mirror: bool,
    out: &mut Vec<f32>,
) {
    let w = img.width();
    for p in img.planes() {
        for y in y0..y0 + size {
            let row = &p[y * w + x0..y * w + x0 + size];
            if mirror {
                out.extend(row.iter().rev());
            } else {
                out.extend_from_slice(row);
            }
        }
    }
}

/// A batch of `n` aligned random crops: `(clear, hazy)` as flat NCHW `[n, 3, size, size]`
/// buffers. Pairs are drawn uniformly with replacement; `size` must fit every pair.
pub fn random_batch<R: rand::Rng>(
    pairs: &[Pair],
    n: usize,
    size: usize,
    rng: &mut R,
) -> (Vec<f32>, Vec<f32>) {
    let mut clear = Vec::with_capacity(n * 3 * size * size);
    let mut hazy = Vec::with_capacity(n * 3 * size * size);
    for _ in 0..n {
        let p = &pairs[rng.random_range(0..pairs.len())];
        let (w, h) = (p.clear.width(), p.clear.height());
        assert!(size <= w && size <= h, "crop {size} does not fit {w}×{h}");
        let x0 = rng.random_range(0..=w - size);
        let y0 = rng.random_range(0..=h - size);
        let mirror = rng.random_bool(0.5);
        push_crop(&p.clear, x0, y0, size, mirror, &mut clear);
        push_crop(&p.hazy, x0, y0, size, mirror, &mut hazy);
    }
    (clear, hazy)
}
