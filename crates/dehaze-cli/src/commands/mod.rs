//! One module per subcommand.

pub mod dehaze;
pub mod eval;
pub mod methods;
pub mod metrics;
pub mod synth;
pub mod train;
pub mod train_ahg;
