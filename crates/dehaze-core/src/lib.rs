//! `dehaze-core`: the pure-Rust core of the dehaze toolkit.
//!
//! It holds what every part of the project shares and what must build fast without the
//! neural-network stack:
//!
//! * [`buffer`]: the in-memory image types, planar `f32` in `[0, 1]`;
//! * [`io`]: decoding and encoding image files (PNG, JPEG, TIFF, WebP, BMP), with EXIF
//!   orientation, grey and alpha pass-through, 16-bit output and atomic writes;
//! * [`fs`]: the atomic file write all outputs and checkpoints go through;
//! * [`csv`]: CSV field quoting, for every CSV the toolkit writes;
//! * [`pairing`]: which clear image belongs to a hazy one, the one rule for every command;
//! * [`metrics`]: the no-reference and full-reference quality metrics (FADE, NIQE, BRISQUE,
//!   entropy, PSNR, SSIM), matching the published implementations;
//! * [`synth`]: synthesising hazy images from clean ones (scattering model, degradations,
//!   depth maps, density fields);
//! * [`jpeg`]: JPEG decoding identical to libjpeg-turbo's (the pixels published metrics use);
//! * [`filters`]: the building blocks of the classical priors and the networks' pre- and
//!   post-processing (min filter, box filter, guided filter, guided upsampling, CLAHE);
//! * [`priors`]: the classical single-image dehazing methods (dark channel prior, colour
//!   attenuation prior, boundary constraint and contextual regularisation).

pub mod buffer;
pub mod csv;
pub mod filters;
pub mod fs;
pub mod io;
pub mod jpeg;
pub mod metrics;
pub mod pairing;
pub mod priors;
pub mod synth;
#[doc(hidden)]
pub mod testing;

pub use buffer::{Plane, RgbImage};
pub use priors::{Dehazed, Dehazer, Method};
