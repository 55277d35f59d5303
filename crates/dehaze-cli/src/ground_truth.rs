//! `--clear DIR`: finding and reading the ground truth of each hazy input, by the toolkit's
//! pairing rule ([`dehaze_core::pairing::ClearIndex`]). Shared by `dehaze metrics` and
//! `dehaze eval`.

use crate::inputs::Input;
use dehaze_core::io::{self, ReadOptions};
use dehaze_core::metrics::Rgb8;
use dehaze_core::pairing::ClearIndex;
use std::path::{Path, PathBuf};

/// The index of a `--clear DIR` argument, if given; a bad folder is reported on standard
/// error (`Err`: a usage error).
pub fn open_arg(dir: Option<&Path>) -> Result<Option<ClearIndex>, ()> {
    dir.map(ClearIndex::new).transpose().map_err(|e| {
        eprintln!("dehaze: --clear {e}");
    })
}

/// The ground truth of one input.
pub enum Reference {
    /// No `--clear` given.
    NotAsked,
    /// No file of this name in `--clear` (a warning: the full-reference cells stay empty).
    Missing,
    /// Read, as scored (8 bits).
    Found { path: PathBuf, image: Rgb8 },
    /// Found but unreadable (a failure): the reason, naming the file.
    Unreadable(String),
}

/// Finds and reads the ground truth of `input` in `index`.
pub fn reference(index: Option<&ClearIndex>, input: &Input, read: &ReadOptions) -> Reference {
    let Some(index) = index else {
        return Reference::NotAsked;
    };
    match index.find(&input.relative) {
        None => Reference::Missing,
        Some(path) => match io::read_image(&path, read) {
            Ok(d) => Reference::Found {
                image: Rgb8::from_rgb_image(&d.rgb),
                path,
            },
            Err(e) => Reference::Unreadable(format!("ground truth {e}")),
        },
    }
}
