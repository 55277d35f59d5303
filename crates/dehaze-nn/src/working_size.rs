//! Full-resolution output at a fixed cost: the network runs on a copy downscaled to a working
//! size, and its correction is carried to full resolution by guided upsampling
//! ([`dehaze_core::filters::guided_upsample`]: per window and channel `J_l ≈ A·I_l + B`, then
//! `J = up(A)·I + up(B)` at full size).
//!
//! Cost: one network pass on at most `long_side²` pixels whatever the photo's size, plus O(1)
//! work per full-resolution pixel. Because haze removal is locally affine in the input (the
//! scattering model `I = J·t + A∞·(1 − t)` gives `J = I/t − A∞·(1 − t)/t`, affine in `I` where
//! `t` is smooth), little is lost; and unlike tiles, the networks' global parts (KA-Net's
//! attention, DHR's importance softmax) see the whole image. What is lost is measured in
//! `bench/guided_upsample.sh` (bench/README.md). [`NetworkSize::Full`] keeps the
//! full-resolution pass (tiled to the memory limit, [`crate::tiling`]).

use dehaze_core::buffer::RgbImage;
use dehaze_core::filters::guided_upsample::{
    downscale_area, fit_affine, resize_bilinear, working_size, GuidedUpsample,
};

use crate::tiling::RestoredImage;

/// Where the network runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetworkSize {
    /// On the image itself (tiled if it does not fit in memory).
    Full,
    /// On a copy whose longer side is at most this many pixels; images already that small run
    /// as they are.
    LongSide(usize),
}

impl NetworkSize {
    /// Parses `full` or a long side in pixels (at least 16, the networks' size multiple).
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.eq_ignore_ascii_case("full") {
            return Ok(Self::Full);
        }
        match s.parse::<usize>() {
            Ok(n) if n >= 16 => Ok(Self::LongSide(n)),
            _ => Err(format!(
                "expected `full` or a long side in pixels (at least 16), got `{s}`"
            )),
        }
    }

    /// The size the network sees for a `w × h` image.
    pub fn network_input(self, w: usize, h: usize) -> (usize, usize) {
        match self {
            Self::Full => (w, h),
            Self::LongSide(n) => working_size(w, h, n),
        }
    }
}

/// Restores `image` with `restore` at `size` (module docs): images above the working size are
/// downscaled ([`downscale_area`]), restored, and upsampled by the guided fit with `params`,
/// written over `image`'s own buffer; the importance map, if any, is resized bilinearly. Other
/// images go to `restore` as they are. Errors of `restore` are passed on.
pub fn restore_at_size<E>(
    image: RgbImage,
    size: NetworkSize,
    params: &GuidedUpsample,
    restore: impl FnOnce(&RgbImage) -> Result<RestoredImage, E>,
) -> Result<RestoredImage, E> {
    let (w, h) = (image.width(), image.height());
    let (lw, lh) = size.network_input(w, h);
    if (lw, lh) == (w, h) {
        return restore(&image);
    }
    let low = downscale_area(&image, lw, lh);
    let restored = restore(&low)?;
    let coefficients = fit_affine(&low, &restored.image, params);
    drop((low, restored.image));
    let mut full = image;
    coefficients.apply_in_place(&mut full);
    Ok(RestoredImage {
        image: full,
        importance: restored.importance.map(|m| resize_bilinear(&m, w, h)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dehaze_core::buffer::Plane;

    #[test]
    fn parses_full_and_sizes() {
        assert_eq!(NetworkSize::parse("full"), Ok(NetworkSize::Full));
        assert_eq!(NetworkSize::parse("768"), Ok(NetworkSize::LongSide(768)));
        assert!(NetworkSize::parse("8").is_err());
        assert!(NetworkSize::parse("big").is_err());
    }

    #[test]
    fn small_images_pass_through_and_large_ones_reach_full_size() {
        let img =
            RgbImage::from_planar(40, 20, (0..2400).map(|i| (i % 97) as f32 / 97.0).collect());
        // A stand-in "network": J = 0.5·I + 0.2 with a constant importance map. It must see
        // the image itself when it fits, a 20×10 copy when the long side is 20.
        let run = |size: NetworkSize| {
            let mut seen = (0, 0);
            let out = restore_at_size::<()>(
                img.clone(),
                size,
                &GuidedUpsample {
                    eps: 1e-7,
                    ..GuidedUpsample::default()
                },
                |x| {
                    seen = (x.width(), x.height());
                    let data = x.data().iter().map(|v| 0.5 * v + 0.2).collect();
                    Ok(RestoredImage {
                        image: RgbImage::from_planar(x.width(), x.height(), data),
                        importance: Some(Plane::filled(x.width(), x.height(), 1.0)),
                    })
                },
            )
            .unwrap();
            (seen, out)
        };
        let (seen, out) = run(NetworkSize::LongSide(64));
        assert_eq!(seen, (40, 20));
        assert_eq!(out.image.data()[5], 0.5 * img.data()[5] + 0.2);
        let (seen, out) = run(NetworkSize::LongSide(20));
        assert_eq!(seen, (20, 10));
        assert_eq!((out.image.width(), out.image.height()), (40, 20));
        let map = out.importance.unwrap();
        assert_eq!((map.width(), map.height()), (40, 20));
        for (&o, &i) in out.image.data().iter().zip(img.data()) {
            assert!((o - (0.5 * i + 0.2)).abs() < 1e-3, "{o} vs {i}");
        }
    }
}
