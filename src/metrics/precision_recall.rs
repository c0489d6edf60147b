//! `Precision` and `Recall` (Keras's `keras/src/metrics/confusion_metrics.py`): true
//! positives over predicted (`tp + fp`) or actual (`tp + fn`) positives, at thresholds, among
//! the top-k predictions of each row, or for one class.
//!
//! ```
//! use keras::prelude::*;
//! use keras::metrics::{Metric, Precision, Recall};
//! let y = Tensor::new(&[0f32, 1., 1., 1.], &Device::Cpu)?;
//! let p = Tensor::new(&[1f32, 0., 1., 1.], &Device::Cpu)?;
//! let mut m = Precision::new();
//! m.update_state(&y, &p, None)?;
//! assert!((m.result() - 2.0 / 3.0).abs() < 1e-7);
//! let mut r = Recall::new().top_k(1);
//! r.update_state(&Tensor::new(&[[0f32, 0., 1., 1.]], &Device::Cpu)?, &Tensor::new(&[[0.2f32, 0.1, 0.9, 0.3]], &Device::Cpu)?, None)?;
//! assert_eq!(r.result(), 0.5);
//! # Ok::<(), keras::Error>(())
//! ```

use super::confusion_metrics::{
    divide_no_nan, in_metric, mean, metric_object, read_dtype, thresholds_arg, ConfusionState,
};
use super::metrics_utils::{
    is_evenly_distributed_thresholds, parse_init_thresholds, ConfusionMatrix, ConfusionOptions,
    NEG_INF,
};
use super::{Direction, Metric};
use crate::ops::Tensor;
use crate::serialization::{json, Cfg, Value};
use crate::Result;
use std::marker::PhantomData;

/// Which ratio a [`PrecisionRecall`] computes: `tp / (tp + OTHER)`.
pub trait Ratio: Send + 'static {
    /// The cell beside the true positives (false positives or false negatives).
    const OTHER: ConfusionMatrix;
    /// Keras's class name.
    const CLASS: &'static str;
    /// The default metric name.
    const NAME: &'static str;
}

/// Marks [`Precision`].
#[derive(Clone, Copy, Debug)]
pub struct PrecisionRatio;
impl Ratio for PrecisionRatio {
    const OTHER: ConfusionMatrix = ConfusionMatrix::FalsePositives;
    const CLASS: &'static str = "Precision";
    const NAME: &'static str = "precision";
}

/// Marks [`Recall`].
#[derive(Clone, Copy, Debug)]
pub struct RecallRatio;
impl Ratio for RecallRatio {
    const OTHER: ConfusionMatrix = ConfusionMatrix::FalseNegatives;
    const CLASS: &'static str = "Recall";
    const NAME: &'static str = "recall";
}

/// The precision or recall metric (see [`Precision`], [`Recall`]).
#[derive(Clone, Debug)]
pub struct PrecisionRecall<R: Ratio> {
    name: String,
    init_thresholds: Value,
    top_k: Option<usize>,
    class_id: Option<usize>,
    thresholds: Vec<f64>,
    evenly: bool,
    state: ConfusionState,
    _ratio: PhantomData<R>,
}

/// Keras's `Precision(thresholds=None, top_k=None, class_id=None, name=None)`: `tp / (tp +
/// fp)` with predictions above the threshold (0.5; with `top_k`, the `k` largest of each row)
/// counted as positive. Several thresholds give one precision each
/// ([`Metric::result_values`]).
pub type Precision = PrecisionRecall<PrecisionRatio>;

/// Keras's `Recall(thresholds=None, top_k=None, class_id=None, name=None)`: `tp / (tp + fn)`.
pub type Recall = PrecisionRecall<RecallRatio>;

impl<R: Ratio> PrecisionRecall<R> {
    /// The metric with Keras's defaults (threshold 0.5).
    pub fn new() -> Self {
        Self::build(R::NAME, Value::Null, None, None, None).expect("the defaults are valid")
    }

    fn build(
        name: &str,
        init: Value,
        thresholds: Option<Vec<f64>>,
        top_k: Option<usize>,
        class_id: Option<usize>,
    ) -> Result<Self> {
        let default = if top_k.is_none() { 0.5 } else { NEG_INF };
        let thresholds = parse_init_thresholds(thresholds.as_deref(), default)?;
        Ok(PrecisionRecall {
            name: name.to_string(),
            init_thresholds: init,
            top_k,
            class_id,
            evenly: is_evenly_distributed_thresholds(&thresholds),
            state: ConfusionState::new(
                &[ConfusionMatrix::TruePositives, R::OTHER],
                &[thresholds.len()],
            )?,
            thresholds,
            _ratio: PhantomData,
        })
    }

    fn given_thresholds(&self) -> Option<Vec<f64>> {
        match &self.init_thresholds {
            Value::Null => None,
            _ => Some(self.thresholds.clone()),
        }
    }

    /// One value at each of `thresholds` (each in `[0, 1]`).
    ///
    /// ```
    /// use keras::metrics::Precision;
    /// assert!(Precision::new().thresholds(&[0.3, 0.7]).is_ok());
    /// let e = Precision::new().thresholds(&[-0.5]).unwrap_err().to_string();
    /// assert!(e.contains("Threshold values must be in [0, 1]. Received: [-0.5]"));
    /// ```
    pub fn thresholds(self, thresholds: &[f64]) -> Result<Self> {
        Self::build(
            &self.name,
            json!(thresholds),
            Some(thresholds.to_vec()),
            self.top_k,
            self.class_id,
        )
    }

    /// Only the `k` largest predictions of each row count as positive.
    pub fn top_k(self, k: usize) -> Self {
        let t = self.given_thresholds();
        let init = self.init_thresholds.clone();
        Self::build(&self.name, init, t, Some(k), self.class_id).unwrap_or(self)
    }

    /// Only class `id` (index on the last axis) is counted.
    pub fn class_id(mut self, id: usize) -> Self {
        self.class_id = Some(id);
        self
    }

    /// Renames the metric (the name shown in logs).
    pub fn name(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }

    /// The metric a Keras config describes (`thresholds`, `top_k`, `class_id`, `name`).
    pub fn from_config(c: &Cfg) -> Result<Self> {
        read_dtype(c, &["float32"])?;
        let (raw, t) = thresholds_arg(c)?;
        Self::build(
            c.str_or("name", R::NAME)?,
            raw,
            t,
            c.opt_usize("top_k")?,
            c.opt_usize("class_id")?,
        )
    }
}

impl<R: Ratio> Default for PrecisionRecall<R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<R: Ratio> Metric for PrecisionRecall<R> {
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
        opts.top_k = self.top_k;
        opts.class_id = self.class_id;
        self.state
            .update(y_true, y_pred, sample_weight, &opts)
            .map_err(|e| in_metric(e, R::CLASS, &self.name))
    }
    /// The ratio (the mean of the ratios with several thresholds).
    fn result(&self) -> f64 {
        mean(&self.result_values())
    }
    fn result_values(&self) -> Vec<f64> {
        let tp = self.state.host(ConfusionMatrix::TruePositives);
        let other = self.state.host(R::OTHER);
        tp.iter()
            .zip(&other)
            .map(|(&a, &b)| divide_no_nan(a, a + b) as f64)
            .collect()
    }
    fn reset_state(&mut self) {
        self.state.reset()
    }
    fn direction(&self) -> Option<Direction> {
        Some(Direction::Up)
    }
    fn get_config(&self) -> Value {
        metric_object(
            R::CLASS,
            &self.name,
            "float32",
            json!({
                "thresholds": self.init_thresholds,
                "top_k": self.top_k,
                "class_id": self.class_id,
            }),
        )
    }
    fn variables(&self) -> Vec<Tensor> {
        self.state.variables()
    }
    fn set_variables(&mut self, values: &[Tensor]) -> Result<()> {
        self.state.set_variables(R::CLASS, values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::test_tensor as t;

    /// Keras's docstring examples.
    #[test]
    fn docstring_values() {
        let y = t(&[0., 1., 1., 1.], &[4]);
        let p = t(&[1., 0., 1., 1.], &[4]);
        let mut m = Precision::new();
        m.update_state(&y, &p, Some(&t(&[0., 0., 1., 0.], &[4])))
            .unwrap();
        assert_eq!(m.result(), 1.0);
        let mut top = Precision::new().top_k(2);
        top.update_state(
            &t(&[0., 0., 1., 1.], &[1, 4]),
            &t(&[1., 1., 1., 1.], &[1, 4]),
            None,
        )
        .unwrap();
        assert_eq!(top.result(), 0.0);
        let mut r = Recall::new().class_id(2);
        r.update_state(
            &t(&[0., 0., 1., 0., 0., 1.], &[2, 3]),
            &t(&[0.1, 0.2, 0.9, 0.8, 0.1, 0.2], &[2, 3]),
            None,
        )
        .unwrap();
        assert_eq!(r.result(), 0.5);
        assert_eq!(r.get_config()["config"]["class_id"], 2);
    }
}
