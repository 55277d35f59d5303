//! STUB: being implemented.
use super::{Dehazed, Dehazer};
use crate::buffer::RgbImage;

/// STUB.
#[derive(Clone, Debug, Default)]
pub struct BoundaryConstraint;

impl Dehazer for BoundaryConstraint {
    fn dehaze(&self, _hazy: &RgbImage) -> Dehazed {
        unimplemented!("BoundaryConstraint")
    }
}
