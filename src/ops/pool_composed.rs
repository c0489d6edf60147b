//! Pooling with candle's ops, for devices our CPU kernel does not run on (CUDA): each of the
//! window's `kh * kw` offsets is a strided view of the padded input (a narrow and a reshape),
//! combined by `maximum` or a sum, so values and gradients come from candle's kernels and
//! autodiff. Keras's rules as in `pool.rs`: `same` padding never wins a maximum and is not
//! counted by an average. The tests compare the two on the CPU.

use super::conv::Padding;
use super::pool::{Geom, PoolKind};
use crate::Result;
use candle_core::Tensor;

/// Rows `off, off + s, ..., off + s * (n - 1)` of axis `axis` (which has at least
/// `off + s * (n - 1) + 1` entries).
pub(crate) fn strided(x: &Tensor, axis: usize, off: usize, s: usize, n: usize) -> Result<Tensor> {
    let have = x.dim(axis)?;
    // Zeros past the end make the length a multiple of `s`; none of them is selected.
    let x = match (off + s * n).checked_sub(have) {
        Some(short) if short > 0 => x.pad_with_zeros(axis, 0, short)?,
        _ => x.clone(),
    };
    let x = x.narrow(axis, off, s * n)?;
    if s == 1 {
        return Ok(x);
    }
    let mut dims = x.dims().to_vec();
    dims[axis] = n;
    dims.insert(axis + 1, s);
    Ok(x.reshape(dims)?.narrow(axis + 1, 0, 1)?.squeeze(axis + 1)?)
}

/// `x` padded on axis `axis` with `before` and `after` entries of `value`.
fn pad(x: &Tensor, axis: usize, before: usize, after: usize, value: f64) -> Result<Tensor> {
    let mut parts = vec![];
    let mut dims = x.dims().to_vec();
    if before > 0 {
        dims[axis] = before;
        parts.push(Tensor::full(value, dims.as_slice(), x.device())?.to_dtype(x.dtype())?);
    }
    parts.push(x.clone());
    if after > 0 {
        dims[axis] = after;
        parts.push(Tensor::full(value, dims.as_slice(), x.device())?.to_dtype(x.dtype())?);
    }
    Ok(Tensor::cat(&parts, axis)?)
}

/// Windows of `pool` with `strides` over NHWC `x`, max or average (Keras's `same` rule).
pub(crate) fn pool2d(
    x: &Tensor,
    kind: PoolKind,
    pool: (usize, usize),
    strides: (usize, usize),
    padding: Padding,
) -> Result<Tensor> {
    let (n, h, w, c) = x.dims4()?;
    let g = Geom::new([n, h, w, c], pool, strides, padding)?;
    let Geom {
        ph: kh,
        pw: kw,
        sh,
        sw,
        pt,
        pl,
        oh,
        ow,
        ..
    } = g;
    // Enough rows and columns that every offset's strided view fits.
    let rows = (kh - 1 + sh * oh).max(pt + h);
    let cols = (kw - 1 + sw * ow).max(pl + w);
    let fill = match kind {
        PoolKind::Max => f64::NEG_INFINITY,
        PoolKind::Avg => 0.0,
    };
    let padded = |t: &Tensor, v: f64| -> Result<Tensor> {
        let (th, tw) = (t.dim(1)?, t.dim(2)?);
        let t = pad(t, 1, pt, rows - pt - th, v)?;
        pad(&t, 2, pl, cols - pl - tw, v)
    };
    let windows = |t: &Tensor| -> Result<Vec<Tensor>> {
        let mut out = Vec::with_capacity(kh * kw);
        for di in 0..kh {
            let r = strided(t, 1, di, sh, oh)?;
            for dj in 0..kw {
                out.push(strided(&r, 2, dj, sw, ow)?);
            }
        }
        Ok(out)
    };
    let xp = padded(x, fill)?;
    let parts = windows(&xp)?;
    let mut acc = parts[0].clone();
    for p in &parts[1..] {
        acc = match kind {
            PoolKind::Max => acc.maximum(p)?,
            PoolKind::Avg => (acc + p)?,
        };
    }
    if kind == PoolKind::Avg {
        // Divide by the real inputs of each window: the same sums over ones.
        let ones = Tensor::ones((1, h, w, 1), x.dtype(), x.device())?;
        let counts = windows(&padded(&ones, 0.0)?)?.into_iter().try_fold(
            Tensor::zeros((1, oh, ow, 1), x.dtype(), x.device())?,
            |a, t| a + t,
        )?;
        acc = acc.broadcast_div(&counts)?;
    }
    debug_assert_eq!(acc.dims(), &[n, oh, ow, c]);
    Ok(acc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Var;

    fn value_grad(x: &Tensor, f: impl Fn(&Tensor) -> Result<Tensor>) -> (Vec<f64>, Vec<f64>) {
        let v = Var::from_tensor(x).unwrap();
        let y = f(v.as_tensor()).unwrap();
        // A weighting that makes every output's gradient different.
        let r = Tensor::arange(0f64, y.elem_count() as f64, y.device())
            .unwrap()
            .reshape(y.dims())
            .unwrap();
        let g = (&y * r).unwrap().sum_all().unwrap().backward().unwrap();
        let flat = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f64>().unwrap();
        (flat(&y), flat(g.get(v.as_tensor()).unwrap()))
    }

    #[test]
    fn every_padding_and_stride_equals_the_cpu_kernel() {
        crate::utils::set_random_seed(9);
        let x = crate::random::normal(&[2, 7, 6, 3])
            .unwrap()
            .to_dtype(candle_core::DType::F64)
            .unwrap();
        for kind in [PoolKind::Max, PoolKind::Avg] {
            for padding in [Padding::Valid, Padding::Same] {
                for (pool, strides) in [
                    ((2, 2), (2, 2)),
                    ((3, 3), (2, 2)),
                    ((3, 2), (1, 2)),
                    ((2, 3), (3, 1)),
                ] {
                    let what = format!("{kind:?} {padding:?} pool {pool:?} strides {strides:?}");
                    let a = value_grad(&x, |x| pool2d(x, kind, pool, strides, padding));
                    let b = value_grad(&x, |x| {
                        super::super::pool2d(x, kind, pool, strides, padding)
                    });
                    assert_eq!(a.0.len(), b.0.len(), "{what}");
                    for (p, q) in a.0.iter().zip(&b.0).chain(a.1.iter().zip(&b.1)) {
                        assert!((p - q).abs() < 1e-12, "{what}: {p} vs {q}");
                    }
                }
            }
        }
    }
}
