//! In-memory image buffers.
//!
//! Images are stored **planar** (`R` plane, then `G`, then `B`), as `f32` in `[0, 1]`, rows
//! top to bottom. Planar storage suits the dehazing priors, which work per channel and per
//! scalar map (dark channel, transmission): each filter pass streams one contiguous plane and
//! the inner loops vectorise. `f32` halves the memory traffic of `f64`; the filters that need
//! more range (running box sums) accumulate in `f64` internally.

/// A single-channel `f32` image (a dark channel, a transmission map, a grey image, an alpha
/// channel), row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Plane {
    width: usize,
    height: usize,
    data: Vec<f32>,
}

impl Plane {
    /// A `width × height` plane filled with `value`.
    pub fn filled(width: usize, height: usize, value: f32) -> Self {
        Self {
            width,
            height,
            data: vec![value; width * height],
        }
    }

    /// Wraps row-major samples. Panics if `data.len() != width * height`.
    pub fn from_vec(width: usize, height: usize, data: Vec<f32>) -> Self {
        assert_eq!(data.len(), width * height, "plane size mismatch");
        Self {
            width,
            height,
            data,
        }
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn height(&self) -> usize {
        self.height
    }

    /// Row-major samples.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    pub fn data_mut(&mut self) -> &mut [f32] {
        &mut self.data
    }

    pub fn into_vec(self) -> Vec<f32> {
        self.data
    }

    /// The sample at column `x`, row `y`.
    pub fn get(&self, x: usize, y: usize) -> f32 {
        self.data[y * self.width + x]
    }

    /// Row `y` as a slice.
    pub fn row(&self, y: usize) -> &[f32] {
        &self.data[y * self.width..(y + 1) * self.width]
    }
}

/// A planar RGB `f32` image in `[0, 1]`.
#[derive(Clone, Debug, PartialEq)]
pub struct RgbImage {
    width: usize,
    height: usize,
    /// `3 * width * height` samples: the R plane, then G, then B.
    data: Vec<f32>,
}

impl RgbImage {
    /// The `cw × ch` window whose top-left pixel is `(x0, y0)`.
    ///
    /// # Panics
    /// If the window leaves the image.
    pub fn crop(&self, x0: usize, y0: usize, cw: usize, ch: usize) -> RgbImage {
        assert!(
            x0 + cw <= self.width() && y0 + ch <= self.height(),
            "crop outside the image"
        );
        let w = self.width();
        let mut out = Vec::with_capacity(3 * cw * ch);
        for p in self.planes() {
            for y in y0..y0 + ch {
                out.extend_from_slice(&p[y * w + x0..y * w + x0 + cw]);
            }
        }
        RgbImage::from_planar(cw, ch, out)
    }

    /// A black `width × height` image.
    pub fn new(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            data: vec![0.0; 3 * width * height],
        }
    }

    /// Wraps planar samples (R plane, G plane, B plane). Panics on a size mismatch.
    pub fn from_planar(width: usize, height: usize, data: Vec<f32>) -> Self {
        assert_eq!(data.len(), 3 * width * height, "image size mismatch");
        Self {
            width,
            height,
            data,
        }
    }

    /// Builds an image from interleaved `RGBRGB…` samples.
    pub fn from_interleaved(width: usize, height: usize, rgb: &[f32]) -> Self {
        assert_eq!(rgb.len(), 3 * width * height, "image size mismatch");
        let n = width * height;
        let mut data = vec![0.0; 3 * n];
        let (r, gb) = data.split_at_mut(n);
        let (g, b) = gb.split_at_mut(n);
        for (i, px) in rgb.chunks_exact(3).enumerate() {
            r[i] = px[0];
            g[i] = px[1];
            b[i] = px[2];
        }
        Self {
            width,
            height,
            data,
        }
    }

    /// An RGB image whose three planes are copies of `grey`.
    pub fn from_grey(grey: &Plane) -> Self {
        let mut data = Vec::with_capacity(3 * grey.data.len());
        for _ in 0..3 {
            data.extend_from_slice(&grey.data);
        }
        Self {
            width: grey.width,
            height: grey.height,
            data,
        }
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn height(&self) -> usize {
        self.height
    }

    /// Number of pixels, `width * height`.
    pub fn pixels(&self) -> usize {
        self.width * self.height
    }

    /// Channel `c` (0 = R, 1 = G, 2 = B) as a row-major slice.
    pub fn plane(&self, c: usize) -> &[f32] {
        let n = self.pixels();
        &self.data[c * n..(c + 1) * n]
    }

    /// The three planes at once.
    pub fn planes(&self) -> [&[f32]; 3] {
        let n = self.pixels();
        let (r, gb) = self.data.split_at(n);
        let (g, b) = gb.split_at(n);
        [r, g, b]
    }

    /// The three planes, mutably.
    pub fn planes_mut(&mut self) -> [&mut [f32]; 3] {
        let n = self.pixels();
        let (r, gb) = self.data.split_at_mut(n);
        let (g, b) = gb.split_at_mut(n);
        [r, g, b]
    }

    /// All samples, planar.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    pub fn into_vec(self) -> Vec<f32> {
        self.data
    }

    /// The `[R, G, B]` value at column `x`, row `y`.
    pub fn pixel(&self, x: usize, y: usize) -> [f32; 3] {
        let i = y * self.width + x;
        let n = self.pixels();
        [self.data[i], self.data[n + i], self.data[2 * n + i]]
    }

    /// Interleaved `RGBRGB…` samples.
    pub fn to_interleaved(&self) -> Vec<f32> {
        let [r, g, b] = self.planes();
        let mut out = Vec::with_capacity(3 * self.pixels());
        for i in 0..self.pixels() {
            out.extend_from_slice(&[r[i], g[i], b[i]]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleaved_round_trip() {
        let rgb: Vec<f32> = (0..12).map(|v| v as f32 / 12.0).collect();
        let img = RgbImage::from_interleaved(2, 2, &rgb);
        assert_eq!(img.pixel(1, 0), [3.0 / 12.0, 4.0 / 12.0, 5.0 / 12.0]);
        assert_eq!(
            img.plane(2),
            &[2.0 / 12.0, 5.0 / 12.0, 8.0 / 12.0, 11.0 / 12.0]
        );
        assert_eq!(img.to_interleaved(), rgb);
    }
}
