//! The networks this toolkit knows, in one table (after BasicSR's registry: one place from a
//! name to an architecture). Every other part reads it: `--method` and `dehaze methods`, the
//! loaders, the tile planner, the trainer's `[model] name`, and the message that says how to
//! get weights.
//!
//! Weights are not part of the table: the binary that ships weights passes them in
//! ([`BundledWeights`]), so this crate reads no file outside itself at build time.

use std::fmt;

use crate::dhr::DhrConfig;
use crate::ka_net::KaNetConfig;
use crate::memory::{TileCost, TilingModel, DHR_B_COST, DHR_S_COST, KA_NET_COST, KA_NET_S_COST};

/// A dehazing network, by its command-line name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NetworkKind {
    /// KA-Net (Feng et al., TPAMI 2024) with the official checkpoint.
    KaNet,
    /// KA-Net-S: KA-Net at a quarter of the widths ([`KaNetConfig::small`]), trained with
    /// `dehaze train`.
    KaNetS,
    /// DHR, small: trainable on a CPU ([`DhrConfig::small`]).
    DhrS,
    /// DHR, base: for GPU training ([`DhrConfig::base`]).
    DhrB,
}

/// The architecture and size of a network.
#[derive(Clone, Debug, PartialEq)]
pub enum Architecture {
    KaNet(KaNetConfig),
    Dhr(DhrConfig),
}

/// One row of the registry.
#[derive(Clone, Copy, Debug)]
pub struct NetworkSpec {
    pub kind: NetworkKind,
    /// The command-line name (`--method`, `[model] name`).
    pub name: &'static str,
    /// A one-line description with the paper.
    pub description: &'static str,
    /// The architecture and its size.
    pub architecture: fn() -> Architecture,
    /// Memory model and tile overlap ([`crate::memory`]).
    pub tiling: TilingModel,
    /// How a user gets weights, for the refusal to run without them (how to pass them is the
    /// front end's to say: a flag, a keyword argument).
    pub weights_hint: &'static str,
}

const fn tiling(cost: TileCost, margin: usize, ramp: usize) -> TilingModel {
    TilingModel { cost, margin, ramp }
}

/// KA-Net's margin and ramp (see [`NETWORKS`]), for every width: they follow from the token
/// strides and the border padding, which the widths do not change.
const fn ka_net_tiling(cost: TileCost) -> TilingModel {
    tiling(cost, 64, 64)
}

/// Every network, in the order `dehaze methods` lists them.
///
/// Tiling (see [`TilingModel`]):
/// * KA-Net (`ka-net` and `ka-net-s`, one architecture at two widths): attention spans the
///   tile, so no overlap makes tiles exact; the margin (64 px = 4 tokens of the 1/16 stage, 2
///   of the 1/32 stage) drops the band where the tile's border — zero padding of every conv and
///   the patch embeddings — dominates, and the 64-px ramp hides the remaining seam.
/// * DHR: a U-Net of four 2× stages with 3×3 convs, a theoretical receptive field of a few
///   hundred pixels whose weight falls off fast; margin 32 (two 16-px patches) and ramp 32.
pub const NETWORKS: [NetworkSpec; 4] = [
    NetworkSpec {
        kind: NetworkKind::KaNet,
        name: "ka-net",
        description:
            "KA-Net localization-and-removal network (Feng et al., TPAMI 2024), official weights",
        architecture: || Architecture::KaNet(KaNetConfig::official()),
        tiling: ka_net_tiling(KA_NET_COST),
        weights_hint: "KA-Net needs the official checkpoint \
            (ots_train_Dehaze_627_256_fLD_model1_epoch1.pk, linked from the README of \
            github.com/fyxnl/KA_Net)",
    },
    NetworkSpec {
        kind: NetworkKind::KaNetS,
        name: "ka-net-s",
        description: "KA-Net-S: KA-Net (Feng et al., TPAMI 2024) at 1/4 of the widths, \
            weights from `dehaze train`",
        architecture: || Architecture::KaNet(KaNetConfig::small()),
        tiling: ka_net_tiling(KA_NET_S_COST),
        weights_hint: "train weights with `dehaze train --config configs/ka-net-s.toml`",
    },
    NetworkSpec {
        kind: NetworkKind::DhrS,
        name: "dhr-s",
        description: "DHR density-aware restorer, small (after API, arXiv 2601.01992)",
        architecture: || Architecture::Dhr(DhrConfig::small()),
        tiling: tiling(DHR_S_COST, 32, 32),
        weights_hint: "train weights with `dehaze train --config configs/dhr-s-real.toml`",
    },
    NetworkSpec {
        kind: NetworkKind::DhrB,
        name: "dhr-b",
        description: "DHR density-aware restorer, base (after API, arXiv 2601.01992)",
        architecture: || Architecture::Dhr(DhrConfig::base()),
        tiling: tiling(DHR_B_COST, 32, 32),
        weights_hint: "train weights with `dehaze train --config configs/dhr-b.toml` (a GPU is \
            advised)",
    },
];

impl NetworkKind {
    /// Every network, in the order `dehaze methods` lists them.
    pub const ALL: [NetworkKind; 4] = [
        NetworkKind::KaNet,
        NetworkKind::KaNetS,
        NetworkKind::DhrS,
        NetworkKind::DhrB,
    ];

    /// This network's row of [`NETWORKS`].
    pub fn spec(self) -> &'static NetworkSpec {
        NETWORKS
            .iter()
            .find(|s| s.kind == self)
            .expect("every kind has a row in NETWORKS")
    }

    /// The command-line name (`--method`).
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// A one-line description with the paper.
    pub fn description(self) -> &'static str {
        self.spec().description
    }

    /// Parses a command-line name.
    pub fn from_name(name: &str) -> Option<Self> {
        NETWORKS.iter().find(|s| s.name == name).map(|s| s.kind)
    }

    /// The architecture and its size.
    pub fn architecture(self) -> Architecture {
        (self.spec().architecture)()
    }

    /// The DHR configuration, for the DHR sizes.
    pub fn dhr_config(self) -> Option<DhrConfig> {
        match self.architecture() {
            Architecture::Dhr(c) => Some(c),
            Architecture::KaNet(_) => None,
        }
    }

    /// The KA-Net configuration (its widths), for the KA-Net sizes.
    pub fn ka_net_config(self) -> Option<KaNetConfig> {
        match self.architecture() {
            Architecture::KaNet(c) => Some(c),
            Architecture::Dhr(_) => None,
        }
    }

    /// Whether the network also returns a per-patch importance map (DHR does).
    pub fn has_importance(self) -> bool {
        matches!(self.architecture(), Architecture::Dhr(_))
    }

    /// Memory model and overlap for tiling this network.
    pub fn tiling(self) -> TilingModel {
        self.spec().tiling
    }

    /// How a user gets weights for this network.
    pub fn weights_hint(self) -> &'static str {
        self.spec().weights_hint
    }

    /// The number of learnable parameters (of a fresh network: Burn's layers initialise their
    /// parameters lazily and the count reads shapes only, so this costs microseconds, not the
    /// 222 MB of KA-Net).
    pub fn num_params(self) -> usize {
        crate::inference::Network::build(self, &crate::device::cpu()).num_params()
    }
}

impl fmt::Display for NetworkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Serialised by name (`"dhr-s"`), as configs write it.
impl serde::Serialize for NetworkKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for NetworkKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        NetworkKind::from_name(&name).ok_or_else(|| {
            let names: Vec<&str> = NETWORKS.iter().map(|s| s.name).collect();
            serde::de::Error::custom(format!(
                "unknown network `{name}`, expected one of {}",
                names.join(", ")
            ))
        })
    }
}

/// Weights compiled into a binary, per network. The binary crate owns the bytes (its
/// `include_bytes!`) and passes them to [`crate::restorer::Restorer::new`]; a library user
/// passes [`BundledWeights::NONE`] or their own.
#[derive(Clone, Copy, Debug, Default)]
pub struct BundledWeights {
    entries: &'static [(NetworkKind, &'static [u8])],
}

impl BundledWeights {
    /// No weights bundled.
    pub const NONE: BundledWeights = BundledWeights { entries: &[] };

    /// The given weights, a safetensors buffer per network.
    pub const fn new(entries: &'static [(NetworkKind, &'static [u8])]) -> Self {
        BundledWeights { entries }
    }

    /// The weights bundled for `kind`, if any.
    pub fn get(&self, kind: NetworkKind) -> Option<&'static [u8]> {
        self.entries
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, bytes)| *bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_rows_are_unique() {
        for kind in NetworkKind::ALL {
            assert_eq!(NetworkKind::from_name(kind.name()), Some(kind));
            assert_eq!(kind.spec().kind, kind);
        }
        assert_eq!(NETWORKS.len(), NetworkKind::ALL.len());
        assert_eq!(NetworkKind::from_name("dhr-xl"), None);
        assert_eq!(NetworkKind::DhrS.dhr_config(), Some(DhrConfig::small()));
        assert_eq!(NetworkKind::KaNet.dhr_config(), None);
        assert!(NetworkKind::DhrB.has_importance() && !NetworkKind::KaNet.has_importance());
    }

    #[test]
    fn ka_net_s_is_the_small_ka_net() {
        use crate::ka_net::{CONFIG_NAMES, KA_NET_S_PARAMS};
        let k = NetworkKind::from_name("ka-net-s").unwrap();
        assert_eq!(k, NetworkKind::KaNetS);
        assert_eq!(k.architecture(), Architecture::KaNet(KaNetConfig::small()));
        assert_eq!(k.ka_net_config().unwrap().dims, [16, 32, 80, 128]);
        assert_eq!(k.num_params(), 3_541_378);
        assert_eq!(KA_NET_S_PARAMS, 3_541_378);
        assert!(k.dhr_config().is_none() && !k.has_importance());
        assert!(
            k.weights_hint()
                .contains("dehaze train --config configs/ka-net-s.toml"),
            "{}",
            k.weights_hint()
        );
        // Same tiling context as ka-net; a cost never below the official network's.
        let (s, official) = (k.tiling(), NetworkKind::KaNet.tiling());
        assert_eq!((s.margin, s.ramp), (official.margin, official.ramp));
        for n in [64 * 64, 512 * 512, 2048 * 2048] {
            assert!(s.cost.bytes(n) >= official.cost.bytes(n));
        }
        // The trainer's KA-Net names are the registry's KA-Net rows, in order, same widths.
        let rows: Vec<&str> = NetworkKind::ALL
            .into_iter()
            .filter(|k| k.ka_net_config().is_some())
            .map(NetworkKind::name)
            .collect();
        assert_eq!(rows, CONFIG_NAMES);
        assert_eq!(
            KaNetConfig::from_name("ka-net"),
            Some(KaNetConfig::official())
        );
        assert_eq!(
            KaNetConfig::from_name("ka-net-s"),
            Some(KaNetConfig::small())
        );
        assert_eq!(KaNetConfig::from_name("dhr-s"), None);
        assert_eq!(NetworkKind::DhrS.ka_net_config(), None);
    }

    #[test]
    fn bundled_weights_are_found_by_kind() {
        static BYTES: [u8; 3] = [1, 2, 3];
        static ENTRIES: [(NetworkKind, &[u8]); 1] = [(NetworkKind::DhrS, &BYTES)];
        let b = BundledWeights::new(&ENTRIES);
        assert_eq!(b.get(NetworkKind::DhrS), Some(&BYTES[..]));
        assert_eq!(b.get(NetworkKind::DhrB), None);
        assert_eq!(BundledWeights::NONE.get(NetworkKind::DhrS), None);
    }
}
