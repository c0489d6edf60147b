//! Sample weighting of metric values, as Keras's `reduce_to_samplewise_values`
//! (`keras/src/metrics/reduction_metrics.py`), on tensors (on the values' device): values and
//! weights aligned, values reduced down to the weights' rank, multiplied, then both reduced to
//! one value per sample.

use crate::losses::{aligned_dims, broadcast_shapes, incompatible_shapes};
use crate::ops::{DType, Tensor};
use crate::Result;

/// How values are reduced to one per sample (Keras's `reduce_fn`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reduce {
    /// `ops.mean` (`Mean` and the mean-style metrics).
    Mean,
    /// `ops.sum` (`Sum`).
    Sum,
}

/// `t` reduced over every axis from `axis` on (its shape without those axes); `t` itself when
/// it has no axis there.
pub(crate) fn reduce_from(t: &Tensor, axis: usize, how: Reduce) -> Result<Tensor> {
    let dims = t.dims();
    if axis >= dims.len() {
        return Ok(t.clone());
    }
    let mut flat: Vec<usize> = dims[..axis].to_vec();
    flat.push(dims[axis..].iter().product());
    let t = if flat.as_slice() == dims {
        t.clone()
    } else {
        t.reshape(flat)?
    };
    Ok(match how {
        Reduce::Mean => t.mean(axis)?,
        Reduce::Sum => t.sum(axis)?,
    })
}

fn reshaped(t: Tensor, dims: Vec<usize>) -> Result<Tensor> {
    Ok(if t.dims() == dims.as_slice() {
        t
    } else {
        t.reshape(dims)?
    })
}

/// Keras's `reduce_to_samplewise_values(values, sample_weight, reduce_fn, dtype)`: the
/// per-sample values (already multiplied by the weights) and, with weights, the per-sample
/// weights, both as `dtype` on the values' device.
pub(crate) fn samplewise(
    values: &Tensor,
    sample_weight: Option<&Tensor>,
    how: Reduce,
    dtype: DType,
) -> Result<(Tensor, Option<Tensor>)> {
    let mut values = values.to_dtype(dtype)?;
    let mut weight = None;
    if let Some(w) = sample_weight {
        let w = w.to_dtype(dtype)?.to_device(values.device())?.detach();
        // Keras's `squeeze_or_expand_to_same_rank` on the shapes.
        let (vd, wd) = aligned_dims(values.dims(), w.dims(), true);
        values = reshaped(values, vd)?;
        let w = reshaped(w, wd)?;
        let weight_ndim = w.rank();
        if values.rank() > weight_ndim {
            values = reduce_from(&values, weight_ndim, how)?;
        }
        // `ops.broadcast_to(sample_weight, values.shape)`: to that shape itself, never to a
        // larger one.
        if broadcast_shapes(w.dims(), values.dims())? != values.dims() {
            return Err(incompatible_shapes(w.dims(), values.dims()));
        }
        let w = if w.dims() == values.dims() {
            w
        } else {
            w.broadcast_as(values.dims())?
        };
        values = (values * &w)?;
        weight = Some(if weight_ndim > 1 {
            reduce_from(&w, 1, how)?
        } else {
            w
        });
    }
    if values.rank() > 1 {
        values = reduce_from(&values, 1, how)?;
    }
    Ok((values, weight))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::test_tensor as t;
    use crate::ops;

    fn run(v: &Tensor, w: Option<&Tensor>, how: Reduce) -> (Vec<f32>, Option<Vec<f32>>) {
        let (s, sw) = samplewise(v, w, how, DType::F32).unwrap();
        (
            ops::to_vec_f32(&s).unwrap(),
            sw.map(|w| ops::to_vec_f32(&w).unwrap()),
        )
    }

    #[test]
    fn weights_of_each_shape() {
        let v = t(&[1., 2., 3., 4., 5., 6.], &[2, 3]);
        let m = Reduce::Mean;
        // (batch,): values averaged per sample first.
        let (s, sw) = run(&v, Some(&t(&[1., 3.], &[2])), m);
        assert_eq!((s, sw.unwrap()), (vec![2.0, 15.0], vec![1.0, 3.0]));
        // (batch, 1): broadcast over the steps.
        let (s, sw) = run(&v, Some(&t(&[1., 3.], &[2, 1])), m);
        assert_eq!((s, sw.unwrap()), (vec![2.0, 15.0], vec![1.0, 3.0]));
        // (batch, steps): multiplied, then both averaged.
        let w = t(&[1., 0., 0., 0., 0., 3.], &[2, 3]);
        let (s, sw) = run(&v, Some(&w), m);
        assert!((s[0] - 1.0 / 3.0).abs() < 1e-7 && s[1] == 6.0, "{s:?}");
        assert_eq!(sw.unwrap()[1], 1.0);
        // Without weights: per-sample means, or sums.
        assert_eq!(run(&v, None, m), (vec![2.0, 5.0], None));
        assert_eq!(run(&v, None, Reduce::Sum), (vec![6.0, 15.0], None));
        // A scalar weight weighs the mean of everything.
        let (s, sw) = run(&v, Some(&t(&[2.], &[])), m);
        assert_eq!((s, sw.unwrap()), (vec![7.0], vec![2.0]));
        let bad = t(&[1., 2.], &[2]);
        assert!(samplewise(&bad, Some(&t(&[1., 2., 3.], &[3])), m, DType::F32).is_err());
    }

    #[test]
    fn broadcast_only_grows() {
        // A weight per sample against a scalar value (rank-1 batch averaged away): refused,
        // as Keras ("Cannot broadcast to shape with fewer dimensions").
        let e = samplewise(
            &t(&[1.], &[]),
            Some(&t(&[1., 2.], &[2])),
            Reduce::Mean,
            DType::F32,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("shapes=[(2,), ()]"), "{e}");
        let e = samplewise(
            &t(&[1., 2., 3.], &[3, 1]),
            Some(&t(&[1., 2.], &[2])),
            Reduce::Mean,
            DType::F32,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("shapes=[(2, 1), (3, 1)]"), "{e}");
    }
}
