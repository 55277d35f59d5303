//! `dehaze_rs._native`: the Python binding of the dehazing library (numpy arrays in, numpy
//! arrays of the same dtype out), re-exported by the pure-Python package `dehaze_rs`.
//!
//! It calls the code the `dehaze` command line calls, in the same order, so results are the
//! same pixel for pixel: an array is taken in as [`io::read_image`] would have decoded a file
//! of the same samples ([`io::from_interleaved`]), restored by the library's
//! [`CoreRestorer`], and given back as [`io::write_image`] would have written it
//! ([`io::output_samples`] and [`io::quantise`]: grey stays grey, alpha passes through, 8- and
//! 16-bit samples are rounded the same way). Metrics are computed on the 8-bit quantised image,
//! as `dehaze metrics` does.
//!
//! Every long computation runs with the GIL released (`Python::detach`), so Python threads
//! (and Ray's worker threads) run in parallel with it.

use std::path::PathBuf;

use dehaze_core::buffer::RgbImage;
use dehaze_core::io::{self, Decoded, U16_TO_UNIT, U8_TO_UNIT};
use dehaze_core::metrics::{self as m, MetricError, NiqeLuma, Rgb8};
use dehaze_nn::device::DeviceChoice;
use dehaze_nn::inference::TileError;
use dehaze_nn::registry::{BundledWeights, NetworkKind};
use dehaze_nn::restorer::{
    MethodChoice, NetworkOptions, Restoration, Restorer as CoreRestorer, RestorerError,
    DEFAULT_MAX_MEMORY,
};
use dehaze_nn::working_size::NetworkSize;
use numpy::ndarray::{ArrayD, IxDyn};
use numpy::{PyArray, PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyInt};

/// The weights compiled into the module: the same files the `dehaze` binary bundles
/// (`crates/dehaze-cli/src/bundled.rs`), so `method="dhr-s"` and `method="ka-net-s"` run
/// without `weights=`.
const BUNDLED: BundledWeights = BundledWeights::new(&[
    (
        NetworkKind::DhrS,
        include_bytes!("../../../models/dhr-s.safetensors"),
    ),
    (
        NetworkKind::KaNetS,
        include_bytes!("../../../models/ka-net-s.safetensors"),
    ),
]);

/// The sample types an image array may have; the result has the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dtype {
    U8,
    U16,
    F32,
}

/// An image array taken in: its pixels as the command line would have decoded a file of the
/// same samples, and what is needed to give a result back in the same form.
struct Image {
    decoded: Decoded,
    dtype: Dtype,
    /// The array's shape (H×W or H×W×C); results have the same.
    shape: Vec<usize>,
}

/// Reads an image array: H×W (grey) or H×W×C with C = 1 (grey), 2 (grey+alpha), 3 (RGB) or
/// 4 (RGBA); uint8, uint16, or float32 in [0, 1] (finite). `what` names the argument in
/// errors (`img`, `ref`). Any memory layout is accepted (the samples are copied).
fn take_image(img: &Bound<'_, PyAny>, what: &str) -> PyResult<Image> {
    let Ok(array) = img.cast::<PyUntypedArray>() else {
        return Err(PyTypeError::new_err(format!(
            "{what}: a numpy array expected, got {}",
            img.get_type().name()?
        )));
    };
    let shape = array.shape().to_vec();
    let (height, width, channels) = match shape[..] {
        [h, w] => (h, w, 1),
        [h, w, c] => (h, w, c),
        _ => {
            return Err(PyValueError::new_err(format!(
                "{what}: an array of {} dimensions (shape {shape:?}): H×W (grey) or H×W×C \
                 (C = 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA) expected",
                shape.len()
            )))
        }
    };
    if !(1..=4).contains(&channels) {
        return Err(PyValueError::new_err(format!(
            "{what}: {channels} channels (shape {shape:?}): 1 (grey), 2 (grey+alpha), 3 (RGB) \
             or 4 (RGBA) expected"
        )));
    }
    if width == 0 || height == 0 {
        return Err(PyValueError::new_err(format!(
            "{what}: image has no pixels ({width}×{height})"
        )));
    }
    let borrow = |e: numpy::BorrowError| PyValueError::new_err(format!("{what}: {e}"));
    let decoded = if let Ok(a) = img.cast::<PyArrayDyn<u8>>() {
        let samples = contiguous(&a.try_readonly().map_err(borrow)?);
        (
            io::from_interleaved(width, height, channels, &samples, 8, |v| {
                f32::from(v) * U8_TO_UNIT
            }),
            Dtype::U8,
        )
    } else if let Ok(a) = img.cast::<PyArrayDyn<u16>>() {
        let samples = contiguous(&a.try_readonly().map_err(borrow)?);
        (
            io::from_interleaved(width, height, channels, &samples, 16, |v| {
                f32::from(v) * U16_TO_UNIT
            }),
            Dtype::U16,
        )
    } else if let Ok(a) = img.cast::<PyArrayDyn<f32>>() {
        let samples = contiguous(&a.try_readonly().map_err(borrow)?);
        check_unit_range(&samples, width, channels, what)?;
        // Float sources are treated as 16-bit ones, as `read_image` treats float TIFFs.
        (
            io::from_interleaved(width, height, channels, &samples, 16, |v| v),
            Dtype::F32,
        )
    } else {
        return Err(PyValueError::new_err(format!(
            "{what}: dtype {} is not supported: uint8, uint16, or float32 in [0, 1] expected \
             (e.g. img.astype(numpy.float32))",
            array.dtype()
        )));
    };
    let (decoded, dtype) = decoded;
    Ok(Image {
        decoded,
        dtype,
        shape,
    })
}

/// The samples of `a` in row-major (C) order, a copy. numpy's layout may be anything: strided
/// views, Fortran order (contiguous, but not in row-major order: hence ndarray's `as_slice`,
/// which is `Some` only for the standard layout, not numpy's, which is `Ok` for both).
fn contiguous<T: numpy::Element + Copy>(a: &numpy::PyReadonlyArrayDyn<'_, T>) -> Vec<T> {
    let view = a.as_array();
    match view.as_slice() {
        Some(s) => s.to_vec(),
        None => view.iter().copied().collect(),
    }
}

/// Float samples must be finite and in [0, 1]: NaN has no pixel value, and values outside
/// [0, 1] are most often 8-bit values in a float array, which would be clipped to white.
fn check_unit_range(samples: &[f32], width: usize, channels: usize, what: &str) -> PyResult<()> {
    let Some(i) = samples.iter().position(|v| !(0.0..=1.0).contains(v)) else {
        return Ok(());
    };
    let (pixel, c) = (i / channels, i % channels);
    let (y, x) = (pixel / width, pixel % width);
    let v = samples[i];
    let why = if v.is_finite() {
        "float32 images are in [0, 1] (divide 8-bit values by 255)"
    } else {
        "values must be finite"
    };
    Err(PyValueError::new_err(format!(
        "{what}: value {v} at row {y}, column {x}, channel {c} is outside [0, 1]: {why}"
    )))
}

/// A restored image's samples, in the dtype it is given back in.
enum Samples {
    U8(Vec<u8>),
    U16(Vec<u16>),
    F32(Vec<f32>),
}

/// The result for `rgb` restored from `source`, laid out as the source array: what
/// `write_image` would have written for a file with the source's samples (grey as the Rec. 601
/// luma, alpha passed through, 8/16 bits rounded by [`io::quantise`]); float32 unrounded,
/// clipped to [0, 1]. Runs without the GIL; [`to_array`] makes the array.
fn give_back(rgb: RgbImage, source: Decoded, dtype: Dtype) -> Samples {
    let out = Decoded {
        rgb,
        alpha: source.alpha,
        info: source.info,
    };
    let samples = io::output_samples(&out, out.info.grey, out.alpha.is_some());
    match dtype {
        Dtype::U8 => Samples::U8(
            samples
                .iter()
                .map(|&v| io::quantise(v, 255.0) as u8)
                .collect(),
        ),
        Dtype::U16 => Samples::U16(
            samples
                .iter()
                .map(|&v| io::quantise(v, 65535.0) as u16)
                .collect(),
        ),
        Dtype::F32 => Samples::F32(samples.iter().map(|v| v.clamp(0.0, 1.0)).collect()),
    }
}

/// A numpy array of `shape` holding `samples`.
fn to_array<'py>(py: Python<'py>, samples: Samples, shape: &[usize]) -> Bound<'py, PyAny> {
    fn make<'py, T: numpy::Element>(
        py: Python<'py>,
        v: Vec<T>,
        shape: &[usize],
    ) -> Bound<'py, PyAny> {
        let a = ArrayD::from_shape_vec(IxDyn(shape), v)
            .expect("one sample per element of the source's shape by construction");
        PyArray::from_owned_array(py, a).into_any()
    }
    match samples {
        Samples::U8(v) => make(py, v, shape),
        Samples::U16(v) => make(py, v, shape),
        Samples::F32(v) => make(py, v, shape),
    }
}

/// A method name, or the list of names in the error.
fn method_choice(name: &str) -> PyResult<MethodChoice> {
    MethodChoice::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = MethodChoice::all().into_iter().map(|m| m.name()).collect();
        PyValueError::new_err(format!(
            "unknown method {name:?}: one of {} expected",
            names.join(", ")
        ))
    })
}

/// `max_memory=`: bytes as an int, or a size such as "2G", "1.5GiB", "800M".
fn memory_budget(value: &Bound<'_, PyAny>) -> PyResult<u64> {
    if value.is_instance_of::<PyInt>() {
        return value
            .extract::<u64>()
            .map_err(|_| PyValueError::new_err("max_memory: a positive number of bytes expected"));
    }
    let text: String = value.extract().map_err(|_| {
        PyValueError::new_err("max_memory: bytes (int) or a size such as \"2G\" expected")
    })?;
    dehaze_nn::memory::parse_size(&text)
        .map_err(|e| PyValueError::new_err(format!("max_memory: {e}")))
}

/// `network_size=`: "full", or a long side in pixels (int or string).
fn network_size(value: &Bound<'_, PyAny>) -> PyResult<NetworkSize> {
    let text = if value.is_instance_of::<PyInt>() {
        value.extract::<i64>()?.to_string()
    } else {
        value.extract::<String>().map_err(|_| {
            PyValueError::new_err("network_size: \"full\" or a long side in pixels expected")
        })?
    };
    NetworkSize::parse(&text).map_err(|e| PyValueError::new_err(format!("network_size: {e}")))
}

/// A restorer error in Python's terms (the keyword arguments to use): `OSError` for weights
/// that cannot be loaded, `ValueError` for options that do not fit.
fn in_python_terms(e: RestorerError) -> PyErr {
    match e {
        RestorerError::WeightsForPrior(m) => PyValueError::new_err(format!(
            "weights= is for network methods; {} needs none",
            m.name()
        )),
        RestorerError::Device { device, reason } => {
            PyValueError::new_err(format!("device={:?}: {reason}", device.name()))
        }
        RestorerError::NoWeights(_) => {
            PyValueError::new_err(format!("{e}; pass them as weights=PATH"))
        }
        RestorerError::Weights { .. } => PyOSError::new_err(e.to_string()),
        RestorerError::Internal { .. } => PyRuntimeError::new_err(e.to_string()),
        other => PyValueError::new_err(other.to_string()),
    }
}

/// A network that found no tile within its memory budget, in Python's terms.
fn tile_error(e: TileError) -> PyErr {
    PyValueError::new_err(format!("{e} (raise max_memory=)"))
}

/// A dehazing method ready to run: a prior, or a network loaded once with its weights,
/// device and memory budget. Calling it restores one image; a batch worker holds one.
#[pyclass(name = "Restorer", module = "dehaze_rs", frozen)]
struct Restorer {
    /// Boxed: the library's restorer holds Burn state aligned to 64 bytes, and Python allocates
    /// objects aligned to 16 only, so it cannot live in the object itself (a debug build
    /// aborts with "misaligned pointer dereference"; a release build would be undefined).
    inner: Box<CoreRestorer>,
    options: NetworkOptions,
}

#[pymethods]
impl Restorer {
    /// Loads `method` (a prior: dcp, cap, bccr; a network: ka-net, ka-net-s, dhr-s, dhr-b)
    /// with the network options: `weights` (a file; default the bundled ones, DHR-S and KA-Net-S),
    /// `device` ("cpu", or a backend this build has), `max_memory` (bytes or "2G": larger
    /// images run in tiles), `network_size` ("full", or a long side in pixels for a downscaled
    /// pass with guided upsampling).
    #[new]
    #[pyo3(signature = (method = "dcp", *, weights = None, device = "cpu", max_memory = None, network_size = None))]
    fn new(
        py: Python<'_>,
        method: &str,
        weights: Option<PathBuf>,
        device: &str,
        max_memory: Option<&Bound<'_, PyAny>>,
        network_size: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let method = method_choice(method)?;
        let device = DeviceChoice::from_name(device).ok_or_else(|| {
            PyValueError::new_err(format!(
                "unknown device {device:?}: one of {} expected",
                DeviceChoice::NAMES.join(", ")
            ))
        })?;
        let options = NetworkOptions {
            weights,
            device,
            max_memory: max_memory
                .map(memory_budget)
                .transpose()?
                .unwrap_or(DEFAULT_MAX_MEMORY),
            size: network_size
                .map(self::network_size)
                .transpose()?
                .unwrap_or(NetworkSize::Full),
        };
        let inner = py
            .detach(|| CoreRestorer::new(method, &options, BUNDLED))
            .map_err(in_python_terms)?;
        Ok(Restorer {
            inner: Box::new(inner),
            options,
        })
    }

    /// Dehazes `img` (H×W×3 RGB, H×W×4 RGBA, H×W or H×W×1 grey, H×W×2 grey+alpha; uint8,
    /// uint16 or float32 in [0, 1]): an array of the same shape and dtype, equal to what the
    /// `dehaze` command writes for a file of these pixels.
    fn __call__<'py>(
        &self,
        py: Python<'py>,
        img: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let image = take_image(img, "img")?;
        let (samples, shape) = self.restore_samples(py, image)?;
        Ok(to_array(py, samples, &shape))
    }

    /// The transmission map `t` (H×W float32 in [0, 1]) of a prior method.
    fn transmission<'py>(
        &self,
        py: Python<'py>,
        img: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.require_prior("transmission map")?;
        let image = take_image(img, "img")?;
        let r = self.restore(py, image.decoded.rgb)?;
        let t = r.transmission.expect("priors estimate a transmission map");
        let (w, h) = (t.width(), t.height());
        Ok(to_array(py, Samples::F32(t.into_vec()), &[h, w]))
    }

    /// The atmospheric light `A` (R, G, B in [0, 1]) a prior method estimates on `img`.
    fn atmospheric_light(
        &self,
        py: Python<'_>,
        img: &Bound<'_, PyAny>,
    ) -> PyResult<(f32, f32, f32)> {
        self.require_prior("atmospheric light")?;
        let image = take_image(img, "img")?;
        let a = self
            .restore(py, image.decoded.rgb)?
            .airlight
            .expect("priors estimate the atmospheric light");
        Ok((a[0], a[1], a[2]))
    }

    /// The method's name.
    #[getter]
    fn method(&self) -> &'static str {
        self.inner.method().name()
    }

    /// Whether the method is a network (loaded weights; images run one at a time).
    #[getter]
    fn is_network(&self) -> bool {
        self.inner.network().is_some()
    }

    fn __repr__(&self) -> String {
        match self.inner.network() {
            None => format!("Restorer({:?})", self.method()),
            Some(_) => format!(
                "Restorer({:?}, weights={}, device={:?}, max_memory={}, network_size={:?})",
                self.method(),
                self.options
                    .weights
                    .as_ref()
                    .map_or("<bundled>".to_string(), |p| format!(
                        "{:?}",
                        p.display().to_string()
                    )),
                self.options.device.name(),
                self.options.max_memory,
                match self.options.size {
                    NetworkSize::Full => "full".to_string(),
                    NetworkSize::LongSide(n) => n.to_string(),
                }
            ),
        }
    }
}

impl Restorer {
    /// Refuses a network where a prior's estimate (`what`) is asked for, naming the priors
    /// (as the CLI refuses `--save-transmission`).
    fn require_prior(&self, what: &str) -> PyResult<()> {
        let method = self.inner.method();
        if method.has_transmission() {
            return Ok(());
        }
        let priors: Vec<&str> = MethodChoice::all()
            .into_iter()
            .filter(|m| m.has_transmission())
            .map(MethodChoice::name)
            .collect();
        Err(PyValueError::new_err(format!(
            "{method} estimates no {what} ({} do)",
            priors.join(", ")
        )))
    }

    /// Restores `rgb` without the GIL.
    fn restore(&self, py: Python<'_>, rgb: RgbImage) -> PyResult<Restoration> {
        py.detach(|| self.inner.restore(rgb)).map_err(tile_error)
    }

    /// Restores an image taken in and lays the result out as its source, without the GIL.
    fn restore_samples(&self, py: Python<'_>, image: Image) -> PyResult<(Samples, Vec<usize>)> {
        let Image {
            decoded,
            dtype,
            shape,
        } = image;
        let Decoded { rgb, alpha, info } = decoded;
        let samples = py
            .detach(|| {
                self.inner.restore(rgb).map(|r| {
                    let source = Decoded {
                        rgb: RgbImage::new(0, 0),
                        alpha,
                        info,
                    };
                    give_back(r.image, source, dtype)
                })
            })
            .map_err(tile_error)?;
        Ok((samples, shape))
    }
}

/// The pixels a metric scores: the image quantised to 8-bit RGB, as `dehaze metrics` scores a
/// file (grey: three equal channels; alpha ignored).
fn rgb8(img: &Bound<'_, PyAny>, what: &str) -> PyResult<Rgb8> {
    Ok(Rgb8::from_rgb_image(&take_image(img, what)?.decoded.rgb))
}

fn metric_error(e: MetricError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// FADE fog density (lower: less fog), the CLI's `fade` column.
#[pyfunction]
fn fade(py: Python<'_>, img: &Bound<'_, PyAny>) -> PyResult<f64> {
    let img = rgb8(img, "img")?;
    py.detach(|| m::fade(&img)).map_err(metric_error)
}

/// NIQE (lower: better) on the luma `channel`: "y" (BasicSR's Y of YCbCr, the `niqe_y`
/// column, default) or "gray" (the `niqe_gray` column).
#[pyfunction]
#[pyo3(signature = (img, channel = "y"))]
fn niqe(py: Python<'_>, img: &Bound<'_, PyAny>, channel: &str) -> PyResult<f64> {
    let luma = match channel {
        "y" => NiqeLuma::Y,
        "gray" | "grey" => NiqeLuma::Gray,
        _ => {
            return Err(PyValueError::new_err(format!(
                "channel {channel:?}: \"y\" or \"gray\" expected"
            )))
        }
    };
    let img = rgb8(img, "img")?;
    py.detach(|| m::niqe(&img, luma)).map_err(metric_error)
}

/// BRISQUE (lower: better), the `brisque` column.
#[pyfunction]
fn brisque(py: Python<'_>, img: &Bound<'_, PyAny>) -> PyResult<f64> {
    let img = rgb8(img, "img")?;
    py.detach(|| m::brisque(&img)).map_err(metric_error)
}

/// Grey-level entropy in bits (higher: more detail), the `entropy` column.
#[pyfunction]
fn entropy(py: Python<'_>, img: &Bound<'_, PyAny>) -> PyResult<f64> {
    let img = rgb8(img, "img")?;
    py.detach(|| m::entropy(&img)).map_err(metric_error)
}

/// A full-reference metric of dehaze-core.
type FullReference = fn(&Rgb8, &Rgb8) -> Result<f64, MetricError>;

/// The metric `choice` names among `table` (the error lists the names, for `option`), run on
/// `img` against `ref` without the GIL.
fn full_reference(
    py: Python<'_>,
    img: &Bound<'_, PyAny>,
    r#ref: &Bound<'_, PyAny>,
    option: &str,
    choice: &str,
    table: &[(&str, FullReference)],
) -> PyResult<f64> {
    let Some(&(_, f)) = table.iter().find(|(name, _)| *name == choice) else {
        let names: Vec<String> = table.iter().map(|(n, _)| format!("{n:?}")).collect();
        let (last, rest) = names.split_last().expect("a non-empty table");
        let expected = if rest.is_empty() {
            last.clone()
        } else {
            format!("{} or {last}", rest.join(", "))
        };
        return Err(PyValueError::new_err(format!(
            "{option} {choice:?}: {expected} expected"
        )));
    };
    let (a, b) = (rgb8(img, "img")?, rgb8(r#ref, "ref")?);
    py.detach(|| f(&a, &b)).map_err(metric_error)
}

/// PSNR in dB of `img` against the ground truth `ref` on `channel`: "rgb" (the `psnr_rgb`
/// column, default) or "y" (BasicSR's Y, `psnr_y`). Identical images give inf.
#[pyfunction]
#[pyo3(signature = (img, r#ref, channel = "rgb"))]
fn psnr(
    py: Python<'_>,
    img: &Bound<'_, PyAny>,
    r#ref: &Bound<'_, PyAny>,
    channel: &str,
) -> PyResult<f64> {
    let table: [(&str, FullReference); 2] = [("rgb", m::psnr_rgb), ("y", m::psnr_y)];
    full_reference(py, img, r#ref, "channel", channel, &table)
}

/// SSIM of `img` against the ground truth `ref`; `variant`: "rgb_gauss" (scikit-image with a
/// Gaussian window on RGB, the `ssim_rgb_gauss` column, default), "rgb_uniform" (7×7 uniform
/// window) or "y" (BasicSR on Y).
#[pyfunction]
#[pyo3(signature = (img, r#ref, variant = "rgb_gauss"))]
fn ssim(
    py: Python<'_>,
    img: &Bound<'_, PyAny>,
    r#ref: &Bound<'_, PyAny>,
    variant: &str,
) -> PyResult<f64> {
    let table: [(&str, FullReference); 3] = [
        ("rgb_gauss", m::ssim_rgb_gauss),
        ("rgb_uniform", m::ssim_rgb_uniform),
        ("y", m::ssim_y),
    ];
    full_reference(py, img, r#ref, "variant", variant, &table)
}

/// The columns of `dehaze metrics` (and `dehaze eval`), in its order.
const COLUMNS: [&str; 10] = [
    "fade",
    "niqe_y",
    "niqe_gray",
    "brisque",
    "entropy",
    "psnr_rgb",
    "ssim_rgb_gauss",
    "ssim_rgb_uniform",
    "psnr_y",
    "ssim_y",
];

/// Every metric of `dehaze metrics` as a dict by its column name, in its column order: the
/// five no-reference ones, then the five full-reference ones (None without `ref`). A metric
/// with no value on the image (too small, undefined, not finite) is None, as an empty cell of
/// the CSV.
#[pyfunction]
#[pyo3(signature = (img, r#ref = None))]
fn scores<'py>(
    py: Python<'py>,
    img: &Bound<'py, PyAny>,
    r#ref: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let a = rgb8(img, "img")?;
    let b = r#ref.map(|r| rgb8(r, "ref")).transpose()?;
    let values = py.detach(|| -> Result<Vec<Option<f64>>, MetricError> {
        let nr = m::no_reference(&a);
        let mut v = vec![nr.fade, nr.niqe_y, nr.niqe_gray, nr.brisque, nr.entropy];
        match &b {
            None => v.extend([None; 5]),
            Some(b) => {
                // As the CLI's scoring: all five at once, or each on its own where the image is
                // too small for some (SSIM's window); images of different sizes are an error.
                match m::full_reference(&a, b) {
                    Ok(s) => v.extend(
                        [
                            s.psnr_rgb,
                            s.ssim_rgb_gauss,
                            s.ssim_rgb_uniform,
                            s.psnr_y,
                            s.ssim_y,
                        ]
                        .map(Some),
                    ),
                    Err(e @ MetricError::SizeMismatch { .. }) => return Err(e),
                    Err(_) => v.extend([
                        m::psnr_rgb(&a, b).ok(),
                        m::ssim_rgb_gauss(&a, b).ok(),
                        m::ssim_rgb_uniform(&a, b).ok(),
                        m::psnr_y(&a, b).ok(),
                        m::ssim_y(&a, b).ok(),
                    ]),
                }
            }
        }
        Ok(v)
    });
    let values = values.map_err(metric_error)?;
    let dict = PyDict::new(py);
    for (name, v) in COLUMNS.iter().zip(values) {
        dict.set_item(name, v.filter(|x| x.is_finite()))?;
    }
    Ok(dict)
}

/// The binding's own work on `img`, without a restore: the checks, the copy in, the CLI's
/// layout back out. `bench/python_overhead.py` times it (the binding's overhead per call);
/// an identity for 8- and 16-bit arrays. Not part of the API.
#[pyfunction]
#[pyo3(name = "_roundtrip")]
fn roundtrip<'py>(py: Python<'py>, img: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let Image {
        decoded,
        dtype,
        shape,
    } = take_image(img, "img")?;
    let Decoded { rgb, alpha, info } = decoded;
    let source = Decoded {
        rgb: RgbImage::new(0, 0),
        alpha,
        info,
    };
    let samples = py.detach(|| give_back(rgb, source, dtype));
    Ok(to_array(py, samples, &shape))
}

/// The methods, priors first, as (name, description) pairs (`dehaze methods`).
#[pyfunction]
fn methods() -> Vec<(&'static str, &'static str)> {
    MethodChoice::all()
        .into_iter()
        .map(|m| (m.name(), m.description()))
        .collect()
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Restorer>()?;
    for f in [
        wrap_pyfunction!(fade, m)?,
        wrap_pyfunction!(niqe, m)?,
        wrap_pyfunction!(brisque, m)?,
        wrap_pyfunction!(entropy, m)?,
        wrap_pyfunction!(psnr, m)?,
        wrap_pyfunction!(ssim, m)?,
        wrap_pyfunction!(scores, m)?,
        wrap_pyfunction!(methods, m)?,
        wrap_pyfunction!(roundtrip, m)?,
    ] {
        m.add_function(f)?;
    }
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
