//! Kullback-Leibler divergence and the Poisson loss (Keras's `keras/src/losses/losses.py`),
//! as classes and per-sample functions.

use super::builtin::Builtin;
use super::tensors::{aligned, broadcastable, div, elementwise_fused, floats, mean_last, mul};
use super::tensors::{sub, sum_last};
use super::{Reduced, Reduction, EPSILON};
use crate::ops::{ElementwiseLoss, Tensor};
use crate::serialization::Cfg;
use crate::Result;

/// Keras's `kl_divergence(y_true, y_pred)`: `sum(y_true * log(y_true / y_pred), axis=-1)`,
/// both clipped to `[epsilon, 1]`.
///
/// ```
/// use keras::prelude::*;
/// let t = Tensor::new(&[[0.5f32, 0.5]], &Device::Cpu)?;
/// let p = Tensor::new(&[[0.5f32, 0.5]], &Device::Cpu)?;
/// assert_eq!(keras::losses::kl_divergence(&t, &p)?.to_vec1::<f32>()?, vec![0.0]);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn kl_divergence(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    let (t, p) = floats(y_true, y_pred)?;
    broadcastable(KLDivergence::NAME, &t, &p)?;
    let t = t.clamp(EPSILON, 1.0)?;
    let p = p.clamp(EPSILON, 1.0)?;
    sum_last(&mul(&t, &div(&t, &p)?.log()?)?)
}

/// Keras's `poisson(y_true, y_pred)`: `mean(y_pred - y_true * log(y_pred + epsilon),
/// axis=-1)`.
pub fn poisson(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    let (t, p) = floats(y_true, y_pred)?;
    broadcastable(Poisson::NAME, &t, &p)?;
    mean_last(&sub(&p, &mul(&t, &(&p + EPSILON)?.log()?)?)?)
}

/// Kullback-Leibler divergence `y_true * log(y_true / y_pred)`, summed over the last axis.
#[derive(Clone, Copy, Debug, Default)]
pub struct KLDivergence;

impl KLDivergence {
    /// The same loss with another reduction (Keras's `reduction=` argument).
    pub fn reduction(self, reduction: Reduction) -> Reduced<Self> {
        Reduced::new(self, reduction)
    }
}

impl Builtin for KLDivergence {
    const NAME: &'static str = "kl_divergence";
    const CLASS: &'static str = "KLDivergence";
    fn from_config(_: &Cfg) -> Result<Self> {
        Ok(KLDivergence)
    }
    fn per_sample(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        let (t, p) = aligned(y_true, y_pred)?;
        kl_divergence(&t, &p)
    }
}

/// The Poisson loss `y_pred - y_true * log(y_pred)`, averaged over the last axis.
#[derive(Clone, Copy, Debug, Default)]
pub struct Poisson;

impl Poisson {
    /// The same loss with another reduction (Keras's `reduction=` argument).
    pub fn reduction(self, reduction: Reduction) -> Reduced<Self> {
        Reduced::new(self, reduction)
    }
}

impl Builtin for Poisson {
    const NAME: &'static str = "poisson";
    const CLASS: &'static str = "Poisson";
    fn from_config(_: &Cfg) -> Result<Self> {
        Ok(Poisson)
    }
    fn fused(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Option<Tensor>> {
        elementwise_fused(y_true, y_pred, ElementwiseLoss::Poisson)
    }
    fn per_sample(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        let (t, p) = aligned(y_true, y_pred)?;
        poisson(&t, &p)
    }
}
