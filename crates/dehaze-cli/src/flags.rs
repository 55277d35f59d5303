//! The method flags: `--method` (a prior or a network, [`MethodChoice`]) and a network's
//! `--weights`, `--device`, `--max-memory` and `--network-size`, shared by `dehaze` and
//! `dehaze eval`, turned into the library's [`NetworkOptions`].

use clap::builder::TypedValueParser;
use dehaze_nn::device::DeviceChoice;
use dehaze_nn::restorer::{MethodChoice, NetworkOptions, Restorer, RestorerError};
use dehaze_nn::working_size::NetworkSize;

/// `--method`'s parser: the names of [`MethodChoice::all`], so new methods appear by
/// themselves.
pub fn parser() -> impl TypedValueParser<Value = MethodChoice> {
    let names: Vec<&'static str> = MethodChoice::all()
        .into_iter()
        .map(MethodChoice::name)
        .collect();
    clap::builder::PossibleValuesParser::new(names)
        .map(|name| MethodChoice::from_name(&name).expect("parser admits only known names"))
}

/// `--device`'s parser (every command that runs a network): the names of
/// [`DeviceChoice::NAMES`].
pub fn device_parser() -> impl TypedValueParser<Value = DeviceChoice> {
    clap::builder::PossibleValuesParser::new(DeviceChoice::NAMES)
        .map(|name| DeviceChoice::from_name(&name).expect("parser admits only known names"))
}

/// `--max-memory`'s parser: `2G`, `1.5GiB`, `800M`, bytes.
pub fn memory_parser(s: &str) -> Result<u64, String> {
    dehaze_nn::memory::parse_size(s)
}

/// `--device`, as every command that runs a network takes it.
#[derive(Debug, Clone, clap::Args)]
pub struct DeviceArg {
    /// Where a network runs: cpu (the pure-Rust flex backend, always built); tch and tch-cuda
    /// (LibTorch, build with --features tch against a pip-installed torch 2.9.0, README);
    /// wgpu (--features wgpu); cuda (--features cuda, which needs the CUDA toolkit and network
    /// access at build time: Burn's cubecl-cuda downloads LLVM).
    #[arg(long, value_parser = device_parser(), default_value = "cpu")]
    pub device: DeviceChoice,
}

impl DeviceArg {
    /// The Burn device; the error names the flag.
    pub fn device(&self) -> anyhow::Result<dehaze_nn::burn::tensor::Device> {
        self.device
            .device()
            .map_err(|e| anyhow::anyhow!("--device {}: {e}", self.device.name()))
    }
}

/// The flags of a network method, shared by `dehaze` and `dehaze eval`.
#[derive(Debug, Clone, clap::Args)]
pub struct NetworkArgs {
    /// Weights for a network method: the official KA-Net checkpoint (.pk/.pth, or safetensors),
    /// or DHR weights written by `dehaze train` (safetensors).
    #[arg(long, value_name = "FILE")]
    pub weights: Option<std::path::PathBuf>,

    #[command(flatten)]
    pub device: DeviceArg,

    /// Memory limit for a network method (e.g. 2G, 1.5GiB, 800M): large images are processed
    /// in overlapping tiles sized to stay within it.
    #[arg(long, value_name = "SIZE", value_parser = memory_parser, default_value = "2G")]
    pub max_memory: u64,

    /// Where a network runs: `full` (default) on the image itself, in tiles beyond
    /// --max-memory; or a long side in pixels (e.g. 1024): on a copy downscaled to it, its
    /// correction carried to full resolution by guided upsampling (a locally-affine fit per
    /// channel), at a fixed cost whatever the image's size. Not the default: on the real hazy
    /// set it moves mean FADE/NIQE/BRISQUE by far more than 3 % (bench/README.md).
    #[arg(long, value_name = "PIXELS|full", value_parser = NetworkSize::parse, default_value = "full")]
    pub network_size: NetworkSize,
}

impl NetworkArgs {
    /// The library's options for these flags.
    pub fn options(&self) -> NetworkOptions {
        NetworkOptions {
            weights: self.weights.clone(),
            device: self.device.device,
            max_memory: self.max_memory,
            size: self.network_size,
        }
    }

    /// The restorer of `method` with these flags and this binary's bundled weights; the error
    /// is the library's reason in the command line's terms (the flag to use).
    pub fn restorer(&self, method: MethodChoice) -> Result<Restorer, String> {
        Restorer::new(method, &self.options(), crate::bundled::WEIGHTS).map_err(in_flag_terms)
    }

    /// The restorers of several methods compared side by side ([`Restorer::several`]).
    pub fn restorers(&self, methods: &[MethodChoice]) -> Result<Vec<Restorer>, String> {
        Restorer::several(methods, &self.options(), crate::bundled::WEIGHTS).map_err(in_flag_terms)
    }
}

/// A restorer error in the command line's terms: the flags to use.
fn in_flag_terms(e: RestorerError) -> String {
    match e {
        RestorerError::WeightsForPrior(m) => {
            format!("--weights is for network methods; {} needs none", m.name())
        }
        RestorerError::Device { device, reason } => {
            format!("--device {}: {reason}", device.name())
        }
        RestorerError::NoWeights(_) => format!("{e}; pass them with --weights FILE"),
        RestorerError::WeightsForSeveral(_) => format!("--weights: {e}"),
        other => other.to_string(),
    }
}

/// A memory error in the command line's terms.
pub fn tile_error(e: &dehaze_nn::inference::TileError) -> String {
    format!("{e} (raise --max-memory)")
}
