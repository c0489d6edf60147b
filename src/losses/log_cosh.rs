//! The logarithm of the hyperbolic cosine of the prediction error (Keras's `LogCosh` and
//! `log_cosh`).

use super::builtin::Builtin;
use super::tensors::{aligned, broadcastable, elementwise_fused, mean_last, softplus, sub};
use super::{Reduced, Reduction};
use crate::ops::{ElementwiseLoss, Tensor};
use crate::serialization::Cfg;
use crate::Result;

/// Keras's `log_cosh(y_true, y_pred)`: `mean(log(cosh(y_pred - y_true)), axis=-1)`, computed
/// as `x + softplus(-2x) - log(2)`.
///
/// ```
/// use keras::prelude::*;
/// let t = Tensor::new(&[[0f32, 1.0], [0.0, 0.0]], &Device::Cpu)?;
/// let p = Tensor::new(&[[1f32, 1.0], [0.0, 0.0]], &Device::Cpu)?;
/// let v = keras::losses::log_cosh(&t, &p)?.to_vec1::<f32>()?;
/// assert!((v[0] - 1f32.cosh().ln() / 2.0).abs() < 1e-6 && v[1] == 0.0);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn log_cosh(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    let (t, p) = aligned(y_true, y_pred)?;
    broadcastable(LogCosh::NAME, &t, &p)?;
    let x = sub(&p, &t)?;
    let v = ((&x + softplus(&(&x * -2.0)?)?)? - std::f64::consts::LN_2)?;
    mean_last(&v)
}

/// `log(cosh(y_pred - y_true))`, averaged over the last axis: like the squared error for
/// small errors and the absolute error for large ones.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogCosh;

impl LogCosh {
    /// The same loss with another reduction (Keras's `reduction=` argument).
    pub fn reduction(self, reduction: Reduction) -> Reduced<Self> {
        Reduced::new(self, reduction)
    }
}

impl Builtin for LogCosh {
    const NAME: &'static str = "log_cosh";
    const CLASS: &'static str = "LogCosh";
    fn from_config(_: &Cfg) -> Result<Self> {
        Ok(LogCosh)
    }
    fn fused(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Option<Tensor>> {
        elementwise_fused(y_true, y_pred, ElementwiseLoss::LogCosh)
    }
    fn per_sample(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        log_cosh(y_true, y_pred)
    }
}
