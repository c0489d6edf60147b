//! The mean-style metrics' shape: a [`MeanMetric`] gives per-sample values and holds a
//! [`Mean`]; it is then a [`Metric`] (update, result, config, variables). [`MeanOf`] is the
//! metric of a [`SampleFn`], a Keras metric function without arguments (`MeanSquaredError`,
//! `Hinge`, ...).

use super::reduction_metrics::Mean;
use super::state::{in_metric, read_dtype};
use super::{Direction, Metric};
use crate::ops::Tensor;
use crate::serialization::{Cfg, Config, Value};
use crate::Result;
use std::marker::PhantomData;

/// A metric that is the weighted mean of per-sample values (the classes Keras derives from
/// `MeanMetricWrapper`: accuracies, errors, cross-entropies, hinges, correlations). Implement
/// it and the type is a [`Metric`]: `update_state` averages [`values`](MeanMetric::values)
/// (errors name the class, the metric and the shapes), `get_config` writes `{name, dtype}`
/// and [`config_args`](MeanMetric::config_args), the state is the [`Mean`]'s.
pub trait MeanMetric: Send {
    /// Keras's class name (`MeanSquaredError`).
    fn class_name(&self) -> &'static str;
    /// The running mean (name, dtype, state).
    fn mean(&self) -> &Mean;
    /// The running mean, to update.
    fn mean_mut(&mut self) -> &mut Mean;
    /// The per-sample values of a batch (Keras's metric function, e.g. `mean_squared_error`).
    fn values(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor>;
    /// The values and the Keras mask Keras's function sets on them (`1` where a value
    /// counts; applied to the sample weights when there are weights, as Keras's
    /// `reduce_to_samplewise_values`); by default [`values`](MeanMetric::values), unmasked.
    fn masked_values(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<(Tensor, Option<Tensor>)> {
        Ok((self.values(y_true, y_pred)?, None))
    }
    /// The class's own `get_config` entries besides `name` and `dtype`.
    fn config_args(&self) -> Config {
        Config::new()
    }
    /// Keras's `_direction`.
    fn direction(&self) -> Option<Direction> {
        None
    }
}

impl<T: MeanMetric> Metric for T {
    fn name(&self) -> &str {
        self.mean().name()
    }
    fn update_state(
        &mut self,
        y_true: &Tensor,
        y_pred: &Tensor,
        sample_weight: Option<&Tensor>,
    ) -> Result<()> {
        let values = self.masked_values(y_true, y_pred);
        let class = self.class_name();
        let m = self.mean_mut();
        values
            .and_then(|(v, mask)| m.update_masked(&v, mask.as_ref(), sample_weight))
            .map_err(|e| in_metric(e, class, m.name()))
    }
    fn result(&self) -> f64 {
        self.mean().value()
    }
    fn reset_state(&mut self) {
        self.mean_mut().reset()
    }
    fn direction(&self) -> Option<Direction> {
        MeanMetric::direction(self)
    }
    fn get_config(&self) -> Value {
        self.mean().config(self.class_name(), self.config_args())
    }
    fn variables(&self) -> Vec<Tensor> {
        self.mean().variables()
    }
    fn set_variables(&mut self, values: &[Tensor]) -> Result<()> {
        let class = self.class_name();
        self.mean_mut().set_variables(values, class)
    }
}

/// A Keras metric function without arguments, as a type: the per-sample values of a
/// [`MeanOf`] metric, with the class name, the default name and the direction.
pub trait SampleFn: Send + Sync + 'static {
    /// Keras's class name (`MeanSquaredError`).
    const CLASS: &'static str;
    /// The default metric name (`mean_squared_error`).
    const NAME: &'static str;
    /// Keras's `_direction`.
    const DIRECTION: Option<Direction>;
    /// The per-sample values (Keras's function, e.g. `mean_squared_error`).
    fn values(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor>;
}

/// The mean of a [`SampleFn`]'s per-sample values: the built-in metrics without arguments
/// (`MeanSquaredError`, `Hinge`, `CategoricalAccuracy`, ...) are `MeanOf` their function.
///
/// ```
/// use keras::prelude::*;
/// use keras::metrics::{MeanSquaredError, Metric};
/// let mut m = MeanSquaredError::new("mse");
/// let y = Tensor::new(&[[0f32, 1.0], [0.0, 0.0]], &Device::Cpu)?;
/// let p = Tensor::new(&[[1f32, 1.0], [1.0, 0.0]], &Device::Cpu)?;
/// m.update_state(&y, &p, None)?;
/// assert_eq!(m.result(), 0.5);
/// assert_eq!(m.get_config()["class_name"], "MeanSquaredError");
/// # Ok::<(), keras::Error>(())
/// ```
pub struct MeanOf<F> {
    mean: Mean,
    _f: PhantomData<fn() -> F>,
}

impl<F: SampleFn> MeanOf<F> {
    /// The metric, named `name`.
    pub fn new(name: &str) -> Self {
        MeanOf {
            mean: Mean::new(name),
            _f: PhantomData,
        }
    }
    /// Keras's config: `name` and `dtype`.
    pub fn from_config(c: &Cfg) -> Result<Self> {
        Ok(MeanOf {
            mean: Mean::new(c.str_or("name", F::NAME)?).with_dtype(read_dtype(c)?),
            _f: PhantomData,
        })
    }
}

impl<F: SampleFn> Default for MeanOf<F> {
    fn default() -> Self {
        MeanOf::new(F::NAME)
    }
}

impl<F> Clone for MeanOf<F> {
    fn clone(&self) -> Self {
        MeanOf {
            mean: self.mean.clone(),
            _f: PhantomData,
        }
    }
}

impl<F: SampleFn> std::fmt::Debug for MeanOf<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}({:?})", F::CLASS, self.mean)
    }
}

impl<F: SampleFn> MeanMetric for MeanOf<F> {
    fn class_name(&self) -> &'static str {
        F::CLASS
    }
    fn mean(&self) -> &Mean {
        &self.mean
    }
    fn mean_mut(&mut self) -> &mut Mean {
        &mut self.mean
    }
    fn values(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        F::values(y_true, y_pred)
    }
    fn direction(&self) -> Option<Direction> {
        F::DIRECTION
    }
}
