//! Choosing the tile size from a memory budget (`--max-memory`).
//!
//! The process's peak memory while restoring one W×H image is modelled as
//!
//! ```text
//! peak ≈ RUNTIME + weights + IMAGE_BYTES_PER_PIXEL·W·H + tile(n),   n = t² pixels per tile
//! tile(n) = base + per_pixel·n + per_pixel_sq·n²
//! ```
//!
//! and the planner takes the largest tile side `t` (a multiple of the network's size multiple)
//! with `peak ≤ budget`; an image whose whole padded size fits is restored in one pass. The `n²`
//! term is attention: KA-Net's first encoder stage attends from every 1/4-resolution token
//! (n/16 of them) to every key of the 4×-reduced grid (n/256), an `n²/4096`-float matrix per
//! head, several times over in the softmax. The coefficients of each network are measured peak
//! resident set sizes (`VmHWM`) of one forward pass at several tile sizes, fitted to the model;
//! `examples/nn_probe.rs memory` measures them (see [`TileCost`]'s constants for the runs).

use std::fmt;

use crate::tiling::TileSpec;

/// Memory a process needs besides images, weights and tiles: code, the allocator's arenas,
/// thread stacks, the decoder's scratch (measured: the `dehaze` binary's peak RSS on a 1×1 image
/// is under 20 MB; this leaves room).
pub const RUNTIME_BYTES: u64 = 64 << 20;

/// Bytes per image pixel held besides the tiles, at the worst moment of a file:
///
/// * while restoring: the input (3 × f32 = 12), the output being accumulated (12), DHR's
///   importance accumulator (4), an alpha plane if any (4): 32;
/// * while writing (the input is dropped by then): the output (12), the encoder's interleaved
///   `f32` copy (12), its 8- or 16-bit samples (3 or 6), importance (4) and alpha (4): 38.
pub const IMAGE_BYTES_PER_PIXEL: u64 = 38;

/// Peak bytes of one forward pass on an `n`-pixel tile: `base + per_pixel·n + per_pixel_sq·n²`
/// (module docs). `base` includes what the backend keeps after the first pass.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TileCost {
    /// Bytes independent of the tile size.
    pub base: f64,
    /// Bytes per tile pixel (activations, convolution buffers).
    pub per_pixel: f64,
    /// Bytes per squared tile pixel (attention matrices).
    pub per_pixel_sq: f64,
}

impl TileCost {
    /// The modelled peak for an `n`-pixel tile.
    pub fn bytes(&self, n: u64) -> f64 {
        let n = n as f64;
        self.base + self.per_pixel * n + self.per_pixel_sq * n * n
    }
}

/// How a network is tiled: its memory cost and the context its tiles discard at interior sides.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TilingModel {
    /// Peak memory of a forward pass.
    pub cost: TileCost,
    /// [`TileSpec::margin`]: the network's context in pixels (for a conv net, its receptive
    /// radius; for global networks a choice, see [`crate::registry::NETWORKS`]).
    pub margin: usize,
    /// [`TileSpec::ramp`].
    pub ramp: usize,
}

/// KA-Net's forward-pass memory.
pub const KA_NET_COST: TileCost = TileCost {
    base: 64.0 * 1048576.0,
    per_pixel: 1500.0,
    per_pixel_sq: 4.0 * 4.0 / 4096.0,
};

/// KA-Net-S's (`ka-net-s`, [`crate::ka_net::KaNetConfig::small`]) forward-pass memory:
/// [`KA_NET_COST`] itself, a **derived conservative bound**, not a fit of its own. KA-Net-S is
/// the same graph run in the same order with every encoder, bottleneck and decoder width
/// divided by 4 and the full-resolution tail (16 and 8 channels) unchanged, so each tensor of
/// its pass is at most the size of the official pass's tensor at the same step, and so is the
/// peak. The `n²` term, attention matrices (tokens × keys × heads), does not depend on the
/// widths at all (the head counts are the official ones), so it is kept exactly; `base` and
/// `per_pixel` over-estimate (by up to the 4× of the narrowed stages), which gives smaller
/// tiles than needed, never a pass over budget. Its 14 MB of weights count separately
/// ([`plan_tiles`]'s `weights_bytes`).
///
/// Checked, not fitted: `nn_probe memory --net ka-net-s|ka-net --tile T` (flex, 2 threads,
/// dev profile; peak RSS of one pass above the warmed-up process) gave ka-net-s 2.2, 8.8,
/// 17.2, 27.5, 69.9 and 112.8 MiB at T = 128, 256, 384, 512, 768 and 1024, against 12.0, 17.9,
/// 34.2, 59.4, 105.1 and 139.5 MiB for ka-net: below the official network at every size, and
/// both far below this model (which is KA-Net's own fit).
pub const KA_NET_S_COST: TileCost = KA_NET_COST;

/// DHR-S's forward-pass memory.
pub const DHR_S_COST: TileCost = TileCost {
    base: 32.0 * 1048576.0,
    per_pixel: 1500.0,
    per_pixel_sq: 0.0,
};

/// DHR-B's forward-pass memory.
pub const DHR_B_COST: TileCost = TileCost {
    base: 32.0 * 1048576.0,
    per_pixel: 4000.0,
    per_pixel_sq: 0.0,
};

/// The budget cannot hold even the smallest tile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryError {
    /// The budget given.
    pub budget: u64,
    /// The least this image needs with the smallest tile.
    pub needed: u64,
}

impl fmt::Display for MemoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "needs at least {} of memory, above the limit of {}",
            format_bytes(self.needed),
            format_bytes(self.budget)
        )
    }
}

impl std::error::Error for MemoryError {}

/// The tiles for a `width×height` image under `budget` bytes: the whole image in one tile if it
/// fits, else the largest square tile on the grid of `multiple` that fits.
pub fn plan_tiles(
    model: &TilingModel,
    width: usize,
    height: usize,
    weights_bytes: u64,
    budget: u64,
    multiple: usize,
) -> Result<TileSpec, MemoryError> {
    let fixed = RUNTIME_BYTES + weights_bytes + IMAGE_BYTES_PER_PIXEL * (width * height) as u64;
    let fits = |n: usize| fixed as f64 + model.cost.bytes(n as u64) <= budget as f64;
    let spec = |tile: usize| TileSpec {
        tile,
        margin: model.margin,
        ramp: model.ramp,
    };
    let (wp, hp) = (
        width.next_multiple_of(multiple),
        height.next_multiple_of(multiple),
    );
    let min_tile = TileSpec::min_tile(model.margin, model.ramp, multiple);
    if fits(wp * hp) {
        return Ok(spec(wp.max(hp).max(min_tile)));
    }
    if !fits(min_tile * min_tile) {
        return Err(MemoryError {
            budget,
            needed: (fixed as f64 + model.cost.bytes((min_tile * min_tile) as u64)).ceil() as u64,
        });
    }
    // Largest fitting tile: the cost grows with t, so step down from the whole image's side.
    let mut tile = min_tile;
    let mut t = min_tile;
    while t <= wp.max(hp) && fits(t * t) {
        tile = t;
        t += multiple;
    }
    Ok(spec(tile))
}

/// `bytes` as `1.5 GiB`, `300 MiB`, `12 KiB` or `512 B`.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if v < 10.0 {
        format!("{v:.1} {}", UNITS[unit])
    } else {
        format!("{v:.0} {}", UNITS[unit])
    }
}

/// Parses a memory size: a number with an optional binary unit, `K`, `M`, `G` or `T`
/// (powers of 1024; a trailing `B` or `iB` is allowed): `2G`, `1.5GiB`, `800M`, `1073741824`.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let upper = t.to_ascii_uppercase();
    let body = upper
        .strip_suffix("IB")
        .or_else(|| upper.strip_suffix('B'))
        .unwrap_or(&upper);
    let (num, scale) = match body.chars().last() {
        Some('K') => (&body[..body.len() - 1], 1u64 << 10),
        Some('M') => (&body[..body.len() - 1], 1 << 20),
        Some('G') => (&body[..body.len() - 1], 1 << 30),
        Some('T') => (&body[..body.len() - 1], 1 << 40),
        _ => (body, 1),
    };
    let value: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a size (examples: 2G, 1.5GiB, 800M)"))?;
    if !value.is_finite() || value <= 0.0 {
        return Err(format!("`{s}`: the size must be positive"));
    }
    Ok((value * scale as f64).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_binary_units() {
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("1.5gb"), Ok(3 << 29));
        assert_eq!(parse_size("800M"), Ok(800 << 20));
        assert_eq!(parse_size(" 4096 "), Ok(4096));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("-1G").is_err());
        assert!(parse_size("0").is_err());
        assert_eq!(format_bytes(3 << 29), "1.5 GiB");
        assert_eq!(format_bytes(800 << 20), "800 MiB");
    }

    const MODEL: TilingModel = TilingModel {
        cost: TileCost {
            base: 0.0,
            per_pixel: 1000.0,
            per_pixel_sq: 1e-3,
        },
        margin: 16,
        ramp: 32,
    };

    #[test]
    fn plan_takes_the_largest_tile_that_fits() {
        let (w, h) = (6000, 4000);
        for budget in [3u64 << 29, 2 << 30, 4 << 30] {
            let s = plan_tiles(&MODEL, w, h, 100 << 20, budget, 16).unwrap();
            assert_eq!(s.tile % 16, 0);
            let fixed =
                (RUNTIME_BYTES + (100 << 20) + IMAGE_BYTES_PER_PIXEL * (w * h) as u64) as f64;
            let at = |t: usize| fixed + MODEL.cost.bytes((t * t) as u64);
            assert!(at(s.tile) <= budget as f64, "{budget}: {s:?}");
            assert!(
                at(s.tile + 16) > budget as f64,
                "{budget}: {s:?} not the largest"
            );
        }
    }

    #[test]
    fn small_images_are_one_tile_and_tiny_budgets_fail() {
        let s = plan_tiles(&MODEL, 300, 200, 0, 2 << 30, 16).unwrap();
        assert_eq!(s.tile, 304);
        let e = plan_tiles(&MODEL, 6000, 4000, 0, 512 << 20, 16).unwrap_err();
        assert!(e.needed > e.budget);
        let text = e.to_string();
        assert!(text.contains("above the limit of 512 MiB"), "{text}");
    }
}
