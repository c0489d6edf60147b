//! Elementwise combinations with broadcasting, concatenation and batched dot products: what
//! the merging layers compute. These are compositions of candle ops, whose gradients are
//! checked below.

use crate::{Error, Result};
use candle_core::{Tensor, D};

/// How [`elementwise`] combines its inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Merge {
    /// Sum.
    Add,
    /// First minus second.
    Subtract,
    /// Product.
    Multiply,
    /// Mean.
    Average,
    /// Elementwise maximum.
    Maximum,
    /// Elementwise minimum.
    Minimum,
}

/// The broadcast shape of two shapes (numpy rules, aligned at the last axis), or None.
pub fn broadcast_dims(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let x = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let y = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        out[i] = match (x, y) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

/// Combines tensors elementwise, broadcasting shapes as numpy does.
///
/// ```
/// use keras::ops::{self, Merge, Tensor, Device};
/// let a = Tensor::new(&[[1f32, 2.0], [3.0, 4.0]], &Device::Cpu)?;
/// let b = Tensor::new(&[[10f32, 20.0]], &Device::Cpu)?;
/// let s = ops::elementwise(&[a, b], Merge::Add)?;
/// assert_eq!(s.to_vec2::<f32>()?, vec![vec![11.0, 22.0], vec![13.0, 24.0]]);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn elementwise(xs: &[Tensor], how: Merge) -> Result<Tensor> {
    let first = xs
        .first()
        .ok_or_else(|| Error::value("elementwise: no inputs"))?;
    if how == Merge::Subtract && xs.len() != 2 {
        return Err(Error::value(format!(
            "Subtract needs exactly 2 inputs, got {}",
            xs.len()
        )));
    }
    let mut acc = first.clone();
    for x in &xs[1..] {
        if broadcast_dims(acc.dims(), x.dims()).is_none() {
            return Err(Error::shape(format!(
                "Inputs have incompatible shapes. Received shapes {} and {}",
                super::shape_str(acc.dims()),
                super::shape_str(x.dims())
            )));
        }
        acc = match how {
            Merge::Add | Merge::Average => acc.broadcast_add(x)?,
            Merge::Subtract => acc.broadcast_sub(x)?,
            Merge::Multiply => acc.broadcast_mul(x)?,
            Merge::Maximum => acc.broadcast_maximum(x)?,
            Merge::Minimum => acc.broadcast_minimum(x)?,
        };
    }
    if how == Merge::Average {
        acc = (acc / xs.len() as f64)?;
    }
    Ok(acc)
}

/// Resolves a possibly negative axis for a tensor of `rank` dimensions.
pub fn normalize_axis(axis: isize, rank: usize) -> Result<usize> {
    let a = if axis < 0 { axis + rank as isize } else { axis };
    if a < 0 || a >= rank as isize {
        return Err(Error::value(format!(
            "axis {axis} is out of bounds for a tensor of rank {rank}"
        )));
    }
    Ok(a as usize)
}

/// `x / sqrt(max(sum(x^2, axis), 1e-12))`, as Keras's `l2_normalize`.
pub fn l2_normalize(x: &Tensor, axis: usize) -> Result<Tensor> {
    let sq = x.sqr()?.sum_keepdim(axis)?;
    Ok(x.broadcast_div(&sq.maximum(1e-12)?.sqrt()?)?)
}

/// Batched dot product of two tensors of shape `(batch, ...)` over `axes` (each input's axis,
/// batch axis excluded from the choices), as Keras's `Dot` layer (`batch_dot`).
pub fn batch_dot(a: &Tensor, b: &Tensor, axes: (usize, usize)) -> Result<Tensor> {
    let (ra, rb) = (a.rank(), b.rank());
    if ra < 2 || rb < 2 || ra > 3 || rb > 3 {
        return Err(Error::shape(format!(
            "batch_dot supports inputs of rank 2 or 3, got shapes {:?} and {:?}",
            a.dims(),
            b.dims()
        )));
    }
    let (aa, ab) = axes;
    if aa == 0 || ab == 0 || aa >= ra || ab >= rb {
        return Err(Error::value(format!(
            "Dot: invalid axes {axes:?} for shapes {:?} and {:?}",
            a.dims(),
            b.dims()
        )));
    }
    if a.dims()[aa] != b.dims()[ab] {
        return Err(Error::shape(format!(
            "Incompatible input shapes: axis values {} (at axis {aa}) != {} (at axis {ab}). Full input shapes: {:?}, {:?}",
            a.dims()[aa],
            b.dims()[ab],
            a.dims(),
            b.dims()
        )));
    }
    // Bring the contracted axis of `a` last and that of `b` first (after the batch axis),
    // then a batched matmul.
    let a3 = if ra == 2 {
        a.unsqueeze(1)?
    } else if aa == 2 {
        a.clone()
    } else {
        a.transpose(1, 2)?
    };
    let b3 = if rb == 2 {
        b.unsqueeze(2)?
    } else if ab == 1 {
        b.clone()
    } else {
        b.transpose(1, 2)?
    };
    let out = a3.contiguous()?.matmul(&b3.contiguous()?)?;
    // Drop the unit axes that rank-2 inputs added.
    let mut out = out;
    if rb == 2 {
        out = out.squeeze(D::Minus1)?;
    }
    if ra == 2 {
        out = out.squeeze(1)?;
    }
    if out.rank() == 1 {
        out = out.unsqueeze(1)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::check_gradient;
    use candle_core::Device;

    fn t(dims: &[usize], a: f64) -> Tensor {
        let n: usize = dims.iter().product();
        Tensor::from_vec(
            (0..n)
                .map(|i| ((i as f64) * a + 0.3).sin())
                .collect::<Vec<_>>(),
            dims,
            &Device::Cpu,
        )
        .unwrap()
    }

    #[test]
    fn broadcasting_rules() {
        assert_eq!(broadcast_dims(&[4, 3], &[1, 3]), Some(vec![4, 3]));
        assert_eq!(broadcast_dims(&[4, 3], &[3]), Some(vec![4, 3]));
        assert_eq!(broadcast_dims(&[4, 3], &[4, 2]), None);
        let e = elementwise(&[t(&[2, 3], 0.1), t(&[2, 4], 0.2)], Merge::Add)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "Inputs have incompatible shapes. Received shapes (2, 3) and (2, 4)"
        );
    }

    #[test]
    fn merge_gradients() {
        for how in [
            Merge::Add,
            Merge::Subtract,
            Merge::Multiply,
            Merge::Average,
            Merge::Maximum,
            Merge::Minimum,
        ] {
            let w = t(&[3, 4], 0.77);
            check_gradient(
                &[t(&[3, 4], 0.37), t(&[1, 4], 1.13)],
                |v| Ok(elementwise(v, how)?.mul(&w)?.sum_all()?),
                1e-6,
                1e-5,
            )
            .unwrap_or_else(|e| panic!("{how:?}: {e}"));
        }
    }

    #[test]
    fn concat_and_dot_gradients() {
        let w = t(&[3, 7], 0.5);
        check_gradient(
            &[t(&[3, 4], 0.3), t(&[3, 3], 0.9)],
            |v| Ok(crate::ops::concatenate(v, -1)?.mul(&w)?.sum_all()?),
            1e-6,
            1e-6,
        )
        .unwrap();
        let a = t(&[3, 4], 0.3);
        let b = t(&[3, 4], 0.7);
        let d = batch_dot(&a, &b, (1, 1)).unwrap();
        assert_eq!(d.dims(), &[3, 1]);
        let want: f64 = (0..4)
            .map(|j| a.to_vec2::<f64>().unwrap()[1][j] * b.to_vec2::<f64>().unwrap()[1][j])
            .sum();
        assert!((d.to_vec2::<f64>().unwrap()[1][0] - want).abs() < 1e-12);
        let r = t(&[3, 1], 0.4);
        check_gradient(
            &[a.clone(), b.clone()],
            |v| Ok(batch_dot(&v[0], &v[1], (1, 1))?.mul(&r)?.sum_all()?),
            1e-6,
            1e-6,
        )
        .unwrap();
        check_gradient(
            &[a],
            |v| Ok(l2_normalize(&v[0], 1)?.mul(&t(&[3, 4], 0.8))?.sum_all()?),
            1e-6,
            1e-6,
        )
        .unwrap();
        let a3 = t(&[2, 3, 4], 0.3);
        let b3 = t(&[2, 5, 4], 0.6);
        assert_eq!(batch_dot(&a3, &b3, (2, 2)).unwrap().dims(), &[2, 3, 5]);
        let r3 = t(&[2, 3, 5], 0.2);
        check_gradient(
            &[a3, b3],
            |v| Ok(batch_dot(&v[0], &v[1], (2, 2))?.mul(&r3)?.sum_all()?),
            1e-6,
            1e-6,
        )
        .unwrap();
    }
}
