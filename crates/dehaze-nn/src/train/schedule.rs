//! The learning-rate schedule: linear warm-up, then cosine or step decay.
//!
//! The rate of step `i` (0-based) is a pure function of `i` and the config, so a checkpoint
//! only has to record how many steps were taken to continue the schedule exactly:
//!
//! ```text
//! warm-up (i < W):  lr·(i + 1)/W
//! cosine:           lr_min + (lr − lr_min)·½·(1 + cos(π·(i − W)/(T − W − 1)))   (T steps)
//! step:             lr·γ^⌊(i − W)/S⌋
//! ```
//!
//! The cosine reaches `lr_min` exactly at the last step `i = T − 1`.

use super::config::{ScheduleKind, TrainConfig};

/// A learning-rate schedule over `iterations` steps.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    lr: f64,
    min_lr: f64,
    warmup: u64,
    iterations: u64,
    kind: ScheduleKind,
    step_size: u64,
    gamma: f64,
}

impl Schedule {
    /// The schedule of a (validated) config.
    pub fn from_config(c: &TrainConfig) -> Self {
        Self {
            lr: c.optim.lr,
            min_lr: c.schedule.min_lr,
            warmup: c.schedule.warmup,
            iterations: c.train.iterations,
            kind: c.schedule.kind,
            step_size: c.schedule.step_size.max(1),
            gamma: c.schedule.gamma,
        }
    }

    /// The learning rate of step `i` (0-based).
    pub fn lr(&self, i: u64) -> f64 {
        if i < self.warmup {
            return self.lr * (i + 1) as f64 / self.warmup as f64;
        }
        let k = i - self.warmup;
        match self.kind {
            ScheduleKind::Cosine => {
                let span = self.iterations.saturating_sub(self.warmup + 1);
                if span == 0 {
                    return self.lr;
                }
                let p = (k.min(span) as f64) / span as f64;
                self.min_lr
                    + (self.lr - self.min_lr) * 0.5 * (1.0 + (std::f64::consts::PI * p).cos())
            }
            ScheduleKind::Step => self.lr * self.gamma.powi((k / self.step_size) as i32),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sched(kind: ScheduleKind, warmup: u64, iterations: u64) -> Schedule {
        Schedule {
            lr: 1e-3,
            min_lr: 1e-5,
            warmup,
            iterations,
            kind,
            step_size: 10,
            gamma: 0.5,
        }
    }

    #[test]
    fn warmup_then_cosine_to_min() {
        let s = sched(ScheduleKind::Cosine, 4, 104);
        assert!((s.lr(0) - 2.5e-4).abs() < 1e-12);
        assert!((s.lr(3) - 1e-3).abs() < 1e-12);
        assert!((s.lr(4) - 1e-3).abs() < 1e-12);
        assert!((s.lr(103) - 1e-5).abs() < 1e-12);
        let mid = s.lr(4 + 99 / 2);
        assert!(mid < 1e-3 && mid > 1e-5);
        for i in 4..103 {
            assert!(s.lr(i + 1) <= s.lr(i), "not decreasing at {i}");
        }
    }

    #[test]
    fn step_decay() {
        let s = sched(ScheduleKind::Step, 0, 100);
        assert_eq!(s.lr(0), 1e-3);
        assert_eq!(s.lr(9), 1e-3);
        assert_eq!(s.lr(10), 5e-4);
        assert_eq!(s.lr(25), 2.5e-4);
    }
}
