//! Separable image filters used by the priors.
//!
//! * [`min_filter`]: square minimum (erosion) filter, van Herk / Gil-Werman, O(1) per pixel;
//! * [`box_filter`]: mean over a square window clipped to the image, by running sums;
//! * [`guided_filter`]: He et al.'s guided filter (TPAMI 2013) built on the box filter.

pub mod box_filter;
pub mod guided_filter;
pub mod min_filter;
