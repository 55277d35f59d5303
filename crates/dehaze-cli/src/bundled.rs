//! The weights compiled into the `dehaze` binary: the one switch for shipping default weights.
//!
//! DHR-S ships the weights of `models/dhr-s.safetensors` (3.7 MB) and KA-Net-S those of
//! `models/ka-net-s.safetensors` (14 MB, `KaNet::save`'s safetensors: the loader checks its
//! widths); how each was trained and how well it does is in its model card beside it
//! (`models/dhr-s.md`, `models/ka-net-s.md`). So `--method dhr-s` and `--method ka-net-s` run
//! without `--weights`; a `--weights FILE` replaces them. KA-Net's official checkpoint
//! (222 MB, not ours to redistribute) and DHR-B (GPU-trained, 33 MB) are never bundled.

use dehaze_nn::registry::{BundledWeights, NetworkKind};

/// The weights this binary bundles.
pub const WEIGHTS: BundledWeights = BundledWeights::new(&[
    (
        NetworkKind::DhrS,
        include_bytes!("../../../models/dhr-s.safetensors"),
    ),
    (
        NetworkKind::KaNetS,
        include_bytes!("../../../models/ka-net-s.safetensors"),
    ),
]);
