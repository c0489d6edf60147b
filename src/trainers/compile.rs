//! `compile`'s arguments: optimizer, loss(es), loss weights and metrics, by name or value, for
//! one output or several (as a list in output order or a map by output name).

use crate::losses::{Loss, LossArg};
use crate::metrics::{self, Metric, MetricArg};
use crate::ops::Tensor;
use crate::optimizers::OptimizerArg;
use crate::{Error, Result};
use std::sync::Arc;

/// The loss of each output: one for all, a list in output order, or a map by output name.
pub enum LossSpec {
    /// The same loss for every output.
    One(LossArg),
    /// One per output, in order.
    List(Vec<LossArg>),
    /// By output name; outputs not named get no loss.
    Map(Vec<(String, LossArg)>),
}

impl<T: Into<LossArg>> From<T> for LossSpec {
    fn from(l: T) -> Self {
        LossSpec::One(l.into())
    }
}
impl From<Vec<&str>> for LossSpec {
    fn from(v: Vec<&str>) -> Self {
        LossSpec::List(v.into_iter().map(LossArg::from).collect())
    }
}
impl<const N: usize> From<[&str; N]> for LossSpec {
    fn from(v: [&str; N]) -> Self {
        LossSpec::List(v.into_iter().map(LossArg::from).collect())
    }
}
impl From<Vec<(&str, &str)>> for LossSpec {
    fn from(v: Vec<(&str, &str)>) -> Self {
        LossSpec::Map(
            v.into_iter()
                .map(|(k, l)| (k.to_string(), LossArg::from(l)))
                .collect(),
        )
    }
}
impl<const N: usize> From<[(&str, &str); N]> for LossSpec {
    fn from(v: [(&str, &str); N]) -> Self {
        LossSpec::Map(
            v.into_iter()
                .map(|(k, l)| (k.to_string(), LossArg::from(l)))
                .collect(),
        )
    }
}

/// Weights of the per-output losses in the total: a list in output order or a map by name.
#[derive(Clone, Debug)]
pub enum LossWeights {
    /// In output order.
    List(Vec<f64>),
    /// By output name (missing names weigh 1).
    Map(Vec<(String, f64)>),
}

impl From<Vec<f64>> for LossWeights {
    fn from(v: Vec<f64>) -> Self {
        LossWeights::List(v)
    }
}
impl<const N: usize> From<[f64; N]> for LossWeights {
    fn from(v: [f64; N]) -> Self {
        LossWeights::List(v.to_vec())
    }
}
impl<const N: usize> From<[(&str, f64); N]> for LossWeights {
    fn from(v: [(&str, f64); N]) -> Self {
        LossWeights::Map(v.into_iter().map(|(k, w)| (k.to_string(), w)).collect())
    }
}

/// Metrics: the same list for every output, or lists by output name.
pub enum MetricsSpec {
    /// For a single-output model. (A model with several outputs needs one list per output, as
    /// in Keras 3.)
    All(Vec<MetricArg>),
    /// One list per output, in output order.
    PerOutput(Vec<Vec<MetricArg>>),
    /// By output name.
    Map(Vec<(String, Vec<MetricArg>)>),
}

impl From<Vec<Vec<&str>>> for MetricsSpec {
    fn from(v: Vec<Vec<&str>>) -> Self {
        MetricsSpec::PerOutput(
            v.into_iter()
                .map(|l| l.into_iter().map(MetricArg::from).collect())
                .collect(),
        )
    }
}

impl Default for MetricsSpec {
    fn default() -> Self {
        MetricsSpec::All(vec![])
    }
}
/// No metrics: `model.compile("sgd", "mse", ())`.
impl From<()> for MetricsSpec {
    fn from(_: ()) -> Self {
        MetricsSpec::default()
    }
}
impl From<Vec<&str>> for MetricsSpec {
    fn from(v: Vec<&str>) -> Self {
        MetricsSpec::All(v.into_iter().map(MetricArg::from).collect())
    }
}
impl<const N: usize> From<[&str; N]> for MetricsSpec {
    fn from(v: [&str; N]) -> Self {
        MetricsSpec::All(v.into_iter().map(MetricArg::from).collect())
    }
}
impl From<&[&str]> for MetricsSpec {
    fn from(v: &[&str]) -> Self {
        MetricsSpec::All(v.iter().map(|s| MetricArg::from(*s)).collect())
    }
}
impl<const N: usize> From<&[&str; N]> for MetricsSpec {
    fn from(v: &[&str; N]) -> Self {
        MetricsSpec::All(v.iter().map(|s| MetricArg::from(*s)).collect())
    }
}
impl From<Vec<MetricArg>> for MetricsSpec {
    fn from(v: Vec<MetricArg>) -> Self {
        MetricsSpec::All(v)
    }
}
impl<const N: usize> From<[(&str, &[&str]); N]> for MetricsSpec {
    fn from(v: [(&str, &[&str]); N]) -> Self {
        MetricsSpec::Map(
            v.into_iter()
                .map(|(k, ms)| {
                    (
                        k.to_string(),
                        ms.iter().map(|s| MetricArg::from(*s)).collect(),
                    )
                })
                .collect(),
        )
    }
}

/// Everything `compile` takes. Build it with [`CompileArgs::new`] and the builder methods.
///
/// ```
/// use keras::prelude::*;
/// let args = CompileArgs::new("rmsprop", [("age", "mse"), ("gender", "binary_crossentropy")])
///     .loss_weights([("age", 0.25), ("gender", 10.0)])
///     .metrics([("age", &["mae"][..])])
///     .weighted_metrics([("gender", &["accuracy"][..])]);
/// # let _ = args;
/// ```
pub struct CompileArgs {
    /// The optimizer.
    pub optimizer: OptimizerArg,
    /// The loss(es).
    pub loss: LossSpec,
    /// Weights of the per-output losses.
    pub loss_weights: Option<LossWeights>,
    /// Metrics to track; they ignore sample weights.
    pub metrics: MetricsSpec,
    /// Metrics computed with the sample weights (Keras's `weighted_metrics`). Named as the
    /// plain ones; one that collides with a plain metric's name is called `weighted_<name>`.
    pub weighted_metrics: MetricsSpec,
}

impl CompileArgs {
    /// An optimizer and a loss (or losses), no metrics.
    pub fn new(optimizer: impl Into<OptimizerArg>, loss: impl Into<LossSpec>) -> Self {
        CompileArgs {
            optimizer: optimizer.into(),
            loss: loss.into(),
            loss_weights: None,
            metrics: MetricsSpec::default(),
            weighted_metrics: MetricsSpec::default(),
        }
    }
    /// Sets the loss weights.
    pub fn loss_weights(mut self, w: impl Into<LossWeights>) -> Self {
        self.loss_weights = Some(w.into());
        self
    }
    /// Sets the metrics.
    pub fn metrics(mut self, m: impl Into<MetricsSpec>) -> Self {
        self.metrics = m.into();
        self
    }
    /// Sets the metrics weighted by the sample weights (Keras's `weighted_metrics`).
    pub fn weighted_metrics(mut self, m: impl Into<MetricsSpec>) -> Self {
        self.weighted_metrics = m.into();
        self
    }
}

/// A resolved loss of one output.
pub(crate) struct OutputLoss {
    pub loss: Arc<dyn Loss>,
    pub weight: f64,
}

/// Losses per output (None: the output has no loss), checked against the output names.
pub(crate) fn resolve_losses(
    spec: &LossSpec,
    weights: &Option<LossWeights>,
    outputs: &[String],
) -> Result<Vec<Option<OutputLoss>>> {
    let n = outputs.len().max(1);
    let losses: Vec<Option<Arc<dyn Loss>>> = match spec {
        LossSpec::One(l) => {
            let l = l.resolve()?;
            vec![Some(l); n]
        }
        LossSpec::List(v) => {
            if v.len() != n {
                return Err(Error::value(format!(
                    "`loss` has {} entries, but the model has {n} outputs ({}).",
                    v.len(),
                    outputs.join(", ")
                )));
            }
            v.iter()
                .map(|l| l.resolve().map(Some))
                .collect::<Result<_>>()?
        }
        LossSpec::Map(m) => {
            check_keys(m.iter().map(|(k, _)| k), outputs, "loss")?;
            outputs
                .iter()
                .map(|o| {
                    m.iter()
                        .find(|(k, _)| k == o)
                        .map(|(_, l)| l.resolve())
                        .transpose()
                })
                .collect::<Result<_>>()?
        }
    };
    let ws: Vec<f64> = match weights {
        None => vec![1.0; n],
        Some(LossWeights::List(v)) => {
            if v.len() != n {
                return Err(Error::value(format!(
                    "`loss_weights` has {} entries, but the model has {n} outputs.",
                    v.len()
                )));
            }
            v.clone()
        }
        Some(LossWeights::Map(m)) => {
            check_keys(m.iter().map(|(k, _)| k), outputs, "loss_weights")?;
            outputs
                .iter()
                .map(|o| {
                    m.iter()
                        .find(|(k, _)| k == o)
                        .map(|(_, w)| *w)
                        .unwrap_or(1.0)
                })
                .collect()
        }
    };
    Ok(losses
        .into_iter()
        .zip(ws)
        .map(|(l, weight)| l.map(|loss| OutputLoss { loss, weight }))
        .collect())
}

fn check_keys<'a>(
    keys: impl Iterator<Item = &'a String>,
    outputs: &[String],
    what: &str,
) -> Result<()> {
    for k in keys {
        if !outputs.contains(k) {
            return Err(Error::value(format!(
                "In `{what}`, the key '{k}' does not name any output of the model. The outputs are: {outputs:?}"
            )));
        }
    }
    Ok(())
}

/// Checks metric names early (at `compile`), so a typo fails there.
pub(crate) fn check_metric_names(spec: &MetricsSpec) -> Result<()> {
    let check = |m: &MetricArg| -> Result<()> {
        if let MetricArg::Name(n) = m {
            if n != "accuracy" && n != "acc" {
                metrics::get(n)?;
            }
        }
        Ok(())
    };
    match spec {
        MetricsSpec::All(v) => v.iter().try_for_each(check),
        MetricsSpec::PerOutput(v) => v.iter().flatten().try_for_each(check),
        MetricsSpec::Map(m) => m.iter().flat_map(|(_, v)| v).try_for_each(check),
    }
}

/// Builds the metric objects of each output once the shapes are known (the first batch), as
/// Keras builds its compile metrics, named as they are given (`argument` names the compile
/// argument in errors).
fn build_metric_set(
    spec: &mut MetricsSpec,
    outputs: &[String],
    ys: &[Tensor],
    preds: &[Tensor],
    argument: &str,
) -> Result<MetricLists> {
    let n = preds.len();
    let multi = n > 1;
    let mut per_output: Vec<Vec<MetricArg>> = (0..n).map(|_| vec![]).collect();
    match std::mem::take(spec) {
        MetricsSpec::All(v) => {
            if multi && !v.is_empty() {
                return Err(Error::value(format!(
                    "Invalid `{argument}`. For a model with several outputs, `{argument}` should be \
                     a map by output name or one list per output ({outputs:?}). Received a single \
                     list of {} metrics.",
                    v.len()
                )));
            }
            if let Some(first) = per_output.first_mut() {
                first.extend(v);
            }
        }
        MetricsSpec::PerOutput(lists) => {
            if lists.len() != n {
                return Err(Error::value(format!(
                    "Invalid `{argument}`: {} lists for a model with {n} outputs ({outputs:?}).",
                    lists.len()
                )));
            }
            for (slot, l) in per_output.iter_mut().zip(lists) {
                slot.extend(l);
            }
        }
        MetricsSpec::Map(m) => {
            check_keys(m.iter().map(|(k, _)| k), outputs, argument)?;
            for (k, v) in m {
                let i = outputs.iter().position(|o| *o == k).unwrap_or(0);
                per_output[i].extend(v);
            }
        }
    }
    per_output
        .into_iter()
        .enumerate()
        .map(|(i, args)| {
            args.into_iter()
                .map(|a| -> Result<Box<dyn Metric>> {
                    Ok(match a {
                        MetricArg::Name(name) if name == "accuracy" || name == "acc" => {
                            metrics::resolve_accuracy(&name, ys[i].dims(), preds[i].dims())
                        }
                        MetricArg::Name(name) => metrics::get(&name)?,
                        MetricArg::Value(m) => m,
                    })
                })
                .collect()
        })
        .collect()
}

/// Metric objects of each output, in output order.
pub(crate) type MetricLists = Vec<Vec<Box<dyn Metric>>>;

/// The compiled metrics of each output: plain ones and weighted ones, named as Keras's
/// `CompileMetrics.result`: `<output>_` prefixed when the model has several outputs; a
/// repeated plain name gets `_1`, `_2`...; a weighted metric whose name is taken becomes
/// `weighted_<name>` (then numbered).
pub(crate) fn build_metrics(
    plain: &mut MetricsSpec,
    weighted: &mut MetricsSpec,
    outputs: &[String],
    ys: &[Tensor],
    preds: &[Tensor],
) -> Result<(MetricLists, MetricLists)> {
    let plain = build_metric_set(plain, outputs, ys, preds, "metrics")?;
    let weighted = build_metric_set(weighted, outputs, ys, preds, "weighted_metrics")?;
    let multi = preds.len() > 1;
    let prefix = |i: usize| {
        if multi {
            format!(
                "{}_",
                outputs
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| format!("output_{i}"))
            )
        } else {
            String::new()
        }
    };
    let mut counters: std::collections::HashMap<String, usize> = Default::default();
    let next =
        |name: String, counters: &mut std::collections::HashMap<String, usize>| match counters
            .get_mut(&name)
        {
            None => {
                counters.insert(name.clone(), 1);
                name
            }
            Some(k) => {
                let named = format!("{name}_{k}");
                *k += 1;
                named
            }
        };
    let plain = plain
        .into_iter()
        .enumerate()
        .map(|(i, ms)| {
            ms.into_iter()
                .map(|m| {
                    let name = next(format!("{}{}", prefix(i), m.name()), &mut counters);
                    rename(m, name)
                })
                .collect()
        })
        .collect();
    let weighted = weighted
        .into_iter()
        .enumerate()
        .map(|(i, ms)| {
            ms.into_iter()
                .map(|m| {
                    let name = format!("{}{}", prefix(i), m.name());
                    let name = if counters.contains_key(&name) {
                        next(format!("{}weighted_{}", prefix(i), m.name()), &mut counters)
                    } else {
                        next(name, &mut counters)
                    };
                    rename(m, name)
                })
                .collect()
        })
        .collect();
    Ok((plain, weighted))
}

/// A metric shown under another name.
struct Renamed {
    name: String,
    inner: Box<dyn Metric>,
}

impl Metric for Renamed {
    fn name(&self) -> &str {
        &self.name
    }
    fn update_state(
        &mut self,
        y_true: &Tensor,
        y_pred: &Tensor,
        sample_weight: Option<&Tensor>,
    ) -> Result<()> {
        self.inner.update_state(y_true, y_pred, sample_weight)
    }
    fn result(&self) -> f64 {
        self.inner.result()
    }
    fn reset_state(&mut self) {
        self.inner.reset_state()
    }
    fn direction(&self) -> Option<metrics::Direction> {
        self.inner.direction()
    }
    fn result_values(&self) -> Vec<f64> {
        self.inner.result_values()
    }
    fn get_config(&self) -> serde_json::Value {
        self.inner.get_config()
    }
    fn variables(&self) -> Vec<Tensor> {
        self.inner.variables()
    }
    fn set_variables(&mut self, values: &[Tensor]) -> Result<()> {
        self.inner.set_variables(values)
    }
}

fn rename(m: Box<dyn Metric>, name: String) -> Box<dyn Metric> {
    if m.name() == name {
        m
    } else {
        Box::new(Renamed { name, inner: m })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{DType, Device};

    fn names(v: &[Vec<Box<dyn Metric>>]) -> Vec<Vec<String>> {
        v.iter()
            .map(|ms| ms.iter().map(|m| m.name().to_string()).collect())
            .collect()
    }

    /// Names as Keras 3.15.1's `CompileMetrics.result` gives them.
    #[test]
    fn weighted_metrics_named_as_keras() {
        let z = |d: &[usize]| Tensor::zeros(d, DType::F32, &Device::Cpu).unwrap();
        let one = ["out".to_string()];
        let (ys, ps) = (vec![z(&[4, 1])], vec![z(&[4, 1])]);
        let mut p = MetricsSpec::from(["accuracy", "mae", "mae"]);
        let mut w = MetricsSpec::from(["accuracy", "mse", "mae"]);
        let (a, b) = build_metrics(&mut p, &mut w, &one, &ys, &ps).unwrap();
        assert_eq!(names(&a), [["accuracy", "mae", "mae_1"]]);
        assert_eq!(names(&b), [["weighted_accuracy", "mse", "weighted_mae"]]);
        let two = ["a".to_string(), "b".to_string()];
        let (ys, ps) = (vec![z(&[4, 1]), z(&[4, 3])], vec![z(&[4, 1]), z(&[4, 3])]);
        let mut p = MetricsSpec::from([("a", &["mae"][..])]);
        let mut w = MetricsSpec::from([("a", &["mae"][..]), ("b", &["accuracy"][..])]);
        let (a, b) = build_metrics(&mut p, &mut w, &two, &ys, &ps).unwrap();
        assert_eq!(names(&a), vec![vec!["a_mae"], vec![]]);
        assert_eq!(names(&b), [["a_weighted_mae"], ["b_accuracy"]]);
        let mut p = MetricsSpec::default();
        let mut w = MetricsSpec::from(["mae"]);
        let e = build_metrics(&mut p, &mut w, &two, &ys, &ps).err().unwrap();
        assert!(e.to_string().contains("Invalid `weighted_metrics`"), "{e}");
    }
}
