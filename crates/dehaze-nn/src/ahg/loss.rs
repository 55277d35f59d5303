//! AHG's losses.
//!
//! ```text
//! L1(a, b)      = mean |a − b|
//! L_C(r, f)     = mean max(0, 1 − r) + mean max(0, 1 + f)        (hinge, critic)
//! L_adv(f)      = −mean f                                         (hinge, generator)
//! L_G           = λ_clear·L1(D(I_c, E(I_c)), I_c) + L1(D(I_c, E(I_h)), I_h) + λ_adv·L_adv(C(fake))
//! ```
//!
//! `r`, `f` are the critic's raw scores of real hazy images and of generated ones. The hinge
//! form stops pushing a score once it is past the margin (`r ≥ 1`, `f ≤ −1`), which keeps
//! the critic from running away on a small data set.

use burn::prelude::*;
use burn::tensor::activation::relu;

/// `λ_clear`, the weight of the clear-image reconstruction (spec: 1).
pub const LAMBDA_CLEAR: f32 = 1.0;
/// `λ_adv`, the weight of the adversarial term (spec: 0.1).
pub const LAMBDA_ADV: f32 = 0.1;

/// `mean |a − b|`, a one-element tensor.
pub fn l1<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> Tensor<1> {
    (a - b).abs().mean()
}

/// The critic's hinge loss `mean max(0, 1 − r) + mean max(0, 1 + f)`.
pub fn hinge_critic(real: Tensor<4>, fake: Tensor<4>) -> Tensor<1> {
    relu(real.neg().add_scalar(1.0)).mean() + relu(fake.add_scalar(1.0)).mean()
}

/// The generator's hinge loss `−mean f`.
pub fn hinge_generator(fake: Tensor<4>) -> Tensor<1> {
    fake.mean().neg()
}

/// The three terms of `L_G`, kept apart for logging.
#[derive(Debug, Clone)]
pub struct GeneratorLoss {
    /// `L1(D(I_c, E(I_c)), I_c)`.
    pub clear: Tensor<1>,
    /// `L1(D(I_c, E(I_h)), I_h)`.
    pub hazy: Tensor<1>,
    /// `L_adv = −mean C(fake)`.
    pub adv: Tensor<1>,
}

impl GeneratorLoss {
    /// `λ_clear·clear + hazy + λ_adv·adv`.
    pub fn total(&self, lambda_clear: f32, lambda_adv: f32) -> Tensor<1> {
        self.clear.clone().mul_scalar(lambda_clear)
            + self.hazy.clone()
            + self.adv.clone().mul_scalar(lambda_adv)
    }
}
