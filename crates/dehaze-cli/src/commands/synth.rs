//! `dehaze synth`: make hazy/clear training pairs from a folder of clean images.
//!
//! ```text
//! dehaze synth --clean DIR [--depth DIR [--depth-kind disparity|depth]] --out DIR
//!              [--per-image K] [--config FILE] [--seed S] [--jobs N] [--save-transmission]
//! ```
//!
//! * `--clean DIR`: the clean images (PNG, JPEG, TIFF, WebP, BMP; not recursive). They are
//!   numbered in file-name order; sample `(i, k)` depends only on `(seed, i, k)`.
//! * `--depth DIR`: a flat folder of depth or disparity maps named like the clean images
//!   (same file stem, any image extension; e.g. `shared/data/depth/middlebury/depth` for
//!   `…/middlebury/rgb`). 0 (and 65535 for depth) marks unknown pixels, which are filled. The
//!   maps' scale factors (e.g. Middlebury's per-file `disp_scale`) are not needed: depth is
//!   normalised to `[0, 1]`, which cancels them. An image without a map, or every image when
//!   `--depth` is absent, gets the pseudo-depth heuristic (`depth_source = pseudo` in the CSV).
//! * Output: `OUT/hazy/<stem>_<k>.png` and `OUT/clear/<stem>_<k>.png` (pairs share a name;
//!   8-bit PNG), optionally `OUT/transmission/<stem>_<k>.png` (16-bit grey), `OUT/params.csv`
//!   (one row per pair: file names, then everything that was drawn) and `OUT/synth_config.toml`
//!   (the effective config, seed included). All files are written atomically.
//!
//! A file that cannot be read or hazed is reported (`FILE: reason`) and skipped; the exit code
//! is then 1. A bad config, or an unusable `--clean`/`--out`, is an error (exit code 2).

use crate::progress;
use anyhow::{bail, Context};
use dehaze_core::io::{self, Decoded, ReadOptions, SourceInfo, WriteOptions};
use dehaze_core::synth::depth_maps::{load_normalised_depth, DepthEncoding, DepthFormat};
use dehaze_core::synth::record::{csv_field, write_text_atomic};
use dehaze_core::synth::{SynthConfig, SynthParams, Synthesizer};
use dehaze_core::{Plane, RgbImage};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

/// What the depth maps hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DepthKind {
    /// Stereo disparity (depth ∝ 1/disparity), 0 = unknown.
    Disparity,
    /// Depth (any unit), 0 and 65535 = unknown.
    Depth,
}

/// Make hazy/clear training pairs from clean images (multi-factor haze synthesis).
#[derive(Debug, clap::Args)]
pub struct SynthArgs {
    /// Folder of clean images.
    #[arg(long, value_name = "DIR")]
    pub clean: PathBuf,

    /// Folder of depth or disparity maps with the same file stems as the clean images
    /// (without it, or for an image without a map, a pseudo-depth heuristic is used).
    #[arg(long, value_name = "DIR")]
    pub depth: Option<PathBuf>,

    /// What the maps in --depth hold.
    #[arg(long, value_enum, default_value_t = DepthKind::Disparity)]
    pub depth_kind: DepthKind,

    /// Output folder (hazy/, clear/, params.csv are created in it).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Hazy versions per clean image.
    #[arg(long, value_name = "K", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub per_image: u32,

    /// Synthesis config (TOML; see configs/synth.toml). Default: the built-in defaults.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Master seed (overrides the config's `seed`).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,

    /// Worker threads (default: all cores). The output does not depend on it.
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,

    /// Also write the transmission map of each pair to OUT/transmission/.
    #[arg(long)]
    pub save_transmission: bool,
}

/// Clean images of `dir` (files with an image extension), sorted by name.
fn list_images(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot list folder", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && io::has_image_extension(p))
        .collect();
    files.sort();
    Ok(files)
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// An 8-bit RGB image to write (whatever the source's depth or channels were).
fn eight_bit(rgb: RgbImage, source: &SourceInfo) -> Decoded {
    Decoded {
        rgb,
        alpha: None,
        info: SourceInfo {
            grey: false,
            bit_depth: 8,
            ..source.clone()
        },
    }
}

/// Makes the `per_image` pairs of one clean image; returns their CSV rows.
fn process(
    index: usize,
    clean_path: &Path,
    depth_path: Option<&Path>,
    args: &SynthArgs,
    synth: &Synthesizer,
) -> Result<Vec<String>, String> {
    let clean = io::read_image(clean_path, &ReadOptions::default()).map_err(|e| e.reason)?;
    let depth: Option<Plane> = match depth_path {
        Some(p) => {
            let encoding = match args.depth_kind {
                DepthKind::Disparity => DepthEncoding::Disparity,
                DepthKind::Depth => DepthEncoding::Depth,
            };
            let d = load_normalised_depth(p, &DepthFormat::generic(encoding))
                .map_err(|e| format!("depth map {e}"))?;
            Some(d)
        }
        None => None,
    };
    let name = stem(clean_path);
    let mut rows = Vec::new();
    for k in 0..args.per_image as u64 {
        let s = synth
            .synthesize(&clean.rgb, depth.as_ref(), index as u64, k)
            .map_err(|e| match depth_path {
                Some(p) => format!("{e} (depth map {})", p.display()),
                None => e.to_string(),
            })?;
        let file = format!("{name}_{k}.png");
        let opts = WriteOptions::default();
        let write = |dir: &str, img: RgbImage| {
            io::write_image(
                &args.out.join(dir).join(&file),
                &eight_bit(img, &clean.info),
                &opts,
            )
            .map_err(|e| e.to_string())
        };
        write("hazy", s.hazy)?;
        write("clear", s.clear)?;
        if args.save_transmission {
            let p = args.out.join("transmission").join(&file);
            io::write_plane(&p, &s.transmission, true, &opts).map_err(|e| e.to_string())?;
        }
        rows.push(format!(
            "{},{file},{file},{}",
            csv_field(&clean_path.file_name().unwrap_or_default().to_string_lossy()),
            s.params.to_csv_row()
        ));
    }
    Ok(rows)
}

/// Runs `dehaze synth`. Errors (exit code 2 in `main`) are usage problems; per-file failures
/// are printed and give exit code 1.
pub fn run(args: &SynthArgs) -> anyhow::Result<ExitCode> {
    let mut config = match &args.config {
        Some(p) => SynthConfig::from_file(p)?,
        None => SynthConfig::default(),
    };
    if let Some(seed) = args.seed {
        config.seed = seed;
    }
    let synth = Synthesizer::new(config.clone())?;

    if !args.clean.is_dir() {
        bail!("--clean {}: not a folder", args.clean.display());
    }
    let files = list_images(&args.clean)?;
    if files.is_empty() {
        bail!("--clean {}: no images found", args.clean.display());
    }
    // Two inputs with the same stem would write the same outputs.
    let mut seen: BTreeMap<String, &Path> = BTreeMap::new();
    for f in &files {
        if let Some(prev) = seen.insert(stem(f), f) {
            bail!(
                "{} and {} have the same name stem; outputs would collide",
                prev.display(),
                f.display()
            );
        }
    }
    let depth_maps: BTreeMap<String, PathBuf> = match &args.depth {
        Some(d) => {
            if !d.is_dir() {
                bail!("--depth {}: not a folder", d.display());
            }
            list_images(d)?.into_iter().map(|p| (stem(&p), p)).collect()
        }
        None => BTreeMap::new(),
    };
    if let Some(d) = &args.depth {
        if args.clean.canonicalize().ok() == d.canonicalize().ok() {
            bail!("--depth and --clean are the same folder");
        }
    }
    let mut dirs = vec!["hazy", "clear"];
    if args.save_transmission {
        dirs.push("transmission");
    }
    for d in dirs {
        let p = args.out.join(d);
        std::fs::create_dir_all(&p).with_context(|| format!("{}: cannot create", p.display()))?;
    }

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .build()?;
    let pb = progress::bar(files.len(), "synthesising");
    let missing_depth = Mutex::new(Vec::new());
    let results: Vec<Result<Vec<String>, ()>> = pool.install(|| {
        files
            .par_iter()
            .enumerate()
            .map(|(i, f)| {
                let depth = depth_maps.get(&stem(f)).map(PathBuf::as_path);
                if args.depth.is_some() && depth.is_none() {
                    if let Ok(mut m) = missing_depth.lock() {
                        m.push(f.clone());
                    }
                }
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    process(i, f, depth, args, &synth)
                }))
                .unwrap_or_else(|_| Err("internal error (panic); please report".into()));
                pb.inc(1);
                r.map_err(|e| progress::report(&pb, &format!("dehaze synth: {}: {e}", f.display())))
            })
            .collect()
    });
    pb.finish_and_clear();

    let mut missing = missing_depth.into_inner().unwrap_or_default();
    missing.sort();
    for f in &missing {
        eprintln!(
            "dehaze synth: note: no depth map for {}, used pseudo-depth",
            f.display()
        );
    }
    let failed = results.iter().filter(|r| r.is_err()).count();
    let mut csv = format!("source,hazy,clear,{}\n", SynthParams::CSV_HEADER);
    for rows in results.into_iter().flatten() {
        for r in rows {
            csv.push_str(&r);
            csv.push('\n');
        }
    }
    write_text_atomic(&args.out.join("params.csv"), &csv)?;
    write_text_atomic(
        &args.out.join("synth_config.toml"),
        &format!(
            "# Effective config of this `dehaze synth` run.\n{}",
            config.to_toml_string()
        ),
    )?;
    let done = files.len() - failed;
    eprintln!(
        "dehaze synth: {} pairs from {done} of {} images in {}",
        done * args.per_image as usize,
        files.len(),
        args.out.display()
    );
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes a small procedural RGB PNG.
    fn write_scene(path: &Path, w: u32, h: u32, phase: f32) {
        let img = image::RgbImage::from_fn(w, h, |x, y| {
            let v = |c: f32| {
                (127.0 + 100.0 * ((x as f32 * 0.2 + phase) + y as f32 * 0.1 * c).sin()) as u8
            };
            image::Rgb([v(1.0), v(2.0), v(3.0)])
        });
        img.save(path).unwrap();
    }

    fn args(clean: &Path, depth: Option<&Path>, out: &Path, jobs: usize) -> SynthArgs {
        SynthArgs {
            clean: clean.to_path_buf(),
            depth: depth.map(Path::to_path_buf),
            depth_kind: DepthKind::Disparity,
            out: out.to_path_buf(),
            per_image: 2,
            config: None,
            seed: Some(5),
            jobs: Some(jobs),
            save_transmission: true,
        }
    }

    fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut v = Vec::new();
        for sub in ["hazy", "clear", "transmission"] {
            for f in list_images(&dir.join(sub)).unwrap() {
                v.push((format!("{sub}/{}", stem(&f)), std::fs::read(&f).unwrap()));
            }
        }
        v.push((
            "params".into(),
            std::fs::read(dir.join("params.csv")).unwrap(),
        ));
        v
    }

    #[test]
    fn writes_pairs_and_is_independent_of_jobs() {
        let tmp = tempfile::tempdir().unwrap();
        let (clean, depth) = (tmp.path().join("clean"), tmp.path().join("depth"));
        std::fs::create_dir_all(&clean).unwrap();
        std::fs::create_dir_all(&depth).unwrap();
        for (i, name) in ["a", "b", "c"].iter().enumerate() {
            write_scene(&clean.join(format!("{name}.png")), 40, 30, i as f32);
        }
        // Disparity for `a` only (bottom rows near = large disparity, with holes).
        image::GrayImage::from_fn(40, 30, |x, y| {
            image::Luma([if x == 3 { 0 } else { 20 + y as u8 * 4 }])
        })
        .save(depth.join("a.png"))
        .unwrap();
        let (o1, o2) = (tmp.path().join("o1"), tmp.path().join("o2"));
        assert_eq!(
            run(&args(&clean, Some(&depth), &o1, 1)).unwrap(),
            ExitCode::SUCCESS
        );
        assert_eq!(
            run(&args(&clean, Some(&depth), &o2, 2)).unwrap(),
            ExitCode::SUCCESS
        );
        let t1 = tree(&o1);
        assert_eq!(t1, tree(&o2));
        assert_eq!(t1.len(), 3 * 6 + 1);
        let csv = String::from_utf8(std::fs::read(o1.join("params.csv")).unwrap()).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 7);
        assert!(
            lines[1].starts_with("a.png,a_0.png,a_0.png,0,0,map,"),
            "{}",
            lines[1]
        );
        assert!(lines[3].contains(",pseudo,"), "{}", lines[3]);
        let cfg = SynthConfig::from_file(&o1.join("synth_config.toml")).unwrap();
        assert_eq!(cfg.seed, 5);
    }

    #[test]
    fn a_bad_file_is_reported_and_the_batch_continues() {
        let tmp = tempfile::tempdir().unwrap();
        let clean = tmp.path().join("clean");
        std::fs::create_dir_all(&clean).unwrap();
        write_scene(&clean.join("good.png"), 24, 20, 0.0);
        std::fs::write(clean.join("bad.png"), b"not an image").unwrap();
        let out = tmp.path().join("out");
        assert_eq!(
            run(&args(&clean, None, &out, 2)).unwrap(),
            ExitCode::from(1)
        );
        assert!(out.join("hazy/good_1.png").is_file());
        assert!(!out.join("hazy/bad_0.png").exists());
        let csv = std::fs::read_to_string(out.join("params.csv")).unwrap();
        assert_eq!(csv.lines().count(), 3);
    }

    #[test]
    fn bad_config_and_folders_are_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let clean = tmp.path().join("clean");
        std::fs::create_dir_all(&clean).unwrap();
        let out = tmp.path().join("out");
        let e = run(&args(&clean, None, &out, 1)).unwrap_err().to_string();
        assert!(e.contains("no images"), "{e}");
        write_scene(&clean.join("x.png"), 8, 8, 0.0);
        let cfg = tmp.path().join("bad.toml");
        std::fs::write(&cfg, "[jpeg]\nquality = [10, 200]\n").unwrap();
        let mut a = args(&clean, None, &out, 1);
        a.config = Some(cfg);
        let e = run(&a).unwrap_err().to_string();
        assert!(e.contains("jpeg.quality"), "{e}");
        let e = run(&args(&tmp.path().join("nope"), None, &out, 1))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a folder"), "{e}");
    }
}
