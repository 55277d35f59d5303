//! Classical single-image dehazing priors.
//!
//! All three invert the atmospheric scattering model (Koschmieder)
//!
//! ```text
//! I(x) = J(x)·t(x) + A·(1 − t(x)),   t(x) = exp(−β·d(x))
//! ```
//!
//! where `I` is the hazy image, `J` the scene radiance, `A` the airlight (a colour) and `t` the
//! transmission; each prior is a different way to estimate `A` and `t` from `I` alone:
//!
//! * [`dark_channel`]: He, Sun & Tang, "Single Image Haze Removal Using Dark Channel Prior"
//!   (CVPR 2009), refined with the guided filter (He, Sun & Tang, TPAMI 2013);
//! * [`color_attenuation`]: Zhu, Mai & Shao, "A Fast Single Image Haze Removal Algorithm Using
//!   Color Attenuation Prior" (TIP 2015);
//! * [`boundary_constraint`]: Meng, Wang, Duan, Xiang & Pan, "Efficient Image Dehazing with
//!   Boundary Constraint and Contextual Regularization" (ICCV 2013).

use crate::buffer::{Plane, RgbImage};

pub mod boundary_constraint;
pub mod color_attenuation;
pub mod dark_channel;

/// The result of a dehazing method.
#[derive(Clone, Debug)]
pub struct Dehazed {
    /// The recovered scene radiance `J`, clipped to `[0, 1]`.
    pub image: RgbImage,
    /// The transmission map `t` used for the recovery (before any lower bound `t0`).
    pub transmission: Plane,
    /// The estimated airlight `A` (per channel, in `[0, 1]`).
    pub airlight: [f32; 3],
}

impl Dehazed {
    /// The image as it is, with transmission 1 everywhere: what a method returns when there is
    /// nothing to estimate from (an image without pixels).
    pub fn unchanged(hazy: &RgbImage) -> Self {
        Self {
            image: hazy.clone(),
            transmission: Plane::filled(hazy.width(), hazy.height(), 1.0),
            airlight: [1.0; 3],
        }
    }
}

/// A single-image dehazing method.
pub trait Dehazer: Sync {
    /// Dehazes `hazy` (planar RGB in `[0, 1]`).
    fn dehaze(&self, hazy: &RgbImage) -> Dehazed;
}

/// The classical methods, by their command-line names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// Dark channel prior with guided-filter refinement.
    Dcp,
    /// Colour attenuation prior.
    Cap,
    /// Boundary constraint and contextual regularisation.
    Bccr,
}

impl Method {
    /// Every method, in the order `dehaze methods` lists them.
    pub const ALL: [Method; 3] = [Method::Dcp, Method::Cap, Method::Bccr];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Method::Dcp => "dcp",
            Method::Cap => "cap",
            Method::Bccr => "bccr",
        }
    }

    /// A one-line description with the paper.
    pub fn description(self) -> &'static str {
        match self {
            Method::Dcp => "dark channel prior + guided filter (He et al., CVPR 2009 / TPAMI 2013)",
            Method::Cap => "colour attenuation prior (Zhu et al., TIP 2015)",
            Method::Bccr => {
                "boundary constraint + contextual regularisation (Meng et al., ICCV 2013)"
            }
        }
    }

    /// Parses a command-line name.
    pub fn from_name(name: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Runs the method with its default parameters.
    pub fn dehaze(self, hazy: &RgbImage) -> Dehazed {
        match self {
            Method::Dcp => dark_channel::DarkChannelPrior::default().dehaze(hazy),
            Method::Cap => color_attenuation::ColorAttenuationPrior::default().dehaze(hazy),
            Method::Bccr => boundary_constraint::BoundaryConstraint::default().dehaze(hazy),
        }
    }
}
