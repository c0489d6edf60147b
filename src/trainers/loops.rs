//! The `fit` / `evaluate` / `predict` loops, as Keras 3's `Trainer.fit` (`trainer.py` and the
//! backends' `fit`): they hold the model, take batches from an [`EpochIterator`] over any
//! data adapter, and lend the model to the callbacks between steps.

use super::compile_utils::batch_size;
use super::data::Data;
use super::data_adapters::{ArrayDataAdapter, Arrays, Batch, DataAdapter, DataSource};
use super::epoch_iterator::{EpochIterator, Flow};
use super::fit_args::{EvalArgs, FitArgs, ValidationData};
use super::trainer::not_compiled;
use super::Network;
use crate::callbacks::{CallbackList, History, Logs, Params};
use crate::engine::Weight;
use crate::models::Model;
use crate::ops::Tensor;
use crate::{Error, Result};
use std::collections::HashMap;

fn check_batch_size(batch_size: usize) -> Result<()> {
    if batch_size == 0 {
        return Err(Error::value(
            "`batch_size` must be positive. Received: batch_size=0",
        ));
    }
    Ok(())
}

/// A batch in the model's order: inputs, targets, sample weights (empty when none).
pub(crate) struct Feed {
    pub xs: Vec<Tensor>,
    pub ys: Vec<Tensor>,
    pub sw: Vec<Tensor>,
}

/// Matches a source's batches to the model's inputs and outputs.
struct Resolver {
    inputs: Vec<String>,
    outputs: Vec<String>,
    class_weight: Option<HashMap<usize, f64>>,
}

impl Resolver {
    fn new(model: &mut Model, class_weight: Option<HashMap<usize, f64>>) -> Self {
        let (_, net) = model.parts();
        Resolver {
            inputs: Network::input_names(&net),
            outputs: Network::output_names(&net),
            class_weight,
        }
    }

    fn resolve(&self, b: Batch, need_y: bool) -> Result<Feed> {
        let xs = b.x.resolve(&self.inputs, "x")?;
        let ys = match b.y {
            Some(y) => y.resolve(&self.outputs, "y")?,
            None if need_y => {
                return Err(Error::value(format!(
                    "The data has no targets: each element must be `(x, y)` or `(x, y, \
                     sample_weight)` to train or evaluate. Received an element with only x={}",
                    Data::List(xs).describe()
                )))
            }
            None => vec![],
        };
        let sw = super::data_adapters::batch_sample_weights(
            b.sample_weight,
            self.class_weight.as_ref(),
            &ys,
            &self.outputs,
            "You cannot `class_weight` and `sample_weight` at the same time.",
        )?;
        Ok(Feed { xs, ys, sw })
    }
}

/// The model's trainable weights, listed once, when the model is built (a model without an
/// input shape is built by its first batch); later batches borrow the same list.
fn weights_for<'w>(
    model: &mut Model,
    xs: &[Tensor],
    cached: &'w mut Option<Vec<Weight>>,
) -> Result<&'w [Weight]> {
    if cached.is_none() {
        let (_, net) = model.parts();
        Network::ensure_built(&net, xs)?;
        *cached = Some(model.trainable_weights());
    }
    Ok(cached.as_deref().unwrap_or_default())
}

/// Builds a model that has no input shape yet from the first batch's shapes, before the
/// callbacks see it, as Keras's `fit` / `evaluate` (`_symbolic_build`) and JAX `predict` do
/// (a `Sequential` without an `Input`: its layers' `output`s exist in `set_model`). The
/// batch is still served to the first step. Returns whether it built the model.
fn build_from_first_batch(
    model: &mut Model,
    it: &mut EpochIterator,
    resolver: &Resolver,
    with_targets: bool,
) -> Result<bool> {
    if model.built() {
        return Ok(false);
    }
    // Data parallel: every process peeks the same pass (a shuffle is drawn as it starts) and
    // builds the same weights.
    crate::distribution::broadcast_random_state()?;
    let Some(batch) = it.peek()? else {
        return Ok(false);
    };
    let feed = resolver.resolve(batch, with_targets)?;
    let (_, net) = model.parts();
    Network::ensure_built(&net, &feed.xs)?;
    Ok(true)
}

/// In-memory arrays resolved against the model, as an adapter.
fn arrays(
    model: &mut Model,
    x: Data,
    y: Option<Data>,
    sample_weight: Option<Data>,
) -> Result<Arrays> {
    let (_, net) = model.parts();
    let xs = x.resolve(&Network::input_names(&net), "x")?;
    let ys = match y {
        Some(y) => y.resolve(&Network::output_names(&net), "y")?,
        None => vec![],
    };
    let sw = super::data_adapters::batch_sample_weights(
        sample_weight,
        None,
        &ys,
        &Network::output_names(&net),
        "",
    )?;
    let d = Arrays::with_weights(xs, ys, sw)?;
    if d.n == 0 {
        return Err(Error::value("The data is empty: `x` has 0 samples."));
    }
    Ok(d)
}

/// Trains on arrays (Keras's `Model.fit(x, y)`).
pub(crate) fn fit(model: &mut Model, x: Data, y: Data, mut args: FitArgs) -> Result<History> {
    if !model.trainer.compiled() {
        return Err(not_compiled());
    }
    check_batch_size(args.batch_size)?;
    check_validation_split(args.validation_split)?;
    let data = arrays(model, x, Some(y), args.sample_weight.take())?;
    if let (Some(cw), Some(y)) = (&args.class_weight, data.ys.first()) {
        super::data_adapters::check_classes_present(y, cw)?;
    }
    let (train, val) = match args.validation_data.take() {
        Some(v) => (data, Some(v)),
        None if args.validation_split > 0.0 => {
            let (t, v) = data.split(args.validation_split)?;
            (
                t,
                Some(ValidationData::Arrays {
                    x: Data::List(v.xs),
                    y: Data::List(v.ys),
                    sample_weight: (!v.sw.is_empty()).then_some(Data::List(v.sw)),
                }),
            )
        }
        None => (data, None),
    };
    let adapter = ArrayDataAdapter::new(train, args.batch_size, args.shuffle);
    fit_adapter(model, Box::new(adapter), val, args)
}

/// A `validation_split` outside [0, 1) is an error, a negative one too (Keras 3 trains on
/// without validation then).
fn check_validation_split(split: f64) -> Result<()> {
    if !(0.0..1.0).contains(&split) {
        return Err(Error::value(format!(
            "`validation_split` must be in [0, 1). Received: validation_split={split}"
        )));
    }
    Ok(())
}

/// Trains on a source of batches (Keras's `Model.fit(dataset)`).
pub(crate) fn fit_source(model: &mut Model, source: DataSource, args: FitArgs) -> Result<History> {
    if !model.trainer.compiled() {
        return Err(not_compiled());
    }
    check_validation_split(args.validation_split)?;
    if args.validation_split > 0.0 {
        return Err(Error::value(
            "`validation_split` is only supported for Tensors or NumPy arrays. Found: a \
             data source. Pass `validation_data` instead.",
        ));
    }
    if args.sample_weight.is_some() {
        return Err(Error::value(
            "`sample_weight` argument is not supported when using a dataset as input: put the \
             weights in its elements, `(x, y, sample_weight)`.",
        ));
    }
    let mut args = args;
    let val = args.validation_data.take();
    fit_adapter(model, source.0, val, args)
}

/// [`fit_inner`]; in a data-parallel job an error on one process ends the whole job (the
/// others would wait for it in the next collective).
fn fit_adapter(
    model: &mut Model,
    train: Box<dyn DataAdapter>,
    val: Option<ValidationData>,
    args: FitArgs,
) -> Result<History> {
    let r = fit_inner(model, train, val, args);
    if let (Err(e), Some(g)) = (&r, crate::distribution::active()) {
        g.abort(&format!(
            "fit failed on rank {} of {}: {e}",
            g.rank(),
            g.size()
        ));
    }
    r
}

fn fit_inner(
    model: &mut Model,
    train: Box<dyn DataAdapter>,
    val: Option<ValidationData>,
    mut args: FitArgs,
) -> Result<History> {
    if args.validation_freq == 0 {
        return Err(Error::value(
            "`validation_freq` must be a positive integer. Received: validation_freq=0",
        ));
    }
    let device = model.device();
    let mut train = EpochIterator::new(train, args.steps_per_epoch)?
        .sharded()?
        .on_device(device.clone());
    let resolver = Resolver::new(model, args.class_weight.take());
    // Validation arrays are lent to the callbacks (Keras's `validation_data` attribute).
    let mut lent = None;
    let mut val = match val {
        None => None,
        Some(ValidationData::Arrays {
            x,
            y,
            sample_weight,
        }) => {
            let batch_size = args.validation_batch_size.unwrap_or(args.batch_size);
            check_batch_size(batch_size)?;
            let d = arrays(model, x, Some(y), sample_weight)?;
            lent = Some((d.xs.clone(), d.ys.clone()));
            let a = ArrayDataAdapter::new(d, batch_size, false);
            Some(
                EpochIterator::new(Box::new(a), args.validation_steps)?
                    .sharded()?
                    .on_device(device.clone()),
            )
        }
        Some(ValidationData::Source(s)) => Some(
            EpochIterator::new(s.0, args.validation_steps)?
                .sharded()?
                .on_device(device.clone()),
        ),
    };
    let val_resolver = Resolver::new(model, None);
    let params = Params {
        verbose: rank_zero_verbose(args.verbose),
        epochs: args.epochs,
        steps: train.num_batches(),
    };
    let mut callbacks = CallbackList::new(std::mem::take(&mut args.callbacks), true, params, lent);
    model.stop_training = false;
    model.resume_epoch = None;
    let built_here = build_from_first_batch(model, &mut train, &resolver, true)?;
    let drawn = crate::ops::random::get_state();
    callbacks.set_model(model)?;
    callbacks.on_train_begin(model)?;
    // Data parallel: every process draws rank 0's batch order.
    crate::distribution::broadcast_random_state()?;
    // The pass peeked to build the model was drawn from the random state a callback has
    // since replaced (`BackupAndRestore` resuming): start the epoch on a fresh one.
    if built_here && crate::ops::random::get_state() != drawn {
        train.unpeek();
    }
    // A callback (BackupAndRestore) may have restored a later starting point.
    let initial_epoch = model.resume_epoch.take().unwrap_or(args.initial_epoch);
    let mut training_logs = Logs::default();
    let mut bad_loss = None;
    let mut started = false;
    for epoch in initial_epoch..args.epochs {
        model.trainer.reset_metrics();
        callbacks.on_epoch_begin(model, epoch)?;
        // Listed again each epoch: a callback may change trainable flags between epochs.
        let mut weights = None;
        // This process's rows since the metrics started (weights its logs in a job).
        let mut seen = 0;
        let steps = train.epoch(|step, batch| {
            callbacks.on_train_batch_begin(model, step)?;
            let feed = resolver.resolve(batch, true)?;
            seen += batch_size(&feed.xs);
            let w = weights_for(model, &feed.xs, &mut weights)?;
            if !started {
                // Data parallel: every process starts from rank 0's weights and random state.
                started = true;
                crate::distribution::broadcast_weights(&model.weights())?;
            }
            let (trainer, net) = model.parts();
            let loss = trainer.train_step_weighted(&net, &feed.xs, &feed.ys, &feed.sw, w)?;
            let mut logs = model.trainer.global_logs(seen)?;
            callbacks.on_train_batch_end(model, step, &mut logs)?;
            if !loss.is_finite() && !model.stop_training {
                bad_loss = Some((step, loss));
                return Ok(Flow::Stop);
            }
            // Honoured after the current batch, as Keras does.
            Ok(if model.stop_training {
                Flow::Stop
            } else {
                Flow::Continue
            })
        })?;
        if let Some((step, loss)) = bad_loss {
            if args.verbose > 0 {
                eprintln!();
            }
            return Err(Error::NonFinite(format!(
                "Batch {step} of epoch {}: invalid loss {loss}, terminating training",
                epoch + 1
            )));
        }
        if steps == 0 {
            if epoch == initial_epoch {
                return Err(Error::value(
                    "The training data produced no batches: the source is empty (or a \
                     generator already ran out).",
                ));
            }
            // A generator that ran out ends training (Keras warned above).
            break;
        }
        let mut epoch_logs = model.trainer.global_logs(seen)?;
        let validate = (epoch + 1) % args.validation_freq == 0;
        if let (Some(v), true) = (val.as_mut(), validate) {
            let val_logs = evaluate_epoch(model, v, &val_resolver, &mut callbacks)?;
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
    // Keras: the EMA weights replace the trained ones when `use_ema` is set.
    let weights = model.trainable_weights();
    if let Some(opt) = model.optimizer() {
        opt.finalize_variable_values(&weights)?;
    }
    callbacks.on_train_end(model, &mut training_logs)?;
    Ok(callbacks.take_history())
}

/// One pass of `it` with the `on_test_*` hooks; the metrics' values at the end.
fn evaluate_epoch(
    model: &mut Model,
    it: &mut EpochIterator,
    resolver: &Resolver,
    callbacks: &mut CallbackList,
) -> Result<Logs> {
    crate::ops::tune_allocator();
    let _ftz = crate::ops::flush_denormals();
    // No gradient is taken here: layers may fuse (Layer::forward_fused).
    let _inference = crate::engine::context::set_inference(true);
    callbacks.on_test_begin(model)?;
    // Evaluation uses the same metric objects as training: they start again here.
    model.trainer.reset_metrics();
    let mut weights = None;
    let mut seen = 0;
    let steps = it.epoch(|i, batch| {
        callbacks.on_test_batch_begin(model, i)?;
        let feed = resolver.resolve(batch, true)?;
        seen += batch_size(&feed.xs);
        let w = weights_for(model, &feed.xs, &mut weights)?;
        let (trainer, net) = model.parts();
        trainer.test_step_weighted(&net, &feed.xs, &feed.ys, &feed.sw, w)?;
        let mut logs = model.trainer.global_logs(seen)?;
        callbacks.on_test_batch_end(model, i, &mut logs)?;
        Ok(Flow::Continue)
    })?;
    if steps == 0 {
        return Err(Error::value("The evaluation data produced no batches."));
    }
    // The callbacks see the logs sorted by name; `evaluate` returns them in Keras's list
    // order (loss first).
    let logs = model.trainer.global_logs(seen)?;
    callbacks.on_test_end(model, &mut logs.clone())?;
    Ok(logs)
}

/// Loss and metrics on arrays (Keras's `Model.evaluate(x, y)`).
pub(crate) fn evaluate(model: &mut Model, x: Data, y: Data, mut args: EvalArgs) -> Result<Logs> {
    if !model.trainer.compiled() {
        return Err(not_compiled());
    }
    check_batch_size(args.batch_size)?;
    let d = arrays(model, x, Some(y), args.sample_weight.take())?;
    let adapter = ArrayDataAdapter::new(d, args.batch_size, false);
    evaluate_adapter(model, Box::new(adapter), args)
}

/// Loss and metrics on a source (Keras's `Model.evaluate(dataset)`).
pub(crate) fn evaluate_source(
    model: &mut Model,
    source: DataSource,
    args: EvalArgs,
) -> Result<Logs> {
    if !model.trainer.compiled() {
        return Err(not_compiled());
    }
    if args.sample_weight.is_some() {
        return Err(Error::value(
            "`sample_weight` argument is not supported when using a dataset as input: put the \
             weights in its elements, `(x, y, sample_weight)`.",
        ));
    }
    evaluate_adapter(model, source.0, args)
}

fn evaluate_adapter(model: &mut Model, a: Box<dyn DataAdapter>, args: EvalArgs) -> Result<Logs> {
    let mut it = EpochIterator::new(a, args.steps)?
        .sharded()?
        .on_device(model.device());
    let params = Params {
        verbose: rank_zero_verbose(args.verbose),
        epochs: 1,
        steps: it.num_batches(),
    };
    let resolver = Resolver::new(model, None);
    let mut callbacks = CallbackList::new(args.callbacks, false, params, None);
    build_from_first_batch(model, &mut it, &resolver, true)?;
    callbacks.set_model(model)?;
    evaluate_epoch(model, &mut it, &resolver, &mut callbacks)
}

/// Runs `model` over arrays in batches (Keras's `Model.predict(x)`): one tensor per output,
/// the batches concatenated.
pub(crate) fn predict(model: &mut Model, x: Data, args: EvalArgs) -> Result<Vec<Tensor>> {
    check_batch_size(args.batch_size)?;
    let d = arrays(model, x, None, None)?;
    let adapter = ArrayDataAdapter::new(d, args.batch_size, false);
    predict_adapter(model, Box::new(adapter), args)
}

/// Predictions for every batch of a source, concatenated in order (targets are ignored).
pub(crate) fn predict_source(
    model: &mut Model,
    source: DataSource,
    args: EvalArgs,
) -> Result<Vec<Tensor>> {
    predict_adapter(model, source.0, args)
}

fn predict_adapter(
    model: &mut Model,
    a: Box<dyn DataAdapter>,
    args: EvalArgs,
) -> Result<Vec<Tensor>> {
    crate::ops::tune_allocator();
    let _ftz = crate::ops::flush_denormals();
    // No gradient is taken here: layers may fuse (Layer::forward_fused).
    let _inference = crate::engine::context::set_inference(true);
    let device = model.device();
    let mut it = EpochIterator::new(a, args.steps)?.on_device(device.clone());
    let params = Params {
        verbose: rank_zero_verbose(args.verbose),
        epochs: 1,
        steps: it.num_batches(),
    };
    let resolver = Resolver::new(model, None);
    let mut callbacks = CallbackList::new(args.callbacks, false, params, None);
    build_from_first_batch(model, &mut it, &resolver, false)?;
    callbacks.set_model(model)?;
    callbacks.on_predict_begin(model)?;
    let mut parts: Vec<Vec<Tensor>> = vec![];
    let steps = it.epoch(|i, batch| {
        callbacks.on_predict_batch_begin(model, i)?;
        let feed = resolver.resolve(batch, false)?;
        let (_, net) = model.parts();
        Network::ensure_built(&net, &feed.xs)?;
        // In a data-parallel job each process predicts its rows of the batch, and every
        // process then gathers the whole batch's outputs.
        let n = feed.xs.first().map(|t| t.dim(0)).transpose()?.unwrap_or(0);
        let rows = crate::distribution::predict_rows(n);
        let xs = match rows {
            Some((start, end)) => feed
                .xs
                .iter()
                .map(|t| t.narrow(0, start, end - start))
                .collect::<std::result::Result<Vec<_>, _>>()?,
            None => feed.xs,
        };
        let xs = crate::ops::to_device_all(&xs, &device)?;
        // Keras's `predict` returns host (NumPy) arrays: the outputs come back to the CPU.
        let out: Vec<Tensor> = Network::forward(&net, &xs, false)?
            .iter()
            .map(|t| t.detach().to_device(&crate::ops::Device::Cpu))
            .collect::<std::result::Result<_, _>>()?;
        let out = match rows {
            Some(_) => crate::distribution::gather_rows(&out, n)?,
            None => out,
        };
        callbacks.on_predict_batch_end(model, i, &out)?;
        if parts.is_empty() {
            parts = vec![vec![]; out.len()];
        }
        for (p, o) in parts.iter_mut().zip(out) {
            p.push(o);
        }
        Ok(Flow::Continue)
    })?;
    if steps == 0 {
        return Err(Error::value(
            "The data is empty: the source produced no batches.",
        ));
    }
    callbacks.on_predict_end(model)?;
    parts.iter().map(|p| Ok(Tensor::cat(p, 0)?)).collect()
}

/// `verbose` on rank 0 of a data-parallel job, 0 (silent) on the others.
fn rank_zero_verbose(verbose: u8) -> u8 {
    if crate::distribution::active().is_some_and(|g| g.rank() != 0) {
        0
    } else {
        verbose
    }
}
