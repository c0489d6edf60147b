//! `SensitivityAtSpecificity`, `SpecificityAtSensitivity`, `PrecisionAtRecall`,
//! `RecallAtPrecision` (Keras's `SensitivitySpecificityBase` family in
//! `keras/src/metrics/confusion_metrics.py`): the best value of one rate over the thresholds
//! where the other rate reaches a target.
//!
//! ```
//! use keras::prelude::*;
//! use keras::metrics::{Metric, PrecisionAtRecall};
//! let mut m = PrecisionAtRecall::new(0.5)?;
//! let y = Tensor::new(&[0f32, 0., 0., 1., 1.], &Device::Cpu)?;
//! let p = Tensor::new(&[0f32, 0.3, 0.8, 0.3, 0.8], &Device::Cpu)?;
//! m.update_state(&y, &p, None)?;
//! assert_eq!(m.result(), 0.5);
//! assert!(PrecisionAtRecall::new(1.5).is_err());
//! # Ok::<(), keras::Error>(())
//! ```

use super::confusion_metrics::{
    divide_no_nan, in_metric, metric_object, read_dtype, ConfusionState,
};
use super::metrics_utils::{ConfusionMatrix, ConfusionOptions};
use super::{Direction, Metric};
use crate::ops::Tensor;
use crate::serialization::{json, Cfg, Value};
use crate::{Error, Result};
use std::marker::PhantomData;

/// The four counts at one threshold, as `f32` (Keras computes the rates in `float32`).
#[derive(Clone, Copy, Debug)]
pub struct Cells {
    /// True positives.
    pub tp: f32,
    /// False positives.
    pub fp: f32,
    /// True negatives.
    pub tn: f32,
    /// False negatives.
    pub fn_: f32,
}

impl Cells {
    fn sensitivity(self) -> f32 {
        divide_no_nan(self.tp, self.tp + self.fn_)
    }
    fn specificity(self) -> f32 {
        divide_no_nan(self.tn, self.tn + self.fp)
    }
    fn precision(self) -> f32 {
        divide_no_nan(self.tp, self.tp + self.fp)
    }
}

/// One member of the family: which rate is constrained and which is maximized.
pub trait Constraint: Send + 'static {
    /// Keras's class name.
    const CLASS: &'static str;
    /// The default metric name.
    const NAME: &'static str;
    /// The constructor argument holding the target (`specificity`, `recall`, ...).
    const KEY: &'static str;
    /// `(constrained, dependent)` rates at one threshold.
    fn rates(c: Cells) -> (f32, f32);
}

/// Marks [`SensitivityAtSpecificity`].
#[derive(Clone, Copy, Debug)]
pub struct AtSpecificity;
impl Constraint for AtSpecificity {
    const CLASS: &'static str = "SensitivityAtSpecificity";
    const NAME: &'static str = "sensitivity_at_specificity";
    const KEY: &'static str = "specificity";
    fn rates(c: Cells) -> (f32, f32) {
        (c.specificity(), c.sensitivity())
    }
}

/// Marks [`SpecificityAtSensitivity`].
#[derive(Clone, Copy, Debug)]
pub struct AtSensitivity;
impl Constraint for AtSensitivity {
    const CLASS: &'static str = "SpecificityAtSensitivity";
    const NAME: &'static str = "specificity_at_sensitivity";
    const KEY: &'static str = "sensitivity";
    fn rates(c: Cells) -> (f32, f32) {
        (c.sensitivity(), c.specificity())
    }
}

/// Marks [`PrecisionAtRecall`].
#[derive(Clone, Copy, Debug)]
pub struct AtRecall;
impl Constraint for AtRecall {
    const CLASS: &'static str = "PrecisionAtRecall";
    const NAME: &'static str = "precision_at_recall";
    const KEY: &'static str = "recall";
    fn rates(c: Cells) -> (f32, f32) {
        (c.sensitivity(), c.precision())
    }
}

/// Marks [`RecallAtPrecision`].
#[derive(Clone, Copy, Debug)]
pub struct AtPrecision;
impl Constraint for AtPrecision {
    const CLASS: &'static str = "RecallAtPrecision";
    const NAME: &'static str = "recall_at_precision";
    const KEY: &'static str = "precision";
    fn rates(c: Cells) -> (f32, f32) {
        (c.precision(), c.sensitivity())
    }
}

/// A rate maximized under a constraint on another (see the four aliases below).
#[derive(Clone, Debug)]
pub struct AtConstraint<K: Constraint> {
    name: String,
    value: f64,
    num_thresholds: usize,
    class_id: Option<usize>,
    thresholds: Vec<f64>,
    state: ConfusionState,
    _kind: PhantomData<K>,
}

/// Keras's `SensitivityAtSpecificity(specificity, num_thresholds=200, class_id=None)`: the
/// best recall among thresholds whose specificity is at least `specificity`.
pub type SensitivityAtSpecificity = AtConstraint<AtSpecificity>;
/// Keras's `SpecificityAtSensitivity(sensitivity, num_thresholds=200, class_id=None)`.
pub type SpecificityAtSensitivity = AtConstraint<AtSensitivity>;
/// Keras's `PrecisionAtRecall(recall, num_thresholds=200, class_id=None)`.
pub type PrecisionAtRecall = AtConstraint<AtRecall>;
/// Keras's `RecallAtPrecision(precision, num_thresholds=200, class_id=None)`.
pub type RecallAtPrecision = AtConstraint<AtPrecision>;

impl<K: Constraint> AtConstraint<K> {
    /// The metric for target `value` (in `[0, 1]`), with 200 thresholds.
    pub fn new(value: f64) -> Result<Self> {
        Self::build(K::NAME, value, 200, None)
    }

    fn build(
        name: &str,
        value: f64,
        num_thresholds: usize,
        class_id: Option<usize>,
    ) -> Result<Self> {
        if !(0.0..=1.0).contains(&value) {
            return Err(Error::value(format!(
                "Argument `{k}` must be in the range [0, 1]. Received: {k}={value:?}",
                k = K::KEY
            )));
        }
        if num_thresholds == 0 {
            return Err(Error::value(format!(
                "Argument `num_thresholds` must be an integer > 0. Received: \
                 num_thresholds={num_thresholds}"
            )));
        }
        let thresholds = if num_thresholds == 1 {
            vec![0.5]
        } else {
            let mut t = vec![0.0];
            t.extend((0..num_thresholds - 2).map(|i| (i + 1) as f64 / (num_thresholds - 1) as f64));
            t.push(1.0);
            t
        };
        use ConfusionMatrix::*;
        Ok(AtConstraint {
            name: name.to_string(),
            value,
            num_thresholds,
            class_id,
            state: ConfusionState::new(
                &[TruePositives, FalsePositives, TrueNegatives, FalseNegatives],
                &[thresholds.len()],
            )?,
            thresholds,
            _kind: PhantomData,
        })
    }

    /// Uses `n` thresholds evenly spaced in `[0, 1]` (`n > 0`).
    pub fn num_thresholds(self, n: usize) -> Result<Self> {
        Self::build(&self.name, self.value, n, self.class_id)
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

    /// The metric a Keras config describes (the target, `num_thresholds`, `class_id`, `name`).
    pub fn from_config(c: &Cfg) -> Result<Self> {
        read_dtype(c, &["float32"])?;
        Self::build(
            c.str_or("name", K::NAME)?,
            c.f64(K::KEY)?,
            c.usize_or("num_thresholds", 200)?,
            c.opt_usize("class_id")?,
        )
    }
}

impl<K: Constraint> Metric for AtConstraint<K> {
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
        opts.thresholds_distributed_evenly = self.num_thresholds > 1;
        opts.class_id = self.class_id;
        self.state
            .update(y_true, y_pred, sample_weight, &opts)
            .map_err(|e| in_metric(e, K::CLASS, &self.name))
    }
    /// Keras's `_find_max_under_constraint`: the largest dependent rate where the
    /// constrained one is at least the target (0 if none).
    fn result(&self) -> f64 {
        use ConfusionMatrix::*;
        let [tp, fp, tn, fn_] = [TruePositives, FalsePositives, TrueNegatives, FalseNegatives]
            .map(|c| self.state.host(c));
        let target = self.value as f32;
        let mut best = 0f32;
        for i in 0..tp.len() {
            let cells = Cells {
                tp: tp[i],
                fp: fp[i],
                tn: tn[i],
                fn_: fn_[i],
            };
            let (constrained, dependent) = K::rates(cells);
            let v = if constrained >= target {
                dependent
            } else {
                0.0
            };
            best = best.max(v);
        }
        best as f64
    }
    fn reset_state(&mut self) {
        self.state.reset()
    }
    fn direction(&self) -> Option<Direction> {
        Some(Direction::Up)
    }
    fn get_config(&self) -> Value {
        let mut extra = json!({"class_id": self.class_id, "num_thresholds": self.num_thresholds});
        extra[K::KEY] = json!(self.value);
        metric_object(K::CLASS, &self.name, "float32", extra)
    }
    fn variables(&self) -> Vec<Tensor> {
        self.state.variables()
    }
    fn set_variables(&mut self, values: &[Tensor]) -> Result<()> {
        self.state.set_variables(K::CLASS, values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::test_tensor as t;

    /// Keras's docstring examples.
    #[test]
    fn docstring_values() {
        let y = t(&[0., 0., 0., 1., 1.], &[5]);
        let p = t(&[0., 0.3, 0.8, 0.3, 0.8], &[5]);
        let w = t(&[1., 1., 2., 2., 1.], &[5]);
        let mut m = SensitivityAtSpecificity::new(0.5).unwrap();
        m.update_state(&y, &p, None).unwrap();
        assert_eq!(m.result(), 0.5);
        m.reset_state();
        m.update_state(&y, &p, Some(&w)).unwrap();
        assert!((m.result() - 0.333333).abs() < 1e-6);
        let mut s = SpecificityAtSensitivity::new(0.5).unwrap();
        s.update_state(&y, &p, None).unwrap();
        assert!((s.result() - 0.66666667).abs() < 1e-6);
        let mut r = RecallAtPrecision::new(0.8).unwrap();
        r.update_state(
            &t(&[0., 0., 1., 1.], &[4]),
            &t(&[0., 0.5, 0.3, 0.9], &[4]),
            None,
        )
        .unwrap();
        assert_eq!(r.result(), 0.5);
        let e = SpecificityAtSensitivity::new(0.5)
            .unwrap()
            .num_thresholds(0)
            .unwrap_err();
        assert!(e.to_string().contains("must be an integer > 0"), "{e}");
        assert_eq!(s.get_config()["config"]["sensitivity"], 0.5);
    }
}
