//! The tensor steps the losses share: Keras's conversions of `y_true` and `y_pred`, the
//! alignment `LossFunctionWrapper` applies, shape checks whose errors name the loss and both
//! shapes, axes counted from the end, and a few differentiable compositions (softplus,
//! a masked logsumexp).

use super::reduction::{broadcast_shapes, squeeze_or_expand_to_same_rank};
use crate::ops::{self, DType, ElementwiseLoss, Tensor};
use crate::{Error, Result};

/// Keras's `convert_to_tensor(y_pred)` and `cast(y_true, y_pred.dtype)`: `y_pred` as floats
/// (integers become float32) and `y_true` in the same dtype.
pub(crate) fn floats(y_true: &Tensor, y_pred: &Tensor) -> Result<(Tensor, Tensor)> {
    let p = if y_pred.dtype().is_float() {
        y_pred.clone()
    } else {
        y_pred.to_dtype(DType::F32)?
    };
    let t = if y_true.dtype() == p.dtype() {
        y_true.clone()
    } else {
        y_true.to_dtype(p.dtype())?
    };
    Ok((t, p))
}

/// What Keras's `LossFunctionWrapper.call` does before the loss function: [`floats`], then
/// `squeeze_or_expand_to_same_rank(y_true, y_pred)`.
pub(crate) fn aligned(y_true: &Tensor, y_pred: &Tensor) -> Result<(Tensor, Tensor)> {
    let (t, p) = floats(y_true, y_pred)?;
    squeeze_or_expand_to_same_rank(&t, &p, true)
}

/// The fused elementwise op `kind` (the mean over every value) on `y_true` and `y_pred`
/// aligned, where it applies: float32 or float64 predictions, and `y_true` of their shape or
/// broadcasting to it (otherwise `None`, and the per-sample path decides).
pub(crate) fn elementwise_fused(
    y_true: &Tensor,
    y_pred: &Tensor,
    kind: ElementwiseLoss,
) -> Result<Option<Tensor>> {
    let (mut t, p) = aligned(y_true, y_pred)?;
    if !matches!(p.dtype(), DType::F32 | DType::F64) {
        return Ok(None);
    }
    if t.dims() != p.dims() {
        if broadcast_shapes(t.dims(), p.dims()).ok().as_deref() != Some(p.dims()) {
            return Ok(None);
        }
        t = t.broadcast_as(p.shape())?.contiguous()?;
    }
    Ok(Some(ops::elementwise_loss(&p, &t, kind)?))
}

/// A shape error naming the loss and both shapes.
pub(crate) fn shapes_error(loss: &str, t: &[usize], p: &[usize], why: &str) -> Error {
    Error::shape(format!(
        "{loss}: y_true shape {} and y_pred shape {} {why}",
        crate::engine::tuple(t),
        crate::engine::tuple(p)
    ))
}

/// Refuses shapes that do not broadcast together.
pub(crate) fn broadcastable(loss: &str, t: &Tensor, p: &Tensor) -> Result<Vec<usize>> {
    broadcast_shapes(t.dims(), p.dims())
        .map_err(|_| shapes_error(loss, t.dims(), p.dims(), "do not broadcast together"))
}

/// Refuses different shapes (Keras's backend cross-entropies need equal ones).
pub(crate) fn same_shape(loss: &str, t: &Tensor, p: &Tensor) -> Result<()> {
    if t.dims() == p.dims() {
        Ok(())
    } else {
        Err(shapes_error(
            loss,
            t.dims(),
            p.dims(),
            "should be equal (after squeezing or expanding a last axis of size 1)",
        ))
    }
}

/// Axis `axis` of a rank-`rank` tensor, negative values counted from the end.
pub(crate) fn axis_index(loss: &str, axis: isize, rank: usize) -> Result<usize> {
    let r = rank as isize;
    if (-r..r).contains(&axis) {
        Ok(axis.rem_euclid(r.max(1)) as usize)
    } else {
        Err(Error::value(format!(
            "{loss}: axis {axis} is out of bounds for a tensor of rank {rank}"
        )))
    }
}

/// `op(a, b)` with NumPy broadcasting (the plain op when the shapes are equal).
pub(crate) fn bcast(
    a: &Tensor,
    b: &Tensor,
    op: fn(&Tensor, &Tensor) -> candle_core::Result<Tensor>,
    bop: fn(&Tensor, &Tensor) -> candle_core::Result<Tensor>,
) -> Result<Tensor> {
    Ok(if a.dims() == b.dims() {
        op(a, b)?
    } else {
        bop(a, b)?
    })
}

/// `a - b`, broadcast.
pub(crate) fn sub(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    bcast(a, b, |a, b| a - b, Tensor::broadcast_sub)
}

/// `a * b`, broadcast.
pub(crate) fn mul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    bcast(a, b, |a, b| a * b, Tensor::broadcast_mul)
}

/// `a / b`, broadcast.
pub(crate) fn div(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    bcast(a, b, |a, b| a / b, Tensor::broadcast_div)
}

/// `1 - x`.
pub(crate) fn one_minus(x: &Tensor) -> Result<Tensor> {
    Ok((x.neg()? + 1.0)?)
}

/// Mean over the last axis (a rank-1 tensor gives a scalar, as `ops.mean(x, axis=-1)`).
pub(crate) fn mean_last(x: &Tensor) -> Result<Tensor> {
    if x.rank() == 0 {
        return Ok(x.clone());
    }
    Ok(x.mean(x.rank() - 1)?)
}

/// Sum over the last axis.
pub(crate) fn sum_last(x: &Tensor) -> Result<Tensor> {
    if x.rank() == 0 {
        return Ok(x.clone());
    }
    Ok(x.sum(x.rank() - 1)?)
}

/// `softplus(x) = log(1 + exp(x))`, as `max(x, 0) + log(1 + exp(-|x|))`.
pub(crate) fn softplus(x: &Tensor) -> Result<Tensor> {
    Ok((x.relu()? + (x.abs()?.neg()?.exp()? + 1.0)?.log()?)?)
}

/// `log(softmax(z))` over axis `axis`.
pub(crate) fn log_softmax(z: &Tensor, axis: usize) -> Result<Tensor> {
    let shifted = z.broadcast_sub(&z.max_keepdim(axis)?.detach())?;
    let lse = shifted.exp()?.sum_keepdim(axis)?.log()?;
    Ok(shifted.broadcast_sub(&lse)?)
}

/// `softmax(z)` over axis `axis`.
pub(crate) fn softmax(z: &Tensor, axis: usize) -> Result<Tensor> {
    let e = z.broadcast_sub(&z.max_keepdim(axis)?.detach())?.exp()?;
    Ok(e.broadcast_div(&e.sum_keepdim(axis)?)?)
}

/// `logsumexp(where(mask, x, -inf), axis=1)` for rank-2 `x` and a 0/1 `mask` of its shape:
/// `-inf` for rows with no selected value, with a zero (not NaN) gradient there.
pub(crate) fn masked_logsumexp_rows(x: &Tensor, mask: &Tensor) -> Result<Tensor> {
    let m = mask.to_dtype(x.dtype())?;
    let sel = m.gt(0.0)?;
    // The row maxima over the selected values (0 for empty rows), held constant.
    let big = (one_minus(&m)? * 1e30)?;
    let any = m.max_keepdim(1)?;
    let shift = ((x - &big)?.max_keepdim(1)?.detach() * &any)?.broadcast_as(x.shape())?;
    // Unselected values are replaced by the shift before exp, so nothing overflows.
    let xs = sel.where_cond(x, &shift)?;
    let s = ((xs - &shift)?.exp()? * &m)?.sum_keepdim(1)?;
    let lse = (s.maximum(1e-30)?.log()? + shift.narrow(1, 0, 1)?)?;
    let neg_inf = lse.ones_like()?.affine(0.0, f64::NEG_INFINITY)?;
    Ok(any.gt(0.0)?.where_cond(&lse, &neg_inf)?.squeeze(1)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::test_tensor as t;
    use crate::ops;

    #[test]
    fn axes_shapes_and_logsumexp() {
        assert_eq!(axis_index("l", -1, 3).unwrap(), 2);
        assert_eq!(axis_index("l", 0, 3).unwrap(), 0);
        let e = axis_index("dice", 3, 3).unwrap_err().to_string();
        assert!(e.contains("dice: axis 3"), "{e}");
        let e = same_shape("bce", &t(&[0.; 6], &[2, 3]), &t(&[0.; 6], &[3, 2]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("bce: y_true shape (2, 3) and y_pred shape (3, 2)"),
            "{e}"
        );
        assert!(broadcastable("mse", &t(&[0.; 2], &[2, 1]), &t(&[0.; 6], &[2, 3])).is_ok());
        let x = t(&[1., 2., 3., 4.], &[2, 2]);
        let m = t(&[1., 1., 0., 0.], &[2, 2]);
        let v = ops::to_vec_f64(&masked_logsumexp_rows(&x, &m).unwrap()).unwrap();
        assert!((v[0] - (1f64.exp() + 2f64.exp()).ln()).abs() < 1e-5);
        assert_eq!(v[1], f64::NEG_INFINITY);
    }
}
