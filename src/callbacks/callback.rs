//! The `Callback` trait and what the training loop lends to each hook, as Keras 3's
//! `keras/src/callbacks/callback.py` (`self.model`, `self.params`).

use super::Logs;
use crate::models::Model;
use crate::ops::Tensor;
use crate::Result;

/// The parameters of a `fit`, `evaluate` or `predict` run, as Keras's `callback.params`.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// The verbosity (0 silent, 1 progress bar, 2 one line per epoch).
    pub verbose: u8,
    /// Number of epochs asked for (1 for `evaluate` and `predict`).
    pub epochs: usize,
    /// Batches per epoch, when known.
    pub steps: Option<usize>,
}

/// What a callback reaches while the loop runs: the model (Keras's `self.model`: weights,
/// `save`, `predict`, the optimizer, `stop_training`), the run's parameters and the
/// validation data.
///
/// ```
/// use keras::callbacks::{Callback, CallbackContext, Logs};
/// /// Stops training once the loss is below 0.1 (Keras's `self.model.stop_training = True`).
/// struct StopBelow;
/// impl Callback for StopBelow {
///     fn on_epoch_end(&mut self, _epoch: usize, logs: &mut Logs, ctx: &mut CallbackContext) -> keras::Result<()> {
///         if logs.get("loss").is_some_and(|l| l < 0.1) {
///             ctx.model.stop_training = true;
///         }
///         Ok(())
///     }
/// }
/// ```
pub struct CallbackContext<'a> {
    /// The model being trained, evaluated or run.
    pub model: &'a mut Model,
    /// `epochs`, `steps` and `verbose`.
    pub params: &'a Params,
    /// `fit`'s validation inputs and targets (one tensor per model input / output), if any.
    pub validation_data: Option<(&'a [Tensor], &'a [Tensor])>,
}

/// A hook into `fit`, `evaluate` and `predict`. Every method has an empty default; override
/// the ones you need. `fit` borrows its callbacks, so their state is yours to read afterwards.
///
/// The end-of-step hooks receive the logs (`loss`, metrics, and at the end of an epoch the
/// `val_` values) mutably: what a callback adds (`learning_rate`, say) is seen by the callbacks
/// after it and recorded in the History, as in Keras.
///
/// ```
/// use keras::callbacks::{Callback, CallbackContext, Logs};
/// /// Prints a dot after every epoch (the seeds' `PrintDot`).
/// struct PrintDot;
/// impl Callback for PrintDot {
///     fn on_epoch_end(&mut self, _epoch: usize, _logs: &mut Logs, _ctx: &mut CallbackContext) -> keras::Result<()> {
///         print!(".");
///         Ok(())
///     }
/// }
/// ```
#[allow(unused_variables)]
pub trait Callback {
    /// Whether the callback runs on every process of a data-parallel job
    /// ([`crate::distribution`]); `false` runs it on rank 0 only, as for callbacks that write
    /// files (`ModelCheckpoint`, `TensorBoard`, `CSVLogger`). Every process has the same logs,
    /// so callbacks that decide (`EarlyStopping`, `ReduceLROnPlateau`) run everywhere and
    /// decide alike.
    fn on_every_process(&self) -> bool {
        true
    }
    /// Once at the start of `fit`, `evaluate` or `predict`, before any other hook (Keras's
    /// `set_model`, called when the callback list is made). In `fit` and `evaluate` the model
    /// is built by then, from the first batch's shapes if it had none, so its layers'
    /// `output`s exist; the context is the same one every hook gets.
    ///
    /// ```
    /// use keras::callbacks::{Callback, CallbackContext};
    /// /// Counts the model's layers once it is lent (the seeds' `ActivationLogger` builds an
    /// /// activations model from the layers' outputs here).
    /// struct LayerCount(usize);
    /// impl Callback for LayerCount {
    ///     fn set_model(&mut self, ctx: &mut CallbackContext) -> keras::Result<()> {
    ///         self.0 = ctx.model.layers().len();
    ///         Ok(())
    ///     }
    /// }
    /// ```
    fn set_model(&mut self, ctx: &mut CallbackContext) -> Result<()> {
        Ok(())
    }
    /// Before the first epoch of `fit`.
    fn on_train_begin(&mut self, logs: &mut Logs, ctx: &mut CallbackContext) -> Result<()> {
        Ok(())
    }
    /// After the last epoch of `fit`, with the last epoch's logs.
    fn on_train_end(&mut self, logs: &mut Logs, ctx: &mut CallbackContext) -> Result<()> {
        Ok(())
    }
    /// Before each epoch.
    fn on_epoch_begin(&mut self, epoch: usize, ctx: &mut CallbackContext) -> Result<()> {
        Ok(())
    }
    /// After each epoch, with the epoch's training and validation (`val_`) logs.
    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        ctx: &mut CallbackContext,
    ) -> Result<()> {
        Ok(())
    }
    /// Before each training batch. By default it calls [`Callback::on_batch_begin`], as
    /// Keras's does.
    fn on_train_batch_begin(&mut self, batch: usize, ctx: &mut CallbackContext) -> Result<()> {
        self.on_batch_begin(batch, ctx)
    }
    /// After each training batch, with the metrics aggregated over the epoch so far. By
    /// default it calls [`Callback::on_batch_end`], as Keras's does.
    fn on_train_batch_end(
        &mut self,
        batch: usize,
        logs: &mut Logs,
        ctx: &mut CallbackContext,
    ) -> Result<()> {
        self.on_batch_end(batch, logs, ctx)
    }
    /// Keras's backwards-compatible alias of [`Callback::on_train_batch_begin`] (the seeds'
    /// `on_batch_begin`): called before each training batch unless that method is overridden.
    fn on_batch_begin(&mut self, batch: usize, ctx: &mut CallbackContext) -> Result<()> {
        Ok(())
    }
    /// Keras's backwards-compatible alias of [`Callback::on_train_batch_end`] (the seeds'
    /// `on_batch_end`): called after each training batch unless that method is overridden.
    fn on_batch_end(
        &mut self,
        batch: usize,
        logs: &mut Logs,
        ctx: &mut CallbackContext,
    ) -> Result<()> {
        Ok(())
    }
    /// Before `evaluate` (and before each validation run inside `fit`).
    fn on_test_begin(&mut self, ctx: &mut CallbackContext) -> Result<()> {
        Ok(())
    }
    /// After `evaluate` (and each validation run), with its logs (no `val_` prefix).
    fn on_test_end(&mut self, logs: &mut Logs, ctx: &mut CallbackContext) -> Result<()> {
        Ok(())
    }
    /// Before each evaluation batch.
    fn on_test_batch_begin(&mut self, batch: usize, ctx: &mut CallbackContext) -> Result<()> {
        Ok(())
    }
    /// After each evaluation batch, with the metrics aggregated so far.
    fn on_test_batch_end(
        &mut self,
        batch: usize,
        logs: &mut Logs,
        ctx: &mut CallbackContext,
    ) -> Result<()> {
        Ok(())
    }
    /// Before `predict`.
    fn on_predict_begin(&mut self, ctx: &mut CallbackContext) -> Result<()> {
        Ok(())
    }
    /// After `predict`.
    fn on_predict_end(&mut self, ctx: &mut CallbackContext) -> Result<()> {
        Ok(())
    }
    /// Before each prediction batch.
    fn on_predict_batch_begin(&mut self, batch: usize, ctx: &mut CallbackContext) -> Result<()> {
        Ok(())
    }
    /// After each prediction batch, with that batch's outputs (one tensor per model output).
    fn on_predict_batch_end(
        &mut self,
        batch: usize,
        outputs: &[Tensor],
        ctx: &mut CallbackContext,
    ) -> Result<()> {
        Ok(())
    }
}
