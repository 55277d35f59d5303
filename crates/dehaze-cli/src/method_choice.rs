//! What `--method` accepts: a classical prior (dehaze-core) or a network (dehaze-nn).

use clap::builder::TypedValueParser;
use dehaze_core::Method;
use dehaze_nn::inference::NetworkKind;
use dehaze_nn::working_size::NetworkSize;

/// A dehazing method by its command-line name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MethodChoice {
    /// A prior-based method (no weights, runs on the CPU, images in parallel).
    Prior(Method),
    /// A network (needs weights; one image at a time, tiled to `--max-memory`).
    Network(NetworkKind),
}

impl MethodChoice {
    /// Every method, priors first, in the order `dehaze methods` lists them.
    pub fn all() -> Vec<MethodChoice> {
        Method::ALL
            .into_iter()
            .map(MethodChoice::Prior)
            .chain(NetworkKind::ALL.into_iter().map(MethodChoice::Network))
            .collect()
    }

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            MethodChoice::Prior(m) => m.name(),
            MethodChoice::Network(k) => k.name(),
        }
    }

    /// A one-line description with the paper.
    pub fn description(self) -> &'static str {
        match self {
            MethodChoice::Prior(m) => m.description(),
            MethodChoice::Network(k) => k.description(),
        }
    }

    /// Parses a command-line name.
    pub fn from_name(name: &str) -> Option<MethodChoice> {
        Self::all().into_iter().find(|m| m.name() == name)
    }
}

/// `--method`'s parser for `dehaze`: the names of [`MethodChoice::all`], so new methods appear
/// by themselves.
pub fn parser() -> impl TypedValueParser<Value = MethodChoice> {
    let names: Vec<&'static str> = MethodChoice::all()
        .into_iter()
        .map(MethodChoice::name)
        .collect();
    clap::builder::PossibleValuesParser::new(names)
        .map(|name| MethodChoice::from_name(&name).expect("parser admits only known names"))
}

/// `--device`'s parser: the names of [`dehaze_nn::device::DeviceChoice::NAMES`].
pub fn device_parser() -> impl TypedValueParser<Value = dehaze_nn::device::DeviceChoice> {
    clap::builder::PossibleValuesParser::new(dehaze_nn::device::DeviceChoice::NAMES).map(|name| {
        dehaze_nn::device::DeviceChoice::from_name(&name).expect("parser admits only known names")
    })
}

/// `--max-memory`'s parser: `2G`, `1.5GiB`, `800M`, bytes.
pub fn memory_parser(s: &str) -> Result<u64, String> {
    dehaze_nn::memory::parse_size(s)
}

/// The flags of a network method, shared by `dehaze` and `dehaze eval`.
#[derive(Debug, Clone, clap::Args)]
pub struct NetworkArgs {
    /// Weights for a network method: the official KA-Net checkpoint (.pk/.pth, or safetensors),
    /// or DHR weights written by `dehaze train` (safetensors).
    #[arg(long, value_name = "FILE")]
    pub weights: Option<std::path::PathBuf>,

    /// Where a network runs: cpu (the pure-Rust flex backend, always built); tch and tch-cuda
    /// (LibTorch, build with --features tch against a pip-installed torch 2.9.0, README);
    /// wgpu (--features wgpu); cuda (--features cuda, which needs the CUDA toolkit and network
    /// access at build time: Burn's cubecl-cuda downloads LLVM).
    #[arg(long, value_parser = device_parser(), default_value = "cpu")]
    pub device: dehaze_nn::device::DeviceChoice,

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
