//! From a picture to a restored picture through one of the networks: the [`Network`] the
//! command line loads once and runs on every file, its pre- and post-processing, and the
//! conversion between [`RgbImage`] (planar `f32` in [0, 1]) and Burn tensors.
//!
//! # Pre- and post-processing
//!
//! * **KA-Net** (official test code): `x = 2·I − 1` (mean 0.5, std 0.5), forward, then
//!   `J = clamp(tanh(·), 0, 1)` — the network's output is *not* de-normalised, the negative half
//!   of tanh saturates to black, exactly as the official `save_image` does.
//! * **DHR** takes [0, 1] and returns [0, 1]; its importance `w_p = N·softmax(ρ_p/τ)` is returned
//!   per patch and upsampled here (nearest) to one value per pixel.
//!
//! # Sizes
//!
//! Both networks need H and W to be multiples of [`Network::size_multiple`] (16). The official
//! KA-Net test code **crops** the image to the multiple (centred, up to 15 rows and 15 columns
//! lost). We **pad** instead: the bottom rows and right columns are extended by reflection
//! (`…, x[n−2], x[n−1] | x[n−2], x[n−3], …`, PyTorch's `ReflectionPad2d`), the padded image is
//! restored, and the result is cropped back to the input size, so no pixel is lost and the output
//! has the input's size. On sizes that are already multiples of 16 both are identical; elsewhere
//! the outputs differ near the padded border (the network sees reflected context instead of
//! nothing), and KA-Net's global attention makes every pixel depend slightly on the padding.

use std::path::Path;

use burn::module::Module;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions, PadMode};
use burn::tensor::{Device, Tensor, TensorData};
use dehaze_core::buffer::{Plane, RgbImage};

use crate::dhr::Dhr;
use crate::ka_net::{self, KaNet, KaNetConfig};
use crate::memory::{plan_tiles, MemoryError};
use crate::registry::{Architecture, NetworkKind};
use crate::tiling::{restore_tiled, AxisTiles, RestoredImage, TileSpec};
use crate::weights::{WeightsError, KEY_MODEL};

/// Boxed: the two modules' sizes differ by hundreds of bytes of layer structs.
enum Model {
    KaNet(Box<KaNet>),
    Dhr(Box<Dhr>),
}

/// A loaded network, ready to restore images on its device.
pub struct Network {
    kind: NetworkKind,
    model: Model,
    device: Device,
}

/// What [`Network::restore`] gives, at the input's size.
#[derive(Debug, Clone)]
pub struct Restored {
    /// Restored image `[N, 3, H, W]` in [0, 1].
    pub image: Tensor<4>,
    /// DHR's patch importance `w_p` (mean 1 over the patches of the input), one value per pixel
    /// (each patch's value repeated over its P×P pixels), `[N, 1, H, W]`. `None` for KA-Net.
    pub importance: Option<Tensor<4>>,
}

impl Network {
    /// `kind` with freshly initialised (random) weights. For counting parameters and for tests:
    /// random weights never restore an image, and the front ends refuse to run them.
    pub fn build(kind: NetworkKind, device: &Device) -> Network {
        let model = match kind.architecture() {
            Architecture::KaNet(c) => Model::KaNet(Box::new(KaNet::new(&c, device))),
            Architecture::Dhr(c) => Model::Dhr(Box::new(Dhr::new(&c, device))),
        };
        Network {
            kind,
            model,
            device: device.clone(),
        }
    }

    /// Loads `kind`'s weights from `path` onto `device`.
    ///
    /// The file is checked first (it exists, it is a safetensors file or a PyTorch checkpoint),
    /// and it must hold the size `kind` names — a KA-Net file its widths
    /// ([`check_ka_net_widths`], before the network is allocated), a DHR file its parameter
    /// count — so that every failure is one line naming the file.
    pub fn load(kind: NetworkKind, path: &Path, device: &Device) -> Result<Self, WeightsError> {
        let format = sniff_weights(path)?;
        let model = match kind.architecture() {
            Architecture::KaNet(c) => {
                check_ka_net_widths(kind, &c, path)?;
                Model::KaNet(Box::new(KaNet::load(path, &c, device)?))
            }
            Architecture::Dhr(_) => {
                if format != WeightsFormat::Safetensors {
                    return Err(WeightsError::file(
                        path,
                        "DHR weights are safetensors files (written by `dehaze train`); this is a \
                         PyTorch checkpoint",
                    ));
                }
                Model::Dhr(Box::new(Dhr::load(path, device)?))
            }
        };
        let net = Network {
            kind,
            model,
            device: device.clone(),
        };
        if let Model::Dhr(_) = net.model {
            let (got, want) = (net.num_params(), kind.num_params());
            if got != want {
                let other = use_instead(kind, |k| k.has_importance() && k.num_params() == got);
                return Err(WeightsError::file(
                    path,
                    format!(
                        "holds a DHR with {got} parameters, but {} has {want}{other}",
                        kind.name()
                    ),
                ));
            }
        }
        Ok(net)
    }

    /// Loads `kind`'s weights from a safetensors buffer (weights compiled into a binary,
    /// [`crate::registry::BundledWeights`]); errors name it `<bundled NAME>`.
    pub fn from_safetensors_bytes(
        kind: NetworkKind,
        bytes: &[u8],
        device: &Device,
    ) -> Result<Self, WeightsError> {
        // The loaders read files; a bundled network is a few MB, written once per process.
        let named = |e: std::io::Error| {
            WeightsError::file(
                Path::new(&format!("<bundled {}>", kind.name())),
                e.to_string(),
            )
        };
        let mut file = tempfile::Builder::new()
            .suffix(".safetensors")
            .tempfile()
            .map_err(named)?;
        std::io::Write::write_all(&mut file, bytes).map_err(named)?;
        Self::load(kind, file.path(), device)
    }

    /// Which network this is.
    pub fn kind(&self) -> NetworkKind {
        self.kind
    }

    /// The device the weights live on; inputs must be created there.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// H and W of the forward pass must be multiples of this ([`Network::restore`] pads).
    pub fn size_multiple(&self) -> usize {
        match &self.model {
            Model::KaNet(_) => ka_net::SIZE_MULTIPLE,
            Model::Dhr(net) => net.size_multiple(),
        }
    }

    /// Learnable parameters of the loaded network. (Burn's `Module::num_params` also counts
    /// KA-Net's BatchNorm running statistics, 13,440 values that are state, not parameters.)
    pub fn num_params(&self) -> usize {
        match &self.model {
            Model::KaNet(net) => net.parameter_counts().learnable,
            Model::Dhr(net) => net.num_params(),
        }
    }

    /// Bytes the weights take in memory (`f32`).
    pub fn weights_bytes(&self) -> u64 {
        let values = match &self.model {
            Model::KaNet(net) => net.num_params(),
            Model::Dhr(net) => net.num_params(),
        };
        values as u64 * 4
    }

    /// The smallest side of the forward pass ([`Network::restore`] pads up to it): KA-Net's
    /// [`ka_net::MIN_SIDE`]; DHR takes any multiple of its size multiple.
    pub fn min_side(&self) -> usize {
        match &self.model {
            Model::KaNet(_) => ka_net::MIN_SIDE,
            Model::Dhr(net) => net.size_multiple(),
        }
    }

    /// Restores `rgb01` (`[N, 3, H, W]` in [0, 1], any H, W ≥ 1): pads to the size multiple
    /// (and at least [`Network::min_side`]) by reflection, runs the network with its pre- and
    /// post-processing (module docs), and crops back to H×W.
    pub fn restore(&self, rgb01: Tensor<4>) -> Restored {
        let (multiple, min_side) = (self.size_multiple(), self.min_side());
        restore_padded(rgb01, multiple, min_side, |x| self.forward(x))
    }

    /// One forward pass on a padded input in [0, 1]: image in [0, 1], and DHR's patch importance
    /// at the patch grid.
    fn forward(&self, x: Tensor<4>) -> (Tensor<4>, Option<Tensor<4>>) {
        match &self.model {
            Model::KaNet(net) => {
                let (y, _z) = net.forward(x.mul_scalar(2.0).sub_scalar(1.0));
                (y.clamp(0.0, 1.0), None)
            }
            Model::Dhr(net) => {
                let out = net.forward(x);
                (out.image, Some(out.importance))
            }
        }
    }
}

/// Checks that the KA-Net weights file `path` holds the widths of `kind` (`want`), from its
/// header alone: the widths its metadata records (files of [`KaNet::save`]), or, in a file that
/// records none, the official widths — the authors' checkpoint records nothing, and `ka-net`
/// loads it exactly as before this check existed. A file naming another model in its metadata
/// (DHR weights) is refused as such. The error names the file, both widths and, where the
/// widths are another network's of the registry, that network.
pub fn check_ka_net_widths(
    kind: NetworkKind,
    want: &KaNetConfig,
    path: &Path,
) -> Result<(), WeightsError> {
    let (got, recorded) = match KaNet::saved_config(path)? {
        Some(c) => (c, "as its metadata records"),
        None => {
            let metadata = crate::weights::safetensors_metadata(path)?.unwrap_or_default();
            // Files of `KaNet::save` always record their widths: this is another network.
            if let Some(model) = metadata.get(KEY_MODEL) {
                return Err(WeightsError::file(
                    path,
                    format!(
                        "holds a `{model}` model ({KEY_MODEL} in its metadata), not KA-Net; \
                         {kind} needs KA-Net widths {:?}",
                        want.dims
                    ),
                ));
            }
            (
                KaNetConfig::official(),
                "read as the official widths: the file records none, like the authors' \
                 checkpoint",
            )
        }
    };
    if got == *want {
        return Ok(());
    }
    let other = use_instead(kind, |k| k.ka_net_config().as_ref() == Some(&got));
    Err(WeightsError::file(
        path,
        format!(
            "holds KA-Net widths {:?} ({recorded}), but {kind} has widths {:?}{other}",
            got.dims, want.dims
        ),
    ))
}

/// ` (they are NAME weights: use --method NAME)` for the first network other than `kind` that
/// `is_it` accepts, or nothing.
fn use_instead(kind: NetworkKind, is_it: impl Fn(NetworkKind) -> bool) -> String {
    NetworkKind::ALL
        .into_iter()
        .filter(|&k| k != kind)
        .find(|&k| is_it(k))
        .map(|k| format!(" (they are {k} weights: use --method {k})"))
        .unwrap_or_default()
}

/// What [`Network::restore_within`] gives: the restored image and how it was tiled.
#[derive(Clone, Debug)]
pub struct TiledRestore {
    pub restored: RestoredImage,
    /// The number of tiles (1: the whole image in one pass).
    pub tiles: usize,
    /// Their layout.
    pub spec: TileSpec,
}

/// No tile of the image fits the memory budget.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TileError {
    pub width: usize,
    pub height: usize,
    pub kind: NetworkKind,
    pub memory: MemoryError,
}

impl std::fmt::Display for TileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}×{} with {}: {}",
            self.width, self.height, self.kind, self.memory
        )
    }
}

impl std::error::Error for TileError {}

impl Network {
    /// Restores `rgb` in tiles sized for `budget` bytes of memory ([`crate::memory`]; one tile
    /// when the image fits), blending overlapping tiles ([`crate::tiling`]).
    pub fn restore_within(&self, rgb: &RgbImage, budget: u64) -> Result<TiledRestore, TileError> {
        let (w, h) = (rgb.width(), rgb.height());
        let multiple = self.size_multiple();
        let spec = plan_tiles(
            &self.kind.tiling(),
            w,
            h,
            self.weights_bytes(),
            budget,
            multiple,
        )
        .map_err(|memory| TileError {
            width: w,
            height: h,
            kind: self.kind,
            memory,
        })?;
        let tiles = AxisTiles::new(w, multiple, &spec).starts.len()
            * AxisTiles::new(h, multiple, &spec).starts.len();
        let restored = restore_tiled(
            rgb,
            multiple,
            &spec,
            &self.device,
            |x| self.restore(x),
            |_, _| {},
        );
        Ok(TiledRestore {
            restored,
            tiles,
            spec,
        })
    }
}

/// The padding and cropping of [`Network::restore`], around any `forward` that takes a padded
/// `[N, 3, Hp, Wp]` (multiples of `multiple`, at least `min_side`, itself a multiple) and
/// returns the image at that size and optionally
/// a coarser one-channel map (upsampled here, nearest, to Hp×Wp). Public so that tests can wrap
/// small stand-in networks in exactly the processing the real ones get.
pub fn restore_padded(
    rgb01: Tensor<4>,
    multiple: usize,
    min_side: usize,
    forward: impl FnOnce(Tensor<4>) -> (Tensor<4>, Option<Tensor<4>>),
) -> Restored {
    let [n, _, h, w] = rgb01.dims();
    let padded = |len: usize| len.max(min_side).next_multiple_of(multiple);
    let (hp, wp) = (padded(h), padded(w));
    let x = pad_bottom_right(rgb01, hp - h, wp - w);
    let (image, map) = forward(x);
    let crop = |t: Tensor<4>, c: usize| t.slice([0..n, 0..c, 0..h, 0..w]);
    let importance = map.map(|m| {
        let [_, _, mh, mw] = m.dims();
        let full = if (mh, mw) == (hp, wp) {
            m
        } else {
            interpolate(
                m,
                InterpolateOptions::new(InterpolateMode::Nearest).with_output_size([hp, wp]),
            )
        };
        crop(full, 1)
    });
    Restored {
        image: crop(image, 3),
        importance,
    }
}

/// Extends the last `bottom` rows and `right` columns by reflection; where the image is too
/// small to reflect (padding ≥ its size, i.e. images under 16 px), by repeating the edge.
fn pad_bottom_right(x: Tensor<4>, bottom: usize, right: usize) -> Tensor<4> {
    let [_, _, h, w] = x.dims();
    let mode = |pad: usize, len: usize| {
        if pad < len {
            PadMode::Reflect
        } else {
            PadMode::Edge
        }
    };
    let x = if bottom > 0 {
        x.pad([(0, bottom), (0, 0)], mode(bottom, h))
    } else {
        x
    };
    if right > 0 {
        x.pad([(0, 0), (0, right)], mode(right, w))
    } else {
        x
    }
}

/// The index `i` of a padded axis reads in an axis of length `len`: itself inside, reflected
/// (without repeating the edge) past the end, the edge itself where reflection does not reach —
/// the element-wise rule of [`pad_bottom_right`].
pub(crate) fn reflect_index(i: usize, len: usize, pad: usize) -> usize {
    if i < len {
        i
    } else if pad < len {
        2 * (len - 1) - i
    } else {
        len - 1
    }
}

/// `image` as a `[1, 3, H, W]` tensor on `device`.
pub fn image_to_tensor(image: &RgbImage, device: &Device) -> Tensor<4> {
    let (w, h) = (image.width(), image.height());
    Tensor::from_data(TensorData::new(image.data().to_vec(), [1, 3, h, w]), device)
}

/// A `[1, 3, H, W]` tensor as an image (values as they are; the networks' outputs are in
/// [0, 1] already).
pub fn tensor_to_image(t: Tensor<4>) -> RgbImage {
    let [n, c, h, w] = t.dims();
    assert_eq!(
        (n, c),
        (1, 3),
        "expected one RGB image, got [{n}, {c}, {h}, {w}]"
    );
    RgbImage::from_planar(w, h, tensor_values(t))
}

/// A `[1, 1, H, W]` tensor as a plane.
pub fn tensor_to_plane(t: Tensor<4>) -> Plane {
    let [n, c, h, w] = t.dims();
    assert_eq!((n, c), (1, 1), "expected one map, got [{n}, {c}, {h}, {w}]");
    Plane::from_vec(w, h, tensor_values(t))
}

/// The values of a float tensor in row-major order.
pub(crate) fn tensor_values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .try_into_vec_as::<f32>()
        .expect("a float tensor converts to f32")
}

/// The kind of a weights file, from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightsFormat {
    /// safetensors: an 8-byte little-endian header length, then a JSON header.
    Safetensors,
    /// A PyTorch checkpoint: a zip container (torch ≥ 1.6) or a legacy pickle.
    PyTorch,
}

/// Checks that `path` can be read and looks like a weights file, before any loader runs, so
/// that a wrong path, an empty file or a picture given as `--weights` gets a one-line reason
/// naming the file.
pub fn sniff_weights(path: &Path) -> Result<WeightsFormat, WeightsError> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)
        .map_err(|e| WeightsError::file(path, format!("cannot open: {e}")))?;
    let len = file
        .metadata()
        .map_err(|e| WeightsError::file(path, format!("cannot read: {e}")))?
        .len();
    if len == 0 {
        return Err(WeightsError::file(path, "file is empty"));
    }
    let mut head = [0u8; 9];
    let got = file
        .read(&mut head)
        .map_err(|e| WeightsError::file(path, format!("cannot read: {e}")))?;
    let head = &head[..got];
    if head.starts_with(b"PK\x03\x04")
        || (head.first() == Some(&0x80) && head.get(1).is_some_and(|&p| p <= 5))
    {
        return Ok(WeightsFormat::PyTorch);
    }
    if got == 9 {
        let header_len = u64::from_le_bytes(head[..8].try_into().expect("8 bytes"));
        if head[8] == b'{' && header_len >= 2 && header_len <= len - 8 {
            return Ok(WeightsFormat::Safetensors);
        }
    }
    Err(WeightsError::file(
        path,
        "not a weights file: expected safetensors or a PyTorch checkpoint (.pt/.pth/.pk)",
    ))
}
