//! Choosing the compute device from the command line (`--device cpu|tch|tch-cuda|cuda|wgpu`).
//!
//! Burn 0.22 picks the backend from the device a tensor lives on, so selecting a device is all
//! it takes to move a model between backends. `cpu` is always available (the pure-Rust `flex`
//! backend); `tch` / `tch-cuda` (Burn's LibTorch backend, libtorch from a pip-installed
//! `torch`), `cuda` and `wgpu` exist only in builds with the matching cargo feature, and asking
//! for them otherwise is an error that names the feature.

use burn::tensor::Device;

/// A device the user can ask for by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceChoice {
    /// The pure-Rust `flex` CPU backend (always built).
    Cpu,
    /// LibTorch on the CPU (cargo feature `tch`).
    Tch,
    /// LibTorch on the first CUDA GPU (cargo feature `tch`, a CUDA build of libtorch).
    TchCuda,
    /// NVIDIA GPU through Burn's CUDA backend (cargo feature `cuda`).
    Cuda,
    /// Any GPU through wgpu (cargo feature `wgpu`).
    Wgpu,
}

impl DeviceChoice {
    /// Every device, in the order `--help` lists them.
    pub const ALL: [Self; 5] = [Self::Cpu, Self::Tch, Self::TchCuda, Self::Cuda, Self::Wgpu];

    /// Their names (`--device`, `device=`), in the order of [`DeviceChoice::ALL`].
    pub const NAMES: [&'static str; 5] = ["cpu", "tch", "tch-cuda", "cuda", "wgpu"];

    /// Parses a device name (any case; `gpu` is `cuda`).
    pub fn from_name(name: &str) -> Option<Self> {
        let name = name.to_ascii_lowercase();
        let name = if name == "gpu" { "cuda" } else { &name };
        Self::NAMES
            .iter()
            .position(|n| *n == name)
            .map(|i| Self::ALL[i])
    }

    /// The name of this device.
    pub fn name(self) -> &'static str {
        let i = Self::ALL
            .iter()
            .position(|d| *d == self)
            .expect("ALL lists every device");
        Self::NAMES[i]
    }

    /// The Burn device, or an error saying which cargo feature the build lacks.
    pub fn device(self) -> Result<Device, String> {
        match self {
            Self::Cpu => Ok(burn::backend::FlexDevice.into()),
            Self::Tch => tch(false),
            Self::TchCuda => tch(true),
            Self::Cuda => cuda(),
            Self::Wgpu => wgpu(),
        }
    }
}

/// LibTorch's CPU device, or its first CUDA GPU (refused, with the reason, where the linked
/// libtorch has no CUDA or sees no GPU: libtorch would otherwise abort the process on the first
/// tensor).
#[cfg(feature = "tch")]
#[allow(deprecated)] // burn-tch is deprecated in Burn 0.22; it is the fast CPU backend here.
fn tch(cuda: bool) -> Result<Device, String> {
    if !cuda {
        return Ok(Device::libtorch());
    }
    if ::tch::Cuda::is_available() {
        Ok(Device::libtorch_cuda(0))
    } else {
        Err("libtorch sees no CUDA GPU (a CPU-only libtorch, or no GPU/driver here)".to_string())
    }
}

#[cfg(not(feature = "tch"))]
fn tch(_cuda: bool) -> Result<Device, String> {
    Err(
        "this build has no LibTorch backend; rebuild with `--features tch` (needs a pip-installed \
         torch 2.9.0, see the README)"
            .to_string(),
    )
}

/// The first CUDA GPU.
#[cfg(feature = "cuda")]
fn cuda() -> Result<Device, String> {
    Ok(Device::cuda(0))
}

#[cfg(not(feature = "cuda"))]
fn cuda() -> Result<Device, String> {
    Err(
        "this build has no CUDA backend; `--features cuda` needs the CUDA toolkit and network access \
         at build time (Burn's cubecl-cuda downloads LLVM); offline, use `--features tch` with a \
         CUDA torch and `--device tch-cuda`, or `--features wgpu`"
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_and_a_missing_backend_names_its_feature() {
        for name in DeviceChoice::NAMES {
            assert_eq!(
                DeviceChoice::from_name(name).map(DeviceChoice::name),
                Some(name)
            );
        }
        #[cfg(not(feature = "tch"))]
        for choice in [DeviceChoice::Tch, DeviceChoice::TchCuda] {
            let e = choice.device().unwrap_err();
            assert!(e.contains("--features tch"), "{e}");
        }
        #[cfg(not(feature = "cuda"))]
        assert!(DeviceChoice::Cuda
            .device()
            .unwrap_err()
            .contains("--features tch"));
    }
}
