//! Metrics, as `keras.metrics`: stateful averages over the samples seen since the last reset.
//!
//! ```
//! use keras::prelude::*;
//! use keras::metrics::{Metric, SparseCategoricalAccuracy};
//! let mut m = SparseCategoricalAccuracy::new("accuracy");
//! let y = Tensor::new(&[2u32, 0], &Device::Cpu)?;
//! let p = Tensor::new(&[[0.1f32, 0.2, 0.7], [0.3, 0.6, 0.1]], &Device::Cpu)?;
//! m.update_state(&y, &p, None)?;
//! assert_eq!(m.result(), 0.5);
//! # Ok::<(), keras::Error>(())
//! ```

mod registry;
mod weighting;

pub use registry::{boxed, deserialize, get};

pub mod auc;
pub mod confusion_metrics;
pub mod f_score_metrics;
pub mod iou_metrics;
pub mod metrics_utils;
pub mod precision_recall;
pub mod sensitivity_specificity;
pub use auc::AUC;
pub use confusion_metrics::{FalseNegatives, FalsePositives, TrueNegatives, TruePositives};
pub use f_score_metrics::{F1Score, FBetaScore};
pub use iou_metrics::{BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU};
pub use precision_recall::{Precision, Recall};
pub use sensitivity_specificity::{
    PrecisionAtRecall, RecallAtPrecision, SensitivityAtSpecificity, SpecificityAtSensitivity,
};

use crate::ops::{self, Tensor};
use crate::{Error, Result};
pub(crate) use weighting::Values;

/// A metric: accumulate with `update_state`, read with `result`, clear with `reset_state`.
///
/// `sample_weight` (Keras's argument of the same name) weighs each sample's value: shape
/// `(batch,)`, `(batch, 1)`, or `(batch, steps)` for sequence outputs; `None` weighs every
/// sample 1.
pub trait Metric: Send {
    /// The name shown in logs and History (`accuracy`, `mae`, ...).
    fn name(&self) -> &str;
    /// Accumulates a batch, optionally sample-weighted.
    fn update_state(
        &mut self,
        y_true: &Tensor,
        y_pred: &Tensor,
        sample_weight: Option<&Tensor>,
    ) -> Result<()>;
    /// The current value.
    fn result(&self) -> f64;
    /// Clears the state.
    fn reset_state(&mut self);
    /// Whether a larger value is better (`Up`, accuracy) or worse (`Down`, errors), as Keras's
    /// `_direction`; callbacks in `mode="auto"` read it.
    fn direction(&self) -> Option<Direction> {
        None
    }
    /// Every value of the result, for metrics whose result is a vector (`F1Score` with
    /// `average=None`: one per class); one value, [`Metric::result`], by default.
    fn result_values(&self) -> Vec<f64> {
        vec![self.result()]
    }
    /// How Keras serializes the metric: `{module, class_name, config}` (Keras's
    /// `serialize_keras_object(metric)`); by default its name.
    fn get_config(&self) -> serde_json::Value {
        serde_json::Value::String(self.name().to_string())
    }
    /// The state variables, in Keras's order (`metric.variables`: `true_positives`,
    /// `false_positives`, ...), for saving; none by default.
    fn variables(&self) -> Vec<Tensor> {
        vec![]
    }
    /// Replaces the state variables with saved values (the order of [`Metric::variables`]).
    fn set_variables(&mut self, values: &[Tensor]) -> Result<()> {
        if values.is_empty() {
            Ok(())
        } else {
            Err(Error::value(format!(
                "metric {} has no state variables; received {} values",
                self.name(),
                values.len()
            )))
        }
    }
}

/// Which way a metric improves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Larger is better.
    Up,
    /// Smaller is better.
    Down,
}

/// A running, sample-weighted mean of values (Keras's `Mean`; the loss tracker).
///
/// ```
/// use keras::prelude::*;
/// use keras::metrics::Mean;
/// let mut m = Mean::new("mean");
/// let v = Tensor::new(&[1f32, 3.0, 5.0, 7.0], &Device::Cpu)?;
/// m.update_state(&v, Some(&Tensor::new(&[1f32, 1.0, 0.0, 0.0], &Device::Cpu)?))?;
/// assert_eq!(m.value(), 2.0);
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Mean {
    name: String,
    total: f64,
    count: f64,
}

impl Mean {
    /// A mean called `name`.
    pub fn new(name: &str) -> Self {
        Mean {
            name: name.to_string(),
            total: 0.0,
            count: 0.0,
        }
    }

    /// Adds `value` with weight `weight` (e.g. a batch loss with the batch size).
    pub fn add(&mut self, value: f64, weight: f64) {
        self.total += value * weight;
        self.count += weight;
    }

    /// Keras's `Mean.update_state(values, sample_weight)`: values averaged to one per sample
    /// (weighted by `sample_weight` when given), each sample counting its weight.
    pub fn update_state(&mut self, values: &Tensor, sample_weight: Option<&Tensor>) -> Result<()> {
        self.update_values(Values::of(values)?, sample_weight)
    }

    pub(crate) fn update_values(
        &mut self,
        values: Values,
        sample_weight: Option<&Tensor>,
    ) -> Result<()> {
        let (v, w) = weighting::samplewise(values, sample_weight)?;
        self.total += v.data.iter().sum::<f64>();
        self.count += match w {
            Some(w) => w.data.iter().sum::<f64>(),
            None => v.dims.first().map_or(1, |&n| n) as f64,
        };
        Ok(())
    }

    /// The mean so far (0 before any value, or when the weights sum to 0).
    pub fn value(&self) -> f64 {
        if self.count == 0.0 {
            0.0
        } else {
            self.total / self.count
        }
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Clears the state.
    pub fn reset(&mut self) {
        self.total = 0.0;
        self.count = 0.0;
    }
}

/// Rows of the last axis of `t` as f32 values: (values, rows, row length).
fn rows(t: &Tensor) -> Result<(Vec<f32>, usize, usize)> {
    let v = ops::to_vec_f32(t)?;
    let n = t.dims().last().copied().unwrap_or(1).max(1);
    let r = if t.rank() == 0 { 1 } else { v.len() / n };
    Ok((v, r, n))
}

/// The shape without the last axis (one value per row).
fn row_dims(t: &Tensor) -> Vec<usize> {
    let d = t.dims();
    d[..d.len().saturating_sub(1)].to_vec()
}

fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

/// A metric that is the (weighted) mean of per-sample values, as Keras's
/// `MeanMetricWrapper`.
macro_rules! mean_metric {
    ($(#[$doc:meta])* $name:ident, $default:expr, $dir:ident, $values:path) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $name(Mean);
        impl $name {
            /// The metric, shown in logs as `name`.
            pub fn new(name: &str) -> Self {
                $name(Mean::new(name))
            }
            /// The metric a Keras config describes (its `name`).
            pub fn from_config(c: &crate::serialization::Cfg) -> Result<Self> {
                Ok(Self::new(c.str_or("name", $default)?))
            }
        }
        impl Default for $name {
            fn default() -> Self {
                Self::new($default)
            }
        }
        impl Metric for $name {
            fn name(&self) -> &str {
                self.0.name()
            }
            fn update_state(
                &mut self,
                y_true: &Tensor,
                y_pred: &Tensor,
                sample_weight: Option<&Tensor>,
            ) -> Result<()> {
                self.0.update_values($values(y_true, y_pred)?, sample_weight)
            }
            fn result(&self) -> f64 {
                self.0.value()
            }
            fn reset_state(&mut self) {
                self.0.reset()
            }
            fn direction(&self) -> Option<Direction> {
                Some(Direction::$dir)
            }
        }
    };
}

fn same_count(a: &[f32], b: &[f32], what: &str) -> Result<()> {
    if a.len() != b.len() {
        return Err(Error::shape(format!(
            "{what}: y_true has {} values but y_pred has {}",
            a.len(),
            b.len()
        )));
    }
    Ok(())
}

/// The shape both take after Keras's `squeeze_or_expand_to_same_rank` (they hold as many
/// values): the one of higher rank.
fn aligned(y_true: &Tensor, y_pred: &Tensor) -> Vec<usize> {
    if y_true.rank() > y_pred.rank() {
        y_true.dims().to_vec()
    } else {
        y_pred.dims().to_vec()
    }
}

fn sparse_categorical_accuracy(y_true: &Tensor, y_pred: &Tensor) -> Result<Values> {
    let (p, r, n) = rows(y_pred)?;
    let t = ops::to_vec_f32(y_true)?;
    if t.len() != r {
        return Err(Error::shape(format!(
            "sparse_categorical_accuracy: {} labels for {r} predictions",
            t.len()
        )));
    }
    let hits = p
        .chunks_exact(n)
        .zip(&t)
        .map(|(row, &l)| (argmax(row) as f32 == l) as u8 as f64)
        .collect();
    Ok(Values::new(hits, row_dims(y_pred)))
}

fn categorical_accuracy(y_true: &Tensor, y_pred: &Tensor) -> Result<Values> {
    let (p, _, n) = rows(y_pred)?;
    let t = ops::to_vec_f32(y_true)?;
    same_count(&t, &p, "categorical_accuracy")?;
    let hits = p
        .chunks_exact(n)
        .zip(t.chunks_exact(n))
        .map(|(a, b)| (argmax(a) == argmax(b)) as u8 as f64)
        .collect();
    Ok(Values::new(hits, row_dims(y_pred)))
}

fn binary_accuracy(y_true: &Tensor, y_pred: &Tensor) -> Result<Values> {
    let p = ops::to_vec_f32(y_pred)?;
    let t = ops::to_vec_f32(y_true)?;
    same_count(&t, &p, "binary_accuracy")?;
    let hits = p
        .iter()
        .zip(&t)
        .map(|(&a, &b)| (((a > 0.5) as i32 as f32) == b) as u8 as f64)
        .collect();
    Ok(Values::new(hits, aligned(y_true, y_pred)))
}

/// `f(y_pred - y_true)` averaged over the last axis (Keras's `mean(..., axis=-1)`).
fn error_values(y_true: &Tensor, y_pred: &Tensor, what: &str, f: fn(f64) -> f64) -> Result<Values> {
    let p = ops::to_vec_f32(y_pred)?;
    let t = ops::to_vec_f32(y_true)?;
    same_count(&t, &p, what)?;
    let e = p
        .iter()
        .zip(&t)
        .map(|(&a, &b)| f(a as f64 - b as f64))
        .collect();
    let dims = aligned(y_true, y_pred);
    let last = dims.len().saturating_sub(1);
    Ok(Values::new(e, dims).mean_from(last))
}

fn mean_absolute_error(y_true: &Tensor, y_pred: &Tensor) -> Result<Values> {
    error_values(y_true, y_pred, "mean_absolute_error", f64::abs)
}

fn mean_squared_error(y_true: &Tensor, y_pred: &Tensor) -> Result<Values> {
    error_values(y_true, y_pred, "mean_squared_error", |e| e * e)
}

mean_metric!(
    /// Fraction of rows whose arg-max matches the integer label.
    SparseCategoricalAccuracy, "sparse_categorical_accuracy", Up, sparse_categorical_accuracy
);

mean_metric!(
    /// Fraction of rows whose arg-max matches the one-hot label's.
    CategoricalAccuracy, "categorical_accuracy", Up, categorical_accuracy
);

mean_metric!(
    /// Fraction of predictions on the right side of 0.5.
    BinaryAccuracy, "binary_accuracy", Up, binary_accuracy
);

mean_metric!(
    /// Mean absolute error.
    MeanAbsoluteError, "mean_absolute_error", Down, mean_absolute_error
);

mean_metric!(
    /// Mean squared error.
    MeanSquaredError, "mean_squared_error", Down, mean_squared_error
);

/// Keras's resolution of `"accuracy"` / `"acc"`: binary if predictions have one column,
/// sparse-categorical if the labels have one axis less (or one column against several),
/// categorical otherwise. The metric keeps the name given.
pub fn resolve_accuracy(
    name: &str,
    y_true_dims: &[usize],
    y_pred_dims: &[usize],
) -> Box<dyn Metric> {
    let last = y_pred_dims.last().copied().unwrap_or(1);
    let sparse = last != 1
        && (y_true_dims.len() + 1 == y_pred_dims.len()
            || (y_true_dims.len() == y_pred_dims.len() && y_true_dims.last() == Some(&1)));
    if last == 1 {
        Box::new(BinaryAccuracy::new(name))
    } else if sparse {
        Box::new(SparseCategoricalAccuracy::new(name))
    } else {
        Box::new(CategoricalAccuracy::new(name))
    }
}

/// A metric given by name or value (for `compile`).
pub enum MetricArg {
    /// By Keras name.
    Name(String),
    /// A metric object.
    Value(Box<dyn Metric>),
}

impl From<&str> for MetricArg {
    fn from(s: &str) -> Self {
        MetricArg::Name(s.to_string())
    }
}

impl<M: Metric + 'static> From<M> for MetricArg {
    fn from(m: M) -> Self {
        MetricArg::Value(Box::new(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::test_tensor as t;
    use crate::ops::Device;

    #[test]
    fn accuracy_resolution_like_keras() {
        assert!(resolve_accuracy("acc", &[8], &[8, 10])
            .update_state(
                &Tensor::zeros(8, ops::DType::F32, &Device::Cpu).unwrap(),
                &Tensor::zeros((8, 10), ops::DType::F32, &Device::Cpu).unwrap(),
                None
            )
            .is_ok());
        let mut b = resolve_accuracy("accuracy", &[4, 1], &[4, 1]);
        b.update_state(
            &Tensor::new(&[[1f32], [0.], [1.], [0.]], &Device::Cpu).unwrap(),
            &Tensor::new(&[[0.9f32], [0.2], [0.3], [0.6]], &Device::Cpu).unwrap(),
            None,
        )
        .unwrap();
        assert_eq!(b.result(), 0.5);
        let mut c = resolve_accuracy("accuracy", &[2, 3], &[2, 3]);
        c.update_state(
            &Tensor::new(&[[0f32, 0., 1.], [1., 0., 0.]], &Device::Cpu).unwrap(),
            &Tensor::new(&[[0.1f32, 0.2, 0.7], [0.1, 0.8, 0.1]], &Device::Cpu).unwrap(),
            None,
        )
        .unwrap();
        assert_eq!(c.result(), 0.5);
        assert_eq!(c.name(), "accuracy");
    }

    /// Per-sample means weighted by the batch's samples; a rank-1 batch is one value (Keras
    /// averages `mean(|e|, axis=-1)`, a scalar there, with weight 1).
    #[test]
    fn mean_weights_by_samples() {
        let mut m = MeanAbsoluteError::default();
        m.update_state(&t(&[0., 0.], &[2, 1]), &t(&[1., 1.], &[2, 1]), None)
            .unwrap();
        m.update_state(&t(&[0.], &[1, 1]), &t(&[4.], &[1, 1]), None)
            .unwrap();
        assert!((m.result() - 2.0).abs() < 1e-12);
        m.reset_state();
        assert_eq!(m.result(), 0.0);
        m.update_state(&t(&[0., 0.], &[2]), &t(&[1., 1.], &[2]), None)
            .unwrap();
        m.update_state(&t(&[0.], &[1]), &t(&[4.], &[1]), None)
            .unwrap();
        assert!((m.result() - 2.5).abs() < 1e-12);
        assert!(get("accx").is_err());
        assert_eq!(get("mae").unwrap().name(), "mae");
    }

    #[test]
    fn sample_weights_weigh_samples() {
        let mut b = BinaryAccuracy::default();
        let w = t(&[1., 2., 3.], &[3]);
        b.update_state(
            &t(&[1., 0., 1.], &[3]),
            &t(&[0.9, 0.1, 0.2], &[3]),
            Some(&w),
        )
        .unwrap();
        assert!((b.result() - 0.5).abs() < 1e-12);
        let mut s = SparseCategoricalAccuracy::default();
        let p = t(&[0.9, 0.1, 0.2, 0.8, 0.6, 0.4], &[3, 2]);
        s.update_state(
            &t(&[0., 0., 0.], &[3, 1]),
            &p,
            Some(&t(&[1., 3., 1.], &[3, 1])),
        )
        .unwrap();
        assert!((s.result() - 0.4).abs() < 1e-12);
        // Zero weights: 0, as Keras's divide_no_nan.
        s.reset_state();
        s.update_state(&t(&[0., 0., 0.], &[3]), &p, Some(&t(&[0., 0., 0.], &[3])))
            .unwrap();
        assert_eq!(s.result(), 0.0);
    }
}
