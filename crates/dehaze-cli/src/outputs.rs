//! Where each output goes. The rules, also in the README:
//!
//! * no `-o`: beside the input, named `<stem>_dehazed.<ext>`;
//! * `-o DIR` (an existing folder, a path ending in `/`, or any `-o` with several inputs): in
//!   `DIR`, under the input's own name (folders mirrored), so that results pair with ground
//!   truth by file name; `DIR` is created if needed;
//! * `-o FILE` with one input: exactly `FILE`.
//!
//! `<ext>` is the input's extension, or `--format`. An output that would be one of the inputs
//! is refused for that file (never overwritten); two inputs that would land on the same output
//! get `_2`, `_3`… appended to the later ones. Other existing files are replaced.

use crate::inputs::Input;
use dehaze_core::io::OutputFormat;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Where outputs go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    BesideInput,
    Folder(PathBuf),
    File(PathBuf),
}

impl Target {
    /// Interprets `-o` for `n_inputs` inputs. Errors are usage errors.
    pub fn from_arg(output: Option<&Path>, n_inputs: usize) -> Result<Self, String> {
        let Some(o) = output else {
            return Ok(Target::BesideInput);
        };
        let looks_like_dir = o.is_dir() || o.as_os_str().to_string_lossy().ends_with('/');
        if looks_like_dir || n_inputs > 1 {
            if o.is_file() {
                return Err(format!(
                    "-o {}: is a file, but {n_inputs} inputs need a folder",
                    o.display()
                ));
            }
            return Ok(Target::Folder(o.to_path_buf()));
        }
        if OutputFormat::from_path(o).is_none() {
            return Err(format!(
                "-o {}: unknown image format; use .png, .jpg, .tif, .webp or .bmp, or a folder ending in /",
                o.display()
            ));
        }
        Ok(Target::File(o.to_path_buf()))
    }
}

/// Output paths for `inputs`, in order: `Ok(path)` or the reason this input gets none.
/// `extension` overrides the input's extension (folder and beside-input targets).
pub fn plan(
    inputs: &[Input],
    target: &Target,
    extension: Option<&str>,
) -> Vec<Result<PathBuf, String>> {
    let protected: HashSet<PathBuf> = inputs.iter().map(|i| normalise(&i.path)).collect();
    let mut taken: HashSet<PathBuf> = HashSet::new();
    inputs
        .iter()
        .map(|input| {
            let wanted = match target {
                Target::File(f) => f.clone(),
                Target::BesideInput => {
                    let stem = input.path.file_stem().unwrap_or_default().to_string_lossy();
                    let ext = output_extension(&input.path, extension);
                    input.path.with_file_name(format!("{stem}_dehazed.{ext}"))
                }
                Target::Folder(dir) => {
                    let ext = output_extension(&input.path, extension);
                    dir.join(&input.relative).with_extension(ext)
                }
            };
            let path = unique(wanted, &taken);
            if protected.contains(&normalise(&path)) {
                return Err(format!(
                    "output {} would overwrite an input; choose another -o",
                    path.display()
                ));
            }
            taken.insert(normalise(&path));
            Ok(path)
        })
        .collect()
}

/// The transmission map's path for an output: `<stem>_transmission.png` beside it.
pub fn transmission_path(output: &Path) -> PathBuf {
    let stem = output.file_stem().unwrap_or_default().to_string_lossy();
    output.with_file_name(format!("{stem}_transmission.png"))
}

/// DHR's importance map's path for an output: `<stem>_importance.png` beside it.
pub fn importance_path(output: &Path) -> PathBuf {
    let stem = output.file_stem().unwrap_or_default().to_string_lossy();
    output.with_file_name(format!("{stem}_importance.png"))
}

/// `extension` if given, else the input's own if we can write it, else `png`.
fn output_extension(input: &Path, extension: Option<&str>) -> String {
    if let Some(e) = extension {
        return e.to_string();
    }
    match input.extension().and_then(|e| e.to_str()) {
        Some(e) if OutputFormat::from_path(input).is_some() => e.to_string(),
        _ => "png".to_string(),
    }
}

/// `path`, or `path` with `_2`, `_3`… before the extension if already taken.
fn unique(path: PathBuf, taken: &HashSet<PathBuf>) -> PathBuf {
    if !taken.contains(&normalise(&path)) {
        return path;
    }
    let stem = path
        .file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let ext = path.extension().map(|e| e.to_string_lossy().into_owned());
    (2..)
        .map(|k| {
            let name = match &ext {
                Some(e) => format!("{stem}_{k}.{e}"),
                None => format!("{stem}_{k}"),
            };
            path.with_file_name(name)
        })
        .find(|p| !taken.contains(&normalise(p)))
        .expect("an unused name exists")
}

/// An absolute, symlink-resolved form of `path` for comparisons; the file need not exist
/// (its folder is resolved when it exists).
fn normalise(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match (parent.canonicalize(), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(path: &Path, relative: &str) -> Input {
        Input {
            path: path.to_path_buf(),
            relative: PathBuf::from(relative),
        }
    }

    #[test]
    fn beside_input_gets_a_suffix() {
        let i = input(Path::new("/data/photo.JPG"), "photo.JPG");
        let out = plan(&[i], &Target::BesideInput, None);
        assert_eq!(
            out[0].as_deref().unwrap(),
            Path::new("/data/photo_dehazed.JPG")
        );
    }

    #[test]
    fn folder_keeps_names_and_refuses_to_overwrite_inputs() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.png");
        std::fs::write(&a, b"x").unwrap();
        // -o pointing at the input's own folder would overwrite it.
        let t = Target::Folder(dir.path().to_path_buf());
        let out = plan(&[input(&a, "a.png")], &t, None);
        assert!(out[0]
            .as_ref()
            .unwrap_err()
            .contains("would overwrite an input"));
        // With another extension it is a different file.
        let out = plan(&[input(&a, "a.png")], &t, Some("jpg"));
        assert_eq!(out[0].as_deref().unwrap(), dir.path().join("a.jpg"));
    }

    #[test]
    fn collisions_get_numbered() {
        let t = Target::Folder(PathBuf::from("/out"));
        let ins = [
            input(Path::new("/x/a.png"), "a.png"),
            input(Path::new("/y/a.png"), "a.png"),
            input(Path::new("/z/a.png"), "a.png"),
        ];
        let out: Vec<_> = plan(&ins, &t, None)
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            out,
            [
                PathBuf::from("/out/a.png"),
                PathBuf::from("/out/a_2.png"),
                PathBuf::from("/out/a_3.png")
            ]
        );
    }

    #[test]
    fn target_from_arg() {
        assert_eq!(Target::from_arg(None, 3).unwrap(), Target::BesideInput);
        assert_eq!(
            Target::from_arg(Some(Path::new("o.png")), 1).unwrap(),
            Target::File(PathBuf::from("o.png"))
        );
        assert_eq!(
            Target::from_arg(Some(Path::new("out")), 2).unwrap(),
            Target::Folder(PathBuf::from("out"))
        );
        assert!(Target::from_arg(Some(Path::new("o.xyz")), 1).is_err());
    }
}
