//! Transformer parts shared by the encoder and the decoder: overlapping patch embedding,
//! attention with spatial reduction (and the decoder's learned-query variant), the Mix-FFN and
//! the pre-norm block.
//!
//! Feature maps travel between blocks as token sequences `[B, H·W, C]` in row-major order
//! (token index `h·W + w`); [`to_tokens`] and [`to_image`] convert.

use burn::module::Param;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::gelu;
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;

/// LayerNorm epsilon of the block norms, the stage-output norms and the decoder norm.
pub(crate) const LN_EPS_BLOCK: f64 = 1e-6;
/// LayerNorm epsilon of the patch embeddings and of the norm after the spatial reduction.
pub(crate) const LN_EPS_EMBED: f64 = 1e-5;
/// Rows of the decoder's learned query table.
pub(crate) const QUERY_ROWS: usize = 48;

/// `[B, C, H, W] → [B, H·W, C]`.
pub(crate) fn to_tokens(x: Tensor<4>) -> Tensor<3> {
    let [b, c, h, w] = x.dims();
    x.reshape([b, c, h * w]).swap_dims(1, 2)
}

/// `[B, H·W, C] → [B, C, H, W]`, the inverse of [`to_tokens`].
pub(crate) fn to_image(t: Tensor<3>, h: usize, w: usize) -> Tensor<4> {
    let [b, _, c] = t.dims();
    t.swap_dims(1, 2).reshape([b, c, h, w])
}

/// Tokens on an `h × w` grid.
#[derive(Clone)]
pub(crate) struct Grid {
    pub tokens: Tensor<3>,
    pub h: usize,
    pub w: usize,
}

impl Grid {
    pub fn from_image(x: Tensor<4>) -> Self {
        let [_, _, h, w] = x.dims();
        Self {
            tokens: to_tokens(x),
            h,
            w,
        }
    }

    pub fn image(self) -> Tensor<4> {
        to_image(self.tokens, self.h, self.w)
    }
}

/// A 2-D convolution (with bias) of square kernel `k`, stride `s`, zero padding `p` and
/// dilation `d`; call `.init(device)`, after `.with_bias(false)` where needed.
pub(crate) fn conv(
    cin: usize,
    cout: usize,
    k: usize,
    s: usize,
    p: usize,
    d: usize,
) -> Conv2dConfig {
    Conv2dConfig::new([cin, cout], [k, k])
        .with_stride([s, s])
        .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
        .with_dilation([d, d])
}

/// Overlapping patch embedding: `LN₁ₑ₋₅(tokens(conv_{k,s,k/2}(x)))`. Output size per axis is
/// `⌈n/s⌉` for the kernels used here (7/4/3 and 3/2/1).
#[derive(Module, Debug)]
pub(crate) struct PatchEmbed {
    pub proj: Conv2d,
    pub norm: LayerNorm,
}

impl PatchEmbed {
    pub fn new(cin: usize, cout: usize, k: usize, s: usize, device: &Device) -> Self {
        Self {
            proj: conv(cin, cout, k, s, k / 2, 1).init(device),
            norm: LayerNormConfig::new(cout)
                .with_epsilon(LN_EPS_EMBED)
                .init(device),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Grid {
        let y = self.proj.forward(x);
        let [_, _, h, w] = y.dims();
        Grid {
            tokens: self.norm.forward(to_tokens(y)),
            h,
            w,
        }
    }
}

/// Spatial reduction of keys/values: `LN₁ₑ₋₅(tokens(conv_{sr,sr,0}(image(x))))`, shrinking the
/// key/value count by `sr²` (sizes floored).
#[derive(Module, Debug)]
pub(crate) struct SpatialReduction {
    pub sr: Conv2d,
    pub norm: LayerNorm,
}

/// Multi-head attention with optional spatial reduction ("efficient self-attention").
///
/// `out = proj(merge_h softmax(Q_h K_hᵀ / √d) V_h)` with `d = C / heads`; `K, V` are the two
/// halves of `kv(src)` where `src` is `x` or its spatial reduction.
///
/// Queries: `Q = q(x)` in the encoder. In the decoder (`task_query` present) `Q = q(T)[r(i)]`
/// for a learned table `T` of 48 rows, resized to the `N` tokens by nearest-neighbour row
/// selection `r(i) = min(⌊i · (48/N)⌋, 47)` (the default `interpolate` mode, scale in f32).
/// Row selection commutes with the row-wise `q`, so it is applied after the projection.
#[derive(Module, Debug)]
pub(crate) struct Attention {
    pub task_query: Option<Param<Tensor<3>>>,
    pub q: Linear,
    pub kv: Linear,
    pub proj: Linear,
    pub reduction: Option<SpatialReduction>,
    pub heads: usize,
}

impl Attention {
    pub fn new(
        dim: usize,
        heads: usize,
        sr: usize,
        learned_queries: bool,
        device: &Device,
    ) -> Self {
        assert!(
            dim.is_multiple_of(heads),
            "attention width {dim} is not divisible by {heads} heads"
        );
        let task_query = learned_queries.then(|| {
            Param::from_tensor(Tensor::random(
                [1, QUERY_ROWS, dim],
                burn::tensor::Distribution::Normal(0.0, 1.0),
                device,
            ))
        });
        let reduction = (sr > 1).then(|| SpatialReduction {
            sr: conv(dim, dim, sr, sr, 0, 1).init(device),
            norm: LayerNormConfig::new(dim)
                .with_epsilon(LN_EPS_EMBED)
                .init(device),
        });
        Self {
            task_query,
            q: LinearConfig::new(dim, dim).init(device),
            kv: LinearConfig::new(dim, 2 * dim).init(device),
            proj: LinearConfig::new(dim, dim).init(device),
            reduction,
            heads,
        }
    }

    /// `[B, N, C] → [B, heads, N, C/heads]`.
    fn split_heads(&self, t: Tensor<3>) -> Tensor<4> {
        let [b, n, c] = t.dims();
        t.reshape([b, n, self.heads, c / self.heads])
            .swap_dims(1, 2)
    }

    pub fn forward(&self, x: Tensor<3>, h: usize, w: usize) -> Tensor<3> {
        let [b, n, c] = x.dims();
        let src = match &self.reduction {
            Some(r) => r
                .norm
                .forward(to_tokens(r.sr.forward(to_image(x.clone(), h, w)))),
            None => x.clone(),
        };
        let kv = self.kv.forward(src);
        let k = self.split_heads(kv.clone().narrow(2, 0, c));
        let v = self.split_heads(kv.narrow(2, c, c));
        let q = match &self.task_query {
            Some(table) => {
                let rows = nearest_rows(QUERY_ROWS, n);
                let idx =
                    Tensor::<1, Int>::from_data(TensorData::from(rows.as_slice()), &x.device());
                let q = self.q.forward(table.val()).select(1, idx);
                self.split_heads(q.expand([b, n, c]))
            }
            None => self.split_heads(self.q.forward(x)),
        };
        // softmax(Q Kᵀ · d^-1/2) V by the backend's fused kernel: on the CPU it tiles over the
        // keys with an online softmax instead of materialising the N × M score matrix (64 MB
        // per head at stage 1 of a 512² input).
        let options = AttentionModuleOptions {
            scale: Some(((c / self.heads) as f64).powf(-0.5)),
            softcap: None,
            is_causal: false,
        };
        let out = attention(q, k, v, None, None, options);
        self.proj.forward(out.swap_dims(1, 2).reshape([b, n, c]))
    }
}

/// Source rows of a nearest-neighbour resize from `from` rows to `to` rows, as PyTorch's
/// `interpolate(mode="nearest")` computes them: `min(⌊i · s⌋, from − 1)` with `s = from/to`
/// in f32.
pub(crate) fn nearest_rows(from: usize, to: usize) -> Vec<i64> {
    let scale = from as f32 / to as f32;
    (0..to)
        .map(|i| ((i as f32 * scale).floor() as usize).min(from - 1) as i64)
        .collect()
}

/// Mix-FFN: `fc2(GELU(dwconv₃ₓ₃(fc1(x))))`, the depthwise conv running on the token grid
/// (stride 1, zero pad 1, bias). GELU is the exact form `x·Φ(x) = x/2·(1 + erf(x/√2))`.
#[derive(Module, Debug)]
pub(crate) struct MixFfn {
    pub fc1: Linear,
    pub dwconv: Conv2d,
    pub fc2: Linear,
}

impl MixFfn {
    pub fn new(dim: usize, hidden: usize, device: &Device) -> Self {
        Self {
            fc1: LinearConfig::new(dim, hidden).init(device),
            dwconv: Conv2dConfig::new([hidden, hidden], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .with_groups(hidden)
                .init(device),
            fc2: LinearConfig::new(hidden, dim).init(device),
        }
    }

    pub fn forward(&self, x: Tensor<3>, h: usize, w: usize) -> Tensor<3> {
        let y = to_image(self.fc1.forward(x), h, w);
        let y = to_tokens(self.dwconv.forward(y));
        self.fc2.forward(gelu(y))
    }
}

/// Pre-norm transformer block: `x ← x + Attn(LN₁(x))`, then `x ← x + MLP(LN₂(x))`, both
/// LayerNorms with ε = 1e-6. DropPath and dropout are identities at inference.
#[derive(Module, Debug)]
pub(crate) struct Block {
    pub norm1: LayerNorm,
    pub attn: Attention,
    pub norm2: LayerNorm,
    pub mlp: MixFfn,
}

impl Block {
    pub fn new(
        dim: usize,
        heads: usize,
        mlp_ratio: usize,
        sr: usize,
        learned_queries: bool,
        device: &Device,
    ) -> Self {
        Self {
            norm1: block_norm(dim, device),
            attn: Attention::new(dim, heads, sr, learned_queries, device),
            norm2: block_norm(dim, device),
            mlp: MixFfn::new(dim, dim * mlp_ratio, device),
        }
    }

    pub fn forward(&self, x: Tensor<3>, h: usize, w: usize) -> Tensor<3> {
        let x = x.clone() + self.attn.forward(self.norm1.forward(x), h, w);
        x.clone() + self.mlp.forward(self.norm2.forward(x), h, w)
    }
}

/// LayerNorm with the block epsilon (1e-6).
pub(crate) fn block_norm(dim: usize, device: &Device) -> LayerNorm {
    LayerNormConfig::new(dim)
        .with_epsilon(LN_EPS_BLOCK)
        .init(device)
}

/// Runs `blocks` then `norm` on a grid and returns the feature map `[B, C, H, W]`.
pub(crate) fn run_stage(blocks: &[Block], norm: &LayerNorm, grid: Grid) -> Tensor<4> {
    let Grid { mut tokens, h, w } = grid;
    for block in blocks {
        tokens = block.forward(tokens, h, w);
    }
    to_image(norm.forward(tokens), h, w)
}

#[cfg(test)]
mod tests {
    use super::nearest_rows;

    #[test]
    fn nearest_rows_match_pytorch_nearest() {
        // 48 → 16 picks every third row (the decoder at 256×256).
        let rows = nearest_rows(48, 16);
        assert_eq!(rows, (0..16).map(|i| 3 * i).collect::<Vec<i64>>());
        // One token takes row 0; more tokens than rows repeat rows, never past 47.
        assert_eq!(nearest_rows(48, 1), vec![0]);
        let up = nearest_rows(48, 100);
        assert_eq!(up.len(), 100);
        assert_eq!(*up.last().unwrap(), 47);
        assert!(up.windows(2).all(|p| p[1] >= p[0]));
        // 48/7 is not exact in f32: floor(i·6.857143).
        assert_eq!(nearest_rows(48, 7), vec![0, 6, 13, 20, 27, 34, 41]);
    }
}
