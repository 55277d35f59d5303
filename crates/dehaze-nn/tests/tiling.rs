//! Tiled inference against a whole-image pass, with small stand-in networks built from
//! `burn::nn` and wrapped in the same padding as the real networks
//! (`inference::restore_padded`).

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::PaddingConfig2d;
use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::{Device, Tensor};
use dehaze_core::buffer::RgbImage;
use dehaze_nn::inference::{image_to_tensor, restore_padded, tensor_to_image, Restored};
use dehaze_nn::tiling::{restore_tiled, AxisTiles, TileSpec};

/// Three 3×3 convs, the middle one dilated by 2: receptive radius 1 + 2 + 1 = 4 px.
#[derive(Module, Debug)]
struct LocalNet {
    a: Conv2d,
    b: Conv2d,
    c: Conv2d,
}

const RADIUS: usize = 4;

impl LocalNet {
    fn new(device: &Device) -> Self {
        let conv = |i, o, d: usize| {
            Conv2dConfig::new([i, o], [3, 3])
                .with_dilation([d, d])
                .with_padding(PaddingConfig2d::Explicit(d, d, d, d))
                .init(device)
        };
        Self {
            a: conv(3, 8, 1),
            b: conv(8, 8, 2),
            c: conv(8, 3, 1),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let y = relu(self.a.forward(x));
        let y = relu(self.b.forward(y));
        sigmoid(self.c.forward(y))
    }

    /// A second output on a 4× coarser grid, like DHR's importance: the mean of the first
    /// channel over each 4×4 patch.
    fn forward_with_map(&self, x: Tensor<4>) -> (Tensor<4>, Option<Tensor<4>>) {
        let y = self.forward(x);
        let [n, _, h, w] = y.dims();
        let map = y
            .clone()
            .slice([0..n, 0..1, 0..h, 0..w])
            .reshape([n, 1, h / 4, 4, w / 4, 4])
            .mean_dim(5)
            .mean_dim(3)
            .reshape([n, 1, h / 4, w / 4]);
        (y, Some(map))
    }
}

const MULTIPLE: usize = 8;

fn device() -> Device {
    dehaze_nn::device::cpu()
}

/// A textured test picture: smooth gradients plus a hash, so every pixel differs.
fn picture(w: usize, h: usize) -> RgbImage {
    let mut img = RgbImage::new(w, h);
    for (c, plane) in img.planes_mut().into_iter().enumerate() {
        for (i, p) in plane.iter_mut().enumerate() {
            let (x, y) = ((i % w) as f32, (i / w) as f32);
            let hash = ((i as u32)
                .wrapping_mul(2654435761)
                .wrapping_add(c as u32 * 97)
                >> 24) as f32;
            *p = 0.3 + 0.2 * (x * 0.07 + c as f32).sin() * (y * 0.05).cos() + 0.3 * hash / 255.0;
        }
    }
    img
}

fn whole(net: &LocalNet, img: &RgbImage) -> (RgbImage, Vec<f32>) {
    let r: Restored = restore_padded(image_to_tensor(img, &device()), MULTIPLE, MULTIPLE, |x| {
        net.forward_with_map(x)
    });
    let map = r
        .importance
        .unwrap()
        .into_data()
        .try_into_vec::<f32>()
        .unwrap();
    (tensor_to_image(r.image), map)
}

fn tiled(net: &LocalNet, img: &RgbImage, spec: &TileSpec) -> (RgbImage, Vec<f32>) {
    let r = restore_tiled(
        img,
        MULTIPLE,
        spec,
        &device(),
        |x| restore_padded(x, MULTIPLE, MULTIPLE, |t| net.forward_with_map(t)),
        |_, _| {},
    );
    (r.image, r.importance.unwrap().into_vec())
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Sizes off the grid (padding), several tiles each way, uneven last overlaps.
const SIZES: [(usize, usize); 3] = [(70, 53), (97, 40), (33, 121)];

/// With the margin at the receptive radius every tile contributes only where it sees the whole
/// image's context, so tiled = whole up to float rounding in the convolutions (different
/// blockings of the same sums): 1e-6 on values in [0, 1] (measured: 1.2e-7, against 3.5e-3
/// without the margin). The map (a mean over 4×4 patches on
/// the tile's grid, which is the whole image's grid because tiles start on multiples of 8) is
/// exact likewise.
#[test]
fn tiled_equals_whole_for_a_local_network() {
    let net = LocalNet::new(&device());
    let spec = TileSpec {
        tile: 32,
        margin: RADIUS,
        ramp: 8,
    };
    for (w, h) in SIZES {
        let img = picture(w, h);
        let (full, full_map) = whole(&net, &img);
        let (tiles, tile_map) = tiled(&net, &img, &spec);
        let n = AxisTiles::new(w, MULTIPLE, &spec).starts.len()
            * AxisTiles::new(h, MULTIPLE, &spec).starts.len();
        assert!(n >= 4, "{w}×{h}: only {n} tiles");
        let d = max_diff(full.data(), tiles.data());
        eprintln!("{w}×{h}, {n} tiles: max |tiled − whole| = {d:e}");
        assert!(d < 1e-6, "{w}×{h}: tiled differs from whole by {d}");
        let d = max_diff(&full_map, &tile_map);
        assert!(d < 1e-6, "{w}×{h}: tiled map differs from whole by {d}");
    }
}

/// The control: with no margin, tiles' borders (zero padding where the whole image has
/// content) leak into the blend, and the same comparison fails — so the test above can fail.
#[test]
fn without_margin_seams_show() {
    let net = LocalNet::new(&device());
    let spec = TileSpec {
        tile: 32,
        margin: 0,
        ramp: 8,
    };
    let img = picture(70, 53);
    let (full, _) = whole(&net, &img);
    let (tiles, _) = tiled(&net, &img, &spec);
    let d = max_diff(full.data(), tiles.data());
    eprintln!("no margin: max |tiled − whole| = {d:e}");
    assert!(d > 1e-4, "no seam without a margin? max difference {d}");
}

/// An image that fits one tile is one whole-image pass, bit for bit.
#[test]
fn one_tile_is_the_whole_pass() {
    let net = LocalNet::new(&device());
    let img = picture(45, 30);
    let spec = TileSpec {
        tile: 48,
        margin: RADIUS,
        ramp: 8,
    };
    assert_eq!(AxisTiles::new(45, MULTIPLE, &spec).starts, vec![0]);
    let (full, full_map) = whole(&net, &img);
    let (tiles, tile_map) = tiled(&net, &img, &spec);
    assert_eq!(full.data(), tiles.data());
    assert_eq!(full_map, tile_map);
}

/// Padding is by reflection and cropped away: the output has the input's size, and an input
/// that is the reflection-padded version of a smaller one gives, on the smaller one's pixels,
/// the same result.
#[test]
fn padding_reflects_and_crops_back() {
    let net = LocalNet::new(&device());
    let small = picture(13, 6);
    let r = restore_padded(
        image_to_tensor(&small, &device()),
        MULTIPLE,
        MULTIPLE,
        |x| net.forward_with_map(x),
    );
    assert_eq!(r.image.dims(), [1, 3, 6, 13]);
    assert_eq!(r.importance.as_ref().unwrap().dims(), [1, 1, 6, 13]);
    // The same picture padded by hand to 16×8: rows 6, 7 reflect rows 4, 3; columns 13..16
    // reflect 11, 10, 9.
    let mut padded = RgbImage::new(16, 8);
    let reflect = |i: usize, n: usize| if i < n { i } else { 2 * (n - 1) - i };
    for c in 0..3 {
        for y in 0..8 {
            for x in 0..16 {
                padded.planes_mut()[c][y * 16 + x] =
                    small.plane(c)[reflect(y, 6) * 13 + reflect(x, 13)];
            }
        }
    }
    let direct = tensor_to_image(net.forward(image_to_tensor(&padded, &device())));
    let got = tensor_to_image(r.image);
    for c in 0..3 {
        for y in 0..6 {
            for x in 0..13 {
                assert_eq!(got.plane(c)[y * 13 + x], direct.plane(c)[y * 16 + x]);
            }
        }
    }
}

/// Restored is what the networks return; make sure the stand-in's tuple maps onto it.
#[test]
fn restored_carries_the_map_at_pixel_resolution() {
    let net = LocalNet::new(&device());
    let img = picture(16, 16);
    let (_, map) = whole(&net, &img);
    // Nearest upsampling: each 4×4 patch holds one value.
    for y in 0..16 {
        for x in 0..16 {
            assert_eq!(map[y * 16 + x], map[(y / 4 * 4) * 16 + x / 4 * 4]);
        }
    }
}

/// DHR is not tile-invariant: its patch importance is a softmax over the tile's patches, and
/// its deepest stage sees most of a tile. This measures how far the CLI's tiling (margin and
/// ramp of `NetworkKind::DhrS.tiling()`, 128-px tiles) moves the shipped dhr-s weights
/// (`models/dhr-s.safetensors`) from their whole-image output, and bounds it: mean |Δ| and the
/// 99th percentile over all samples in [0, 1] (measured values in the README).
#[test]
fn dhr_tiled_stays_close_to_whole() {
    use dehaze_nn::inference::Network;
    use dehaze_nn::registry::NetworkKind;
    let net = Network::load(
        NetworkKind::DhrS,
        std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../models/dhr-s.safetensors"
        )),
        &device(),
    )
    .unwrap();
    let model = NetworkKind::DhrS.tiling();
    let spec = TileSpec {
        tile: 128,
        margin: model.margin,
        ramp: model.ramp,
    };
    let (w, h) = (320, 224);
    let img = picture(w, h);
    let full = tensor_to_image(net.restore(image_to_tensor(&img, &device())).image);
    let tiles = restore_tiled(
        &img,
        net.size_multiple(),
        &spec,
        &device(),
        |x| net.restore(x),
        |_, _| {},
    )
    .image;
    let n = AxisTiles::new(w, net.size_multiple(), &spec).starts.len()
        * AxisTiles::new(h, net.size_multiple(), &spec).starts.len();
    let mut d: Vec<f32> = full
        .data()
        .iter()
        .zip(tiles.data())
        .map(|(a, b)| (a - b).abs())
        .collect();
    let mean = d.iter().sum::<f32>() / d.len() as f32;
    d.sort_by(f32::total_cmp);
    let p99 = d[d.len() * 99 / 100];
    let max = d[d.len() - 1];
    eprintln!(
        "dhr-s {w}×{h}, {n} tiles: |tiled − whole| mean {mean:.2e}, p99 {p99:.2e}, max {max:.2e}"
    );
    assert!(n >= 6, "only {n} tiles");
    assert!(mean > 0.0, "identical? then the global parts are gone");
    assert!(mean < 1e-2 && p99 < 4e-2, "mean {mean}, p99 {p99}");
}
