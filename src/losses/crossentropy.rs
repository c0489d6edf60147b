//! Binary and categorical cross-entropy (Keras's `keras/src/losses/losses.py` with the JAX
//! backend's formulas), with `label_smoothing` and `axis`, as classes and per-sample
//! functions. The unweighted loss is a fused op (softmax and cross-entropy in one pass for
//! logits); per-sample values, for sample weights and other reductions, are computed with
//! differentiable tensor ops.

use super::builtin::Builtin;
use super::tensors::{aligned, axis_index, elementwise_fused, floats, log_softmax, one_minus};
use super::tensors::{same_shape, shapes_error};
use super::{Reduced, Reduction, EPSILON};
use crate::ops::{self, ElementwiseLoss, Tensor};
use crate::serialization::{json, Cfg, Map, Value};
use crate::{Error, Result};

/// The options Keras writes for a binary or categorical cross-entropy.
pub(crate) fn dense_args(
    from_logits: bool,
    label_smoothing: f64,
    axis: isize,
) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("from_logits".into(), json!(from_logits));
    m.insert("label_smoothing".into(), json!(label_smoothing));
    m.insert("axis".into(), json!(axis));
    m
}

/// Binary labels squeezed towards 0.5: `t * (1 - s) + 0.5 * s`.
pub(crate) fn smooth_binary(t: &Tensor, s: f64) -> Result<Tensor> {
    Ok(if s != 0.0 {
        t.affine(1.0 - s, 0.5 * s)?
    } else {
        t.clone()
    })
}

/// One-hot labels smoothed over the classes: `t * (1 - s) + s / classes`, the number of
/// classes being the last axis of `t` (as Keras counts it, whatever `axis` is).
pub(crate) fn smooth_categorical(t: &Tensor, s: f64) -> Result<Tensor> {
    let classes = t.dims().last().copied().unwrap_or(1) as f64;
    Ok(if s != 0.0 {
        t.affine(1.0 - s, s / classes)?
    } else {
        t.clone()
    })
}

/// The JAX backend's elementwise `binary_crossentropy(target, output, from_logits)`.
pub(crate) fn binary_values(t: &Tensor, p: &Tensor, from_logits: bool) -> Result<Tensor> {
    Ok(if from_logits {
        // max(z, 0) - z * t + log(1 + exp(-|z|)) = -t log s(z) - (1 - t) log s(-z)
        let soft = ((p.abs()?.neg()?.exp()? + 1.0)?).log()?;
        ((p.relu()? - (p * t)?)? + soft)?
    } else {
        let o = p.clamp(EPSILON, 1.0 - EPSILON)?;
        ((t * o.log()?)? + (one_minus(t)? * one_minus(&o)?.log()?)?)?.neg()?
    })
}

/// `log` of the probabilities `p` normalized to sum 1 over `axis` and clipped to
/// `[epsilon, 1 - epsilon]`, or `log_softmax(p)` for logits.
pub(crate) fn log_probs(p: &Tensor, axis: usize, from_logits: bool) -> Result<Tensor> {
    if from_logits {
        return log_softmax(p, axis);
    }
    let q = p.broadcast_div(&p.sum_keepdim(axis)?)?;
    Ok(q.clamp(EPSILON, 1.0 - EPSILON)?.log()?)
}

/// Keras's `binary_crossentropy(y_true, y_pred, from_logits, label_smoothing, axis)`: the
/// elementwise cross-entropy of (smoothed) labels in [0, 1] and probabilities (or logits),
/// averaged over `axis`. Shapes must be equal.
///
/// ```
/// use keras::prelude::*;
/// let t = Tensor::new(&[[0f32, 1.0], [0.0, 0.0]], &Device::Cpu)?;
/// let p = Tensor::new(&[[0.6f32, 0.4], [0.4, 0.6]], &Device::Cpu)?;
/// let v = keras::losses::binary_crossentropy(&t, &p, false, 0.0, -1)?.to_vec1::<f32>()?;
/// assert!((v[0] - 0.9163).abs() < 1e-4 && (v[1] - 0.7136).abs() < 1e-4);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn binary_crossentropy(
    y_true: &Tensor,
    y_pred: &Tensor,
    from_logits: bool,
    label_smoothing: f64,
    axis: isize,
) -> Result<Tensor> {
    let (t, p) = floats(y_true, y_pred)?;
    same_shape(BinaryCrossentropy::NAME, &t, &p)?;
    let t = smooth_binary(&t, label_smoothing)?;
    let v = binary_values(&t, &p, from_logits)?;
    if v.rank() == 0 {
        return Ok(v);
    }
    Ok(v.mean(axis_index(BinaryCrossentropy::NAME, axis, v.rank())?)?)
}

/// Keras's `categorical_crossentropy(y_true, y_pred, from_logits, label_smoothing, axis)`:
/// `-sum(y_true * log(y_pred), axis)` with the (smoothed) one-hot labels, the predictions
/// normalized over `axis` (or softmaxed, for logits). Shapes must be equal.
pub fn categorical_crossentropy(
    y_true: &Tensor,
    y_pred: &Tensor,
    from_logits: bool,
    label_smoothing: f64,
    axis: isize,
) -> Result<Tensor> {
    let name = CategoricalCrossentropy::NAME;
    let (t, p) = floats(y_true, y_pred)?;
    same_shape(name, &t, &p)?;
    if p.rank() == 0 {
        return Err(shapes_error(
            name,
            t.dims(),
            p.dims(),
            "should be at least rank 1",
        ));
    }
    let a = axis_index(name, axis, p.rank())?;
    let t = smooth_categorical(&t, label_smoothing)?.detach();
    Ok((t * log_probs(&p, a, from_logits)?)?.sum(a)?.neg()?)
}

/// Binary cross-entropy between labels in [0, 1] and probabilities (or logits), averaged
/// over `axis` (the last), with optional label smoothing.
///
/// ```
/// use keras::prelude::*;
/// use keras::losses::{BinaryCrossentropy, Loss, Reduction};
/// let t = Tensor::new(&[[1f32], [0.0]], &Device::Cpu)?;
/// let p = Tensor::new(&[[0.8f32], [0.4]], &Device::Cpu)?;
/// let per_sample = BinaryCrossentropy::new().reduction(Reduction::None).call(&t, &p)?;
/// assert_eq!(per_sample.dims(), &[2]);
/// let smoothed = BinaryCrossentropy::new().label_smoothing(0.2);
/// assert_eq!(smoothed.get_config()["config"]["label_smoothing"], 0.2);
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct BinaryCrossentropy {
    /// Whether predictions are logits.
    pub from_logits: bool,
    /// Labels are squeezed towards 0.5 by this much (`t * (1 - s) + 0.5 * s`).
    pub label_smoothing: f64,
    /// The axis the mean is taken over.
    pub axis: isize,
}

impl Default for BinaryCrossentropy {
    fn default() -> Self {
        BinaryCrossentropy {
            from_logits: false,
            label_smoothing: 0.0,
            axis: -1,
        }
    }
}

impl BinaryCrossentropy {
    /// On probabilities.
    pub fn new() -> Self {
        Self::default()
    }
    /// On logits (`true`) or probabilities.
    pub fn from_logits(self, from_logits: bool) -> Self {
        BinaryCrossentropy {
            from_logits,
            ..self
        }
    }
    /// Labels squeezed towards 0.5 by `label_smoothing` (in [0, 1]).
    pub fn label_smoothing(self, label_smoothing: f64) -> Self {
        BinaryCrossentropy {
            label_smoothing,
            ..self
        }
    }
    /// The mean over `axis` (negative: from the end).
    pub fn axis(self, axis: isize) -> Self {
        BinaryCrossentropy { axis, ..self }
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
        dense_args(self.from_logits, self.label_smoothing, self.axis)
    }
    fn from_config(c: &Cfg) -> Result<Self> {
        Ok(BinaryCrossentropy {
            from_logits: c.bool_or("from_logits", false)?,
            label_smoothing: c.f64_or("label_smoothing", 0.0)?,
            axis: c.isize_or("axis", -1)?,
        })
    }
    fn fused(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Option<Tensor>> {
        // The mean over any axis, then over the rest, is the mean over every value.
        let (t, p) = aligned(y_true, y_pred)?;
        if t.dims() != p.dims() || axis_index(Self::NAME, self.axis, p.rank()).is_err() {
            return Ok(None);
        }
        let t = smooth_binary(&t, self.label_smoothing)?;
        let kind = ElementwiseLoss::BinaryCrossentropy {
            from_logits: self.from_logits,
        };
        elementwise_fused(&t, &p, kind)
    }
    fn per_sample(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        let (t, p) = aligned(y_true, y_pred)?;
        binary_crossentropy(&t, &p, self.from_logits, self.label_smoothing, self.axis)
    }
}

/// Categorical cross-entropy between one-hot labels and probabilities (or logits) along
/// `axis` (the last), with optional label smoothing; one value per row.
///
/// ```
/// use keras::prelude::*;
/// use keras::losses::{CategoricalCrossentropy, Loss};
/// let t = Tensor::new(&[[0f32, 1.0, 0.0], [0.0, 0.0, 1.0]], &Device::Cpu)?;
/// let p = Tensor::new(&[[0.05f32, 0.95, 0.0], [0.1, 0.8, 0.1]], &Device::Cpu)?;
/// let l = keras::ops::scalar(&CategoricalCrossentropy::new().call(&t, &p)?)?;
/// assert!((l - 1.177).abs() < 1e-3);
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct CategoricalCrossentropy {
    /// Whether predictions are logits.
    pub from_logits: bool,
    /// Labels are smoothed by this much (`t * (1 - s) + s / classes`).
    pub label_smoothing: f64,
    /// The class axis.
    pub axis: isize,
}

impl Default for CategoricalCrossentropy {
    fn default() -> Self {
        CategoricalCrossentropy {
            from_logits: false,
            label_smoothing: 0.0,
            axis: -1,
        }
    }
}

impl CategoricalCrossentropy {
    /// On probabilities.
    pub fn new() -> Self {
        Self::default()
    }
    /// On logits (`true`) or probabilities.
    pub fn from_logits(self, from_logits: bool) -> Self {
        CategoricalCrossentropy {
            from_logits,
            ..self
        }
    }
    /// Labels smoothed by `label_smoothing` (in [0, 1]).
    pub fn label_smoothing(self, label_smoothing: f64) -> Self {
        CategoricalCrossentropy {
            label_smoothing,
            ..self
        }
    }
    /// Classes along `axis` (negative: from the end).
    pub fn axis(self, axis: isize) -> Self {
        CategoricalCrossentropy { axis, ..self }
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
        dense_args(self.from_logits, self.label_smoothing, self.axis)
    }
    fn from_config(c: &Cfg) -> Result<Self> {
        Ok(CategoricalCrossentropy {
            from_logits: c.bool_or("from_logits", false)?,
            label_smoothing: c.f64_or("label_smoothing", 0.0)?,
            axis: c.isize_or("axis", -1)?,
        })
    }
    fn fused(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Option<Tensor>> {
        let (t, p) = aligned(y_true, y_pred)?;
        let last = p.rank().checked_sub(1);
        let a = axis_index(Self::NAME, self.axis, p.rank()).ok();
        if t.dims() != p.dims() || a.is_none() || a != last {
            return Ok(None);
        }
        if !matches!(p.dtype(), ops::DType::F32 | ops::DType::F64) {
            return Ok(None);
        }
        let t = smooth_categorical(&t, self.label_smoothing)?;
        Ok(Some(ops::crossentropy(&p, &t, self.from_logits)?))
    }
    fn per_sample(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        let (t, p) = aligned(y_true, y_pred)?;
        categorical_crossentropy(&t, &p, self.from_logits, self.label_smoothing, self.axis)
    }
}

/// The error for a prediction of rank 0 where classes are needed.
pub(crate) fn needs_classes(loss: &str, p: &Tensor) -> Error {
    Error::shape(format!(
        "{loss}: y_pred should be at least rank 1 (classes on an axis); received shape {}",
        crate::engine::tuple(p.dims())
    ))
}
