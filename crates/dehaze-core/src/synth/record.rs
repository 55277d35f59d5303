//! Writing the record of a synthesis run: the parameter CSV and the effective config, each
//! atomically ([`crate::fs::write_atomic`]), so an interrupted
//! run never leaves a half-written record under the final name.

use std::path::Path;

/// Writes `text` to `path` atomically ([`crate::fs::write_atomic`]). The error names the file.
pub fn write_text_atomic(path: &Path, text: &str) -> Result<(), std::io::Error> {
    Ok(crate::fs::write_atomic(path, text.as_bytes())?)
}

/// Quotes a CSV field when it holds a comma, a quote or a line break (RFC 4180).
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
