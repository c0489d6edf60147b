//! Row lookup (`Embedding`): gathers rows of a table by integer ids; the backward adds each
//! gradient row into its table row.

use super::{dispatch_float, storage, Float, GradSink};
use crate::{Error, Result};
use candle_core::{CpuStorage, CustomOp2, DType, Layout, Shape, Tensor};

/// The ids of an integer tensor as `usize`, checked against `rows`.
pub fn ids(t: &Tensor, rows: usize) -> Result<Vec<usize>> {
    let flat = t.flatten_all()?;
    let v: Vec<i64> = match t.dtype() {
        DType::U8 => flat.to_vec1::<u8>()?.into_iter().map(i64::from).collect(),
        DType::U32 => flat.to_vec1::<u32>()?.into_iter().map(i64::from).collect(),
        DType::I16 => flat.to_vec1::<i16>()?.into_iter().map(i64::from).collect(),
        DType::I32 => flat.to_vec1::<i32>()?.into_iter().map(i64::from).collect(),
        DType::I64 => flat.to_vec1::<i64>()?,
        _ => super::to_vec_f64(&flat)?
            .into_iter()
            .map(|v| v as i64)
            .collect(),
    };
    v.into_iter()
        .map(|i| {
            if i < 0 || i as usize >= rows {
                Err(Error::value(format!(
                    "index {i} is out of range [0, {rows})"
                )))
            } else {
                Ok(i as usize)
            }
        })
        .collect()
}

/// `table[ids]`: shape `ids.dims() + [table.dims()[1]]`. With sinks on, the table's gradient
/// goes to `sink`.
pub fn gather_rows(table: &Tensor, ids_t: &Tensor, sink: Option<&GradSink>) -> Result<Tensor> {
    let (rows, dim) = table.dims2()?;
    let idx = ids(ids_t, rows)?;
    let mut out_dims = ids_t.dims().to_vec();
    out_dims.push(dim);
    let ids_u32 = Tensor::from_vec(
        idx.iter().map(|&i| i as u32).collect::<Vec<_>>(),
        idx.len(),
        table.device(),
    )?;
    if !super::device::host_kernel_takes(table) {
        // Other devices and half types (a mixed-precision table): candle's gather.
        return Ok(table.index_select(&ids_u32, 0)?.reshape(out_dims)?);
    }
    let sink = sink
        .filter(|_| super::sinks_enabled() && table.is_variable())
        .cloned();
    let y = table.contiguous()?.apply_op2(&ids_u32, Gather { sink })?;
    Ok(y.reshape(out_dims)?)
}

struct Gather {
    sink: Option<GradSink>,
}

impl CustomOp2 for Gather {
    fn name(&self) -> &'static str {
        "gather_rows"
    }

    fn cpu_fwd(
        &self,
        st: &CpuStorage,
        lt: &Layout,
        si: &CpuStorage,
        li: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (_, dim) = lt.shape().dims2()?;
        let ids = super::contiguous::<u32>("gather_rows", si, li)?;
        fn run<T: Float>(
            st: &CpuStorage,
            lt: &Layout,
            ids: &[u32],
            dim: usize,
        ) -> candle_core::Result<CpuStorage> {
            let t = super::contiguous::<T>("gather_rows", st, lt)?;
            let mut out = Vec::with_capacity(ids.len() * dim);
            for &i in ids {
                let i = i as usize;
                out.extend_from_slice(&t[i * dim..(i + 1) * dim]);
            }
            Ok(storage(out))
        }
        let out = dispatch_float!("gather_rows", st, run(st, lt, ids, dim))?;
        Ok((out, Shape::from((ids.len(), dim))))
    }

    fn bwd(
        &self,
        table: &Tensor,
        ids: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let g = scatter_add(table.dims()[0], ids, &grad.contiguous()?)?;
        match &self.sink {
            Some(s) => {
                s.add(g)?;
                Ok((None, None))
            }
            None => Ok((Some(g), None)),
        }
    }
}

/// A `(rows, dim)` tensor with row `ids[i]` += `grad[i]`.
fn scatter_add(rows: usize, ids: &Tensor, grad: &Tensor) -> candle_core::Result<Tensor> {
    let ids = ids.to_vec1::<u32>()?;
    let dim = grad.dims()[1];
    match grad.dtype() {
        DType::F32 => {
            let g = grad.flatten_all()?.to_vec1::<f32>()?;
            let mut out = vec![0f32; rows * dim];
            for (r, &i) in ids.iter().enumerate() {
                for (o, &v) in out[i as usize * dim..(i as usize + 1) * dim]
                    .iter_mut()
                    .zip(&g[r * dim..(r + 1) * dim])
                {
                    *o += v;
                }
            }
            Tensor::from_vec(out, (rows, dim), grad.device())
        }
        _ => {
            let g = grad.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?;
            let mut out = vec![0f64; rows * dim];
            for (r, &i) in ids.iter().enumerate() {
                for (o, &v) in out[i as usize * dim..(i as usize + 1) * dim]
                    .iter_mut()
                    .zip(&g[r * dim..(r + 1) * dim])
                {
                    *o += v;
                }
            }
            Tensor::from_vec(out, (rows, dim), grad.device())?.to_dtype(grad.dtype())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::check_gradient;
    use candle_core::Device;

    #[test]
    fn gather_values_gradient_and_range() {
        let table = Tensor::from_vec(
            (0..12).map(|i| (i as f64 * 0.37).sin()).collect::<Vec<_>>(),
            (4, 3),
            &Device::Cpu,
        )
        .unwrap();
        let ids = Tensor::new(&[[1u32, 3], [1, 0]], &Device::Cpu).unwrap();
        let y = gather_rows(&table, &ids, None).unwrap();
        assert_eq!(y.dims(), &[2, 2, 3]);
        assert_eq!(
            y.to_vec3::<f64>().unwrap()[0][1],
            table.to_vec2::<f64>().unwrap()[3]
        );
        let w = Tensor::from_vec(
            (0..12).map(|i| i as f64 * 0.1 - 0.4).collect::<Vec<_>>(),
            (2, 2, 3),
            &Device::Cpu,
        )
        .unwrap();
        check_gradient(
            std::slice::from_ref(&table),
            |v| Ok(gather_rows(&v[0], &ids, None)?.mul(&w)?.sum_all()?),
            1e-6,
            1e-6,
        )
        .unwrap();
        let bad = Tensor::new(&[4u32], &Device::Cpu).unwrap();
        assert_eq!(
            gather_rows(&table, &bad, None).unwrap_err().to_string(),
            "index 4 is out of range [0, 4)"
        );
    }
}
