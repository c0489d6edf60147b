//! Small tensor helpers used across the library: creation, reading back, gathering rows,
//! masks and weight penalties.

use super::{contiguous, dispatch_float, storage, Float};
use crate::{Error, Result};
use candle_core::{CpuStorage, CustomOp1, CustomOp2, DType, Device, Layout, Shape, Tensor};

/// A tensor from a flat vector and its dimensions.
///
/// ```
/// let t = keras::ops::from_vec(vec![1f32, 2.0, 3.0, 4.0], &[2, 2])?;
/// assert_eq!(t.dims(), &[2, 2]);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn from_vec<T: candle_core::WithDType>(data: Vec<T>, dims: &[usize]) -> Result<Tensor> {
    let n: usize = dims.iter().product();
    if n != data.len() {
        return Err(Error::shape(format!(
            "cannot make a tensor of shape {dims:?} ({n} values) from {} values",
            data.len()
        )));
    }
    Ok(Tensor::from_vec(data, dims, &Device::Cpu)?)
}

/// The values of a tensor of any shape as a flat `Vec<f32>` (converting the dtype).
pub fn to_vec_f32(t: &Tensor) -> Result<Vec<f32>> {
    Ok(t.flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>()?)
}

/// The values of a tensor of any shape as a flat `Vec<f64>` (converting the dtype).
pub fn to_vec_f64(t: &Tensor) -> Result<Vec<f64>> {
    Ok(t.flatten_all()?.to_dtype(DType::F64)?.to_vec1::<f64>()?)
}

/// The single value of a one-element tensor, as f64.
pub fn scalar(t: &Tensor) -> Result<f64> {
    let v = to_vec_f64(t)?;
    match v.as_slice() {
        [x] => Ok(*x),
        _ => Err(Error::shape(format!(
            "expected a single value, got shape {:?}",
            t.dims()
        ))),
    }
}

/// Rows `idx` of `x` along axis 0, in that order (any dtype).
pub fn take_rows(x: &Tensor, idx: &[u32]) -> Result<Tensor> {
    let n = x.dim(0)?;
    if let Some(bad) = idx.iter().find(|&&i| i as usize >= n) {
        return Err(Error::shape(format!(
            "row index {bad} is out of range for {n} rows"
        )));
    }
    // A contiguous run (no shuffle) is a free view.
    if !idx.is_empty() && idx.windows(2).all(|w| w[1] == w[0] + 1) {
        return Ok(x.narrow(0, idx[0] as usize, idx.len())?);
    }
    if x.device().is_cpu() && x.is_contiguous() {
        return gather_host(x, idx);
    }
    if x.device().is_cpu() {
        // A strided view (a column slice, a transpose) is copied once, then gathered.
        return gather_host(&x.contiguous()?, idx);
    }
    let ids = Tensor::from_slice(idx, idx.len(), x.device())?;
    Ok(x.contiguous()?.index_select(&ids, 0)?)
}

/// Row gather by plain copies (candle's `index_select` goes element by element).
fn gather_host(x: &Tensor, idx: &[u32]) -> Result<Tensor> {
    fn rows<T: candle_core::WithDType>(x: &Tensor, idx: &[u32]) -> Result<Tensor> {
        let (s, l) = x.storage_and_layout();
        let candle_core::Storage::Cpu(cpu) = &*s else {
            return Err(Error::runtime("gather_host: not a CPU tensor"));
        };
        let data = crate::ops::contiguous::<T>("take_rows", cpu, l)?;
        let n = x.dim(0)?;
        let row = data.len() / n.max(1);
        let mut out = Vec::with_capacity(row * idx.len());
        for &i in idx {
            out.extend_from_slice(&data[i as usize * row..(i as usize + 1) * row]);
        }
        let mut dims = x.dims().to_vec();
        dims[0] = idx.len();
        Ok(Tensor::from_vec(out, dims, &Device::Cpu)?)
    }
    match x.dtype() {
        DType::F32 => rows::<f32>(x, idx),
        DType::F64 => rows::<f64>(x, idx),
        DType::U8 => rows::<u8>(x, idx),
        DType::U32 => rows::<u32>(x, idx),
        DType::I16 => rows::<i16>(x, idx),
        DType::I32 => rows::<i32>(x, idx),
        DType::I64 => rows::<i64>(x, idx),
        _ => {
            let ids = Tensor::from_slice(idx, idx.len(), x.device())?;
            Ok(x.index_select(&ids, 0)?)
        }
    }
}

/// `x` with the order of `axis` reversed (gradient included).
pub fn reverse(x: &Tensor, axis: usize) -> Result<Tensor> {
    let n = x.dim(axis)?;
    let idx: Vec<u32> = (0..n as u32).rev().collect();
    let ids = Tensor::from_vec(idx, n, x.device())?;
    Ok(x.contiguous()?.index_select(&ids, axis)?)
}

/// Converts to `dtype` unless it already is.
pub fn cast(x: &Tensor, dtype: DType) -> Result<Tensor> {
    if x.dtype() == dtype {
        Ok(x.clone())
    } else {
        Ok(x.to_dtype(dtype)?)
    }
}

/// `x * mask`, where `mask` is data (no gradient flows into it). Used by dropout.
pub fn mul_mask(x: &Tensor, mask: &Tensor) -> Result<Tensor> {
    if x.dims() != mask.dims() {
        return Err(Error::shape(format!(
            "mask shape {:?} != input shape {:?}",
            mask.dims(),
            x.dims()
        )));
    }
    if super::device::host_kernel_takes(x) && mask.dtype() == x.dtype() {
        Ok(x.contiguous()?
            .apply_op2(&mask.contiguous()?.detach(), MulMask)?)
    } else {
        Ok(x.mul(&mask.detach())?)
    }
}

struct MulMask;

impl CustomOp2 for MulMask {
    fn name(&self) -> &'static str {
        "mul_mask"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        fn run<T: Float>(
            s1: &CpuStorage,
            l1: &Layout,
            s2: &CpuStorage,
            l2: &Layout,
        ) -> candle_core::Result<CpuStorage> {
            let x = contiguous::<T>("mul_mask", s1, l1)?;
            let m = contiguous::<T>("mul_mask", s2, l2)?;
            Ok(storage(x.iter().zip(m).map(|(&a, &b)| a * b).collect()))
        }
        Ok((
            dispatch_float!("mul_mask", s1, run(s1, l1, s2, l2))?,
            l1.shape().clone(),
        ))
    }

    fn bwd(
        &self,
        _x: &Tensor,
        mask: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let g = grad.contiguous()?.apply_op2_no_bwd(mask, &MulMask)?;
        Ok((Some(g), None))
    }
}

/// `l1 * sum(|w|) + l2 * sum(w^2)` as a scalar with its gradient: a weight regularizer's
/// penalty.
pub fn l1_l2_penalty(w: &Tensor, l1: f64, l2: f64) -> Result<Tensor> {
    if w.device().is_cpu() {
        Ok(w.contiguous()?.apply_op1(Penalty { l1, l2 })?)
    } else {
        let mut p = w.zeros_like()?.sum_all()?;
        if l1 != 0.0 {
            p = (p + (w.abs()?.sum_all()? * l1)?)?;
        }
        if l2 != 0.0 {
            p = (p + (w.sqr()?.sum_all()? * l2)?)?;
        }
        Ok(p)
    }
}

struct Penalty {
    l1: f64,
    l2: f64,
}

impl CustomOp1 for Penalty {
    fn name(&self) -> &'static str {
        "l1_l2_penalty"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        fn run<T: Float>(
            p: &Penalty,
            s: &CpuStorage,
            l: &Layout,
        ) -> candle_core::Result<CpuStorage> {
            let w = contiguous::<T>("l1_l2_penalty", s, l)?;
            let (mut a, mut q) = (0.0f64, 0.0f64);
            for &v in w {
                let v = v.f64v();
                a += v.abs();
                q += v * v;
            }
            Ok(storage(vec![T::c(p.l1 * a + p.l2 * q)]))
        }
        Ok((
            dispatch_float!("l1_l2_penalty", s, run(self, s, l))?,
            Shape::from(()),
        ))
    }

    fn bwd(&self, w: &Tensor, _res: &Tensor, grad: &Tensor) -> candle_core::Result<Option<Tensor>> {
        let g = grad.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        let sign = w.ge(0.0)?.to_dtype(w.dtype())?.affine(2.0, -1.0)?;
        let mut d = w.affine(2.0 * self.l2 * g, 0.0)?;
        if self.l1 != 0.0 {
            d = (d + sign.affine(self.l1 * g, 0.0)?)?;
        }
        Ok(Some(d))
    }
}

/// A float32 mask of `x != value`, elementwise (1.0 where different): an `Embedding`'s
/// `mask_zero` mask.
pub fn not_equal_mask(x: &Tensor, value: f64) -> Result<Tensor> {
    let v = x.to_dtype(DType::F64)?;
    Ok(v.ne(value)?.to_dtype(DType::F32)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::check_gradient;

    #[test]
    fn penalty_value_and_gradient() {
        let w = Tensor::new(&[[0.5f64, -1.5, 2.0], [0.25, -0.75, 1.0]], &Device::Cpu).unwrap();
        let p = scalar(&l1_l2_penalty(&w, 0.01, 0.1).unwrap()).unwrap();
        let l1: f64 = 0.5 + 1.5 + 2.0 + 0.25 + 0.75 + 1.0;
        let l2: f64 = 0.25 + 2.25 + 4.0 + 0.0625 + 0.5625 + 1.0;
        assert!((p - (0.01 * l1 + 0.1 * l2)).abs() < 1e-12);
        check_gradient(&[w], |xs| l1_l2_penalty(&xs[0], 0.01, 0.1), 1e-6, 1e-6).unwrap();
    }

    #[test]
    fn mask_gradient_flows_only_into_x() {
        let x = Tensor::new(&[[0.5f64, -1.5], [2.0, 3.0], [1.0, 1.0]], &Device::Cpu).unwrap();
        let m = Tensor::new(&[[0f64, 2.0], [2.0, 0.0], [2.0, 2.0]], &Device::Cpu).unwrap();
        check_gradient(
            &[x],
            |xs| Ok(mul_mask(&xs[0], &m)?.sqr()?.sum_all()?),
            1e-6,
            1e-6,
        )
        .unwrap();
    }

    #[test]
    fn take_rows_checks_bounds_and_keeps_order() {
        let x = from_vec((0..6).map(|v| v as f32).collect(), &[3, 2]).unwrap();
        let t = take_rows(&x, &[2, 0]).unwrap();
        assert_eq!(
            t.to_vec2::<f32>().unwrap(),
            vec![vec![4.0, 5.0], vec![0.0, 1.0]]
        );
        assert!(take_rows(&x, &[3]).is_err());
        // A column slice is strided: gathered all the same.
        let col = x.narrow(1, 1, 1).unwrap();
        assert!(!col.is_contiguous());
        let t = take_rows(&col, &[2, 0]).unwrap();
        assert_eq!(t.to_vec2::<f32>().unwrap(), vec![vec![5.0], vec![1.0]]);
    }
}
