//! The training loop: `fit`, `evaluate`, `predict` and the single-batch variants, as Keras 3's
//! `Trainer` (`keras/src/trainers/trainer.py`).

use super::batch_args::BatchArgs;
use super::compile::CompileArgs;
use super::compile_utils::{batch_size, CompileLoss, CompileMetrics};
use super::data::Data;
use super::data_adapters::Arrays;
use super::Network;
use crate::callbacks::Logs;
use crate::engine::Weight;
use crate::ops::{self, Tensor};
use crate::optimizers::Optimizer;
use crate::{Error, Result};

/// A metric value as the float32 Keras computes it, widened (`float(np.float32(x))`).
fn f32r(v: f64) -> f64 {
    v as f32 as f64
}

/// The compiled state: optimizer, losses, metrics.
pub(crate) struct Compiled {
    optimizer: Box<dyn Optimizer>,
    loss: CompileLoss,
    metrics: CompileMetrics,
}

/// A model's training state (what `compile` set up).
#[derive(Default)]
pub struct Trainer {
    compiled: Option<Compiled>,
}

pub(crate) fn not_compiled() -> Error {
    Error::runtime("You must call `compile()` before using the model.")
}

impl Trainer {
    /// Configures training. Unknown optimizer, loss or metric names fail here.
    pub fn compile(&mut self, args: CompileArgs) -> Result<()> {
        let optimizer = args.optimizer.resolve()?;
        self.compiled = Some(Compiled {
            optimizer,
            loss: CompileLoss::new(args.loss, args.loss_weights)?,
            metrics: CompileMetrics::new(args.metrics, args.weighted_metrics)?,
        });
        Ok(())
    }

    /// Keras's `compile_config` (optimizer, loss, loss_weights, metrics, weighted_metrics),
    /// once compiled: each object as its `get_config` writes it, names as given.
    pub(crate) fn compile_config(&self) -> Option<serde_json::Value> {
        let c = self.compiled.as_ref()?;
        Some(super::compile_config::compile_config(
            c.optimizer.as_ref(),
            c.loss.get_config(),
            c.metrics.get_config(),
        ))
    }

    /// Compiles from a Keras `compile_config` (Keras's `compile_from_config`; see
    /// [`CompileArgs::from_config`]).
    pub fn compile_from_config(&mut self, config: &serde_json::Value) -> Result<()> {
        self.compile(CompileArgs::from_config(config)?)
    }

    /// Whether `compile` has been called.
    pub fn compiled(&self) -> bool {
        self.compiled.is_some()
    }

    /// The optimizer, once compiled.
    pub fn optimizer(&mut self) -> Option<&mut (dyn Optimizer + 'static)> {
        self.compiled.as_mut().map(|c| c.optimizer.as_mut())
    }

    /// The optimizer, once compiled, to read.
    pub fn optimizer_ref(&self) -> Option<&(dyn Optimizer + 'static)> {
        self.compiled.as_ref().map(|c| c.optimizer.as_ref())
    }

    /// Scalars and bytes of optimizer state (for `summary`).
    pub(crate) fn optimizer_size(&self) -> (usize, f64) {
        self.compiled
            .as_ref()
            .map(|c| c.optimizer.state_size())
            .unwrap_or((0, 0.0))
    }

    /// The names in `evaluate`'s list: `loss`, per-output losses, then metrics.
    pub fn metrics_names(&self) -> Vec<String> {
        let Some(c) = &self.compiled else {
            return vec![];
        };
        let mut v: Vec<String> = c.loss.trackers().map(|m| m.name().to_string()).collect();
        let mut names: Vec<String> = c.metrics.iter().map(|m| m.name().to_string()).collect();
        names.sort();
        v.extend(names);
        v
    }

    /// Which way the compiled metric called `name` improves (known after the first batch).
    pub fn metric_direction(&self, name: &str) -> Option<crate::metrics::Direction> {
        let c = self.compiled.as_ref()?;
        c.metrics.iter().find(|m| m.name() == name)?.direction()
    }

    pub(crate) fn reset_metrics(&mut self) {
        if let Some(c) = &mut self.compiled {
            c.loss.reset_state();
            c.metrics.reset_state();
        }
    }

    /// Keras's order: `loss`, each output's loss, then the metrics sorted by name.
    pub(crate) fn logs(&self) -> Logs {
        let mut logs = Logs::default();
        if let Some(c) = &self.compiled {
            for t in c.loss.trackers() {
                logs.insert(t.name(), f32r(t.value()));
            }
            let mut v: Vec<(&str, f64)> =
                c.metrics.iter().map(|m| (m.name(), m.result())).collect();
            v.sort_by(|a, b| a.0.cmp(b.0));
            for (n, r) in v {
                logs.insert(n, f32r(r));
            }
        }
        logs
    }

    /// [`Trainer::logs`] over every process of a data-parallel job (the same on each): every
    /// loss tracker's and metric's state is summed over the processes before its result is
    /// read, as Keras's metric variables aggregate by sum, so precision, AUC or IoU are the
    /// global batch's, not a mean of the processes'; a metric without state variables is
    /// averaged, weighted by the `rows` each process has seen. The local state stays as it was.
    pub(crate) fn global_logs(&mut self, rows: usize) -> Result<Logs> {
        if crate::distribution::active().is_none() {
            return Ok(self.logs());
        }
        let c = self.compiled.as_mut().ok_or_else(not_compiled)?;
        fn states(c: &mut Compiled) -> Vec<&mut (dyn crate::metrics::Metric + 'static)> {
            let trackers = c
                .loss
                .trackers_mut()
                .map(|m| m as &mut (dyn crate::metrics::Metric + 'static));
            trackers
                .chain(c.metrics.iter_mut().map(|m| m.as_mut()))
                .collect()
        }
        let local: Vec<Vec<Tensor>> = states(c).iter().map(|m| m.variables()).collect();
        let stateless: Vec<String> = states(c)
            .iter()
            .zip(&local)
            .filter(|(_, v)| v.is_empty())
            .map(|(m, _)| m.name().to_string())
            .collect();
        let summed = crate::distribution::sum_states(&local)?;
        // A metric with no state yet (an AUC before its first batch) is left alone.
        let set = |c: &mut Compiled, values: &[Vec<Tensor>]| -> Result<()> {
            let mut first_error = Ok(());
            for (m, v) in states(c).into_iter().zip(values) {
                if !v.is_empty() {
                    if let Err(e) = m.set_variables(v) {
                        first_error = first_error.and(Err(e));
                    }
                }
            }
            first_error
        };
        let summed_set = set(c, &summed);
        let logs = summed_set.as_ref().ok().map(|_| self.logs());
        // The local state comes back whatever happened (every metric is tried).
        let c = self.compiled.as_mut().ok_or_else(not_compiled)?;
        set(c, &local)?;
        summed_set?;
        let mut logs = logs.unwrap_or_default();
        if !stateless.is_empty() {
            let mut part = Logs::default();
            for k in &stateless {
                if let Some(v) = logs.get(k) {
                    part.insert(k, v);
                }
            }
            crate::distribution::reduce_logs(&mut part, rows)?;
            for (k, v) in part.iter() {
                logs.insert(k, v);
            }
        }
        Ok(logs)
    }

    /// Builds the compiled losses and metrics for the model's outputs (on the first batch,
    /// when shapes are known).
    fn build(&mut self, net: &dyn Network, ys: &[Tensor], preds: &[Tensor]) -> Result<()> {
        let c = self.compiled.as_mut().ok_or_else(not_compiled)?;
        if c.loss.built() {
            return Ok(());
        }
        let mut names = net.output_names();
        if names.len() != preds.len() {
            names = (0..preds.len())
                .map(|i| format!("output_{}", i + 1))
                .collect();
        }
        if ys.len() != preds.len() {
            return Err(Error::value(format!(
                "The model has {} output(s) ({}), but {} target array(s) were given.",
                preds.len(),
                names.join(", "),
                ys.len()
            )));
        }
        c.metrics.build(&names, ys, preds)?;
        c.loss.build(&names)
    }

    /// The compiled loss of `preds` (see [`CompileLoss::call`]), building the compiled
    /// losses and metrics on the first batch.
    fn compute_loss(
        &mut self,
        net: &dyn Network,
        ys: &[Tensor],
        preds: &[Tensor],
        sample_weight: &[Tensor],
        weights: &[Weight],
    ) -> Result<Tensor> {
        self.build(net, ys, preds)?;
        let c = self.compiled.as_mut().ok_or_else(not_compiled)?;
        c.loss.call(ys, preds, sample_weight, weights)
    }

    /// The default steps' forward pass and loss: the predictions and the total loss, with
    /// Keras's checks on the sample weights.
    fn forward_loss(
        &mut self,
        net: &dyn Network,
        (xs, ys, sample_weight): (&[Tensor], &[Tensor], &[Tensor]),
        weights: &[Weight],
        training: bool,
    ) -> Result<(Vec<Tensor>, Tensor)> {
        let preds = net.forward(xs, training)?;
        // Losses and metrics compute in float32, as Keras's do under a mixed policy.
        let preds = preds
            .into_iter()
            .map(|p| match p.dtype() {
                ops::DType::F16 | ops::DType::BF16 => Ok(p.to_dtype(ops::DType::F32)?),
                _ => Ok(p),
            })
            .collect::<Result<Vec<_>>>()?;
        check_sample_weights(sample_weight, preds.len(), batch_size(xs))?;
        let total = self.compute_loss(net, ys, &preds, sample_weight, weights)?;
        Ok((preds, total))
    }

    /// The compiled metrics' update (Keras's `compute_metrics`).
    fn update_metrics(&mut self, ys: &[Tensor], preds: &[Tensor], sw: &[Tensor]) -> Result<()> {
        let c = self.compiled.as_mut().ok_or_else(not_compiled)?;
        c.metrics.update_state(ys, preds, sw)
    }

    /// One training step on one batch with sample weights: none (empty), one array for every
    /// output (as Keras repeats a single array), or one per output. Returns the batch loss.
    pub(crate) fn train_step_weighted(
        &mut self,
        net: &dyn Network,
        xs: &[Tensor],
        ys: &[Tensor],
        sample_weight: &[Tensor],
        weights: &[Weight],
    ) -> Result<f64> {
        ops::tune_allocator();
        let _ftz = ops::flush_denormals();
        // The batch goes where the weights are (a no-op when it is there already).
        let dev = crate::engine::device_of(weights);
        let (xs, ys, sample_weight) = (
            &*ops::to_device_all(xs, &dev)?,
            &*ops::to_device_all(ys, &dev)?,
            &*ops::to_device_all(sample_weight, &dev)?,
        );
        let _losses = crate::engine::context::collect_losses();
        // Every process runs this step together (layers may synchronize inside it).
        let _step = crate::distribution::step_scope();
        // Fused layers put weight gradients in the weights' sinks during this step.
        let _sinks = ops::enable_sinks();
        weights.iter().for_each(|w| w.sink().clear());
        {
            let mut ctx = StepContext {
                trainer: self,
                net,
                weights,
                sample_weight,
            };
            if let Some(logs) = net.train_step(&mut ctx, xs, ys) {
                return Ok(logs?.get("loss").unwrap_or(f64::NAN));
            }
        }
        let (preds, total) = self.forward_loss(net, (xs, ys, sample_weight), weights, true)?;
        // In a data-parallel job every process sees the global batch's loss (and so skips a
        // non-finite one together).
        let rows = batch_size(xs);
        let (loss, global_rows) = crate::distribution::mean_scalar(ops::scalar(&total)?, rows)?;
        if !loss.is_finite() {
            // No update from a non-finite loss (the weights stay as they were); the loss
            // metric shows it, so callbacks such as TerminateOnNaN see it.
            return Ok(loss);
        }
        let c = self.compiled.as_mut().ok_or_else(not_compiled)?;
        // Keras's `optimizer.scale_loss` (loss_scale_factor, LossScaleOptimizer): the
        // optimizer divides the gradients by the same factor.
        let grads = c.optimizer.scale_loss(&total)?.backward()?;
        let mut gv = crate::engine::gradients(&grads, weights)?;
        crate::distribution::average_gradients(&mut gv, rows, global_rows)?;
        c.optimizer.apply_gradients(&gv)?;
        self.update_metrics(ys, &preds, sample_weight)?;
        Ok(loss)
    }

    /// One evaluation step with sample weights (as [`Trainer::train_step_weighted`]).
    pub(crate) fn test_step_weighted(
        &mut self,
        net: &dyn Network,
        xs: &[Tensor],
        ys: &[Tensor],
        sample_weight: &[Tensor],
        weights: &[Weight],
    ) -> Result<()> {
        let dev = crate::engine::device_of(weights);
        let (xs, ys, sample_weight) = (
            &*ops::to_device_all(xs, &dev)?,
            &*ops::to_device_all(ys, &dev)?,
            &*ops::to_device_all(sample_weight, &dev)?,
        );
        let _losses = crate::engine::context::collect_losses();
        let (preds, _) = self.forward_loss(net, (xs, ys, sample_weight), weights, false)?;
        self.update_metrics(ys, &preds, sample_weight)
    }

    pub(crate) fn dataset(&self, net: &dyn Network, x: Data, y: Option<Data>) -> Result<Arrays> {
        let xs = x.resolve(&net.input_names(), "x")?;
        let ys = match y {
            Some(y) => y.resolve(&net.output_names(), "y")?,
            None => vec![],
        };
        let d = Arrays::new(xs, ys)?;
        if d.n == 0 {
            return Err(Error::value("The data is empty: `x` has 0 samples."));
        }
        // Weights must exist before the training loop lists them.
        net.ensure_built(&d.xs)?;
        Ok(d)
    }

    /// Trains on one batch; returns that batch's loss and metrics.
    pub fn train_on_batch(&mut self, net: &dyn Network, x: Data, y: Data) -> Result<Logs> {
        self.train_on_batch_with(net, x, y, BatchArgs::default())
    }

    /// Trains on one batch with sample or class weights (Keras's
    /// `train_on_batch(x, y, sample_weight=None, class_weight=None)`).
    pub fn train_on_batch_with(
        &mut self,
        net: &dyn Network,
        x: Data,
        y: Data,
        args: BatchArgs,
    ) -> Result<Logs> {
        if self.compiled.is_none() {
            return Err(not_compiled());
        }
        let d = self.dataset(net, x, Some(y))?;
        let d = args.weigh(net, d)?;
        self.reset_metrics();
        let weights = net.trainable_weights();
        let loss = self.train_step_weighted(net, &d.xs, &d.ys, &d.sw, &weights)?;
        if !loss.is_finite() {
            return Err(Error::NonFinite(format!("Batch 0: invalid loss {loss}")));
        }
        Ok(self.logs())
    }

    /// Loss and metrics on one batch.
    pub fn test_on_batch(&mut self, net: &dyn Network, x: Data, y: Data) -> Result<Logs> {
        self.test_on_batch_with(net, x, y, BatchArgs::default())
    }

    /// Loss and metrics on one batch with sample weights (Keras's
    /// `test_on_batch(x, y, sample_weight=None)`; a `class_weight` is refused, as Keras's
    /// `test_on_batch` has none).
    pub fn test_on_batch_with(
        &mut self,
        net: &dyn Network,
        x: Data,
        y: Data,
        args: BatchArgs,
    ) -> Result<Logs> {
        if self.compiled.is_none() {
            return Err(not_compiled());
        }
        if args.class_weight.is_some() {
            return Err(Error::value(
                "`test_on_batch` takes no `class_weight` (Keras's test_on_batch has no such \
                 argument): pass `sample_weight`.",
            ));
        }
        let d = self.dataset(net, x, Some(y))?;
        let d = args.weigh(net, d)?;
        self.reset_metrics();
        let weights = net.trainable_weights();
        self.test_step_weighted(net, &d.xs, &d.ys, &d.sw, &weights)?;
        Ok(self.logs())
    }
}

/// Keras's checks on sample weights: one array, or one per output; a single array for
/// several outputs holds one weight per sample; every array has the batch's samples.
fn check_sample_weights(sample_weight: &[Tensor], outputs: usize, n: usize) -> Result<()> {
    if sample_weight.len() > 1 && sample_weight.len() != outputs {
        return Err(Error::value(format!(
            "You should provide one `sample_weight` array per output in `y`. The two \
             structures did not match: the model has {outputs} output(s), {} `sample_weight` \
             arrays were given.",
            sample_weight.len()
        )));
    }
    if let [w] = sample_weight {
        let d = w.dims();
        let samplewise = d.len() == 1 || (d.len() == 2 && d[1] == 1);
        if outputs > 1 && !samplewise {
            return Err(Error::value(format!(
                "For a model with multiple outputs, when providing a single `sample_weight` \
                 array, it should only have one scalar score per sample (i.e. shape \
                 `(num_samples,)`). If you want to use non-scalar sample weights, pass a \
                 `sample_weight` argument with one array per model output. Received: shape {}",
                crate::engine::tuple(d)
            )));
        }
    }
    for w in sample_weight {
        if w.dims().first() != Some(&n) {
            return Err(Error::shape(format!(
                "Data cardinality is ambiguous. Make sure all arrays contain the same number of \
                 samples.'x' sizes: {n}\n'sample_weight' sizes: {}",
                w.dims()
                    .first()
                    .map_or("a scalar".to_string(), |k| k.to_string())
            )));
        }
    }
    Ok(())
}

/// What a custom `train_step` works with (Keras's `self(x)`, `compute_loss`, `GradientTape`,
/// `optimizer.apply_gradients`, `compiled_metrics`), for a subclassed model.
///
/// ```no_run
/// use keras::prelude::*;
/// use keras::trainers::StepContext;
/// fn train_step(step: &mut StepContext, x: &[Tensor], y: &[Tensor]) -> keras::Result<Logs> {
///     let y_pred = step.call(x, true)?;
///     let loss = step.compute_loss(y, &y_pred)?;
///     let grads = step.gradients(&loss, &step.trainable_weights())?;
///     step.apply_gradients(&grads)?;
///     step.update_metrics(y, &y_pred)?;
///     Ok(step.metrics())
/// }
/// ```
pub struct StepContext<'a> {
    trainer: &'a mut Trainer,
    net: &'a dyn Network,
    weights: &'a [Weight],
    sample_weight: &'a [Tensor],
}

impl StepContext<'_> {
    /// Runs the model (Keras's `self(x, training=True)`).
    pub fn call(&self, x: &[Tensor], training: bool) -> Result<Vec<Tensor>> {
        self.net.forward(x, training)
    }

    /// The batch's sample weights (Keras's `sample_weight` unpacked from the data): empty
    /// when none were given, else one array for every output or one per output.
    pub fn sample_weight(&self) -> &[Tensor] {
        self.sample_weight
    }

    /// The compiled loss (weighted per-output losses plus weight penalties); also updates the
    /// `loss` metric. Unweighted: see [`StepContext::compute_loss_weighted`].
    pub fn compute_loss(&mut self, y: &[Tensor], y_pred: &[Tensor]) -> Result<Tensor> {
        self.compute_loss_weighted(y, y_pred, &[])
    }

    /// Keras's `compute_loss(x, y, y_pred, sample_weight)`: the compiled loss with sample
    /// weights (e.g. [`StepContext::sample_weight`]).
    pub fn compute_loss_weighted(
        &mut self,
        y: &[Tensor],
        y_pred: &[Tensor],
        sample_weight: &[Tensor],
    ) -> Result<Tensor> {
        self.trainer
            .compute_loss(self.net, y, y_pred, sample_weight, self.weights)
    }

    /// The model's trainable weights.
    pub fn trainable_weights(&self) -> Vec<Weight> {
        self.weights.to_vec()
    }

    /// Gradients of `loss` with respect to `weights` (Keras's `tape.gradient`); weights the
    /// loss does not depend on are left out.
    pub fn gradients(&self, loss: &Tensor, weights: &[Weight]) -> Result<Vec<(Tensor, Weight)>> {
        // Scaled as the optimizer's `apply_gradients` expects (Keras's `scale_loss`).
        let c = self.trainer.compiled.as_ref().ok_or_else(not_compiled)?;
        let grads = c.optimizer.scale_loss(loss)?.backward()?;
        crate::engine::gradients(&grads, weights)
    }

    /// One optimizer step (Keras's `optimizer.apply_gradients`).
    pub fn apply_gradients(&mut self, grads_and_vars: &[(Tensor, Weight)]) -> Result<()> {
        self.trainer
            .compiled
            .as_mut()
            .ok_or_else(not_compiled)?
            .optimizer
            .apply_gradients(grads_and_vars)
    }

    /// Updates the compiled metrics (Keras's `compiled_metrics.update_state`) without
    /// sample weights.
    pub fn update_metrics(&mut self, y: &[Tensor], y_pred: &[Tensor]) -> Result<()> {
        self.update_metrics_weighted(y, y_pred, &[])
    }

    /// Updates the compiled metrics; the weighted ones with `sample_weight` (Keras's
    /// `compute_metrics(x, y, y_pred, sample_weight)`).
    pub fn update_metrics_weighted(
        &mut self,
        y: &[Tensor],
        y_pred: &[Tensor],
        sample_weight: &[Tensor],
    ) -> Result<()> {
        self.trainer.build(self.net, y, y_pred)?;
        self.trainer.update_metrics(y, y_pred, sample_weight)
    }

    /// The current metric values, `loss` included.
    pub fn metrics(&self) -> Logs {
        self.trainer.logs()
    }
}
