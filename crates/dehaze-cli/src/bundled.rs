//! The weights compiled into the `dehaze` binary: the one switch for shipping default weights.
//!
//! DHR-S ships the weights of `models/dhr-s.safetensors` (3.7 MB; how they were trained and how
//! well they do: `models/dhr-s.md`), so `--method dhr-s` runs without `--weights`; a
//! `--weights FILE` replaces them. KA-Net's official checkpoint (222 MB, not ours to
//! redistribute) and DHR-B (GPU-trained, 33 MB) are never bundled. KA-Net-S has no trained
//! weights yet; once a `dehaze train --config configs/ka-net-s.toml` run has a model card, its
//! file (14 MB, `KaNet::save`'s safetensors: the loader checks its widths) can join the list
//! as `(NetworkKind::KaNetS, include_bytes!(…))`, and `dehaze methods` will say `bundled`.

use dehaze_nn::registry::{BundledWeights, NetworkKind};

/// The weights this binary bundles.
pub const WEIGHTS: BundledWeights = BundledWeights::new(&[(
    NetworkKind::DhrS,
    include_bytes!("../../../models/dhr-s.safetensors"),
)]);
