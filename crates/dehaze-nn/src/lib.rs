//! Dehazing networks on Burn: KA-Net (exact port of the official inference network) and API's
//! DHR restorer, their losses and their training loop, and API's learned haze generator (AHG).
//!
//! Burn 0.22 dispatches every tensor operation to the backend of the tensor's [`Device`], so the
//! models here are written once and run on any backend compiled in: the pure-Rust `flex` CPU
//! backend by default, others behind cargo features (see [`device`]).
//!
//! [`Device`]: burn::tensor::Device

pub use burn;

pub mod ahg;
pub mod device;
pub mod dhr;
pub mod inference;
pub mod ka_net;
pub mod losses;
pub mod memory;
pub mod registry;
pub mod restorer;
pub mod tiling;
pub mod train;
pub mod weights;
pub mod working_size;
