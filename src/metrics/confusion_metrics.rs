//! `TruePositives`, `FalsePositives`, `TrueNegatives`, `FalseNegatives` (Keras's
//! `_ConfusionMatrixConditionCount` classes in `keras/src/metrics/confusion_metrics.py`), and
//! the pieces every confusion-matrix metric shares: the state tensors (`ConfusionState`),
//! the dtype check and the config writer.
//!
//! ```
//! use keras::prelude::*;
//! use keras::metrics::{Metric, TruePositives};
//! let mut m = TruePositives::new();
//! let y = Tensor::new(&[0f32, 1., 1., 1.], &Device::Cpu)?;
//! let p = Tensor::new(&[1f32, 0., 1., 1.], &Device::Cpu)?;
//! m.update_state(&y, &p, None)?;
//! assert_eq!(m.result(), 2.0);
//! assert_eq!(m.get_config()["config"]["name"], "true_positives");
//! # Ok::<(), keras::Error>(())
//! ```

use super::metrics_utils::{
    is_evenly_distributed_thresholds, parse_init_thresholds, update_confusion_matrix_variables,
    ConfusionMatrix, ConfusionOptions,
};
use super::{Direction, Metric};
use crate::engine::tuple;
use crate::ops::{self, DType, Device, Tensor};
use crate::serialization::{json, object, Cfg, Value};
use crate::{Error, Result};
use std::marker::PhantomData;

/// The confusion counts a metric keeps (Keras's `true_positives`, ... variables): one
/// `float32` tensor per cell, all of one shape, kept on the device of the predictions they
/// count.
#[derive(Clone, Debug)]
pub(crate) struct ConfusionState {
    cells: Vec<ConfusionMatrix>,
    vars: Vec<Tensor>,
}

impl ConfusionState {
    /// Zeros of `shape` for each of `cells` (in Keras's variable order).
    pub fn new(cells: &[ConfusionMatrix], shape: &[usize]) -> Result<Self> {
        let vars = cells
            .iter()
            .map(|_| Tensor::zeros(shape, DType::F32, &Device::Cpu))
            .collect::<std::result::Result<_, _>>()?;
        Ok(ConfusionState {
            cells: cells.to_vec(),
            vars,
        })
    }

    /// The shape of each count tensor.
    pub fn shape(&self) -> &[usize] {
        self.vars[0].dims()
    }

    /// Adds a batch (moving the state to `y_pred`'s device first, if it is elsewhere).
    pub fn update(
        &mut self,
        y_true: &Tensor,
        y_pred: &Tensor,
        sample_weight: Option<&Tensor>,
        opts: &ConfusionOptions,
    ) -> Result<()> {
        if !self.vars[0].device().same_device(y_pred.device()) {
            for v in &mut self.vars {
                *v = v.to_device(y_pred.device())?;
            }
        }
        let mut pairs: Vec<(ConfusionMatrix, &mut Tensor)> = self
            .cells
            .iter()
            .copied()
            .zip(self.vars.iter_mut())
            .collect();
        update_confusion_matrix_variables(&mut pairs, y_true, y_pred, sample_weight, opts)
    }

    /// The counts of `cell`, flattened, on the host (NaN if they cannot be read).
    pub fn host(&self, cell: ConfusionMatrix) -> Vec<f32> {
        let i = self.cells.iter().position(|c| *c == cell);
        i.and_then(|i| ops::to_vec_f32(&self.vars[i]).ok())
            .unwrap_or_else(|| vec![f32::NAN; self.vars[0].elem_count()])
    }

    /// Every count back to zero (on the state's device).
    pub fn reset(&mut self) {
        for v in &mut self.vars {
            if let Ok(z) = v.zeros_like() {
                *v = z;
            }
        }
    }

    /// The count tensors, in Keras's variable order.
    pub fn variables(&self) -> Vec<Tensor> {
        self.vars.clone()
    }

    /// Replaces the counts with `values` (same number and shapes); `what` names the metric.
    pub fn set_variables(&mut self, what: &str, values: &[Tensor]) -> Result<()> {
        if values.len() != self.vars.len() {
            return Err(Error::value(format!(
                "{what} has {} state variables ({}); received {} values",
                self.vars.len(),
                self.cells
                    .iter()
                    .map(|c| c.variable_name())
                    .collect::<Vec<_>>()
                    .join(", "),
                values.len()
            )));
        }
        for (cell, (v, new)) in self.cells.iter().zip(self.vars.iter().zip(values)) {
            if v.dims() != new.dims() {
                return Err(Error::shape(format!(
                    "{what}: variable {} has shape {}; received a value of shape {}",
                    cell.variable_name(),
                    tuple(v.dims()),
                    tuple(new.dims())
                )));
            }
        }
        let dev = self.vars[0].device().clone();
        self.vars = values
            .iter()
            .map(|t| Ok(ops::cast(t, DType::F32)?.to_device(&dev)?))
            .collect::<Result<_>>()?;
        Ok(())
    }
}

/// `a / b`, or 0 where `b` is 0 (Keras's `divide_no_nan`), in `float32` as Keras computes.
pub(crate) fn divide_no_nan(a: f32, b: f32) -> f32 {
    if b == 0.0 {
        0.0
    } else {
        a / b
    }
}

/// The metric's dtype from its config: `null` or one of `allowed` (a string, or a
/// `DTypePolicy` object naming it); the first of `allowed` by default.
pub(crate) fn read_dtype(c: &Cfg, allowed: &[&'static str]) -> Result<&'static str> {
    let name = match c.get("dtype") {
        None => return Ok(allowed[0]),
        Some(Value::String(s)) => s.as_str(),
        Some(v) => v
            .pointer("/config/name")
            .and_then(Value::as_str)
            .ok_or_else(|| c.bad("dtype", "a dtype name"))?,
    };
    allowed
        .iter()
        .find(|a| **a == name)
        .copied()
        .ok_or_else(|| c.bad("dtype", &format!("one of {allowed:?}")))
}

/// Keras's `serialize_keras_object(metric)`: `{module: "keras.metrics", class_name, config}`
/// with `name` and `dtype` first in `config`, then `extra`'s keys.
pub(crate) fn metric_object(class: &str, name: &str, dtype: &str, extra: Value) -> Value {
    let mut config = json!({"name": name, "dtype": dtype});
    if let (Some(m), Value::Object(e)) = (config.as_object_mut(), extra) {
        m.extend(e);
    }
    object("keras.metrics", class, config)
}

/// `e` prefixed with the metric it came from: `Precision metric 'precision': ...`.
pub(crate) fn in_metric(e: Error, class: &str, name: &str) -> Error {
    e.context(&format!("{class} metric '{name}'"))
}

/// A `thresholds` argument as Keras reads it: `null`, a number, or a list of numbers.
pub(crate) fn thresholds_arg(c: &Cfg) -> Result<(Value, Option<Vec<f64>>)> {
    let raw = c.get("thresholds").cloned().unwrap_or(Value::Null);
    Ok((raw, c.opt_f64s("thresholds")?))
}

/// Which cell a [`ConditionCount`] counts (the four marker types below).
pub trait Condition: Send + 'static {
    /// The counted cell.
    const CELL: ConfusionMatrix;
    /// Keras's class name.
    const CLASS: &'static str;
    /// The default metric name.
    const NAME: &'static str;
}

/// Marks [`TruePositives`].
#[derive(Clone, Copy, Debug)]
pub struct TruePositivesCell;
impl Condition for TruePositivesCell {
    const CELL: ConfusionMatrix = ConfusionMatrix::TruePositives;
    const CLASS: &'static str = "TruePositives";
    const NAME: &'static str = "true_positives";
}

/// Marks [`FalsePositives`].
#[derive(Clone, Copy, Debug)]
pub struct FalsePositivesCell;
impl Condition for FalsePositivesCell {
    const CELL: ConfusionMatrix = ConfusionMatrix::FalsePositives;
    const CLASS: &'static str = "FalsePositives";
    const NAME: &'static str = "false_positives";
}

/// Marks [`TrueNegatives`].
#[derive(Clone, Copy, Debug)]
pub struct TrueNegativesCell;
impl Condition for TrueNegativesCell {
    const CELL: ConfusionMatrix = ConfusionMatrix::TrueNegatives;
    const CLASS: &'static str = "TrueNegatives";
    const NAME: &'static str = "true_negatives";
}

/// Marks [`FalseNegatives`].
#[derive(Clone, Copy, Debug)]
pub struct FalseNegativesCell;
impl Condition for FalseNegativesCell {
    const CELL: ConfusionMatrix = ConfusionMatrix::FalseNegatives;
    const CLASS: &'static str = "FalseNegatives";
    const NAME: &'static str = "false_negatives";
}

/// The (sample-weighted) count of one confusion-matrix cell at each threshold (Keras's
/// `_ConfusionMatrixConditionCount`); see [`TruePositives`] and its three siblings.
#[derive(Clone, Debug)]
pub struct ConditionCount<C: Condition> {
    name: String,
    init_thresholds: Value,
    thresholds: Vec<f64>,
    evenly: bool,
    state: ConfusionState,
    _cell: PhantomData<C>,
}

/// Keras's `TruePositives(thresholds=None, name=None)`: labels positive with predictions above
/// the threshold (0.5 by default); with several thresholds, one count each
/// ([`Metric::result_values`]).
pub type TruePositives = ConditionCount<TruePositivesCell>;
/// Keras's `FalsePositives`: labels negative with predictions above the threshold.
pub type FalsePositives = ConditionCount<FalsePositivesCell>;
/// Keras's `TrueNegatives`: labels negative with predictions at or below the threshold.
pub type TrueNegatives = ConditionCount<TrueNegativesCell>;
/// Keras's `FalseNegatives`: labels positive with predictions at or below the threshold.
pub type FalseNegatives = ConditionCount<FalseNegativesCell>;

impl<C: Condition> ConditionCount<C> {
    /// The metric with Keras's defaults (threshold 0.5).
    pub fn new() -> Self {
        Self::build(C::NAME, Value::Null, None).expect("the default threshold is valid")
    }

    fn build(name: &str, init: Value, thresholds: Option<Vec<f64>>) -> Result<Self> {
        let thresholds = parse_init_thresholds(thresholds.as_deref(), 0.5)?;
        Ok(ConditionCount {
            name: name.to_string(),
            init_thresholds: init,
            evenly: is_evenly_distributed_thresholds(&thresholds),
            state: ConfusionState::new(&[C::CELL], &[thresholds.len()])?,
            thresholds,
            _cell: PhantomData,
        })
    }

    /// Counts at each of `thresholds` (each in `[0, 1]`).
    ///
    /// ```
    /// use keras::metrics::FalseNegatives;
    /// assert!(FalseNegatives::new().thresholds(&[0.2, 0.8]).is_ok());
    /// assert!(FalseNegatives::new().thresholds(&[1.2]).is_err());
    /// ```
    pub fn thresholds(self, thresholds: &[f64]) -> Result<Self> {
        Self::build(&self.name, json!(thresholds), Some(thresholds.to_vec()))
    }

    /// Renames the metric (the name shown in logs).
    pub fn name(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }

    /// The metric a Keras config describes (`thresholds`, `name`, `dtype`).
    pub fn from_config(c: &Cfg) -> Result<Self> {
        read_dtype(c, &["float32"])?;
        let (raw, t) = thresholds_arg(c)?;
        Self::build(c.str_or("name", C::NAME)?, raw, t)
    }
}

impl<C: Condition> Default for ConditionCount<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C: Condition> Metric for ConditionCount<C> {
    fn name(&self) -> &str {
        &self.name
    }
    fn update_state(
        &mut self,
        y_true: &Tensor,
        y_pred: &Tensor,
        sample_weight: Option<&Tensor>,
    ) -> Result<()> {
        let mut opts = ConfusionOptions::new(&self.thresholds);
        opts.thresholds_distributed_evenly = self.evenly;
        self.state
            .update(y_true, y_pred, sample_weight, &opts)
            .map_err(|e| in_metric(e, C::CLASS, &self.name))
    }
    /// The count (the mean of the counts with several thresholds).
    fn result(&self) -> f64 {
        mean(&self.result_values())
    }
    fn result_values(&self) -> Vec<f64> {
        self.state
            .host(C::CELL)
            .into_iter()
            .map(f64::from)
            .collect()
    }
    fn reset_state(&mut self) {
        self.state.reset()
    }
    fn direction(&self) -> Option<Direction> {
        None
    }
    fn get_config(&self) -> Value {
        metric_object(
            C::CLASS,
            &self.name,
            "float32",
            json!({"thresholds": self.init_thresholds}),
        )
    }
    fn variables(&self) -> Vec<Tensor> {
        self.state.variables()
    }
    fn set_variables(&mut self, values: &[Tensor]) -> Result<()> {
        self.state.set_variables(C::CLASS, values)
    }
}

/// The mean of `v` (the one value when there is one; NaN when empty).
pub(crate) fn mean(v: &[f64]) -> f64 {
    if v.len() == 1 {
        v[0]
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::test_tensor as t;
    use crate::serialization::config;

    #[test]
    fn counts_thresholds_and_weights() {
        let y = t(&[0., 1., 1., 1., 0.], &[5, 1]);
        let p = t(&[0.9, 0.2, 0.6, 0.8, 0.1], &[5, 1]);
        let mut fp = FalsePositives::new().thresholds(&[0.0, 0.5, 0.95]).unwrap();
        fp.update_state(&y, &p, None).unwrap();
        assert_eq!(fp.result_values(), [2.0, 1.0, 0.0]);
        let mut tn = TrueNegatives::new();
        let w = t(&[2., 1., 1., 1., 3.], &[5]);
        tn.update_state(&y, &p, Some(&w)).unwrap();
        tn.update_state(&y, &p, None).unwrap();
        assert_eq!(tn.result(), 4.0);
        tn.reset_state();
        assert_eq!(tn.result(), 0.0);
        let e = tn
            .update_state(&t(&[1., 0.], &[2]), &p, None)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("TrueNegatives metric 'true_negatives': "),
            "{e}"
        );
        assert!(e.contains("(2,)") && e.contains("(5, 1)"), "{e}");
    }

    #[test]
    fn config_round_trip_and_variables() {
        let c = config(json!({"name": "fn", "dtype": "float32", "thresholds": 0.3}));
        let m = FalseNegatives::from_config(&Cfg::new("FalseNegatives", &c)).unwrap();
        assert_eq!(m.get_config()["config"], Value::Object(c));
        assert_eq!(m.variables()[0].dims(), [1]);
        let mut m = m;
        assert!(m.set_variables(&[t(&[1., 2.], &[2])]).is_err());
        m.set_variables(&[t(&[3.], &[1])]).unwrap();
        assert_eq!(m.result(), 3.0);
        let bad = config(json!({"thresholds": [0.5, 2.0]}));
        let e = TruePositives::from_config(&Cfg::new("TruePositives", &bad)).unwrap_err();
        assert!(e.to_string().contains("Received: [2.0]"), "{e}");
    }
}
