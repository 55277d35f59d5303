//! KA-Net (Feng et al., TPAMI 2024): the localization-and-removal network, layer for layer as in
//! the official inference code (see `docs/ka-net-architecture.md`).
//!
//! ```text
//! x ∈ [−1, 1]^{3×H×W}
//! f₁..f₄ = Encoder(x)                       1/4 … 1/32, widths dims[0..4]   (encoder.rs)
//! z      = mean_{h,w} f₄                    the pooled feature, [N, dims[3]]
//! x_d    = DehazeBlock(f₄)                  RFF + dilated branches, gate    (dehaze_block.rs)
//! x_u    = Decoder(x_d)                     1/64, learned-query blocks      (decoder.rs)
//! o      = Projection(f₁..f₄, x_u)          back to H×W, 8 channels         (projection.rs)
//! y      = tanh(conv₃ₓ₃(reflect_pad(o)))    [N, 3, H, W]
//! ```
//!
//! Widths follow `dims`: bottleneck width C = `dims[3]`, channel-attention hidden width C/16, RFF
//! input width C/8 and output width D = C, decoder 8 heads (so C must be a multiple of 16; see
//! [`KaNetConfig::validate`] for every rule). The last two projection levels (16 and 8 channels)
//! are fixed, as in the official network.
//!
//! Differences from the official code, both deliberate: the random-Fourier-feature constants
//! (W, b) are drawn once from a fixed seed ([`RFF_SEED`]) instead of on every call, so
//! inference is deterministic; and the network runs on any Burn device (the official RFF is
//! hard-wired to CUDA).

mod checkpoint;
mod decoder;
mod dehaze_block;
mod dilated_branch;
mod encoder;
mod init;
mod projection;
mod transformer;

use std::path::Path;

use burn::prelude::*;
use burn::store::ModuleSnapshot;

use crate::weights::WeightsError;

pub use dehaze_block::RFF_SEED;

use decoder::Decoder;
use dehaze_block::DehazeBlock;
use encoder::Encoder;
use projection::{Head, Projection};

/// Sizes must be a multiple of this for the forward pass (four stride-2 stages after a stride-4
/// embedding, plus the decoder's extra stride-2 embedding handled by cropping).
pub const SIZE_MULTIPLE: usize = 16;

/// The smallest side of an input (a multiple of [`SIZE_MULTIPLE`]): below it a token grid of
/// the encoder is smaller than its attention's spatial-reduction kernel and the forward pass
/// fails (32 does, 48 works, for every width). Inference pads smaller images up to it.
pub const MIN_SIDE: usize = 48;

/// The names of the configurations meant for training and the command line (`[model] name`,
/// `--method`), in the order they should be listed: `ka-net` ([`KaNetConfig::official`]) and
/// `ka-net-s` ([`KaNetConfig::small`]). They are the names of the registry's KA-Net rows
/// ([`crate::registry::NETWORKS`], which maps each to its widths; a test asserts the two lists
/// agree), as a constant for the trainer. [`KaNetConfig::from_name`] parses them.
pub const CONFIG_NAMES: [&str; 2] = ["ka-net", "ka-net-s"];

/// Learnable parameters of [`KaNetConfig::official`] (asserted by the tests, the count of the
/// official state dict).
pub const KA_NET_PARAMS: usize = 55_657_426;
/// Learnable parameters of [`KaNetConfig::small`] (asserted by the tests;
/// `tools/ka_net_torch.py count --dims 16 32 80 128` gives the same).
pub const KA_NET_S_PARAMS: usize = 3_541_378;

/// Widths of the architecture. [`KaNetConfig::official`] is the published network.
#[derive(Debug, Clone, PartialEq)]
pub struct KaNetConfig {
    /// Encoder stage widths (official: 64, 128, 320, 512).
    pub dims: [usize; 4],
}

impl KaNetConfig {
    /// The published configuration ([`KA_NET_PARAMS`] learnable parameters).
    pub fn official() -> Self {
        Self {
            dims: [64, 128, 320, 512],
        }
    }

    /// KA-Net-S (`ka-net-s`), the configuration to train on a CPU: every official width divided
    /// by 4, `[16, 32, 80, 128]`, [`KA_NET_S_PARAMS`] learnable parameters (1/16 of the
    /// official). Same layers, names and head counts as the official network (head widths 16,
    /// 16, 20, 32 in the encoder, 16 in the decoder), so its weights use the official state-dict
    /// names and the official-name loader reads them; only the shapes differ. The fixed-width
    /// tail (16 and 8 channels at 1/2 and full resolution) is unchanged and weighs more at
    /// these widths, so the saving in time is far below 16×: the PyTorch twin
    /// (`tools/ka_net_torch.py bench --size 256 --threads 2`) takes 1.47 s of CPU per 256²
    /// forward pass against 3.80 s for the official widths (medians of 5, busy 2-core machine).
    pub fn small() -> Self {
        Self {
            dims: [16, 32, 80, 128],
        }
    }

    /// The configuration called `name` in [`CONFIG_NAMES`]: the architecture of the registry's
    /// row of that name.
    pub fn from_name(name: &str) -> Option<Self> {
        crate::registry::NetworkKind::from_name(name)?.ka_net_config()
    }

    /// This configuration's name in [`CONFIG_NAMES`], if it has one.
    pub fn name(&self) -> Option<&'static str> {
        CONFIG_NAMES
            .into_iter()
            .find(|n| Self::from_name(n).as_ref() == Some(self))
    }

    /// A small configuration for fast experiments (862,642 learnable parameters).
    pub fn reduced() -> Self {
        Self {
            dims: [8, 16, 32, 64],
        }
    }

    /// The smallest configuration with every width rule still meaningful (88,252 learnable
    /// parameters); the checked-in parity fixture uses it so the fixture stays small.
    pub fn tiny() -> Self {
        Self {
            dims: [4, 8, 16, 16],
        }
    }

    /// Checks the divisibility the layers need: stage widths by their head counts (encoder
    /// heads 1, 2, 4, 4; intra-patch heads 1, 2, 2 at the next width), the bottleneck width by
    /// 8 (decoder heads, RFF input C/8) and by 16 (channel attention C/16).
    pub fn validate(&self) -> Result<(), String> {
        let d = self.dims;
        let mut needs = vec![];
        for (s, (&width, &heads)) in d.iter().zip(&encoder::HEADS).enumerate() {
            needs.push((width, heads, format!("dims[{s}]")));
        }
        for (s, (&width, &heads)) in d[1..].iter().zip(&encoder::PATCH_HEADS).enumerate() {
            needs.push((width, heads, format!("dims[{}]", s + 1)));
        }
        needs.push((d[3], decoder::HEADS, "dims[3]".into()));
        needs.push((d[3], 8, "dims[3]".into()));
        needs.push((d[3], dilated_branch::SE_REDUCTION, "dims[3]".into()));
        for (width, by, name) in needs {
            if width == 0 || !width.is_multiple_of(by) {
                return Err(format!(
                    "{name} = {width} must be a positive multiple of {by}"
                ));
            }
        }
        Ok(())
    }
}

/// Learnable parameter counts of a network (BatchNorm running statistics excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParameterCounts {
    /// Every learnable parameter, as in the official state dict.
    pub learnable: usize,
    /// Those the forward pass reads: `learnable` minus the two modules the official network
    /// declares but never calls (the fourth intra-patch embedding and the projection's
    /// `conv_output`).
    pub used: usize,
}

/// The KA-Net network.
#[derive(Module, Debug)]
pub struct KaNet {
    encoder: Encoder,
    decoder: Decoder,
    projection: Projection,
    head: Head,
    bottleneck: DehazeBlock,
}

/// Burn paths of the modules that exist only for checkpoint compatibility.
const UNUSED_MODULES: [&str; 2] = ["encoder.mini_patch_embeds.3.", "projection.conv_output."];

impl KaNet {
    /// A network with freshly initialised weights on `device` (Burn's default initialisers;
    /// RFF constants from [`RFF_SEED`]).
    ///
    /// # Panics
    /// If `config` fails [`KaNetConfig::validate`].
    pub fn new(config: &KaNetConfig, device: &Device) -> Self {
        if let Err(e) = config.validate() {
            panic!("invalid KA-Net configuration {:?}: {e}", config.dims);
        }
        let d = config.dims;
        Self {
            encoder: Encoder::new(d, device),
            decoder: Decoder::new(d[3], device),
            projection: Projection::new(d, device),
            head: Head::new(device),
            bottleneck: DehazeBlock::new(d[3], device),
        }
    }

    /// A network whose initial weights are a pure function of `seed`: the layers and
    /// distributions of [`KaNet::new`], every random draw taken from a ChaCha8 stream of its own
    /// instead of Burn's process-wide generator, so the same seed gives the same weights on any
    /// thread, any backend and any run (the trainer's exact `--resume` rests on it; rules in
    /// `ka_net/init.rs`). The RFF constants still come from [`RFF_SEED`].
    ///
    /// # Panics
    /// If `config` fails [`KaNetConfig::validate`].
    pub fn new_seeded(config: &KaNetConfig, device: &Device, seed: u64) -> Self {
        Self::new(config, device).map(&mut init::SeededInit::new(seed))
    }

    /// Loads a file written by [`KaNet::save`] with the widths its metadata records
    /// ([`KaNet::saved_config`]); a file without them (the official checkpoint) is read as
    /// [`KaNetConfig::official`].
    pub fn load_saved(path: &Path, device: &Device) -> Result<Self, WeightsError> {
        let config = Self::saved_config(path)?.unwrap_or_else(KaNetConfig::official);
        Self::load(path, &config, device)
    }

    /// Loads a checkpoint: the official PyTorch pickle (zip or legacy container; the state
    /// dict under `model`, keys prefixed with `module.`), a bare state dict (prefix optional),
    /// or the same tensors as safetensors. Loading is strict: a missing, unexpected or
    /// mis-shaped tensor is an error naming the key (in the official naming) and the file.
    /// BatchNorm `num_batches_tracked` counters are accepted and ignored.
    pub fn load(path: &Path, config: &KaNetConfig, device: &Device) -> Result<Self, WeightsError> {
        config.validate().map_err(|reason| WeightsError::File {
            path: path.to_path_buf(),
            reason: format!("invalid configuration: {reason}"),
        })?;
        let mut model = Self::new(config, device);
        checkpoint::load_into(&mut model, path)?;
        Ok(model)
    }

    /// Saves the weights atomically as safetensors under the official state-dict names (bare
    /// keys, PyTorch layouts: Linear weights `[out, in]`), with the widths in the metadata
    /// (`dehaze.model = "ka-net"`, `dehaze.ka_net_dims = "16,32,80,128"`). [`KaNet::load`]
    /// reads the file back, and so does the official code's `load_state_dict` for the official
    /// widths. The RFF constants are not weights and are not saved (they come from
    /// [`RFF_SEED`]).
    pub fn save(&self, path: &Path) -> Result<(), WeightsError> {
        checkpoint::save(self, path)
    }

    /// The widths of a file written by [`KaNet::save`] (from its metadata), so it can be loaded
    /// without being told its configuration. `None` for files without that metadata, such as
    /// the official checkpoint (which is [`KaNetConfig::official`]).
    pub fn saved_config(path: &Path) -> Result<Option<KaNetConfig>, WeightsError> {
        checkpoint::saved_config(path)
    }

    /// The encoder widths of this network.
    pub fn dims(&self) -> [usize; 4] {
        self.encoder.dims()
    }

    /// The configuration of this network (its encoder widths).
    pub fn config(&self) -> KaNetConfig {
        KaNetConfig { dims: self.dims() }
    }

    /// Forward pass. `x`: `[N, 3, H, W]` normalised to [−1, 1], H and W multiples of
    /// [`SIZE_MULTIPLE`]. Returns the tanh output `[N, 3, H, W]` and the pooled feature
    /// `z`: `[N, dims[3]]`.
    pub fn forward(&self, x: Tensor<4>) -> (Tensor<4>, Tensor<2>) {
        let [n, _, h, w] = x.dims();
        assert!(
            h % SIZE_MULTIPLE == 0 && w % SIZE_MULTIPLE == 0 && h > 0 && w > 0,
            "KA-Net input {h}×{w} is not a positive multiple of {SIZE_MULTIPLE}"
        );
        let feats = self.encoder.forward(x);
        let f4 = feats[3].clone();
        let c = f4.dims()[1];
        let z = f4.clone().mean_dim(3).mean_dim(2).reshape([n, c]);
        let xu = self.decoder.forward(self.bottleneck.forward(f4));
        let out = self.head.forward(self.projection.forward(&feats, xu));
        (out, z)
    }

    /// The random-Fourier-feature constants `(W [D, D/8], b [D])`.
    pub fn rff(&self) -> (Tensor<2>, Tensor<1>) {
        let b = &self.bottleneck.branches;
        (b.rff_w.clone(), b.rff_b.clone())
    }

    /// Replaces the random-Fourier-feature constants, e.g. with the draw a PyTorch reference
    /// used. `w`: `[D, D/8]`, `b`: `[D]` with D the bottleneck width.
    ///
    /// # Panics
    /// If the shapes differ from the current ones.
    pub fn set_rff(&mut self, w: Tensor<2>, b: Tensor<1>) {
        let branches = &mut self.bottleneck.branches;
        assert_eq!(w.dims(), branches.rff_w.dims(), "RFF W shape");
        assert_eq!(b.dims(), branches.rff_b.dims(), "RFF b shape");
        branches.rff_w = w;
        branches.rff_b = b;
    }

    /// Learnable parameter counts (total and used by the forward pass).
    pub fn parameter_counts(&self) -> ParameterCounts {
        let mut counts = ParameterCounts {
            learnable: 0,
            used: 0,
        };
        for t in self.collect(None, None, false) {
            if t.name.ends_with(".running_mean") || t.name.ends_with(".running_var") {
                continue;
            }
            let n = t.shape.num_elements();
            counts.learnable += n;
            if !UNUSED_MODULES.iter().any(|p| t.name.starts_with(p)) {
                counts.used += n;
            }
        }
        counts
    }

    /// The state-dict keys of the official network this model's tensors load from (without
    /// the `module.` prefix, BatchNorm `num_batches_tracked` counters not included), sorted.
    pub fn official_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .collect(None, None, false)
            .iter()
            .map(|t| checkpoint::official_name(&t.name).expect("every parameter has a name"))
            .collect();
        keys.sort();
        keys
    }
}
