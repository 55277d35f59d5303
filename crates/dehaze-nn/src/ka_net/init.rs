//! Seeded weight initialisation for KA-Net ([`KaNet::new_seeded`](super::KaNet::new_seeded)).
//!
//! [`KaNet::new`](super::KaNet::new) uses Burn's initialisers, which draw from the backend's
//! global generator: shared by every thread of the process, so two networks built at the same
//! time interleave their draws and neither is reproducible. Training needs initial weights that
//! are a pure function of `train.seed` (the `--resume` equality test rests on it), so
//! [`SeededInit`] redraws every randomly initialised parameter from its own ChaCha8 stream,
//! with **the distribution Burn's default initialiser gives it** (so a seeded network is
//! statistically the one [`KaNet::new`](super::KaNet::new) builds):
//!
//! * convolution, transposed convolution and linear weights and their biases:
//!   `U(−1/√fan_in, 1/√fan_in)` (Burn's `KaimingUniform { gain: 1/√3 }`, which is also
//!   PyTorch's default), `fan_in` read from the weight's shape: `shape[1]·k²` for the
//!   `[out, in/groups, k, k]` convolution and `[in, out/groups, k, k]` transposed convolution
//!   weights (Burn's rule for both), `shape[0]` for the `[in, out]` linear weight;
//! * with one exception to "the distribution Burn gives it": the 2×2 stride-2 transposed
//!   convolutions of the projection get the **ICNR** initialisation (Aitken et al., 2017,
//!   "Checkerboard artifact free sub-pixel convolution"): one tap `w[i, o]` is drawn from the
//!   law above and copied to all four positions of the kernel, so every output pixel of a 2×2
//!   block starts with the same weights and the up-sampling starts as nearest-neighbour
//!   followed by a 1×1 convolution. With independent taps (Burn's and PyTorch's default) the
//!   four phases differ from the start, and the chain of six such layers prints a lattice of
//!   periods 2, 4, 8 and 16 px into the untrained output, which L1 training removes only
//!   slowly (`tools/lattice_probe.py`; docs/ka-net-training.md, "The lattice"). The official
//!   checkpoint and trained files load over these values, so loading is unaffected;
//! * the decoder's learned query table `task_query`: `N(0, 1)`;
//! * LayerNorm and BatchNorm parameters and statistics keep their constant initial values
//!   (γ = 1, β = 0, running mean 0, variance 1): nothing random to seed.
//!
//! Parameters are visited in module order and drawn from one stream, so the result depends on
//! the seed alone. A parameter matching none of these rules is a panic naming its path: a new
//! layer type must get a rule here rather than silently keep an unseeded draw.

use std::collections::HashMap;

use burn::module::{ModuleMapper, Param};
use burn::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// The ChaCha8 stream word of KA-Net's initial weights ("KANETINI"), which keeps them apart
/// from the trainer's data streams keyed by the same user seed.
const STREAM: u64 = 0x4b41_4e45_5449_4e49;

/// A [`ModuleMapper`] that replaces every randomly initialised parameter by a seeded draw
/// (see the module docs).
pub(crate) struct SeededInit {
    rng: ChaCha8Rng,
    /// The field path being visited and the container type of each level.
    path: Vec<(String, String)>,
    /// `fan_in` of the weight of each module path already visited, for its bias.
    fan_in: HashMap<String, usize>,
}

impl SeededInit {
    pub(crate) fn new(seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(STREAM);
        Self {
            rng,
            path: Vec::new(),
            fan_in: HashMap::new(),
        }
    }

    fn module_path(&self) -> String {
        let n = self.path.len().saturating_sub(1);
        self.path[..n]
            .iter()
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>()
            .join(".")
    }

    fn uniform(&mut self, n: usize, bound: f32) -> Vec<f32> {
        (0..n)
            .map(|_| (self.rng.random::<f32>() * 2.0 - 1.0) * bound)
            .collect()
    }
}

impl ModuleMapper for SeededInit {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path
            .push((name.to_string(), container_type.to_string()));
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (field, container) = self
            .path
            .last()
            .map(|(f, c)| (f.clone(), c.clone()))
            .unwrap_or_default();
        let module = self.module_path();
        let shape: Vec<usize> = param.lazy_shape().to_vec();
        let n: usize = shape.iter().product();
        let values = match (container.as_str(), field.as_str()) {
            ("Struct:ConvTranspose2d", "weight") => {
                let [cin, cout, k0, k1] = shape[..] else {
                    panic!("KaNet::new_seeded: weight {module} has shape {shape:?}")
                };
                let fan_in = cout * k0 * k1;
                self.fan_in.insert(module.clone(), fan_in);
                let taps = self.uniform(cin * cout, 1.0 / (fan_in as f32).sqrt());
                // ICNR: tap (i, o) at every kernel position; [in, out, k0, k1] row-major.
                taps.iter()
                    .flat_map(|&t| std::iter::repeat_n(t, k0 * k1))
                    .collect()
            }
            ("Struct:Conv2d" | "Struct:Linear", "weight") => {
                let fan_in = match shape.as_slice() {
                    [_, b, k0, k1] => b * k0 * k1,
                    [i, _] => *i,
                    other => panic!("KaNet::new_seeded: weight {module} has shape {other:?}"),
                };
                self.fan_in.insert(module.clone(), fan_in);
                self.uniform(n, 1.0 / (fan_in as f32).sqrt())
            }
            ("Struct:Conv2d" | "Struct:ConvTranspose2d" | "Struct:Linear", "bias") => {
                let fan_in = *self.fan_in.get(&module).unwrap_or_else(|| {
                    panic!("KaNet::new_seeded: bias of {module} visited before its weight")
                });
                self.uniform(n, 1.0 / (fan_in as f32).sqrt())
            }
            ("Struct:Attention", "task_query") => (0..n)
                .map(|_| self.rng.sample::<f32, _>(StandardNormal))
                .collect(),
            ("Struct:LayerNorm" | "Struct:BatchNorm", _) => return param,
            _ => panic!(
                "KaNet::new_seeded: no seeded rule for parameter {module}.{field} ({container})"
            ),
        };
        let device = param.lazy_device();
        let shape: [usize; D] = shape.try_into().expect("rank D");
        Param::from_tensor(Tensor::from_data(TensorData::new(values, shape), &device))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{KaNet, KaNetConfig};
    use burn::prelude::*;
    use burn::store::ModuleSnapshot;

    /// Every tensor of the network, by Burn path, as host values.
    fn tensors(net: &KaNet) -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<(String, Vec<u8>)> = net
            .collect(None, None, false)
            .into_iter()
            .map(|t| (t.name.clone(), t.to_bytes().unwrap().to_vec()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    #[test]
    fn seeded_weights_depend_on_the_seed_alone_with_burns_bounds() {
        let cfg = KaNetConfig::tiny();
        let dev = crate::device::cpu();
        let a = tensors(&KaNet::new_seeded(&cfg, &dev, 7));
        // Built twice, and with Burn's global generator in another state in between.
        let _ = KaNet::new(&cfg, &dev);
        assert_eq!(a, tensors(&KaNet::new_seeded(&cfg, &dev, 7)));
        let b = tensors(&KaNet::new_seeded(&cfg, &dev, 8));
        let mut random = 0;
        for ((name, x), (_, y)) in a.iter().zip(&b) {
            let constant = name.contains("norm") || name.contains(".bn.");
            if constant {
                // γ = 1, β = 0, running statistics 0 / 1: the same for every seed.
                assert_eq!(x, y, "{name}");
            } else {
                assert_ne!(x, y, "{name} does not depend on the seed");
                random += 1;
            }
        }
        assert!(random > 50, "{random} random tensors");
        // A convolution weight [out, in, k, k] stays within 1/√(in·k²).
        let net = KaNet::new_seeded(&cfg, &dev, 7);
        let w = net.head.conv.weight.val();
        let [_, cin, k0, k1] = w.dims();
        let bound = 1.0 / ((cin * k0 * k1) as f32).sqrt();
        let v = w.into_data().try_into_vec::<f32>().unwrap();
        let max = v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        assert!(max <= bound && max > 0.5 * bound, "{max} vs {bound}");
        // Same parameter count as the unseeded network.
        assert_eq!(
            KaNet::new_seeded(&cfg, &dev, 1).parameter_counts(),
            KaNet::new(&cfg, &dev).parameter_counts()
        );
    }

    /// ICNR: every transposed convolution starts with its four taps equal, and the untrained
    /// network prints no lattice on a smooth input. Measure: the mean |second difference|
    /// between neighbouring output pixels (away from the borders) over the output's range.
    /// The PyTorch twin at these widths gives 0.53–0.65 with independent taps (PyTorch's
    /// default, seeds 0–3) and 0.07–0.08 with ICNR.
    #[test]
    fn transposed_convolutions_start_as_nearest_neighbour_up_sampling() {
        let dev = crate::device::cpu();
        let net = KaNet::new_seeded(&KaNetConfig::tiny(), &dev, 3);
        let p = &net.projection;
        for up in [
            &p.convd32x,
            &p.convd16x,
            &p.convd8x,
            &p.convd4x,
            &p.convd2x,
            &p.convd1x,
        ] {
            let v = up.weight.val().into_data().try_into_vec::<f32>().unwrap();
            for taps in v.chunks(4) {
                assert!(taps.iter().all(|&t| t == taps[0]), "{taps:?}");
            }
        }
        let (h, w) = (64, 64);
        let mut x = Vec::with_capacity(3 * h * w);
        for c in 0..3 {
            for i in 0..h {
                for j in 0..w {
                    let (u, v) = (j as f32 / w as f32 - 0.4, i as f32 / h as f32 - 0.5);
                    x.push([1.5 * u, 1.6 * v, 0.8 * (u + v)][c]);
                }
            }
        }
        let x = Tensor::<4>::from_data(TensorData::new(x, [1, 3, h, w]), &dev);
        let y = net.forward(x).0.into_data().try_into_vec::<f32>().unwrap();
        let at = |c: usize, i: usize, j: usize| y[(c * h + i) * w + j];
        let (mut d2, mut n, mut spread) = (0.0, 0, 0.0);
        for c in 0..3 {
            let (lo, hi) = y[c * h * w..(c + 1) * h * w]
                .iter()
                .fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
            spread += (hi - lo) / 3.0;
            for i in 8..h - 8 {
                for j in 8..w - 8 {
                    d2 += (at(c, i, j - 1) - 2.0 * at(c, i, j) + at(c, i, j + 1)).abs();
                    d2 += (at(c, i - 1, j) - 2.0 * at(c, i, j) + at(c, i + 1, j)).abs();
                    n += 1;
                }
            }
        }
        let ratio = d2 / n as f32 / spread;
        assert!(
            spread > 0.01 && ratio < 0.2,
            "lattice ratio {ratio}, spread {spread}"
        );
    }
}
