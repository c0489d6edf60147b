//! Relative regression errors: mean absolute percentage error and mean squared logarithmic
//! error (Keras's `keras/src/losses/losses.py`), as classes and per-sample functions.

use super::builtin::Builtin;
use super::tensors::{aligned, broadcastable, div, elementwise_fused, mean_last, sub};
use super::{Reduced, Reduction, EPSILON};
use crate::ops::{ElementwiseLoss, Tensor};
use crate::serialization::Cfg;
use crate::Result;

/// Keras's `mean_absolute_percentage_error(y_true, y_pred)`:
/// `100 * mean(|(y_true - y_pred) / max(|y_true|, epsilon)|, axis=-1)`.
///
/// ```
/// use keras::prelude::*;
/// let t = Tensor::new(&[[2f32, 4.0]], &Device::Cpu)?;
/// let p = Tensor::new(&[[1f32, 5.0]], &Device::Cpu)?;
/// let v = keras::losses::mean_absolute_percentage_error(&t, &p)?;
/// assert_eq!(v.to_vec1::<f32>()?, vec![37.5]);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn mean_absolute_percentage_error(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    let (t, p) = aligned(y_true, y_pred)?;
    broadcastable(MeanAbsolutePercentageError::NAME, &t, &p)?;
    let diff = div(&sub(&t, &p)?, &t.abs()?.maximum(EPSILON)?)?.abs()?;
    Ok((mean_last(&diff)? * 100.0)?)
}

/// Keras's `mean_squared_logarithmic_error(y_true, y_pred)`:
/// `mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))^2, axis=-1)`.
pub fn mean_squared_logarithmic_error(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    let (t, p) = aligned(y_true, y_pred)?;
    broadcastable(MeanSquaredLogarithmicError::NAME, &t, &p)?;
    let first = (p.maximum(EPSILON)? + 1.0)?.log()?;
    let second = (t.maximum(EPSILON)? + 1.0)?.log()?;
    mean_last(&sub(&first, &second)?.sqr()?)
}

/// `100 * |y_true - y_pred| / max(|y_true|, epsilon)`, averaged over the last axis.
#[derive(Clone, Copy, Debug, Default)]
pub struct MeanAbsolutePercentageError;

impl MeanAbsolutePercentageError {
    /// The same loss with another reduction (Keras's `reduction=` argument).
    pub fn reduction(self, reduction: Reduction) -> Reduced<Self> {
        Reduced::new(self, reduction)
    }
}

impl Builtin for MeanAbsolutePercentageError {
    const NAME: &'static str = "mean_absolute_percentage_error";
    const CLASS: &'static str = "MeanAbsolutePercentageError";
    fn from_config(_: &Cfg) -> Result<Self> {
        Ok(Self)
    }
    fn fused(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Option<Tensor>> {
        elementwise_fused(y_true, y_pred, ElementwiseLoss::MeanAbsolutePercentageError)
    }
    fn per_sample(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        mean_absolute_percentage_error(y_true, y_pred)
    }
}

/// `(log(y_pred + 1) - log(y_true + 1))^2` (values below epsilon raised to it), averaged
/// over the last axis.
#[derive(Clone, Copy, Debug, Default)]
pub struct MeanSquaredLogarithmicError;

impl MeanSquaredLogarithmicError {
    /// The same loss with another reduction (Keras's `reduction=` argument).
    pub fn reduction(self, reduction: Reduction) -> Reduced<Self> {
        Reduced::new(self, reduction)
    }
}

impl Builtin for MeanSquaredLogarithmicError {
    const NAME: &'static str = "mean_squared_logarithmic_error";
    const CLASS: &'static str = "MeanSquaredLogarithmicError";
    fn from_config(_: &Cfg) -> Result<Self> {
        Ok(Self)
    }
    fn fused(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Option<Tensor>> {
        elementwise_fused(y_true, y_pred, ElementwiseLoss::MeanSquaredLogarithmicError)
    }
    fn per_sample(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        mean_squared_logarithmic_error(y_true, y_pred)
    }
}
