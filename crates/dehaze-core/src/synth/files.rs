//! Minimal file helpers for synthesis: 8-bit RGB and 16-bit grey PNG output written
//! atomically (a temporary file in the destination folder, then a rename, so an interrupted
//! run never leaves a truncated image under the final name), and reading an RGB image.
//!
//! These use the `image` crate directly; they do not apply EXIF orientation or keep alpha
//! (the general-purpose reader and writer are in [`crate::io`]).

use super::degradations::to_rgb8;
use crate::buffer::{Plane, RgbImage};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A file error naming the file and the reason.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct FileError {
    pub path: PathBuf,
    pub reason: String,
}

fn err(path: &Path, reason: impl ToString) -> FileError {
    FileError {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Reads any image the `image` crate decodes as RGB in `[0,1]` (16-bit sources keep their
/// precision; grey is replicated).
pub fn load_rgb(path: &Path) -> Result<RgbImage, FileError> {
    let img = image::open(path).map_err(|e| err(path, e))?;
    let (w, h) = (img.width() as usize, img.height() as usize);
    if w == 0 || h == 0 {
        return Err(err(path, "empty image"));
    }
    let rgb = img.to_rgb32f();
    Ok(RgbImage::from_interleaved(w, h, rgb.as_raw()))
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".dehaze-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| err(path, e))?;
    tmp.write_all(bytes).map_err(|e| err(path, e))?;
    tmp.as_file().sync_all().map_err(|e| err(path, e))?;
    tmp.persist(path).map_err(|e| err(path, e.error))?;
    Ok(())
}

/// Encodes an 8-bit RGB PNG (rounded) and writes it atomically.
pub fn save_png_atomic(path: &Path, img: &RgbImage) -> Result<(), FileError> {
    use image::ImageEncoder;
    let mut bytes = Vec::new();
    image::codecs::png::PngEncoder::new(&mut bytes)
        .write_image(
            &to_rgb8(img),
            img.width() as u32,
            img.height() as u32,
            image::ExtendedColorType::Rgb8,
        )
        .map_err(|e| err(path, e))?;
    write_atomic(path, &bytes)
}

/// Encodes a plane in `[0,1]` as a 16-bit grey PNG (`round(v·65535)`) and writes it atomically.
pub fn save_plane_png16_atomic(path: &Path, plane: &Plane) -> Result<(), FileError> {
    use image::ImageEncoder;
    let raw: Vec<u8> = plane
        .data()
        .iter()
        .flat_map(|v| ((v.clamp(0.0, 1.0) * 65535.0 + 0.5) as u16).to_be_bytes())
        .collect();
    let mut bytes = Vec::new();
    image::codecs::png::PngEncoder::new(&mut bytes)
        .write_image(
            &raw,
            plane.width() as u32,
            plane.height() as u32,
            image::ExtendedColorType::L16,
        )
        .map_err(|e| err(path, e))?;
    write_atomic(path, &bytes)
}
