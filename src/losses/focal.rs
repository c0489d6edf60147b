//! Focal cross-entropies (Lin et al., 2018): binary and categorical (Keras's
//! `keras/src/losses/losses.py`), as classes and per-sample functions. A focal factor
//! `(1 - p_t)^gamma` down-weights the examples the model already gets right.

use super::builtin::Builtin;
use super::crossentropy::{binary_values, dense_args, smooth_binary, smooth_categorical};
use super::tensors::{aligned, axis_index, div, floats, mul, one_minus, same_shape, softmax};
use super::{Reduced, Reduction, EPSILON};
use crate::ops::Tensor;
use crate::serialization::{json, Cfg, Map, Value};
use crate::Result;

/// Keras's `binary_focal_crossentropy(y_true, y_pred, apply_class_balancing, alpha, gamma,
/// from_logits, label_smoothing, axis)`: `(1 - p_t)^gamma * bce`, times `alpha` for class 1
/// and `1 - alpha` for class 0 when balancing, averaged over `axis`. Shapes must be equal.
///
/// ```
/// use keras::prelude::*;
/// let t = Tensor::new(&[[0f32, 1.0], [0.0, 0.0]], &Device::Cpu)?;
/// let p = Tensor::new(&[[0.6f32, 0.4], [0.4, 0.6]], &Device::Cpu)?;
/// let v = keras::losses::binary_focal_crossentropy(&t, &p, false, 0.25, 2.0, false, 0.0, -1)?;
/// let v = v.to_vec1::<f32>()?;
/// assert!((v[0] - 0.330).abs() < 1e-3 && (v[1] - 0.206).abs() < 1e-3);
/// # Ok::<(), keras::Error>(())
/// ```
#[allow(clippy::too_many_arguments)]
pub fn binary_focal_crossentropy(
    y_true: &Tensor,
    y_pred: &Tensor,
    apply_class_balancing: bool,
    alpha: f64,
    gamma: f64,
    from_logits: bool,
    label_smoothing: f64,
    axis: isize,
) -> Result<Tensor> {
    let name = BinaryFocalCrossentropy::NAME;
    let (t, p) = floats(y_true, y_pred)?;
    same_shape(name, &t, &p)?;
    let t = smooth_binary(&t, label_smoothing)?.detach();
    let p = if from_logits {
        crate::ops::activation(&p, crate::ops::Act::Sigmoid)?
    } else {
        p
    };
    let bce = binary_values(&t, &p, false)?;
    // p_t = t * p + (1 - t) * (1 - p)
    let p_t = ((&t * &p)? + (one_minus(&t)? * one_minus(&p)?)?)?;
    let mut focal = (one_minus(&p_t)?.powf(gamma)? * bce)?;
    if apply_class_balancing {
        let weight = ((&t * alpha)? + (one_minus(&t)? * (1.0 - alpha))?)?;
        focal = (weight * focal)?;
    }
    if focal.rank() == 0 {
        return Ok(focal);
    }
    Ok(focal.mean(axis_index(name, axis, focal.rank())?)?)
}

/// Keras's `categorical_focal_crossentropy(y_true, y_pred, alpha, gamma, from_logits,
/// label_smoothing, axis)`: `sum(alpha * (1 - p)^gamma * -y_true * log(p), axis)` with the
/// predictions normalized over `axis` (softmaxed for logits) and clipped.
#[allow(clippy::too_many_arguments)]
pub fn categorical_focal_crossentropy(
    y_true: &Tensor,
    y_pred: &Tensor,
    alpha: f64,
    gamma: f64,
    from_logits: bool,
    label_smoothing: f64,
    axis: isize,
) -> Result<Tensor> {
    let name = CategoricalFocalCrossentropy::NAME;
    let (t, p) = floats(y_true, y_pred)?;
    super::tensors::broadcastable(name, &t, &p)?;
    if p.rank() == 0 {
        return Err(super::crossentropy::needs_classes(name, &p));
    }
    let a = axis_index(name, axis, p.rank())?;
    let t = smooth_categorical(&t, label_smoothing)?.detach();
    let p = if from_logits { softmax(&p, a)? } else { p };
    let out = div(&p, &p.sum_keepdim(a)?)?.clamp(EPSILON, 1.0 - EPSILON)?;
    let cce = mul(&t, &out.log()?)?.neg()?;
    let factor = (one_minus(&out)?.powf(gamma)? * alpha)?;
    Ok(mul(&factor, &cce)?.sum(a)?)
}

/// Binary cross-entropy with a focal factor `(1 - p_t)^gamma` (gamma 2), optionally
/// balanced by `alpha` (0.25) for class 1 and `1 - alpha` for class 0.
///
/// ```
/// use keras::prelude::*;
/// use keras::losses::{BinaryFocalCrossentropy, Loss};
/// let l = BinaryFocalCrossentropy::new().gamma(3.0).apply_class_balancing(true);
/// assert_eq!(l.get_config()["config"]["gamma"], 3.0);
/// let t = Tensor::new(&[[1f32], [0.0]], &Device::Cpu)?;
/// let p = Tensor::new(&[[0.9f32], [0.2]], &Device::Cpu)?;
/// assert!(keras::ops::scalar(&l.call(&t, &p)?)? < 1e-3);
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct BinaryFocalCrossentropy {
    /// Whether `alpha` weighs the classes.
    pub apply_class_balancing: bool,
    /// The weight of class 1 (class 0 gets `1 - alpha`) when balancing.
    pub alpha: f64,
    /// The focusing exponent.
    pub gamma: f64,
    /// Whether predictions are logits.
    pub from_logits: bool,
    /// Labels are squeezed towards 0.5 by this much.
    pub label_smoothing: f64,
    /// The axis the mean is taken over.
    pub axis: isize,
}

impl Default for BinaryFocalCrossentropy {
    fn default() -> Self {
        BinaryFocalCrossentropy {
            apply_class_balancing: false,
            alpha: 0.25,
            gamma: 2.0,
            from_logits: false,
            label_smoothing: 0.0,
            axis: -1,
        }
    }
}

impl BinaryFocalCrossentropy {
    /// Keras's defaults: gamma 2, no balancing, on probabilities.
    pub fn new() -> Self {
        Self::default()
    }
    /// Whether `alpha` weighs the classes.
    pub fn apply_class_balancing(self, apply_class_balancing: bool) -> Self {
        BinaryFocalCrossentropy {
            apply_class_balancing,
            ..self
        }
    }
    /// The weight of class 1 when balancing.
    pub fn alpha(self, alpha: f64) -> Self {
        BinaryFocalCrossentropy { alpha, ..self }
    }
    /// The focusing exponent.
    pub fn gamma(self, gamma: f64) -> Self {
        BinaryFocalCrossentropy { gamma, ..self }
    }
    /// On logits (`true`) or probabilities.
    pub fn from_logits(self, from_logits: bool) -> Self {
        BinaryFocalCrossentropy {
            from_logits,
            ..self
        }
    }
    /// Labels squeezed towards 0.5 by `label_smoothing`.
    pub fn label_smoothing(self, label_smoothing: f64) -> Self {
        BinaryFocalCrossentropy {
            label_smoothing,
            ..self
        }
    }
    /// The mean over `axis`.
    pub fn axis(self, axis: isize) -> Self {
        BinaryFocalCrossentropy { axis, ..self }
    }
    /// The same loss with another reduction (Keras's `reduction=` argument).
    pub fn reduction(self, reduction: Reduction) -> Reduced<Self> {
        Reduced::new(self, reduction)
    }
}

impl Builtin for BinaryFocalCrossentropy {
    const NAME: &'static str = "binary_focal_crossentropy";
    const CLASS: &'static str = "BinaryFocalCrossentropy";
    fn args(&self) -> Map<String, Value> {
        let mut m = dense_args(self.from_logits, self.label_smoothing, self.axis);
        m.insert(
            "apply_class_balancing".into(),
            json!(self.apply_class_balancing),
        );
        m.insert("alpha".into(), json!(self.alpha));
        m.insert("gamma".into(), json!(self.gamma));
        m
    }
    fn from_config(c: &Cfg) -> Result<Self> {
        Ok(BinaryFocalCrossentropy {
            apply_class_balancing: c.bool_or("apply_class_balancing", false)?,
            alpha: c.f64_or("alpha", 0.25)?,
            gamma: c.f64_or("gamma", 2.0)?,
            from_logits: c.bool_or("from_logits", false)?,
            label_smoothing: c.f64_or("label_smoothing", 0.0)?,
            axis: c.isize_or("axis", -1)?,
        })
    }
    fn per_sample(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        let (t, p) = aligned(y_true, y_pred)?;
        binary_focal_crossentropy(
            &t,
            &p,
            self.apply_class_balancing,
            self.alpha,
            self.gamma,
            self.from_logits,
            self.label_smoothing,
            self.axis,
        )
    }
}

/// Categorical cross-entropy with a focal factor: `alpha * (1 - p)^gamma` (0.25, 2) weighs
/// each class's term.
#[derive(Clone, Copy, Debug)]
pub struct CategoricalFocalCrossentropy {
    /// The weight of every class.
    pub alpha: f64,
    /// The focusing exponent.
    pub gamma: f64,
    /// Whether predictions are logits.
    pub from_logits: bool,
    /// Labels are smoothed by this much.
    pub label_smoothing: f64,
    /// The class axis.
    pub axis: isize,
}

impl Default for CategoricalFocalCrossentropy {
    fn default() -> Self {
        CategoricalFocalCrossentropy {
            alpha: 0.25,
            gamma: 2.0,
            from_logits: false,
            label_smoothing: 0.0,
            axis: -1,
        }
    }
}

impl CategoricalFocalCrossentropy {
    /// Keras's defaults: alpha 0.25, gamma 2, on probabilities.
    pub fn new() -> Self {
        Self::default()
    }
    /// The weight of every class.
    pub fn alpha(self, alpha: f64) -> Self {
        CategoricalFocalCrossentropy { alpha, ..self }
    }
    /// The focusing exponent.
    pub fn gamma(self, gamma: f64) -> Self {
        CategoricalFocalCrossentropy { gamma, ..self }
    }
    /// On logits (`true`) or probabilities.
    pub fn from_logits(self, from_logits: bool) -> Self {
        CategoricalFocalCrossentropy {
            from_logits,
            ..self
        }
    }
    /// Labels smoothed by `label_smoothing`.
    pub fn label_smoothing(self, label_smoothing: f64) -> Self {
        CategoricalFocalCrossentropy {
            label_smoothing,
            ..self
        }
    }
    /// Classes along `axis`.
    pub fn axis(self, axis: isize) -> Self {
        CategoricalFocalCrossentropy { axis, ..self }
    }
    /// The same loss with another reduction (Keras's `reduction=` argument).
    pub fn reduction(self, reduction: Reduction) -> Reduced<Self> {
        Reduced::new(self, reduction)
    }
}

impl Builtin for CategoricalFocalCrossentropy {
    const NAME: &'static str = "categorical_focal_crossentropy";
    const CLASS: &'static str = "CategoricalFocalCrossentropy";
    fn args(&self) -> Map<String, Value> {
        let mut m = dense_args(self.from_logits, self.label_smoothing, self.axis);
        m.insert("alpha".into(), json!(self.alpha));
        m.insert("gamma".into(), json!(self.gamma));
        m
    }
    fn from_config(c: &Cfg) -> Result<Self> {
        Ok(CategoricalFocalCrossentropy {
            alpha: c.f64_or("alpha", 0.25)?,
            gamma: c.f64_or("gamma", 2.0)?,
            from_logits: c.bool_or("from_logits", false)?,
            label_smoothing: c.f64_or("label_smoothing", 0.0)?,
            axis: c.isize_or("axis", -1)?,
        })
    }
    fn per_sample(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        let (t, p) = aligned(y_true, y_pred)?;
        categorical_focal_crossentropy(
            &t,
            &p,
            self.alpha,
            self.gamma,
            self.from_logits,
            self.label_smoothing,
            self.axis,
        )
    }
}
