//! Image I/O on every kind of input a user may hand us: the odd but valid (grey, grey+alpha,
//! 16-bit, 1×1, CMYK JPEG, EXIF-rotated) is read correctly; the broken (empty, truncated,
//! not an image, absurd header) is refused with a one-line reason naming the file.

use dehaze_core::io::{read_image, write_image, Decoded, ReadOptions, WriteOptions};
use image::{DynamicImage, ImageBuffer, ImageFormat};
use std::path::{Path, PathBuf};

fn tmpdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn save(img: &DynamicImage, dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    img.save(&path).expect("save fixture");
    path
}

fn encode(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    img.write_to(&mut bytes, format).expect("encode fixture");
    bytes.into_inner()
}

/// A smooth colourful test pattern.
fn pattern(w: u32, h: u32) -> image::RgbImage {
    ImageBuffer::from_fn(w, h, |x, y| {
        image::Rgb([
            (x * 255 / w.max(1)) as u8,
            (y * 255 / h.max(1)) as u8,
            ((x + y) * 7 % 256) as u8,
        ])
    })
}

fn read_err(path: &Path) -> String {
    match read_image(path, &ReadOptions::default()) {
        Ok(_) => panic!("{} should have been refused", path.display()),
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.starts_with(&path.display().to_string()),
                "error should name the file: {msg}"
            );
            assert!(!msg.contains('\n'), "error should be one line: {msg}");
            msg
        }
    }
}

#[test]
fn empty_file_is_refused() {
    let dir = tmpdir();
    let path = dir.path().join("empty.png");
    std::fs::write(&path, b"").unwrap();
    assert!(read_err(&path).contains("empty"));
}

#[test]
fn non_image_is_refused() {
    let dir = tmpdir();
    let path = dir.path().join("notes.jpg");
    std::fs::write(&path, b"these are not pixels\n").unwrap();
    assert!(read_err(&path).contains("not a supported image"));
}

#[test]
fn truncated_png_is_refused() {
    let dir = tmpdir();
    let bytes = encode(&DynamicImage::ImageRgb8(pattern(64, 48)), ImageFormat::Png);
    let path = dir.path().join("cut.png");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let msg = read_err(&path);
    assert!(msg.contains("PNG"), "{msg}");
}

#[test]
fn truncated_jpeg_is_refused() {
    let dir = tmpdir();
    let bytes = encode(&DynamicImage::ImageRgb8(pattern(64, 48)), ImageFormat::Jpeg);
    let path = dir.path().join("cut.jpg");
    std::fs::write(&path, &bytes[..bytes.len() * 2 / 3]).unwrap();
    assert!(read_err(&path).contains("truncated JPEG"));
}

#[test]
fn huge_header_is_refused_before_decoding() {
    let dir = tmpdir();
    let path = dir.path().join("huge.png");
    std::fs::write(&path, png_header_only(30_000, 30_000)).unwrap();
    let msg = read_err(&path);
    assert!(
        msg.contains("30000×30000") && msg.contains("--max-pixels"),
        "{msg}"
    );
}

#[test]
fn max_pixels_is_configurable() {
    let dir = tmpdir();
    let path = save(
        &DynamicImage::ImageRgb8(pattern(20, 10)),
        dir.path(),
        "p.png",
    );
    let strict = ReadOptions { max_pixels: 199 };
    assert!(read_image(&path, &strict).is_err());
    let exact = ReadOptions { max_pixels: 200 };
    assert!(read_image(&path, &exact).is_ok());
}

#[test]
fn tiny_images_are_read() {
    let dir = tmpdir();
    for (w, h) in [(1, 1), (1, 7), (9, 1)] {
        let path = save(
            &DynamicImage::ImageRgb8(pattern(w, h)),
            dir.path(),
            &format!("t{w}x{h}.png"),
        );
        let d = read_image(&path, &ReadOptions::default()).unwrap();
        assert_eq!((d.rgb.width(), d.rgb.height()), (w as usize, h as usize));
    }
}

#[test]
fn rgb8_values_are_exact() {
    let dir = tmpdir();
    let src = pattern(13, 5);
    let path = save(&DynamicImage::ImageRgb8(src.clone()), dir.path(), "p.png");
    let d = read_image(&path, &ReadOptions::default()).unwrap();
    assert!(!d.info.grey && d.info.bit_depth == 8 && d.alpha.is_none());
    for (x, y, px) in src.enumerate_pixels() {
        let got = d.rgb.pixel(x as usize, y as usize);
        for c in 0..3 {
            assert_eq!((got[c] * 255.0).round() as u8, px[c]);
        }
    }
}

/// Reads `src` from a file, writes it back unchanged, reads that again.
fn round_trip(src: DynamicImage, out_name: &str) -> (Decoded, DynamicImage) {
    let dir = tmpdir();
    let input = save(&src, dir.path(), "in.png");
    let decoded = read_image(&input, &ReadOptions::default()).unwrap();
    let out = dir.path().join(out_name);
    write_image(&out, &decoded, &WriteOptions::default()).unwrap();
    (decoded, image::open(&out).unwrap())
}

#[test]
fn grey_is_read_as_rgb_and_written_grey() {
    let grey = DynamicImage::ImageRgb8(pattern(16, 8)).to_luma8();
    let (decoded, written) = round_trip(DynamicImage::ImageLuma8(grey.clone()), "out.png");
    assert!(decoded.info.grey);
    let p = decoded.rgb.pixel(3, 2);
    assert!(p[0] == p[1] && p[1] == p[2]);
    assert_eq!(written.as_luma8().expect("grey output"), &grey);
}

#[test]
fn grey_alpha_keeps_alpha_untouched() {
    let la = ImageBuffer::from_fn(10, 6, |x, y| {
        image::LumaA([(x * 20) as u8, (y * 40 + 3) as u8])
    });
    let (decoded, written) = round_trip(DynamicImage::ImageLumaA8(la.clone()), "out.png");
    assert!(decoded.info.grey && decoded.alpha.is_some());
    assert_eq!(written.as_luma_alpha8().expect("grey+alpha output"), &la);
}

/// Grey+alpha, 8- and 16-bit, goes out in every output format, alpha kept where the format
/// holds it. (Found by fuzzing: the TIFF encoder refuses grey+alpha, and a decoded one could
/// not be written as .tif; fuzz/corpus/decode_image/grey-trns-tiff-crash.png.)
#[test]
fn grey_alpha_is_written_in_every_format() {
    let la8 = ImageBuffer::from_fn(10, 6, |x, y| {
        image::LumaA([(x * 20) as u8, (y * 40 + 3) as u8])
    });
    let la16 = ImageBuffer::from_fn(10, 6, |x, y| {
        image::LumaA([x as u16 * 6000, y as u16 * 9000 + 5])
    });
    for src in [
        DynamicImage::ImageLumaA8(la8),
        DynamicImage::ImageLumaA16(la16),
    ] {
        for ext in ["png", "jpg", "tif", "webp", "bmp"] {
            let (_, written) = round_trip(src.clone(), &format!("o.{ext}"));
            assert_eq!((written.width(), written.height()), (10, 6), "{ext}");
            let alpha_kept = ext != "jpg";
            assert_eq!(written.color().has_alpha(), alpha_kept, "{ext}");
            if alpha_kept {
                // Same grey value and alpha, to the 8 bits every format holds (± 1 for the
                // rounding of a 16-bit source).
                let (got, want) = (written.to_rgba8(), src.to_rgba8());
                let worst = got
                    .iter()
                    .zip(want.iter())
                    .map(|(a, b)| a.abs_diff(*b))
                    .max();
                assert!(worst <= Some(1), "{ext}: off by {worst:?}");
            }
        }
    }
}

/// The fuzz find itself: a 16×16 grey PNG whose tRNS chunk makes it grey+alpha.
#[test]
fn grey_trns_png_is_written_as_tiff() {
    let input = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus/decode_image/grey-trns-tiff-crash.png");
    let decoded = read_image(&input, &ReadOptions::default()).unwrap();
    assert!(decoded.info.grey && decoded.alpha.is_some());
    let dir = tmpdir();
    let out = dir.path().join("out.tif");
    write_image(&out, &decoded, &WriteOptions::default()).unwrap();
    assert!(image::open(&out).unwrap().color().has_alpha());
}

#[test]
fn rgba_alpha_passes_through() {
    let rgba = ImageBuffer::from_fn(7, 9, |x, y| {
        image::Rgba([x as u8 * 30, y as u8 * 20, 99, (x * y * 3) as u8])
    });
    let (_, written) = round_trip(DynamicImage::ImageRgba8(rgba.clone()), "out.webp");
    assert_eq!(written.as_rgba8().expect("rgba output"), &rgba);
}

#[test]
fn sixteen_bit_stays_sixteen_bit() {
    let rgb16 = ImageBuffer::from_fn(8, 4, |x, y| {
        image::Rgb([x as u16 * 8191, y as u16 * 16000 + 7, 65535 - x as u16])
    });
    for ext in ["png", "tiff"] {
        let (decoded, written) =
            round_trip(DynamicImage::ImageRgb16(rgb16.clone()), &format!("o.{ext}"));
        assert_eq!(decoded.info.bit_depth, 16);
        assert_eq!(written.as_rgb16().expect("16-bit output"), &rgb16, "{ext}");
    }
    // JPEG holds 8 bits: written, not refused.
    let (_, jpeg) = round_trip(DynamicImage::ImageRgb16(rgb16), "o.jpg");
    assert!(jpeg.as_rgb8().is_some());
}

#[test]
fn cmyk_jpeg_is_read_as_rgb() {
    let dir = tmpdir();
    let path = dir.path().join("cmyk.jpg");
    // Pure cyan ink (C=255, M=Y=K=0) on 16×16 pixels.
    let cmyk: Vec<u8> = (0..16 * 16).flat_map(|_| [255u8, 0, 0, 0]).collect();
    jpeg_encoder::Encoder::new_file(&path, 95)
        .unwrap()
        .encode(&cmyk, 16, 16, jpeg_encoder::ColorType::Cmyk)
        .unwrap();
    let d = read_image(&path, &ReadOptions::default()).unwrap();
    let [r, g, b] = d.rgb.pixel(8, 8);
    assert!(
        r < 0.1 && g > 0.9 && b > 0.9,
        "cyan expected, got {r} {g} {b}"
    );
}

#[test]
fn exif_orientation_is_applied() {
    let dir = tmpdir();
    // 8 wide, 4 high; EXIF orientation 6 = rotate 90° clockwise to view.
    let mut src = image::RgbImage::from_pixel(8, 4, image::Rgb([0, 0, 0]));
    src.put_pixel(0, 0, image::Rgb([255, 255, 255]));
    let jpeg = encode(&DynamicImage::ImageRgb8(src), ImageFormat::Jpeg);
    let path = dir.path().join("rotated.jpg");
    std::fs::write(&path, with_exif_orientation(&jpeg, 6)).unwrap();
    let d = read_image(&path, &ReadOptions::default()).unwrap();
    assert_eq!((d.rgb.width(), d.rgb.height()), (4, 8));
    // The top-left corner moves to the top-right.
    assert!(d.rgb.pixel(3, 0)[0] > 0.5 && d.rgb.pixel(0, 0)[0] < 0.5);
}

#[test]
fn write_is_atomic_and_leaves_no_temp_files() {
    let dir = tmpdir();
    let input = save(
        &DynamicImage::ImageRgb8(pattern(8, 8)),
        dir.path(),
        "in.png",
    );
    let d = read_image(&input, &ReadOptions::default()).unwrap();
    // Unknown extension: refused, nothing written.
    let bad = dir.path().join("out.gif");
    assert!(write_image(&bad, &d, &WriteOptions::default()).is_err());
    // Missing folder: refused, nothing written.
    let missing = dir.path().join("no/such/dir/out.png");
    assert!(write_image(&missing, &d, &WriteOptions::default()).is_err());
    let out = dir.path().join("out.png");
    write_image(&out, &d, &WriteOptions::default()).unwrap();
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["in.png", "out.png"]);
}

#[test]
fn jpeg_quality_changes_the_file() {
    let dir = tmpdir();
    let input = save(
        &DynamicImage::ImageRgb8(pattern(64, 64)),
        dir.path(),
        "in.png",
    );
    let d = read_image(&input, &ReadOptions::default()).unwrap();
    let size = |q: u8| {
        let p = dir.path().join(format!("q{q}.jpg"));
        write_image(&p, &d, &WriteOptions { jpeg_quality: q }).unwrap();
        std::fs::metadata(p).unwrap().len()
    };
    assert!(size(20) < size(95));
}

/// A valid PNG header claiming `w × h` RGB8 pixels, followed by a few bytes of image data:
/// what a hostile or damaged file looks like to a decoder that trusts the header.
fn png_header_only(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [
        (b"IHDR", ihdr),
        (b"IDAT", vec![0x78, 0x9C, 0x63, 0, 0, 0, 1, 0, 1]),
        (b"IEND", vec![]),
    ] {
        let mut chunk = kind.to_vec();
        chunk.extend_from_slice(&data);
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(&chunk);
        out.extend_from_slice(&crc32(&chunk).to_be_bytes());
    }
    out
}

/// CRC-32 (IEEE), as PNG chunks carry it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Inserts an APP1 EXIF segment holding only the Orientation tag after the JPEG's SOI marker.
fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = b"II*\0".to_vec();
    tiff.extend_from_slice(&8u32.to_le_bytes()); // first IFD right after the header
    tiff.extend_from_slice(&1u16.to_le_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_le_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_le_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_le_bytes()); // count
    tiff.extend_from_slice(&orientation.to_le_bytes());
    tiff.extend_from_slice(&[0, 0]); // value padding
    tiff.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

#[test]
fn icc_profile_is_carried_to_the_output() {
    use image::ImageEncoder;
    let dir = tmpdir();
    let input = dir.path().join("tagged.png");
    // Any bytes do for the container; a real profile would be an ICC file.
    let icc: Vec<u8> = (0..300u32).map(|i| (i * 7 % 251) as u8).collect();
    let src = pattern(12, 9);
    let mut enc = image::codecs::png::PngEncoder::new(std::fs::File::create(&input).unwrap());
    enc.set_icc_profile(icc.clone()).unwrap();
    enc.write_image(src.as_raw(), 12, 9, image::ExtendedColorType::Rgb8)
        .unwrap();

    let d = read_image(&input, &ReadOptions::default()).unwrap();
    assert_eq!(d.info.icc_profile.as_deref(), Some(&icc[..]));
    for ext in ["png", "jpg", "webp"] {
        let out = dir.path().join(format!("out.{ext}"));
        write_image(&out, &d, &WriteOptions::default()).unwrap();
        let back = read_image(&out, &ReadOptions::default()).unwrap();
        assert_eq!(back.info.icc_profile.as_deref(), Some(&icc[..]), "{ext}");
    }
}
