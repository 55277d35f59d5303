//! Any bytes as a weights file → every loader: the format sniffer, DHR (safetensors with its
//! configuration as JSON metadata), KA-Net (PyTorch zip or legacy pickle, or safetensors;
//! loaded into the tiny configuration so each input stays fast — the parsing is the same) and
//! the AHG generator (safetensors with its configuration in the metadata). Each must return an
//! error naming the file or a network, never panic, hang or run out of memory.
#![no_main]
use dehaze_nn::ahg::AhgGenerator;
use dehaze_nn::dhr::Dhr;
use dehaze_nn::inference::sniff_weights;
use dehaze_nn::ka_net::{KaNet, KaNetConfig};
use libfuzzer_sys::fuzz_target;
use std::path::{Path, PathBuf};

fn scratch() -> PathBuf {
    let dir = if Path::new("/dev/shm").is_dir() {
        "/dev/shm"
    } else {
        "/tmp"
    };
    Path::new(dir).join(format!("dehaze-fuzz-weights-{}", std::process::id()))
}

fuzz_target!(|data: &[u8]| {
    let path = scratch();
    std::fs::write(&path, data).expect("scratch file");
    let device = dehaze_nn::device::cpu();
    let _ = sniff_weights(&path);
    let _ = Dhr::load(&path, &device);
    let _ = KaNet::load(&path, &KaNetConfig::tiny(), &device);
    let _ = AhgGenerator::load(&path, &device);
});
