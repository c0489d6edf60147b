//! `keras.utils.to_categorical` and `keras.utils.normalize` (Keras's `numerical_utils.py`).

use crate::ops::{self, DType, Tensor};
use crate::{Error, Result};

/// One-hot encodes integer class labels, as `keras.utils.to_categorical`: shape `(..., )`
/// becomes `(..., num_classes)` float32; a trailing axis of size 1 is dropped first
/// (`(n, 1)` gives `(n, num_classes)`). `num_classes` `None` (or `Some(0)`, as Keras's falsy
/// test) infers `max(x) + 1`.
///
/// Keras returns float64 for NumPy input; keras-rs returns float32, the library's float type.
/// Labels must be non-negative integers below `num_classes` (NumPy would wrap a negative label
/// around; keras-rs refuses it).
///
/// ```
/// use keras::prelude::*;
/// let y = Tensor::new(&[0u8, 2, 1], &Device::Cpu)?;
/// let oh = keras::utils::to_categorical(&y, Some(3))?;
/// assert_eq!(oh.to_vec2::<f32>()?, vec![vec![1., 0., 0.], vec![0., 0., 1.], vec![0., 1., 0.]]);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn to_categorical(x: &Tensor, num_classes: Option<usize>) -> Result<Tensor> {
    let mut dims = x.dims().to_vec();
    if dims.last() == Some(&1) && dims.len() > 1 {
        dims.pop();
    }
    let labels = ops::to_vec_f64(x)?;
    if let Some(bad) = labels.iter().find(|v| **v < 0.0 || v.fract() != 0.0) {
        return Err(Error::value(format!(
            "to_categorical: labels must be non-negative integers; received {bad}"
        )));
    }
    let max = labels.iter().fold(0.0f64, |m, &v| m.max(v)) as usize;
    let n = match num_classes {
        Some(n) if n > 0 => n,
        _ => max + 1,
    };
    if !labels.is_empty() && max >= n {
        return Err(Error::value(format!(
            "to_categorical: label {max} is out of range for num_classes={n}"
        )));
    }
    let mut out = vec![0f32; labels.len() * n];
    for (i, &l) in labels.iter().enumerate() {
        out[i * n + l as usize] = 1.0;
    }
    dims.push(n);
    ops::from_vec(out, &dims)
}

/// Normalizes `x` along `axis` (negative counts from the end) by its `order`-norm, as
/// `keras.utils.normalize(x, axis=-1, order=2)` does for NumPy input
/// (`x / np.linalg.norm(x, order, axis)`, a zero norm replaced by 1).
///
/// `order` is NumPy's vector norm order: `2.0` Euclidean, `1.0` sum of magnitudes,
/// `f64::INFINITY` / `f64::NEG_INFINITY` largest / smallest magnitude, `0.0` the count of
/// non-zero entries, any other `p` `(sum |x|^p)^(1/p)`. The result keeps a float input's
/// dtype; integer input gives float32. Computed in float64.
///
/// ```
/// use keras::prelude::*;
/// let x = Tensor::new(&[[3f32, 4.0], [0.0, 0.0]], &Device::Cpu)?;
/// let y = keras::utils::normalize(&x, -1, 2.0)?;
/// assert_eq!(y.to_vec2::<f32>()?, vec![vec![0.6, 0.8], vec![0.0, 0.0]]);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn normalize(x: &Tensor, axis: isize, order: f64) -> Result<Tensor> {
    let dims = x.dims().to_vec();
    let rank = dims.len().max(1) as isize;
    let ax = if axis < 0 { axis + rank } else { axis };
    if ax < 0 || ax >= rank {
        return Err(Error::value(format!(
            "normalize: axis {axis} is out of bounds for an array of dimension {}",
            dims.len()
        )));
    }
    if order.is_nan() {
        return Err(Error::value(format!(
            "normalize: invalid norm order {order}"
        )));
    }
    let ax = ax as usize;
    let v = ops::to_vec_f64(x)?;
    let (len, inner) = if dims.is_empty() {
        (1, 1)
    } else {
        (dims[ax], dims[ax + 1..].iter().product::<usize>())
    };
    let outer = v.len().checked_div(len * inner).unwrap_or(0);
    let mut out = v.clone();
    for o in 0..outer {
        for i in 0..inner {
            let at = |k: usize| o * len * inner + k * inner + i;
            let mut norm = vector_norm((0..len).map(|k| v[at(k)]), order);
            if norm == 0.0 {
                norm = 1.0;
            }
            for k in 0..len {
                out[at(k)] = v[at(k)] / norm;
            }
        }
    }
    let dtype = if x.dtype().is_float() {
        x.dtype()
    } else {
        DType::F32
    };
    Ok(ops::from_vec(out, &dims)?.to_dtype(dtype)?)
}

/// NumPy's `np.linalg.norm(v, ord)` of one vector.
fn vector_norm(v: impl Iterator<Item = f64>, order: f64) -> f64 {
    let abs = v.map(f64::abs);
    if order == f64::INFINITY {
        abs.fold(f64::NEG_INFINITY, f64::max)
    } else if order == f64::NEG_INFINITY {
        abs.fold(f64::INFINITY, f64::min)
    } else if order == 0.0 {
        abs.filter(|a| *a != 0.0).count() as f64
    } else if order == 1.0 {
        abs.sum()
    } else if order == 2.0 {
        abs.map(|a| a * a).sum::<f64>().sqrt()
    } else {
        abs.map(|a| a.powf(order)).sum::<f64>().powf(1.0 / order)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Device;

    #[test]
    fn to_categorical_shapes_and_errors() {
        let y = Tensor::new(&[[1u32], [0], [3]], &Device::Cpu).unwrap();
        let oh = to_categorical(&y, None).unwrap();
        assert_eq!(oh.dims(), &[3, 4]);
        assert_eq!(oh.to_vec2::<f32>().unwrap()[2], vec![0., 0., 0., 1.]);
        // Some(0) is Keras's falsy num_classes: inferred.
        assert_eq!(to_categorical(&y, Some(0)).unwrap().dims(), &[3, 4]);
        let y2 = Tensor::new(&[[1u32, 2], [0, 0]], &Device::Cpu).unwrap();
        assert_eq!(to_categorical(&y2, Some(5)).unwrap().dims(), &[2, 2, 5]);
        assert!(to_categorical(&y, Some(2)).is_err());
        let neg = Tensor::new(&[-1i64], &Device::Cpu).unwrap();
        assert!(to_categorical(&neg, None).is_err());
    }

    #[test]
    fn normalize_orders_and_axes() {
        let x = Tensor::new(&[[1f32, -2.0, 2.0], [0.0, 0.0, 0.0]], &Device::Cpu).unwrap();
        let l1 = normalize(&x, 1, 1.0).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(l1[0], vec![0.2, -0.4, 0.4]);
        assert_eq!(l1[1], vec![0.0, 0.0, 0.0]);
        let inf = normalize(&x, -1, f64::INFINITY).unwrap();
        assert_eq!(inf.to_vec2::<f32>().unwrap()[0], vec![0.5, -1.0, 1.0]);
        let cols = normalize(&x, 0, 2.0).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(cols[0], vec![1.0, -1.0, 1.0]);
        assert!(normalize(&x, 2, 2.0).is_err());
        assert!(normalize(&x, -3, 2.0).is_err());
        let ints = Tensor::new(&[3i64, 4], &Device::Cpu).unwrap();
        assert_eq!(normalize(&ints, -1, 2.0).unwrap().dtype(), DType::F32);
    }
}
