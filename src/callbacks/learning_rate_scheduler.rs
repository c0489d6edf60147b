//! `LearningRateScheduler`: set the learning rate at the start of each epoch from a function,
//! as Keras 3's `keras/src/callbacks/learning_rate_scheduler.py`.

use super::{Callback, CallbackContext, Logs};
use crate::{Error, Result};

/// Calls `schedule(epoch, current_lr)` at the start of every epoch and sets the optimizer's
/// learning rate to what it returns; adds `learning_rate` to the epoch's logs.
///
/// ```
/// use keras::callbacks::LearningRateScheduler;
/// // Keras's example: keep the rate for 10 epochs, then decay it exponentially.
/// let mut sched = LearningRateScheduler::new(|epoch, lr| if epoch < 10 { lr } else { lr * (-0.1f64).exp() });
/// ```
pub struct LearningRateScheduler {
    schedule: Box<dyn FnMut(usize, f64) -> f64>,
    verbose: u8,
}

impl LearningRateScheduler {
    /// A scheduler from `(epoch, current learning rate) -> new learning rate`.
    pub fn new(schedule: impl FnMut(usize, f64) -> f64 + 'static) -> Self {
        LearningRateScheduler {
            schedule: Box::new(schedule),
            verbose: 0,
        }
    }
    /// 1 prints each new rate.
    pub fn verbose(mut self, verbose: u8) -> Self {
        self.verbose = verbose;
        self
    }
}

impl Callback for LearningRateScheduler {
    fn on_epoch_begin(&mut self, epoch: usize, ctx: &mut CallbackContext) -> Result<()> {
        let opt = ctx
            .model
            .optimizer()
            .ok_or_else(|| Error::value("Optimizer must have a \"learning_rate\" attribute."))?;
        let lr = (self.schedule)(epoch, opt.get_learning_rate() as f32 as f64);
        if !lr.is_finite() {
            return Err(Error::value(format!(
                "The output of the `schedule` function should be a finite float. Got: {lr}"
            )));
        }
        opt.try_set_learning_rate(lr)?;
        if self.verbose > 0 {
            println!(
                "\nEpoch {}: LearningRateScheduler setting learning rate to {}.",
                epoch + 1,
                super::logs::py_float(lr)
            );
        }
        Ok(())
    }

    fn on_epoch_end(
        &mut self,
        _epoch: usize,
        logs: &mut Logs,
        ctx: &mut CallbackContext,
    ) -> Result<()> {
        if let Some(opt) = ctx.model.optimizer() {
            logs.insert("learning_rate", opt.get_learning_rate() as f32 as f64);
        }
        Ok(())
    }
}
