//! The four-stage transformer encoder with its intra-patch branch.
//!
//! Stage s (widths `dims[s]`, resolution 1/4, 1/8, 1/16, 1/32) runs two pre-norm blocks and a
//! LayerNorm on the tokens of a patch embedding. Next to the main path, an intra-patch branch
//! embeds the *input* of stage s once more with a stride-2 embedding (`mini_patch_embed`), runs
//! one block at the next width (`patch_block`) and a LayerNorm (`pnorm`), and its output `q_s` is
//! added to the next stage's patch embedding:
//!
//! ```text
//! t₁ = PE₁(x)                       p₁ = MPE₁(img t₁)
//! f₁ = img LN(B₁(t₁))               q₁ = img PLN₁(PB₁(p₁))
//! s₂ = img PE₂(f₁) + q₁             p₂ = MPE₂(s₂)
//! f₂ = img LN(B₂(tok s₂))           q₂ = img PLN₂(PB₂(p₂))
//! s₃ = img PE₃(f₂) + q₂             p₃ = MPE₃(s₃)
//! f₃ = img LN(B₃(tok s₃))           q₃ = img PLN₃(PB₃(p₃))
//! s₄ = img PE₄(f₃) + q₃
//! f₄ = img LN(B₄(tok s₄))
//! ```
//!
//! Heads `[1, 2, 4, 4]`, spatial-reduction ratios `[4, 2, 2, 1]`, MLP ratio 2. The intra-patch
//! block of stage s runs at width `dims[s+1]` with stage s's ratio, but its heads are
//! [`PATCH_HEADS`] = `[1, 2, 2]`: the official code passes `num_heads[1]` (not `num_heads[2]`) to
//! `patch_block3`. With a single key/value token (inputs up to 64×64) the head count cannot
//! change the output, so only larger inputs show it (`tests/ka_net.rs`,
//! `parity_with_the_official_network`). A fourth intra-patch embedding (`dims[0] → dims[3]`)
//! exists in the official network and its checkpoint but is never called; it is declared here
//! so the checkpoint loads strictly.

use burn::nn::LayerNorm;
use burn::prelude::*;

use super::transformer::{block_norm, run_stage, Block, Grid, PatchEmbed};

/// Heads per stage.
pub(crate) const HEADS: [usize; 4] = [1, 2, 4, 4];
/// Heads of the intra-patch blocks `patch_block1..3` (official: `num_heads[0]`, `num_heads[1]`,
/// `num_heads[1]`; not `HEADS[0..3]`).
pub(crate) const PATCH_HEADS: [usize; 3] = [1, 2, 2];
/// Spatial-reduction ratio per stage.
pub(crate) const SR_RATIOS: [usize; 4] = [4, 2, 2, 1];
/// MLP hidden width = ratio × width, in every encoder block.
pub(crate) const MLP_RATIO: usize = 2;
/// Blocks per stage.
pub(crate) const DEPTH: usize = 2;

/// Encoder output: the four stage feature maps `[B, dims[s], H/2^{s+2}, W/2^{s+2}]`.
pub(crate) type Features = [Tensor<4>; 4];

#[derive(Module, Debug)]
pub(crate) struct Encoder {
    /// Main-path embeddings: 7×7/4 (3 → dims[0]), then 3×3/2.
    pub patch_embeds: Vec<PatchEmbed>,
    /// Intra-patch embeddings 3×3/2: dims[s] → dims[s+1] for s = 0..2, plus the unused
    /// dims[0] → dims[3] (index 3, never called).
    pub mini_patch_embeds: Vec<PatchEmbed>,
    /// `blocks[s]`: the two main blocks of stage s.
    pub blocks: Vec<Vec<Block>>,
    /// Stage-output LayerNorms (ε = 1e-6).
    pub norms: Vec<LayerNorm>,
    /// `patch_blocks[s]`: the intra-patch block feeding stage s+1.
    pub patch_blocks: Vec<Block>,
    /// LayerNorms after the intra-patch blocks (ε = 1e-6).
    pub pnorms: Vec<LayerNorm>,
}

impl Encoder {
    pub fn new(dims: [usize; 4], device: &Device) -> Self {
        let d = dims;
        let patch_embeds = vec![
            PatchEmbed::new(3, d[0], 7, 4, device),
            PatchEmbed::new(d[0], d[1], 3, 2, device),
            PatchEmbed::new(d[1], d[2], 3, 2, device),
            PatchEmbed::new(d[2], d[3], 3, 2, device),
        ];
        let mini_patch_embeds = vec![
            PatchEmbed::new(d[0], d[1], 3, 2, device),
            PatchEmbed::new(d[1], d[2], 3, 2, device),
            PatchEmbed::new(d[2], d[3], 3, 2, device),
            PatchEmbed::new(d[0], d[3], 3, 2, device),
        ];
        let blocks = (0..4)
            .map(|s| {
                (0..DEPTH)
                    .map(|_| Block::new(d[s], HEADS[s], MLP_RATIO, SR_RATIOS[s], false, device))
                    .collect()
            })
            .collect();
        let patch_blocks = (0..3)
            .map(|s| {
                Block::new(
                    d[s + 1],
                    PATCH_HEADS[s],
                    MLP_RATIO,
                    SR_RATIOS[s],
                    false,
                    device,
                )
            })
            .collect();
        Self {
            patch_embeds,
            mini_patch_embeds,
            blocks,
            norms: (0..4).map(|s| block_norm(d[s], device)).collect(),
            patch_blocks,
            pnorms: (0..3).map(|s| block_norm(d[s + 1], device)).collect(),
        }
    }

    /// The stage widths, read from the stage-output norms.
    pub fn dims(&self) -> [usize; 4] {
        std::array::from_fn(|s| self.norms[s].gamma.lazy_shape()[0])
    }

    pub fn forward(&self, x: Tensor<4>) -> Features {
        let mut main = self.patch_embeds[0].forward(x);
        let mut mini = Some(self.mini_patch_embeds[0].forward(main.clone().image()));
        let mut feats: Vec<Tensor<4>> = Vec::with_capacity(4);
        for s in 0..4 {
            let f = run_stage(&self.blocks[s], &self.norms[s], main);
            feats.push(f.clone());
            // Stage 4 has no intra-patch input: the fourth mini embedding is never called.
            let Some(p) = mini.take() else { break };
            let q = run_stage(
                std::slice::from_ref(&self.patch_blocks[s]),
                &self.pnorms[s],
                p,
            );
            let merged = self.patch_embeds[s + 1].forward(f).image() + q;
            if s + 1 < 3 {
                mini = Some(self.mini_patch_embeds[s + 1].forward(merged.clone()));
            }
            main = Grid::from_image(merged);
        }
        feats.try_into().expect("four stages")
    }
}
