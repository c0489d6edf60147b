//! The training loop: `fit`, `evaluate`, `predict` and the single-batch variants, as Keras 3's
//! `Trainer` (`keras/src/trainers/trainer.py`).

use super::batch_args::BatchArgs;
use super::compile::{self, CompileArgs, MetricsSpec, OutputLoss};
use super::data::Data;
use super::data_adapters::Arrays;
use super::Network;
use crate::callbacks::Logs;
use crate::engine::Weight;
use crate::metrics::{Mean, Metric};
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
    loss_spec: compile::LossSpec,
    loss_weights: Option<compile::LossWeights>,
    metric_spec: MetricsSpec,
    /// The metrics as `compile_config` lists them (the spec is consumed on first use).
    metrics_config: serde_json::Value,
    losses: Option<Vec<Option<OutputLoss>>>,
    metrics: Option<Vec<Vec<Box<dyn Metric>>>>,
    weighted_metric_spec: MetricsSpec,
    /// The weighted metrics as `compile_config` lists them.
    weighted_metrics_config: serde_json::Value,
    /// Metrics updated with the sample weights (Keras's `weighted_metrics`).
    weighted_metrics: Option<Vec<Vec<Box<dyn Metric>>>>,
    loss_tracker: Mean,
    output_loss_trackers: Vec<Mean>,
}

/// A model's training state (what `compile` set up).
#[derive(Default)]
pub struct Trainer {
    compiled: Option<Compiled>,
}

/// Metrics as Keras's `compile_config` lists them.
fn metrics_config(spec: &MetricsSpec) -> serde_json::Value {
    use serde_json::{json, Value};
    let metric = |m: &crate::metrics::MetricArg| match m {
        crate::metrics::MetricArg::Name(n) => json!(n),
        crate::metrics::MetricArg::Value(m) => json!(m.name()),
    };
    match spec {
        MetricsSpec::All(v) if v.is_empty() => Value::Null,
        MetricsSpec::All(v) => Value::Array(v.iter().map(metric).collect()),
        MetricsSpec::PerOutput(v) => Value::Array(
            v.iter()
                .map(|o| Value::Array(o.iter().map(metric).collect()))
                .collect(),
        ),
        MetricsSpec::Map(m) => Value::Object(
            m.iter()
                .map(|(k, o)| (k.clone(), Value::Array(o.iter().map(metric).collect())))
                .collect(),
        ),
    }
}

pub(crate) fn not_compiled() -> Error {
    Error::runtime("You must call `compile()` before using the model.")
}

impl Trainer {
    /// Configures training. Unknown optimizer, loss or metric names fail here.
    pub fn compile(&mut self, args: CompileArgs) -> Result<()> {
        let optimizer = args.optimizer.resolve()?;
        // Resolve names now so typos fail at compile time.
        match &args.loss {
            compile::LossSpec::One(l) => {
                l.resolve()?;
            }
            compile::LossSpec::List(v) => v.iter().try_for_each(|l| l.resolve().map(|_| ()))?,
            compile::LossSpec::Map(m) => m.iter().try_for_each(|(_, l)| l.resolve().map(|_| ()))?,
        }
        compile::check_metric_names(&args.metrics)?;
        compile::check_metric_names(&args.weighted_metrics)?;
        self.compiled = Some(Compiled {
            optimizer,
            loss_spec: args.loss,
            loss_weights: args.loss_weights,
            metrics_config: metrics_config(&args.metrics),
            metric_spec: args.metrics,
            losses: None,
            metrics: None,
            weighted_metrics_config: metrics_config(&args.weighted_metrics),
            weighted_metric_spec: args.weighted_metrics,
            weighted_metrics: None,
            loss_tracker: Mean::new("loss"),
            output_loss_trackers: vec![],
        });
        Ok(())
    }

    /// Keras's `compile_config` (optimizer, loss, loss_weights, metrics), once compiled.
    pub(crate) fn compile_config(&self) -> Option<serde_json::Value> {
        use serde_json::{json, Value};
        let c = self.compiled.as_ref()?;
        let loss = |l: &crate::losses::LossArg| match &l.0 {
            Ok(loss) => loss.get_config(),
            Err(name) => json!(name),
        };
        let loss_v = match &c.loss_spec {
            compile::LossSpec::One(l) => loss(l),
            compile::LossSpec::List(v) => Value::Array(v.iter().map(loss).collect()),
            compile::LossSpec::Map(m) => {
                Value::Object(m.iter().map(|(k, l)| (k.clone(), loss(l))).collect())
            }
        };
        let weights = match &c.loss_weights {
            None => Value::Null,
            Some(compile::LossWeights::List(v)) => json!(v),
            Some(compile::LossWeights::Map(m)) => {
                Value::Object(m.iter().map(|(k, w)| (k.clone(), json!(w))).collect())
            }
        };
        Some(json!({
            "optimizer": c.optimizer.get_config(),
            "loss": loss_v,
            "loss_weights": weights,
            "metrics": c.metrics_config.clone(),
            "weighted_metrics": c.weighted_metrics_config.clone(),
            "run_eagerly": false,
            "steps_per_execution": 1,
            "jit_compile": false,
        }))
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
        let mut v = vec!["loss".to_string()];
        v.extend(c.output_loss_trackers.iter().map(|m| m.name().to_string()));
        let mut names: Vec<String> = c.all_metrics().map(|m| m.name().to_string()).collect();
        names.sort();
        v.extend(names);
        v
    }

    /// Which way the compiled metric called `name` improves (known after the first batch).
    pub fn metric_direction(&self, name: &str) -> Option<crate::metrics::Direction> {
        let c = self.compiled.as_ref()?;
        c.all_metrics().find(|m| m.name() == name)?.direction()
    }

    pub(crate) fn reset_metrics(&mut self) {
        if let Some(c) = &mut self.compiled {
            c.loss_tracker.reset();
            c.output_loss_trackers.iter_mut().for_each(Mean::reset);
            for ms in [&mut c.metrics, &mut c.weighted_metrics]
                .into_iter()
                .flatten()
            {
                ms.iter_mut().flatten().for_each(|m| m.reset_state());
            }
        }
    }

    /// Keras's order: `loss`, each output's loss, then the metrics sorted by name.
    pub(crate) fn logs(&self) -> Logs {
        let mut logs = Logs::default();
        if let Some(c) = &self.compiled {
            logs.insert("loss", f32r(c.loss_tracker.value()));
            for t in &c.output_loss_trackers {
                logs.insert(t.name(), f32r(t.value()));
            }
            let mut v: Vec<(&str, f64)> = c.all_metrics().map(|m| (m.name(), m.result())).collect();
            v.sort_by(|a, b| a.0.cmp(b.0));
            for (n, r) in v {
                logs.insert(n, f32r(r));
            }
        }
        logs
    }

    /// Resolves losses and metrics for the model's outputs (on the first batch, when shapes
    /// are known).
    fn ensure_resolved(
        &mut self,
        net: &dyn Network,
        ys: &[Tensor],
        preds: &[Tensor],
    ) -> Result<()> {
        let c = self.compiled.as_mut().ok_or_else(not_compiled)?;
        if c.losses.is_some() {
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
        let losses = compile::resolve_losses(&c.loss_spec, &c.loss_weights, &names)?;
        c.output_loss_trackers = if preds.len() > 1 {
            names
                .iter()
                .zip(&losses)
                .filter(|(_, l)| l.is_some())
                .map(|(n, _)| Mean::new(&format!("{n}_loss")))
                .collect()
        } else {
            vec![]
        };
        let (plain, weighted) = compile::build_metrics(
            &mut c.metric_spec,
            &mut c.weighted_metric_spec,
            &names,
            ys,
            preds,
        )?;
        c.metrics = Some(plain);
        c.weighted_metrics = Some(weighted);
        c.losses = Some(losses);
        Ok(())
    }

    /// Total loss (weighted sum of output losses plus weight penalties) and each output's loss
    /// (sample-weighted, before its loss weight, as Keras's per-output loss trackers show it).
    /// Without sample weights each loss takes its fused path.
    fn compute_loss(
        &self,
        ys: &[Tensor],
        preds: &[Tensor],
        sample_weight: &[Tensor],
        penalized: &[Weight],
    ) -> Result<(Tensor, Vec<f64>)> {
        let c = self.compiled.as_ref().ok_or_else(not_compiled)?;
        let losses = c.losses.as_ref().expect("resolved before use");
        let mut total: Option<Tensor> = None;
        let mut per_output = vec![];
        for (i, ((l, y), p)) in losses.iter().zip(ys).zip(preds).enumerate() {
            let Some(l) = l else { continue };
            let v = match output_weight(sample_weight, i) {
                None => l.loss.call(y, p)?,
                Some(w) => l.loss.call_weighted(y, p, Some(w))?,
            };
            if v.rank() != 0 {
                return Err(Error::value(format!(
                    "The loss `{}` returned a value of shape {}; training needs a scalar loss \
                     (a reduction other than `none`).",
                    l.loss.name(),
                    crate::engine::tuple(v.dims())
                )));
            }
            if losses.len() > 1 {
                per_output.push(ops::scalar(&v)?);
            }
            let v = if l.weight == 1.0 { v } else { (v * l.weight)? };
            total = Some(match total {
                None => v,
                Some(t) => (t + v)?,
            });
        }
        let mut total = total
            .ok_or_else(|| Error::value("No loss to compute: every output's loss is None."))?;
        for w in penalized {
            if let Some(p) = w.penalty()? {
                total = (total.clone() + p.to_dtype(total.dtype())?.reshape(())?)?;
            }
        }
        // Losses layers added during the forward pass (activity regularization).
        for p in crate::engine::context::take_losses() {
            total = (total.clone() + p.to_dtype(total.dtype())?.reshape(())?)?;
        }
        Ok((total, per_output))
    }

    /// The loss trackers (each batch weighted by its size, as Keras's) and the compiled
    /// metrics: plain ones unweighted, weighted ones with the sample weights.
    fn update_metrics(
        &mut self,
        loss: f64,
        per_output: &[f64],
        ys: &[Tensor],
        preds: &[Tensor],
        sample_weight: &[Tensor],
        n: usize,
    ) -> Result<()> {
        let c = self.compiled.as_mut().ok_or_else(not_compiled)?;
        c.loss_tracker.add(loss, n as f64);
        for (t, v) in c.output_loss_trackers.iter_mut().zip(per_output) {
            t.add(*v, n as f64);
        }
        c.update_compiled_metrics(ys, preds, sample_weight)
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
        let _losses = crate::engine::context::collect_losses();
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
        let n = batch_size(xs);
        let preds = net.forward(xs, true)?;
        check_sample_weights(sample_weight, preds.len(), n)?;
        self.ensure_resolved(net, ys, &preds)?;
        let penalized: Vec<Weight> = weights
            .iter()
            .filter(|w| w.has_regularizer())
            .cloned()
            .collect();
        let (total, per_output) = self.compute_loss(ys, &preds, sample_weight, &penalized)?;
        let loss = ops::scalar(&total)?;
        if !loss.is_finite() {
            // No update from a non-finite loss (the weights stay as they were); the loss
            // metric shows it, so callbacks such as TerminateOnNaN see it.
            if let Some(c) = self.compiled.as_mut() {
                c.loss_tracker.add(loss, n as f64);
            }
            return Ok(loss);
        }
        let grads = total.backward()?;
        let gv = crate::engine::gradients(&grads, weights)?;
        self.compiled
            .as_mut()
            .ok_or_else(not_compiled)?
            .optimizer
            .apply_gradients(&gv)?;
        let preds: Vec<Tensor> = preds.iter().map(Tensor::detach).collect();
        self.update_metrics(loss, &per_output, ys, &preds, sample_weight, n)?;
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
        let _losses = crate::engine::context::collect_losses();
        let n = batch_size(xs);
        let preds = net.forward(xs, false)?;
        check_sample_weights(sample_weight, preds.len(), n)?;
        self.ensure_resolved(net, ys, &preds)?;
        let penalized: Vec<Weight> = weights
            .iter()
            .filter(|w| w.has_regularizer())
            .cloned()
            .collect();
        let (total, per_output) = self.compute_loss(ys, &preds, sample_weight, &penalized)?;
        let loss = ops::scalar(&total)?;
        self.update_metrics(loss, &per_output, ys, &preds, sample_weight, n)
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

impl Compiled {
    /// Plain then weighted compiled metrics.
    fn all_metrics(&self) -> impl Iterator<Item = &Box<dyn Metric>> {
        self.metrics
            .iter()
            .chain(&self.weighted_metrics)
            .flatten()
            .flatten()
    }

    /// Keras's `CompileMetrics.update_state`: plain metrics without the sample weights,
    /// weighted ones with each output's.
    fn update_compiled_metrics(
        &mut self,
        ys: &[Tensor],
        preds: &[Tensor],
        sample_weight: &[Tensor],
    ) -> Result<()> {
        if let Some(ms) = &mut self.metrics {
            for ((m, y), p) in ms.iter_mut().zip(ys).zip(preds) {
                for metric in m {
                    metric.update_state(y, p, None)?;
                }
            }
        }
        if let Some(ms) = &mut self.weighted_metrics {
            for (i, ((m, y), p)) in ms.iter_mut().zip(ys).zip(preds).enumerate() {
                let w = output_weight(sample_weight, i);
                for metric in m {
                    metric.update_state(y, p, w)?;
                }
            }
        }
        Ok(())
    }
}

/// Samples in a batch (the first input's first axis).
fn batch_size(xs: &[Tensor]) -> usize {
    xs.first()
        .map(|x| x.dims().first().copied().unwrap_or(1))
        .unwrap_or(0)
}

/// The sample weights of output `i`: none, the one array given for all, or its own.
fn output_weight(sample_weight: &[Tensor], i: usize) -> Option<&Tensor> {
    match sample_weight.len() {
        0 => None,
        1 => sample_weight.first(),
        _ => sample_weight.get(i),
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
        self.trainer.ensure_resolved(self.net, y, y_pred)?;
        let penalized: Vec<Weight> = self
            .weights
            .iter()
            .filter(|w| w.has_regularizer())
            .cloned()
            .collect();
        let (total, per_output) =
            self.trainer
                .compute_loss(y, y_pred, sample_weight, &penalized)?;
        let n = batch_size(y) as f64;
        let c = self.trainer.compiled.as_mut().ok_or_else(not_compiled)?;
        c.loss_tracker.add(ops::scalar(&total)?, n);
        for (t, v) in c.output_loss_trackers.iter_mut().zip(&per_output) {
            t.add(*v, n);
        }
        Ok(total)
    }

    /// The model's trainable weights.
    pub fn trainable_weights(&self) -> Vec<Weight> {
        self.weights.to_vec()
    }

    /// Gradients of `loss` with respect to `weights` (Keras's `tape.gradient`); weights the
    /// loss does not depend on are left out.
    pub fn gradients(&self, loss: &Tensor, weights: &[Weight]) -> Result<Vec<(Tensor, Weight)>> {
        let grads = loss.backward()?;
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
        self.trainer.ensure_resolved(self.net, y, y_pred)?;
        let c = self.trainer.compiled.as_mut().ok_or_else(not_compiled)?;
        let preds: Vec<Tensor> = y_pred.iter().map(Tensor::detach).collect();
        c.update_compiled_metrics(y, &preds, sample_weight)
    }

    /// The current metric values, `loss` included.
    pub fn metrics(&self) -> Logs {
        self.trainer.logs()
    }
}
