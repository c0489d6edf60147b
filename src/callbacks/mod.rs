//! Callbacks: hooks that `fit`, `evaluate` and `predict` call at the start and end of
//! training, epochs and batches, lending the model to each (Keras's `keras.callbacks`).
//!
//! ```
//! use keras::callbacks::{Callback, CallbackContext, Logs};
//! /// Prints a dot after every epoch (the seeds' `PrintDot`).
//! struct PrintDot;
//! impl Callback for PrintDot {
//!     fn on_epoch_end(&mut self, _epoch: usize, _logs: &mut Logs, _ctx: &mut CallbackContext) -> keras::Result<()> {
//!         print!(".");
//!         Ok(())
//!     }
//! }
//! ```

mod backup_and_restore;
mod callback;
mod callback_list;
mod csv_logger;
mod early_stopping;
mod filepath_format;
mod history;
mod history_plot;
mod lambda_callback;
mod learning_rate_scheduler;
mod logs;
mod model_checkpoint;
mod monitor;
mod progbar_logger;
mod reduce_lr_on_plateau;
mod save_freq;
pub mod tensorboard;
mod terminate_on_nan;

pub use backup_and_restore::BackupAndRestore;
pub use callback::{Callback, CallbackContext, Params};
pub use callback_list::CallbackList;
pub use csv_logger::CSVLogger;
pub use early_stopping::EarlyStopping;
pub use history::{History, HistoryDict};
pub use lambda_callback::LambdaCallback;
pub use learning_rate_scheduler::LearningRateScheduler;
pub use logs::Logs;
pub use model_checkpoint::ModelCheckpoint;
pub use monitor::Monitor;
pub use progbar_logger::ProgbarLogger;
pub use reduce_lr_on_plateau::ReduceLROnPlateau;
pub use save_freq::SaveFreq;
pub use tensorboard::TensorBoard;
pub use terminate_on_nan::TerminateOnNaN;

/// The parameters a History records (Keras's `history.params`).
pub type HistoryParams = Params;
