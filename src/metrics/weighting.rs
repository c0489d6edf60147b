//! Sample weighting of metric values, as Keras's `reduce_to_samplewise_values`
//! (`keras/src/metrics/reduction_metrics.py`): values and weights aligned, values averaged
//! down to the weights' rank, multiplied, then both averaged to one value per sample.

use crate::losses::{broadcast_shapes, incompatible_shapes};
use crate::ops::{self, Tensor};
use crate::Result;

/// Values with their shape (row-major).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Values {
    pub data: Vec<f64>,
    pub dims: Vec<usize>,
}

impl Values {
    pub fn new(data: Vec<f64>, dims: Vec<usize>) -> Self {
        Values { data, dims }
    }

    pub fn of(t: &Tensor) -> Result<Self> {
        Ok(Values::new(ops::to_vec_f64(t)?, t.dims().to_vec()))
    }

    /// Mean over every axis from `axis` on (row-major, so over contiguous chunks).
    pub(crate) fn mean_from(&self, axis: usize) -> Values {
        if axis >= self.dims.len() {
            return self.clone();
        }
        let chunk: usize = self.dims[axis..].iter().product();
        let data = if chunk == 0 {
            vec![f64::NAN; self.dims[..axis].iter().product()]
        } else {
            self.data
                .chunks_exact(chunk)
                .map(|c| c.iter().sum::<f64>() / chunk as f64)
                .collect()
        };
        Values::new(data, self.dims[..axis].to_vec())
    }

    /// NumPy's `broadcast_to(self, dims)`.
    fn broadcast_to(&self, dims: &[usize]) -> Result<Values> {
        // The shapes broadcast, and to `dims` itself (not to a larger shape).
        if broadcast_shapes(&self.dims, dims)? != dims {
            return Err(incompatible_shapes(&self.dims, dims));
        }
        let off = dims.len() - self.dims.len();
        if self.dims == dims {
            return Ok(self.clone());
        }
        let n: usize = dims.iter().product();
        let mut data = Vec::with_capacity(n);
        for flat in 0..n {
            // Index of `flat` in `dims`, mapped to the source (size-1 axes fixed at 0).
            let (mut rem, mut src, mut stride) = (flat, 0, 1);
            for ax in (0..dims.len()).rev() {
                let i = rem % dims[ax];
                rem /= dims[ax];
                if ax >= off {
                    let d = self.dims[ax - off];
                    if d != 1 {
                        src += i * stride;
                    }
                    stride *= d;
                }
            }
            data.push(self.data[src]);
        }
        Ok(Values::new(data, dims.to_vec()))
    }
}

/// Keras's `reduce_to_samplewise_values` with the mean as `reduce_fn`: per-sample values and,
/// with weights, the per-sample weights (values already multiplied by them).
pub(crate) fn samplewise(
    values: Values,
    sample_weight: Option<&Tensor>,
) -> Result<(Values, Option<Values>)> {
    let mut values = values;
    let mut weight = None;
    if let Some(w) = sample_weight {
        let w = Values::of(w)?;
        // Keras's `squeeze_or_expand_to_same_rank` on the shapes.
        let (vd, wd) = crate::losses::aligned_dims(&values.dims, &w.dims, true);
        values.dims = vd;
        let mut w = Values::new(w.data, wd);
        let weight_ndim = w.dims.len();
        if values.dims.len() > weight_ndim {
            values = values.mean_from(weight_ndim);
        }
        let wb = w.broadcast_to(&values.dims)?;
        for (v, x) in values.data.iter_mut().zip(&wb.data) {
            *v *= x;
        }
        w = wb;
        if weight_ndim > 1 {
            w = w.mean_from(1);
        }
        weight = Some(w);
    }
    if values.dims.len() > 1 {
        values = values.mean_from(1);
    }
    Ok((values, weight))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::test_tensor as w;

    #[test]
    fn weights_of_each_shape() {
        let v = Values::new(vec![1., 2., 3., 4., 5., 6.], vec![2, 3]);
        // (batch,): values averaged per sample first.
        let (s, sw) = samplewise(v.clone(), Some(&w(&[1., 3.], &[2]))).unwrap();
        assert_eq!(s.data, vec![2.0, 15.0]);
        assert_eq!(sw.unwrap().data, vec![1.0, 3.0]);
        // (batch, 1): broadcast over the steps.
        let (s, sw) = samplewise(v.clone(), Some(&w(&[1., 3.], &[2, 1]))).unwrap();
        assert_eq!(s.data, vec![2.0, 15.0]);
        assert_eq!(sw.unwrap().data, vec![1.0, 3.0]);
        // (batch, steps): multiplied, then both averaged.
        let (s, sw) = samplewise(v.clone(), Some(&w(&[1., 0., 0., 0., 0., 3.], &[2, 3]))).unwrap();
        assert_eq!(s.data, vec![1.0 / 3.0, 6.0]);
        assert_eq!(sw.unwrap().data, vec![1.0 / 3.0, 1.0]);
        // Without weights: per-sample means.
        let (s, sw) = samplewise(v, None).unwrap();
        assert_eq!((s.data, sw), (vec![2.0, 5.0], None));
        let bad = Values::new(vec![1., 2.], vec![2]);
        assert!(samplewise(bad, Some(&w(&[1., 2., 3.], &[3]))).is_err());
    }

    #[test]
    fn broadcast_to_only_grows() {
        let col = Values::new(vec![1., 2.], vec![2, 1]);
        assert_eq!(
            col.broadcast_to(&[2, 3]).unwrap().data,
            vec![1., 1., 1., 2., 2., 2.]
        );
        let row = Values::new(vec![1., 2., 3.], vec![3]);
        assert_eq!(row.broadcast_to(&[2, 3]).unwrap().dims, vec![2, 3]);
        // Shapes that broadcast, but to a larger shape than asked, are refused too.
        let e = row.broadcast_to(&[1]).unwrap_err().to_string();
        assert!(e.contains("shapes=[(3,), (1,)]"), "{e}");
        let e = col.broadcast_to(&[2]).unwrap_err().to_string();
        assert!(e.contains("shapes=[(2, 1), (2,)]"), "{e}");
        assert!(col.broadcast_to(&[3, 3]).is_err());
    }
}
