//! The correlation metrics (Keras's `keras/src/metrics/correlation_metrics.py`):
//! `PearsonCorrelation` and `ConcordanceCorrelation`, means over samples of the correlation of
//! each sample's labels and predictions along `axis`, as tensor ops on the batch's device.
//!
//! ```
//! use keras::prelude::*;
//! use keras::metrics::{Metric, PearsonCorrelation};
//! let mut m = PearsonCorrelation::default();
//! let y = Tensor::new(&[[1f32, 2., 3.], [1., 2., 3.]], &Device::Cpu)?;
//! let p = Tensor::new(&[[2f32, 4., 6.], [3., 2., 1.]], &Device::Cpu)?;
//! m.update_state(&y, &p, None)?;
//! assert!(m.result().abs() < 1e-6); // +1 and -1
//! # Ok::<(), keras::Error>(())
//! ```

use super::mean_metric::MeanMetric;
use super::reduction_metrics::Mean;
use super::sample_values::{aligned, axis_index, EPSILON};
use super::state::{args, read_dtype};
use super::Direction;
use crate::ops::Tensor;
use crate::serialization::{json, Cfg, Config};
use crate::Result;
use std::marker::PhantomData;

fn centered(x: &Tensor, axis: usize) -> Result<Tensor> {
    Ok(x.broadcast_sub(&x.mean_keepdim(axis)?)?)
}

/// The population variance along `axis`, kept.
fn variance(x: &Tensor, axis: usize) -> Result<Tensor> {
    Ok(centered(x, axis)?.sqr()?.mean_keepdim(axis)?)
}

fn axis_of(p: &Tensor, axis: isize) -> Result<usize> {
    axis_index(axis, p.rank().max(1))
}

/// Keras's `pearson_correlation(y_true, y_pred, axis)`: the Pearson correlation of labels and
/// predictions along `axis` (NaN where either is constant, as in Keras).
pub fn pearson_correlation(y_true: &Tensor, y_pred: &Tensor, axis: isize) -> Result<Tensor> {
    let (t, p) = aligned(y_true, y_pred)?;
    let a = axis_of(&p, axis)?;
    let tn = centered(&t, a)?;
    let pn = centered(&p, a)?;
    let tn = tn.broadcast_div(&variance(&tn, a)?.sqrt()?)?;
    let pn = pn.broadcast_div(&variance(&pn, a)?.sqrt()?)?;
    Ok((tn * pn)?.mean(a)?)
}

/// Keras's `concordance_correlation(y_true, y_pred, axis)`: Lin's concordance correlation
/// along `axis`, written as Keras 3.15 writes it (its covariance centers `y_true` on the
/// predictions' mean).
pub fn concordance_correlation(y_true: &Tensor, y_pred: &Tensor, axis: isize) -> Result<Tensor> {
    let (t, p) = aligned(y_true, y_pred)?;
    let a = axis_of(&p, axis)?;
    let t_mean = t.mean_keepdim(a)?;
    let p_mean = p.mean_keepdim(a)?;
    let t_var = variance(&t.broadcast_sub(&t_mean)?, a)?;
    let p_var = variance(&p.broadcast_sub(&p_mean)?, a)?;
    let covar = (t.broadcast_sub(&p_mean)? * p.broadcast_sub(&p_mean)?)?;
    let norm = ((t_var + p_var)? + (&t_mean - &p_mean)?.sqr()?)?;
    Ok((covar * 2.0)?.broadcast_div(&(norm + EPSILON)?)?.mean(a)?)
}

/// A correlation along an axis, as a type: the class name, the default name and the function
/// of a [`Correlation`] metric.
pub trait CorrelationFn: Send + Sync + 'static {
    /// Keras's class name.
    const CLASS: &'static str;
    /// The default metric name.
    const NAME: &'static str;
    /// The per-sample correlations along `axis`.
    fn values(y_true: &Tensor, y_pred: &Tensor, axis: isize) -> Result<Tensor>;
}

/// The marker of [`PearsonCorrelation`].
#[derive(Clone, Copy, Debug)]
pub struct Pearson;
impl CorrelationFn for Pearson {
    const CLASS: &'static str = "PearsonCorrelation";
    const NAME: &'static str = "pearson_correlation";
    fn values(y_true: &Tensor, y_pred: &Tensor, axis: isize) -> Result<Tensor> {
        pearson_correlation(y_true, y_pred, axis)
    }
}

/// The marker of [`ConcordanceCorrelation`].
#[derive(Clone, Copy, Debug)]
pub struct Concordance;
impl CorrelationFn for Concordance {
    const CLASS: &'static str = "ConcordanceCorrelation";
    const NAME: &'static str = "concordance_correlation";
    fn values(y_true: &Tensor, y_pred: &Tensor, axis: isize) -> Result<Tensor> {
        concordance_correlation(y_true, y_pred, axis)
    }
}

/// The mean correlation of labels and predictions along `axis` (default the last).
pub struct Correlation<K> {
    mean: Mean,
    axis: isize,
    _k: PhantomData<fn() -> K>,
}

/// Keras's `PearsonCorrelation` metric.
pub type PearsonCorrelation = Correlation<Pearson>;

/// Keras's `ConcordanceCorrelation` metric.
pub type ConcordanceCorrelation = Correlation<Concordance>;

impl<K: CorrelationFn> Correlation<K> {
    /// The metric named `name`, along the last axis.
    pub fn new(name: &str) -> Self {
        Correlation {
            mean: Mean::new(name),
            axis: -1,
            _k: PhantomData,
        }
    }
    /// The axis the correlation is taken along (Python-style).
    pub fn axis(mut self, axis: isize) -> Self {
        self.axis = axis;
        self
    }
    /// Keras's config: `name`, `dtype`, `axis`.
    pub fn from_config(c: &Cfg) -> Result<Self> {
        let mut m = Self::new(c.str_or("name", K::NAME)?).axis(c.isize_or("axis", -1)?);
        m.mean = m.mean.with_dtype(read_dtype(c)?);
        Ok(m)
    }
}

impl<K: CorrelationFn> Default for Correlation<K> {
    fn default() -> Self {
        Self::new(K::NAME)
    }
}

impl<K> Clone for Correlation<K> {
    fn clone(&self) -> Self {
        Correlation {
            mean: self.mean.clone(),
            axis: self.axis,
            _k: PhantomData,
        }
    }
}

impl<K: CorrelationFn> std::fmt::Debug for Correlation<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}(axis={}, {:?})", K::CLASS, self.axis, self.mean)
    }
}

impl<K: CorrelationFn> MeanMetric for Correlation<K> {
    fn class_name(&self) -> &'static str {
        K::CLASS
    }
    fn mean(&self) -> &Mean {
        &self.mean
    }
    fn mean_mut(&mut self) -> &mut Mean {
        &mut self.mean
    }
    fn values(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        K::values(y_true, y_pred, self.axis)
    }
    fn config_args(&self) -> Config {
        args(json!({"axis": self.axis}))
    }
    fn direction(&self) -> Option<Direction> {
        Some(Direction::Up)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::test_tensor as t;
    use crate::ops;

    #[test]
    fn correlations() {
        let y = t(&[1., 2., 3., 4.], &[1, 4]);
        let p = t(&[2., 4., 6., 8.], &[1, 4]);
        let r = ops::to_vec_f32(&pearson_correlation(&y, &p, -1).unwrap()).unwrap();
        assert!((r[0] - 1.0).abs() < 1e-6);
        let c = ops::to_vec_f32(&concordance_correlation(&y, &y, -1).unwrap()).unwrap();
        assert!((c[0] - 1.0).abs() < 1e-6, "{c:?}");
        assert!(pearson_correlation(&y, &p, 2).is_err());
        let m = ConcordanceCorrelation::new("cc");
        assert_eq!(m.class_name(), "ConcordanceCorrelation");
    }
}
