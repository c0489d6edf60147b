//! `activation(x @ kernel + bias)` as one op: one gemm writing over the broadcast bias, the
//! activation applied in place, and a backward that reuses the output.

use super::activation::{activation, activation_grad, apply_in_place, Act};
use super::{contiguous, dispatch_float, gemm, storage, Float, GradSink};
use crate::{Error, Result};
use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Shape, Tensor};

/// `activation(x @ kernel + bias)` over the last axis of `x` (any rank >= 2).
///
/// On the CPU with f32 / f64 and an activation whose gradient follows from its output, this is
/// a single fused op; otherwise it is a matmul followed by the activation op.
pub fn dense(x: &Tensor, kernel: &Tensor, bias: Option<&Tensor>, act: Act) -> Result<Tensor> {
    dense_with_sinks(x, kernel, bias, act, None)
}

/// [`dense`], writing the kernel and bias gradients into `sinks` (when gradient sinks are on)
/// instead of returning them to candle's backward.
pub fn dense_with_sinks(
    x: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    act: Act,
    sinks: Option<(&GradSink, &GradSink)>,
) -> Result<Tensor> {
    let dims = x.dims().to_vec();
    let k = *dims
        .last()
        .ok_or_else(|| Error::shape("dense: input must have rank >= 1"))?;
    let (kin, n) = kernel.dims2()?;
    if kin != k {
        return Err(Error::shape(format!(
            "dense: input last dimension {k} does not match kernel shape ({kin}, {n})"
        )));
    }
    let m: usize = dims[..dims.len() - 1].iter().product();
    let x2 = x.reshape((m, k))?;
    let fused = x.device().is_cpu()
        && matches!(x.dtype(), candle_core::DType::F32 | candle_core::DType::F64)
        && x.dtype() == kernel.dtype()
        && act.grad_from_output();
    let y = match (bias, fused) {
        (Some(b), true) => {
            let sinks = sinks
                // Only for variables: an intermediate tensor left without a gradient would
                // stop candle's backward.
                .filter(|_| super::sinks_enabled() && kernel.is_variable() && b.is_variable())
                .map(|(k, b)| (k.clone(), b.clone()));
            x2.contiguous()?.apply_op3(
                &kernel.contiguous()?,
                &b.contiguous()?,
                DenseOp { act, sinks },
            )?
        }
        (bias, _) => {
            let mut y = matmul(&x2, kernel)?;
            if let Some(b) = bias {
                y = y.broadcast_add(b)?;
            }
            activation(&y, act)?
        }
    };
    let mut out_dims = dims;
    *out_dims.last_mut().unwrap() = n;
    Ok(y.reshape(out_dims)?)
}

/// Matrix product of 2D tensors (a fused CPU gemm with its backward, candle elsewhere).
pub fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let (m, k) = a.dims2()?;
    let (k2, n) = b.dims2()?;
    if k != k2 {
        return Err(Error::shape(format!(
            "matmul: shapes ({m}, {k}) and ({k2}, {n}) do not fit"
        )));
    }
    Ok(a.matmul(b)?)
}

struct DenseOp {
    act: Act,
    sinks: Option<(GradSink, GradSink)>,
}

impl CustomOp3 for DenseOp {
    fn name(&self) -> &'static str {
        "dense"
    }

    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sw: &CpuStorage,
        lw: &Layout,
        sb: &CpuStorage,
        lb: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (m, k) = lx.shape().dims2()?;
        let (_, n) = lw.shape().dims2()?;
        if lb.shape().elem_count() != n {
            candle_core::bail!(
                "dense: bias has {} values, expected {n}",
                lb.shape().elem_count()
            );
        }
        #[allow(clippy::too_many_arguments)]
        fn run<T: Float>(
            act: Act,
            (m, k, n): (usize, usize, usize),
            sx: &CpuStorage,
            lx: &Layout,
            sw: &CpuStorage,
            lw: &Layout,
            sb: &CpuStorage,
            lb: &Layout,
        ) -> candle_core::Result<CpuStorage> {
            let x = contiguous::<T>("dense", sx, lx)?;
            let w = contiguous::<T>("dense", sw, lw)?;
            let b = contiguous::<T>("dense", sb, lb)?;
            let mut out = Vec::with_capacity(m * n);
            for _ in 0..m {
                out.extend_from_slice(b);
            }
            gemm(&mut out, x, w, m, k, n, false, false, true);
            apply_in_place(act, &mut out, n);
            Ok(storage(out))
        }
        let out = dispatch_float!(
            "dense",
            sx,
            run(self.act, (m, k, n), sx, lx, sw, lw, sb, lb)
        )?;
        Ok((out, Shape::from((m, n))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _b: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        // Gradient at the pre-activation, computed from the output.
        let g = activation_grad(res, grad, self.act)?;
        let dx = if x.track_op() {
            Some(g.apply_op2_no_bwd(&w.detach(), &InputGrad)?)
        } else {
            None
        };
        // Kernel and bias gradients in one host pass: dW = x^T g, db = column sums of g.
        let dwdb = x.detach().apply_op2_no_bwd(&g, &WeightGrads)?;
        let (k, n) = w.dims2()?;
        let dw = dwdb.narrow(0, 0, k)?;
        let db = dwdb.narrow(0, k, 1)?.reshape(n)?;
        match &self.sinks {
            Some((sk, sb)) => {
                sk.add(dw)?;
                sb.add(db)?;
                Ok((dx, None, None))
            }
            None => Ok((dx, Some(dw), Some(db))),
        }
    }
}

/// (g, w) -> `g @ w^T`: the input gradient.
struct InputGrad;

impl CustomOp2 for InputGrad {
    fn name(&self) -> &'static str {
        "dense_input_grad"
    }

    fn cpu_fwd(
        &self,
        sg: &CpuStorage,
        lg: &Layout,
        sw: &CpuStorage,
        lw: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (m, n) = lg.shape().dims2()?;
        let (k, _) = lw.shape().dims2()?;
        fn run<T: Float>(
            (m, k, n): (usize, usize, usize),
            sg: &CpuStorage,
            lg: &Layout,
            sw: &CpuStorage,
            lw: &Layout,
        ) -> candle_core::Result<CpuStorage> {
            let g = contiguous::<T>("dense_input_grad", sg, lg)?;
            let w = contiguous::<T>("dense_input_grad", sw, lw)?;
            let mut out = vec![T::zero(); m * k];
            gemm(&mut out, g, w, m, n, k, false, true, false);
            Ok(storage(out))
        }
        let out = dispatch_float!("dense_input_grad", sg, run((m, k, n), sg, lg, sw, lw))?;
        Ok((out, Shape::from((m, k))))
    }
}

/// (x, g) -> `[x^T g; colsum(g)]`: the kernel gradient with the bias gradient as a last row.
struct WeightGrads;

impl CustomOp2 for WeightGrads {
    fn name(&self) -> &'static str {
        "dense_weight_grads"
    }

    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sg: &CpuStorage,
        lg: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (m, k) = lx.shape().dims2()?;
        let (_, n) = lg.shape().dims2()?;
        fn run<T: Float>(
            (m, k, n): (usize, usize, usize),
            sx: &CpuStorage,
            lx: &Layout,
            sg: &CpuStorage,
            lg: &Layout,
        ) -> candle_core::Result<CpuStorage> {
            let x = contiguous::<T>("dense_weight_grads", sx, lx)?;
            let g = contiguous::<T>("dense_weight_grads", sg, lg)?;
            let mut out = vec![T::zero(); (k + 1) * n];
            gemm(&mut out[..k * n], x, g, k, m, n, true, false, false);
            let db = &mut out[k * n..];
            for row in g.chunks_exact(n) {
                for (d, &v) in db.iter_mut().zip(row) {
                    *d += v;
                }
            }
            Ok(storage(out))
        }
        let out = dispatch_float!("dense_weight_grads", sx, run((m, k, n), sx, lx, sg, lg))?;
        Ok((out, Shape::from((k + 1, n))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::check_gradient;
    use candle_core::{Device, Var};

    fn t(v: &[f64], dims: &[usize]) -> Tensor {
        Tensor::from_vec(v.to_vec(), dims, &Device::Cpu).unwrap()
    }

    fn seq(n: usize, a: f64, b: f64) -> Vec<f64> {
        (0..n).map(|i| ((i as f64) * a + b).sin()).collect()
    }

    #[test]
    fn fused_dense_matches_matmul_plus_bias() {
        for act in [
            Act::Linear,
            Act::Relu,
            Act::Softmax,
            Act::Sigmoid,
            Act::Tanh,
        ] {
            let x = t(&seq(12, 0.7, 0.1), &[4, 3]);
            let w = t(&seq(15, 1.3, 0.2), &[3, 5]);
            let b = t(&seq(5, 0.5, 0.3), &[5]);
            let fused = dense(&x, &w, Some(&b), act).unwrap();
            let plain = activation(&x.matmul(&w).unwrap().broadcast_add(&b).unwrap(), act).unwrap();
            let d = (fused - plain)
                .unwrap()
                .abs()
                .unwrap()
                .max_all()
                .unwrap()
                .to_scalar::<f64>()
                .unwrap();
            assert!(d < 1e-12, "{act:?}: {d}");
        }
    }

    #[test]
    fn dense_gradients_for_x_kernel_and_bias() {
        for act in [
            Act::Linear,
            Act::Relu,
            Act::Softmax,
            Act::Tanh,
            Act::Gelu { approximate: false },
        ] {
            let x = t(&seq(12, 0.7, 0.1), &[4, 3]);
            let w = t(&seq(15, 1.3, 0.2), &[3, 5]);
            let b = t(&seq(5, 0.5, 0.3), &[5]);
            let r = t(&seq(20, 0.9, 0.4), &[4, 5]);
            check_gradient(
                &[x, w, b],
                |v| Ok(dense(&v[0], &v[1], Some(&v[2]), act)?.mul(&r)?.sum_all()?),
                1e-6,
                1e-5,
            )
            .unwrap_or_else(|e| panic!("{act:?}: {e}"));
        }
    }

    #[test]
    fn dense_on_rank3_input() {
        let x = t(&seq(24, 0.3, 0.1), &[2, 4, 3]);
        let w = t(&seq(6, 1.1, 0.2), &[3, 2]);
        let b = t(&[0.1, -0.2], &[2]);
        let y = dense(&x, &w, Some(&b), Act::Relu).unwrap();
        assert_eq!(y.dims(), &[2, 4, 2]);
        let r = t(&seq(16, 0.9, 0.4), &[2, 4, 2]);
        check_gradient(
            &[x, w, b],
            |v| {
                Ok(dense(&v[0], &v[1], Some(&v[2]), Act::Relu)?
                    .mul(&r)?
                    .sum_all()?)
            },
            1e-6,
            1e-5,
        )
        .unwrap();
    }

    #[test]
    fn input_gradient_is_skipped_for_data() {
        let x = t(&seq(6, 0.7, 0.1), &[2, 3]);
        let w = Var::from_tensor(&t(&seq(6, 1.3, 0.2), &[3, 2])).unwrap();
        let b = Var::from_tensor(&t(&[0.0, 0.0], &[2])).unwrap();
        let y = dense(&x, w.as_tensor(), Some(b.as_tensor()), Act::Relu)
            .unwrap()
            .sum_all()
            .unwrap();
        let grads = y.backward().unwrap();
        assert!(grads.get(&x).is_none());
        assert!(grads.get(w.as_tensor()).is_some());
    }

    #[test]
    fn sinks_receive_exactly_the_weight_gradients() {
        let x = t(&seq(12, 0.7, 0.1), &[4, 3]);
        let w = Var::from_tensor(&t(&seq(15, 1.3, 0.2), &[3, 5])).unwrap();
        let b = Var::from_tensor(&t(&seq(5, 0.5, 0.3), &[5])).unwrap();
        let r = t(&seq(20, 0.9, 0.4), &[4, 5]);
        let loss = |sinks: Option<(&GradSink, &GradSink)>| {
            dense_with_sinks(&x, w.as_tensor(), Some(b.as_tensor()), Act::Tanh, sinks)
                .unwrap()
                .mul(&r)
                .unwrap()
                .sum_all()
                .unwrap()
        };
        let plain = loss(None).backward().unwrap();
        let (sk, sb) = (GradSink::default(), GradSink::default());
        // Sinks are ignored unless turned on.
        let g = loss(Some((&sk, &sb))).backward().unwrap();
        assert!(g.get(w.as_tensor()).is_some() && sk.take().is_none());
        let _on = crate::ops::enable_sinks();
        let g = loss(Some((&sk, &sb))).backward().unwrap();
        assert!(
            g.get(w.as_tensor()).is_none(),
            "candle gets no kernel gradient"
        );
        let diff = |a: &Tensor, b: &Tensor| {
            (a - b)
                .unwrap()
                .abs()
                .unwrap()
                .max_all()
                .unwrap()
                .to_scalar::<f64>()
                .unwrap()
        };
        assert!(diff(&sk.take().unwrap(), plain.get(w.as_tensor()).unwrap()) < 1e-12);
        assert!(diff(&sb.take().unwrap(), plain.get(b.as_tensor()).unwrap()) < 1e-12);
    }

    #[test]
    fn shape_mismatch_is_an_error() {
        let x = t(&seq(6, 0.7, 0.1), &[2, 3]);
        let w = t(&seq(8, 1.3, 0.2), &[4, 2]);
        assert!(dense(&x, &w, None, Act::Linear).is_err());
    }
}
