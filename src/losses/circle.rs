//! The Circle loss (Sun et al., 2020) on L2-normalized embeddings: Keras's `Circle` and
//! `circle`. Same-class pairs are pulled together and other pairs pushed apart, each pair
//! weighted by how far it is from its optimum.

use super::builtin::Builtin;
use super::tensors::{masked_logsumexp_rows, one_minus, shapes_error, softplus};
use super::{Reduced, Reduction};
use crate::ops::{DType, Tensor};
use crate::serialization::{json, Cfg, Map, Value};
use crate::Result;

/// Class labels as a `(n,)` tensor of whole numbers (Keras casts them to int32).
fn labels(loss: &str, labels: &Tensor, emb: &Tensor) -> Result<Tensor> {
    let n = emb.dims().first().copied().unwrap_or(0);
    if emb.rank() != 2 || labels.elem_count() != n {
        return Err(shapes_error(
            loss,
            labels.dims(),
            emb.dims(),
            "do not fit: expected one label per row of (batch, dim) embeddings",
        ));
    }
    Ok(labels.flatten_all()?.to_dtype(DType::I64)?)
}

/// The loss values and their mask (`loss > 0`, as Keras sets it).
fn circle_masked(
    y_true: &Tensor,
    y_pred: &Tensor,
    reference: Option<(&Tensor, &Tensor)>,
    remove_diagonal: bool,
    gamma: f64,
    margin: f64,
) -> Result<(Tensor, Tensor)> {
    let name = Circle::NAME;
    let p = if y_pred.dtype().is_float() {
        y_pred.clone()
    } else {
        y_pred.to_dtype(DType::F32)?
    };
    let q = labels(name, y_true, &p)?;
    let (ref_labels, ref_emb) = match reference {
        Some((l, e)) => {
            let e = e.to_dtype(p.dtype())?;
            if e.rank() != 2 || e.dims()[1] != p.dims()[1] {
                return Err(shapes_error(
                    name,
                    e.dims(),
                    p.dims(),
                    "(reference embeddings, embeddings) should have the same width",
                ));
            }
            (labels(name, l, &e)?, e)
        }
        None => (q.clone(), p.clone()),
    };
    let (n, m) = (q.elem_count(), ref_labels.elem_count());
    let dist = one_minus(&p.matmul(&ref_emb.t()?.contiguous()?)?)?.maximum(0.0)?;
    let same = q
        .reshape((n, 1))?
        .broadcast_eq(&ref_labels.reshape((1, m))?)?
        .to_dtype(p.dtype())?;
    let neg = one_minus(&same)?;
    let pos = if remove_diagonal {
        let off: Vec<f32> = (0..n * m).map(|i| f32::from(i / m != i % m)).collect();
        let off = Tensor::from_vec(off, (n, m), p.device())?.to_dtype(p.dtype())?;
        (same * off)?
    } else {
        same
    };
    let pos_w = ((&dist + margin)? * &pos)?.maximum(0.0)?;
    let neg_w = ((dist.neg()? + (1.0 + margin))? * &neg)?.maximum(0.0)?;
    let pos_d = (dist.neg()? + margin)?;
    let neg_d = (dist.neg()? + (1.0 - margin))?;
    let pos_wd = ((pos_w * pos_d)? * -gamma)?;
    let neg_wd = ((neg_w * neg_d)? * gamma)?;
    let p_loss = masked_logsumexp_rows(&pos_wd, &pos)?;
    let n_loss = masked_logsumexp_rows(&neg_wd, &neg)?;
    let loss = softplus(&(p_loss + n_loss)?)?;
    let mask = loss.gt(0.0)?.to_dtype(p.dtype())?;
    Ok((loss, mask))
}

/// Keras's `circle(y_true, y_pred, ref_labels, ref_embeddings, remove_diagonal, gamma,
/// margin)`: one value per embedding of `y_pred` (`(batch, dim)`, L2-normalized), `y_true`
/// its integer class. The reference `(labels, embeddings)` default to the batch itself.
///
/// ```
/// use keras::prelude::*;
/// let emb = Tensor::new(&[[1f32, 0.0], [0.6, 0.8], [0.0, 1.0]], &Device::Cpu)?;
/// let labels = Tensor::new(&[0f32, 0.0, 1.0], &Device::Cpu)?;
/// let v = keras::losses::circle(&labels, &emb, None, true, 80.0, 0.4)?;
/// assert_eq!(v.dims(), &[3]);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn circle(
    y_true: &Tensor,
    y_pred: &Tensor,
    reference: Option<(&Tensor, &Tensor)>,
    remove_diagonal: bool,
    gamma: f64,
    margin: f64,
) -> Result<Tensor> {
    Ok(circle_masked(y_true, y_pred, reference, remove_diagonal, gamma, margin)?.0)
}

/// The Circle loss on L2-normalized embeddings `y_pred` with integer labels `y_true`:
/// `gamma` (80) scales it, `margin` (0.4) relaxes it; self-pairs are left out unless
/// `remove_diagonal` is false. Values of 0 are left out of the mean.
#[derive(Clone, Copy, Debug)]
pub struct Circle {
    /// The scale.
    pub gamma: f64,
    /// The relaxation margin.
    pub margin: f64,
    /// Whether an embedding's pair with itself is left out of the positives.
    pub remove_diagonal: bool,
}

impl Default for Circle {
    fn default() -> Self {
        Circle {
            gamma: 80.0,
            margin: 0.4,
            remove_diagonal: true,
        }
    }
}

impl Circle {
    /// gamma 80, margin 0.4, self-pairs removed.
    pub fn new() -> Self {
        Self::default()
    }
    /// The scale.
    pub fn gamma(self, gamma: f64) -> Self {
        Circle { gamma, ..self }
    }
    /// The relaxation margin.
    pub fn margin(self, margin: f64) -> Self {
        Circle { margin, ..self }
    }
    /// Whether self-pairs are left out of the positives.
    pub fn remove_diagonal(self, remove_diagonal: bool) -> Self {
        Circle {
            remove_diagonal,
            ..self
        }
    }
    /// The same loss with another reduction (Keras's `reduction=` argument).
    pub fn reduction(self, reduction: Reduction) -> Reduced<Self> {
        Reduced::new(self, reduction)
    }
}

impl Builtin for Circle {
    const NAME: &'static str = "circle";
    const CLASS: &'static str = "Circle";
    fn args(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("gamma".into(), json!(self.gamma));
        m.insert("margin".into(), json!(self.margin));
        m.insert("remove_diagonal".into(), json!(self.remove_diagonal));
        m
    }
    fn from_config(c: &Cfg) -> Result<Self> {
        Ok(Circle {
            gamma: c.f64_or("gamma", 80.0)?,
            margin: c.f64_or("margin", 0.4)?,
            remove_diagonal: c.bool_or("remove_diagonal", true)?,
        })
    }
    fn per_sample(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        Ok(self.masked_values(y_true, y_pred)?.0)
    }
    fn masked_values(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<(Tensor, Option<Tensor>)> {
        let (v, m) = circle_masked(
            y_true,
            y_pred,
            None,
            self.remove_diagonal,
            self.gamma,
            self.margin,
        )?;
        Ok((v, Some(m)))
    }
}
