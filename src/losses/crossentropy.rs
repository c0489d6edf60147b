//! Cross-entropy losses: binary, categorical, sparse categorical (Keras's
//! `keras/src/losses/losses.py` with the JAX backend's formulas). The unweighted loss is a
//! fused op (softmax and cross-entropy in one pass for logits); per-sample values, for sample
//! weights and other reductions, are computed with differentiable tensor ops.

use super::builtin::Builtin;
use super::EPSILON;
use super::{align, elementwise_fused, elementwise_values, float_pred, Reduced, Reduction};
use crate::ops::{self, ElementwiseLoss, Tensor};
use crate::{Error, Result};
use serde_json::{json, Map, Value};

/// The options Keras writes for a binary or categorical cross-entropy.
fn dense_args(from_logits: bool) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("from_logits".into(), json!(from_logits));
    m.insert("label_smoothing".into(), json!(0.0));
    m.insert("axis".into(), json!(-1));
    m
}

/// `log(softmax(z))` over the last axis.
fn log_softmax(z: &Tensor) -> Result<Tensor> {
    let last = z.rank() - 1;
    let shifted = z.broadcast_sub(&z.max_keepdim(last)?.detach())?;
    let lse = shifted.exp()?.sum_keepdim(last)?.log()?;
    Ok(shifted.broadcast_sub(&lse)?)
}

/// `log` of the probabilities normalized to sum 1 over the last axis and clipped to
/// `[epsilon, 1 - epsilon]`, as Keras does.
fn log_normalized(p: &Tensor) -> Result<Tensor> {
    let last = p.rank() - 1;
    let q = p.broadcast_div(&p.sum_keepdim(last)?)?;
    Ok(q.clamp(EPSILON, 1.0 - EPSILON)?.log()?)
}

/// `-sum(target * log_prob)` over the last axis.
fn xent_values(target: &Tensor, pred: &Tensor, from_logits: bool) -> Result<Tensor> {
    if pred.rank() == 0 {
        return Err(Error::shape(
            "Arguments `target` and `output` must be at least rank 1. Received: a scalar",
        ));
    }
    let log_prob = if from_logits {
        log_softmax(pred)?
    } else {
        log_normalized(pred)?
    };
    Ok((target * log_prob)?.sum(pred.rank() - 1)?.neg()?)
}

/// Binary cross-entropy between labels in [0, 1] and probabilities (or logits), averaged
/// over the last axis.
///
/// ```
/// use keras::prelude::*;
/// use keras::losses::{BinaryCrossentropy, Loss, Reduction};
/// let t = Tensor::new(&[[1f32], [0.0]], &Device::Cpu)?;
/// let p = Tensor::new(&[[0.8f32], [0.4]], &Device::Cpu)?;
/// let per_sample = BinaryCrossentropy::new().reduction(Reduction::None).call(&t, &p)?;
/// assert_eq!(per_sample.dims(), &[2]);
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct BinaryCrossentropy {
    /// Whether predictions are logits.
    pub from_logits: bool,
}

impl BinaryCrossentropy {
    /// On probabilities.
    pub fn new() -> Self {
        Self::default()
    }
    /// On logits (`true`) or probabilities.
    pub fn from_logits(self, from_logits: bool) -> Self {
        BinaryCrossentropy { from_logits }
    }
    /// The same loss with another reduction (Keras's `reduction=` argument).
    pub fn reduction(self, reduction: Reduction) -> Reduced<Self> {
        Reduced::new(self, reduction)
    }
}

impl Builtin for BinaryCrossentropy {
    const NAME: &'static str = "binary_crossentropy";
    const CLASS: &'static str = "BinaryCrossentropy";
    fn args(&self) -> Map<String, Value> {
        dense_args(self.from_logits)
    }
    fn has_options(&self) -> bool {
        self.from_logits
    }
    fn fused(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        let kind = ElementwiseLoss::BinaryCrossentropy {
            from_logits: self.from_logits,
        };
        elementwise_fused(y_true, y_pred, Self::NAME, kind)
    }
    fn per_sample(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        elementwise_values(y_true, y_pred, Self::NAME, |p, t| {
            Ok(if self.from_logits {
                // max(z, 0) - z * t + log(1 + exp(-|z|)) = -t log s(z) - (1 - t) log s(-z)
                let soft = ((p.abs()?.neg()?.exp()? + 1.0)?).log()?;
                ((p.relu()? - (p * t)?)? + soft)?
            } else {
                let o = p.clamp(EPSILON, 1.0 - EPSILON)?;
                let one_minus_t = (t.neg()? + 1.0)?;
                let one_minus_o = (o.neg()? + 1.0)?;
                ((t * o.log()?)? + (one_minus_t * one_minus_o.log()?)?)?.neg()?
            })
        })
    }
}

/// Categorical cross-entropy between one-hot labels and probabilities (or logits); one
/// value per row.
#[derive(Clone, Copy, Debug, Default)]
pub struct CategoricalCrossentropy {
    /// Whether predictions are logits.
    pub from_logits: bool,
}

impl CategoricalCrossentropy {
    /// On probabilities.
    pub fn new() -> Self {
        Self::default()
    }
    /// On logits (`true`) or probabilities.
    pub fn from_logits(self, from_logits: bool) -> Self {
        CategoricalCrossentropy { from_logits }
    }
    /// The same loss with another reduction (Keras's `reduction=` argument).
    pub fn reduction(self, reduction: Reduction) -> Reduced<Self> {
        Reduced::new(self, reduction)
    }
}

impl Builtin for CategoricalCrossentropy {
    const NAME: &'static str = "categorical_crossentropy";
    const CLASS: &'static str = "CategoricalCrossentropy";
    fn args(&self) -> Map<String, Value> {
        dense_args(self.from_logits)
    }
    fn has_options(&self) -> bool {
        self.from_logits
    }
    fn fused(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        let p = float_pred(y_pred)?;
        ops::crossentropy(&p, &align(y_true, &p, Self::NAME)?, self.from_logits)
    }
    fn per_sample(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        let p = float_pred(y_pred)?;
        let t = align(y_true, &p, Self::NAME)?.to_dtype(p.dtype())?.detach();
        xent_values(&t, &p, self.from_logits)
    }
}

/// Cross-entropy between integer class labels and probabilities (or logits); one value per
/// row.
#[derive(Clone, Copy, Debug, Default)]
pub struct SparseCategoricalCrossentropy {
    /// Whether predictions are logits.
    pub from_logits: bool,
}

impl SparseCategoricalCrossentropy {
    /// On probabilities.
    pub fn new() -> Self {
        Self::default()
    }
    /// On logits (`true`) or probabilities.
    pub fn from_logits(self, from_logits: bool) -> Self {
        SparseCategoricalCrossentropy { from_logits }
    }
    /// The same loss with another reduction (Keras's `reduction=` argument).
    pub fn reduction(self, reduction: Reduction) -> Reduced<Self> {
        Reduced::new(self, reduction)
    }
}

/// One-hot rows for integer `labels` (one per row of `pred`), refusing labels outside
/// `[0, classes)`.
fn one_hot(labels: &Tensor, pred: &Tensor) -> Result<Tensor> {
    let classes = pred.dims().last().copied().unwrap_or(0);
    let rows = pred.elem_count() / classes.max(1);
    if labels.elem_count() != rows || pred.rank() == 0 {
        return Err(Error::shape(format!(
            "sparse_categorical_crossentropy: y_true shape {} does not fit y_pred shape {} \
             (expected one class index per row)",
            crate::engine::tuple(labels.dims()),
            crate::engine::tuple(pred.dims())
        )));
    }
    let lv = ops::to_vec_f64(labels)?;
    let mut hot = vec![0f32; rows * classes];
    for (r, &v) in lv.iter().enumerate() {
        if v < 0.0 || v >= classes as f64 || v.fract() != 0.0 {
            return Err(Error::value(format!(
                "sparse_categorical_crossentropy: received a label value of {v} which is \
                 outside the valid range of [0, {classes})"
            )));
        }
        hot[r * classes + v as usize] = 1.0;
    }
    Ok(ops::from_vec(hot, pred.dims())?.to_dtype(pred.dtype())?)
}

impl Builtin for SparseCategoricalCrossentropy {
    const NAME: &'static str = "sparse_categorical_crossentropy";
    const CLASS: &'static str = "SparseCategoricalCrossentropy";
    fn args(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("from_logits".into(), json!(self.from_logits));
        m.insert("ignore_class".into(), Value::Null);
        m
    }
    fn has_options(&self) -> bool {
        self.from_logits
    }
    fn fused(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        ops::sparse_crossentropy(&float_pred(y_pred)?, y_true, self.from_logits)
    }
    fn per_sample(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        let p = float_pred(y_pred)?;
        xent_values(&one_hot(y_true, &p)?, &p, self.from_logits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::test_tensor as t;
    use crate::losses::Loss;
    use crate::ops::Var;

    /// Per-sample values reduced by the default reduction equal the fused loss, and with
    /// unit sample weights the weighted path gives the fused gradient.
    #[test]
    fn values_and_gradients_agree_with_fused() {
        let logits = t(
            &[
                0.2, -1.0, 0.5, 1.5, 0.3, -0.2, -0.7, 0.9, 0.1, 0.4, 0.0, -0.3,
            ],
            &[3, 4],
        );
        let probs = ops::activation(&logits, ops::Act::Softmax).unwrap();
        let sig = ops::activation(&logits, ops::Act::Sigmoid).unwrap();
        let labels = t(&[2., 0., 3.], &[3]);
        let onehot = t(&[0., 0., 1., 0., 1., 0., 0., 0., 0., 0., 0., 1.], &[3, 4]);
        let bin = t(&[1., 0., 0., 1., 0., 1., 1., 0., 0., 0., 1., 1.], &[3, 4]);
        let cases: Vec<(Box<dyn Loss>, &Tensor, &Tensor)> = vec![
            (
                Box::new(SparseCategoricalCrossentropy::new()),
                &labels,
                &probs,
            ),
            (
                Box::new(SparseCategoricalCrossentropy::new().from_logits(true)),
                &labels,
                &logits,
            ),
            (Box::new(CategoricalCrossentropy::new()), &onehot, &probs),
            (
                Box::new(CategoricalCrossentropy::new().from_logits(true)),
                &onehot,
                &logits,
            ),
            (Box::new(BinaryCrossentropy::new()), &bin, &sig),
            (
                Box::new(BinaryCrossentropy::new().from_logits(true)),
                &bin,
                &logits,
            ),
        ];
        let ones = t(&[1., 1., 1.], &[3]);
        for (l, y, p) in cases {
            let v = l.values(y, p).unwrap();
            assert_eq!(v.dims(), &[3]);
            let a = ops::scalar(&l.call(y, p).unwrap()).unwrap();
            let b = ops::scalar(&v.mean_all().unwrap()).unwrap();
            assert!((a - b).abs() < 1e-6, "{}: {a} {b}", l.name());
            let var = Var::from_tensor(p).unwrap();
            let g1 = l.call(y, var.as_tensor()).unwrap().backward().unwrap();
            let g2 = l
                .call_weighted(y, var.as_tensor(), Some(&ones))
                .unwrap()
                .backward()
                .unwrap();
            let g1 = ops::to_vec_f32(g1.get(var.as_tensor()).unwrap()).unwrap();
            let g2 = ops::to_vec_f32(g2.get(var.as_tensor()).unwrap()).unwrap();
            for (a, b) in g1.iter().zip(&g2) {
                assert!((a - b).abs() < 1e-5, "{}: {g1:?} {g2:?}", l.name());
            }
        }
    }

    #[test]
    fn bad_labels_refused() {
        let p = t(&[0.5, 0.5, 0.5, 0.5], &[2, 2]);
        let l = SparseCategoricalCrossentropy::new();
        let w = t(&[1., 1.], &[2]);
        assert!(l.call_weighted(&t(&[0., 2.], &[2]), &p, Some(&w)).is_err());
        assert!(l.call_weighted(&t(&[0.], &[1]), &p, Some(&w)).is_err());
    }
}
