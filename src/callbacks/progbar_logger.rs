//! `ProgbarLogger`: prints the progress bar and the epoch lines, as Keras 3's
//! `keras/src/callbacks/progbar_logger.py`. `fit`, `evaluate` and `predict` add one when
//! `verbose` is not 0.

use super::{Callback, CallbackContext, Logs};
use crate::ops::Tensor;
use crate::trainers::Progbar;
use crate::Result;

/// The callback that draws Keras's progress bar (`Epoch 1/5`, then
/// `1875/1875 ━━━━━━━━━━━━━━━━━━━━ 3s 2ms/step - accuracy: 0.9000 - loss: 0.3000`).
///
/// ```
/// use keras::callbacks::ProgbarLogger;
/// let bar = ProgbarLogger::new();
/// ```
#[derive(Default)]
pub struct ProgbarLogger {
    seen: usize,
    /// Steps per epoch: from the run's params, or learned when a source of unknown length
    /// first runs out (Keras's `self.target`).
    target: Option<usize>,
    bar: Option<Progbar>,
    called_in_fit: bool,
}

impl ProgbarLogger {
    /// A logger that takes its verbosity, epochs and steps from the run's `params`.
    pub fn new() -> Self {
        Self::default()
    }

    fn reset(&mut self) {
        self.seen = 0;
        self.bar = None;
    }

    fn bar(&mut self, ctx: &CallbackContext) -> &mut Progbar {
        let p = ctx.params;
        self.bar
            .get_or_insert_with(|| Progbar::new(self.target.or(p.steps), p.verbose))
    }

    fn update(&mut self, batch: usize, logs: &Logs, ctx: &CallbackContext) {
        self.seen = batch + 1;
        let seen = self.seen;
        if ctx.params.verbose == 1 {
            self.bar(ctx).update(seen, logs, false);
        }
    }

    fn finalize(&mut self, logs: &Logs, ctx: &CallbackContext) {
        let target = self.target.or(ctx.params.steps).unwrap_or(self.seen);
        self.target = Some(target);
        let bar = self.bar(ctx);
        bar.set_target(target);
        bar.update(target, logs, true);
    }
}

impl Callback for ProgbarLogger {
    fn on_train_begin(&mut self, _logs: &mut Logs, _ctx: &mut CallbackContext) -> Result<()> {
        // Inside `fit`, validation is silent.
        self.called_in_fit = true;
        Ok(())
    }

    fn on_epoch_begin(&mut self, epoch: usize, ctx: &mut CallbackContext) -> Result<()> {
        self.reset();
        if ctx.params.verbose > 0 && ctx.params.epochs > 1 {
            eprintln!("Epoch {}/{}", epoch + 1, ctx.params.epochs);
        }
        self.bar(ctx);
        Ok(())
    }

    fn on_train_batch_end(
        &mut self,
        batch: usize,
        logs: &mut Logs,
        ctx: &mut CallbackContext,
    ) -> Result<()> {
        self.update(batch, logs, ctx);
        Ok(())
    }

    fn on_epoch_end(
        &mut self,
        _epoch: usize,
        logs: &mut Logs,
        ctx: &mut CallbackContext,
    ) -> Result<()> {
        self.finalize(logs, ctx);
        Ok(())
    }

    fn on_test_begin(&mut self, ctx: &mut CallbackContext) -> Result<()> {
        if !self.called_in_fit {
            self.reset();
            self.bar(ctx);
        }
        Ok(())
    }

    fn on_test_batch_end(
        &mut self,
        batch: usize,
        logs: &mut Logs,
        ctx: &mut CallbackContext,
    ) -> Result<()> {
        if !self.called_in_fit {
            self.update(batch, logs, ctx);
        }
        Ok(())
    }

    fn on_test_end(&mut self, logs: &mut Logs, ctx: &mut CallbackContext) -> Result<()> {
        if !self.called_in_fit {
            self.finalize(logs, ctx);
        }
        Ok(())
    }

    fn on_predict_begin(&mut self, ctx: &mut CallbackContext) -> Result<()> {
        self.reset();
        self.bar(ctx);
        Ok(())
    }

    fn on_predict_batch_end(
        &mut self,
        batch: usize,
        _outputs: &[Tensor],
        ctx: &mut CallbackContext,
    ) -> Result<()> {
        self.update(batch, &Logs::default(), ctx);
        Ok(())
    }

    fn on_predict_end(&mut self, ctx: &mut CallbackContext) -> Result<()> {
        self.finalize(&Logs::default(), ctx);
        Ok(())
    }
}
