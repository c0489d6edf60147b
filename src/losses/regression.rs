//! Regression losses: mean squared error, mean absolute error, Huber (Keras's
//! `keras/src/losses/losses.py`), as classes and as Keras's per-sample functions. The
//! unweighted loss is a fused op; per-sample values (for sample weights and other
//! reductions) are the mean over the last axis.

use super::builtin::Builtin;
use super::tensors::{aligned, broadcastable, elementwise_fused, mean_last, sub};
use super::{Reduced, Reduction};
use crate::ops::{ElementwiseLoss, Tensor};
use crate::serialization::Cfg;
use crate::Result;

/// Keras's `mean_squared_error(y_true, y_pred)`: `mean((y_true - y_pred)^2, axis=-1)`.
///
/// ```
/// use keras::prelude::*;
/// let t = Tensor::new(&[[0f32, 1.0], [1.0, 0.0]], &Device::Cpu)?;
/// let p = Tensor::new(&[[1f32, 1.0], [1.0, 2.0]], &Device::Cpu)?;
/// let v = keras::losses::mean_squared_error(&t, &p)?;
/// assert_eq!(v.to_vec1::<f32>()?, vec![0.5, 2.0]);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn mean_squared_error(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    let (t, p) = aligned(y_true, y_pred)?;
    broadcastable(MeanSquaredError::NAME, &t, &p)?;
    mean_last(&sub(&t, &p)?.sqr()?)
}

/// Keras's `mean_absolute_error(y_true, y_pred)`: `mean(|y_true - y_pred|, axis=-1)`.
pub fn mean_absolute_error(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    let (t, p) = aligned(y_true, y_pred)?;
    broadcastable(MeanAbsoluteError::NAME, &t, &p)?;
    mean_last(&sub(&t, &p)?.abs()?)
}

/// Keras's `huber(y_true, y_pred, delta)`: `0.5 * e^2` where `|e| <= delta`, else
/// `delta * |e| - 0.5 * delta^2`, averaged over the last axis.
pub fn huber(y_true: &Tensor, y_pred: &Tensor, delta: f64) -> Result<Tensor> {
    let (t, p) = aligned(y_true, y_pred)?;
    broadcastable(Huber::NAME, &t, &p)?;
    let e = sub(&p, &t)?;
    let a = e.abs()?;
    let quadratic = (e.sqr()? * 0.5)?;
    let linear = ((&a * delta)? - 0.5 * delta * delta)?;
    mean_last(&a.le(delta)?.where_cond(&quadratic, &linear)?)
}

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
    fn from_config(_: &Cfg) -> Result<Self> {
        Ok(MeanSquaredError)
    }
    fn fused(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Option<Tensor>> {
        elementwise_fused(y_true, y_pred, ElementwiseLoss::MeanSquaredError)
    }
    fn per_sample(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        mean_squared_error(y_true, y_pred)
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
    fn from_config(_: &Cfg) -> Result<Self> {
        Ok(MeanAbsoluteError)
    }
    fn fused(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Option<Tensor>> {
        elementwise_fused(y_true, y_pred, ElementwiseLoss::MeanAbsoluteError)
    }
    fn per_sample(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        mean_absolute_error(y_true, y_pred)
    }
}

/// Huber loss: `0.5 * e^2` for errors up to `delta` (1.0), `delta * |e| - 0.5 * delta^2`
/// above, averaged over the last axis. (Keras's config of this class does not write
/// `delta`.)
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
    // Keras's `Huber.get_config` writes no `delta` (a saved Huber has the default delta when
    // loaded, in Keras too); one written by hand is read.
    fn from_config(c: &Cfg) -> Result<Self> {
        Ok(Huber {
            delta: c.f64_or("delta", 1.0)?,
        })
    }
    fn fused(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Option<Tensor>> {
        elementwise_fused(y_true, y_pred, ElementwiseLoss::Huber(self.delta))
    }
    fn per_sample(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        huber(y_true, y_pred, self.delta)
    }
}
