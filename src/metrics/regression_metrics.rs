//! The regression metrics (Keras's `keras/src/metrics/regression_metrics.py`):
//! `MeanSquaredError`, `MeanAbsoluteError`, `MeanAbsolutePercentageError`,
//! `MeanSquaredLogarithmicError`, `RootMeanSquaredError`, `CosineSimilarity`,
//! `LogCoshError` (and `R2Score`, in `r2_score.rs`), with their per-sample functions (Keras's
//! loss functions of the same names), as tensor ops on the batch's device.
//!
//! ```
//! use keras::prelude::*;
//! use keras::metrics::{Metric, RootMeanSquaredError};
//! let mut m = RootMeanSquaredError::default();
//! let y = Tensor::new(&[[0f32, 1.0], [0.0, 0.0]], &Device::Cpu)?;
//! let p = Tensor::new(&[[1f32, 1.0], [1.0, 0.0]], &Device::Cpu)?;
//! m.update_state(&y, &p, None)?;
//! assert!((m.result() - 0.5f64.sqrt()).abs() < 1e-7);
//! # Ok::<(), keras::Error>(())
//! ```

use super::mean_metric::{MeanMetric, MeanOf, SampleFn};
use super::reduction_metrics::Mean;
use super::sample_values::{aligned, axis_index, mean_last, same_rank, softplus, EPSILON};
use super::state::{in_metric, read_dtype};
use super::{Direction, Metric};
use crate::ops::Tensor;
use crate::serialization::{Cfg, Value};
use crate::Result;

/// Keras's `mean_squared_error`: `mean((y_true - y_pred)^2, axis=-1)`.
pub fn mean_squared_error(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    let (t, p) = aligned(y_true, y_pred)?;
    mean_last(&(t - p)?.sqr()?)
}

/// Keras's `mean_absolute_error`: `mean(|y_true - y_pred|, axis=-1)`.
pub fn mean_absolute_error(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    let (t, p) = aligned(y_true, y_pred)?;
    mean_last(&(t - p)?.abs()?)
}

/// Keras's `mean_absolute_percentage_error`:
/// `100 * mean(|(y_true - y_pred) / max(|y_true|, epsilon)|, axis=-1)`.
pub fn mean_absolute_percentage_error(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    let (t, p) = aligned(y_true, y_pred)?;
    let diff = ((&t - p)? / t.abs()?.maximum(EPSILON)?)?.abs()?;
    Ok((mean_last(&diff)? * 100.0)?)
}

/// Keras's `mean_squared_logarithmic_error`:
/// `mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))^2, axis=-1)`.
pub fn mean_squared_logarithmic_error(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    let (t, p) = aligned(y_true, y_pred)?;
    let first = (p.maximum(EPSILON)? + 1.0)?.log()?;
    let second = (t.maximum(EPSILON)? + 1.0)?.log()?;
    mean_last(&(first - second)?.sqr()?)
}

/// Keras's `log_cosh`: `mean(log(cosh(y_pred - y_true)), axis=-1)`, computed as
/// `x + softplus(-2x) - log(2)`.
pub fn log_cosh(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    let (t, p) = aligned(y_true, y_pred)?;
    let x = (p - t)?;
    let v = ((&x + softplus(&(&x * -2.0)?)?)? - std::f64::consts::LN_2)?;
    mean_last(&v)
}

/// Keras's L2 `normalize(x, axis)`: `x * min(rsqrt(sum(x^2, axis)), 1 / epsilon)`.
fn l2_normalize(x: &Tensor, axis: usize) -> Result<Tensor> {
    let inv = x
        .sqr()?
        .sum_keepdim(axis)?
        .sqrt()?
        .recip()?
        .minimum(1.0 / EPSILON)?;
    Ok(x.broadcast_mul(&inv)?)
}

/// Keras's metric `cosine_similarity(y_true, y_pred, axis)`: the cosine of the angle between
/// labels and predictions along `axis` (Python-style, `-1` the last).
pub fn cosine_similarity(y_true: &Tensor, y_pred: &Tensor, axis: isize) -> Result<Tensor> {
    let (t, p) = same_rank(y_true, y_pred)?;
    let a = axis_index(axis, p.rank().max(1))?;
    let (t, p) = if p.rank() == 0 {
        (t.reshape(1)?, p.reshape(1)?)
    } else {
        (t, p)
    };
    let prod = l2_normalize(&t, a)?.broadcast_mul(&l2_normalize(&p, a)?)?;
    Ok(prod.sum(a)?)
}

/// The marker of [`MeanSquaredError`].
#[derive(Clone, Copy, Debug)]
pub struct MeanSquaredErrorFn;
impl SampleFn for MeanSquaredErrorFn {
    const CLASS: &'static str = "MeanSquaredError";
    const NAME: &'static str = "mean_squared_error";
    const DIRECTION: Option<Direction> = Some(Direction::Down);
    fn values(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        mean_squared_error(y_true, y_pred)
    }
}
/// Keras's `MeanSquaredError` metric.
pub type MeanSquaredError = MeanOf<MeanSquaredErrorFn>;

/// The marker of [`MeanAbsoluteError`].
#[derive(Clone, Copy, Debug)]
pub struct MeanAbsoluteErrorFn;
impl SampleFn for MeanAbsoluteErrorFn {
    const CLASS: &'static str = "MeanAbsoluteError";
    const NAME: &'static str = "mean_absolute_error";
    const DIRECTION: Option<Direction> = Some(Direction::Down);
    fn values(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        mean_absolute_error(y_true, y_pred)
    }
}
/// Keras's `MeanAbsoluteError` metric.
pub type MeanAbsoluteError = MeanOf<MeanAbsoluteErrorFn>;

/// The marker of [`MeanAbsolutePercentageError`].
#[derive(Clone, Copy, Debug)]
pub struct MeanAbsolutePercentageErrorFn;
impl SampleFn for MeanAbsolutePercentageErrorFn {
    const CLASS: &'static str = "MeanAbsolutePercentageError";
    const NAME: &'static str = "mean_absolute_percentage_error";
    const DIRECTION: Option<Direction> = Some(Direction::Down);
    fn values(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        mean_absolute_percentage_error(y_true, y_pred)
    }
}
/// Keras's `MeanAbsolutePercentageError` metric.
pub type MeanAbsolutePercentageError = MeanOf<MeanAbsolutePercentageErrorFn>;

/// The marker of [`MeanSquaredLogarithmicError`].
#[derive(Clone, Copy, Debug)]
pub struct MeanSquaredLogarithmicErrorFn;
impl SampleFn for MeanSquaredLogarithmicErrorFn {
    const CLASS: &'static str = "MeanSquaredLogarithmicError";
    const NAME: &'static str = "mean_squared_logarithmic_error";
    const DIRECTION: Option<Direction> = Some(Direction::Down);
    fn values(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        mean_squared_logarithmic_error(y_true, y_pred)
    }
}
/// Keras's `MeanSquaredLogarithmicError` metric.
pub type MeanSquaredLogarithmicError = MeanOf<MeanSquaredLogarithmicErrorFn>;

/// The marker of [`LogCoshError`].
#[derive(Clone, Copy, Debug)]
pub struct LogCoshErrorFn;
impl SampleFn for LogCoshErrorFn {
    const CLASS: &'static str = "LogCoshError";
    const NAME: &'static str = "logcosh";
    const DIRECTION: Option<Direction> = Some(Direction::Down);
    fn values(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        log_cosh(y_true, y_pred)
    }
}
/// Keras's `LogCoshError` metric (named `logcosh` by default, as Keras names it).
pub type LogCoshError = MeanOf<LogCoshErrorFn>;

/// Keras's `CosineSimilarity` metric: the mean cosine of labels and predictions along
/// `axis` (Keras's `get_config` does not write the axis; a config that has one is read).
#[derive(Clone, Debug)]
pub struct CosineSimilarity {
    mean: Mean,
    axis: isize,
}

impl CosineSimilarity {
    /// The metric named `name`, along the last axis.
    pub fn new(name: &str) -> Self {
        CosineSimilarity {
            mean: Mean::new(name),
            axis: -1,
        }
    }
    /// The axis the cosine is taken along (Python-style).
    pub fn axis(mut self, axis: isize) -> Self {
        self.axis = axis;
        self
    }
    /// Keras's config: `name`, `dtype` (and `axis` if present).
    pub fn from_config(c: &Cfg) -> Result<Self> {
        Ok(CosineSimilarity {
            mean: Mean::new(c.str_or("name", "cosine_similarity")?).with_dtype(read_dtype(c)?),
            axis: c.isize_or("axis", -1)?,
        })
    }
}

impl Default for CosineSimilarity {
    fn default() -> Self {
        CosineSimilarity::new("cosine_similarity")
    }
}

impl MeanMetric for CosineSimilarity {
    fn class_name(&self) -> &'static str {
        "CosineSimilarity"
    }
    fn mean(&self) -> &Mean {
        &self.mean
    }
    fn mean_mut(&mut self) -> &mut Mean {
        &mut self.mean
    }
    fn values(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        cosine_similarity(y_true, y_pred, self.axis)
    }
    fn direction(&self) -> Option<Direction> {
        Some(Direction::Up)
    }
}

/// Keras's `RootMeanSquaredError`: the square root of the (weighted) mean of the squared
/// errors, each element counting (not averaged per sample first).
#[derive(Clone, Debug)]
pub struct RootMeanSquaredError {
    mean: Mean,
}

impl RootMeanSquaredError {
    /// The metric named `name`.
    pub fn new(name: &str) -> Self {
        RootMeanSquaredError {
            mean: Mean::new(name),
        }
    }
    /// Keras's config: `name`, `dtype`.
    pub fn from_config(c: &Cfg) -> Result<Self> {
        Ok(RootMeanSquaredError {
            mean: Mean::new(c.str_or("name", "root_mean_squared_error")?)
                .with_dtype(read_dtype(c)?),
        })
    }
}

impl Default for RootMeanSquaredError {
    fn default() -> Self {
        RootMeanSquaredError::new("root_mean_squared_error")
    }
}

impl Metric for RootMeanSquaredError {
    fn name(&self) -> &str {
        self.mean.name()
    }
    fn update_state(
        &mut self,
        y_true: &Tensor,
        y_pred: &Tensor,
        sample_weight: Option<&Tensor>,
    ) -> Result<()> {
        aligned(y_true, y_pred)
            .and_then(|(t, p)| Ok((p - t)?.sqr()?))
            .and_then(|sq| self.mean.update_state(&sq, sample_weight))
            .map_err(|e| in_metric(e, "RootMeanSquaredError", self.mean.name()))
    }
    fn result(&self) -> f64 {
        self.mean.value().sqrt()
    }
    fn reset_state(&mut self) {
        self.mean.reset()
    }
    fn direction(&self) -> Option<Direction> {
        Some(Direction::Down)
    }
    fn get_config(&self) -> Value {
        Metric::get_config(&self.mean)
            .as_object()
            .cloned()
            .map(|mut o| {
                o.insert("class_name".into(), "RootMeanSquaredError".into());
                Value::Object(o)
            })
            .unwrap_or(Value::Null)
    }
    fn variables(&self) -> Vec<Tensor> {
        self.mean.variables()
    }
    fn set_variables(&mut self, values: &[Tensor]) -> Result<()> {
        self.mean.set_variables(values, "RootMeanSquaredError")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::test_tensor as t;
    use crate::ops;

    fn v(x: Result<Tensor>) -> Vec<f32> {
        ops::to_vec_f32(&x.unwrap()).unwrap()
    }

    #[test]
    fn per_sample_errors() {
        let yt = t(&[0., 1., 2., 4.], &[2, 2]);
        let yp = t(&[1., 1., 2., 2.], &[2, 2]);
        assert_eq!(v(mean_squared_error(&yt, &yp)), [0.5, 2.0]);
        assert_eq!(v(mean_absolute_error(&yt, &yp)), [0.5, 1.0]);
        let mape = v(mean_absolute_percentage_error(&yt, &yp));
        assert!((mape[0] - 0.5e9).abs() / 0.5e9 < 1e-6 && (mape[1] - 25.0).abs() < 1e-5);
        let lc = v(log_cosh(&t(&[0.], &[1, 1]), &t(&[1.], &[1, 1])));
        assert!((lc[0] as f64 - 1f64.cosh().ln()).abs() < 1e-6, "{lc:?}");
        let cs = v(cosine_similarity(
            &t(&[1., 0.], &[1, 2]),
            &t(&[1., 1.], &[1, 2]),
            -1,
        ));
        assert!((cs[0] - 0.5f32.sqrt()).abs() < 1e-6);
        // Zero vectors: 0, as Keras's epsilon floor.
        assert_eq!(
            v(cosine_similarity(
                &t(&[0., 0.], &[1, 2]),
                &t(&[1., 1.], &[1, 2]),
                -1
            )),
            [0.]
        );
        assert!(cosine_similarity(&yt, &yp, 2).is_err());
        let e = mean_squared_error(&t(&[0.; 3], &[3, 1]), &t(&[0.; 4], &[4, 1])).unwrap_err();
        assert!(
            e.to_string()
                .contains("y_true.shape=(3, 1), y_pred.shape=(4, 1)"),
            "{e}"
        );
    }
}
