//! One module per subcommand.

pub mod dehaze;
pub mod methods;
pub mod synth;
