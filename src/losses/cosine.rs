//! The negative cosine similarity between labels and predictions (Keras's
//! `CosineSimilarity` and `cosine_similarity`).

use super::builtin::Builtin;
use super::tensors::{aligned, axis_index, broadcastable, mul};
use super::{Reduced, Reduction, EPSILON};
use crate::ops::Tensor;
use crate::serialization::Cfg;
use crate::Result;

/// Keras's `normalize(x, axis)` (order 2): `x * min(1 / sqrt(sum(x^2, axis)), 1 / epsilon)`.
fn l2_normalize(x: &Tensor, axis: usize) -> Result<Tensor> {
    let inv = x.sqr()?.sum_keepdim(axis)?.sqrt()?.recip()?;
    Ok(x.broadcast_mul(&inv.minimum(1.0 / EPSILON)?)?)
}

/// Keras's `cosine_similarity(y_true, y_pred, axis)`: `-sum(l2_normalize(y_true) *
/// l2_normalize(y_pred), axis)`, between -1 (same direction) and 1; 0 when either is zero.
///
/// ```
/// use keras::prelude::*;
/// let t = Tensor::new(&[[0f32, 1.0], [1.0, 1.0], [1.0, 1.0]], &Device::Cpu)?;
/// let p = Tensor::new(&[[1f32, 0.0], [1.0, 1.0], [-1.0, -1.0]], &Device::Cpu)?;
/// let v = keras::losses::cosine_similarity(&t, &p, -1)?.to_vec1::<f32>()?;
/// assert!(v[0] == 0.0 && (v[1] + 1.0).abs() < 1e-6 && (v[2] - 1.0).abs() < 1e-6);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn cosine_similarity(y_true: &Tensor, y_pred: &Tensor, axis: isize) -> Result<Tensor> {
    let (t, p) = aligned(y_true, y_pred)?;
    let shape = broadcastable(CosineSimilarity::NAME, &t, &p)?;
    let a = axis_index(CosineSimilarity::NAME, axis, shape.len().max(1))?;
    let (t, p) = if t.rank() == 0 {
        (t.reshape(1)?, p.reshape(1)?)
    } else {
        (t, p)
    };
    let prod = mul(&l2_normalize(&t, a)?, &l2_normalize(&p, a)?)?;
    Ok(prod.sum(a)?.neg()?)
}

/// The negative cosine similarity along `axis` (-1): minimizing it aligns predictions with
/// labels. (Keras's config of this class does not write `axis`.)
#[derive(Clone, Copy, Debug)]
pub struct CosineSimilarity {
    /// The axis along which the similarity is computed.
    pub axis: isize,
}

impl Default for CosineSimilarity {
    fn default() -> Self {
        CosineSimilarity { axis: -1 }
    }
}

impl CosineSimilarity {
    /// Along the last axis.
    pub fn new() -> Self {
        Self::default()
    }
    /// Along `axis` (negative: from the end).
    pub fn axis(self, axis: isize) -> Self {
        CosineSimilarity { axis }
    }
    /// The same loss with another reduction (Keras's `reduction=` argument).
    pub fn reduction(self, reduction: Reduction) -> Reduced<Self> {
        Reduced::new(self, reduction)
    }
}

impl Builtin for CosineSimilarity {
    const NAME: &'static str = "cosine_similarity";
    const CLASS: &'static str = "CosineSimilarity";
    fn from_config(c: &Cfg) -> Result<Self> {
        Ok(CosineSimilarity {
            axis: c.isize_or("axis", -1)?,
        })
    }
    fn per_sample(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        cosine_similarity(y_true, y_pred, self.axis)
    }
}
