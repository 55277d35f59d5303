//! Loading official KA-Net checkpoints.
//!
//! The Burn modules use their own field names (`encoder.blocks.0.1.attn.q.weight`); the official
//! state dict uses the PyTorch attribute names (`Tencoder.block1.1.attn.q.weight`), including
//! `nn.Sequential` indices (`faix.0` = conv, `faix.1` = BatchNorm, `fc.0`/`fc.2` around a ReLU)
//! and the `.conv2d` attribute of the official conv wrappers. [`official_name`] maps a Burn
//! path to its official key; the loader inverts it over the model's own paths, so the mapping is
//! written once. Linear weights are transposed (`[out, in]` → `[in, out]`) by burn-store's
//! PyTorch adapter.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::Read;
use std::path::Path;

use burn::store::burn_pack::Tensor as PackTensor;
use burn::store::pytorch_reader::PytorchError;
use burn::store::{
    ApplyError, BurnToPyTorchAdapter, FloatCastAdapter, ModuleAdapter, ModuleSnapshot, ModuleStore,
    PyTorchToBurnAdapter, PytorchStore, PytorchStoreError, SafetensorsStore,
};
use burn::tensor::DType;

use super::{KaNet, KaNetConfig};
use crate::weights::{WeightsError, KEY_MODEL};

/// The prefix `nn.DataParallel` puts on every key of the official checkpoint.
const PARALLEL_PREFIX: &str = "module.";
/// The key the official training script stores the state dict under.
const STATE_DICT_KEY: &str = "model";

/// The official state-dict key of the tensor at Burn path `path`, or `None` for a path this
/// network does not have.
pub(crate) fn official_name(path: &str) -> Option<String> {
    let segs: Vec<&str> = path.split('.').collect();
    let mapped = match segs.as_slice() {
        ["encoder", rest @ ..] => format!("Tencoder.{}", encoder(rest)?),
        ["decoder", rest @ ..] => format!("Tdecoder.{}", decoder(rest)?),
        ["projection", rest @ ..] => format!("convtail.{}", projection(rest)?),
        ["head", "conv", p] => format!("clean.conv2d.{}", param(p)),
        ["bottleneck", rest @ ..] => format!("block.{}", bottleneck(rest)?),
        _ => return None,
    };
    Some(mapped)
}

/// Burn's norm parameter names → PyTorch's.
fn param(p: &str) -> &str {
    match p {
        "gamma" => "weight",
        "beta" => "bias",
        other => other,
    }
}

fn stage(i: &str) -> Option<usize> {
    i.parse::<usize>().ok().map(|i| i + 1)
}

fn join(segs: &[&str]) -> String {
    segs.iter().map(|s| param(s)).collect::<Vec<_>>().join(".")
}

fn patch_embed(rest: &[&str]) -> Option<String> {
    match rest {
        ["proj" | "norm", _] => Some(join(rest)),
        _ => None,
    }
}

fn block(rest: &[&str]) -> Option<String> {
    let tail = match rest {
        ["norm1" | "norm2", _] => join(rest),
        ["attn", "task_query"] => "attn.task_query".into(),
        ["attn", "q" | "kv" | "proj", _] => join(rest),
        ["attn", "reduction", "sr", p] => format!("attn.sr.{p}"),
        ["attn", "reduction", "norm", p] => format!("attn.norm.{}", param(p)),
        ["mlp", "fc1" | "fc2", _] => join(rest),
        ["mlp", "dwconv", p] => format!("mlp.dwconv.dwconv.{p}"),
        _ => return None,
    };
    Some(tail)
}

fn encoder(rest: &[&str]) -> Option<String> {
    Some(match rest {
        ["patch_embeds", i, r @ ..] => format!("patch_embed{}.{}", stage(i)?, patch_embed(r)?),
        ["mini_patch_embeds", i, r @ ..] => {
            format!("mini_patch_embed{}.{}", stage(i)?, patch_embed(r)?)
        }
        ["blocks", s, j, r @ ..] => format!("block{}.{j}.{}", stage(s)?, block(r)?),
        ["norms", s, p] => format!("norm{}.{}", stage(s)?, param(p)),
        ["patch_blocks", s, r @ ..] => format!("patch_block{}.0.{}", stage(s)?, block(r)?),
        ["pnorms", s, p] => format!("pnorm{}.{}", stage(s)?, param(p)),
        _ => return None,
    })
}

fn decoder(rest: &[&str]) -> Option<String> {
    Some(match rest {
        ["patch_embed", r @ ..] => format!("patch_embed1.{}", patch_embed(r)?),
        ["blocks", j, r @ ..] => format!("block1.{j}.{}", block(r)?),
        ["norm", p] => format!("norm1.{}", param(p)),
        _ => return None,
    })
}

fn projection(rest: &[&str]) -> Option<String> {
    Some(match rest {
        [up, p] if up.starts_with("convd") || *up == "conv_output" => format!("{up}.conv2d.{p}"),
        [dense, conv @ ("conv1" | "conv2"), p] if dense.starts_with("dense_") => {
            format!("{dense}.0.{conv}.conv2d.{p}")
        }
        _ => return None,
    })
}

/// `ConvBn` → `nn.Sequential(conv, BN, ReLU)`.
fn conv_bn(rest: &[&str]) -> Option<String> {
    Some(match rest {
        ["conv", p] => format!("0.{p}"),
        ["bn", p] => format!("1.{}", param(p)),
        _ => return None,
    })
}

fn bottleneck(rest: &[&str]) -> Option<String> {
    Some(match rest {
        ["conv1" | "conv2", _] => join(rest),
        ["branches", r @ ..] => format!("MRFEB1.{}", multi_branch(r)?),
        _ => return None,
    })
}

fn multi_branch(rest: &[&str]) -> Option<String> {
    Some(match rest {
        ["branches", i, r @ ..] => format!("MRFRB_{}.{}", stage(i)?, dilated(r)?),
        ["gate", "fc1", p] => format!("AGB.fc.0.{p}"),
        ["gate", "fc2", p] => format!("AGB.fc.2.{p}"),
        ["gate", "fuse", r @ ..] => format!("AGB.conv_out.{}", conv_bn(r)?),
        ["rff_embed", r @ ..] => format!("faix.{}", conv_bn(r)?),
        _ => return None,
    })
}

fn dilated(rest: &[&str]) -> Option<String> {
    Some(match rest {
        ["conv1", r @ ..] => format!("DFconv1.{}", conv_bn(r)?),
        ["conv2", r @ ..] => format!("DFconv2.{}", conv_bn(r)?),
        ["fuse", r @ ..] => format!("conv_cat.{}", conv_bn(r)?),
        ["attention", "channel", "fc_down", p] => format!("AM.CAU.fc.0.{p}"),
        ["attention", "channel", "fc_up", p] => format!("AM.CAU.fc.2.{p}"),
        ["attention", "channel", "conv_down", p] => format!("AM.CAU.fc1.0.{p}"),
        ["attention", "channel", "conv_up", p] => format!("AM.CAU.fc1.2.{p}"),
        ["attention", "spatial", "squeeze", p] => format!("AM.SAU.conv_1.{p}"),
        ["attention", "spatial", "mix", p] => format!("AM.SAU.conv_sigm.0.{p}"),
        ["attention", "spatial", "scale", p] => format!("AM.SAU.conv_sigm.2.{p}"),
        ["attention", "fuse", r @ ..] => format!("AM.conv_out.{}", conv_bn(r)?),
        _ => return None,
    })
}

/// What kind of file a checkpoint is, from its first bytes.
#[derive(Debug, PartialEq)]
enum Format {
    /// 8-byte little-endian header length, then a JSON header.
    Safetensors,
    /// Anything else is handed to the PyTorch reader (zip, legacy pickle, tar).
    Pytorch,
}

fn sniff(path: &Path) -> Result<Format, String> {
    let mut file = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let len = file
        .metadata()
        .map_err(|e| format!("cannot stat: {e}"))?
        .len();
    let mut head = [0u8; 9];
    let n = file
        .read(&mut head)
        .map_err(|e| format!("cannot read: {e}"))?;
    if n == 9 && head[8] == b'{' {
        let header = u64::from_le_bytes(head[..8].try_into().expect("8 bytes"));
        // Checked: a header length near u64::MAX (found by fuzzing) must not overflow.
        if header.checked_add(8).is_some_and(|end| end <= len) {
            return Ok(Format::Safetensors);
        }
    }
    Ok(Format::Pytorch)
}

/// All tensors of the file by key, the state dict taken from under `model` when the file has
/// that key.
fn read_tensors(path: &Path) -> Result<BTreeMap<String, PackTensor>, String> {
    match sniff(path)? {
        Format::Safetensors => {
            let mut store = SafetensorsStore::from_file(path).map_indices_contiguous(false);
            store
                .get_all_tensors()
                .cloned()
                .map_err(|e| format!("not a readable safetensors file: {e}"))
        }
        Format::Pytorch => {
            let mut nested = PytorchStore::from_file(path)
                .with_top_level_key(STATE_DICT_KEY)
                .map_indices_contiguous(false);
            match nested.get_all_tensors() {
                Ok(t) => Ok(t.clone()),
                Err(PytorchStoreError::Reader(PytorchError::KeyNotFound(_))) => {
                    let mut bare = PytorchStore::from_file(path).map_indices_contiguous(false);
                    bare.get_all_tensors()
                        .cloned()
                        .map_err(|e| format!("not a readable PyTorch checkpoint: {e}"))
                }
                Err(e) => Err(format!("not a readable PyTorch checkpoint: {e}")),
            }
        }
    }
}

/// Lists up to 8 keys and how many more there are.
fn some_keys(keys: &[String]) -> String {
    let shown: Vec<&str> = keys.iter().take(8).map(String::as_str).collect();
    let more = keys.len().saturating_sub(shown.len());
    if more > 0 {
        format!("{} (and {more} more)", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// Loads the checkpoint at `path` into `model`, strictly (see [`KaNet::load`]).
pub(crate) fn load_into(model: &mut KaNet, path: &Path) -> Result<(), WeightsError> {
    let fail = |reason: String| WeightsError::File {
        path: path.to_path_buf(),
        reason,
    };
    let file = read_tensors(path).map_err(fail)?;
    if file.is_empty() {
        return Err(fail("the file holds no tensors".into()));
    }
    let prefixed = file.keys().all(|k| k.starts_with(PARALLEL_PREFIX));

    // Official key → Burn path, over the model's own tensors.
    let mut wanted: HashMap<String, String> = HashMap::new();
    let mut batch_norms: HashSet<String> = HashSet::new();
    for t in model.collect(None, None, false) {
        let official = official_name(&t.name)
            .ok_or_else(|| fail(format!("internal: no official name for '{}'", t.name)))?;
        if let Some(bn) = official.strip_suffix(".running_mean") {
            batch_norms.insert(bn.to_string());
        }
        wanted.insert(official, t.name);
    }

    let mut feed = Vec::with_capacity(wanted.len());
    let mut unexpected = Vec::new();
    for (key, mut tensor) in file {
        let name = if prefixed {
            &key[PARALLEL_PREFIX.len()..]
        } else {
            key.as_str()
        };
        if let Some(burn_path) = wanted.remove(name) {
            tensor.name = burn_path;
            feed.push(tensor);
        } else if name
            .strip_suffix(".num_batches_tracked")
            .is_some_and(|bn| batch_norms.contains(bn))
        {
            // A BatchNorm's training step counter; inference does not read it.
        } else {
            unexpected.push(key);
        }
    }
    let mut missing: Vec<String> = wanted.into_keys().collect();
    missing.sort();
    unexpected.sort();
    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!(
            "{} tensor(s) missing: {}",
            missing.len(),
            some_keys(&missing)
        ));
    }
    if !unexpected.is_empty() {
        problems.push(format!(
            "{} unexpected tensor(s): {}",
            unexpected.len(),
            some_keys(&unexpected)
        ));
    }
    if !problems.is_empty() {
        return Err(fail(format!(
            "not a KA-Net checkpoint for this configuration: {}",
            problems.join("; ")
        )));
    }

    let adapter: Box<dyn ModuleAdapter> =
        Box::new(PyTorchToBurnAdapter.chain(FloatCastAdapter::to(DType::F32)));
    let result = model.apply(feed, None, Some(adapter), false);
    if !result.errors.is_empty() {
        let shown: Vec<String> = result.errors.iter().take(8).map(describe).collect();
        return Err(fail(format!(
            "{} tensor(s) could not be loaded: {}",
            result.errors.len(),
            shown.join("; ")
        )));
    }
    if !result.missing.is_empty() || !result.unused.is_empty() {
        return Err(fail(format!(
            "internal: tensors left unapplied (missing {:?}, unused {:?})",
            result.missing, result.unused
        )));
    }
    Ok(())
}

/// Metadata key holding the encoder widths, comma-separated.
const KEY_DIMS: &str = "dehaze.ka_net_dims";

/// Writes `model` as safetensors under the official names (see [`KaNet::save`]).
pub(crate) fn save(model: &KaNet, path: &Path) -> Result<(), WeightsError> {
    let fail = |reason: String| WeightsError::File {
        path: path.to_path_buf(),
        reason,
    };
    // Burn → PyTorch layouts (Linear weights transposed back to [out, in]).
    let tensors = model.collect(None, Some(Box::new(BurnToPyTorchAdapter)), false);
    let mut owned = Vec::with_capacity(tensors.len());
    for t in tensors {
        let name = official_name(&t.name)
            .ok_or_else(|| fail(format!("internal: no official name for '{}'", t.name)))?;
        if t.dtype != DType::F32 {
            return Err(fail(format!("'{name}' is {:?}, not f32", t.dtype)));
        }
        let shape = t.shape.to_vec();
        let bytes = t
            .to_bytes()
            .map_err(|e| fail(format!("cannot read '{name}': {e}")))?
            .to_vec();
        owned.push((name, shape, bytes));
    }
    let views = owned
        .iter()
        .map(|(name, shape, bytes)| {
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), bytes)
                .map(|v| (name.clone(), v))
                .map_err(|e| fail(format!("'{name}': {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let dims = model.dims().map(|d| d.to_string()).join(",");
    let metadata = HashMap::from([
        (KEY_MODEL.to_string(), "ka-net".to_string()),
        (KEY_DIMS.to_string(), dims),
    ]);
    let bytes = safetensors::serialize(views, Some(metadata)).map_err(|e| fail(e.to_string()))?;
    crate::dhr::write_atomic(path, &bytes)
}

/// The widths stored by [`save`], if the file is safetensors with that metadata.
pub(crate) fn saved_config(path: &Path) -> Result<Option<KaNetConfig>, WeightsError> {
    let fail = |reason: String| WeightsError::File {
        path: path.to_path_buf(),
        reason,
    };
    let Some(metadata) = crate::weights::safetensors_metadata(path)? else {
        return Ok(None);
    };
    let Some(dims) = metadata.get(KEY_DIMS) else {
        return Ok(None);
    };
    let parsed: Vec<usize> = dims
        .split(',')
        .map(|d| d.trim().parse())
        .collect::<Result<_, _>>()
        .map_err(|e| fail(format!("metadata {KEY_DIMS} = '{dims}': {e}")))?;
    let dims: [usize; 4] = parsed
        .try_into()
        .map_err(|_| fail(format!("metadata {KEY_DIMS} = '{dims}': not four widths")))?;
    let config = KaNetConfig { dims };
    config
        .validate()
        .map_err(|e| fail(format!("metadata {KEY_DIMS} = '{dims:?}': {e}")))?;
    Ok(Some(config))
}

/// An apply error in terms of the official key.
fn describe(e: &ApplyError) -> String {
    let official = |p: &str| official_name(p).unwrap_or_else(|| p.to_string());
    match e {
        ApplyError::ShapeMismatch {
            path,
            expected,
            found,
        } => format!(
            "'{}' has shape {:?}, the network expects {:?} (Linear weights as [in, out])",
            official(path),
            found.as_slice(),
            expected.as_slice()
        ),
        ApplyError::DTypeMismatch {
            path,
            expected,
            found,
        } => format!(
            "'{}' has dtype {found:?}, the network expects {expected:?}",
            official(path)
        ),
        ApplyError::AdapterError { path, message } | ApplyError::LoadError { path, message } => {
            format!("'{}': {message}", official(path))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{official_name, sniff, Format};

    #[test]
    fn a_header_length_near_the_top_of_u64_is_not_safetensors() {
        // The fuzz target `weights` found `header + 8` overflowing (a panic with overflow
        // checks): the 8-byte length 2^64 − 8 followed by '{'. Such a file goes to the
        // PyTorch reader, which rejects it with an error.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge-header.safetensors");
        let mut bytes = (u64::MAX - 7).to_le_bytes().to_vec();
        bytes.extend_from_slice(b"{\"a\": 1}");
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(sniff(&path).unwrap(), Format::Pytorch);
        let device = crate::device::cpu();
        let Err(e) =
            crate::ka_net::KaNet::load(&path, &crate::ka_net::KaNetConfig::tiny(), &device)
        else {
            panic!("loaded a network from a non-checkpoint");
        };
        assert!(e.to_string().contains("huge-header"), "{e}");
    }

    #[test]
    fn names_follow_the_official_state_dict() {
        let cases = [
            (
                "encoder.blocks.0.1.attn.reduction.norm.gamma",
                "Tencoder.block1.1.attn.norm.weight",
            ),
            (
                "encoder.patch_blocks.2.mlp.dwconv.weight",
                "Tencoder.patch_block3.0.mlp.dwconv.dwconv.weight",
            ),
            (
                "encoder.mini_patch_embeds.3.norm.beta",
                "Tencoder.mini_patch_embed4.norm.bias",
            ),
            ("encoder.pnorms.0.gamma", "Tencoder.pnorm1.weight"),
            (
                "decoder.blocks.2.attn.task_query",
                "Tdecoder.block1.2.attn.task_query",
            ),
            ("decoder.norm.beta", "Tdecoder.norm1.bias"),
            (
                "projection.dense_4.conv2.bias",
                "convtail.dense_4.0.conv2.conv2d.bias",
            ),
            (
                "projection.convd32x.weight",
                "convtail.convd32x.conv2d.weight",
            ),
            ("head.conv.weight", "clean.conv2d.weight"),
            (
                "bottleneck.branches.branches.2.attention.spatial.mix.weight",
                "block.MRFEB1.MRFRB_3.AM.SAU.conv_sigm.0.weight",
            ),
            (
                "bottleneck.branches.rff_embed.bn.running_var",
                "block.MRFEB1.faix.1.running_var",
            ),
            (
                "bottleneck.branches.gate.fc2.weight",
                "block.MRFEB1.AGB.fc.2.weight",
            ),
        ];
        for (burn, official) in cases {
            assert_eq!(official_name(burn).as_deref(), Some(official), "{burn}");
        }
        assert_eq!(official_name("bottleneck.rff_w"), None);
        assert_eq!(official_name("encoder.blocks.x.0.norm1.gamma"), None);
    }
}
