//! Separable image filters used by the priors.
//!
//! * [`min_filter`]: square minimum (erosion) filter, van Herk / Gil-Werman, O(1) per pixel;
//! * [`box_filter`]: mean over a square window clipped to the image, by running sums;
//! * [`guided_filter`]: He et al.'s guided filter (TPAMI 2013) built on the box filter;
//! * [`guided_upsample`]: its locally-linear model carrying a low-resolution result to full
//!   resolution (Fast Guided Filter, He & Sun 2015), with the area downscale that feeds it;
//! * [`clahe`]: contrast-limited adaptive histogram equalisation (OpenCV's, bit for bit).

pub mod box_filter;
pub mod clahe;
pub mod guided_filter;
pub mod guided_upsample;
pub mod min_filter;

/// Shared fixtures of the filter tests.
#[cfg(test)]
pub(crate) mod test_support {
    use crate::buffer::Plane;

    /// Plane sizes the filters are checked on: single pixels, single rows and columns, sizes
    /// smaller and larger than typical radii.
    pub const SHAPES: [(usize, usize); 9] = [
        (1, 1),
        (1, 9),
        (9, 1),
        (2, 3),
        (7, 5),
        (16, 16),
        (33, 17),
        (17, 40),
        (61, 3),
    ];

    /// A deterministic pseudo-random plane (xorshift), values in `[0, 1)`.
    pub fn random_plane(w: usize, h: usize, seed: u64) -> Plane {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let data = (0..w * h)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 40) as f32 / (1u64 << 24) as f32
            })
            .collect();
        Plane::from_vec(w, h, data)
    }

    /// Runs `f` on a pool of 1, 3 and 8 workers, so the row-band splitting is exercised
    /// whatever machine the tests run on.
    pub fn on_several_pool_sizes(f: impl Fn() + Send + Sync) {
        for threads in [1, 3, 8] {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("thread pool")
                .install(&f);
        }
    }
}
