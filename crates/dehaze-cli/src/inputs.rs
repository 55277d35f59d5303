//! Turning command-line operands (files, folders, glob patterns) into a list of images.

use dehaze_core::io::has_image_extension;
use std::path::{Path, PathBuf};

/// One image to process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// The file to read.
    pub path: PathBuf,
    /// Its name relative to the operand it came from: the file name for a file or glob match,
    /// the path inside the folder for a folder. Output folders mirror this.
    pub relative: PathBuf,
}

/// The images found, and one message per operand that matched nothing.
#[derive(Debug, Default)]
pub struct Collected {
    pub inputs: Vec<Input>,
    pub problems: Vec<String>,
}

/// Expands operands: an existing file is taken as it is (whatever its extension, so that a
/// mislabelled image is still read and a non-image gets a clear error); a folder contributes
/// its files with an image extension (sorted; subfolders too when `recursive`); anything else
/// containing `*`, `?` or `[` is a glob pattern.
pub fn collect(operands: &[String], recursive: bool) -> Collected {
    let mut out = Collected::default();
    for op in operands {
        let path = Path::new(op);
        if path.is_file() {
            out.inputs.push(Input {
                path: path.to_path_buf(),
                relative: file_name(path),
            });
        } else if path.is_dir() {
            let before = out.inputs.len();
            if let Err(e) = walk(path, path, recursive, &mut out.inputs) {
                out.problems.push(format!("{op}: cannot list folder: {e}"));
            } else if out.inputs.len() == before {
                out.problems.push(format!("{op}: no images in this folder"));
            }
        } else if op.contains(['*', '?', '[']) {
            match glob::glob(op) {
                Ok(paths) => {
                    let mut matched: Vec<PathBuf> = paths
                        .filter_map(Result::ok)
                        .filter(|p| p.is_file())
                        .collect();
                    matched.sort();
                    if matched.is_empty() {
                        out.problems
                            .push(format!("{op}: no file matches this pattern"));
                    }
                    out.inputs.extend(matched.into_iter().map(|p| Input {
                        relative: file_name(&p),
                        path: p,
                    }));
                }
                Err(e) => out.problems.push(format!("{op}: bad pattern: {e}")),
            }
        } else {
            out.problems.push(format!("{op}: no such file or folder"));
        }
    }
    out
}

/// [`collect`], then prints each problem on standard error as `dehaze: …`.
pub fn collect_reported(operands: &[String], recursive: bool) -> Collected {
    let collected = collect(operands, recursive);
    for p in &collected.problems {
        eprintln!("dehaze: {p}");
    }
    collected
}

fn file_name(path: &Path) -> PathBuf {
    path.file_name().map(PathBuf::from).unwrap_or_default()
}

/// Appends the images in `dir` (and below, when `recursive`), sorted, to `out`.
fn walk(root: &Path, dir: &Path, recursive: bool, out: &mut Vec<Input>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            if recursive {
                walk(root, &p, recursive, out)?;
            }
        } else if has_image_extension(&p) {
            let relative = p.strip_prefix(root).unwrap_or(&p).to_path_buf();
            out.push(Input { path: p, relative });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_folders_and_globs() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("sub")).unwrap();
        for f in ["b.png", "a.JPG", "notes.txt", "sub/c.tif"] {
            std::fs::write(d.join(f), b"x").unwrap();
        }
        let s = |p: &Path| p.to_string_lossy().into_owned();

        let flat = collect(&[s(d)], false);
        let names: Vec<_> = flat.inputs.iter().map(|i| i.relative.clone()).collect();
        assert_eq!(names, [PathBuf::from("a.JPG"), PathBuf::from("b.png")]);

        let deep = collect(&[s(d)], true);
        assert_eq!(deep.inputs.len(), 3);
        assert_eq!(deep.inputs[2].relative, PathBuf::from("sub/c.tif"));

        let globbed = collect(&[s(&d.join("*.png")), s(&d.join("notes.txt"))], false);
        assert_eq!(globbed.inputs.len(), 2);
        assert!(globbed.problems.is_empty());

        let missing = collect(&[s(&d.join("nope.png")), s(&d.join("*.gif"))], false);
        assert!(missing.inputs.is_empty());
        assert_eq!(missing.problems.len(), 2);
    }
}
