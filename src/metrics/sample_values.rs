//! Pieces the per-sample metric functions share (tensor ops on the batch's device): labels
//! and predictions as floats aligned to one shape the way Keras's
//! `squeeze_or_expand_to_same_rank` aligns them, axes given as Python integers, reductions
//! over the last axis.

use crate::losses::{broadcast_shapes, squeeze_or_expand_to_same_rank};
use crate::ops::{self, DType, Tensor};
use crate::{Error, Result};

/// Keras's fuzz factor `keras.config.epsilon()`.
pub(crate) const EPSILON: f64 = 1e-7;

/// `t` as a floating tensor (integers become `float32`).
pub(crate) fn float(t: &Tensor) -> Result<Tensor> {
    Ok(if t.dtype().is_float() {
        t.clone()
    } else {
        t.to_dtype(DType::F32)?
    })
}

/// `y_pred` as floats and `y_true` in its dtype (`convert_to_tensor(y_true,
/// dtype=y_pred.dtype)`), on `y_pred`'s device, of the same rank
/// (`squeeze_or_expand_to_same_rank`); shapes that do not broadcast are an error naming both.
pub(crate) fn same_rank(y_true: &Tensor, y_pred: &Tensor) -> Result<(Tensor, Tensor)> {
    let p = float(y_pred)?;
    let t = y_true.to_dtype(p.dtype())?.to_device(p.device())?;
    let (t, p) = squeeze_or_expand_to_same_rank(&t, &p, true)?;
    check_broadcast(&t, &p)?;
    Ok((t, p))
}

/// [`same_rank`], then both broadcast to their common shape (Keras's elementwise ops
/// broadcast; candle's need one shape).
pub(crate) fn aligned(y_true: &Tensor, y_pred: &Tensor) -> Result<(Tensor, Tensor)> {
    let (t, p) = same_rank(y_true, y_pred)?;
    broadcast_pair(t, p)
}

/// `y_true` cast to `y_pred`'s float dtype and device, without changing shapes (the hinge and
/// probabilistic functions do not align ranks), both broadcast to one shape.
pub(crate) fn cast_pair(y_true: &Tensor, y_pred: &Tensor) -> Result<(Tensor, Tensor)> {
    let p = float(y_pred)?;
    let t = y_true.to_dtype(p.dtype())?.to_device(p.device())?;
    check_broadcast(&t, &p)?;
    broadcast_pair(t, p)
}

/// An error naming both shapes unless `a` and `b` broadcast.
pub(crate) fn check_broadcast(a: &Tensor, b: &Tensor) -> Result<Vec<usize>> {
    broadcast_shapes(a.dims(), b.dims()).map_err(|_| mismatch(a.dims(), b.dims()))
}

/// The error for labels and predictions of shapes that do not go together.
pub(crate) fn mismatch(y_true: &[usize], y_pred: &[usize]) -> Error {
    Error::shape(format!(
        "y_true and y_pred have incompatible shapes: y_true.shape={}, y_pred.shape={}",
        ops::shape_str(y_true),
        ops::shape_str(y_pred)
    ))
}

/// Both broadcast to their common shape (unchanged when they already share it).
pub(crate) fn broadcast_pair(a: Tensor, b: Tensor) -> Result<(Tensor, Tensor)> {
    if a.dims() == b.dims() {
        return Ok((a, b));
    }
    let shape = check_broadcast(&a, &b)?;
    Ok((a.broadcast_as(shape.clone())?, b.broadcast_as(shape)?))
}

/// `ops.mean(x, axis=-1)` (a scalar stays as it is).
pub(crate) fn mean_last(x: &Tensor) -> Result<Tensor> {
    Ok(if x.rank() == 0 {
        x.clone()
    } else {
        x.mean(x.rank() - 1)?
    })
}

/// `ops.sum(x, axis=-1)` (a scalar stays as it is).
pub(crate) fn sum_last(x: &Tensor) -> Result<Tensor> {
    Ok(if x.rank() == 0 {
        x.clone()
    } else {
        x.sum(x.rank() - 1)?
    })
}

/// A Python axis (`-1` is the last) of a tensor of rank `rank`, or an error naming it.
pub(crate) fn axis_index(axis: isize, rank: usize) -> Result<usize> {
    let r = rank as isize;
    if axis >= r || axis < -r {
        return Err(Error::value(format!(
            "axis {axis} is out of bounds for a tensor of rank {rank}"
        )));
    }
    Ok(if axis < 0 { axis + r } else { axis } as usize)
}

/// `log(1 + exp(x))` without overflow (`max(x, 0) + log(1 + exp(-|x|))`, as JAX's
/// `softplus`).
pub(crate) fn softplus(x: &Tensor) -> Result<Tensor> {
    let tail = (x.abs()?.neg()?.exp()? + 1.0)?.log()?;
    Ok((x.relu()? + tail)?)
}

/// Integer labels as Keras casts them to `int32` (toward zero), kept as floats.
pub(crate) fn truncated(t: &Tensor) -> Result<Tensor> {
    let t = float(t)?;
    Ok((t.abs()?.floor()? * t.sign()?)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::test_tensor as t;

    #[test]
    fn labels_align_to_predictions() {
        let (a, b) = aligned(&t(&[1., 2.], &[2]), &t(&[1., 2.], &[2, 1])).unwrap();
        assert_eq!((a.dims(), b.dims()), (&[2, 1][..], &[2, 1][..]));
        let (a, b) = aligned(&t(&[1., 2.], &[2, 1]), &t(&[0.; 6], &[2, 3])).unwrap();
        assert_eq!((a.dims(), b.dims()), (&[2, 3][..], &[2, 3][..]));
        let e = aligned(&t(&[0.; 8], &[4, 2]), &t(&[0.; 12], &[4, 3]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("y_true.shape=(4, 2), y_pred.shape=(4, 3)"),
            "{e}"
        );
        assert_eq!(axis_index(-1, 3).unwrap(), 2);
        assert!(axis_index(3, 3).is_err() && axis_index(-4, 3).is_err());
    }
}
