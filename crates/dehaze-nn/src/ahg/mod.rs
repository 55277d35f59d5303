//! AHG, API's Automatic Haze Generation, learned (SYSTEMS.md §2.1).
//!
//! Two small networks learn real haze from hazy/clear pairs:
//!
//! * the **density encoder** `E` ([`DensityEncoderNet`]) maps an image to a one-channel haze
//!   density map `M = σ(U_E(I)) ∈ (0, 1)^{H×W}`;
//! * the **re-hazing decoder** `D` ([`RehazeDecoder`]) renders a clear image `I_c` under a
//!   density map with the scattering model read as `t = 1 − M`:
//!   `D(I_c, M) = I_c ⊙ (1 − M) + A ⊙ M`, where the per-pixel airlight `A = σ(a₀ + U_D([I_c, M]))`
//!   comes from a U-Net that sees the clear image and the map. `M = 0` is no haze and denser
//!   maps give denser haze by construction.
//!
//! `U_E`, `U_D` are small U-Nets ([`unet::UNet`]). They are trained on real pairs
//! `(I_c, I_h)` with a PatchGAN critic `C` ([`PatchDiscriminator`]) and the hinge loss:
//!
//! ```text
//! L_G = λ_clear·‖D(I_c, E(I_c)) − I_c‖₁ + ‖D(I_c, E(I_h)) − I_h‖₁ + λ_adv·(−E[C(D(I_c, M̃))])
//! L_C = E[max(0, 1 − C(I_h))] + E[max(0, 1 + C(D(I_c, M̃)))]
//! M̃   = clamp((α·E(I_c) + (1−α)·E(I_h)) ⊙ F, 0, 1),   α ~ U[0, 1],  F ∈ [0.5, 1.5]
//! ```
//!
//! with `λ_clear = 1`, `λ_adv = 0.1` ([`loss`]), `‖·‖₁` the mean absolute error and `F` a
//! multi-octave Perlin field (dehaze-core's [`PerlinField`], rescaled to `[0.5, 1.5]`). The
//! adversarial term is put on the *generation-time* maps `M̃`, which have no paired target,
//! so that new haze looks like real haze; the two reconstructions anchor `E` and `D`.
//!
//! **Generation** ([`AhgModel`], used by `dehaze synth --ahg`): for a clear image and a hazy
//! reference, `hazy = D(I_c, clamp((α·M_c + (1−α)·M_h) ⊙ F, 0, 1))`. [`AhgModel`] implements
//! dehaze-core's [`DensityEncoder`], so the map is built by core's
//! [`ahg_density`](dehaze_core::synth::density::ahg_density).
//!
//! * [`unet`]: the shared U-Net body;
//! * [`encoder`], [`decoder`], [`discriminator`]: the three networks;
//! * [`loss`]: L1, hinge and the weighted generator loss;
//! * [`model`]: the generator (E + D) and its safetensors weights (config in the metadata);
//! * [`init`]: seeded weight initialisation (independent of Burn's global generator);
//! * [`data`]: hazy/clear pairs, random crops and flips;
//! * [`train`](mod@train): the seeded training loop [`train::train`](fn@train::train);
//! * [`generate`]: inference on [`RgbImage`](dehaze_core::RgbImage)s;
//! * [`sampler`]: hybrid augmentation, one sample per `(image, copy)` (`dehaze synth --ahg`).
//!
//! [`PerlinField`]: dehaze_core::synth::density::PerlinField
//! [`DensityEncoder`]: dehaze_core::synth::density::DensityEncoder

pub mod data;
pub mod decoder;
pub mod discriminator;
pub mod encoder;
pub mod generate;
pub mod init;
pub mod loss;
pub mod model;
pub mod sampler;
pub mod train;
pub mod unet;

pub use decoder::RehazeDecoder;
pub use discriminator::PatchDiscriminator;
pub use encoder::DensityEncoderNet;
pub use generate::AhgModel;
pub use model::{AhgConfig, AhgGenerator};
pub use sampler::{AhgSample, AhgSampler};
pub use train::{train, TrainAhgConfig, TrainReport};

#[cfg(test)]
mod tests;
