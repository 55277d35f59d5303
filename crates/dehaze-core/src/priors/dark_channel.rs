//! STUB: being implemented.
use super::{Dehazed, Dehazer};
use crate::buffer::RgbImage;

/// STUB.
#[derive(Clone, Debug, Default)]
pub struct DarkChannelPrior;

impl Dehazer for DarkChannelPrior {
    fn dehaze(&self, _hazy: &RgbImage) -> Dehazed {
        unimplemented!("DarkChannelPrior")
    }
}
