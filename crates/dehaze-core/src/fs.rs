//! The one atomic file write every output of the toolkit goes through.
//!
//! A file is written to a temporary file in its destination folder, flushed to disk (`fsync`),
//! given mode 0644 (temporary files are created 0600), renamed over the destination, and the
//! folder itself is then flushed so the rename survives a power cut. Whatever moment the
//! process is killed at, the destination holds either its previous content or the complete new
//! one — never a partial file; at worst a `.dehaze-*.tmp` file is left beside it, which
//! [`remove_stale_temporaries`] can clear.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The prefix of the temporary files (hidden, so folder listings and globs skip them).
pub const TEMP_PREFIX: &str = ".dehaze-";
/// The suffix of the temporary files.
pub const TEMP_SUFFIX: &str = ".tmp";

/// The folder `path` lives in (`.` for a bare file name).
fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// A failed atomic write: `Display` gives `FILE: REASON`; callers with their own error types
/// take [`WriteError::path`] and [`WriteError::reason`] apart.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", path.display())]
pub struct WriteError {
    /// The destination file.
    pub path: PathBuf,
    /// Why it failed, in words.
    pub reason: String,
    /// The kind of the underlying I/O error.
    pub kind: io::ErrorKind,
}

impl From<WriteError> for io::Error {
    fn from(e: WriteError) -> Self {
        io::Error::new(e.kind, e.to_string())
    }
}

/// The [`WriteError`] for `path`, `what` failing with `e`.
fn named(path: &Path, what: &str, e: io::Error) -> WriteError {
    WriteError {
        path: path.to_path_buf(),
        reason: format!("{what}: {e}"),
        kind: e.kind(),
    }
}

/// A file being written atomically: write through [`AtomicFile::file`] (or `Write`), then
/// [`AtomicFile::commit`]. Dropped without a commit, the temporary file is deleted and the
/// destination is untouched.
pub struct AtomicFile {
    tmp: tempfile::NamedTempFile,
    path: PathBuf,
}

impl AtomicFile {
    /// Creates the temporary file beside `path`. The error names the folder.
    pub fn create(path: &Path) -> Result<Self, WriteError> {
        let dir = parent(path);
        let tmp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .suffix(TEMP_SUFFIX)
            .tempfile_in(dir)
            .map_err(|e| {
                named(
                    path,
                    &format!("cannot create a file in {}", dir.display()),
                    e,
                )
            })?;
        Ok(Self {
            tmp,
            path: path.to_path_buf(),
        })
    }

    /// The temporary file, for writers that want a `File`.
    pub fn file(&mut self) -> &mut std::fs::File {
        self.tmp.as_file_mut()
    }

    /// Flushes the data to disk, sets mode 0644, renames the file over the destination and
    /// flushes the folder. Errors name the destination.
    pub fn commit(self) -> Result<(), WriteError> {
        let path = self.path;
        let file = self.tmp.as_file();
        file.sync_all()
            .map_err(|e| named(&path, "cannot write", e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o644))
                .map_err(|e| named(&path, "cannot set permissions", e))?;
        }
        self.tmp
            .persist(&path)
            .map_err(|e| named(&path, "cannot rename into place", e.error))?;
        sync_dir(parent(&path)).map_err(|e| named(&path, "cannot flush the folder", e))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tmp.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.tmp.flush()
    }
}

/// Writes `bytes` to `path` atomically (see the module documentation). Errors name the file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let mut f = AtomicFile::create(path)?;
    f.write_all(bytes)
        .map_err(|e| named(path, "cannot write", e))?;
    f.commit()
}

/// Flushes a folder's entries (a rename into it, a new file) to disk. A no-op where folders
/// cannot be opened (not Unix).
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Deletes the temporary files an interrupted [`write_atomic`] left in `dir`; returns how many.
pub fn remove_stale_temporaries(dir: &Path) -> io::Result<usize> {
    let mut removed = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX) && entry.path().is_file() {
            std::fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replace_and_leave_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn written_files_are_mode_0644() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.bin");
        write_atomic(&p, b"x").unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644, "mode {mode:o}");
        // Replacing a file with other permissions gives 0644 too.
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        write_atomic(&p, b"y").unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644, "mode {mode:o}");
    }

    #[test]
    fn an_uncommitted_file_leaves_the_destination_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("keep.txt");
        write_atomic(&p, b"old").unwrap();
        let mut f = AtomicFile::create(&p).unwrap();
        f.write_all(b"half").unwrap();
        drop(f);
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn errors_name_the_file() {
        let e = write_atomic(Path::new("/nonexistent-dir/x.png"), b"x").unwrap_err();
        assert!(e.to_string().contains("/nonexistent-dir/x.png"), "{e}");
    }

    #[test]
    fn stale_temporaries_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".dehaze-abc.tmp"), b"x").unwrap();
        std::fs::write(dir.path().join("out.png"), b"x").unwrap();
        assert_eq!(remove_stale_temporaries(dir.path()).unwrap(), 1);
        assert!(dir.path().join("out.png").exists());
    }
}
