//! The `fit` / `evaluate` / `predict` loops, as Keras 3's `Trainer.fit` (`trainer.py` and the
//! backends' `fit`): they hold the model and lend it to the callbacks between steps.

use super::data::{Data, Dataset};
use super::trainer::not_compiled;
use crate::callbacks::{Callback, CallbackList, History, Logs, Params};
use crate::models::Model;
use crate::ops::{random, Tensor};
use crate::{Error, Result};

/// Validation inputs and targets for `fit`: anything that converts to [`Data`], as a pair.
///
/// ```
/// use keras::prelude::*;
/// let x_val = Tensor::zeros((4, 2), DType::F32, &Device::Cpu)?;
/// let y_val = Tensor::zeros((4, 1), DType::F32, &Device::Cpu)?;
/// let args = FitArgs { validation_data: Some((&x_val, &y_val).into()), ..Default::default() };
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct ValidationData {
    /// The inputs.
    pub x: Data,
    /// The targets.
    pub y: Data,
}

impl<X: Into<Data>, Y: Into<Data>> From<(X, Y)> for ValidationData {
    fn from((x, y): (X, Y)) -> Self {
        ValidationData {
            x: x.into(),
            y: y.into(),
        }
    }
}

/// Arguments of `fit`, with Keras's defaults (`batch_size` 32, one epoch, verbose 1, shuffle).
/// The callbacks are borrowed: read their state after `fit`.
///
/// ```
/// use keras::prelude::*;
/// use keras::callbacks::EarlyStopping;
/// let mut stop = EarlyStopping::new().monitor("val_loss").patience(3);
/// let args = FitArgs { epochs: 5, validation_split: 0.1, callbacks: vec![&mut stop], ..Default::default() };
/// assert_eq!(args.batch_size, 32);
/// ```
pub struct FitArgs<'a> {
    /// Samples per gradient step.
    pub batch_size: usize,
    /// Passes over the data.
    pub epochs: usize,
    /// 0 silent, 1 progress bar, 2 one line per epoch.
    pub verbose: u8,
    /// Fraction of the data (taken from the end, before shuffling) held out for validation.
    pub validation_split: f64,
    /// Validation inputs and targets (takes precedence over `validation_split`):
    /// `Some((&x_val, &y_val).into())`.
    pub validation_data: Option<ValidationData>,
    /// Shuffle the training samples before each epoch.
    pub shuffle: bool,
    /// Epoch to start from (for resuming).
    pub initial_epoch: usize,
    /// Hooks called during training, in order (then the History and the progress bar).
    pub callbacks: Vec<&'a mut dyn Callback>,
}

impl Default for FitArgs<'_> {
    fn default() -> Self {
        FitArgs {
            batch_size: 32,
            epochs: 1,
            verbose: 1,
            validation_split: 0.0,
            validation_data: None,
            shuffle: true,
            initial_epoch: 0,
            callbacks: vec![],
        }
    }
}

/// Arguments of `evaluate` and `predict` (batch size 32, verbose 1, no callbacks).
///
/// ```
/// use keras::prelude::*;
/// let quiet = EvalArgs { verbose: 0, ..Default::default() };
/// assert_eq!(quiet.batch_size, 32);
/// ```
pub struct EvalArgs<'a> {
    /// Samples per batch.
    pub batch_size: usize,
    /// 0 silent, 1 progress bar, 2 one line.
    pub verbose: u8,
    /// Hooks called during the run (`on_test_*` or `on_predict_*`).
    pub callbacks: Vec<&'a mut dyn Callback>,
}

impl Default for EvalArgs<'_> {
    fn default() -> Self {
        EvalArgs {
            batch_size: 32,
            verbose: 1,
            callbacks: vec![],
        }
    }
}

impl EvalArgs<'_> {
    /// Silent, batch size 32.
    pub fn quiet() -> Self {
        EvalArgs {
            verbose: 0,
            ..Default::default()
        }
    }
}

fn check_batch_size(batch_size: usize) -> Result<()> {
    if batch_size == 0 {
        return Err(Error::value(
            "`batch_size` must be positive. Received: batch_size=0",
        ));
    }
    Ok(())
}

/// Trains `model` for `args.epochs` epochs (Keras's `Model.fit`).
pub(crate) fn fit(model: &mut Model, x: Data, y: Data, mut args: FitArgs) -> Result<History> {
    if !model.trainer.compiled() {
        return Err(not_compiled());
    }
    check_batch_size(args.batch_size)?;
    if !(0.0..1.0).contains(&args.validation_split) {
        return Err(Error::value(format!(
            "`validation_split` must be in [0, 1). Received: validation_split={}",
            args.validation_split
        )));
    }
    let (trainer, net) = model.parts();
    let data = trainer.dataset(&net, x, Some(y))?;
    let (train, val) = match args.validation_data.take() {
        Some(v) => (data, Some(trainer.dataset(&net, v.x, Some(v.y))?)),
        None if args.validation_split > 0.0 => {
            let (t, v) = data.split(args.validation_split)?;
            (t, Some(v))
        }
        None => (data, None),
    };
    let steps = train.n.div_ceil(args.batch_size);
    let params = Params {
        verbose: args.verbose,
        epochs: args.epochs,
        steps: Some(steps),
    };
    let lent = val.as_ref().map(|v| (v.xs.clone(), v.ys.clone()));
    let mut callbacks = CallbackList::new(std::mem::take(&mut args.callbacks), true, params, lent);
    model.stop_training = false;
    model.resume_epoch = None;
    callbacks.on_train_begin(model)?;
    // A callback (BackupAndRestore) may have restored a later starting point.
    let initial_epoch = model.resume_epoch.take().unwrap_or(args.initial_epoch);
    let mut training_logs = Logs::default();
    for epoch in initial_epoch..args.epochs {
        model.trainer.reset_metrics();
        callbacks.on_epoch_begin(model, epoch)?;
        let mut rng = random::fork();
        let batches = train.batches(args.batch_size, args.shuffle.then_some(&mut rng));
        // The weights are fixed for the epoch (trainable flags do not change inside an epoch).
        let weights = model.trainable_weights();
        for (step, idx) in batches.iter().enumerate() {
            callbacks.on_train_batch_begin(model, step)?;
            let (xs, ys) = train.take(idx)?;
            let (trainer, net) = model.parts();
            let loss = trainer.train_step(&net, &xs, &ys, &weights)?;
            let mut logs = model.trainer.logs();
            callbacks.on_train_batch_end(model, step, &mut logs)?;
            if !loss.is_finite() && !model.stop_training {
                if args.verbose > 0 {
                    eprintln!();
                }
                return Err(Error::NonFinite(format!(
                    "Batch {step} of epoch {}: invalid loss {loss}, terminating training",
                    epoch + 1
                )));
            }
            // Honoured after the current batch, as Keras does.
            if model.stop_training {
                break;
            }
        }
        let mut epoch_logs = model.trainer.logs();
        if let Some(v) = &val {
            let val_logs = evaluate_dataset(model, v, args.batch_size, &mut callbacks)?;
            for (k, value) in val_logs.iter() {
                epoch_logs.insert(&format!("val_{k}"), value);
            }
        }
        callbacks.on_epoch_end(model, epoch, &mut epoch_logs)?;
        training_logs = epoch_logs;
        if model.stop_training {
            break;
        }
    }
    callbacks.on_train_end(model, &mut training_logs)?;
    Ok(callbacks.take_history())
}

/// One pass over `d` with the `on_test_*` hooks; the metrics' values at the end.
fn evaluate_dataset(
    model: &mut Model,
    d: &Dataset,
    batch_size: usize,
    callbacks: &mut CallbackList,
) -> Result<Logs> {
    callbacks.on_test_begin(model)?;
    // Evaluation uses the same metric objects as training: they start again here.
    model.trainer.reset_metrics();
    let weights = model.trainable_weights();
    for (i, idx) in d.batches(batch_size, None).iter().enumerate() {
        callbacks.on_test_batch_begin(model, i)?;
        let (xs, ys) = d.take(idx)?;
        let (trainer, net) = model.parts();
        trainer.test_step(&net, &xs, &ys, &weights)?;
        let mut logs = model.trainer.logs();
        callbacks.on_test_batch_end(model, i, &mut logs)?;
    }
    // The callbacks see the logs sorted by name; `evaluate` returns them in Keras's list
    // order (loss first).
    let logs = model.trainer.logs();
    callbacks.on_test_end(model, &mut logs.clone())?;
    Ok(logs)
}

/// Loss and metrics of `model` on `x`, `y` (Keras's `Model.evaluate`).
pub(crate) fn evaluate(model: &mut Model, x: Data, y: Data, args: EvalArgs) -> Result<Logs> {
    if !model.trainer.compiled() {
        return Err(not_compiled());
    }
    check_batch_size(args.batch_size)?;
    let (trainer, net) = model.parts();
    let d = trainer.dataset(&net, x, Some(y))?;
    let params = Params {
        verbose: args.verbose,
        epochs: 1,
        steps: Some(d.n.div_ceil(args.batch_size)),
    };
    let mut callbacks = CallbackList::new(args.callbacks, false, params, None);
    evaluate_dataset(model, &d, args.batch_size, &mut callbacks)
}

/// Runs `model` over `x` in batches (Keras's `Model.predict`): one tensor per output, the
/// batches concatenated.
pub(crate) fn predict(model: &mut Model, x: Data, args: EvalArgs) -> Result<Vec<Tensor>> {
    check_batch_size(args.batch_size)?;
    let (_, net) = model.parts();
    let xs = x.resolve(&super::Network::input_names(&net), "x")?;
    let d = Dataset::new(xs, vec![])?;
    if d.n == 0 {
        return Err(Error::value("The data is empty: `x` has 0 samples."));
    }
    let batches = d.batches(args.batch_size, None);
    let params = Params {
        verbose: args.verbose,
        epochs: 1,
        steps: Some(batches.len()),
    };
    let mut callbacks = CallbackList::new(args.callbacks, false, params, None);
    callbacks.on_predict_begin(model)?;
    let mut parts: Vec<Vec<Tensor>> = vec![];
    for (i, idx) in batches.iter().enumerate() {
        callbacks.on_predict_batch_begin(model, i)?;
        let (xs, _) = d.take(idx)?;
        let (_, net) = model.parts();
        let out: Vec<Tensor> = super::Network::forward(&net, &xs, false)?
            .iter()
            .map(Tensor::detach)
            .collect();
        callbacks.on_predict_batch_end(model, i, &out)?;
        if parts.is_empty() {
            parts = vec![vec![]; out.len()];
        }
        for (p, o) in parts.iter_mut().zip(out) {
            p.push(o);
        }
    }
    callbacks.on_predict_end(model)?;
    parts.iter().map(|p| Ok(Tensor::cat(p, 0)?)).collect()
}
