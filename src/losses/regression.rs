//! Regression losses: mean squared error, mean absolute error, Huber (Keras's
//! `keras/src/losses/losses.py`). The unweighted loss is a fused op; per-sample values (for
//! sample weights and other reductions) are the mean over the last axis.

use super::{align, builtin_call_weighted, float_pred, BuiltinLoss, Loss, Reduced, Reduction};
use crate::ops::{self, ElementwiseLoss, Tensor};
use crate::Result;
use serde_json::{json, Map, Value};

/// Mean over the last axis (a rank-1 tensor gives a scalar, as `ops.mean(x, axis=-1)`).
pub(super) fn mean_last(x: &Tensor) -> Result<Tensor> {
    if x.rank() == 0 {
        return Ok(x.clone());
    }
    Ok(x.mean(x.rank() - 1)?)
}

macro_rules! builtin_common {
    ($name:ident, $class:expr) => {
        impl $name {
            /// The same loss with another reduction (Keras's `reduction=` argument).
            pub fn reduction(self, reduction: Reduction) -> Reduced<Self> {
                Reduced::new(self, reduction)
            }
        }
        impl BuiltinLoss for $name {
            fn class_name(&self) -> &'static str {
                $class
            }
            fn config_args(&self) -> Map<String, Value> {
                self.args()
            }
        }
    };
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
    fn args(&self) -> Map<String, Value> {
        Map::new()
    }
}
builtin_common!(MeanSquaredError, "MeanSquaredError");

impl Loss for MeanSquaredError {
    fn name(&self) -> &str {
        "mean_squared_error"
    }
    fn call(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        let p = float_pred(y_pred)?;
        let t = align(y_true, &p, self.name())?;
        ops::elementwise_loss(&p, &t, ElementwiseLoss::MeanSquaredError)
    }
    fn values(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        let p = float_pred(y_pred)?;
        let t = align(y_true, &p, self.name())?.to_dtype(p.dtype())?;
        mean_last(&(p - t)?.sqr()?)
    }
    fn call_weighted(
        &self,
        y_true: &Tensor,
        y_pred: &Tensor,
        sample_weight: Option<&Tensor>,
    ) -> Result<Tensor> {
        builtin_call_weighted(self, y_true, y_pred, sample_weight)
    }
}

/// Mean of `|y_true - y_pred|` over the last axis.
#[derive(Clone, Copy, Debug, Default)]
pub struct MeanAbsoluteError;

impl MeanAbsoluteError {
    fn args(&self) -> Map<String, Value> {
        Map::new()
    }
}
builtin_common!(MeanAbsoluteError, "MeanAbsoluteError");

impl Loss for MeanAbsoluteError {
    fn name(&self) -> &str {
        "mean_absolute_error"
    }
    fn call(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        let p = float_pred(y_pred)?;
        let t = align(y_true, &p, self.name())?;
        ops::elementwise_loss(&p, &t, ElementwiseLoss::MeanAbsoluteError)
    }
    fn values(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        let p = float_pred(y_pred)?;
        let t = align(y_true, &p, self.name())?.to_dtype(p.dtype())?;
        mean_last(&(p - t)?.abs()?)
    }
    fn call_weighted(
        &self,
        y_true: &Tensor,
        y_pred: &Tensor,
        sample_weight: Option<&Tensor>,
    ) -> Result<Tensor> {
        builtin_call_weighted(self, y_true, y_pred, sample_weight)
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
    fn args(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("delta".into(), json!(self.delta));
        m
    }
}
builtin_common!(Huber, "Huber");

impl Loss for Huber {
    fn name(&self) -> &str {
        "huber_loss"
    }
    fn get_config(&self) -> Value {
        super::full_config(self, Reduction::default())
    }
    fn call(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        let p = float_pred(y_pred)?;
        let t = align(y_true, &p, self.name())?;
        ops::elementwise_loss(&p, &t, ElementwiseLoss::Huber(self.delta))
    }
    fn values(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        let p = float_pred(y_pred)?;
        let t = align(y_true, &p, self.name())?.to_dtype(p.dtype())?;
        let a = (p - t)?.abs()?;
        // 0.5 * min(|e|, d)^2 + d * (|e| - min(|e|, d)): both of Keras's branches in one.
        let q = a.minimum(self.delta)?;
        let v = ((q.sqr()? * 0.5)? + ((a - &q)? * self.delta)?)?;
        mean_last(&v)
    }
    fn call_weighted(
        &self,
        y_true: &Tensor,
        y_pred: &Tensor,
        sample_weight: Option<&Tensor>,
    ) -> Result<Tensor> {
        builtin_call_weighted(self, y_true, y_pred, sample_weight)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Device;

    fn t(v: &[f32], d: &[usize]) -> Tensor {
        Tensor::from_vec(v.to_vec(), d, &Device::Cpu).unwrap()
    }

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
