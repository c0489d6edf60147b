//! The compiled losses and metrics, as Keras's `keras/src/trainers/compile_utils.py`:
//! [`CompileLoss`] turns each output's loss (with its loss weight and sample weights), the
//! weights' regularization penalties and the losses layers added into one total and updates
//! the loss trackers; [`CompileMetrics`] updates the compiled metrics. The default
//! `train_step` / `test_step` and a custom `train_step`'s [`StepContext`](super::StepContext)
//! both go through them.

use super::compile::{self, LossSpec, LossWeights, MetricLists, MetricsSpec, OutputLoss};
use crate::engine::Weight;
use crate::metrics::{Mean, Metric, MetricArg};
use crate::ops::{self, Tensor};
use crate::{Error, Result};
use serde_json::{json, Value};

/// Samples in a batch: the first axis of the first tensor (1 for a scalar, 0 for none).
pub(crate) fn batch_size(ts: &[Tensor]) -> usize {
    ts.first()
        .map(|t| t.dims().first().copied().unwrap_or(1))
        .unwrap_or(0)
}

/// The sample weights of output `i`: none, the one array given for all, or its own.
pub(crate) fn output_weight(sample_weight: &[Tensor], i: usize) -> Option<&Tensor> {
    match sample_weight.len() {
        0 => None,
        1 => sample_weight.first(),
        _ => sample_weight.get(i),
    }
}

/// Keras's `CompileLoss` with the `loss` tracker: the losses as compiled, resolved for the
/// model's outputs on the first batch.
pub(crate) struct CompileLoss {
    spec: LossSpec,
    weights: Option<LossWeights>,
    losses: Option<Vec<Option<OutputLoss>>>,
    tracker: Mean,
    output_trackers: Vec<Mean>,
}

impl CompileLoss {
    /// The compiled losses; names are resolved now, so a typo fails at `compile`.
    pub(crate) fn new(spec: LossSpec, weights: Option<LossWeights>) -> Result<Self> {
        match &spec {
            LossSpec::One(l) => l.resolve().map(|_| ())?,
            LossSpec::List(v) => v.iter().try_for_each(|l| l.resolve().map(|_| ()))?,
            LossSpec::Map(m) => m.iter().try_for_each(|(_, l)| l.resolve().map(|_| ()))?,
        }
        Ok(CompileLoss {
            spec,
            weights,
            losses: None,
            tracker: Mean::new("loss"),
            output_trackers: vec![],
        })
    }

    /// Whether [`CompileLoss::build`] ran.
    pub(crate) fn built(&self) -> bool {
        self.losses.is_some()
    }

    /// Each output's loss and weight, and a `<output>_loss` tracker per output with a loss
    /// when there are several outputs.
    pub(crate) fn build(&mut self, outputs: &[String]) -> Result<()> {
        let losses = compile::resolve_losses(&self.spec, &self.weights, outputs)?;
        self.output_trackers = if outputs.len() > 1 {
            outputs
                .iter()
                .zip(&losses)
                .filter(|(_, l)| l.is_some())
                .map(|(n, _)| Mean::new(&format!("{n}_loss")))
                .collect()
        } else {
            vec![]
        };
        self.losses = Some(losses);
        Ok(())
    }

    /// The total loss: each output's loss (with its sample weights, times its loss weight),
    /// plus the penalties of the regularized `weights` and the losses layers added in the
    /// forward pass (Keras's `Trainer.compute_loss`). Updates the `loss` tracker with the
    /// total and each output's tracker with its loss before its weight, every batch counting
    /// its samples (the first output's first axis). Without sample weights each loss takes
    /// its fused path.
    pub(crate) fn call(
        &mut self,
        ys: &[Tensor],
        preds: &[Tensor],
        sample_weight: &[Tensor],
        weights: &[Weight],
    ) -> Result<Tensor> {
        let losses = self
            .losses
            .as_ref()
            .ok_or_else(|| Error::runtime("the compiled loss is used before it is built"))?;
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
        let penalties = weights.iter().filter_map(|w| w.penalty().transpose());
        let added = crate::engine::context::take_losses().into_iter().map(Ok);
        for p in penalties.chain(added) {
            total = (total.clone() + p?.to_dtype(total.dtype())?.reshape(())?)?;
        }
        let n = batch_size(preds) as f64;
        self.tracker.add(ops::scalar(&total)?, n);
        for (t, v) in self.output_trackers.iter_mut().zip(&per_output) {
            t.add(*v, n);
        }
        Ok(total)
    }

    /// The `loss` tracker, then each output's.
    pub(crate) fn trackers(&self) -> impl Iterator<Item = &Mean> {
        std::iter::once(&self.tracker).chain(&self.output_trackers)
    }

    /// [`CompileLoss::trackers`], to restore their state.
    pub(crate) fn trackers_mut(&mut self) -> impl Iterator<Item = &mut Mean> {
        std::iter::once(&mut self.tracker).chain(&mut self.output_trackers)
    }

    /// Clears the trackers.
    pub(crate) fn reset_state(&mut self) {
        self.tracker.reset();
        self.output_trackers.iter_mut().for_each(Mean::reset);
    }

    /// The `loss` and `loss_weights` of Keras's `compile_config`: each loss as its
    /// `get_config` writes it (a name, or `{module, class_name, config}`).
    pub(crate) fn get_config(&self) -> (Value, Value) {
        let loss = |l: &crate::losses::LossArg| match &l.0 {
            Ok(loss) => loss.get_config(),
            Err(name) => json!(name),
        };
        let loss_v = match &self.spec {
            LossSpec::One(l) => loss(l),
            LossSpec::List(v) => Value::Array(v.iter().map(loss).collect()),
            LossSpec::Map(m) => {
                Value::Object(m.iter().map(|(k, l)| (k.clone(), loss(l))).collect())
            }
        };
        let weights = match &self.weights {
            None => Value::Null,
            Some(LossWeights::List(v)) => json!(v),
            Some(LossWeights::Map(m)) => {
                Value::Object(m.iter().map(|(k, w)| (k.clone(), json!(w))).collect())
            }
        };
        (loss_v, weights)
    }
}

/// Keras's `CompileMetrics`: the plain and the weighted metrics as compiled, made for the
/// model's outputs on the first batch.
pub(crate) struct CompileMetrics {
    spec: MetricsSpec,
    weighted_spec: MetricsSpec,
    /// `metrics` and `weighted_metrics` as `compile_config` lists them (the specs are used
    /// up by [`CompileMetrics::build`]).
    config: (Value, Value),
    metrics: Option<MetricLists>,
    weighted_metrics: Option<MetricLists>,
}

impl CompileMetrics {
    /// The compiled metrics; names are checked now, so a typo fails at `compile`.
    pub(crate) fn new(metrics: MetricsSpec, weighted_metrics: MetricsSpec) -> Result<Self> {
        compile::check_metric_names(&metrics)?;
        compile::check_metric_names(&weighted_metrics)?;
        Ok(CompileMetrics {
            config: (metrics_config(&metrics), metrics_config(&weighted_metrics)),
            spec: metrics,
            weighted_spec: weighted_metrics,
            metrics: None,
            weighted_metrics: None,
        })
    }

    /// Makes each output's metric objects (named as Keras's `CompileMetrics.result`).
    pub(crate) fn build(
        &mut self,
        outputs: &[String],
        ys: &[Tensor],
        preds: &[Tensor],
    ) -> Result<()> {
        let (plain, weighted) =
            compile::build_metrics(&mut self.spec, &mut self.weighted_spec, outputs, ys, preds)?;
        self.metrics = Some(plain);
        self.weighted_metrics = Some(weighted);
        Ok(())
    }

    /// Keras's `CompileMetrics.update_state`: plain metrics without the sample weights,
    /// weighted ones with each output's; the predictions are read detached.
    pub(crate) fn update_state(
        &mut self,
        ys: &[Tensor],
        preds: &[Tensor],
        sample_weight: &[Tensor],
    ) -> Result<()> {
        let lists = [
            (&mut self.metrics, false),
            (&mut self.weighted_metrics, true),
        ];
        for (lists, weighted) in lists {
            for (i, ((ms, y), p)) in lists.iter_mut().flatten().zip(ys).zip(preds).enumerate() {
                if ms.is_empty() {
                    continue;
                }
                let p = p.detach();
                let w = if weighted {
                    output_weight(sample_weight, i)
                } else {
                    None
                };
                for m in ms {
                    m.update_state(y, &p, w)?;
                }
            }
        }
        Ok(())
    }

    /// Plain then weighted metrics.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Box<dyn Metric>> {
        self.metrics
            .iter()
            .chain(&self.weighted_metrics)
            .flatten()
            .flatten()
    }

    /// [`CompileMetrics::iter`], to restore their state.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut Box<dyn Metric>> {
        self.metrics
            .iter_mut()
            .chain(&mut self.weighted_metrics)
            .flatten()
            .flatten()
    }

    /// Clears every metric.
    pub(crate) fn reset_state(&mut self) {
        for ms in [&mut self.metrics, &mut self.weighted_metrics]
            .into_iter()
            .flatten()
        {
            ms.iter_mut().flatten().for_each(|m| m.reset_state());
        }
    }

    /// `metrics` and `weighted_metrics` as Keras's `compile_config` lists them.
    pub(crate) fn get_config(&self) -> (Value, Value) {
        self.config.clone()
    }
}

/// Metrics as Keras's `compile_config` lists them: a name as given (`"accuracy"`), an
/// object as its `get_config` writes it (`{module, class_name, config}`); no metrics: null.
fn metrics_config(spec: &MetricsSpec) -> Value {
    let metric = |m: &MetricArg| match m {
        MetricArg::Name(n) => json!(n),
        MetricArg::Value(m) => m.get_config(),
    };
    let list = |v: &[MetricArg]| Value::Array(v.iter().map(metric).collect());
    match spec {
        MetricsSpec::All(v) if v.is_empty() => Value::Null,
        MetricsSpec::All(v) => list(v),
        MetricsSpec::PerOutput(v) => Value::Array(v.iter().map(|o| list(o)).collect()),
        MetricsSpec::Map(m) => Value::Object(m.iter().map(|(k, o)| (k.clone(), list(o))).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{DType, Device};

    fn t(v: &[f32], d: &[usize]) -> Tensor {
        Tensor::from_vec(v.to_vec(), d, &Device::Cpu).unwrap()
    }

    /// Two outputs: the total is the loss-weighted sum; each output's tracker shows its loss
    /// before its weight; the per-output sample weights apply to their output only.
    #[test]
    fn weighted_total_and_trackers() {
        let mut l = CompileLoss::new(
            LossSpec::from(["mse", "mae"]),
            Some(LossWeights::from([2.0, 0.5])),
        )
        .unwrap();
        let names = ["a".to_string(), "b".to_string()];
        l.build(&names).unwrap();
        let y = t(&[0.0, 0.0], &[2, 1]);
        let p = [t(&[1.0, 3.0], &[2, 1]), t(&[2.0, 4.0], &[2, 1])];
        let sw = [t(&[1.0, 0.0], &[2]), t(&[1.0, 1.0], &[2])];
        let total = l.call(&[y.clone(), y], &p, &sw, &[]).unwrap();
        // mse with weights (1, 0): (1 + 0) / 2 = 0.5; mae: (2 + 4) / 2 = 3.
        assert!((ops::scalar(&total).unwrap() - (2.0 * 0.5 + 0.5 * 3.0)).abs() < 1e-6);
        let v: Vec<(String, f64)> = l
            .trackers()
            .map(|m| (m.name().to_string(), m.value()))
            .collect();
        assert_eq!(v[1], ("a_loss".to_string(), 0.5));
        assert_eq!(v[2], ("b_loss".to_string(), 3.0));
        l.reset_state();
        assert!(l.trackers().all(|m| m.value() == 0.0));
        assert!(CompileLoss::new(LossSpec::from("msee"), None).is_err());
    }

    /// Plain metrics ignore the sample weights, weighted ones use them; configs keep names.
    #[test]
    fn plain_and_weighted_metrics() {
        let mut m = CompileMetrics::new(
            MetricsSpec::from(["accuracy"]),
            MetricsSpec::from(["accuracy"]),
        )
        .unwrap();
        assert_eq!(m.get_config(), (json!(["accuracy"]), json!(["accuracy"])));
        let y = t(&[1.0, 0.0], &[2, 1]);
        let p = t(&[0.9, 0.8], &[2, 1]);
        let (ys, ps) = ([y], [p]);
        m.build(&["out".to_string()], &ys, &ps).unwrap();
        m.update_state(&ys, &ps, &[t(&[3.0, 1.0], &[2])]).unwrap();
        let v: Vec<(&str, f64)> = m.iter().map(|m| (m.name(), m.result())).collect();
        assert_eq!(v, [("accuracy", 0.5), ("weighted_accuracy", 0.75)]);
        m.reset_state();
        assert!(m.iter().all(|m| m.result() == 0.0));
        let z = Tensor::zeros(1, DType::F32, &Device::Cpu).unwrap();
        assert_eq!(batch_size(&[z]), 1);
        assert!(CompileMetrics::new(MetricsSpec::from(["maee"]), MetricsSpec::default()).is_err());
    }
}
