//! `CallbackList`: the callbacks of one `fit` / `evaluate` / `predict` call, called in order,
//! with the History and the progress bar last, as Keras 3's `callbacks/callback_list.py`.

use super::{Callback, CallbackContext, History, Logs, Params, ProgbarLogger};
use crate::models::Model;
use crate::ops::Tensor;
use crate::Result;

/// The callbacks of one run: the user's (borrowed, so their state stays readable), then a
/// `History` when training and a `ProgbarLogger` when `verbose` is not 0. Use it to drive
/// callbacks from a loop of your own.
///
/// ```
/// use keras::prelude::*;
/// use keras::callbacks::{CallbackList, Params};
/// let mut model = Sequential::from_layers([Input::new([2]).into(), Dense::new(1).into()])?;
/// let params = Params { verbose: 0, epochs: 1, steps: Some(1) };
/// let mut list = CallbackList::new(vec![], true, params, None);
/// list.set_model(&mut model)?;
/// list.on_train_begin(&mut model)?;
/// let mut logs = Logs::default();
/// logs.insert("loss", 0.25);
/// list.on_epoch_end(&mut model, 0, &mut logs)?;
/// assert_eq!(list.history().unwrap().history["loss"], [0.25]);
/// # Ok::<(), keras::Error>(())
/// ```
pub struct CallbackList<'a> {
    user: Vec<&'a mut dyn Callback>,
    history: Option<History>,
    progbar: Option<ProgbarLogger>,
    params: Params,
    validation: Option<(Vec<Tensor>, Vec<Tensor>)>,
}

impl<'a> CallbackList<'a> {
    /// The user's callbacks, a History when `add_history`, a progress bar when
    /// `params.verbose > 0`, and the validation data lent to every hook.
    pub fn new(
        callbacks: Vec<&'a mut dyn Callback>,
        add_history: bool,
        params: Params,
        validation: Option<(Vec<Tensor>, Vec<Tensor>)>,
    ) -> Self {
        CallbackList {
            user: callbacks,
            history: add_history.then(|| History::new(params.clone())),
            progbar: (params.verbose > 0).then(ProgbarLogger::new),
            params,
            validation,
        }
    }

    /// The run's parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The History recorded so far.
    pub fn history(&self) -> Option<&History> {
        self.history.as_ref()
    }

    /// Takes the History out (what `fit` returns).
    pub fn take_history(&mut self) -> History {
        self.history.take().unwrap_or_default()
    }

    fn each(
        &mut self,
        model: &mut Model,
        mut f: impl FnMut(&mut dyn Callback, &mut CallbackContext) -> Result<()>,
    ) -> Result<()> {
        let mut ctx = CallbackContext {
            model,
            params: &self.params,
            validation_data: self
                .validation
                .as_ref()
                .map(|(x, y)| (x.as_slice(), y.as_slice())),
        };
        // In a data-parallel job, rank 0 alone runs the callbacks that write files.
        let rank0 = crate::distribution::active().is_none_or(|g| g.rank() == 0);
        for cb in self.user.iter_mut() {
            if rank0 || cb.on_every_process() {
                f(&mut **cb, &mut ctx)?;
            }
        }
        if let Some(h) = &mut self.history {
            f(h, &mut ctx)?;
        }
        if let Some(p) = &mut self.progbar {
            f(p, &mut ctx)?;
        }
        Ok(())
    }

    /// Calls every callback's `set_model` (once a run, before its first hook).
    pub fn set_model(&mut self, model: &mut Model) -> Result<()> {
        self.each(model, |c, ctx| c.set_model(ctx))
    }

    /// Calls every callback's `on_train_begin`.
    pub fn on_train_begin(&mut self, model: &mut Model) -> Result<()> {
        let mut logs = Logs::default();
        self.each(model, |c, ctx| c.on_train_begin(&mut logs, ctx))
    }
    /// Calls every callback's `on_train_end`.
    pub fn on_train_end(&mut self, model: &mut Model, logs: &mut Logs) -> Result<()> {
        logs.sort();
        self.each(model, |c, ctx| c.on_train_end(logs, ctx))
    }
    /// Calls every callback's `on_epoch_begin`.
    pub fn on_epoch_begin(&mut self, model: &mut Model, epoch: usize) -> Result<()> {
        self.each(model, |c, ctx| c.on_epoch_begin(epoch, ctx))
    }
    /// Calls every callback's `on_epoch_end` with the logs sorted by name; each callback sees
    /// what the ones before it added.
    pub fn on_epoch_end(&mut self, model: &mut Model, epoch: usize, logs: &mut Logs) -> Result<()> {
        logs.sort();
        self.each(model, |c, ctx| c.on_epoch_end(epoch, logs, ctx))
    }
    /// Calls every callback's `on_train_batch_begin`.
    pub fn on_train_batch_begin(&mut self, model: &mut Model, batch: usize) -> Result<()> {
        self.each(model, |c, ctx| c.on_train_batch_begin(batch, ctx))
    }
    /// Calls every callback's `on_train_batch_end`.
    pub fn on_train_batch_end(
        &mut self,
        model: &mut Model,
        batch: usize,
        logs: &mut Logs,
    ) -> Result<()> {
        logs.sort();
        self.each(model, |c, ctx| c.on_train_batch_end(batch, logs, ctx))
    }
    /// Calls every callback's `on_test_begin`.
    pub fn on_test_begin(&mut self, model: &mut Model) -> Result<()> {
        self.each(model, |c, ctx| c.on_test_begin(ctx))
    }
    /// Calls every callback's `on_test_end`.
    pub fn on_test_end(&mut self, model: &mut Model, logs: &mut Logs) -> Result<()> {
        logs.sort();
        self.each(model, |c, ctx| c.on_test_end(logs, ctx))
    }
    /// Calls every callback's `on_test_batch_begin`.
    pub fn on_test_batch_begin(&mut self, model: &mut Model, batch: usize) -> Result<()> {
        self.each(model, |c, ctx| c.on_test_batch_begin(batch, ctx))
    }
    /// Calls every callback's `on_test_batch_end`.
    pub fn on_test_batch_end(
        &mut self,
        model: &mut Model,
        batch: usize,
        logs: &mut Logs,
    ) -> Result<()> {
        logs.sort();
        self.each(model, |c, ctx| c.on_test_batch_end(batch, logs, ctx))
    }
    /// Calls every callback's `on_predict_begin`.
    pub fn on_predict_begin(&mut self, model: &mut Model) -> Result<()> {
        self.each(model, |c, ctx| c.on_predict_begin(ctx))
    }
    /// Calls every callback's `on_predict_end`.
    pub fn on_predict_end(&mut self, model: &mut Model) -> Result<()> {
        self.each(model, |c, ctx| c.on_predict_end(ctx))
    }
    /// Calls every callback's `on_predict_batch_begin`.
    pub fn on_predict_batch_begin(&mut self, model: &mut Model, batch: usize) -> Result<()> {
        self.each(model, |c, ctx| c.on_predict_batch_begin(batch, ctx))
    }
    /// Calls every callback's `on_predict_batch_end`.
    pub fn on_predict_batch_end(
        &mut self,
        model: &mut Model,
        batch: usize,
        outputs: &[Tensor],
    ) -> Result<()> {
        self.each(model, |c, ctx| c.on_predict_batch_end(batch, outputs, ctx))
    }
}
