//! The transformer decoder: a stride-2 embedding of the bottleneck output (1/32 → 1/64),
//! three blocks whose queries come from a learned (48, C) table resized to the token count
//! (see [`Attention`](super::transformer::Attention)), and a LayerNorm (ε = 1e-6):
//!
//! `x_u = img LN(B₃(B₂(B₁(PE(x_d)))))`, with 8 heads, MLP ratio 4, no spatial reduction.

use burn::nn::LayerNorm;
use burn::prelude::*;

use super::transformer::{block_norm, run_stage, Block, PatchEmbed};

/// Heads of the decoder blocks.
pub(crate) const HEADS: usize = 8;
/// MLP hidden width = ratio × width.
pub(crate) const MLP_RATIO: usize = 4;
/// Number of decoder blocks.
pub(crate) const DEPTH: usize = 3;

#[derive(Module, Debug)]
pub(crate) struct Decoder {
    pub patch_embed: PatchEmbed,
    pub blocks: Vec<Block>,
    pub norm: LayerNorm,
}

impl Decoder {
    pub fn new(dim: usize, device: &Device) -> Self {
        Self {
            patch_embed: PatchEmbed::new(dim, dim, 3, 2, device),
            blocks: (0..DEPTH)
                .map(|_| Block::new(dim, HEADS, MLP_RATIO, 1, true, device))
                .collect(),
            norm: block_norm(dim, device),
        }
    }

    /// `x`: the bottleneck output `[B, C, h, w]`; returns `[B, C, ⌈h/2⌉, ⌈w/2⌉]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        run_stage(&self.blocks, &self.norm, self.patch_embed.forward(x))
    }
}
