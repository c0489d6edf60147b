//! Callbacks: hooks the training loop calls at the start and end of training, epochs and
//! batches, as `keras.callbacks`.
//!
//! ```
//! use keras::callbacks::{Callback, Logs, TrainContext};
//! /// Prints a dot after every epoch (the seeds' `PrintDot`).
//! struct PrintDot;
//! impl Callback for PrintDot {
//!     fn on_epoch_end(&mut self, _epoch: usize, _logs: &Logs, _ctx: &mut TrainContext) -> keras::Result<()> {
//!         print!(".");
//!         Ok(())
//!     }
//! }
//! ```

mod history;
mod logs;

pub use history::{History, HistoryParams};
pub use logs::Logs;

use crate::Result;

/// What a callback may change while training runs.
pub struct TrainContext<'a> {
    /// Set to true to stop after the current epoch (Keras's `model.stop_training`).
    pub stop_training: bool,
    /// The optimizer, to read or change the learning rate.
    pub optimizer: Option<&'a mut dyn crate::optimizers::Optimizer>,
}

/// A training hook. Every method has an empty default.
pub trait Callback {
    /// Before the first epoch.
    fn on_train_begin(&mut self, _ctx: &mut TrainContext) -> Result<()> {
        Ok(())
    }
    /// After the last epoch.
    fn on_train_end(&mut self, _logs: &Logs, _ctx: &mut TrainContext) -> Result<()> {
        Ok(())
    }
    /// Before each epoch.
    fn on_epoch_begin(&mut self, _epoch: usize, _ctx: &mut TrainContext) -> Result<()> {
        Ok(())
    }
    /// After each epoch, with the epoch's training and validation logs.
    fn on_epoch_end(&mut self, _epoch: usize, _logs: &Logs, _ctx: &mut TrainContext) -> Result<()> {
        Ok(())
    }
    /// Before each training batch.
    fn on_train_batch_begin(&mut self, _batch: usize, _ctx: &mut TrainContext) -> Result<()> {
        Ok(())
    }
    /// After each training batch, with the running logs.
    fn on_train_batch_end(
        &mut self,
        _batch: usize,
        _logs: &Logs,
        _ctx: &mut TrainContext,
    ) -> Result<()> {
        Ok(())
    }
}
