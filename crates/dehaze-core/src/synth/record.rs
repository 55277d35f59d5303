//! Writing the record of a synthesis run: the parameter CSV and the effective config, each
//! atomically (temporary file in the destination folder, then a rename), so an interrupted
//! run never leaves a half-written record under the final name.

use std::io::Write;
use std::path::Path;

/// Writes `text` to `path` atomically. The error names the file.
pub fn write_text_atomic(path: &Path, text: &str) -> Result<(), std::io::Error> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let named =
        |e: std::io::Error| std::io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(named)?;
    tmp.write_all(text.as_bytes()).map_err(named)?;
    tmp.as_file().sync_all().map_err(named)?;
    tmp.persist(path).map_err(|e| named(e.error))?;
    Ok(())
}

/// Quotes a CSV field when it holds a comma, a quote or a line break (RFC 4180).
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
