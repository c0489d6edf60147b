//! Generalized cross-entropy (Zhang and Sabuncu, 2018), robust to noisy labels: Keras's
//! `CategoricalGeneralizedCrossEntropy` and `categorical_generalized_cross_entropy`.

use super::builtin::Builtin;
use super::sparse::one_hot_labels;
use super::tensors::{aligned, floats, sum_last};
use super::{Reduced, Reduction};
use crate::ops::Tensor;
use crate::serialization::{json, Cfg, Map, Value};
use crate::{Error, Result};

fn check_q(q: f64) -> Result<f64> {
    if q > 0.0 && q < 1.0 {
        Ok(q)
    } else {
        Err(Error::value(format!(
            "CategoricalGeneralizedCrossEntropy: q must be in the interval (0, 1); received \
             q={q}"
        )))
    }
}

/// Keras's `categorical_generalized_cross_entropy(y_true, y_pred, q)`: `(1 - p^q) / q`, `p`
/// the predicted probability of the true class (`y_true` holds class indices, one per row).
///
/// ```
/// use keras::prelude::*;
/// let t = Tensor::new(&[0f32, 1.0], &Device::Cpu)?;
/// let p = Tensor::new(&[[0.25f32, 0.75], [0.36, 0.64]], &Device::Cpu)?;
/// let v = keras::losses::categorical_generalized_cross_entropy(&t, &p, 0.5)?.to_vec1::<f32>()?;
/// assert!((v[0] - 1.0).abs() < 1e-6 && (v[1] - 0.4).abs() < 1e-6);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn categorical_generalized_cross_entropy(
    y_true: &Tensor,
    y_pred: &Tensor,
    q: f64,
) -> Result<Tensor> {
    let q = check_q(q)?;
    let (t, p) = floats(y_true, y_pred)?;
    let (_, hot) = one_hot_labels(CategoricalGeneralizedCrossEntropy::NAME, &t, &p, None)?;
    let p_true = sum_last(&(p * hot)?)?;
    Ok(((p_true.powf(q)?.neg()? + 1.0)? / q)?)
}

/// `(1 - p^q) / q` for the probability `p` of the true class: cross-entropy as `q` goes to 0,
/// mean absolute error at `q = 1` (0.5 by default; `q` in (0, 1)).
#[derive(Clone, Copy, Debug)]
pub struct CategoricalGeneralizedCrossEntropy {
    q: f64,
}

impl Default for CategoricalGeneralizedCrossEntropy {
    fn default() -> Self {
        CategoricalGeneralizedCrossEntropy { q: 0.5 }
    }
}

impl CategoricalGeneralizedCrossEntropy {
    /// With `q = 0.5`.
    pub fn new() -> Self {
        Self::default()
    }
    /// With noise parameter `q`, refused outside (0, 1).
    ///
    /// ```
    /// use keras::losses::CategoricalGeneralizedCrossEntropy;
    /// assert!(CategoricalGeneralizedCrossEntropy::new().q(0.7).is_ok());
    /// assert!(CategoricalGeneralizedCrossEntropy::new().q(1.0).is_err());
    /// ```
    pub fn q(self, q: f64) -> Result<Self> {
        Ok(CategoricalGeneralizedCrossEntropy { q: check_q(q)? })
    }
    /// The same loss with another reduction (Keras's `reduction=` argument).
    pub fn reduction(self, reduction: Reduction) -> Reduced<Self> {
        Reduced::new(self, reduction)
    }
}

impl Builtin for CategoricalGeneralizedCrossEntropy {
    const NAME: &'static str = "categorical_generalized_cross_entropy";
    const CLASS: &'static str = "CategoricalGeneralizedCrossEntropy";
    fn args(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("q".into(), json!(self.q));
        m
    }
    fn from_config(c: &Cfg) -> Result<Self> {
        Self::new().q(c.f64_or("q", 0.5)?)
    }
    fn per_sample(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        let (t, p) = aligned(y_true, y_pred)?;
        categorical_generalized_cross_entropy(&t, &p, self.q)
    }
}
