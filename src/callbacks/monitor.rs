//! The "monitor" logic that EarlyStopping, ModelCheckpoint and ReduceLROnPlateau share, as
//! Keras 3's `keras/src/callbacks/monitor_callback.py`: which way is better (`mode`), the
//! smallest change that counts (`min_delta`), and reading the monitored value from the logs.

use super::Logs;
use crate::metrics::Direction;
use crate::models::Model;
use crate::{Error, Result};

/// A monitored quantity: its name, its mode (`auto`, `min`, `max`) and `min_delta`.
#[derive(Clone, Debug)]
pub struct Monitor {
    /// The logs key (`val_loss`, `accuracy`, ...).
    pub monitor: String,
    /// `auto`, `min` or `max`.
    pub mode: String,
    /// Smallest change that counts as an improvement (its absolute value is used).
    pub min_delta: f64,
    direction: Option<Direction>,
    warned: bool,
}

impl Monitor {
    /// Watches `monitor` in `mode` with `min_delta`.
    pub fn new(monitor: &str, mode: &str, min_delta: f64) -> Self {
        Monitor {
            monitor: monitor.to_string(),
            mode: mode.to_string(),
            min_delta,
            direction: None,
            warned: false,
        }
    }

    /// Checks the mode (`who` names the callback in the error) and forgets the direction, at
    /// the start of training.
    pub fn check(&mut self, who: &str) -> Result<()> {
        if !matches!(self.mode.as_str(), "auto" | "min" | "max") {
            return Err(Error::value(format!(
                "{who} mode '{}' is unknown. Expected one of 'auto', 'min', 'max'. Received: mode={}",
                self.mode, self.mode
            )));
        }
        if !self.min_delta.is_finite() {
            return Err(Error::value(format!(
                "{who}: `min_delta` must be a finite number. Received: min_delta={}",
                self.min_delta
            )));
        }
        self.direction = None;
        self.warned = false;
        Ok(())
    }

    /// Which way is better: from the mode, or in `auto` mode from the name (`loss`) or the
    /// model's metric (Keras's `_set_monitor_op`).
    pub fn direction(&mut self, model: &Model, who: &str) -> Result<Direction> {
        if let Some(d) = self.direction {
            return Ok(d);
        }
        let d = match self.mode.as_str() {
            "min" => Direction::Down,
            "max" => Direction::Up,
            _ => {
                let name = self.monitor.strip_prefix("val_").unwrap_or(&self.monitor);
                if name == "loss" || name.ends_with("_loss") {
                    Direction::Down
                } else {
                    model.metric_direction(name).ok_or_else(|| {
                        Error::value(format!(
                            "{who} callback received monitor={}, but Keras isn't able to \
                             automatically determine whether that metric should be maximized \
                             or minimized. Pass `mode='max'` in order to monitor based on the \
                             highest metric value, or pass `mode='min'` in order to use the \
                             lowest value.",
                            self.monitor
                        ))
                    })?
                }
            }
        };
        self.direction = Some(d);
        Ok(d)
    }

    /// Whether `current` beats `reference` by more than `min_delta` (always, with no
    /// reference). Call [`Monitor::direction`] first.
    ///
    /// As Keras: `current -/+ min_delta` in float64, then compared with the reference in
    /// float32 (`ops.less` / `ops.greater` convert Python floats to floatx), so a sum that
    /// rounds to the reference is no improvement.
    pub fn is_improvement(&self, current: f64, reference: Option<f64>) -> bool {
        let Some(r) = reference else { return true };
        let delta = self.min_delta.abs();
        match self.direction.unwrap_or(Direction::Down) {
            Direction::Down => ((current + delta) as f32) < (r as f32),
            Direction::Up => ((current - delta) as f32) > (r as f32),
        }
    }

    /// The monitored value, or `None` with a warning (once) naming the keys there are.
    pub fn value(&mut self, logs: &Logs, what: &str) -> Option<f64> {
        let v = logs.get(&self.monitor);
        if v.is_none() && !self.warned {
            self.warned = true;
            eprintln!(
                "UserWarning: {what} conditioned on metric `{}` which is not available. \
                 Available metrics are: {}",
                self.monitor,
                logs.names().join(",")
            );
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn improvement_respects_mode_and_delta() {
        let mut m = Monitor::new("val_loss", "min", 0.1);
        m.direction = Some(Direction::Down);
        assert!(m.is_improvement(1.0, None));
        assert!(m.is_improvement(0.85, Some(1.0)));
        assert!(!m.is_improvement(0.95, Some(1.0)));
        m.direction = Some(Direction::Up);
        assert!(m.is_improvement(1.2, Some(1.0)));
        assert!(!m.is_improvement(1.05, Some(1.0)));
        assert!(Monitor::new("x", "bogus", 0.0)
            .check("EarlyStopping")
            .is_err());
    }
}
