//! The images shown in `report.html`: reduced JPEG `data:` URIs.

use super::model::Thumb;
use base64::Engine as _;
use dehaze_core::metrics::Rgb8;

/// The image reduced to at most `long_side` pixels on its longest side, as a JPEG (quality 85)
/// `data:` URI.
pub fn thumbnail(img: &Rgb8, long_side: u32) -> Result<Thumb, String> {
    let (w, h) = (img.width() as u32, img.height() as u32);
    let full = image::RgbImage::from_raw(w, h, img.data().to_vec())
        .ok_or("image buffer of the wrong size")?;
    let longest = w.max(h);
    let small = if longest > long_side {
        let scale = f64::from(long_side) / f64::from(longest);
        let nw = ((f64::from(w) * scale).round() as u32).max(1);
        let nh = ((f64::from(h) * scale).round() as u32).max(1);
        image::imageops::resize(&full, nw, nh, image::imageops::FilterType::Triangle)
    } else {
        full
    };
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode_image(&small)
        .map_err(|e| e.to_string())?;
    Ok(Thumb {
        data_uri: format!(
            "data:image/jpeg;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&jpeg)
        ),
        width: small.width(),
        height: small.height(),
    })
}
