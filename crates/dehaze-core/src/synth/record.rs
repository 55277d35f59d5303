//! Writing the record of a synthesis run: the parameter CSV (fields quoted by
//! [`crate::csv::field`]) and the effective config, each
//! atomically ([`crate::fs::write_atomic`]), so an interrupted
//! run never leaves a half-written record under the final name.

use std::path::Path;

/// Writes `text` to `path` atomically ([`crate::fs::write_atomic`]). The error names the file.
pub fn write_text_atomic(path: &Path, text: &str) -> Result<(), std::io::Error> {
    Ok(crate::fs::write_atomic(path, text.as_bytes())?)
}
