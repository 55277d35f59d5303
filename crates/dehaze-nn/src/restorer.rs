//! One dehazing method, ready to run on images: a classical prior, or a network loaded once
//! with its weights, device and way of handling large images.
//!
//! [`Restorer::new`] turns the user's choice ([`MethodChoice`], [`NetworkOptions`]) into a
//! restorer with every check in one place — weights only for networks, never random weights,
//! the device the build has — and [`Restorer::restore`] runs it on one image. The command line
//! (`dehaze`, `dehaze eval`) and the Python package hold one and call it per image, so they
//! give the same results.
//!
//! A network's image goes through [`crate::working_size`] (`NetworkSize::LongSide`: a
//! downscaled pass, guided upsampling back) and, where a pass does not fit the memory budget,
//! through [`crate::tiling`] ([`Network::restore_within`]).

use std::fmt;
use std::path::PathBuf;

use dehaze_core::buffer::{Plane, RgbImage};
use dehaze_core::filters::guided_upsample::GuidedUpsample;
use dehaze_core::Method;

use crate::device::DeviceChoice;
use crate::inference::{Network, TileError};
use crate::registry::{BundledWeights, NetworkKind};
use crate::weights::WeightsError;
use crate::working_size::{restore_at_size, NetworkSize};

/// A dehazing method by its name: a prior (dehaze-core) or a network (the registry).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MethodChoice {
    /// A prior-based method: no weights, runs on the CPU, images in parallel.
    Prior(Method),
    /// A network: needs weights; one image at a time, tiled to the memory budget.
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

    /// The default method: the dark channel prior.
    pub const DEFAULT: MethodChoice = MethodChoice::Prior(Method::Dcp);

    /// The name (`--method`, `method=`).
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

    /// Parses a name.
    pub fn from_name(name: &str) -> Option<MethodChoice> {
        Self::all().into_iter().find(|m| m.name() == name)
    }

    /// Whether the method estimates a transmission map (the priors do).
    pub fn has_transmission(self) -> bool {
        matches!(self, MethodChoice::Prior(_))
    }

    /// Whether the method returns a patch-importance map (DHR does).
    pub fn has_importance(self) -> bool {
        matches!(self, MethodChoice::Network(k) if k.has_importance())
    }
}

impl fmt::Display for MethodChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a network method runs. Ignored by priors, except that weights given to a prior are an
/// error.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkOptions {
    /// A weights file; `None`: the bundled weights, if the build has them.
    pub weights: Option<PathBuf>,
    /// Where the network runs.
    pub device: DeviceChoice,
    /// The memory budget in bytes: passes that do not fit run in tiles.
    pub max_memory: u64,
    /// Where the network runs: on the image, or on a downscaled copy.
    pub size: NetworkSize,
}

/// The default memory budget: 2 GiB.
pub const DEFAULT_MAX_MEMORY: u64 = 2 << 30;

impl Default for NetworkOptions {
    fn default() -> Self {
        NetworkOptions {
            weights: None,
            device: DeviceChoice::Cpu,
            max_memory: DEFAULT_MAX_MEMORY,
            size: NetworkSize::Full,
        }
    }
}

/// Why no restorer could be built. The messages name no command-line flag; front ends say
/// how to pass weights or choose a device in their own terms.
#[derive(Debug)]
pub enum RestorerError {
    /// Weights were given for a prior.
    WeightsForPrior(Method),
    /// One weights file was given for several networks.
    WeightsForSeveral(Vec<NetworkKind>),
    /// The device is not in this build or not usable here.
    Device {
        device: DeviceChoice,
        reason: String,
    },
    /// No weights given and none bundled: networks never run with random weights.
    NoWeights(NetworkKind),
    /// The weights could not be loaded.
    Weights {
        kind: NetworkKind,
        error: WeightsError,
    },
    /// Loading panicked (a bug).
    Internal { kind: NetworkKind, message: String },
}

impl fmt::Display for RestorerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RestorerError::WeightsForPrior(m) => write!(
                f,
                "weights are for network methods; {} needs none",
                m.name()
            ),
            RestorerError::WeightsForSeveral(kinds) => write!(
                f,
                "one weights file for several networks ({}): run them one at a time",
                kinds
                    .iter()
                    .map(|k| k.name())
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
            RestorerError::Device { device, reason } => {
                write!(f, "device {}: {reason}", device.name())
            }
            RestorerError::NoWeights(kind) => write!(
                f,
                "{kind} has no weights in this build, and networks never run with untrained \
                 (random) weights: {}",
                kind.weights_hint()
            ),
            RestorerError::Weights { kind, error } => {
                write!(f, "cannot load {kind} weights from {error}")
            }
            RestorerError::Internal { kind, message } => {
                write!(
                    f,
                    "{kind}: internal error while loading the weights: {message}"
                )
            }
        }
    }
}

impl std::error::Error for RestorerError {}

/// What restoring one image gives.
#[derive(Clone, Debug)]
pub struct Restoration {
    /// The dehazed image, at the input's size, in [0, 1].
    pub image: RgbImage,
    /// The transmission map `t` (priors).
    pub transmission: Option<Plane>,
    /// The estimated airlight `A` per channel (priors).
    pub airlight: Option<[f32; 3]>,
    /// DHR's patch importance `w_p`, one value per pixel (mean 1 over the patches).
    pub importance: Option<Plane>,
    /// How a network ran (`None` for priors).
    pub run: Option<NetworkRun>,
}

/// How a network ran on one image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetworkRun {
    /// The image's size.
    pub image: (usize, usize),
    /// The size the network ran at (smaller than `image` with guided upsampling).
    pub network: (usize, usize),
    /// Tiles of the network's pass (1: the whole image).
    pub tiles: usize,
    /// Their side in pixels.
    pub tile: usize,
}

impl NetworkRun {
    /// `, network at 1024×683, guided upsampling to 6000×4000, 4 tiles of 512 px`: a note for
    /// a verbose log line (starting with a comma); `budget` is named when there are tiles.
    pub fn note(&self, budget: &str) -> String {
        let mut note = if self.network == self.image {
            String::new()
        } else {
            format!(
                ", network at {}×{}, guided upsampling to {}×{}",
                self.network.0, self.network.1, self.image.0, self.image.1
            )
        };
        if self.tiles == 1 {
            note.push_str(", whole image");
        } else {
            note.push_str(&format!(
                ", {} tiles of {} px for {budget}",
                self.tiles, self.tile
            ));
        }
        note
    }
}

/// A method ready to run: a prior, or a loaded network and how it runs.
pub enum Restorer {
    Prior(Method),
    Network {
        net: Network,
        max_memory: u64,
        size: NetworkSize,
    },
}

impl Restorer {
    /// Builds the restorer for `method`: a prior as it is; a network with `options.weights`,
    /// else with its weights in `bundled`, else refused (networks never run with random
    /// weights). Weights given to a prior are an error, not ignored.
    pub fn new(
        method: MethodChoice,
        options: &NetworkOptions,
        bundled: BundledWeights,
    ) -> Result<Self, RestorerError> {
        let kind = match method {
            MethodChoice::Prior(m) => {
                return match options.weights {
                    Some(_) => Err(RestorerError::WeightsForPrior(m)),
                    None => Ok(Restorer::Prior(m)),
                }
            }
            MethodChoice::Network(kind) => kind,
        };
        let device = options
            .device
            .device()
            .map_err(|reason| RestorerError::Device {
                device: options.device,
                reason,
            })?;
        let bytes = bundled.get(kind);
        if options.weights.is_none() && bytes.is_none() {
            return Err(RestorerError::NoWeights(kind));
        }
        let loaded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            match (&options.weights, bytes) {
                (Some(path), _) => Network::load(kind, path, &device),
                (None, Some(bytes)) => Network::from_safetensors_bytes(kind, bytes, &device),
                (None, None) => unreachable!("checked above"),
            }
        }))
        .map_err(|panic| RestorerError::Internal {
            kind,
            message: panic_message(&*panic),
        })?;
        let net = loaded.map_err(|error| RestorerError::Weights { kind, error })?;
        Ok(Restorer::Network {
            net,
            max_memory: options.max_memory,
            size: options.size,
        })
    }

    /// Restorers for several methods compared side by side (`dehaze eval`): `options.weights`,
    /// if given, are for the one network among them — weights with no network, or with
    /// several, are an error; networks without them use their bundled weights.
    pub fn several(
        methods: &[MethodChoice],
        options: &NetworkOptions,
        bundled: BundledWeights,
    ) -> Result<Vec<Self>, RestorerError> {
        let networks: Vec<NetworkKind> = methods
            .iter()
            .filter_map(|m| match m {
                MethodChoice::Network(k) => Some(*k),
                MethodChoice::Prior(_) => None,
            })
            .collect();
        if options.weights.is_some() {
            match (networks.len(), methods.first()) {
                (0, Some(MethodChoice::Prior(m))) => {
                    return Err(RestorerError::WeightsForPrior(*m))
                }
                (0 | 1, _) => {}
                _ => return Err(RestorerError::WeightsForSeveral(networks)),
            }
        }
        let without_weights = NetworkOptions {
            weights: None,
            ..options.clone()
        };
        methods
            .iter()
            .map(|&m| match m {
                MethodChoice::Prior(_) => Self::new(m, &without_weights, bundled),
                MethodChoice::Network(_) => Self::new(m, options, bundled),
            })
            .collect()
    }

    /// The method this restorer runs.
    pub fn method(&self) -> MethodChoice {
        match self {
            Restorer::Prior(m) => MethodChoice::Prior(*m),
            Restorer::Network { net, .. } => MethodChoice::Network(net.kind()),
        }
    }

    /// The loaded network, if this is one.
    pub fn network(&self) -> Option<&Network> {
        match self {
            Restorer::Prior(_) => None,
            Restorer::Network { net, .. } => Some(net),
        }
    }

    /// Whether images should be restored in parallel (priors: one thread each), or one at a
    /// time (a network: its memory budget is the process's, and its backend uses every thread
    /// within the image).
    pub fn images_in_parallel(&self) -> bool {
        matches!(self, Restorer::Prior(_))
    }

    /// Restores one image (planar RGB in [0, 1]). The input's buffer may become the output
    /// (guided upsampling writes in place). Priors never fail; a network fails only when no
    /// tile fits the memory budget.
    pub fn restore(&self, rgb: RgbImage) -> Result<Restoration, TileError> {
        match self {
            Restorer::Prior(m) => {
                let d = m.dehaze(&rgb);
                Ok(Restoration {
                    image: d.image,
                    transmission: Some(d.transmission),
                    airlight: Some(d.airlight),
                    importance: None,
                    run: None,
                })
            }
            Restorer::Network {
                net,
                max_memory,
                size,
            } => {
                let image = (rgb.width(), rgb.height());
                let network = size.network_input(image.0, image.1);
                let mut tiles = (1, 0);
                let restored = restore_at_size(rgb, *size, &GuidedUpsample::default(), |low| {
                    let t = net.restore_within(low, *max_memory)?;
                    tiles = (t.tiles, t.spec.tile);
                    Ok::<_, TileError>(t.restored)
                })?;
                Ok(Restoration {
                    image: restored.image,
                    transmission: None,
                    airlight: None,
                    importance: restored.importance,
                    run: Some(NetworkRun {
                        image,
                        network,
                        tiles: tiles.0,
                        tile: tiles.1,
                    }),
                })
            }
        }
    }
}

/// The text of a panic's payload.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_priors_come_first() {
        let all = MethodChoice::all();
        assert_eq!(all[0], MethodChoice::DEFAULT);
        for m in &all {
            assert_eq!(MethodChoice::from_name(m.name()), Some(*m));
        }
        assert_eq!(
            MethodChoice::from_name("dhr-s"),
            Some(MethodChoice::Network(NetworkKind::DhrS))
        );
        assert_eq!(MethodChoice::from_name("nope"), None);
        assert!(MethodChoice::DEFAULT.has_transmission());
        assert!(MethodChoice::Network(NetworkKind::DhrS).has_importance());
        assert!(!MethodChoice::Network(NetworkKind::KaNet).has_importance());
    }

    #[test]
    fn a_prior_restores_and_refuses_weights() {
        let r = Restorer::new(
            MethodChoice::DEFAULT,
            &NetworkOptions::default(),
            BundledWeights::NONE,
        )
        .unwrap();
        assert!(r.images_in_parallel() && r.network().is_none());
        let img = RgbImage::from_planar(8, 6, (0..144).map(|i| i as f32 / 144.0).collect());
        let out = r.restore(img.clone()).unwrap();
        assert_eq!(out.image.data(), Method::Dcp.dehaze(&img).image.data());
        assert!(out.transmission.is_some() && out.run.is_none());

        let with_weights = NetworkOptions {
            weights: Some("w.safetensors".into()),
            ..NetworkOptions::default()
        };
        let e = Restorer::new(MethodChoice::DEFAULT, &with_weights, BundledWeights::NONE)
            .err()
            .unwrap();
        assert!(
            matches!(e, RestorerError::WeightsForPrior(Method::Dcp)),
            "{e}"
        );
    }

    #[test]
    fn weights_go_to_the_one_network_of_several_methods() {
        let with_weights = NetworkOptions {
            weights: Some("w.safetensors".into()),
            ..NetworkOptions::default()
        };
        let priors = [MethodChoice::DEFAULT, MethodChoice::Prior(Method::Cap)];
        let e = Restorer::several(&priors, &with_weights, BundledWeights::NONE)
            .err()
            .unwrap();
        assert!(
            matches!(e, RestorerError::WeightsForPrior(Method::Dcp)),
            "{e}"
        );
        let two = [
            MethodChoice::Network(NetworkKind::DhrS),
            MethodChoice::Network(NetworkKind::KaNet),
        ];
        let e = Restorer::several(&two, &with_weights, BundledWeights::NONE)
            .err()
            .unwrap();
        assert_eq!(
            e.to_string(),
            "one weights file for several networks (dhr-s and ka-net): run them one at a time"
        );
        // The weights reach the network (and fail there: the file does not exist), not the prior.
        let mixed = [
            MethodChoice::DEFAULT,
            MethodChoice::Network(NetworkKind::DhrS),
        ];
        let e = Restorer::several(&mixed, &with_weights, BundledWeights::NONE)
            .err()
            .unwrap();
        assert!(
            matches!(
                e,
                RestorerError::Weights {
                    kind: NetworkKind::DhrS,
                    ..
                }
            ),
            "{e}"
        );
        let ok = Restorer::several(&priors, &NetworkOptions::default(), BundledWeights::NONE);
        assert_eq!(ok.unwrap().len(), 2);
    }

    #[test]
    fn a_network_without_weights_is_refused_with_the_hint() {
        let e = Restorer::new(
            MethodChoice::Network(NetworkKind::DhrB),
            &NetworkOptions::default(),
            BundledWeights::NONE,
        )
        .err()
        .unwrap();
        assert!(matches!(e, RestorerError::NoWeights(NetworkKind::DhrB)));
        assert!(e.to_string().contains("configs/dhr-b.toml"), "{e}");
    }

    /// A seeded (untrained) KA-Net-S as `dehaze train` saves it: enough for the plumbing.
    fn ka_net_s_file(dir: &std::path::Path) -> PathBuf {
        use crate::ka_net::{KaNet, KaNetConfig};
        let path = dir.join("ka-net-s.safetensors");
        KaNet::new_seeded(&KaNetConfig::small(), &crate::device::cpu(), 7)
            .save(&path)
            .unwrap();
        path
    }

    fn ka_net_s_restores(r: &Restorer) -> RgbImage {
        let (w, h) = (64, 48);
        let img = RgbImage::from_planar(
            w,
            h,
            (0..3 * w * h).map(|i| (i % 251) as f32 / 250.0).collect(),
        );
        let out = r.restore(img).unwrap();
        assert_eq!((out.image.width(), out.image.height()), (w, h));
        assert!(out
            .image
            .data()
            .iter()
            .all(|v| v.is_finite() && (0.0..=1.0).contains(v)));
        assert!(out.importance.is_none() && out.transmission.is_none());
        assert_eq!(out.run.unwrap().tiles, 1);
        out.image
    }

    #[test]
    fn ka_net_s_weights_restore_from_a_file_and_bundled() {
        let dir = tempfile::tempdir().unwrap();
        let path = ka_net_s_file(dir.path());
        let method = MethodChoice::from_name("ka-net-s").unwrap();
        assert_eq!(method, MethodChoice::Network(NetworkKind::KaNetS));
        let options = NetworkOptions {
            weights: Some(path.clone()),
            ..NetworkOptions::default()
        };
        let r = Restorer::new(method, &options, BundledWeights::NONE).unwrap();
        assert_eq!(r.network().unwrap().num_params(), 3_541_378);
        let from_file = ka_net_s_restores(&r);
        // The bundling mechanism carries ka-net-s weights (none are bundled today).
        let bytes: &'static [u8] = Box::leak(std::fs::read(&path).unwrap().into_boxed_slice());
        let entries: &'static [(NetworkKind, &'static [u8])] =
            Box::leak(Box::new([(NetworkKind::KaNetS, bytes)]));
        let bundled = BundledWeights::new(entries);
        let r = Restorer::new(method, &NetworkOptions::default(), bundled).unwrap();
        assert_eq!(ka_net_s_restores(&r).data(), from_file.data());
    }

    #[test]
    fn ka_net_weights_of_other_widths_are_refused_naming_the_file() {
        use crate::ka_net::{KaNet, KaNetConfig};
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let cpu = crate::device::cpu();
        let tiny = d.join("tiny.safetensors");
        KaNet::new_seeded(&KaNetConfig::tiny(), &cpu, 1)
            .save(&tiny)
            .unwrap();
        let small = ka_net_s_file(d);
        let dhr = d.join("dhr.safetensors");
        crate::dhr::Dhr::new_seeded(&crate::dhr::DhrConfig::small(), &cpu, 1)
            .save(&dhr)
            .unwrap();
        // A safetensors file without metadata reads as the official widths.
        let bare = d.join("bare.safetensors");
        let value = 0f32.to_le_bytes();
        let view =
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![1], &value).unwrap();
        std::fs::write(&bare, safetensors::serialize([("x", view)], None).unwrap()).unwrap();

        let refused = |kind: NetworkKind, path: &std::path::Path| -> String {
            let options = NetworkOptions {
                weights: Some(path.to_path_buf()),
                ..NetworkOptions::default()
            };
            let e = Restorer::new(MethodChoice::Network(kind), &options, BundledWeights::NONE)
                .err()
                .unwrap_or_else(|| panic!("{kind} loaded {}", path.display()));
            assert!(matches!(e, RestorerError::Weights { .. }), "{e}");
            let text = e.to_string();
            assert!(text.contains(&path.display().to_string()), "{text}");
            text
        };
        let small_dims = "[16, 32, 80, 128]";
        let official_dims = "[64, 128, 320, 512]";
        let e = refused(NetworkKind::KaNetS, &tiny);
        assert!(
            e.contains("[4, 8, 16, 16]") && e.contains(small_dims),
            "{e}"
        );
        let e = refused(NetworkKind::KaNetS, &bare);
        assert!(
            e.contains(official_dims)
                && e.contains(small_dims)
                && e.contains("use --method ka-net)"),
            "{e}"
        );
        let e = refused(NetworkKind::KaNetS, &dhr);
        assert!(e.contains("`dhr` model") && e.contains(small_dims), "{e}");
        // The official widths refuse a ka-net-s file before allocating the 55.7 M parameters.
        let e = refused(NetworkKind::KaNet, &small);
        assert!(
            e.contains(small_dims)
                && e.contains(official_dims)
                && e.contains("use --method ka-net-s"),
            "{e}"
        );
        let e = refused(NetworkKind::KaNet, &dhr);
        assert!(
            e.contains("`dhr` model") && e.contains(official_dims),
            "{e}"
        );
    }

    #[test]
    fn notes_say_how_a_network_ran() {
        let whole = NetworkRun {
            image: (64, 48),
            network: (64, 48),
            tiles: 1,
            tile: 64,
        };
        assert_eq!(whole.note("2 GiB"), ", whole image");
        let guided = NetworkRun {
            image: (4000, 3000),
            network: (1024, 768),
            tiles: 4,
            tile: 512,
        };
        assert_eq!(
            guided.note("a 1 GiB budget"),
            ", network at 1024×768, guided upsampling to 4000×3000, 4 tiles of 512 px for a 1 GiB budget"
        );
    }
}
