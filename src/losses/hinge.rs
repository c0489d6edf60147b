//! Hinge losses for "maximum-margin" classification: hinge, squared hinge, categorical hinge
//! (Keras's `keras/src/losses/losses.py`), as classes and per-sample functions.

use super::builtin::Builtin;
use super::tensors::{
    aligned, broadcastable, elementwise_fused, floats, mean_last, mul, one_minus, sub, sum_last,
};
use super::{Reduced, Reduction};
use crate::ops::{ElementwiseLoss, Tensor};
use crate::serialization::Cfg;
use crate::Result;

/// Keras's `convert_binary_labels_to_hinge`: labels that are all 0 or 1 become -1 or 1;
/// other labels are kept (decided on the device, without a copy to the host).
fn signed_labels(t: &Tensor) -> Result<Tensor> {
    if t.elem_count() == 0 {
        return Ok(t.clone());
    }
    // t * (t - 1) is 0 exactly for 0 and 1.
    let off = (t * (t - 1.0)?)?.abs()?.flatten_all()?.max(0)?;
    let binary = off.eq(0.0)?.to_dtype(t.dtype())?;
    // t + binary * (t - 1): 2t - 1 when binary, else t.
    Ok((t + (t - 1.0)?.broadcast_mul(&binary)?)?.detach())
}

/// `max(1 - y_true * y_pred, 0)`, the labels converted.
fn margins(y_true: &Tensor, y_pred: &Tensor, loss: &str) -> Result<Tensor> {
    let (t, p) = floats(y_true, y_pred)?;
    broadcastable(loss, &t, &p)?;
    Ok(one_minus(&mul(&signed_labels(&t)?, &p)?)?.relu()?)
}

/// Keras's `hinge(y_true, y_pred)`: `mean(max(1 - y_true * y_pred, 0), axis=-1)`, with 0/1
/// labels converted to -1/1.
///
/// ```
/// use keras::prelude::*;
/// let t = Tensor::new(&[[0f32, 1.0]], &Device::Cpu)?;
/// let p = Tensor::new(&[[0.5f32, 0.5]], &Device::Cpu)?;
/// assert_eq!(keras::losses::hinge(&t, &p)?.to_vec1::<f32>()?, vec![1.0]);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn hinge(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    mean_last(&margins(y_true, y_pred, Hinge::NAME)?)
}

/// Keras's `squared_hinge(y_true, y_pred)`: `mean(max(1 - y_true * y_pred, 0)^2, axis=-1)`,
/// with 0/1 labels converted to -1/1.
pub fn squared_hinge(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    mean_last(&margins(y_true, y_pred, SquaredHinge::NAME)?.sqr()?)
}

/// Keras's `categorical_hinge(y_true, y_pred)`: `max(neg - pos + 1, 0)` with
/// `pos = sum(y_true * y_pred, -1)` and `neg = max((1 - y_true) * y_pred, -1)`.
pub fn categorical_hinge(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    let (t, p) = floats(y_true, y_pred)?;
    broadcastable(CategoricalHinge::NAME, &t, &p)?;
    let pos = sum_last(&mul(&t, &p)?)?;
    let other = mul(&one_minus(&t)?, &p)?;
    let neg = if other.rank() == 0 {
        other
    } else {
        other.max(other.rank() - 1)?
    };
    Ok((sub(&neg, &pos)? + 1.0)?.maximum(0.0)?)
}

/// The fused hinge op `kind` on aligned, converted labels.
fn fused_hinge(y_true: &Tensor, y_pred: &Tensor, kind: ElementwiseLoss) -> Result<Option<Tensor>> {
    let (t, _) = aligned(y_true, y_pred)?;
    elementwise_fused(&signed_labels(&t)?, y_pred, kind)
}

/// `max(1 - y_true * y_pred, 0)` averaged over the last axis (labels -1 or 1; 0/1 labels are
/// converted).
#[derive(Clone, Copy, Debug, Default)]
pub struct Hinge;

impl Hinge {
    /// The same loss with another reduction (Keras's `reduction=` argument).
    pub fn reduction(self, reduction: Reduction) -> Reduced<Self> {
        Reduced::new(self, reduction)
    }
}

impl Builtin for Hinge {
    const NAME: &'static str = "hinge";
    const CLASS: &'static str = "Hinge";
    fn from_config(_: &Cfg) -> Result<Self> {
        Ok(Hinge)
    }
    fn fused(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Option<Tensor>> {
        fused_hinge(y_true, y_pred, ElementwiseLoss::Hinge)
    }
    fn per_sample(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        let (t, p) = aligned(y_true, y_pred)?;
        hinge(&t, &p)
    }
}

/// `max(1 - y_true * y_pred, 0)^2` averaged over the last axis (labels -1 or 1; 0/1 labels
/// are converted).
#[derive(Clone, Copy, Debug, Default)]
pub struct SquaredHinge;

impl SquaredHinge {
    /// The same loss with another reduction (Keras's `reduction=` argument).
    pub fn reduction(self, reduction: Reduction) -> Reduced<Self> {
        Reduced::new(self, reduction)
    }
}

impl Builtin for SquaredHinge {
    const NAME: &'static str = "squared_hinge";
    const CLASS: &'static str = "SquaredHinge";
    fn from_config(_: &Cfg) -> Result<Self> {
        Ok(SquaredHinge)
    }
    fn fused(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Option<Tensor>> {
        fused_hinge(y_true, y_pred, ElementwiseLoss::SquaredHinge)
    }
    fn per_sample(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        let (t, p) = aligned(y_true, y_pred)?;
        squared_hinge(&t, &p)
    }
}

/// `max(neg - pos + 1, 0)` per sample, `pos` the score of the true class and `neg` the
/// largest other score (one-hot labels).
#[derive(Clone, Copy, Debug, Default)]
pub struct CategoricalHinge;

impl CategoricalHinge {
    /// The same loss with another reduction (Keras's `reduction=` argument).
    pub fn reduction(self, reduction: Reduction) -> Reduced<Self> {
        Reduced::new(self, reduction)
    }
}

impl Builtin for CategoricalHinge {
    const NAME: &'static str = "categorical_hinge";
    const CLASS: &'static str = "CategoricalHinge";
    fn from_config(_: &Cfg) -> Result<Self> {
        Ok(CategoricalHinge)
    }
    fn per_sample(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        let (t, p) = aligned(y_true, y_pred)?;
        categorical_hinge(&t, &p)
    }
}
