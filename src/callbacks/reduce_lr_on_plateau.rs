//! `ReduceLROnPlateau`: lower the learning rate when a metric has stopped improving, as Keras
//! 3's `keras/src/callbacks/reduce_lr_on_plateau.py`.

use super::monitor::Monitor;
use super::{Callback, CallbackContext, Logs};
use crate::{Error, Result};

/// Multiplies the learning rate by `factor` once `monitor` has not improved for `patience`
/// epochs, then waits `cooldown` epochs; never below `min_lr`. Adds `learning_rate` to the
/// epoch's logs (so the History has it).
///
/// ```
/// use keras::callbacks::ReduceLROnPlateau;
/// let mut reduce = ReduceLROnPlateau::new().factor(0.5).patience(3);
/// // model.fit(&x, &y, FitArgs { callbacks: vec![&mut reduce], ..Default::default() })?;
/// ```
pub struct ReduceLROnPlateau {
    monitor: Monitor,
    factor: f64,
    patience: usize,
    verbose: u8,
    cooldown: usize,
    min_lr: f64,
    /// Epochs left before watching again.
    pub cooldown_counter: usize,
    /// Epochs since the last improvement.
    pub wait: usize,
    /// The best monitored value so far.
    pub best: Option<f64>,
}

impl Default for ReduceLROnPlateau {
    fn default() -> Self {
        Self::new()
    }
}

impl ReduceLROnPlateau {
    /// Keras's defaults: monitor `val_loss`, factor 0.1, patience 10, mode `auto`,
    /// `min_delta` 1e-4, cooldown 0, `min_lr` 0.
    pub fn new() -> Self {
        ReduceLROnPlateau {
            monitor: Monitor::new("val_loss", "auto", 1e-4),
            factor: 0.1,
            patience: 10,
            verbose: 0,
            cooldown: 0,
            min_lr: 0.0,
            cooldown_counter: 0,
            wait: 0,
            best: None,
        }
    }
    /// The quantity to watch.
    pub fn monitor(mut self, monitor: &str) -> Self {
        self.monitor.monitor = monitor.to_string();
        self
    }
    /// The factor the learning rate is multiplied by (in (0, 1)).
    pub fn factor(mut self, factor: f64) -> Self {
        self.factor = factor;
        self
    }
    /// Epochs without improvement before lowering the rate.
    pub fn patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }
    /// 1 prints each reduction.
    pub fn verbose(mut self, verbose: u8) -> Self {
        self.verbose = verbose;
        self
    }
    /// `auto`, `min` or `max`.
    pub fn mode(mut self, mode: &str) -> Self {
        self.monitor.mode = mode.to_string();
        self
    }
    /// The smallest change that counts as an improvement.
    pub fn min_delta(mut self, min_delta: f64) -> Self {
        self.monitor.min_delta = min_delta;
        self
    }
    /// Epochs to wait after a reduction before watching again.
    pub fn cooldown(mut self, cooldown: usize) -> Self {
        self.cooldown = cooldown;
        self
    }
    /// The lowest learning rate.
    pub fn min_lr(mut self, min_lr: f64) -> Self {
        self.min_lr = min_lr;
        self
    }
}

impl Callback for ReduceLROnPlateau {
    fn on_train_begin(&mut self, _logs: &mut Logs, _ctx: &mut CallbackContext) -> Result<()> {
        // NaN fails every range check below.
        if self.factor >= 1.0 {
            return Err(Error::value(format!(
                "ReduceLROnPlateau does not support a factor >= 1.0. Received factor={}",
                self.factor
            )));
        }
        if self.factor.is_nan() || self.factor <= 0.0 {
            return Err(Error::value(format!(
                "ReduceLROnPlateau needs a factor > 0. Received factor={}",
                self.factor
            )));
        }
        if self.min_lr.is_nan() || self.min_lr < 0.0 {
            return Err(Error::value(format!(
                "ReduceLROnPlateau needs min_lr >= 0. Received min_lr={}",
                self.min_lr
            )));
        }
        self.monitor.check("ReduceLROnPlateau")?;
        self.best = None;
        self.cooldown_counter = 0;
        self.wait = 0;
        Ok(())
    }

    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        ctx: &mut CallbackContext,
    ) -> Result<()> {
        self.monitor.direction(ctx.model, "ReduceLROnPlateau")?;
        let Some(opt) = ctx.model.optimizer() else {
            return Ok(());
        };
        // The float32 variable's value, widened, as Keras logs it.
        logs.insert("learning_rate", opt.get_learning_rate() as f32 as f64);
        let Some(current) = self.monitor.value(logs, "Learning rate reduction is") else {
            return Ok(());
        };
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.wait = 0;
        }
        if self.monitor.is_improvement(current, self.best) {
            self.best = Some(current);
            self.wait = 0;
        } else if self.cooldown_counter == 0 {
            self.wait += 1;
            if self.wait >= self.patience {
                let Some(opt) = ctx.model.optimizer() else {
                    return Ok(());
                };
                let old_lr = opt.get_learning_rate() as f32 as f64;
                if old_lr > self.min_lr as f32 as f64 {
                    let new_lr = (old_lr * self.factor).max(self.min_lr);
                    opt.try_set_learning_rate(new_lr)?;
                    if self.verbose > 0 {
                        println!(
                            "\nEpoch {}: ReduceLROnPlateau reducing learning rate to {}.",
                            epoch + 1,
                            super::logs::py_float(new_lr)
                        );
                    }
                    self.cooldown_counter = self.cooldown;
                    self.wait = 0;
                }
            }
        }
        Ok(())
    }
}
