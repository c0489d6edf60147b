//! `Mean`, `Sum` and `MeanMetricWrapper` (Keras's `keras/src/metrics/reduction_metrics.py`):
//! running, sample-weighted reductions of values whose state (`total`, `count`) stays on the
//! device of the values; [`MeanMetricWrapper`] is the mean of a function's per-sample values.

use super::mean_metric::MeanMetric;
use super::sample_values::broadcast_pair;
use super::state::{in_metric, metric_object, read_dtype, wrong_count, Total};
use super::weighting::{samplewise, Reduce};
use super::{Direction, Metric, MetricFn};
use crate::losses::squeeze_or_expand_to_same_rank;
use crate::ops::{DType, Tensor};
use crate::saving::object_registration::{get_registered, unknown_class};
use crate::serialization::{json, Cfg, Config, Value};
use crate::Result;

/// A running, sample-weighted mean of values (Keras's `Mean`; also the loss tracker).
///
/// ```
/// use keras::prelude::*;
/// use keras::metrics::Mean;
/// let mut m = Mean::new("mean");
/// let v = Tensor::new(&[1f32, 3.0, 5.0, 7.0], &Device::Cpu)?;
/// m.update_state(&v, Some(&Tensor::new(&[1f32, 1.0, 0.0, 0.0], &Device::Cpu)?))?;
/// assert_eq!(m.value(), 2.0);
/// m.add(8.0, 2.0); // a value with its weight, as the loss tracker adds a batch loss
/// assert_eq!(m.value(), 5.0);
/// # Ok::<(), keras::Error>(())
/// ```
///
/// As a [`Metric`] (from a config), `update_state(values, _, sample_weight)` averages its
/// first argument, Keras's positional `values`; the second is ignored.
#[derive(Clone, Debug)]
pub struct Mean {
    name: String,
    dtype: DType,
    total: Total,
    count: Total,
}

impl Default for Mean {
    fn default() -> Self {
        Mean::new("mean")
    }
}

impl Mean {
    /// A mean called `name` (dtype `float32`).
    pub fn new(name: &str) -> Self {
        Mean {
            name: name.to_string(),
            dtype: DType::F32,
            total: Total::default(),
            count: Total::default(),
        }
    }

    /// The same mean accumulating in `dtype` (a floating dtype).
    pub fn with_dtype(mut self, dtype: DType) -> Self {
        self.dtype = dtype;
        self
    }

    /// Keras's `Mean.from_config`: `name` (default `mean`) and `dtype`.
    pub fn from_config(c: &Cfg) -> Result<Self> {
        Ok(Mean::new(c.str_or("name", "mean")?).with_dtype(read_dtype(c)?))
    }

    /// The dtype of the state.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// Adds `value` with weight `weight` (e.g. a batch loss with the batch size).
    pub fn add(&mut self, value: f64, weight: f64) {
        // CPU scalars: adding them cannot fail.
        let _ = self.total.add_host(value * weight, self.dtype);
        let _ = self.count.add_host(weight, self.dtype);
    }

    /// Keras's `Mean.update_state(values, sample_weight)`: values averaged to one per sample
    /// (weighted by `sample_weight` when given), each sample counting its weight.
    pub fn update_state(&mut self, values: &Tensor, sample_weight: Option<&Tensor>) -> Result<()> {
        let (v, w) = samplewise(values, sample_weight, Reduce::Mean, self.dtype)?;
        self.total.add(&v.sum_all()?)?;
        match w {
            Some(w) => self.count.add(&w.sum_all()?),
            None => {
                let n = v.dims().first().copied().unwrap_or(1);
                self.count.add_number(n as f64, &v.sum_all()?)
            }
        }
    }

    /// [`Mean::update_state`] with the values' Keras mask: with sample weights, the weights
    /// are multiplied by the mask (Keras's `apply_mask`); without, the mask is not used, as
    /// in Keras.
    pub(crate) fn update_masked(
        &mut self,
        values: &Tensor,
        mask: Option<&Tensor>,
        sample_weight: Option<&Tensor>,
    ) -> Result<()> {
        let (Some(mask), Some(w)) = (mask, sample_weight) else {
            return self.update_state(values, sample_weight);
        };
        let w = w.to_dtype(self.dtype)?.to_device(values.device())?;
        let mask = mask.to_dtype(self.dtype)?;
        let (mask, w) = squeeze_or_expand_to_same_rank(&mask, &w, true)?;
        let (mask, w) = broadcast_pair(mask, w)?;
        self.update_state(values, Some(&(w * mask)?))
    }

    /// The mean so far (0 before any value, or when the weights sum to 0, as Keras's
    /// `divide_no_nan`).
    pub fn value(&self) -> f64 {
        let count = self.count.scalar();
        if count == 0.0 {
            0.0
        } else {
            self.total.scalar() / count
        }
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Renames the mean.
    pub fn set_name(&mut self, name: &str) {
        self.name = name.to_string();
    }

    /// Clears the state.
    pub fn reset(&mut self) {
        self.total.reset();
        self.count.reset();
    }

    /// `total` and `count`, Keras's variables.
    pub fn variables(&self) -> Vec<Tensor> {
        vec![
            self.total.tensor(&[], self.dtype),
            self.count.tensor(&[], self.dtype),
        ]
    }

    /// Restores `total` and `count`.
    pub fn set_variables(&mut self, values: &[Tensor], class: &str) -> Result<()> {
        let [t, c] = values else {
            return Err(wrong_count(class, &self.name, 2, values.len()));
        };
        self.total.set(t, &[], self.dtype, &self.name)?;
        self.count.set(c, &[], self.dtype, &self.name)
    }

    pub(crate) fn config(&self, class: &str, args: Config) -> Value {
        metric_object(class, &self.name, self.dtype, args)
    }
}

impl Metric for Mean {
    fn name(&self) -> &str {
        &self.name
    }
    fn update_state(
        &mut self,
        values: &Tensor,
        _y_pred: &Tensor,
        sample_weight: Option<&Tensor>,
    ) -> Result<()> {
        Mean::update_state(self, values, sample_weight)
            .map_err(|e| in_metric(e, "Mean", &self.name))
    }
    fn result(&self) -> f64 {
        self.value()
    }
    fn reset_state(&mut self) {
        self.reset()
    }
    fn get_config(&self) -> Value {
        self.config("Mean", Config::new())
    }
    fn variables(&self) -> Vec<Tensor> {
        Mean::variables(self)
    }
    fn set_variables(&mut self, values: &[Tensor]) -> Result<()> {
        Mean::set_variables(self, values, "Mean")
    }
}

/// A running, sample-weighted sum of values (Keras's `Sum`).
///
/// ```
/// use keras::prelude::*;
/// use keras::metrics::Sum;
/// let mut m = Sum::new("sum");
/// let v = Tensor::new(&[1f32, 3.0, 5.0, 7.0], &Device::Cpu)?;
/// m.update_state(&v, Some(&Tensor::new(&[1f32, 1.0, 0.0, 0.0], &Device::Cpu)?))?;
/// assert_eq!(m.value(), 4.0);
/// # Ok::<(), keras::Error>(())
/// ```
///
/// As a [`Metric`], `update_state(values, _, sample_weight)` sums its first argument.
#[derive(Clone, Debug)]
pub struct Sum {
    name: String,
    dtype: DType,
    total: Total,
}

impl Default for Sum {
    fn default() -> Self {
        Sum::new("sum")
    }
}

impl Sum {
    /// A sum called `name` (dtype `float32`).
    pub fn new(name: &str) -> Self {
        Sum {
            name: name.to_string(),
            dtype: DType::F32,
            total: Total::default(),
        }
    }

    /// Keras's `Sum.from_config`: `name` (default `sum`) and `dtype`.
    pub fn from_config(c: &Cfg) -> Result<Self> {
        let mut s = Sum::new(c.str_or("name", "sum")?);
        s.dtype = read_dtype(c)?;
        Ok(s)
    }

    /// Keras's `Sum.update_state(values, sample_weight)`: the (weighted) values summed.
    pub fn update_state(&mut self, values: &Tensor, sample_weight: Option<&Tensor>) -> Result<()> {
        let (v, _) = samplewise(values, sample_weight, Reduce::Sum, self.dtype)?;
        self.total.add(&v.sum_all()?)
    }

    /// The sum so far.
    pub fn value(&self) -> f64 {
        self.total.scalar()
    }
}

impl Metric for Sum {
    fn name(&self) -> &str {
        &self.name
    }
    fn update_state(
        &mut self,
        values: &Tensor,
        _y_pred: &Tensor,
        sample_weight: Option<&Tensor>,
    ) -> Result<()> {
        Sum::update_state(self, values, sample_weight).map_err(|e| in_metric(e, "Sum", &self.name))
    }
    fn result(&self) -> f64 {
        self.value()
    }
    fn reset_state(&mut self) {
        self.total.reset()
    }
    fn get_config(&self) -> Value {
        metric_object("Sum", &self.name, self.dtype, Config::new())
    }
    fn variables(&self) -> Vec<Tensor> {
        vec![self.total.tensor(&[], self.dtype)]
    }
    fn set_variables(&mut self, values: &[Tensor]) -> Result<()> {
        let [t] = values else {
            return Err(wrong_count("Sum", &self.name, 1, values.len()));
        };
        self.total.set(t, &[], self.dtype, &self.name)
    }
}

/// The mean of a function's per-sample values (Keras's `MeanMetricWrapper`): a user metric
/// from a closure `fn(y_true, y_pred) -> per-sample values`, or a registered [`MetricFn`] by
/// name (`mean_squared_error`, ...), which is how its config names it.
///
/// ```
/// use keras::prelude::*;
/// use keras::metrics::{Metric, MeanMetricWrapper};
/// let mut m = MeanMetricWrapper::new("cube_error", |y_true, y_pred| {
///     Ok((y_pred - y_true)?.abs()?.powf(3.0)?.mean(1)?)
/// });
/// let t = Tensor::new(&[[0f32], [0.0]], &Device::Cpu)?;
/// let p = Tensor::new(&[[1f32], [2.0]], &Device::Cpu)?;
/// m.update_state(&t, &p, None)?;
/// assert_eq!(m.result(), 4.5);
/// let mse = MeanMetricWrapper::function("mean_squared_error", "my_mse")?;
/// assert_eq!(mse.get_config()["config"]["fn"]["config"], "mean_squared_error");
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone)]
pub struct MeanMetricWrapper {
    mean: Mean,
    fn_name: String,
    f: MetricFn,
}

impl MeanMetricWrapper {
    /// The mean of `f`'s per-sample values, named `name` (its config names the function
    /// `name` too: register it as a [`MetricFn`] to load it back).
    pub fn new(
        name: &str,
        f: impl Fn(&Tensor, &Tensor) -> Result<Tensor> + Send + Sync + 'static,
    ) -> Self {
        MeanMetricWrapper {
            mean: Mean::new(name),
            fn_name: name.to_string(),
            f: MetricFn::new(f),
        }
    }

    /// The mean of the registered metric function `fn_name` (`mean_squared_error`,
    /// `binary_accuracy`, ... or a user's), named `name`.
    pub fn function(fn_name: &str, name: &str) -> Result<Self> {
        let make = get_registered::<MetricFn>(fn_name)
            .ok_or_else(|| unknown_class::<MetricFn>(fn_name))?;
        let f = make(&Cfg::new(fn_name, &Config::new()))?;
        Ok(MeanMetricWrapper {
            mean: Mean::new(name),
            fn_name: fn_name.to_string(),
            f,
        })
    }

    /// The same metric with Keras's `_direction` (a loss function's is `Down`).
    pub fn with_direction(mut self, direction: Direction) -> Self {
        self.f.direction = Some(direction);
        self
    }

    /// Keras's `MeanMetricWrapper.from_config`: `fn` (a function name or its serialized
    /// form, looked up among the registered [`MetricFn`]s), `name`, `dtype`.
    pub fn from_config(c: &Cfg) -> Result<Self> {
        let fn_name = match c.get("fn") {
            Some(Value::String(s)) => s.as_str(),
            Some(v) => v
                .get("config")
                .and_then(Value::as_str)
                .ok_or_else(|| c.bad("fn", "a function name"))?,
            None => return Err(c.bad("fn", "a function name")),
        };
        let mut m = MeanMetricWrapper::function(fn_name, c.str_or("name", fn_name)?)?;
        m.mean.dtype = read_dtype(c)?;
        Ok(m)
    }
}

impl MeanMetric for MeanMetricWrapper {
    fn class_name(&self) -> &'static str {
        "MeanMetricWrapper"
    }
    fn mean(&self) -> &Mean {
        &self.mean
    }
    fn mean_mut(&mut self) -> &mut Mean {
        &mut self.mean
    }
    fn values(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        (self.f.f)(y_true, y_pred)
    }
    fn config_args(&self) -> Config {
        let mut c = Config::new();
        c.insert(
            "fn".into(),
            json!({"module": "builtins", "class_name": "function", "config": self.fn_name,
                   "registered_name": "function"}),
        );
        c
    }
    fn direction(&self) -> Option<Direction> {
        self.f.direction
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::test_tensor as t;

    #[test]
    fn mean_and_sum_like_keras() {
        let v = t(&[1., 3., 5., 7.], &[4]);
        let w = t(&[1., 1., 0., 0.], &[4]);
        let mut m = Mean::default();
        m.update_state(&v, None).unwrap();
        assert_eq!(m.value(), 4.0);
        m.reset();
        m.update_state(&v, Some(&w)).unwrap();
        assert_eq!(m.value(), 2.0);
        assert_eq!(ops_vals(&Metric::variables(&m)), [4.0, 2.0]);
        let mut s = Sum::default();
        Metric::update_state(&mut s, &v, &v, Some(&w)).unwrap();
        assert_eq!(s.result(), 4.0);
        s.set_variables(&[t(&[9.], &[])]).unwrap();
        assert_eq!(s.result(), 9.0);
        assert!(s.set_variables(&[]).is_err());
        // Zero weights: 0, as Keras's divide_no_nan.
        m.reset();
        m.update_state(&v, Some(&t(&[0., 0., 0., 0.], &[4])))
            .unwrap();
        assert_eq!(m.value(), 0.0);
        let e = m.update_state(&v, Some(&t(&[1., 2.], &[2]))).unwrap_err();
        assert!(e.to_string().contains("shapes=[(2,), (4,)]"), "{e}");
        assert_eq!(
            m.get_config()["config"],
            json!({"name": "mean", "dtype": "float32"})
        );
    }

    fn ops_vals(v: &[Tensor]) -> Vec<f64> {
        v.iter().map(|t| crate::ops::scalar(t).unwrap()).collect()
    }

    #[test]
    fn wrapper_of_a_closure_and_of_a_name() {
        let mut m = MeanMetricWrapper::new("abs_err", |a, b| Ok((b - a)?.abs()?.mean(1)?));
        let yt = t(&[0., 0., 1., 1.], &[2, 2]);
        let yp = t(&[1., 0., 1., 0.], &[2, 2]);
        m.update_state(&yt, &yp, Some(&t(&[1., 3.], &[2]))).unwrap();
        assert_eq!(m.result(), 0.5);
        assert_eq!(Metric::direction(&m), None);
        let e = MeanMetricWrapper::function("mean_sqared_error", "x")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("'mean_squared_error'"), "{e}");
    }
}
