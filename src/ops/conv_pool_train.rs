//! The fused convolution + pooling of `conv_pool.rs` with a backward pass, for training: the
//! forward pass keeps the (activated) convolution output; the backward pass routes the
//! pooled gradient back through the pooling and the activation into a buffer of its own and
//! takes the convolution's gradients from it. The convolution's output gradient never becomes
//! a tensor, so candle's backward neither zero-fills nor adds it, and no separate pooling and
//! activation gradient ops run (on W2 those were a third of the step).

use super::activation::{grad_from_output_in_place, Act};
use super::conv::{conv_grads, image_parts, run_parts, split_grads, weight_sinks};
use super::conv_pool::{ConvPool, PoolSpec};
use super::{contiguous, dispatch_float, storage, ConvOpts, Float, GradSink};
use crate::{Error, Result};
use candle_core::{CpuStorage, CustomOp3, Layout, Shape, Storage, Tensor};
use std::sync::Mutex;

/// [`super::conv2d_pool`] with a backward pass (gradients for `x`, the kernel and the bias;
/// with gradient sinks on, the weights' go to `sinks`, as in [`super::conv2d`]). The
/// activation must be one whose gradient follows from its output (relu, sigmoid, tanh, ...).
///
/// ```
/// use keras::ops::{self, Act, ConvOpts, Padding, PoolKind, PoolSpec};
/// use keras::prelude::*;
/// let x = keras::random::uniform(&[2, 8, 8, 3], 0.0, 1.0)?;
/// let k = candle_core::Var::from_tensor(&keras::random::uniform(&[3, 3, 3, 4], -1.0, 1.0)?)?;
/// let o = ConvOpts { strides: (1, 1), padding: Padding::Valid, dilation: (1, 1) };
/// let p = PoolSpec { kind: PoolKind::Max, pool: (2, 2), strides: (2, 2), padding: Padding::Valid };
/// let y = ops::conv2d_pool_train(&x, k.as_tensor(), None, o, Act::Relu, p, None)?;
/// let grads = y.sum_all()?.backward()?;
/// assert_eq!(grads.get(k.as_tensor()).unwrap().dims(), &[3, 3, 3, 4]);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn conv2d_pool_train(
    x: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    opts: ConvOpts,
    act: Act,
    pool: PoolSpec,
    sinks: Option<(&GradSink, Option<&GradSink>)>,
) -> Result<Tensor> {
    if !act.grad_from_output() {
        return Err(Error::value(format!(
            "conv2d_pool_train needs an activation whose gradient follows from its output; received {act:?}"
        )));
    }
    let (plan, b) = ConvPool::plan(x, kernel, bias, opts, act, pool)?;
    let op = ConvPoolTrain {
        plan,
        sinks: weight_sinks(kernel, bias, sinks),
        kept: Mutex::new(None),
    };
    Ok(x.contiguous()?
        .apply_op3(&kernel.contiguous()?, &b.contiguous()?, op)?)
}

struct ConvPoolTrain {
    plan: ConvPool,
    sinks: Option<(GradSink, Option<GradSink>)>,
    /// The activated convolution output, kept by the forward pass for the backward pass.
    kept: Mutex<Option<CpuStorage>>,
}

impl ConvPoolTrain {
    fn conv_len(&self) -> usize {
        let g = &self.plan.g;
        g.n * g.oh * g.ow * self.plan.f
    }
}

impl CustomOp3 for ConvPoolTrain {
    fn name(&self) -> &'static str {
        "conv2d_pool_train"
    }

    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sk: &CpuStorage,
        lk: &Layout,
        sb: &CpuStorage,
        lb: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        fn go<T: Float>(
            op: &ConvPoolTrain,
            (sx, lx): (&CpuStorage, &Layout),
            (sk, lk): (&CpuStorage, &Layout),
            (sb, lb): (&CpuStorage, &Layout),
        ) -> candle_core::Result<CpuStorage> {
            let x = contiguous::<T>("conv2d_pool_train", sx, lx)?;
            let k = contiguous::<T>("conv2d_pool_train", sk, lk)?;
            let b = contiguous::<T>("conv2d_pool_train", sb, lb)?;
            // SAFETY: `run` writes every output image and every row of the kept output.
            let (mut out, mut keep) = unsafe {
                (
                    super::uninit_vec::<T>(op.plan.out_len()),
                    super::uninit_vec::<T>(op.conv_len()),
                )
            };
            op.plan.run(x, k, b, &mut out, Some(&mut keep));
            *op.kept.lock().expect("not poisoned") = Some(storage(keep));
            Ok(storage(out))
        }
        let out = dispatch_float!(
            "conv2d_pool_train",
            sx,
            go(self, (sx, lx), (sk, lk), (sb, lb))
        )?;
        let (ph, pw) = self.plan.p.out_hw();
        Ok((out, Shape::from((self.plan.g.n, ph, pw, self.plan.f))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        k: &Tensor,
        b: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let kept = self.kept.lock().expect("not poisoned");
        let kept = kept
            .as_ref()
            .ok_or_else(|| candle_core::Error::Msg("conv2d_pool_train: no forward pass".into()))?;
        let kernel = k.detach().contiguous()?;
        let grads = Grads {
            op: self,
            kept,
            kernel: &kernel,
            want_dx: x.track_op(),
        };
        let dwb = x
            .detach()
            .apply_op3_no_bwd(&res.contiguous()?, &grad.contiguous()?, &grads)?;
        let kn = self.plan.g.k() * self.plan.f;
        split_grads(&dwb, kn, x, k, b, self.sinks.as_ref())
    }
}

/// (x, pooled output, pooled gradient) -> `[dW | db | dx]`, as the convolution's own
/// gradient op gives for the gradient routed back through the pooling and the activation.
struct Grads<'a> {
    op: &'a ConvPoolTrain,
    kept: &'a CpuStorage,
    kernel: &'a Tensor,
    want_dx: bool,
}

impl CustomOp3 for Grads<'_> {
    fn name(&self) -> &'static str {
        "conv2d_pool_grads"
    }

    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sy: &CpuStorage,
        ly: &Layout,
        sg: &CpuStorage,
        lg: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let plan = &self.op.plan;
        let (g, f) = (&plan.g, plan.f);
        let kn = g.k() * f;
        let total = kn
            + f
            + if self.want_dx {
                g.n * g.h * g.w * g.c
            } else {
                0
            };
        let (ks, kl) = self.kernel.storage_and_layout();
        let Storage::Cpu(ks) = &*ks else {
            return Err(candle_core::Error::Msg(
                "conv2d_pool_grads: the kernel is not on the CPU".into(),
            ));
        };
        let conv_layout = Layout::contiguous(self.op.conv_len());
        fn go<T: Float>(
            me: &Grads,
            (sx, lx): (&CpuStorage, &Layout),
            (sy, ly): (&CpuStorage, &Layout),
            (sg, lg): (&CpuStorage, &Layout),
            (ks, kl): (&CpuStorage, &Layout),
            conv_layout: &Layout,
            total: usize,
        ) -> candle_core::Result<CpuStorage> {
            let plan = &me.op.plan;
            let (g, f) = (&plan.g, plan.f);
            let x = contiguous::<T>("conv2d_pool_grads", sx, lx)?;
            let y = contiguous::<T>("conv2d_pool_grads", sy, ly)?;
            let gy = contiguous::<T>("conv2d_pool_grads", sg, lg)?;
            let k = contiguous::<T>("conv2d_pool_grads", ks, kl)?;
            let conv = contiguous::<T>("conv2d_pool_grads", me.kept, conv_layout)?;
            let (per_conv, per_out) = (g.oh * g.ow * f, y.len() / g.n.max(1));
            // The convolution output's gradient: through the pooling, then the activation,
            // image by image on each thread.
            // SAFETY: every part zero-fills its images before adding into them.
            let mut dconv = unsafe { super::uninit_vec::<T>(conv.len()) };
            let shared = super::SharedMut::new(&mut dconv);
            run_parts(&image_parts(g, f), |_, b0, b1| {
                // SAFETY: parts own disjoint images.
                let d = unsafe { shared.slice(b0 * per_conv, b1 * per_conv) };
                d.iter_mut().for_each(|v| *v = T::zero());
                let c = &conv[b0 * per_conv..b1 * per_conv];
                let (yb, gb) = (
                    &y[b0 * per_out..b1 * per_out],
                    &gy[b0 * per_out..b1 * per_out],
                );
                plan.p.backward(c, yb, gb, d);
                grad_from_output_in_place(plan.act, c, d, f);
            });
            Ok(storage(conv_grads(g, f, x, k, &dconv, me.want_dx, total)))
        }
        let out = dispatch_float!(
            "conv2d_pool_grads",
            sx,
            go(
                self,
                (sx, lx),
                (sy, ly),
                (sg, lg),
                (ks, kl),
                &conv_layout,
                total
            )
        )?;
        Ok((out, Shape::from(total)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{conv2d, pool2d, to_vec_f64, Padding, PoolKind};
    use crate::testing::check_gradient;
    use candle_core::{Device, Var};

    fn t(dims: &[usize], a: f64) -> Tensor {
        let n: usize = dims.iter().product();
        // Distinct values, so pooling maxima are unique and finite differences are valid.
        let v: Vec<f64> = (0..n)
            .map(|i| ((i as f64) * a + 0.3).sin() + i as f64 * 1e-3)
            .collect();
        Tensor::from_vec(v, dims, &Device::Cpu).unwrap()
    }

    fn cases() -> Vec<(ConvOpts, PoolSpec)> {
        let valid = ConvOpts {
            strides: (1, 1),
            padding: Padding::Valid,
            dilation: (1, 1),
        };
        let same = ConvOpts {
            strides: (2, 1),
            padding: Padding::Same,
            dilation: (1, 1),
        };
        let max = PoolSpec {
            kind: PoolKind::Max,
            pool: (2, 2),
            strides: (2, 2),
            padding: Padding::Valid,
        };
        let avg = PoolSpec {
            kind: PoolKind::Avg,
            pool: (3, 2),
            strides: (1, 2),
            padding: Padding::Same,
        };
        vec![(valid, max), (same, avg), (valid, avg)]
    }

    #[test]
    fn finite_difference_gradients() {
        for (o, p) in cases() {
            let x = t(&[2, 7, 6, 2], 0.37);
            let k = t(&[3, 2, 2, 3], 0.71);
            let b = t(&[3], 0.5);
            let y0 = conv2d_pool_train(&x, &k, Some(&b), o, Act::Tanh, p, None).unwrap();
            let r = t(y0.dims(), 0.23);
            check_gradient(
                &[x, k, b],
                |v| {
                    Ok(
                        conv2d_pool_train(&v[0], &v[1], Some(&v[2]), o, Act::Tanh, p, None)?
                            .mul(&r)?
                            .sum_all()?,
                    )
                },
                1e-6,
                1e-5,
            )
            .unwrap_or_else(|e| panic!("{o:?} {p:?}: {e}"));
        }
    }

    #[test]
    fn values_and_gradients_equal_the_two_ops() {
        // 40 images: several image blocks on more than one thread.
        for (o, p) in cases() {
            let x = Var::from_tensor(&t(&[40, 12, 11, 3], 0.37)).unwrap();
            let k = Var::from_tensor(&t(&[3, 3, 3, 5], 0.71)).unwrap();
            let b = Var::from_tensor(&t(&[5], 0.5)).unwrap();
            let (xt, kt, bt) = (x.as_tensor(), k.as_tensor(), b.as_tensor());
            let fused = conv2d_pool_train(xt, kt, Some(bt), o, Act::Relu, p, None).unwrap();
            let y = conv2d(xt, kt, Some(bt), o, Act::Relu, None).unwrap();
            let apart = pool2d(&y, p.kind, p.pool, p.strides, p.padding).unwrap();
            let r = t(fused.dims(), 0.29);
            let (a, w) = (to_vec_f64(&fused).unwrap(), to_vec_f64(&apart).unwrap());
            assert!(
                a.iter().zip(&w).all(|(u, v)| (u - v).abs() < 1e-12),
                "{o:?} {p:?}"
            );
            let g1 = fused
                .mul(&r)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap();
            let g2 = apart
                .mul(&r)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap();
            for v in [xt, kt, bt] {
                let (u, w) = (
                    to_vec_f64(g1.get(v).unwrap()).unwrap(),
                    to_vec_f64(g2.get(v).unwrap()).unwrap(),
                );
                let d = u
                    .iter()
                    .zip(&w)
                    .fold(0f64, |m, (a, b)| m.max((a - b).abs()));
                assert!(d < 1e-10, "{o:?} {p:?}: gradient differs by {d}");
            }
        }
    }

    #[test]
    fn an_activation_needing_its_input_is_refused() {
        let (o, p) = cases()[0];
        let x = t(&[1, 6, 6, 1], 0.3);
        let k = t(&[3, 3, 1, 2], 0.2);
        assert!(conv2d_pool_train(&x, &k, None, o, Act::Silu, p, None).is_err());
    }
}
