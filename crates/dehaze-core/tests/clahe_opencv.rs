//! CLAHE against OpenCV's (`cv::createCLAHE(clip, grid)->apply`), bit for bit.
//!
//! The fixture in `tests/fixtures/clahe/` was written by `tools/clahe_reference.py` (OpenCV's
//! Python package; regenerate with the commands in its doc string): inputs whose sizes do and
//! do not divide the tile grid (OpenCV pads those by reflection), a low-contrast plane where the
//! clip limit binds, a natural image, and a case without clipping.

use std::path::PathBuf;

use dehaze_core::filters::clahe::Clahe;

fn grey(path: &PathBuf) -> (Vec<u8>, usize, usize) {
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_luma8();
    let (w, h) = (img.width() as usize, img.height() as usize);
    (img.into_raw(), w, h)
}

#[test]
fn clahe_matches_opencv_bit_for_bit() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/clahe");
    let cases = std::fs::read_to_string(dir.join("cases.txt")).unwrap();
    let mut n = 0;
    for line in cases.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (src, w, h) = grey(&dir.join(format!("{}.png", f[0])));
        let clahe = Clahe {
            clip_limit: f[1].parse().unwrap(),
            grid: (f[2].parse().unwrap(), f[3].parse().unwrap()),
        };
        let (want, ..) = grey(&dir.join(f[4]));
        let got = clahe.apply_u8(&src, w, h);
        let differ = got.iter().zip(&want).filter(|(a, b)| a != b).count();
        assert_eq!(differ, 0, "{line}: {differ} of {} pixels differ", w * h);
        n += 1;
    }
    assert_eq!(n, 16, "cases.txt lists {n} cases");
}
