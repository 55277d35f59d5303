//! Readers for depth and disparity maps, hole filling, and normalisation to `[0, 1]` depth.
//!
//! Supported encodings (see `shared/data/depth/README.md`):
//!
//! | data set | file | value → unit | invalid |
//! |---|---|---|---|
//! | Middlebury | 8-bit grey PNG | disparity px = value / `disp_scale` (per file, from `index.csv`) | 0 |
//! | ETH3D two-view | 16-bit grey PNG | disparity px = value / 256 | 0 |
//! | Kinect (ESANet sample) | 16-bit grey PNG | depth (probably mm) = value | 0 and 65535 |
//!
//! A PNG stored as RGB with R = G = B is read through its first channel.
//!
//! **From map to normalised depth** ([`normalised_depth`]):
//! 1. *Fill* the invalid pixels in the map's own domain (disparity for stereo maps) by
//!    push–pull inpainting: build a pyramid of validity-weighted 2×2 means
//!    (`v_{l+1} = Σ w·v / Σ w`, `w_{l+1} = Σ w / 4`) until no hole is left, then go back down,
//!    replacing each pixel by `w·v + (1−w)·up(v_{l+1})` with `up` bilinear. Every hole gets a
//!    weighted mean of the nearest valid values at the scale of the hole; a few Jacobi sweeps
//!    of a 3×3 box mean over the filled pixels only (valid ones fixed) then smooth out the
//!    pyramid's blockiness. Limitation: a region with no measurement at all (e.g. the sky in
//!    ETH3D, where stereo finds no texture) takes the depth of its surroundings, not infinity,
//!    so it is rendered with less haze than it should get.
//! 2. *Convert*: depth `D = 1/disparity` (the scale factor and baseline only multiply `D` and
//!    cancel in step 3, so relative depth suffices); depth maps are used as they are.
//! 3. *Normalise* robustly: `d = clamp((D − D_lo)/(D_hi − D_lo), 0, 1)` with `D_lo`, `D_hi` the
//!    0.5th and 99.5th percentiles, so that a few outliers do not squash the range.

use crate::buffer::Plane;
use std::path::{Path, PathBuf};

/// An error reading a depth map or the index; `Display` names the file and the reason.
#[derive(Debug, thiserror::Error)]
pub enum DepthError {
    #[error("{path}: {reason}")]
    File { path: PathBuf, reason: String },
}

fn file_err(path: &Path, reason: impl ToString) -> DepthError {
    DepthError::File {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Whether a map holds depth or disparity (∝ 1/depth): `depth_kind` in configs,
/// `--depth-kind` on the command line, by [`DepthEncoding::NAMES`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DepthEncoding {
    /// Depth (any unit), 0 and 65535 = unknown.
    Depth,
    /// Stereo disparity (depth ∝ 1/disparity), 0 = unknown.
    #[default]
    Disparity,
}

impl DepthEncoding {
    /// The names, as configs and flags write them.
    pub const NAMES: [&'static str; 2] = ["disparity", "depth"];

    /// Parses a name of [`DepthEncoding::NAMES`].
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "disparity" => Some(Self::Disparity),
            "depth" => Some(Self::Depth),
            _ => None,
        }
    }
}

/// How to turn the integer samples of a map file into depth or disparity.
#[derive(Clone, Debug, PartialEq)]
pub struct DepthFormat {
    pub encoding: DepthEncoding,
    /// Physical value = raw sample / `scale`.
    pub scale: f32,
    /// Raw sample values that mean "unknown".
    pub invalid: Vec<u16>,
}

impl DepthFormat {
    /// Middlebury 8-bit disparity: `value / scale`, 0 = unknown.
    pub fn middlebury(scale: f32) -> Self {
        Self {
            encoding: DepthEncoding::Disparity,
            scale,
            invalid: vec![0],
        }
    }

    /// ETH3D 16-bit disparity: `value / 256`, 0 = invalid.
    pub fn eth3d() -> Self {
        Self {
            encoding: DepthEncoding::Disparity,
            scale: 256.0,
            invalid: vec![0],
        }
    }

    /// Kinect 16-bit depth: 0 and 65535 are invalid.
    pub fn kinect() -> Self {
        Self {
            encoding: DepthEncoding::Depth,
            scale: 1.0,
            invalid: vec![0, 65535],
        }
    }

    /// A generic map: 0 invalid, and for 16-bit depth 65535 too.
    pub fn generic(encoding: DepthEncoding) -> Self {
        Self {
            encoding,
            scale: 1.0,
            invalid: match encoding {
                DepthEncoding::Depth => vec![0, 65535],
                DepthEncoding::Disparity => vec![0],
            },
        }
    }
}

/// A map in physical units (disparity px or depth), with its validity mask.
#[derive(Clone, Debug)]
pub struct RawMap {
    pub encoding: DepthEncoding,
    pub values: Plane,
    pub valid: Vec<bool>,
}

impl RawMap {
    /// Fraction of valid pixels.
    pub fn valid_fraction(&self) -> f32 {
        self.valid.iter().filter(|&&v| v).count() as f32 / self.valid.len().max(1) as f32
    }
}

/// Converts raw integer samples into a [`RawMap`].
pub fn raw_map_from_samples(width: usize, height: usize, raw: &[u16], fmt: &DepthFormat) -> RawMap {
    let scale = if fmt.scale > 0.0 { fmt.scale } else { 1.0 };
    let valid: Vec<bool> = raw.iter().map(|v| !fmt.invalid.contains(v)).collect();
    let values = raw
        .iter()
        .zip(&valid)
        .map(|(&v, &ok)| if ok { v as f32 / scale } else { 0.0 })
        .collect();
    RawMap {
        encoding: fmt.encoding,
        values: Plane::from_vec(width, height, values),
        valid,
    }
}

/// Reads an 8- or 16-bit PNG (or any format the `image` crate decodes) as a raw map.
pub fn read_raw_map(path: &Path, fmt: &DepthFormat) -> Result<RawMap, DepthError> {
    let img = image::open(path).map_err(|e| file_err(path, e))?;
    let (w, h) = (img.width() as usize, img.height() as usize);
    use image::DynamicImage as D;
    let raw: Vec<u16> = match &img {
        D::ImageLuma8(b) => b.as_raw().iter().map(|&v| v as u16).collect(),
        D::ImageLumaA8(b) => b.as_raw().iter().step_by(2).map(|&v| v as u16).collect(),
        D::ImageRgb8(b) => b.as_raw().iter().step_by(3).map(|&v| v as u16).collect(),
        D::ImageRgba8(b) => b.as_raw().iter().step_by(4).map(|&v| v as u16).collect(),
        D::ImageLuma16(b) => b.as_raw().clone(),
        D::ImageLumaA16(b) => b.as_raw().iter().step_by(2).copied().collect(),
        D::ImageRgb16(b) => b.as_raw().iter().step_by(3).copied().collect(),
        D::ImageRgba16(b) => b.as_raw().iter().step_by(4).copied().collect(),
        other => {
            return Err(file_err(
                path,
                format!("unsupported depth-map pixel format {:?}", other.color()),
            ))
        }
    };
    if w == 0 || h == 0 {
        return Err(file_err(path, "empty depth map"));
    }
    Ok(raw_map_from_samples(w, h, &raw, fmt))
}

/// Fills the invalid pixels of `values` (see the module doc: push–pull, then Jacobi
/// smoothing of the filled pixels). Returns `false`, leaving `values` untouched, if no pixel
/// is valid.
pub fn fill_invalid(values: &mut Plane, valid: &[bool]) -> bool {
    let (w, h) = (values.width(), values.height());
    if !valid.iter().any(|&v| v) {
        return false;
    }
    if valid.iter().all(|&v| v) {
        return true;
    }
    // Pyramid of (weight·value, weight) levels.
    let mut levels: Vec<(usize, usize, Vec<f32>, Vec<f32>)> = Vec::new();
    let v0: Vec<f32> = values.data().to_vec();
    let w0: Vec<f32> = valid.iter().map(|&b| if b { 1.0 } else { 0.0 }).collect();
    levels.push((w, h, v0, w0));
    loop {
        let (lw, lh, lv, lwt) = levels.last().expect("non-empty");
        if lwt.iter().all(|&x| x > 0.0) || (*lw == 1 && *lh == 1) {
            break;
        }
        let (nw, nh) = (lw.div_ceil(2), lh.div_ceil(2));
        let mut nv = vec![0.0f32; nw * nh];
        let mut nwt = vec![0.0f32; nw * nh];
        for y in 0..nh {
            for x in 0..nw {
                let (mut s, mut sw) = (0.0f32, 0.0f32);
                for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    let (xx, yy) = ((2 * x + dx).min(lw - 1), (2 * y + dy).min(lh - 1));
                    let i = yy * lw + xx;
                    s += lwt[i] * lv[i];
                    sw += lwt[i];
                }
                let i = y * nw + x;
                nv[i] = if sw > 0.0 { s / sw } else { 0.0 };
                nwt[i] = (sw / 4.0).min(1.0);
            }
        }
        levels.push((nw, nh, nv, nwt));
    }
    // Pull: blend each level with the bilinear upsampling of the (filled) coarser one.
    for l in (0..levels.len() - 1).rev() {
        let (cw, ch, cv) = {
            let c = &levels[l + 1];
            (c.0, c.1, c.2.clone())
        };
        let (lw, lh, lv, lwt) = &mut levels[l];
        for y in 0..*lh {
            let fy = ((y as f32 + 0.5) / 2.0 - 0.5).clamp(0.0, (ch - 1) as f32);
            let (y0, ty) = (fy.floor() as usize, fy - fy.floor());
            let y1 = (y0 + 1).min(ch - 1);
            for x in 0..*lw {
                let i = y * *lw + x;
                if lwt[i] >= 1.0 {
                    continue;
                }
                let fx = ((x as f32 + 0.5) / 2.0 - 0.5).clamp(0.0, (cw - 1) as f32);
                let (x0, tx) = (fx.floor() as usize, fx - fx.floor());
                let x1 = (x0 + 1).min(cw - 1);
                let top = cv[y0 * cw + x0] * (1.0 - tx) + cv[y0 * cw + x1] * tx;
                let bot = cv[y1 * cw + x0] * (1.0 - tx) + cv[y1 * cw + x1] * tx;
                let up = top * (1.0 - ty) + bot * ty;
                lv[i] = lwt[i] * lv[i] + (1.0 - lwt[i]) * up;
                lwt[i] = 1.0;
            }
        }
    }
    let mut filled = std::mem::take(&mut levels[0].2);
    // Jacobi smoothing of the filled pixels only.
    let holes: Vec<usize> = (0..w * h).filter(|&i| !valid[i]).collect();
    let mut next = filled.clone();
    for _ in 0..8 {
        for &i in &holes {
            let (x, y) = (i % w, i / w);
            let (mut s, mut k) = (0.0f32, 0);
            for yy in y.saturating_sub(1)..=(y + 1).min(h - 1) {
                for xx in x.saturating_sub(1)..=(x + 1).min(w - 1) {
                    s += filled[yy * w + xx];
                    k += 1;
                }
            }
            next[i] = s / k as f32;
        }
        std::mem::swap(&mut filled, &mut next);
        next.copy_from_slice(&filled);
    }
    values.data_mut().copy_from_slice(&filled);
    true
}

/// The `q`-quantile (0..=1) of `data` by selection.
fn quantile(data: &[f32], q: f32) -> f32 {
    let mut v: Vec<f32> = data.to_vec();
    let k = ((v.len() - 1) as f32 * q.clamp(0.0, 1.0)).round() as usize;
    let (_, x, _) = v.select_nth_unstable_by(k, |a, b| a.total_cmp(b));
    *x
}

/// Fills holes, converts disparity to depth and normalises to `[0, 1]` (module doc).
/// Errors if the map has no valid pixel.
pub fn normalised_depth(map: &RawMap) -> Result<Plane, String> {
    let mut values = map.values.clone();
    // Non-positive or non-finite "valid" samples cannot be inverted: treat them as holes.
    let valid: Vec<bool> = map
        .valid
        .iter()
        .zip(values.data())
        .map(|(&ok, &v)| ok && v.is_finite() && v > 0.0)
        .collect();
    if !fill_invalid(&mut values, &valid) {
        return Err("the map has no valid pixel".into());
    }
    if map.encoding == DepthEncoding::Disparity {
        values
            .data_mut()
            .iter_mut()
            .for_each(|v| *v = 1.0 / v.max(1e-6));
    }
    let lo = quantile(values.data(), 0.005);
    let hi = quantile(values.data(), 0.995);
    let span = hi - lo;
    values.data_mut().iter_mut().for_each(|v| {
        *v = if span > 0.0 {
            ((*v - lo) / span).clamp(0.0, 1.0)
        } else {
            0.0
        }
    });
    Ok(values)
}

/// Reads a map file and returns its normalised depth.
pub fn load_normalised_depth(path: &Path, fmt: &DepthFormat) -> Result<Plane, DepthError> {
    let raw = read_raw_map(path, fmt)?;
    normalised_depth(&raw).map_err(|e| file_err(path, e))
}

/// One row of `shared/data/depth/index.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct DepthIndexEntry {
    pub dataset: String,
    pub name: String,
    /// Absolute (index-relative paths are resolved against the index's folder).
    pub rgb: PathBuf,
    pub depth: PathBuf,
    pub format: DepthFormat,
}

/// Splits one CSV line, honouring double quotes (`""` inside quotes is a quote).
fn split_csv_line(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Reads the depth index (`dataset,name,rgb,depth,kind,…,disp_scale,…,depth_dtype,…` with a
/// header row). The format per row: `kind = disparity` with `disp_scale` → disparity
/// `value/disp_scale` (0 invalid; ETH3D's 256 comes from the same column); `kind = depth` →
/// depth with 0 and 65535 invalid.
pub fn read_depth_index(path: &Path) -> Result<Vec<DepthIndexEntry>, DepthError> {
    let text = std::fs::read_to_string(path).map_err(|e| file_err(path, e))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = split_csv_line(lines.next().ok_or_else(|| file_err(path, "empty index"))?);
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| file_err(path, format!("missing column `{name}`")))
    };
    let (c_ds, c_name, c_rgb, c_depth, c_kind, c_scale) = (
        col("dataset")?,
        col("name")?,
        col("rgb")?,
        col("depth")?,
        col("kind")?,
        col("disp_scale")?,
    );
    let mut out = Vec::new();
    for (row, line) in lines.enumerate() {
        let f = split_csv_line(line);
        let get = |c: usize| {
            f.get(c)
                .map(|s| s.trim().to_string())
                .ok_or_else(|| file_err(path, format!("row {}: too few columns", row + 2)))
        };
        let kind = get(c_kind)?;
        let format = match kind.as_str() {
            "disparity" => {
                let s = get(c_scale)?;
                let scale: f32 = s.parse().map_err(|_| {
                    file_err(path, format!("row {}: bad disp_scale `{s}`", row + 2))
                })?;
                if scale.is_nan() || scale <= 0.0 {
                    return Err(file_err(
                        path,
                        format!("row {}: disp_scale must be > 0", row + 2),
                    ));
                }
                DepthFormat::middlebury(scale)
            }
            "depth" => DepthFormat::kinect(),
            k => {
                return Err(file_err(
                    path,
                    format!("row {}: unknown kind `{k}`", row + 2),
                ))
            }
        };
        out.push(DepthIndexEntry {
            dataset: get(c_ds)?,
            name: get(c_name)?,
            rgb: base.join(get(c_rgb)?),
            depth: base.join(get(c_depth)?),
            format,
        });
    }
    Ok(out)
}
