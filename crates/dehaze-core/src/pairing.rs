//! Which clear (ground-truth) image belongs to a hazy one: the one rule that `dehaze train`,
//! `dehaze train-ahg`, `dehaze eval` and `dehaze metrics` all use.
//!
//! **The name rule** ([`clear_stems`]): a hazy file with stem `S` is paired with a clear file
//! whose stem is, in this order of preference,
//! 1. `S` itself (extensions may differ: ground truth is often PNG beside JPEG inputs);
//! 2. `<base>_GT` when `S` is `<base>_hazy` (O-HAZE, Dense-HAZE, NH-HAZE releases);
//! 3. `<id>`, the stem up to the first `_` (RESIDE: hazy `<id>_<A>_<β>` ↔ clear `<id>`).
//!
//! Stems compare without regard to case; of several clear files with the same stem, the first
//! by name wins. **Where** the clear file is looked for depends on the layout:
//! * a clear folder beside the hazy inputs ([`ClearIndex`]): at the hazy file's relative
//!   path (exact name first, then the name rule in the same relative folder);
//! * a pair folder ([`pair_folder`]): `hazy/` + `clear/`, or hazy and clear files side by side
//!   in the folder and its direct subfolders (`hazy/01_hazy.png` ↔ `GT/01_GT.png`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::io::{file_stem, has_image_extension, list_images};

/// The clear stems a hazy stem pairs with, most preferred first (module docs), lower-cased.
pub fn clear_stems(hazy_stem: &str) -> Vec<String> {
    let s = hazy_stem.to_lowercase();
    let mut out = vec![s.clone()];
    if let Some(base) = s.strip_suffix("_hazy") {
        out.push(format!("{base}_gt"));
    }
    if let Some((id, _)) = s.split_once('_') {
        if !id.is_empty() {
            out.push(id.to_string());
        }
    }
    out.dedup();
    out
}

/// The images of a clear folder and its subfolders, found by relative path and by the name
/// rule.
#[derive(Debug, Default)]
pub struct ClearIndex {
    root: PathBuf,
    /// (relative parent folder, lower-cased stem) → the first such file by name.
    by_stem: HashMap<(PathBuf, String), PathBuf>,
}

impl ClearIndex {
    /// Lists `dir` and its subfolders once; the error names the folder.
    pub fn new(dir: &Path) -> Result<Self, String> {
        if !dir.is_dir() {
            return Err(format!("{}: not a folder", dir.display()));
        }
        let mut index = ClearIndex {
            root: dir.to_path_buf(),
            by_stem: HashMap::new(),
        };
        let mut pending = vec![dir.to_path_buf()];
        while let Some(d) = pending.pop() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&d)
                .map_err(|e| format!("{}: cannot list folder: {e}", d.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            // Sorted, so that of `a.jpg` and `a.png` the same one is always chosen.
            entries.sort();
            for p in entries {
                if p.is_dir() {
                    pending.push(p);
                } else if has_image_extension(&p) {
                    let rel = p.strip_prefix(dir).unwrap_or(&p);
                    let parent = rel.parent().map(Path::to_path_buf).unwrap_or_default();
                    let stem = file_stem(rel).to_lowercase();
                    index.by_stem.entry((parent, stem)).or_insert(p);
                }
            }
        }
        Ok(index)
    }

    /// The clear image of the hazy file at `relative` (its path relative to the hazy folder or
    /// operand), if any: the same relative path, else the name rule in the same relative
    /// folder.
    pub fn find(&self, relative: &Path) -> Option<PathBuf> {
        let exact = self.root.join(relative);
        if exact.is_file() {
            return Some(exact);
        }
        let parent = relative.parent().map(Path::to_path_buf).unwrap_or_default();
        clear_stems(&file_stem(relative))
            .into_iter()
            .find_map(|stem| self.by_stem.get(&(parent.clone(), stem)).cloned())
    }
}

/// A hazy/clear file pair of a pair folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairPaths {
    pub hazy: PathBuf,
    pub clear: PathBuf,
}

/// The pairs of a pair folder, sorted by the hazy file's name (module docs for the layouts).
///
/// Every hazy image must have a clear one: a hazy file without is an error naming it (a
/// training or evaluation set with a missing ground truth is a data problem, not something to
/// skip silently), and so is a folder without any pair.
pub fn pair_folder(dir: &Path) -> Result<Vec<PairPaths>, String> {
    if !dir.is_dir() {
        return Err(format!("{}: not a folder", dir.display()));
    }
    let (hazy_dir, clear_dir) = (dir.join("hazy"), dir.join("clear"));
    let mut pairs = Vec::new();
    if hazy_dir.is_dir() && clear_dir.is_dir() {
        let clear = ClearIndex::new(&clear_dir)?;
        for hazy in list_images(&hazy_dir)? {
            let name = Path::new(hazy.file_name().expect("a listed file has a name"));
            let Some(c) = clear.find(name) else {
                return Err(format!(
                    "{}: no clear image for it in {} (looked for the stems {})",
                    hazy.display(),
                    clear_dir.display(),
                    clear_stems(&file_stem(&hazy)).join(", ")
                ));
            };
            pairs.push(PairPaths { hazy, clear: c });
        }
    } else {
        // Side by side: the folder and its direct subfolders, one pool of files by stem.
        let mut files = list_images(dir)?;
        let mut subs: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| format!("{}: cannot list folder: {e}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect();
        subs.sort();
        for s in subs {
            files.extend(list_images(&s)?);
        }
        let mut by_stem: HashMap<String, PathBuf> = HashMap::new();
        for f in &files {
            by_stem
                .entry(file_stem(f).to_lowercase())
                .or_insert_with(|| f.clone());
        }
        for hazy in files.iter().filter(|f| is_marked_hazy(f)) {
            let found = clear_stems(&file_stem(hazy))
                .into_iter()
                .skip(1) // the hazy file's own stem
                .find_map(|s| by_stem.get(&s).cloned());
            let Some(c) = found else {
                return Err(format!(
                    "{}: no clear image beside it (looked for `{}.*`)",
                    hazy.display(),
                    clear_stems(&file_stem(hazy))[1]
                ));
            };
            pairs.push(PairPaths {
                hazy: hazy.clone(),
                clear: c,
            });
        }
    }
    if pairs.is_empty() {
        return Err(format!(
            "{}: no pairs found (expected hazy/ + clear/ folders, or *_hazy.* + *_GT.* files)",
            dir.display()
        ));
    }
    // By file name (then path): side-by-side pairs from several subfolders interleave by scene.
    pairs.sort_by(|a, b| (a.hazy.file_name(), &a.hazy).cmp(&(b.hazy.file_name(), &b.hazy)));
    Ok(pairs)
}

/// A file named `<base>_hazy.*`: the hazy half of a side-by-side pair.
fn is_marked_hazy(path: &Path) -> bool {
    file_stem(path).to_lowercase().ends_with("_hazy")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"x").unwrap();
    }

    #[test]
    fn the_name_rule() {
        assert_eq!(clear_stems("05"), ["05"]);
        assert_eq!(clear_stems("0001_0.8_0.1"), ["0001_0.8_0.1", "0001"]);
        assert_eq!(
            clear_stems("01_outdoor_hazy"),
            ["01_outdoor_hazy", "01_outdoor_gt", "01"]
        );
        assert_eq!(clear_stems("_x"), ["_x"]);
    }

    #[test]
    fn clear_index_matches_by_name_then_by_rule() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for f in [
            "05.png",
            "07.jpg",
            "07.png",
            "sub/x.png",
            "notes.txt",
            "0001.png",
            "02_GT.png",
        ] {
            touch(&d.join(f));
        }
        let index = ClearIndex::new(d).unwrap();
        let find = |rel: &str| index.find(Path::new(rel));
        assert_eq!(find("05.png"), Some(d.join("05.png")));
        assert_eq!(find("05.jpg"), Some(d.join("05.png")));
        assert_eq!(find("07.png"), Some(d.join("07.png")));
        assert_eq!(find("07.tif"), Some(d.join("07.jpg")));
        assert_eq!(find("sub/x.jpg"), Some(d.join("sub/x.png")));
        assert_eq!(find("0001_0.8_0.1.jpg"), Some(d.join("0001.png")));
        assert_eq!(find("02_hazy.jpg"), Some(d.join("02_GT.png")));
        assert_eq!(find("x.jpg"), None);
        assert_eq!(find("notes.png"), None);
        assert!(ClearIndex::new(&d.join("05.png")).is_err());
    }

    #[test]
    fn pair_folders_in_both_layouts() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("SOTS");
        for f in [
            "hazy/0001_0.8_0.1.png",
            "hazy/0001_0.9_0.2.png",
            "hazy/0007_heavy.png",
            "clear/0001.png",
            "clear/0007_heavy.png",
        ] {
            touch(&d.join(f));
        }
        let p = pair_folder(&d).unwrap();
        let clear: Vec<_> = p.iter().map(|p| p.clear.clone()).collect();
        assert_eq!(
            clear,
            [
                d.join("clear/0001.png"),
                d.join("clear/0001.png"),
                d.join("clear/0007_heavy.png")
            ]
        );
        touch(&d.join("hazy/0009_1.png"));
        let e = pair_folder(&d).unwrap_err();
        assert!(
            e.contains("0009_1.png") && e.contains("no clear image"),
            "{e}"
        );

        let o = t.path().join("O-HAZE");
        for f in [
            "hazy/01_outdoor_hazy.png",
            "GT/01_outdoor_GT.png",
            "02_outdoor_hazy.png",
            "02_outdoor_GT.png",
        ] {
            touch(&o.join(f));
        }
        let p = pair_folder(&o).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].clear, o.join("GT/01_outdoor_GT.png"));
        assert_eq!(p[1].clear, o.join("02_outdoor_GT.png"));

        let empty = t.path().join("empty");
        std::fs::create_dir_all(&empty).unwrap();
        assert!(pair_folder(&empty).unwrap_err().contains("no pairs found"));
    }
}
