//! Tiled inference: a network run on an image of any size in bounded memory.
//!
//! The image is covered by overlapping tiles (every tile the same size, a multiple of the
//! network's size multiple, starts on that multiple's grid); each tile is restored on its own and
//! the results are blended with a smooth window, normalised by the accumulated weight:
//!
//! ```text
//! J(x, y) = Σ_k w_k(x, y)·J_k(x, y) / Σ_k w_k(x, y),   w_k(x, y) = u_k(x)·v_k(y)
//! ```
//!
//! Along one axis, a tile's window `u` is 1 except at a side shared with a neighbour (an
//! *interior* side), where it is 0 over the first `margin` pixels — the tile's own border, whose
//! output is wrong for lack of context — and then rises as a raised cosine
//! `½ − ½·cos(π·(i + ½)/ramp)` over `ramp` pixels. Neighbours overlap by at least
//! `overlap = 2·margin + ramp`, so where two tiles overlap by exactly that, one's ramp falls as
//! the other's rises and the weights sum to 1 (`sin² + cos²`); where they overlap more (the last
//! tile, pushed back to end at the image's edge), the normalisation takes care of it. Sides on the
//! image's own edge have weight 1 to the edge: there is no other tile, and the network sees the
//! same border as in a whole-image pass.
//!
//! Because the windows are products and the tiles form a grid, the accumulated weight is a
//! product too, `Σ_k w_k(x, y) = U(x)·V(y)`: two 1-D sums instead of a weight plane (96 MB less at
//! 24 MP).
//!
//! # Exactness
//!
//! For a network whose output at a pixel depends only on inputs within `r` pixels (a conv net of
//! receptive radius `r`), `margin ≥ r` makes the tiled result equal to the whole-image pass up to
//! float rounding: every tile contributes only where it sees the same context as the whole image
//! (the test `tiled_equals_whole_for_a_local_network` checks 1e-6). Networks with global
//! operations are not tile-invariant, whatever the overlap: KA-Net's attention spans the tile,
//! its decoder's learned queries are resampled to the tile's token count, and its gating
//! averages over the tile; DHR's importance is a softmax over the tile's patches (so the saved
//! importance map is normalised per tile, then blended). Their tiled output is a valid
//! restoration of each neighbourhood, not the whole-image one; the difference depends on the
//! image and is what `--max-memory` trades for memory.

use burn::tensor::{Device, Tensor, TensorData};
use dehaze_core::buffer::{Plane, RgbImage};

use crate::inference::{reflect_index, tensor_values, Restored};

/// How an image is cut into tiles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TileSpec {
    /// Tile side in pixels (a multiple of the network's size multiple). Images no larger than
    /// this along an axis get one tile of their own (padded) size along it.
    pub tile: usize,
    /// Pixels at a tile's interior side whose output is discarded (weight 0).
    pub margin: usize,
    /// Length of the raised-cosine ramp after the margin.
    pub ramp: usize,
}

impl TileSpec {
    /// The least overlap between neighbours, `2·margin + ramp`.
    pub fn overlap(&self) -> usize {
        2 * self.margin + self.ramp
    }

    /// The smallest tile this margin and ramp allow: the overlap plus one step of `multiple`,
    /// rounded up to `multiple`.
    pub fn min_tile(margin: usize, ramp: usize, multiple: usize) -> usize {
        (2 * margin + ramp + multiple).next_multiple_of(multiple)
    }
}

/// The tiles along one axis of length `len`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AxisTiles {
    /// Length of the image along this axis.
    pub len: usize,
    /// Length of every tile (a multiple of the size multiple; may exceed `len`, the excess is
    /// read by reflection).
    pub tile: usize,
    /// First pixel of each tile, increasing; the first is 0, the last ends at `len` rounded up to
    /// the size multiple.
    pub starts: Vec<usize>,
    margin: usize,
    ramp: usize,
}

impl AxisTiles {
    /// Tiles covering `len` pixels with `spec`, on the grid of `multiple`.
    ///
    /// Panics if `spec.tile` is not a multiple of `multiple` or is below
    /// [`TileSpec::min_tile`], or if `ramp` is 0 (these are programming errors; the planner
    /// never produces them).
    pub fn new(len: usize, multiple: usize, spec: &TileSpec) -> Self {
        assert!(
            len > 0 && multiple > 0 && spec.ramp > 0,
            "empty axis or ramp"
        );
        assert!(
            spec.tile.is_multiple_of(multiple)
                && spec.tile >= TileSpec::min_tile(spec.margin, spec.ramp, multiple),
            "tile {} too small or off the grid of {multiple} for overlap {}",
            spec.tile,
            spec.overlap()
        );
        let padded = len.next_multiple_of(multiple);
        let (tile, starts) = if padded <= spec.tile {
            (padded, vec![0])
        } else {
            // The largest step on the grid that keeps neighbours `overlap` apart.
            let step = (spec.tile - spec.overlap()) / multiple * multiple;
            let last = padded - spec.tile;
            let mut starts: Vec<usize> =
                (0..).map(|k| k * step).take_while(|&s| s < last).collect();
            starts.push(last);
            (spec.tile, starts)
        };
        AxisTiles {
            len,
            tile,
            starts,
            margin: spec.margin,
            ramp: spec.ramp,
        }
    }

    /// The window of tile `k`, one weight per tile pixel (module docs).
    pub fn window(&self, k: usize) -> Vec<f32> {
        let left = k > 0;
        let right = k + 1 < self.starts.len();
        (0..self.tile)
            .map(|i| {
                let mut w = 1.0;
                if left {
                    w *= self.rise(i);
                }
                if right {
                    w *= self.rise(self.tile - 1 - i);
                }
                w
            })
            .collect()
    }

    /// The window's rise at distance `i` from an interior side.
    fn rise(&self, i: usize) -> f32 {
        if i < self.margin {
            0.0
        } else if i >= self.margin + self.ramp {
            1.0
        } else {
            let t = (i - self.margin) as f64 + 0.5;
            (0.5 - 0.5 * (std::f64::consts::PI * t / self.ramp as f64).cos()) as f32
        }
    }

    /// The accumulated weight `Σ_k u_k(x)` at each of the `len` image pixels (all positive).
    pub fn coverage(&self) -> Vec<f32> {
        let mut sum = vec![0.0f32; self.len];
        for (k, &s) in self.starts.iter().enumerate() {
            for (i, w) in self.window(k).into_iter().enumerate() {
                if let Some(acc) = sum.get_mut(s + i) {
                    *acc += w;
                }
            }
        }
        sum
    }
}

/// A restored image and, for DHR, its importance map, at the input's size.
#[derive(Clone, Debug)]
pub struct RestoredImage {
    /// The restored image in [0, 1].
    pub image: RgbImage,
    /// The per-pixel patch importance (see [`Restored::importance`]), blended across tiles.
    pub importance: Option<Plane>,
}

/// Restores `image` tile by tile (module docs) with `restore`, which receives `[1, 3, t, t']`
/// tensors on `device` in [0, 1] whose sides are multiples of `multiple`, and returns the same
/// size. `on_tile(done, total)` is called after each tile.
pub fn restore_tiled(
    image: &RgbImage,
    multiple: usize,
    spec: &TileSpec,
    device: &Device,
    mut restore: impl FnMut(Tensor<4>) -> Restored,
    mut on_tile: impl FnMut(usize, usize),
) -> RestoredImage {
    let (w, h) = (image.width(), image.height());
    let xs = AxisTiles::new(w, multiple, spec);
    let ys = AxisTiles::new(h, multiple, spec);
    let (tw, th) = (xs.tile, ys.tile);
    let total = xs.starts.len() * ys.starts.len();

    let mut out = RgbImage::new(w, h);
    let mut importance: Option<Plane> = None;
    let mut done = 0;
    for (ky, &sy) in ys.starts.iter().enumerate() {
        let wy = ys.window(ky);
        for (kx, &sx) in xs.starts.iter().enumerate() {
            let wx = xs.window(kx);
            let input = extract(image, sx, sy, tw, th, multiple);
            let restored = restore(Tensor::from_data(
                TensorData::new(input, [1, 3, th, tw]),
                device,
            ));
            let [n, c, rh, rw] = restored.image.dims();
            assert_eq!(
                (n, c, rh, rw),
                (1, 3, th, tw),
                "restore changed the tile's shape"
            );
            let values = tensor_values(restored.image);
            let (vw, vh) = ((w - sx).min(tw), (h - sy).min(th));
            for (c, plane) in out.planes_mut().into_iter().enumerate() {
                let tile = &values[c * th * tw..(c + 1) * th * tw];
                accumulate(plane, w, tile, tw, sx, sy, vw, vh, &wx, &wy);
            }
            if let Some(map) = restored.importance {
                let values = tensor_values(map);
                assert_eq!(values.len(), th * tw, "importance map not at tile size");
                let plane = importance.get_or_insert_with(|| Plane::filled(w, h, 0.0));
                accumulate(plane.data_mut(), w, &values, tw, sx, sy, vw, vh, &wx, &wy);
            }
            done += 1;
            on_tile(done, total);
        }
    }

    let (cx, cy) = (xs.coverage(), ys.coverage());
    let normalise = |plane: &mut [f32]| {
        for (row, &v) in plane.chunks_exact_mut(w).zip(&cy) {
            for (p, &u) in row.iter_mut().zip(&cx) {
                *p /= u * v;
            }
        }
    };
    for plane in out.planes_mut() {
        normalise(plane);
    }
    if let Some(map) = importance.as_mut() {
        normalise(map.data_mut());
    }
    RestoredImage {
        image: out,
        importance,
    }
}

/// The `tw×th` tile at (`sx`, `sy`) as planar RGB, reading past the image's right and bottom
/// edges by reflection (as [`crate::inference::restore_padded`] pads).
fn extract(
    image: &RgbImage,
    sx: usize,
    sy: usize,
    tw: usize,
    th: usize,
    multiple: usize,
) -> Vec<f32> {
    let (w, h) = (image.width(), image.height());
    let (pad_x, pad_y) = (
        w.next_multiple_of(multiple) - w,
        h.next_multiple_of(multiple) - h,
    );
    let cols: Vec<usize> = (sx..sx + tw).map(|x| reflect_index(x, w, pad_x)).collect();
    let mut buf = Vec::with_capacity(3 * tw * th);
    for plane in image.planes() {
        for y in sy..sy + th {
            let row = &plane[reflect_index(y, h, pad_y) * w..][..w];
            let inside = w.saturating_sub(sx).min(tw);
            buf.extend_from_slice(&row[sx..sx + inside]);
            buf.extend(cols[inside..].iter().map(|&x| row[x]));
        }
    }
    buf
}

/// Adds the window-weighted visible part (`vw×vh`) of a `tw`-wide tile at (`sx`, `sy`) into a
/// `w`-wide plane.
#[allow(clippy::too_many_arguments)]
fn accumulate(
    plane: &mut [f32],
    w: usize,
    tile: &[f32],
    tw: usize,
    sx: usize,
    sy: usize,
    vw: usize,
    vh: usize,
    wx: &[f32],
    wy: &[f32],
) {
    for y in 0..vh {
        let src = &tile[y * tw..][..vw];
        let dst = &mut plane[(sy + y) * w + sx..][..vw];
        let v = wy[y];
        for ((d, &s), &u) in dst.iter_mut().zip(src).zip(&wx[..vw]) {
            *d += u * v * s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(tile: usize, margin: usize, ramp: usize) -> TileSpec {
        TileSpec { tile, margin, ramp }
    }

    #[test]
    fn tiles_cover_the_axis_on_the_grid_with_the_overlap() {
        for len in [1, 15, 16, 17, 63, 64, 65, 200, 1000, 6000] {
            for s in [spec(64, 4, 8), spec(96, 8, 16), spec(512, 32, 64)] {
                let a = AxisTiles::new(len, 16, &s);
                let padded = len.next_multiple_of(16);
                assert_eq!(a.starts[0], 0);
                assert_eq!(a.starts.last().unwrap() + a.tile, padded, "len {len} {s:?}");
                for pair in a.starts.windows(2) {
                    assert!(pair[1] > pair[0]);
                    assert!(
                        pair[0] + a.tile >= pair[1] + s.overlap(),
                        "{len} {s:?} {a:?}"
                    );
                }
                assert!(a.starts.iter().all(|s| s % 16 == 0));
                let cov = a.coverage();
                assert!(cov.iter().all(|&c| c > 1e-3), "len {len} {s:?}: {cov:?}");
            }
        }
    }

    #[test]
    fn windows_sum_to_one_where_neighbours_overlap_exactly() {
        // tile 64, overlap 2·4 + 8 = 16 → step 48: 0, 48, 96 for 160 px, all overlaps exact.
        let a = AxisTiles::new(160, 16, &spec(64, 4, 8));
        assert_eq!(a.starts, vec![0, 48, 96]);
        for (x, c) in a.coverage().into_iter().enumerate() {
            assert!((c - 1.0).abs() < 1e-6, "x {x}: {c}");
        }
        // Zero in the margin, one past the ramp, strictly rising in between.
        let win = a.window(1);
        assert!(win[..4].iter().all(|&v| v == 0.0));
        assert!(win[12..52].iter().all(|&v| v == 1.0));
        assert!(win[4..12].windows(2).all(|p| p[1] > p[0]));
    }
}
