//! Reading and writing image files.
//!
//! Decoding and encoding are done by the [`image`] crate, except JPEG decoding, which is
//! libjpeg-turbo's ([`crate::jpeg`]); this module adds what a dehazing tool needs around it:
//!
//! * **Input formats**: PNG, JPEG, TIFF, WebP and BMP, recognised by their content (a `.png`
//!   that is really a JPEG is read as a JPEG). 8- and 16-bit samples, grey, grey+alpha, RGB,
//!   RGBA; float TIFFs are clamped to `[0, 1]` and treated as 16-bit sources.
//! * **EXIF orientation** is applied on read, so the pixels are upright as a viewer shows them.
//! * **Colour** becomes planar RGB `f32` in `[0, 1]` ([`RgbImage`]): a grey image is processed
//!   as three equal channels. The **alpha** channel is kept apart, untouched, and written back.
//! * **A size limit** is checked against the header before any pixel buffer is allocated, so a
//!   file claiming 30000×30000 pixels is refused cheaply ([`ReadOptions::max_pixels`]).
//! * **Output format** from the file extension (`png`, `jpg`/`jpeg`, `tif`/`tiff`, `webp`,
//!   `bmp`). A grey source is written back grey, a 16-bit source as 16-bit where the format
//!   allows it (PNG, TIFF), alpha where the format has it (not JPEG: dropped). WebP output is
//!   lossless (the only WebP encoder of the `image` crate).
//! * **Atomic writes**: the file is encoded into a temporary file in the destination folder and
//!   renamed over the destination only when complete, so a failure never leaves a partial file.
//!
//! Every error names the file and the reason ([`IoError`]).

use crate::buffer::{Plane, RgbImage};
use image::codecs::{
    bmp::BmpEncoder, jpeg::JpegEncoder, png::PngEncoder, tiff::TiffEncoder, webp::WebPEncoder,
};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use std::io::{BufWriter, Cursor, Write};
use std::path::{Path, PathBuf};

/// The default of [`ReadOptions::max_pixels`]: 100 megapixels (1.2 GB as planar `f32` RGB).
pub const DEFAULT_MAX_PIXELS: u64 = 100_000_000;

/// An error reading or writing an image. `Display` gives `FILE: REASON` on one line.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", path.display())]
pub struct IoError {
    /// The file concerned.
    pub path: PathBuf,
    /// Why it failed, in words.
    pub reason: String,
}

impl IoError {
    fn new(path: &Path, reason: impl Into<String>) -> Self {
        Self {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }
}

/// Options for [`read_image`].
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Refuse images with more pixels than this, judged from the header before decoding.
    pub max_pixels: u64,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            max_pixels: DEFAULT_MAX_PIXELS,
        }
    }
}

/// What the source file was, so that an output can be written back in kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceInfo {
    /// The file had one colour channel (grey or grey+alpha).
    pub grey: bool,
    /// Bits per sample of the source: 8, or 16 (16-bit and float sources).
    pub bit_depth: u8,
    /// The container format, as recognised from the content.
    pub format: ImageFormat,
    /// The embedded ICC colour profile, if any: written back into outputs whose format can hold
    /// one (PNG, JPEG, TIFF, WebP), so colours are interpreted as in the source.
    pub icc_profile: Option<Vec<u8>>,
}

impl SourceInfo {
    /// An 8-bit RGB source without a colour profile: what a program-made image is.
    pub fn rgb8() -> Self {
        Self {
            grey: false,
            bit_depth: 8,
            format: ImageFormat::Png,
            icc_profile: None,
        }
    }
}

/// A decoded image: colour as planar RGB in `[0, 1]`, the alpha channel apart.
#[derive(Clone, Debug)]
pub struct Decoded {
    /// Colour (grey sources: three equal channels).
    pub rgb: RgbImage,
    /// The alpha channel in `[0, 1]`, if the source had one.
    pub alpha: Option<Plane>,
    /// What the source was.
    pub info: SourceInfo,
}

/// Options for [`write_image`].
#[derive(Clone, Debug)]
pub struct WriteOptions {
    /// JPEG quality, 1–100.
    pub jpeg_quality: u8,
}

impl Default for WriteOptions {
    fn default() -> Self {
        Self { jpeg_quality: 95 }
    }
}

/// The output formats, chosen by file extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Png,
    Jpeg,
    Tiff,
    WebP,
    Bmp,
}

impl OutputFormat {
    /// The format for `path`'s extension (case-insensitive), if it is one we write.
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "png" => Self::Png,
            "jpg" | "jpeg" => Self::Jpeg,
            "tif" | "tiff" => Self::Tiff,
            "webp" => Self::WebP,
            "bmp" => Self::Bmp,
            _ => return None,
        })
    }

    /// Whether 16-bit samples can be stored.
    fn has_16_bit(self) -> bool {
        matches!(self, Self::Png | Self::Tiff)
    }

    /// Whether an alpha channel can be stored.
    fn has_alpha(self) -> bool {
        !matches!(self, Self::Jpeg)
    }

    /// Whether one-channel (grey) images can be stored.
    fn has_grey(self) -> bool {
        !matches!(self, Self::WebP)
    }

    /// Whether grey with alpha can be stored as such. Elsewhere such an image is written as
    /// RGBA: the `image` crate's TIFF encoder refuses grey+alpha, and its BMP encoder writes it
    /// as grey without the alpha.
    fn has_grey_alpha(self) -> bool {
        matches!(self, Self::Png)
    }
}

/// File extensions [`read_image`] is meant for (used when listing a folder).
pub const IMAGE_EXTENSIONS: [&str; 7] = ["png", "jpg", "jpeg", "tif", "tiff", "webp", "bmp"];

/// Whether `path` has one of [`IMAGE_EXTENSIONS`] (case-insensitive).
pub fn has_image_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// The files of `dir` (not its subfolders) with an image extension, sorted by name; the error
/// names the folder.
pub fn list_images(dir: &Path) -> Result<Vec<std::path::PathBuf>, String> {
    let rd = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: cannot list folder: {e}", dir.display()))?;
    let mut files: Vec<std::path::PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && has_image_extension(p))
        .collect();
    files.sort();
    Ok(files)
}

/// A file's name without its extension (lossy UTF-8; empty if it has none), the key that pairs
/// hazy, clear and depth files.
pub fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Reads an image file (PNG, JPEG, TIFF, WebP, BMP), applying EXIF orientation.
///
/// Fails with a one-line reason for an empty, truncated, corrupt or unsupported file, and for
/// an image above `opts.max_pixels` (checked before any pixel buffer is allocated).
pub fn read_image(path: &Path, opts: &ReadOptions) -> Result<Decoded, IoError> {
    let bytes = std::fs::read(path).map_err(|e| IoError::new(path, format!("cannot read: {e}")))?;
    decode_image(path, &bytes, opts)
}

/// Decodes an image file's `bytes` as [`read_image`] does; `path` only names the file in errors.
/// (The file is read whole first: every decoder needs it all, and a JPEG would otherwise be read
/// twice, once for its header and once for libjpeg.)
pub fn decode_image(path: &Path, bytes: &[u8], opts: &ReadOptions) -> Result<Decoded, IoError> {
    let err = |reason: String| IoError::new(path, reason);
    if bytes.is_empty() {
        return Err(err("file is empty".into()));
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| err(format!("cannot read: {e}")))?;
    let format = reader.format().ok_or_else(|| {
        err("not a supported image (PNG, JPEG, TIFF, WebP or BMP expected)".into())
    })?;
    if format == ImageFormat::Jpeg && is_truncated_jpeg(bytes) {
        // Decoders fill missing scans with grey rather than failing; refuse instead of
        // dehazing half a picture.
        return Err(err(
            "truncated JPEG (no end-of-image marker): the file is incomplete".into(),
        ));
    }
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| err(decode_reason(format, &e)))?;

    let (w, h) = decoder.dimensions();
    let pixels = u64::from(w) * u64::from(h);
    if w == 0 || h == 0 {
        return Err(err(format!("image has no pixels ({w}×{h})")));
    }
    if pixels > opts.max_pixels {
        return Err(err(format!(
            "image is {w}×{h} = {pixels} pixels, above the limit of {} (raise it with --max-pixels)",
            opts.max_pixels
        )));
    }
    let mut limits = image::Limits::default();
    // The decoded buffer is at most 4 channels of 4 bytes; leave room for the decoder's own
    // scratch (e.g. JPEG component planes).
    limits.max_alloc = Some(pixels.saturating_mul(32).max(64 << 20));
    decoder
        .set_limits(limits)
        .map_err(|e| err(decode_reason(format, &e)))?;

    let orientation = decoder.orientation().ok();
    let icc_profile = decoder.icc_profile().ok().flatten();
    let mut img = match decode_jpeg(bytes, format, opts.max_pixels).map_err(err)? {
        Some(img) => img,
        None => DynamicImage::from_decoder(decoder).map_err(|e| err(decode_reason(format, &e)))?,
    };
    if let Some(o) = orientation {
        img.apply_orientation(o);
    }
    let mut decoded = split_channels(img, format);
    decoded.info.icc_profile = icc_profile;
    Ok(decoded)
}

/// JPEG files are decoded by the libjpeg-turbo-derived decoder of [`crate::jpeg`] (the pixels
/// of OpenCV, Pillow and MATLAB, so the metrics reproduce published numbers). `Ok(None)` for
/// other formats and for CMYK/YCCK JPEGs, which the `image` crate converts to RGB instead.
fn decode_jpeg(
    bytes: &[u8],
    format: ImageFormat,
    max_pixels: u64,
) -> Result<Option<DynamicImage>, String> {
    if format != ImageFormat::Jpeg {
        return Ok(None);
    }
    let img = match crate::jpeg::decode(bytes, max_pixels) {
        Ok(img) => img,
        Err(crate::jpeg::JpegError::Cmyk) => return Ok(None),
        Err(crate::jpeg::JpegError::TooLarge { width, height }) => {
            return Err(format!(
                "image is {width}×{height} pixels, above the limit of {max_pixels} (raise it with --max-pixels)"
            ))
        }
        Err(crate::jpeg::JpegError::Corrupt(m)) => return Err(format!("corrupt or truncated JPEG: {m}")),
    };
    let (w, h) = (img.width as u32, img.height as u32);
    let image = if img.channels == 1 {
        image::GrayImage::from_raw(w, h, img.pixels).map(DynamicImage::ImageLuma8)
    } else {
        image::RgbImage::from_raw(w, h, img.pixels).map(DynamicImage::ImageRgb8)
    };
    Ok(Some(image.expect(
        "buffer length matches the image size by construction",
    )))
}

/// Whether a JPEG file lacks its end-of-image marker (`FF D9`) near the end. Some writers
/// append a few bytes after it, so the last 4 KiB are searched. Non-JPEG files give `false`.
fn is_truncated_jpeg(bytes: &[u8]) -> bool {
    if !bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return false;
    }
    let tail = &bytes[bytes.len().saturating_sub(4096)..];
    !tail.windows(2).any(|w| w == [0xFF, 0xD9])
}

/// A one-line reason for a decoding error.
fn decode_reason(format: ImageFormat, e: &image::ImageError) -> String {
    let name = format!("{format:?}").to_uppercase();
    match e {
        image::ImageError::Limits(_) => format!("{name} needs more memory than allowed: {e}"),
        image::ImageError::Unsupported(_) => format!("unsupported {name} variant: {e}"),
        _ => format!("corrupt or truncated {name}: {e}"),
    }
    .replace('\n', " ")
}

/// An 8-bit sample `v` is the value `v · U8_TO_UNIT` in `[0, 1]` (what [`read_image`] does).
pub const U8_TO_UNIT: f32 = 1.0 / 255.0;
/// A 16-bit sample `v` is the value `v · U16_TO_UNIT` in `[0, 1]`.
pub const U16_TO_UNIT: f32 = 1.0 / 65535.0;

/// An in-memory image as [`read_image`] would have decoded it: `samples` interleaved, row-major,
/// `channels` per pixel (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA), each turned into `[0, 1]` by
/// `to_unit` (e.g. `|v| f32::from(v) * U8_TO_UNIT`). A grey image becomes three equal
/// channels; the alpha channel is kept apart. The source is recorded as PNG without a profile,
/// of `bit_depth` bits. For front ends that get pixels, not files (the Python package), so
/// that they process them exactly as the command line processes a file.
///
/// # Panics
/// If `channels` is not 1–4 or `samples.len() != width · height · channels`.
pub fn from_interleaved<T: Copy>(
    width: usize,
    height: usize,
    channels: usize,
    samples: &[T],
    bit_depth: u8,
    to_unit: impl Fn(T) -> f32,
) -> Decoded {
    assert!(
        (1..=4).contains(&channels),
        "from_interleaved: {channels} channels"
    );
    assert_eq!(
        samples.len(),
        width * height * channels,
        "from_interleaved: buffer size"
    );
    let n = width * height;
    let mut planes = vec![0.0f32; 3 * n];
    let mut alpha = matches!(channels, 2 | 4).then(|| vec![0.0f32; n]);
    Destination {
        planes: &mut planes,
        alpha: alpha.as_deref_mut(),
    }
    .fill(samples, channels, to_unit);
    Decoded {
        rgb: RgbImage::from_planar(width, height, planes),
        alpha: alpha.map(|a| Plane::from_vec(width, height, a)),
        info: SourceInfo {
            grey: channels <= 2,
            bit_depth,
            ..SourceInfo::rgb8()
        },
    }
}

/// The samples [`write_image`] quantises, interleaved, before quantisation: one per pixel
/// (the Rec. 601 luma `0.299 R + 0.587 G + 0.114 B`) when `grey`, else R, G, B; then the
/// alpha sample when `with_alpha` and `img` has alpha. Multiply-and-round with [`quantise`].
pub fn output_samples(img: &Decoded, grey: bool, with_alpha: bool) -> Vec<f32> {
    let n = img.rgb.pixels();
    let alpha = img.alpha.as_ref().filter(|_| with_alpha);
    let channels = if grey { 1 } else { 3 } + usize::from(alpha.is_some());
    let [r, g, b] = img.rgb.planes();
    let mut samples = Vec::with_capacity(n * channels);
    for i in 0..n {
        if grey {
            samples.push(0.299 * r[i] + 0.587 * g[i] + 0.114 * b[i]);
        } else {
            samples.extend_from_slice(&[r[i], g[i], b[i]]);
        }
        if let Some(a) = alpha {
            samples.push(a.data()[i]);
        }
    }
    samples
}

/// Splits a decoded image into planar RGB `f32` and an optional alpha plane.
fn split_channels(img: DynamicImage, format: ImageFormat) -> Decoded {
    let color = img.color();
    let grey = color.channel_count() <= 2;
    let has_alpha = color.has_alpha();
    let bit_depth = if color.bytes_per_pixel() / color.channel_count() > 1 {
        16
    } else {
        8
    };
    let (w, h) = (img.width() as usize, img.height() as usize);
    let n = w * h;
    let mut planes = vec![0.0f32; 3 * n];
    let mut alpha = has_alpha.then(|| vec![0.0f32; n]);
    let dest = Destination {
        planes: &mut planes,
        alpha: alpha.as_deref_mut(),
    };
    const U8: f32 = U8_TO_UNIT;
    const U16: f32 = U16_TO_UNIT;
    match &img {
        DynamicImage::ImageLuma8(b) => dest.fill(b.as_raw(), 1, |v| f32::from(v) * U8),
        DynamicImage::ImageLumaA8(b) => dest.fill(b.as_raw(), 2, |v| f32::from(v) * U8),
        DynamicImage::ImageRgb8(b) => dest.fill(b.as_raw(), 3, |v| f32::from(v) * U8),
        DynamicImage::ImageRgba8(b) => dest.fill(b.as_raw(), 4, |v| f32::from(v) * U8),
        DynamicImage::ImageLuma16(b) => dest.fill(b.as_raw(), 1, |v| f32::from(v) * U16),
        DynamicImage::ImageLumaA16(b) => dest.fill(b.as_raw(), 2, |v| f32::from(v) * U16),
        DynamicImage::ImageRgb16(b) => dest.fill(b.as_raw(), 3, |v| f32::from(v) * U16),
        DynamicImage::ImageRgba16(b) => dest.fill(b.as_raw(), 4, |v| f32::from(v) * U16),
        // Float and any future layouts: one generic conversion.
        other => {
            let rgba = other.to_rgba32f();
            dest.fill(rgba.as_raw(), 4, |v| v.clamp(0.0, 1.0));
        }
    }
    Decoded {
        rgb: RgbImage::from_planar(w, h, planes),
        alpha: alpha.map(|a| Plane::from_vec(w, h, a)),
        info: SourceInfo {
            grey,
            bit_depth,
            format,
            icc_profile: None,
        },
    }
}

/// Where [`split_channels`] puts the samples: three colour planes and maybe an alpha plane.
struct Destination<'a> {
    planes: &'a mut [f32],
    alpha: Option<&'a mut [f32]>,
}

impl Destination<'_> {
    /// De-interleaves `samples` (`channels` per pixel: grey, grey+alpha, RGB or RGBA).
    fn fill<T: Copy>(self, samples: &[T], channels: usize, to_f32: impl Fn(T) -> f32) {
        let n = self.planes.len() / 3;
        let (r, gb) = self.planes.split_at_mut(n);
        let (g, b) = gb.split_at_mut(n);
        // Grey sources fill all three planes from their one colour sample.
        let (gi, bi) = if channels >= 3 { (1, 2) } else { (0, 0) };
        let mut alpha = self.alpha;
        for (i, px) in samples.chunks_exact(channels).enumerate() {
            r[i] = to_f32(px[0]);
            g[i] = to_f32(px[gi]);
            b[i] = to_f32(px[bi]);
            if let Some(a) = alpha.as_deref_mut() {
                a[i] = to_f32(px[channels - 1]);
            }
        }
    }
}

/// Writes `img` to `path`, format from the extension, atomically (temporary file in the same
/// folder, renamed over `path` when complete).
///
/// A grey source is written grey (WebP: as RGB), a 16-bit source as 16-bit in PNG and TIFF,
/// alpha kept except in JPEG. Colour of a grey source is the Rec. 601 luma of the RGB result.
pub fn write_image(path: &Path, img: &Decoded, opts: &WriteOptions) -> Result<(), IoError> {
    let format = OutputFormat::from_path(path).ok_or_else(|| {
        IoError::new(
            path,
            "unknown output format: use a .png, .jpg, .jpeg, .tif, .tiff, .webp or .bmp name",
        )
    })?;
    let dynamic = to_dynamic(img, format);
    write_dynamic(
        path,
        &dynamic,
        format,
        img.info.icc_profile.as_deref(),
        opts,
    )
}

/// Writes a single-channel map (a transmission or density map, values clipped to `[0, 1]`) as
/// an 8-bit grey image (16-bit in PNG/TIFF when `sixteen_bit`), atomically.
pub fn write_plane(
    path: &Path,
    plane: &Plane,
    sixteen_bit: bool,
    opts: &WriteOptions,
) -> Result<(), IoError> {
    let format =
        OutputFormat::from_path(path).ok_or_else(|| IoError::new(path, "unknown output format"))?;
    let decoded = Decoded {
        rgb: RgbImage::from_grey(plane),
        alpha: None,
        info: SourceInfo {
            grey: true,
            bit_depth: if sixteen_bit { 16 } else { 8 },
            ..SourceInfo::rgb8()
        },
    };
    write_dynamic(path, &to_dynamic(&decoded, format), format, None, opts)
}

/// Quantises `img` into the sample layout `format` can hold.
fn to_dynamic(img: &Decoded, format: OutputFormat) -> DynamicImage {
    let (w, h) = (img.rgb.width(), img.rgb.height());
    let alpha = img.alpha.as_ref().filter(|_| format.has_alpha());
    let grey = img.info.grey && format.has_grey() && (alpha.is_none() || format.has_grey_alpha());
    let sixteen = img.info.bit_depth > 8 && format.has_16_bit();
    let samples = output_samples(img, grey, alpha.is_some());
    let (w, h) = (w as u32, h as u32);
    if sixteen {
        let s: Vec<u16> = samples
            .iter()
            .map(|&v| quantise(v, 65535.0) as u16)
            .collect();
        match (grey, alpha.is_some()) {
            (true, false) => image::ImageBuffer::from_raw(w, h, s).map(DynamicImage::ImageLuma16),
            (true, true) => image::ImageBuffer::from_raw(w, h, s).map(DynamicImage::ImageLumaA16),
            (false, false) => image::ImageBuffer::from_raw(w, h, s).map(DynamicImage::ImageRgb16),
            (false, true) => image::ImageBuffer::from_raw(w, h, s).map(DynamicImage::ImageRgba16),
        }
    } else {
        let s: Vec<u8> = samples.iter().map(|&v| quantise(v, 255.0) as u8).collect();
        match (grey, alpha.is_some()) {
            (true, false) => image::ImageBuffer::from_raw(w, h, s).map(DynamicImage::ImageLuma8),
            (true, true) => image::ImageBuffer::from_raw(w, h, s).map(DynamicImage::ImageLumaA8),
            (false, false) => image::ImageBuffer::from_raw(w, h, s).map(DynamicImage::ImageRgb8),
            (false, true) => image::ImageBuffer::from_raw(w, h, s).map(DynamicImage::ImageRgba8),
        }
    }
    .expect("buffer length matches the image size by construction")
}

/// `round(clamp(v, 0, 1) · scale)`, half away from zero: how [`write_image`] turns a value into
/// an 8-bit (`scale` 255) or 16-bit (`scale` 65535) sample.
pub fn quantise(v: f32, scale: f32) -> f32 {
    (v.clamp(0.0, 1.0) * scale).round()
}

/// Encodes through [`crate::fs::AtomicFile`]: a temporary file beside `path`, flushed, mode
/// 0644, renamed over `path` when complete.
fn write_dynamic(
    path: &Path,
    img: &DynamicImage,
    format: OutputFormat,
    icc_profile: Option<&[u8]>,
    opts: &WriteOptions,
) -> Result<(), IoError> {
    let err = |reason: String| IoError::new(path, reason);
    let mut tmp = crate::fs::AtomicFile::create(path).map_err(|e| err(e.reason))?;
    {
        let mut out = BufWriter::new(tmp.file());
        let result = match format {
            OutputFormat::Png => encode(img, PngEncoder::new(&mut out), icc_profile),
            OutputFormat::Jpeg => encode(
                img,
                JpegEncoder::new_with_quality(&mut out, opts.jpeg_quality.clamp(1, 100)),
                icc_profile,
            ),
            OutputFormat::Tiff => encode(img, TiffEncoder::new(&mut out), icc_profile),
            OutputFormat::WebP => encode(img, WebPEncoder::new_lossless(&mut out), icc_profile),
            OutputFormat::Bmp => encode(img, BmpEncoder::new(&mut out), icc_profile),
        };
        result.map_err(|e| err(format!("cannot encode: {e}")))?;
        out.flush().map_err(|e| err(format!("cannot write: {e}")))?;
    }
    tmp.commit().map_err(|e| err(e.reason))
}

/// Encodes `img` with `encoder`, embedding `icc_profile` where the format can hold one (formats
/// that cannot, BMP, are written without it).
fn encode(
    img: &DynamicImage,
    mut encoder: impl image::ImageEncoder,
    icc_profile: Option<&[u8]>,
) -> image::ImageResult<()> {
    if let Some(icc) = icc_profile {
        let _ = encoder.set_icc_profile(icc.to_vec());
    }
    img.write_with_encoder(encoder)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_format_from_extension() {
        assert_eq!(
            OutputFormat::from_path(Path::new("a/b.JPG")),
            Some(OutputFormat::Jpeg)
        );
        assert_eq!(
            OutputFormat::from_path(Path::new("x.tif")),
            Some(OutputFormat::Tiff)
        );
        assert_eq!(OutputFormat::from_path(Path::new("x.gif")), None);
        assert_eq!(OutputFormat::from_path(Path::new("noext")), None);
    }

    #[test]
    fn quantise_rounds_and_clamps() {
        assert_eq!(quantise(0.5, 255.0), 128.0);
        assert_eq!(quantise(-0.1, 255.0), 0.0);
        assert_eq!(quantise(1.7, 65535.0), 65535.0);
    }
}
