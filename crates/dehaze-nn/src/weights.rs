//! Errors shared by every weight loader and saver (KA-Net checkpoints, DHR and AHG weights),
//! and the metadata of a safetensors weights file.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Why a weights file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    /// The file could not be opened, parsed or written.
    #[error("{path}: {reason}")]
    File {
        /// The weights file.
        path: PathBuf,
        /// What went wrong, in one line.
        reason: String,
    },
}

impl WeightsError {
    /// A [`WeightsError::File`] for `path`.
    pub fn file(path: &std::path::Path, reason: impl ToString) -> Self {
        Self::File {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        }
    }
}

/// Checks, before a network described by a file's metadata is allocated, that the file is big
/// enough to hold it: a weights file stores every parameter (at least one byte each), so a
/// configuration needing more parameters than the file has bytes is refused instead of
/// allocating gigabytes for a header claiming a huge network. `min_params` is a lower bound
/// on the network's parameter count (the caller's own formula). The error gives both numbers.
pub fn check_fits(min_params: u128, file_len: u64) -> Result<(), String> {
    if min_params > u128::from(file_len) {
        return Err(format!(
            "its configuration needs at least {min_params} parameters, more than the file's \
             {file_len} bytes can hold (refused before allocating the network)"
        ));
    }
    Ok(())
}

/// The metadata key naming the network in the weights files this toolkit writes (`ka-net` for
/// [`crate::ka_net::KaNet::save`], `dhr` for [`crate::dhr::Dhr::save`]).
pub const KEY_MODEL: &str = "dehaze.model";

/// The `__metadata__` entries of a safetensors file (string values only; empty when it has
/// none), read from its header alone, so no tensor is read or allocated. `Ok(None)` for a file
/// that is not safetensors (a PyTorch checkpoint). Errors name the file.
pub fn safetensors_metadata(path: &Path) -> Result<Option<HashMap<String, String>>, WeightsError> {
    let fail = |reason: String| WeightsError::File {
        path: path.to_path_buf(),
        reason,
    };
    let mut file = std::fs::File::open(path).map_err(|e| fail(format!("cannot open: {e}")))?;
    let len = file
        .metadata()
        .map_err(|e| fail(format!("cannot read: {e}")))?
        .len();
    // The header's length (8 bytes, little-endian), then its JSON, which opens with `{`.
    let mut head = [0u8; 9];
    if file.read_exact(&mut head).is_err() || head[8] != b'{' {
        return Ok(None);
    }
    let header_len = u64::from_le_bytes(head[..8].try_into().expect("8 bytes"));
    // Checked: a header length near u64::MAX must not overflow, nor one beyond the file allocate.
    if header_len < 2 || header_len.checked_add(8).is_none_or(|end| end > len) {
        return Ok(None);
    }
    let mut header = vec![b'{'; header_len as usize];
    file.read_exact(&mut header[1..])
        .map_err(|e| fail(format!("cannot read: {e}")))?;
    let json: serde_json::Value = serde_json::from_slice(&header)
        .map_err(|e| fail(format!("not a readable safetensors header: {e}")))?;
    let entries = json["__metadata__"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    Ok(Some(entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safetensors_metadata_reads_the_header_alone() {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, bytes: &[u8]| {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            p
        };
        let value = 0f32.to_le_bytes();
        let view =
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![1], &value).unwrap();
        let meta = HashMap::from([(KEY_MODEL.to_string(), "dhr".to_string())]);
        let tagged = file(
            "tagged.safetensors",
            &safetensors::serialize([("x", view.clone())], Some(meta.clone())).unwrap(),
        );
        assert_eq!(safetensors_metadata(&tagged).unwrap(), Some(meta));
        let bare = file(
            "bare.safetensors",
            &safetensors::serialize([("x", view)], None).unwrap(),
        );
        assert_eq!(safetensors_metadata(&bare).unwrap(), Some(HashMap::new()));
        // Not safetensors: a zip (PyTorch ≥ 1.6), a header length near u64::MAX, a short file.
        let mut huge = (u64::MAX - 7).to_le_bytes().to_vec();
        huge.extend_from_slice(b"{\"a\": 1}");
        for bytes in [&b"PK\x03\x04rest of a zip"[..], &huge, b"{}"] {
            assert_eq!(safetensors_metadata(&file("x.pt", bytes)).unwrap(), None);
        }
        // A safetensors-looking header that is not JSON is an error naming the file.
        let mut broken = 4u64.to_le_bytes().to_vec();
        broken.extend_from_slice(b"{not");
        let e = safetensors_metadata(&file("broken.safetensors", &broken)).unwrap_err();
        assert!(e.to_string().contains("broken.safetensors"), "{e}");
        assert!(safetensors_metadata(&dir.path().join("missing")).is_err());
    }
}
