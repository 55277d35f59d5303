//! Haze synthesis: physically-based hazy/clear training pairs with multiple degradation
//! factors (KA-Net, SYSTEMS.md §1.1) and non-homogeneous density (API's AHG fallback, §2.1).
//!
//! * [`scattering`]: `I = J·t + A·(1−t)`, `t = exp(−β·d)`;
//! * [`depth_maps`]: Middlebury / ETH3D disparity and Kinect depth readers, hole filling,
//!   normalisation of depth to `[0, 1]`;
//! * [`pseudo_depth`]: a documented heuristic depth for images without one;
//! * [`degradations`]: gamma, Gaussian / Poisson noise, defocus / motion blur, JPEG;
//! * [`density`]: multi-octave Perlin fields (`t ← t^F`), density-map interpolation and the
//!   [`density::DensityEncoder`] hook for a learned AHG encoder;
//! * [`config`]: the seeded TOML config (`configs/synth.toml` holds the defaults);
//! * [`pipeline`]: [`Synthesizer`], which draws a sample's parameters and applies the factors,
//!   returning a [`Sample`] with its [`SynthParams`] record (a CSV row);
//! * [`dataset`]: [`CropDataset`], random training crops synthesised on the fly;
//! * [`record`]: atomic writing of the parameter CSV and config;
//! * [`rng`]: per-sample ChaCha8 streams from `(seed, image, copy)`.
//!
//! File reading and (atomic) writing go through [`crate::io`]; the `dehaze synth` command
//! (CLI crate) drives a whole folder.
//!
//! ```
//! use dehaze_core::synth::{SynthConfig, Synthesizer};
//! use dehaze_core::{Plane, RgbImage};
//! let clean = RgbImage::from_grey(&Plane::filled(32, 24, 0.4));
//! let depth = Plane::filled(32, 24, 0.5);
//! let synth = Synthesizer::new(SynthConfig { seed: 7, ..Default::default() }).unwrap();
//! let s = synth.synthesize(&clean, Some(&depth), 0, 0).unwrap();
//! assert!(s.params.beta >= 0.3 && s.params.beta <= 1.5);
//! println!("{}\n{}", dehaze_core::synth::SynthParams::CSV_HEADER, s.params.to_csv_row());
//! ```

pub mod config;
pub mod dataset;
pub mod degradations;
pub mod density;
pub mod depth_maps;
pub mod pipeline;
pub mod pseudo_depth;
pub mod record;
pub mod rng;
pub mod scattering;

pub use config::{ConfigError, SynthConfig};
pub use dataset::{Crop, CropDataset, Scene};
pub use pipeline::{DepthSource, Sample, SynthError, SynthParams, Synthesizer};
