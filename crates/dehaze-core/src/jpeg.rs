//! JPEG decoding exactly as libjpeg-turbo does it, in the default build.
//!
//! Published metric values (and this project's reference CSV) come from libjpeg-family
//! decoders — OpenCV, Pillow, PyTurboJPEG, MATLAB — with their default settings (accurate
//! integer IDCT, "fancy" chroma upsampling). The `image` crate's JPEG decoder (zune-jpeg)
//! differs from them by ±1 on many pixels, which moves FADE by up to 3e-3 relative and NIQE by
//! up to 0.11. This module decodes with the libjpeg-turbo-derived decoder of `mozjpeg-sys`,
//! built from C with the `cc` crate alone (no CMake, no NASM: the portable C code paths, which
//! libjpeg-turbo keeps bit-identical to its SIMD ones), so a plain `cargo build` gives the
//! published tools' pixels. `tests/metrics_reference.rs` checks this against the SHA-256 of
//! the reference decoder's output for every JPEG row.
//!
//! libjpeg reports fatal errors through a callback that must not return; here it unwinds
//! (`resume_unwind`, so no panic hook sees it — a fuzzer's abort-on-panic hook included) back to
//! [`decode`], which turns it into an `Err` with libjpeg's own message. The C code is compiled
//! with `-fexceptions` (mozjpeg-sys's `unwinding` feature) so unwinding through it is defined.

use mozjpeg_sys as ffi;
use std::ffi::{c_int, c_ulong};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

/// More scans than any real progressive JPEG has (libjpeg-turbo's own fuzzers stop at 500):
/// each scan costs a pass over the whole coefficient buffer, so a file of thousands of tiny
/// scans would otherwise take minutes to decode.
pub const MAX_SCANS: c_int = 1000;

/// A decoded JPEG: interleaved 8-bit samples, one (grey) or three (RGB) per pixel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Jpeg {
    pub width: usize,
    pub height: usize,
    /// 1 (greyscale JPEG) or 3 (RGB).
    pub channels: usize,
    pub pixels: Vec<u8>,
}

/// Why [`decode`] gave no image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JpegError {
    /// A CMYK or YCCK JPEG (libjpeg does not convert those to RGB; the caller decodes them
    /// another way).
    Cmyk,
    /// More pixels than the caller allows (judged from the header, before the pixel buffer).
    TooLarge { width: usize, height: usize },
    /// libjpeg's message for a corrupt, truncated or unsupported file.
    Corrupt(String),
}

impl std::fmt::Display for JpegError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Cmyk => write!(f, "CMYK/YCCK JPEG"),
            Self::TooLarge { width, height } => write!(f, "image is {width}×{height} pixels"),
            Self::Corrupt(m) => write!(f, "{m}"),
        }
    }
}

/// The payload libjpeg's fatal-error callback unwinds with.
struct Fatal(String);

unsafe extern "C-unwind" fn error_exit(cinfo: &mut ffi::jpeg_common_struct) {
    let mut buf = [0u8; 80];
    // SAFETY: `err` is the error manager installed by `decode`; `format_message` writes a
    // NUL-terminated message of at most 80 bytes into `buf` (the binding declares the buffer
    // `&[u8; 80]` although C writes to it, hence the pointer-typed call).
    unsafe {
        if let Some(format) = (*cinfo.err).format_message {
            let format: unsafe extern "C-unwind" fn(&mut ffi::jpeg_common_struct, *mut u8) =
                std::mem::transmute(format);
            format(cinfo, buf.as_mut_ptr());
        }
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let message = String::from_utf8_lossy(&buf[..end]).into_owned();
    resume_unwind(Box::new(Fatal(message)));
}

/// Warnings (e.g. "premature end of data segment" in a file that still decodes) are not
/// printed: the caller decides what a damaged file means.
unsafe extern "C-unwind" fn emit_message(_: &mut ffi::jpeg_common_struct, _: c_int) {}

unsafe extern "C-unwind" fn progress_monitor(cinfo: &mut ffi::jpeg_common_struct) {
    if cinfo.is_decompressor != 0 {
        // SAFETY: a decompressor's common struct is the head of its `jpeg_decompress_struct`.
        let scans = unsafe {
            (*(cinfo as *mut ffi::jpeg_common_struct as *mut ffi::jpeg_decompress_struct))
                .input_scan_number
        };
        if scans > MAX_SCANS {
            resume_unwind(Box::new(Fatal(format!(
                "more than {MAX_SCANS} progressive scans"
            ))));
        }
    }
}

/// Decodes JPEG `bytes` with libjpeg-turbo's defaults (ISLOW IDCT, fancy upsampling), refusing
/// images of more than `max_pixels` pixels before their buffer is allocated.
pub fn decode(bytes: &[u8], max_pixels: u64) -> Result<Jpeg, JpegError> {
    if bytes.is_empty() {
        return Err(JpegError::Corrupt("empty file".into()));
    }
    // SAFETY: the structs are plain C data, zero-initialised as libjpeg's examples do, then
    // set up by `jpeg_std_error` / `jpeg_create_decompress`; every libjpeg call happens inside
    // `catch_unwind` and the decompressor is destroyed on every path out of it.
    unsafe {
        let mut err: ffi::jpeg_error_mgr = std::mem::zeroed();
        ffi::jpeg_std_error(&mut err);
        err.error_exit = Some(error_exit);
        err.emit_message = Some(emit_message);
        let mut progress: ffi::jpeg_progress_mgr = std::mem::zeroed();
        progress.progress_monitor = Some(progress_monitor);
        let mut cinfo: ffi::jpeg_decompress_struct = std::mem::zeroed();
        cinfo.common.err = &mut err;
        let result = catch_unwind(AssertUnwindSafe(|| {
            ffi::jpeg_create_decompress(&mut cinfo);
            cinfo.common.progress = &mut progress;
            ffi::jpeg_mem_src(&mut cinfo, bytes.as_ptr(), bytes.len() as c_ulong);
            ffi::jpeg_read_header(&mut cinfo, 1);
            let channels = match cinfo.jpeg_color_space {
                ffi::J_COLOR_SPACE::JCS_GRAYSCALE => {
                    cinfo.out_color_space = ffi::J_COLOR_SPACE::JCS_GRAYSCALE;
                    1
                }
                ffi::J_COLOR_SPACE::JCS_CMYK | ffi::J_COLOR_SPACE::JCS_YCCK => {
                    return Err(JpegError::Cmyk)
                }
                _ => {
                    cinfo.out_color_space = ffi::J_COLOR_SPACE::JCS_RGB;
                    3
                }
            };
            let (width, height) = (cinfo.image_width as usize, cinfo.image_height as usize);
            if (width as u64) * (height as u64) > max_pixels {
                return Err(JpegError::TooLarge { width, height });
            }
            ffi::jpeg_start_decompress(&mut cinfo);
            let (width, height) = (cinfo.output_width as usize, cinfo.output_height as usize);
            let stride = width * channels;
            let mut pixels = vec![0u8; stride * height];
            while (cinfo.output_scanline as usize) < height {
                let row = cinfo.output_scanline as usize;
                let mut rows = [pixels[row * stride..].as_mut_ptr()];
                if ffi::jpeg_read_scanlines(&mut cinfo, rows.as_mut_ptr(), 1) == 0 {
                    // Only a suspending data source returns no lines; ours never suspends.
                    return Err(JpegError::Corrupt("decoder made no progress".into()));
                }
            }
            ffi::jpeg_finish_decompress(&mut cinfo);
            Ok(Jpeg {
                width,
                height,
                channels,
                pixels,
            })
        }));
        ffi::jpeg_destroy_decompress(&mut cinfo);
        match result {
            Ok(r) => r,
            Err(payload) => match payload.downcast::<Fatal>() {
                Ok(fatal) => Err(JpegError::Corrupt(fatal.0)),
                Err(other) => resume_unwind(other),
            },
        }
    }
}

/// Decodes to interleaved RGB (grey JPEGs expanded to three equal channels), as
/// `cv2.imread(path, IMREAD_COLOR)` and Pillow's `.convert('RGB')` do. Returns
/// `(width, height, rgb)`.
pub fn decode_rgb8(bytes: &[u8]) -> Result<(usize, usize, Vec<u8>), JpegError> {
    let img = decode(bytes, u64::MAX)?;
    let rgb = if img.channels == 1 {
        img.pixels.iter().flat_map(|&v| [v, v, v]).collect()
    } else {
        img.pixels
    };
    Ok((img.width, img.height, rgb))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_truncation_are_errors_not_panics() {
        assert!(matches!(decode(b"", 100), Err(JpegError::Corrupt(_))));
        let e = decode(b"\xFF\xD8\xFF\xE0 not really a jpeg", 100).unwrap_err();
        assert!(
            matches!(e, JpegError::Corrupt(ref m) if !m.is_empty()),
            "{e:?}"
        );
        assert!(matches!(decode(b"PNG", 100), Err(JpegError::Corrupt(_))));
    }

    fn encode(img: image::DynamicImage) -> Vec<u8> {
        let mut out = Vec::new();
        img.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
            &mut out, 90,
        ))
        .unwrap();
        out
    }

    #[test]
    fn decodes_rgb_and_grey_and_refuses_oversized_before_decoding() {
        let rgb =
            image::RgbImage::from_fn(24, 16, |x, y| image::Rgb([x as u8 * 10, y as u8 * 15, 128]));
        let bytes = encode(rgb.clone().into());
        let img = decode(&bytes, 1000).unwrap();
        assert_eq!((img.width, img.height, img.channels), (24, 16, 3));
        let worst = img
            .pixels
            .iter()
            .zip(rgb.as_raw())
            .map(|(a, b)| a.abs_diff(*b))
            .max()
            .unwrap();
        assert!(worst < 40, "decoded far from the source: {worst}");

        let grey = image::GrayImage::from_fn(8, 8, |x, _| image::Luma([x as u8 * 30]));
        let img = decode(&encode(grey.into()), 1000).unwrap();
        assert_eq!((img.width, img.height, img.channels), (8, 8, 1));
        let (_, _, expanded) = decode_rgb8(&encode(image::GrayImage::new(8, 8).into())).unwrap();
        assert_eq!(expanded.len(), 8 * 8 * 3);

        assert_eq!(
            decode(&bytes, 24 * 16 - 1),
            Err(JpegError::TooLarge {
                width: 24,
                height: 16
            })
        );
    }

    #[test]
    fn damaged_scan_data_never_panics() {
        let rgb =
            image::RgbImage::from_fn(32, 32, |x, y| image::Rgb([x as u8 * 8, y as u8 * 8, 7]));
        let bytes = encode(rgb.into());
        for i in (bytes.len() / 2..bytes.len()).step_by(7) {
            let mut b = bytes.clone();
            b[i] ^= 0x5A;
            let _ = decode(&b, 10_000);
            let _ = decode(&b[..i], 10_000);
        }
    }
}
