//! Sparse categorical cross-entropy: integer class labels against probabilities or logits,
//! with Keras's `ignore_class` (Keras's `keras/src/losses/losses.py`, JAX backend). Also the
//! label reading the other integer-label losses share.

use super::builtin::Builtin;
use super::crossentropy::{log_probs, needs_classes};
use super::tensors::{axis_index, floats, shapes_error};
use super::{Reduced, Reduction};
use crate::ops::{self, Tensor};
use crate::serialization::{json, Cfg, Map, Value};
use crate::{Error, Result};

/// Integer class labels for predictions `p` with classes on their last axis: `labels` of
/// shape `p.dims()[..-1]` (a trailing axis of 1 squeezed first), each a whole number in
/// `[0, classes)` or equal to `ignore`. Returns the labels (as read) and the one-hot rows of
/// `p`'s shape and dtype (zero rows for ignored labels).
pub(crate) fn one_hot_labels(
    loss: &str,
    labels: &Tensor,
    p: &Tensor,
    ignore: Option<f64>,
) -> Result<(Vec<f64>, Tensor)> {
    if p.rank() == 0 {
        return Err(needs_classes(loss, p));
    }
    let classes = p.dims()[p.rank() - 1];
    let rows = &p.dims()[..p.rank() - 1];
    let mut ld = labels.dims().to_vec();
    if ld.len() == p.rank() && ld.last() == Some(&1) {
        ld.pop();
    }
    if ld != rows {
        return Err(shapes_error(
            loss,
            labels.dims(),
            p.dims(),
            "do not fit: expected one class index per row of y_pred",
        ));
    }
    let lv = ops::to_vec_f64(labels)?;
    let mut hot = vec![0f32; lv.len() * classes];
    for (r, &v) in lv.iter().enumerate() {
        if Some(v) == ignore {
            continue;
        }
        if !(v >= 0.0 && v < classes as f64 && v.fract() == 0.0) {
            return Err(Error::value(format!(
                "{loss}: received a label value of {v} which is outside the valid range of \
                 [0, {classes}) (y_true shape {}, y_pred shape {})",
                crate::engine::tuple(labels.dims()),
                crate::engine::tuple(p.dims())
            )));
        }
        hot[r * classes + v as usize] = 1.0;
    }
    let hot = Tensor::from_vec(hot, p.dims(), p.device())?.to_dtype(p.dtype())?;
    Ok((lv, hot))
}

/// `p` with axis `a` moved last.
fn classes_last(p: &Tensor, a: usize) -> Result<Tensor> {
    let r = p.rank();
    if a + 1 == r {
        return Ok(p.clone());
    }
    let mut perm: Vec<usize> = (0..r).filter(|&i| i != a).collect();
    perm.push(a);
    Ok(p.permute(perm)?)
}

/// The values and (with `ignore_class`) the mask of valid labels.
fn masked(
    y_true: &Tensor,
    y_pred: &Tensor,
    from_logits: bool,
    ignore_class: Option<i64>,
    axis: isize,
) -> Result<(Tensor, Option<Tensor>)> {
    let name = SparseCategoricalCrossentropy::NAME;
    let (t, p) = floats(y_true, y_pred)?;
    if p.rank() == 0 {
        return Err(needs_classes(name, &p));
    }
    let a = axis_index(name, axis, p.rank())?;
    let t = if t.rank() == p.rank() && t.dims()[a] == 1 {
        t.squeeze(a)?
    } else {
        t
    };
    let p = classes_last(&p, a)?;
    let ignore = ignore_class.map(|c| c as f64);
    let (lv, hot) = one_hot_labels(name, &t, &p, ignore)?;
    let last = p.rank() - 1;
    let values = (hot * log_probs(&p, last, from_logits)?)?
        .sum(last)?
        .neg()?;
    let Some(ignore) = ignore else {
        return Ok((values, None));
    };
    let valid: Vec<f32> = lv.iter().map(|&v| f32::from(v != ignore)).collect();
    let mask = Tensor::from_vec(valid, values.dims(), values.device())?.to_dtype(values.dtype())?;
    Ok(((values * &mask)?, Some(mask)))
}

/// Keras's `sparse_categorical_crossentropy(y_true, y_pred, from_logits, ignore_class,
/// axis)`: `-log(p[label])` per row, the predictions normalized (or softmaxed, for logits)
/// over `axis`; rows labelled `ignore_class` give 0. Labels outside `[0, classes)` are
/// refused.
///
/// ```
/// use keras::prelude::*;
/// let t = Tensor::new(&[1f32, 2.0], &Device::Cpu)?;
/// let p = Tensor::new(&[[0.05f32, 0.95, 0.0], [0.1, 0.8, 0.1]], &Device::Cpu)?;
/// let v = keras::losses::sparse_categorical_crossentropy(&t, &p, false, None, -1)?;
/// let v = v.to_vec1::<f32>()?;
/// assert!((v[0] - 0.0513).abs() < 1e-4 && (v[1] - 2.3026).abs() < 1e-4);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn sparse_categorical_crossentropy(
    y_true: &Tensor,
    y_pred: &Tensor,
    from_logits: bool,
    ignore_class: Option<i64>,
    axis: isize,
) -> Result<Tensor> {
    Ok(masked(y_true, y_pred, from_logits, ignore_class, axis)?.0)
}

/// Cross-entropy between integer class labels and probabilities (or logits); one value per
/// row. Labels equal to `ignore_class` count for nothing: they are left out of the mean.
///
/// ```
/// use keras::prelude::*;
/// use keras::losses::{Loss, SparseCategoricalCrossentropy};
/// let t = Tensor::new(&[1f32, -1.0], &Device::Cpu)?;
/// let p = Tensor::new(&[[0.5f32, 0.5], [0.9, 0.1]], &Device::Cpu)?;
/// let l = SparseCategoricalCrossentropy::new().ignore_class(Some(-1));
/// assert!((keras::ops::scalar(&l.call(&t, &p)?)? - 0.5f64.ln().abs()).abs() < 1e-6);
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct SparseCategoricalCrossentropy {
    /// Whether predictions are logits.
    pub from_logits: bool,
    /// A label left out of the loss (a "void" class, such as -1 or 255).
    pub ignore_class: Option<i64>,
}

impl SparseCategoricalCrossentropy {
    /// On probabilities.
    pub fn new() -> Self {
        Self::default()
    }
    /// On logits (`true`) or probabilities.
    pub fn from_logits(self, from_logits: bool) -> Self {
        SparseCategoricalCrossentropy {
            from_logits,
            ..self
        }
    }
    /// Rows labelled `ignore_class` are left out of the loss.
    pub fn ignore_class(self, ignore_class: Option<i64>) -> Self {
        SparseCategoricalCrossentropy {
            ignore_class,
            ..self
        }
    }
    /// The same loss with another reduction (Keras's `reduction=` argument).
    pub fn reduction(self, reduction: Reduction) -> Reduced<Self> {
        Reduced::new(self, reduction)
    }
}

impl Builtin for SparseCategoricalCrossentropy {
    const NAME: &'static str = "sparse_categorical_crossentropy";
    const CLASS: &'static str = "SparseCategoricalCrossentropy";
    fn args(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("from_logits".into(), json!(self.from_logits));
        m.insert("ignore_class".into(), json!(self.ignore_class));
        m
    }
    fn from_config(c: &Cfg) -> Result<Self> {
        let ignore_class = match c.get("ignore_class") {
            None => None,
            Some(v) => Some(
                v.as_i64()
                    .ok_or_else(|| c.bad("ignore_class", "an integer or null"))?,
            ),
        };
        Ok(SparseCategoricalCrossentropy {
            from_logits: c.bool_or("from_logits", false)?,
            ignore_class,
        })
    }
    fn fused(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Option<Tensor>> {
        if self.ignore_class.is_some() {
            return Ok(None);
        }
        let (t, p) = floats(y_true, y_pred)?;
        if p.rank() == 0 || !matches!(p.dtype(), ops::DType::F32 | ops::DType::F64) {
            return Ok(None);
        }
        let mut ld = t.dims().to_vec();
        if ld.len() == p.rank() && ld.last() == Some(&1) {
            ld.pop();
        }
        if ld != p.dims()[..p.rank() - 1] {
            return Ok(None);
        }
        Ok(Some(ops::sparse_crossentropy(&p, &t, self.from_logits)?))
    }
    fn per_sample(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        Ok(self.masked_values(y_true, y_pred)?.0)
    }
    fn masked_values(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<(Tensor, Option<Tensor>)> {
        masked(y_true, y_pred, self.from_logits, self.ignore_class, -1)
    }
}
