//! `EarlyStopping`: stop training when a monitored quantity has stopped improving, as Keras 3's
//! `keras/src/callbacks/early_stopping.py`.

use super::monitor::Monitor;
use super::{Callback, CallbackContext, Logs};
use crate::ops::Tensor;
use crate::{Error, Result};

/// Stops `fit` once `monitor` has not improved for `patience` epochs; with
/// `restore_best_weights`, puts back the weights of the best epoch at the end.
///
/// ```
/// use keras::callbacks::EarlyStopping;
/// let mut stop = EarlyStopping::new().monitor("val_loss").patience(5).restore_best_weights(true);
/// // model.fit(&x, &y, FitArgs { callbacks: vec![&mut stop], ..Default::default() })?;
/// assert_eq!(stop.stopped_epoch, 0);
/// ```
pub struct EarlyStopping {
    monitor: Monitor,
    patience: usize,
    verbose: u8,
    baseline: Option<f64>,
    restore_best_weights: bool,
    start_from_epoch: usize,
    /// Epochs since the last improvement.
    pub wait: usize,
    /// The epoch (0-based) at which training was stopped; 0 if it was not.
    pub stopped_epoch: usize,
    /// The best monitored value so far.
    pub best: Option<f64>,
    /// The epoch (0-based) of the best value.
    pub best_epoch: usize,
    best_weights: Option<Vec<Tensor>>,
}

impl Default for EarlyStopping {
    fn default() -> Self {
        Self::new()
    }
}

impl EarlyStopping {
    /// Keras's defaults: monitor `val_loss`, `min_delta` 0, `patience` 0, mode `auto`.
    pub fn new() -> Self {
        EarlyStopping {
            monitor: Monitor::new("val_loss", "auto", 0.0),
            patience: 0,
            verbose: 0,
            baseline: None,
            restore_best_weights: false,
            start_from_epoch: 0,
            wait: 0,
            stopped_epoch: 0,
            best: None,
            best_epoch: 0,
            best_weights: None,
        }
    }
    /// The quantity to watch.
    pub fn monitor(mut self, monitor: &str) -> Self {
        self.monitor.monitor = monitor.to_string();
        self
    }
    /// The smallest change that counts as an improvement.
    pub fn min_delta(mut self, min_delta: f64) -> Self {
        self.monitor.min_delta = min_delta;
        self
    }
    /// Epochs without improvement after which training stops.
    pub fn patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }
    /// 1 prints when training stops and when weights are restored.
    pub fn verbose(mut self, verbose: u8) -> Self {
        self.verbose = verbose;
        self
    }
    /// `auto`, `min` or `max`.
    pub fn mode(mut self, mode: &str) -> Self {
        self.monitor.mode = mode.to_string();
        self
    }
    /// A value the monitored quantity must beat; training stops if it does not within
    /// `patience` epochs.
    pub fn baseline(mut self, baseline: f64) -> Self {
        self.baseline = Some(baseline);
        self
    }
    /// Restore the weights of the best epoch when training ends.
    pub fn restore_best_weights(mut self, restore: bool) -> Self {
        self.restore_best_weights = restore;
        self
    }
    /// Epochs to wait before watching (a warm-up).
    pub fn start_from_epoch(mut self, epoch: usize) -> Self {
        self.start_from_epoch = epoch;
        self
    }
}

impl Callback for EarlyStopping {
    fn on_train_begin(&mut self, _logs: &mut Logs, _ctx: &mut CallbackContext) -> Result<()> {
        self.monitor.check("EarlyStopping")?;
        if let Some(b) = self.baseline.filter(|b| !b.is_finite()) {
            return Err(Error::value(format!(
                "EarlyStopping: `baseline` must be a finite number. Received: baseline={b}"
            )));
        }
        // Instances may be reused across `fit` calls.
        self.wait = 0;
        self.stopped_epoch = 0;
        self.best = None;
        self.best_weights = None;
        self.best_epoch = 0;
        Ok(())
    }

    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        ctx: &mut CallbackContext,
    ) -> Result<()> {
        self.monitor.direction(ctx.model, "EarlyStopping")?;
        let Some(current) = self.monitor.value(logs, "Early stopping") else {
            return Ok(());
        };
        if epoch < self.start_from_epoch {
            return Ok(());
        }
        if self.restore_best_weights && self.best_weights.is_none() {
            // Never set: the current weights are the best.
            self.best_weights = Some(ctx.model.get_weights()?);
            self.best_epoch = epoch;
        }
        self.wait += 1;
        if self.monitor.is_improvement(current, self.best) {
            self.best = Some(current);
            self.best_epoch = epoch;
            if self.restore_best_weights {
                self.best_weights = Some(ctx.model.get_weights()?);
            }
            // Restart the wait only when beating both the baseline and the previous best.
            if self.baseline.is_none() || self.monitor.is_improvement(current, self.baseline) {
                self.wait = 0;
            }
            return Ok(());
        }
        if self.wait >= self.patience && epoch > 0 {
            self.stopped_epoch = epoch;
            ctx.model.stop_training = true;
        }
        Ok(())
    }

    fn on_train_end(&mut self, _logs: &mut Logs, ctx: &mut CallbackContext) -> Result<()> {
        if self.stopped_epoch > 0 && self.verbose > 0 {
            println!("Epoch {}: early stopping", self.stopped_epoch + 1);
        }
        if self.restore_best_weights {
            if let Some(w) = &self.best_weights {
                if self.verbose > 0 {
                    println!(
                        "Restoring model weights from the end of the best epoch: {}.",
                        self.best_epoch + 1
                    );
                }
                ctx.model.set_weights(w)?;
            }
        }
        Ok(())
    }
}
