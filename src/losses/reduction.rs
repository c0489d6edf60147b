//! Keras's loss reductions and sample weighting (`keras/src/losses/loss.py`): the
//! [`Reduction`] a loss applies, [`squeeze_or_expand_to_same_rank`] and
//! [`reduce_weighted_values`].

use crate::ops::{self, Tensor};
use crate::{Error, Result};

/// How a loss turns its per-sample values into what it returns (Keras's `reduction`).
///
/// ```
/// use keras::losses::Reduction;
/// assert_eq!(Reduction::parse("sum")?, Reduction::Sum);
/// assert_eq!(Reduction::default().as_str(), "sum_over_batch_size");
/// assert!(Reduction::parse("average").is_err());
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Reduction {
    /// `sum(w * l) / number of values` (the default).
    #[default]
    SumOverBatchSize,
    /// `sum(w * l)`.
    Sum,
    /// Like `SumOverBatchSize`.
    Mean,
    /// `sum(w * l) / sum(w)` (without sample weights: `/ number of values`).
    MeanWithSampleWeight,
    /// No reduction: the weighted per-sample values (Keras's `"none"`).
    None,
    /// No reduction, as Keras's Python `None` (written `null` in configs).
    Null,
}

impl Reduction {
    /// Keras's spelling (`"none"` for [`Reduction::None`]).
    pub fn as_str(self) -> &'static str {
        match self {
            Reduction::SumOverBatchSize => "sum_over_batch_size",
            Reduction::Sum => "sum",
            Reduction::Mean => "mean",
            Reduction::MeanWithSampleWeight => "mean_with_sample_weight",
            Reduction::None => "none",
            Reduction::Null => "None",
        }
    }

    /// The config value Keras writes: the spelling, or `null` for [`Reduction::Null`].
    ///
    /// ```
    /// use keras::losses::Reduction;
    /// assert_eq!(Reduction::Sum.to_config(), "sum");
    /// assert!(Reduction::Null.to_config().is_null());
    /// ```
    pub fn to_config(self) -> serde_json::Value {
        match self {
            Reduction::Null => serde_json::Value::Null,
            r => serde_json::Value::String(r.as_str().into()),
        }
    }

    /// Whether the values are returned unreduced (`"none"` or `None`).
    pub fn is_none(self) -> bool {
        matches!(self, Reduction::None | Reduction::Null)
    }

    /// From Keras's spelling; anything else is refused with Keras's message. (Keras's Python
    /// `None` is [`Reduction::Null`], read from a config's `null`.)
    pub fn parse(s: &str) -> Result<Reduction> {
        Ok(match s {
            "sum_over_batch_size" => Reduction::SumOverBatchSize,
            "sum" => Reduction::Sum,
            "mean" => Reduction::Mean,
            "mean_with_sample_weight" => Reduction::MeanWithSampleWeight,
            "none" => Reduction::None,
            other => {
                return Err(Error::value(format!(
                "Invalid value for argument `reduction`. Expected one of {{'sum_over_batch_size', \
                     'sum', None, 'none', 'mean', 'mean_with_sample_weight'}}. Received: \
                     reduction={other}"
            )))
            }
        })
    }

    /// From a config value: a string, or `null` (Keras's `None`, no reduction).
    pub fn from_config(v: Option<&serde_json::Value>) -> Result<Reduction> {
        match v {
            None => Ok(Reduction::default()),
            Some(serde_json::Value::Null) => Ok(Reduction::Null),
            Some(serde_json::Value::String(s)) => Reduction::parse(s),
            Some(other) => Reduction::parse(&other.to_string()),
        }
    }

    /// Whether the unweighted result is the mean over every value (what the fused losses
    /// compute).
    pub(crate) fn is_mean(self) -> bool {
        matches!(
            self,
            Reduction::SumOverBatchSize | Reduction::Mean | Reduction::MeanWithSampleWeight
        )
    }
}

impl std::fmt::Display for Reduction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Keras's `squeeze_or_expand_to_same_rank`: when the ranks differ by one and the longer
/// shape ends in 1, that axis is squeezed, or (when the other is of rank 1 and
/// `expand_rank_1`) the shorter one gets a trailing 1.
///
/// ```
/// use keras::prelude::*;
/// use keras::losses::squeeze_or_expand_to_same_rank;
/// let a = Tensor::zeros((4, 1), DType::F32, &Device::Cpu)?;
/// let b = Tensor::zeros(4, DType::F32, &Device::Cpu)?;
/// let (a2, b2) = squeeze_or_expand_to_same_rank(&a, &b, true)?;
/// assert_eq!((a2.dims(), b2.dims()), (&[4, 1][..], &[4, 1][..]));
/// let (a3, _) = squeeze_or_expand_to_same_rank(&Tensor::zeros((4, 3, 1), DType::F32, &Device::Cpu)?, &Tensor::zeros((4, 3), DType::F32, &Device::Cpu)?, true)?;
/// assert_eq!(a3.dims(), &[4, 3]);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn squeeze_or_expand_to_same_rank(
    x1: &Tensor,
    x2: &Tensor,
    expand_rank_1: bool,
) -> Result<(Tensor, Tensor)> {
    let (d1, d2) = aligned_dims(x1.dims(), x2.dims(), expand_rank_1);
    let reshape = |x: &Tensor, d: Vec<usize>| -> Result<Tensor> {
        Ok(if x.dims() == d.as_slice() {
            x.clone()
        } else {
            x.reshape(d)?
        })
    };
    Ok((reshape(x1, d1)?, reshape(x2, d2)?))
}

/// The shapes [`squeeze_or_expand_to_same_rank`] gives.
pub(crate) fn aligned_dims(
    d1: &[usize],
    d2: &[usize],
    expand_rank_1: bool,
) -> (Vec<usize>, Vec<usize>) {
    let (mut a, mut b) = (d1.to_vec(), d2.to_vec());
    let (r1, r2) = (d1.len(), d2.len());
    if r1 == r2 + 1 && d1.last() == Some(&1) {
        if r2 == 1 && expand_rank_1 {
            b.push(1);
        } else {
            a.pop();
        }
    }
    if r2 == r1 + 1 && d2.last() == Some(&1) {
        if r1 == 1 && expand_rank_1 {
            a.push(1);
        } else {
            b.pop();
        }
    }
    (a, b)
}

/// NumPy's broadcast of two shapes, or the error JAX gives for shapes that do not broadcast.
pub(crate) fn broadcast_shapes(a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for (i, o) in out.iter_mut().enumerate() {
        let da = (i + a.len()).checked_sub(n).map_or(1, |j| a[j]);
        let db = (i + b.len()).checked_sub(n).map_or(1, |j| b[j]);
        *o = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return Err(incompatible_shapes(a, b)),
        };
    }
    Ok(out)
}

/// The error JAX gives for shapes `a` and `b` that do not broadcast.
pub(crate) fn incompatible_shapes(a: &[usize], b: &[usize]) -> Error {
    Error::shape(format!(
        "Incompatible shapes for broadcasting: shapes=[{}, {}]",
        crate::engine::tuple(a),
        crate::engine::tuple(b)
    ))
}

fn float(t: &Tensor) -> Result<Tensor> {
    if t.dtype().is_float() {
        Ok(t.clone())
    } else {
        ops::cast(t, ops::DType::F32)
    }
}

/// Keras's `reduce_weighted_values`: per-sample `values` times `sample_weight` (shapes
/// aligned by [`squeeze_or_expand_to_same_rank`], then broadcast), reduced by `reduction`.
/// Without weights and with a mean reduction this is the mean of `values`.
///
/// ```
/// use keras::prelude::*;
/// use keras::losses::{reduce_weighted_values, Reduction};
/// let l = Tensor::new(&[1f32, 2.0, 3.0, 4.0], &Device::Cpu)?;
/// let w = Tensor::new(&[[1f32], [0.0], [1.0], [2.0]], &Device::Cpu)?;
/// let s = |r| keras::ops::scalar(&reduce_weighted_values(&l, Some(&w), r)?);
/// assert_eq!(s(Reduction::SumOverBatchSize)?, 3.0); // (1 + 3 + 8) / 4
/// assert_eq!(s(Reduction::Sum)?, 12.0);
/// assert_eq!(s(Reduction::MeanWithSampleWeight)?, 3.0); // 12 / 4
/// let none = reduce_weighted_values(&l, Some(&w), Reduction::None)?;
/// assert_eq!(none.dims(), &[4, 1]);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn reduce_weighted_values(
    values: &Tensor,
    sample_weight: Option<&Tensor>,
    reduction: Reduction,
) -> Result<Tensor> {
    reduce_masked_values(values, sample_weight, None, reduction)
}

/// [`reduce_weighted_values`] with a mask on the values (Keras's `apply_mask`: the mask of a
/// loss's values, 1 where a value counts, joins the sample weights; for the mean reductions
/// the kept values are scaled by `total / kept`, so the mean is over the kept values only).
///
/// ```
/// use keras::prelude::*;
/// use keras::losses::{reduce_masked_values, Reduction};
/// let l = Tensor::new(&[1f32, 2.0, 3.0, 0.0], &Device::Cpu)?;
/// let mask = Tensor::new(&[1f32, 1.0, 1.0, 0.0], &Device::Cpu)?;
/// let mean = reduce_masked_values(&l, None, Some(&mask), Reduction::SumOverBatchSize)?;
/// assert_eq!(keras::ops::scalar(&mean)?, 2.0);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn reduce_masked_values(
    values: &Tensor,
    sample_weight: Option<&Tensor>,
    mask: Option<&Tensor>,
    reduction: Reduction,
) -> Result<Tensor> {
    let mut values = float(values)?;
    let masked;
    let sample_weight = match mask {
        None => sample_weight,
        Some(m) => {
            masked = apply_mask(sample_weight, m, values.dtype(), reduction)?;
            Some(&masked)
        }
    };
    let mut weight = None;
    if let Some(w) = sample_weight {
        let w = w.to_dtype(values.dtype())?.detach();
        let (v, w) = squeeze_or_expand_to_same_rank(&values, &w, true)?;
        broadcast_shapes(v.dims(), w.dims())?;
        values = if v.dims() == w.dims() {
            (v * &w)?
        } else {
            v.broadcast_mul(&w)?
        };
        weight = Some(w);
    }
    reduce_values(&values, weight.as_ref(), reduction)
}

/// Keras's `apply_mask`: the mask (scaled by `total / kept` for the mean reductions) as the
/// sample weights, or times them.
fn apply_mask(
    sample_weight: Option<&Tensor>,
    mask: &Tensor,
    dtype: ops::DType,
    reduction: Reduction,
) -> Result<Tensor> {
    let mut m = mask.to_dtype(dtype)?.detach();
    if matches!(reduction, Reduction::Mean | Reduction::SumOverBatchSize) {
        let total = m.elem_count() as f64;
        let kept = m.sum_all()?;
        // divide_no_nan(total, kept): 0 when nothing is kept.
        let scale = kept.gt(0.0)?.where_cond(
            &(kept.maximum(1e-30)?.recip()? * total)?,
            &kept.zeros_like()?,
        )?;
        m = m.broadcast_mul(&scale)?;
    }
    Ok(match sample_weight {
        None => m,
        Some(w) => {
            let w = w.to_dtype(dtype)?.detach();
            let (m, w) = squeeze_or_expand_to_same_rank(&m, &w, true)?;
            broadcast_shapes(m.dims(), w.dims())?;
            w.broadcast_mul(&m)?
        }
    })
}

/// Keras's `reduce_values`: values already weighted, reduced (a scalar or `(0,)` shape is
/// returned as it is).
fn reduce_values(
    values: &Tensor,
    sample_weight: Option<&Tensor>,
    reduction: Reduction,
) -> Result<Tensor> {
    if reduction.is_none() || values.rank() == 0 || values.dims() == [0] {
        return Ok(values.clone());
    }
    let loss = values.sum_all()?;
    if reduction == Reduction::Sum {
        return Ok(loss);
    }
    let divisor = match (reduction, sample_weight) {
        (Reduction::MeanWithSampleWeight, Some(w)) => ops::scalar(&w.sum_all()?)?,
        _ => values.elem_count() as f64,
    };
    // `divide_no_nan`: 0 where the divisor is 0.
    Ok(if divisor == 0.0 {
        (loss * 0.0)?
    } else {
        (loss / divisor)?
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::test_tensor as t;

    #[test]
    fn shapes_align_as_keras() {
        assert_eq!(aligned_dims(&[4], &[4, 1], true), (vec![4, 1], vec![4, 1]));
        assert_eq!(aligned_dims(&[4], &[4, 1], false), (vec![4], vec![4]));
        assert_eq!(
            aligned_dims(&[4, 3], &[4, 3, 1], true),
            (vec![4, 3], vec![4, 3])
        );
        assert_eq!(aligned_dims(&[4, 3], &[4], true), (vec![4, 3], vec![4]));
        assert_eq!(broadcast_shapes(&[4, 3], &[4, 1]).unwrap(), vec![4, 3]);
        let e = broadcast_shapes(&[4, 3], &[4]).unwrap_err().to_string();
        assert!(e.contains("shapes=[(4, 3), (4,)]"), "{e}");
    }

    #[test]
    fn reductions() {
        let v = t(&[1., 2., 3., 4., 5., 6.], &[2, 3]);
        let w = t(&[1., 0.], &[2, 1]);
        let s = |r| ops::scalar(&reduce_weighted_values(&v, Some(&w), r).unwrap()).unwrap();
        assert_eq!(s(Reduction::Sum), 6.0);
        assert_eq!(s(Reduction::SumOverBatchSize), 1.0);
        // Keras divides by the weights' sum before they are broadcast.
        assert_eq!(s(Reduction::MeanWithSampleWeight), 6.0);
        let zero = t(&[0., 0.], &[2, 1]);
        let z = reduce_weighted_values(&v, Some(&zero), Reduction::MeanWithSampleWeight);
        assert_eq!(ops::scalar(&z.unwrap()).unwrap(), 0.0);
        assert!(reduce_weighted_values(&v, Some(&t(&[1., 1.], &[2])), Reduction::Sum).is_err());
        let unweighted = reduce_weighted_values(&v, None, Reduction::Mean).unwrap();
        assert_eq!(ops::scalar(&unweighted).unwrap(), 3.5);
        assert_eq!(Reduction::parse("none").unwrap(), Reduction::None);
        assert_eq!(
            Reduction::from_config(Some(&serde_json::Value::Null)).unwrap(),
            Reduction::Null
        );
        // A mask keeps values out of the mean and joins the weights.
        let v = t(&[1., 2., 3., 4.], &[4]);
        let m = t(&[1., 0., 1., 1.], &[4]);
        let w = t(&[1., 1., 2., 0.], &[4]);
        let r = |w: Option<&Tensor>, r| {
            ops::scalar(&reduce_masked_values(&v, w, Some(&m), r).unwrap()).unwrap()
        };
        assert!((r(None, Reduction::SumOverBatchSize) - 8.0 / 3.0).abs() < 1e-6);
        assert_eq!(r(None, Reduction::Sum), 8.0);
        assert!((r(Some(&w), Reduction::SumOverBatchSize) - 7.0 / 3.0).abs() < 1e-6);
        assert!((r(Some(&w), Reduction::MeanWithSampleWeight) - 7.0 / 3.0).abs() < 1e-6);
        let none = reduce_masked_values(&v, None, Some(&m), Reduction::Null).unwrap();
        assert_eq!(ops::to_vec_f32(&none).unwrap(), vec![1., 0., 3., 4.]);
        let e = Reduction::parse("avg").unwrap_err().to_string();
        assert!(e.contains("reduction=avg"), "{e}");
    }
}
