//! Errors shared by every weight loader and saver (KA-Net checkpoints, DHR and AHG weights).

use std::path::PathBuf;

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
