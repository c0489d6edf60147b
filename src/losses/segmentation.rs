//! Image-segmentation losses: Dice and Tversky (Keras's `keras/src/losses/losses.py`), over
//! the axes Keras's `axis` names (all of them by default).

use super::builtin::Builtin;
use super::tensors::{aligned, axis_index, floats, one_minus, same_shape};
use super::{Reduced, Reduction, EPSILON};
use crate::ops::Tensor;
use crate::serialization::{json, Cfg, Map, Value};
use crate::Result;

/// The axes a loss sums over: Keras's `axis` of `None` (every axis), an integer or a tuple.
///
/// ```
/// use keras::losses::Axes;
/// assert_eq!(Axes::from([1, 2]), Axes::Many(vec![1, 2]));
/// assert_eq!(Axes::from(-1), Axes::One(-1));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Axes {
    /// Every axis (Keras's `None`): one value for the whole batch.
    #[default]
    All,
    /// One axis (negative: from the end).
    One(isize),
    /// Several axes.
    Many(Vec<isize>),
}

impl From<isize> for Axes {
    fn from(a: isize) -> Self {
        Axes::One(a)
    }
}

impl From<Vec<isize>> for Axes {
    fn from(a: Vec<isize>) -> Self {
        Axes::Many(a)
    }
}

impl<const N: usize> From<[isize; N]> for Axes {
    fn from(a: [isize; N]) -> Self {
        Axes::Many(a.to_vec())
    }
}

impl Axes {
    /// Keras's config value: `null`, an integer or a list.
    pub fn to_config(&self) -> Value {
        match self {
            Axes::All => Value::Null,
            Axes::One(a) => json!(a),
            Axes::Many(v) => json!(v),
        }
    }

    /// From config key `key` (absent or `null`: every axis).
    pub fn from_config(c: &Cfg, key: &str) -> Result<Axes> {
        let bad = || c.bad(key, "null, an integer or a list of integers");
        Ok(match c.get(key) {
            None => Axes::All,
            Some(Value::Array(v)) => Axes::Many(
                v.iter()
                    .map(|a| a.as_i64().map(|a| a as isize).ok_or_else(bad))
                    .collect::<Result<_>>()?,
            ),
            Some(v) => Axes::One(v.as_i64().ok_or_else(bad)? as isize),
        })
    }

    /// The axes of a rank-`rank` tensor, in order.
    fn resolve(&self, loss: &str, rank: usize) -> Result<Vec<usize>> {
        let mut v = match self {
            Axes::All => (0..rank).collect(),
            Axes::One(a) => vec![axis_index(loss, *a, rank)?],
            Axes::Many(a) => a
                .iter()
                .map(|&a| axis_index(loss, a, rank))
                .collect::<Result<Vec<_>>>()?,
        };
        v.sort_unstable();
        v.dedup();
        Ok(v)
    }
}

fn sum_over(x: &Tensor, axes: &[usize]) -> Result<Tensor> {
    Ok(if axes.is_empty() {
        x.clone()
    } else {
        x.sum(axes.to_vec())?
    })
}

/// Keras's `dice(y_true, y_pred, axis)`: `1 - 2 * sum(y_true * y_pred) / (sum(y_true) +
/// sum(y_pred) + epsilon)`, the sums over `axis`.
///
/// ```
/// use keras::prelude::*;
/// use keras::losses::{dice, Axes};
/// let t = Tensor::new(&[[1f32, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]], &Device::Cpu)?;
/// let p = Tensor::new(&[[0f32, 1.0, 0.0, 1.0], [0.4, 0.0, 0.0, 0.9]], &Device::Cpu)?;
/// let v = dice(&t, &p, &Axes::One(1))?.to_vec1::<f32>()?;
/// assert!((v[0] - 0.5).abs() < 1e-6 && (v[1] - 0.757_575_7).abs() < 1e-6);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn dice(y_true: &Tensor, y_pred: &Tensor, axis: &Axes) -> Result<Tensor> {
    let (t, p) = floats(y_true, y_pred)?;
    same_shape(Dice::NAME, &t, &p)?;
    let axes = axis.resolve(Dice::NAME, p.rank())?;
    let inter = sum_over(&(&t * &p)?, &axes)?;
    let denom = ((sum_over(&t, &axes)? + sum_over(&p, &axes)?)? + EPSILON)?;
    one_minus(&((inter * 2.0)? / denom)?)
}

/// Keras's `tversky(y_true, y_pred, alpha, beta, axis)`: `1 - tp / (tp + alpha * fp + beta *
/// fn + epsilon)`, the counts summed over `axis`.
pub fn tversky(
    y_true: &Tensor,
    y_pred: &Tensor,
    alpha: f64,
    beta: f64,
    axis: &Axes,
) -> Result<Tensor> {
    let (t, p) = floats(y_true, y_pred)?;
    same_shape(Tversky::NAME, &t, &p)?;
    let axes = axis.resolve(Tversky::NAME, p.rank())?;
    let inter = sum_over(&(&t * &p)?, &axes)?;
    let fp = sum_over(&(one_minus(&p)? * &t)?, &axes)?;
    let fneg = sum_over(&(&p * one_minus(&t)?)?, &axes)?;
    let denom = (((&inter + (fp * alpha)?)? + (fneg * beta)?)? + EPSILON)?;
    one_minus(&(inter / denom)?)
}

/// The Dice loss `1 - 2 |y_true . y_pred| / (|y_true| + |y_pred|)` over `axis` (every axis by
/// default: one value per batch).
#[derive(Clone, Debug, Default)]
pub struct Dice {
    /// The axes summed over.
    pub axis: Axes,
}

impl Dice {
    /// Over every axis.
    pub fn new() -> Self {
        Self::default()
    }
    /// Over `axis` (`1`, `[1, 2, 3]`, ...).
    pub fn axis(self, axis: impl Into<Axes>) -> Self {
        Dice { axis: axis.into() }
    }
    /// The same loss with another reduction (Keras's `reduction=` argument).
    pub fn reduction(self, reduction: Reduction) -> Reduced<Self> {
        Reduced::new(self, reduction)
    }
}

impl Builtin for Dice {
    const NAME: &'static str = "dice";
    const CLASS: &'static str = "Dice";
    fn args(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("axis".into(), self.axis.to_config());
        m
    }
    fn from_config(c: &Cfg) -> Result<Self> {
        Ok(Dice {
            axis: Axes::from_config(c, "axis")?,
        })
    }
    fn per_sample(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        let (t, p) = aligned(y_true, y_pred)?;
        dice(&t, &p, &self.axis)
    }
}

/// The Tversky loss: Dice with false positives weighted by `alpha` and false negatives by
/// `beta` (0.5 each: Dice).
///
/// ```
/// use keras::prelude::*;
/// use keras::losses::{Loss, Tversky};
/// let l = Tversky::new().alpha(0.3).beta(0.7).axis([1]);
/// assert_eq!(l.get_config()["config"]["axis"], serde_json::json!([1]));
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Tversky {
    /// The weight of false positives.
    pub alpha: f64,
    /// The weight of false negatives.
    pub beta: f64,
    /// The axes summed over.
    pub axis: Axes,
}

impl Default for Tversky {
    fn default() -> Self {
        Tversky {
            alpha: 0.5,
            beta: 0.5,
            axis: Axes::All,
        }
    }
}

impl Tversky {
    /// alpha = beta = 0.5, over every axis.
    pub fn new() -> Self {
        Self::default()
    }
    /// The weight of false positives.
    pub fn alpha(self, alpha: f64) -> Self {
        Tversky { alpha, ..self }
    }
    /// The weight of false negatives.
    pub fn beta(self, beta: f64) -> Self {
        Tversky { beta, ..self }
    }
    /// Over `axis`.
    pub fn axis(self, axis: impl Into<Axes>) -> Self {
        Tversky {
            axis: axis.into(),
            ..self
        }
    }
    /// The same loss with another reduction (Keras's `reduction=` argument).
    pub fn reduction(self, reduction: Reduction) -> Reduced<Self> {
        Reduced::new(self, reduction)
    }
}

impl Builtin for Tversky {
    const NAME: &'static str = "tversky";
    const CLASS: &'static str = "Tversky";
    fn args(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("alpha".into(), json!(self.alpha));
        m.insert("beta".into(), json!(self.beta));
        m.insert("axis".into(), self.axis.to_config());
        m
    }
    fn from_config(c: &Cfg) -> Result<Self> {
        Ok(Tversky {
            alpha: c.f64_or("alpha", 0.5)?,
            beta: c.f64_or("beta", 0.5)?,
            axis: Axes::from_config(c, "axis")?,
        })
    }
    fn per_sample(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        let (t, p) = aligned(y_true, y_pred)?;
        tversky(&t, &p, self.alpha, self.beta, &self.axis)
    }
}
