//! Metrics, as `keras.metrics`: stateful values over the batches seen since the last reset,
//! their state kept as tensors on the device of the predictions (no copy of a batch to the
//! host).
//!
//! Built-in metrics are made by name ([`get`]: `"mse"`, `"MeanSquaredError"`, ...), from a
//! Keras config ([`deserialize`]), or as values with their options; a mean of per-sample
//! values can also be made from a closure ([`MeanMetricWrapper`]).
//!
//! A user metric implements [`Metric`]: `update_state(y_true, y_pred, sample_weight)`,
//! `result`, `reset_state`, and, to save and restore its state, `variables` /
//! `set_variables`; `get_config` says how it serializes. Metrics compose: the tutorials'
//! `F1Score` holds a [`Precision`] and a [`Recall`]:
//!
//! ```
//! use keras::prelude::*;
//! use keras::metrics::{Direction, Metric, Precision, Recall};
//!
//! struct F1Score {
//!     precision: Precision,
//!     recall: Recall,
//! }
//!
//! impl Metric for F1Score {
//!     fn name(&self) -> &str {
//!         "f1_score"
//!     }
//!     fn update_state(
//!         &mut self,
//!         y_true: &Tensor,
//!         y_pred: &Tensor,
//!         sample_weight: Option<&Tensor>,
//!     ) -> keras::Result<()> {
//!         self.precision.update_state(y_true, y_pred, sample_weight)?;
//!         self.recall.update_state(y_true, y_pred, sample_weight)
//!     }
//!     fn result(&self) -> f64 {
//!         let (p, r) = (self.precision.result(), self.recall.result());
//!         2.0 * p * r / (p + r + 1e-7)
//!     }
//!     fn reset_state(&mut self) {
//!         self.precision.reset_state();
//!         self.recall.reset_state();
//!     }
//!     fn direction(&self) -> Option<Direction> {
//!         Some(Direction::Up)
//!     }
//!     // The state saved with the model: both inner metrics' counts.
//!     fn variables(&self) -> Vec<Tensor> {
//!         [self.precision.variables(), self.recall.variables()].concat()
//!     }
//!     fn set_variables(&mut self, values: &[Tensor]) -> keras::Result<()> {
//!         let n = self.precision.variables().len();
//!         if values.len() < n {
//!             return Err(keras::Error::value("f1_score: too few state values"));
//!         }
//!         self.precision.set_variables(&values[..n])?;
//!         self.recall.set_variables(&values[n..])
//!     }
//! }
//!
//! let mut f1 = F1Score { precision: Precision::new(), recall: Recall::new() };
//! let y = Tensor::new(&[[1f32], [0.], [1.], [1.]], &Device::Cpu)?;
//! let p = Tensor::new(&[[0.9f32], [0.8], [0.3], [0.7]], &Device::Cpu)?;
//! f1.update_state(&y, &p, None)?;
//! // Precision 2/3, recall 2/3.
//! assert!((f1.result() - 2.0 / 3.0).abs() < 1e-6);
//! assert_eq!(f1.variables().len(), 4);
//! // In `compile`, beside built-in metrics (MetricArg::from(f1), "auc", ...).
//! let _arg = keras::metrics::MetricArg::from(f1);
//! # Ok::<(), keras::Error>(())
//! ```

mod accuracy_metrics;
mod correlation_metrics;
mod hinge_metrics;
mod mean_metric;
mod metric_functions;
mod probabilistic_metrics;
mod r2_score;
mod reduction_metrics;
mod registry;
mod regression_metrics;
mod sample_values;
mod state;
mod weighting;

pub mod auc;
mod auc_curves;
mod confusion_counts;
pub mod confusion_metrics;
pub mod f_score_metrics;
mod iou_kinds;
pub mod iou_metrics;
pub mod metrics_utils;
pub mod precision_recall;
pub mod sensitivity_specificity;

pub use accuracy_metrics::{
    accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy, top_k_categorical_accuracy, Accuracy, AccuracyFn,
    BinaryAccuracy, CategoricalAccuracy, CategoricalAccuracyFn, SparseCategoricalAccuracy,
    SparseCategoricalAccuracyFn, SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy,
};
pub use auc::AUC;
pub use confusion_metrics::{FalseNegatives, FalsePositives, TrueNegatives, TruePositives};
pub use correlation_metrics::{
    concordance_correlation, pearson_correlation, Concordance, ConcordanceCorrelation, Correlation,
    CorrelationFn, Pearson, PearsonCorrelation,
};
pub use f_score_metrics::{F1Score, FBetaScore};
pub use hinge_metrics::{
    categorical_hinge, hinge, squared_hinge, CategoricalHinge, CategoricalHingeFn, Hinge, HingeFn,
    SquaredHinge, SquaredHingeFn,
};
pub use iou_metrics::{BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU};
pub use mean_metric::{MeanMetric, MeanOf, SampleFn};
pub use metric_functions::MetricFn;
pub use precision_recall::{Precision, Recall};
pub use probabilistic_metrics::{
    binary_crossentropy, categorical_crossentropy, kl_divergence, poisson,
    sparse_categorical_crossentropy, BinaryCrossentropy, CategoricalCrossentropy, KLDivergence,
    KLDivergenceFn, Poisson, PoissonFn, SparseCategoricalCrossentropy,
};
pub use r2_score::{ClassAggregation, R2Score};
pub use reduction_metrics::{Mean, MeanMetricWrapper, Sum};
pub use registry::{boxed, deserialize, get};
pub use regression_metrics::{
    cosine_similarity, log_cosh, mean_absolute_error, mean_absolute_percentage_error,
    mean_squared_error, mean_squared_logarithmic_error, CosineSimilarity, LogCoshError,
    LogCoshErrorFn, MeanAbsoluteError, MeanAbsoluteErrorFn, MeanAbsolutePercentageError,
    MeanAbsolutePercentageErrorFn, MeanSquaredError, MeanSquaredErrorFn,
    MeanSquaredLogarithmicError, MeanSquaredLogarithmicErrorFn, RootMeanSquaredError,
};
pub use sensitivity_specificity::{
    PrecisionAtRecall, RecallAtPrecision, SensitivityAtSpecificity, SpecificityAtSensitivity,
};

use crate::ops::Tensor;
use crate::{Error, Result};

/// A metric (Keras's `keras.metrics.Metric`): accumulate batches with `update_state`, read
/// the value with `result`, clear with `reset_state`. Implement it for a user metric (see the
/// [module documentation](self) for the tutorials' `F1Score`); the built-in metrics implement
/// it, most through [`MeanMetric`].
///
/// `sample_weight` (Keras's argument of the same name) weighs each sample's value: shape
/// `(batch,)`, `(batch, 1)`, or `(batch, steps)` for sequence outputs; `None` weighs every
/// sample 1. Keep the state as tensors on the device of the batches (the built-in metrics
/// never copy a batch to the host); `result` reads it.
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
    /// The state variables, in Keras's order (`metric.variables`: `total`, `count`;
    /// `true_positives`, `false_positives`, ...), for saving and restoring the state; none
    /// by default. (Keras 3.15.1 itself writes no metric variables into a `.keras` file.)
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
    use crate::ops::{self, Device};

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
        assert!((s.result() - 0.4).abs() < 1e-7);
        // Zero weights: 0, as Keras's divide_no_nan.
        s.reset_state();
        s.update_state(&t(&[0., 0., 0.], &[3]), &p, Some(&t(&[0., 0., 0.], &[3])))
            .unwrap();
        assert_eq!(s.result(), 0.0);
    }

    /// A metric given labels of the wrong shape names itself and both shapes.
    #[test]
    fn wrong_shapes_name_the_metric() {
        let mut m = get("mse").unwrap();
        let e = m
            .update_state(&t(&[0.; 6], &[3, 2]), &t(&[0.; 12], &[4, 3]), None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("MeanSquaredError metric 'mse'")
                && e.contains("y_true.shape=(3, 2), y_pred.shape=(4, 3)"),
            "{e}"
        );
    }
}
