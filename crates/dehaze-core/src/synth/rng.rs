//! Seeded random streams.
//!
//! Every sample draws from its own ChaCha8 stream whose 256-bit key is derived from
//! `(seed, image index, copy index, purpose)` by SplitMix64 mixing. No generator is ever
//! shared between rayon tasks, so the output of sample `(i, k)` does not depend on which
//! thread computes it, on the thread count, or on the order in which samples are made.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The generator type used throughout `synth`.
pub type SynthRng = ChaCha8Rng;

/// What a stream is used for; separate purposes get independent streams, so that e.g.
/// changing the noise code cannot change the drawn parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Stream {
    /// The parameter draws (β, A, γ, …) of one sample.
    Params = 1,
    /// Per-pixel noise of one sample.
    Noise = 2,
    /// Crop positions and ordering in the training data set.
    Dataset = 3,
}

/// SplitMix64 finaliser: a bijective 64-bit mixer with good avalanche.
pub fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The stream for `(seed, a, b, purpose)`.
pub fn derive_rng(seed: u64, a: u64, b: u64, stream: Stream) -> SynthRng {
    let mut key = [0u8; 32];
    let mut h = splitmix64(seed ^ 0x6465_6861_7A65_5359); // "dehazeSY"
    for (i, part) in [a, b, stream as u64, 0].into_iter().enumerate() {
        h = splitmix64(h ^ part.wrapping_mul(0xD6E8_FEB8_6659_FD93));
        key[8 * i..8 * i + 8].copy_from_slice(&h.to_le_bytes());
    }
    ChaCha8Rng::from_seed(key)
}
