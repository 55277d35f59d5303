//! Choosing the compute device from the command line (`--device cpu|cuda|wgpu`).
//!
//! Burn 0.22 picks the backend from the device a tensor lives on, so selecting a device is all
//! it takes to move a model between backends. `cpu` is always available (the pure-Rust `flex`
//! backend); `cuda` and `wgpu` exist only in builds with the matching cargo feature, and asking
//! for them otherwise is an error that names the feature.

use burn::tensor::Device;

/// A device the user can ask for by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceChoice {
    /// The pure-Rust `flex` CPU backend (always built).
    Cpu,
    /// NVIDIA GPU through Burn's CUDA backend (cargo feature `cuda`).
    Cuda,
    /// Any GPU through wgpu (cargo feature `wgpu`).
    Wgpu,
}

impl DeviceChoice {
    /// Every name `--device` accepts, in the order `--help` lists them.
    pub const NAMES: [&'static str; 3] = ["cpu", "cuda", "wgpu"];

    /// Parses a `--device` value.
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "cpu" => Some(Self::Cpu),
            "cuda" | "gpu" => Some(Self::Cuda),
            "wgpu" => Some(Self::Wgpu),
            _ => None,
        }
    }

    /// The Burn device, or an error saying which cargo feature the build lacks.
    pub fn device(self) -> Result<Device, String> {
        match self {
            Self::Cpu => Ok(burn::backend::FlexDevice.into()),
            Self::Cuda => cuda(),
            Self::Wgpu => wgpu(),
        }
    }
}

/// The first CUDA GPU.
#[cfg(feature = "cuda")]
fn cuda() -> Result<Device, String> {
    Ok(Device::cuda(0))
}

#[cfg(not(feature = "cuda"))]
fn cuda() -> Result<Device, String> {
    Err(
        "this build has no CUDA backend; rebuild with `--features cuda` (needs the CUDA toolkit)"
            .to_string(),
    )
}

/// wgpu's preferred adapter (a high-power GPU if there is one; `CUBECL_WGPU_DEFAULT_DEVICE`
/// overrides it).
#[cfg(feature = "wgpu")]
fn wgpu() -> Result<Device, String> {
    Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice))
}

#[cfg(not(feature = "wgpu"))]
fn wgpu() -> Result<Device, String> {
    Err("this build has no wgpu backend; rebuild with `--features wgpu`".to_string())
}

/// The default device for inference: the CPU.
pub fn cpu() -> Device {
    burn::backend::FlexDevice.into()
}
