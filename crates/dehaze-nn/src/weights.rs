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
