//! `LambdaCallback`: a callback made of closures, as Keras 3's
//! `keras/src/callbacks/lambda_callback.py`.

use super::{Callback, CallbackContext, Logs};
use crate::Result;

type EpochFn = Box<dyn FnMut(usize, &mut Logs, &mut CallbackContext) -> Result<()>>;
type TrainFn = Box<dyn FnMut(&mut Logs, &mut CallbackContext) -> Result<()>>;
type BeginFn = Box<dyn FnMut(usize, &mut CallbackContext) -> Result<()>>;

/// Closures for the common hooks: `on_epoch_begin`, `on_epoch_end`, `on_train_batch_begin`
/// (Keras's `on_batch_begin`), `on_train_batch_end`, `on_train_begin`, `on_train_end`.
///
/// ```
/// use keras::callbacks::LambdaCallback;
/// let mut print_loss = LambdaCallback::new().on_epoch_end(|epoch, logs, _ctx| {
///     println!("epoch {epoch}: loss {:?}", logs.get("loss"));
///     Ok(())
/// });
/// ```
#[derive(Default)]
pub struct LambdaCallback {
    epoch_begin: Option<BeginFn>,
    epoch_end: Option<EpochFn>,
    batch_begin: Option<BeginFn>,
    batch_end: Option<EpochFn>,
    train_begin: Option<TrainFn>,
    train_end: Option<TrainFn>,
}

impl LambdaCallback {
    /// No hooks yet.
    pub fn new() -> Self {
        Self::default()
    }
    /// Called with `(epoch, ctx)` before each epoch.
    pub fn on_epoch_begin(
        mut self,
        f: impl FnMut(usize, &mut CallbackContext) -> Result<()> + 'static,
    ) -> Self {
        self.epoch_begin = Some(Box::new(f));
        self
    }
    /// Called with `(epoch, logs, ctx)` after each epoch.
    pub fn on_epoch_end(
        mut self,
        f: impl FnMut(usize, &mut Logs, &mut CallbackContext) -> Result<()> + 'static,
    ) -> Self {
        self.epoch_end = Some(Box::new(f));
        self
    }
    /// Called with `(batch, ctx)` before each training batch.
    pub fn on_batch_begin(
        mut self,
        f: impl FnMut(usize, &mut CallbackContext) -> Result<()> + 'static,
    ) -> Self {
        self.batch_begin = Some(Box::new(f));
        self
    }
    /// Called with `(batch, logs, ctx)` after each training batch.
    pub fn on_batch_end(
        mut self,
        f: impl FnMut(usize, &mut Logs, &mut CallbackContext) -> Result<()> + 'static,
    ) -> Self {
        self.batch_end = Some(Box::new(f));
        self
    }
    /// Called with `(logs, ctx)` when training starts.
    pub fn on_train_begin(
        mut self,
        f: impl FnMut(&mut Logs, &mut CallbackContext) -> Result<()> + 'static,
    ) -> Self {
        self.train_begin = Some(Box::new(f));
        self
    }
    /// Called with `(logs, ctx)` when training ends.
    pub fn on_train_end(
        mut self,
        f: impl FnMut(&mut Logs, &mut CallbackContext) -> Result<()> + 'static,
    ) -> Self {
        self.train_end = Some(Box::new(f));
        self
    }
}

impl Callback for LambdaCallback {
    fn on_train_begin(&mut self, logs: &mut Logs, ctx: &mut CallbackContext) -> Result<()> {
        self.train_begin.as_mut().map_or(Ok(()), |f| f(logs, ctx))
    }
    fn on_train_end(&mut self, logs: &mut Logs, ctx: &mut CallbackContext) -> Result<()> {
        self.train_end.as_mut().map_or(Ok(()), |f| f(logs, ctx))
    }
    fn on_epoch_begin(&mut self, epoch: usize, ctx: &mut CallbackContext) -> Result<()> {
        self.epoch_begin.as_mut().map_or(Ok(()), |f| f(epoch, ctx))
    }
    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        ctx: &mut CallbackContext,
    ) -> Result<()> {
        self.epoch_end
            .as_mut()
            .map_or(Ok(()), |f| f(epoch, logs, ctx))
    }
    fn on_train_batch_begin(&mut self, batch: usize, ctx: &mut CallbackContext) -> Result<()> {
        self.batch_begin.as_mut().map_or(Ok(()), |f| f(batch, ctx))
    }
    fn on_train_batch_end(
        &mut self,
        batch: usize,
        logs: &mut Logs,
        ctx: &mut CallbackContext,
    ) -> Result<()> {
        self.batch_end
            .as_mut()
            .map_or(Ok(()), |f| f(batch, logs, ctx))
    }
}
