//! STUB: image I/O (being implemented on main; the signatures below are the API).
use crate::buffer::{Plane, RgbImage};
use std::path::{Path, PathBuf};

/// Errors reading or writing an image; `Display` names the file and the reason.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    #[error("{path}: {reason}")]
    Image { path: PathBuf, reason: String },
}

/// Options for [`read_image`].
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Refuse images with more pixels than this, before decoding (default 100 MP).
    pub max_pixels: u64,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            max_pixels: 100_000_000,
        }
    }
}

/// What the file was, so that the output can be written back the same way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceInfo {
    /// The file had one colour channel (grey or grey+alpha).
    pub grey: bool,
    /// Bits per sample of the source: 8 or 16 (float sources count as 16).
    pub bit_depth: u8,
}

/// A decoded image: colour as planar RGB in `[0,1]`, the alpha channel apart.
#[derive(Clone, Debug)]
pub struct Decoded {
    pub rgb: RgbImage,
    pub alpha: Option<Plane>,
    pub info: SourceInfo,
}

/// Options for [`write_image`].
#[derive(Clone, Debug)]
pub struct WriteOptions {
    /// JPEG quality, 1–100 (default 95).
    pub jpeg_quality: u8,
}

impl Default for WriteOptions {
    fn default() -> Self {
        Self { jpeg_quality: 95 }
    }
}

/// Reads an image file (PNG, JPEG, TIFF, WebP, BMP), applying EXIF orientation.
pub fn read_image(path: &Path, opts: &ReadOptions) -> Result<Decoded, IoError> {
    let _ = (path, opts);
    unimplemented!()
}

/// Writes `img` to `path` atomically (temp file + rename), format from the extension.
pub fn write_image(path: &Path, img: &Decoded, opts: &WriteOptions) -> Result<(), IoError> {
    let _ = (path, img, opts);
    unimplemented!()
}
