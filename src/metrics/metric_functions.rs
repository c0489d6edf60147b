//! Metric functions by name (Keras's `keras.metrics.*` and `keras.losses.*` functions):
//! per-sample values `fn(y_true, y_pred)`, registered as the kind `metric function` so a
//! [`MeanMetricWrapper`](super::MeanMetricWrapper) config that names its `fn` loads back, the
//! built-in ones and a user's alike.
//!
//! ```
//! use keras::prelude::*;
//! use keras::metrics::{MeanMetricWrapper, Metric, MetricFn};
//! use keras::saving::object_registration::register;
//! register::<MetricFn>("double_error", |_| {
//!     Ok(MetricFn::new(|t, p| Ok(((p - t)?.abs()? * 2.0)?.mean(1)?)))
//! });
//! let mut m = MeanMetricWrapper::function("double_error", "de")?;
//! m.update_state(&Tensor::new(&[[0f32]], &Device::Cpu)?, &Tensor::new(&[[1f32]], &Device::Cpu)?, None)?;
//! assert_eq!(m.result(), 2.0);
//! # Ok::<(), keras::Error>(())
//! ```

use super::accuracy_metrics as acc;
use super::correlation_metrics as corr;
use super::hinge_metrics as hinge;
use super::probabilistic_metrics as prob;
use super::regression_metrics as reg;
use super::Direction;
use crate::ops::Tensor;
use crate::saving::object_registration::{Builtins, Registrable};
use crate::Result;
use std::sync::Arc;

type Values = dyn Fn(&Tensor, &Tensor) -> Result<Tensor> + Send + Sync;

/// A metric function: per-sample values of `(y_true, y_pred)`, and the direction Keras gives
/// the mean of it (`Down` for loss functions).
#[derive(Clone)]
pub struct MetricFn {
    pub(crate) f: Arc<Values>,
    pub(crate) direction: Option<Direction>,
}

impl MetricFn {
    /// The function `f` (no direction).
    pub fn new(f: impl Fn(&Tensor, &Tensor) -> Result<Tensor> + Send + Sync + 'static) -> Self {
        MetricFn {
            f: Arc::new(f),
            direction: None,
        }
    }

    /// The same function, whose mean improves in `direction`.
    pub fn with_direction(mut self, direction: Direction) -> Self {
        self.direction = Some(direction);
        self
    }

    /// The per-sample values.
    pub fn call(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        (self.f)(y_true, y_pred)
    }
}

fn loss(
    f: fn(&Tensor, &Tensor) -> Result<Tensor>,
) -> impl Fn(&crate::serialization::Cfg) -> Result<MetricFn> + Send + Sync {
    move |_| Ok(MetricFn::new(f).with_direction(Direction::Down))
}

fn metric(
    f: fn(&Tensor, &Tensor) -> Result<Tensor>,
) -> impl Fn(&crate::serialization::Cfg) -> Result<MetricFn> + Send + Sync {
    move |_| Ok(MetricFn::new(f))
}

impl Registrable for MetricFn {
    const KIND: &'static str = "metric function";
    fn register_builtins(r: &mut Builtins<Self>) {
        r.alias(
            &["mean_squared_error", "mse"],
            loss(reg::mean_squared_error),
        );
        r.alias(
            &["mean_absolute_error", "mae"],
            loss(reg::mean_absolute_error),
        );
        r.alias(
            &["mean_absolute_percentage_error", "mape"],
            loss(reg::mean_absolute_percentage_error),
        );
        r.alias(
            &["mean_squared_logarithmic_error", "msle"],
            loss(reg::mean_squared_logarithmic_error),
        );
        r.alias(&["log_cosh", "logcosh"], loss(reg::log_cosh));
        r.alias(&["kl_divergence", "kld"], loss(prob::kl_divergence));
        r.add("poisson", loss(prob::poisson));
        r.add("hinge", loss(hinge::hinge));
        r.add("squared_hinge", loss(hinge::squared_hinge));
        r.add("categorical_hinge", loss(hinge::categorical_hinge));
        r.add(
            "binary_crossentropy",
            loss(|t, p| prob::binary_crossentropy(t, p, false, 0.0)),
        );
        r.add(
            "categorical_crossentropy",
            loss(|t, p| prob::categorical_crossentropy(t, p, false, 0.0, -1)),
        );
        r.add(
            "sparse_categorical_crossentropy",
            loss(|t, p| Ok(prob::sparse_categorical_crossentropy(t, p, false, None, -1)?.0)),
        );
        r.add(
            "binary_accuracy",
            metric(|t, p| acc::binary_accuracy(t, p, 0.5)),
        );
        r.add("categorical_accuracy", metric(acc::categorical_accuracy));
        r.add(
            "sparse_categorical_accuracy",
            metric(acc::sparse_categorical_accuracy),
        );
        r.add(
            "top_k_categorical_accuracy",
            metric(|t, p| acc::top_k_categorical_accuracy(t, p, 5)),
        );
        r.add(
            "sparse_top_k_categorical_accuracy",
            metric(|t, p| acc::sparse_top_k_categorical_accuracy(t, p, 5, false)),
        );
        r.add(
            "pearson_correlation",
            metric(|t, p| corr::pearson_correlation(t, p, -1)),
        );
        r.add(
            "concordance_correlation",
            metric(|t, p| corr::concordance_correlation(t, p, -1)),
        );
    }
}
