//! The metrics log `metrics.csv`: one row per `train.log_interval` iterations (mean losses
//! over the interval, learning rate, speed) and one per validation (PSNR, SSIM).
//!
//! Rows are appended and flushed as they come, so the file can be followed during a run. On
//! `--resume` the rows after the checkpoint's iteration (written by the interrupted run after
//! its last checkpoint) are dropped and the file is rewritten atomically, so the log of a
//! resumed run reads as that of an uninterrupted one.

use std::io::Write;
use std::path::{Path, PathBuf};

/// One row; the validation columns are empty on training rows and vice versa.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Row {
    pub iteration: u64,
    pub lr: Option<f64>,
    pub loss: Option<f64>,
    pub reconstruction: Option<f64>,
    pub density: Option<f64>,
    /// The weighted contrastive terms (MNCD, Gaussian perceptual), 0 when unused.
    pub contrastive: Option<f64>,
    /// The weighted adaptation terms (`[adapt]`), empty outside that stage.
    pub adapt: Option<f64>,
    pub it_per_s: Option<f64>,
    pub val_psnr: Option<f64>,
    pub val_ssim: Option<f64>,
}

const HEADER: &str =
    "iteration,lr,loss,reconstruction,density,contrastive,it_per_s,val_psnr,val_ssim,adapt";

fn cell(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.6e}")).unwrap_or_default()
}

impl Row {
    fn to_csv(&self) -> String {
        format!(
            "{},{},{},{},{},{},{},{},{},{}",
            self.iteration,
            cell(self.lr),
            cell(self.loss),
            cell(self.reconstruction),
            cell(self.density),
            cell(self.contrastive),
            cell(self.it_per_s),
            cell(self.val_psnr),
            cell(self.val_ssim),
            cell(self.adapt)
        )
    }

    fn from_csv(line: &str) -> Option<Self> {
        // Logs written before the `adapt` column have nine fields.
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 9 && f.len() != 10 {
            return None;
        }
        let num = |s: &str| -> Option<Option<f64>> {
            if s.is_empty() {
                Some(None)
            } else {
                s.parse().ok().map(Some)
            }
        };
        Some(Self {
            iteration: f[0].parse().ok()?,
            lr: num(f[1])?,
            loss: num(f[2])?,
            reconstruction: num(f[3])?,
            density: num(f[4])?,
            contrastive: num(f[5])?,
            it_per_s: num(f[6])?,
            val_psnr: num(f[7])?,
            val_ssim: num(f[8])?,
            adapt: match f.get(9) {
                Some(s) => num(s)?,
                None => None,
            },
        })
    }
}

/// The open log.
#[derive(Debug)]
pub struct MetricsLog {
    path: PathBuf,
    file: std::fs::File,
    rows: Vec<Row>,
}

fn ioerr(path: &Path, e: impl std::fmt::Display) -> String {
    format!("{}: {e}", path.display())
}

impl MetricsLog {
    /// Starts a new log (replacing any old one), or, with `resume_at`, keeps the rows of an
    /// existing log up to that iteration.
    pub fn open(path: &Path, resume_at: Option<u64>) -> Result<Self, String> {
        let mut rows = Vec::new();
        if let Some(it) = resume_at {
            if let Ok(text) = std::fs::read_to_string(path) {
                rows = text
                    .lines()
                    .skip(1)
                    .filter_map(Row::from_csv)
                    .filter(|r| r.iteration <= it)
                    .collect();
            }
        }
        let mut text = format!("{HEADER}\n");
        for r in &rows {
            text.push_str(&r.to_csv());
            text.push('\n');
        }
        crate::dhr::write_atomic(path, text.as_bytes()).map_err(|e| e.to_string())?;
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| ioerr(path, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
            rows,
        })
    }

    /// Appends a row.
    pub fn push(&mut self, row: Row) -> Result<(), String> {
        writeln!(self.file, "{}", row.to_csv())
            .and_then(|_| self.file.flush())
            .map_err(|e| ioerr(&self.path, e))?;
        self.rows.push(row);
        Ok(())
    }

    pub fn rows(&self) -> &[Row] {
        &self.rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_and_resume_drops_later_rows() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("metrics.csv");
        let mut log = MetricsLog::open(&p, None).unwrap();
        for it in [10, 20, 30] {
            log.push(Row {
                iteration: it,
                lr: Some(1e-4),
                loss: Some(0.5 / it as f64),
                ..Default::default()
            })
            .unwrap();
        }
        log.push(Row {
            iteration: 20,
            val_psnr: Some(21.5),
            val_ssim: Some(0.8),
            ..Default::default()
        })
        .unwrap();
        drop(log);
        let log = MetricsLog::open(&p, Some(20)).unwrap();
        assert_eq!(log.rows().len(), 3);
        assert_eq!(log.rows()[2].val_psnr, Some(21.5));
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(text.lines().count(), 4);
        assert!(text.starts_with(HEADER));
        let fresh = MetricsLog::open(&p, None).unwrap();
        assert!(fresh.rows().is_empty());
    }
}
