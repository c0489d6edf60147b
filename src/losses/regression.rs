//! Regression losses: mean squared error, mean absolute error, Huber (Keras's
//! `keras/src/losses/losses.py`). The unweighted loss is a fused op; per-sample values (for
//! sample weights and other reductions) are the mean over the last axis.

use super::builtin::Builtin;
use super::{elementwise_fused, elementwise_values, Reduced, Reduction};
use crate::ops::{ElementwiseLoss, Tensor};
use crate::Result;
use serde_json::{json, Map, Value};

/// Mean of `(y_true - y_pred)^2` over the last axis.
///
/// ```
/// use keras::prelude::*;
/// use keras::losses::{Loss, MeanSquaredError, Reduction};
/// let t = Tensor::new(&[[0f32, 1.0], [1.0, 0.0]], &Device::Cpu)?;
/// let p = Tensor::new(&[[1f32, 1.0], [1.0, 1.0]], &Device::Cpu)?;
/// assert_eq!(keras::ops::scalar(&MeanSquaredError.call(&t, &p)?)?, 0.5);
/// let w = Tensor::new(&[2f32, 0.0], &Device::Cpu)?;
/// assert_eq!(keras::ops::scalar(&MeanSquaredError.call_weighted(&t, &p, Some(&w))?)?, 0.5);
/// let sum = MeanSquaredError.reduction(Reduction::Sum);
/// assert_eq!(keras::ops::scalar(&sum.call(&t, &p)?)?, 1.0);
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct MeanSquaredError;

impl MeanSquaredError {
    /// The same loss with another reduction (Keras's `reduction=` argument).
    pub fn reduction(self, reduction: Reduction) -> Reduced<Self> {
        Reduced::new(self, reduction)
    }
}

impl Builtin for MeanSquaredError {
    const NAME: &'static str = "mean_squared_error";
    const CLASS: &'static str = "MeanSquaredError";
    fn fused(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        elementwise_fused(
            y_true,
            y_pred,
            Self::NAME,
            ElementwiseLoss::MeanSquaredError,
        )
    }
    fn per_sample(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        elementwise_values(y_true, y_pred, Self::NAME, |p, t| Ok((p - t)?.sqr()?))
    }
}

/// Mean of `|y_true - y_pred|` over the last axis.
#[derive(Clone, Copy, Debug, Default)]
pub struct MeanAbsoluteError;

impl MeanAbsoluteError {
    /// The same loss with another reduction (Keras's `reduction=` argument).
    pub fn reduction(self, reduction: Reduction) -> Reduced<Self> {
        Reduced::new(self, reduction)
    }
}

impl Builtin for MeanAbsoluteError {
    const NAME: &'static str = "mean_absolute_error";
    const CLASS: &'static str = "MeanAbsoluteError";
    fn fused(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        elementwise_fused(
            y_true,
            y_pred,
            Self::NAME,
            ElementwiseLoss::MeanAbsoluteError,
        )
    }
    fn per_sample(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        elementwise_values(y_true, y_pred, Self::NAME, |p, t| Ok((p - t)?.abs()?))
    }
}

/// Huber loss: `0.5 * e^2` for errors up to `delta` (1.0), `delta * |e| - 0.5 * delta^2`
/// above, averaged over the last axis.
#[derive(Clone, Copy, Debug)]
pub struct Huber {
    /// The switch point.
    pub delta: f64,
}

impl Default for Huber {
    fn default() -> Self {
        Huber { delta: 1.0 }
    }
}

impl Huber {
    /// The same loss with another reduction (Keras's `reduction=` argument).
    pub fn reduction(self, reduction: Reduction) -> Reduced<Self> {
        Reduced::new(self, reduction)
    }
}

impl Builtin for Huber {
    const NAME: &'static str = "huber_loss";
    const CLASS: &'static str = "Huber";
    fn args(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("delta".into(), json!(self.delta));
        m
    }
    fn has_options(&self) -> bool {
        true
    }
    fn fused(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        elementwise_fused(
            y_true,
            y_pred,
            Self::NAME,
            ElementwiseLoss::Huber(self.delta),
        )
    }
    fn per_sample(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        elementwise_values(y_true, y_pred, Self::NAME, |p, t| {
            let a = (p - t)?.abs()?;
            // 0.5 * min(|e|, d)^2 + d * (|e| - min(|e|, d)): both of Keras's branches in one.
            let q = a.minimum(self.delta)?;
            Ok(((q.sqr()? * 0.5)? + ((a - &q)? * self.delta)?)?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::test_tensor as t;
    use crate::losses::Loss;
    use crate::ops;

    /// The per-sample path reduced by the default reduction equals the fused loss.
    #[test]
    fn values_agree_with_fused() {
        let yt = t(&[0.5, -1.0, 2.0, 0.0, 3.0, 1.5], &[3, 2]);
        let yp = t(&[0.1, 0.7, -2.5, 0.2, 3.3, 0.0], &[3, 2]);
        let losses: Vec<Box<dyn Loss>> = vec![
            Box::new(MeanSquaredError),
            Box::new(MeanAbsoluteError),
            Box::new(Huber::default()),
            Box::new(Huber { delta: 0.25 }),
        ];
        for l in losses {
            let v = l.values(&yt, &yp).unwrap();
            assert_eq!(v.dims(), &[3]);
            let a = ops::scalar(&l.call(&yt, &yp).unwrap()).unwrap();
            let b = ops::scalar(&v.mean_all().unwrap()).unwrap();
            assert!((a - b).abs() < 1e-6, "{}: {a} {b}", l.name());
        }
    }
}
