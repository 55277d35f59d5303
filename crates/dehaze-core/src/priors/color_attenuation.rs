//! STUB: being implemented.
use super::{Dehazed, Dehazer};
use crate::buffer::RgbImage;

/// STUB.
#[derive(Clone, Debug, Default)]
pub struct ColorAttenuationPrior;

impl Dehazer for ColorAttenuationPrior {
    fn dehaze(&self, _hazy: &RgbImage) -> Dehazed {
        unimplemented!("ColorAttenuationPrior")
    }
}
