//! A convolution and the pooling after it in one pass, for inference: each thread convolves a
//! few whole images into a cache-sized buffer (bias and activation applied there) and pools
//! them straight into the output, so the convolution's output, the largest activation of a
//! small CNN (86 MB for W2's first layer at batch 1000), is never written to memory.
//!
//! It has no backward pass: [`crate::models::Functional`] uses it only where no gradient is
//! taken (inside `predict` and `evaluate`, see [`crate::engine::context::inference`]).

use super::activation::{apply_in_place, Act};
use super::conv::{
    block_rows, fill_rows, geometry, im2col, image_parts, run_parts, with_scratch, ConvGeom,
};
use super::pool::PoolImages;
use super::{contiguous, dispatch_float, gemm, storage, ConvOpts, Float, Padding, PoolKind};
use crate::{Error, Result};
use candle_core::{CpuStorage, CustomOp3, Layout, Shape, Tensor};

/// The pooling a fused convolution ends with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolSpec {
    /// Max or average.
    pub kind: PoolKind,
    /// Window (height, width).
    pub pool: (usize, usize),
    /// Strides (height, width).
    pub strides: (usize, usize),
    /// Padding mode.
    pub padding: Padding,
}

/// `pool2d(activation(conv2d(x, kernel) + bias))` for NHWC `x` on the CPU, in one pass and
/// without a backward pass (the values equal the two ops run one after the other).
///
/// ```
/// use keras::ops::{self, Act, ConvOpts, Padding, PoolKind, PoolSpec};
/// use keras::prelude::*;
/// let x = keras::random::uniform(&[2, 8, 8, 3], 0.0, 1.0)?;
/// let k = keras::random::uniform(&[3, 3, 3, 4], -1.0, 1.0)?;
/// let o = ConvOpts { strides: (1, 1), padding: Padding::Valid, dilation: (1, 1) };
/// let p = PoolSpec { kind: PoolKind::Max, pool: (2, 2), strides: (2, 2), padding: Padding::Valid };
/// let fused = ops::conv2d_pool(&x, &k, None, o, Act::Relu, p)?;
/// let apart = ops::pool2d(&ops::conv2d(&x, &k, None, o, Act::Relu, None)?, p.kind, p.pool, p.strides, p.padding)?;
/// assert_eq!(fused.dims(), &[2, 3, 3, 4]);
/// assert!(fused.sub(&apart)?.abs()?.max_all()?.to_scalar::<f32>()? < 1e-6);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn conv2d_pool(
    x: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    opts: ConvOpts,
    act: Act,
    pool: PoolSpec,
) -> Result<Tensor> {
    let (plan, b) = ConvPool::plan(x, kernel, bias, opts, act, pool)?;
    Ok(x.contiguous()?
        .apply_op3_no_bwd(&kernel.contiguous()?, &b.contiguous()?, &plan)?)
}

pub(super) struct ConvPool {
    pub(super) g: ConvGeom,
    pub(super) f: usize,
    pub(super) act: Act,
    pub(super) p: PoolImages,
    pub(super) spec: PoolSpec,
}

impl ConvPool {
    /// The geometry of `pool(act(conv(x, kernel) + bias))`, checked, and the bias (zeros
    /// where there is none).
    pub(super) fn plan(
        x: &Tensor,
        kernel: &Tensor,
        bias: Option<&Tensor>,
        opts: ConvOpts,
        act: Act,
        pool: PoolSpec,
    ) -> Result<(ConvPool, Tensor)> {
        if !x.device().is_cpu() || x.dtype() != kernel.dtype() || !x.dtype().is_float() {
            return Err(Error::value(
                "conv2d_pool runs on the CPU, on float inputs of the kernel's dtype",
            ));
        }
        let (g, f) = geometry(x, kernel, opts)?;
        let p = PoolImages::new(
            [g.oh, g.ow, f],
            pool.kind,
            pool.pool,
            pool.strides,
            pool.padding,
        )?;
        let b = match bias {
            Some(b) => b.clone(),
            None => Tensor::zeros(f, kernel.dtype(), kernel.device())?,
        };
        let spec = pool;
        Ok((ConvPool { g, f, act, p, spec }, b))
    }

    /// Output values: `n * pooled height * pooled width * f`.
    pub(super) fn out_len(&self) -> usize {
        let (ph, pw) = self.p.out_hw();
        self.g.n * ph * pw * self.f
    }

    /// Each thread: whole images, a few at a time (as many as fit one im2col block), convolved
    /// into a cache-sized buffer of its own (or into `keep`, the whole convolution output,
    /// when the backward pass needs it) and pooled into the output.
    pub(super) fn run<T: Float>(
        &self,
        x: &[T],
        w: &[T],
        b: &[T],
        out: &mut [T],
        keep: Option<&mut [T]>,
    ) {
        let (g, f) = (&self.g, self.f);
        let (k, per_img) = (g.k(), g.oh * g.ow);
        let (ph, pw) = self.p.out_hw();
        let per_out = ph * pw * f;
        let imgs = (block_rows::<T>(g) / per_img.max(1)).max(1);
        let parts = image_parts(g, f);
        // A thin kernel (a first layer) convolves straight from the image: no im2col matrix.
        let direct = super::conv_direct::applies::<T>(g, f);
        let k = if direct { 0 } else { k };
        let out = super::SharedMut::new(out);
        if keep.is_none() && super::conv_direct::pools::<T>(g, f, &self.spec, self.act) {
            // A thin kernel and a max pooling that tiles its output: each window's pixels
            // are convolved in registers and only their max is written.
            return run_parts(&parts, |_, b0, b1| {
                // SAFETY: parts own disjoint images, hence disjoint output images.
                let o = unsafe { out.slice(b0 * per_out, b1 * per_out) };
                let pool = self.spec.pool;
                super::conv_direct::max_pooled(g, x, w, f, b, pool, (b0, b1), o);
                apply_in_place(self.act, o, f);
            });
        }
        let keep = keep.map(super::SharedMut::new);
        run_parts(&parts, |_, b0, b1| {
            let rows = imgs.min(b1 - b0) * per_img;
            let own = if keep.is_some() { 0 } else { rows * f };
            with_scratch::<T, _>(rows * k + own, |buf| {
                let (col, scratch) = buf.split_at_mut(rows * k);
                let mut i0 = b0;
                while i0 < b1 {
                    let i1 = (i0 + imgs).min(b1);
                    let (r0, r1) = (i0 * per_img, i1 * per_img);
                    let col = &mut col[..(r1 - r0) * k];
                    // SAFETY: parts own disjoint images, hence disjoint rows of `keep`.
                    let conv = match &keep {
                        Some(kp) => unsafe { kp.slice(r0 * f, r1 * f) },
                        None => &mut scratch[..(r1 - r0) * f],
                    };
                    if direct {
                        let start = super::conv_direct::Start::Bias(b);
                        super::conv_direct::rows(g, x, w, f, start, r0, r1, conv);
                    } else {
                        im2col(g, x, r0, r1, col);
                        fill_rows(conv, b);
                        gemm(conv, col, w, r1 - r0, k, f, false, false, true);
                    }
                    apply_in_place(self.act, conv, f);
                    // SAFETY: parts own disjoint images, hence disjoint output images.
                    let o = unsafe { out.slice(i0 * per_out, i1 * per_out) };
                    self.p.run(conv, o);
                    i0 = i1;
                }
            })
        });
    }
}

impl CustomOp3 for ConvPool {
    fn name(&self) -> &'static str {
        "conv2d_pool"
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
        let (ph, pw) = self.p.out_hw();
        let len = self.out_len();
        fn go<T: Float>(
            op: &ConvPool,
            len: usize,
            (sx, lx): (&CpuStorage, &Layout),
            (sk, lk): (&CpuStorage, &Layout),
            (sb, lb): (&CpuStorage, &Layout),
        ) -> candle_core::Result<CpuStorage> {
            let x = contiguous::<T>("conv2d_pool", sx, lx)?;
            let k = contiguous::<T>("conv2d_pool", sk, lk)?;
            let b = contiguous::<T>("conv2d_pool", sb, lb)?;
            // SAFETY: every output image is written by the pooling of its part.
            let mut out = unsafe { super::uninit_vec::<T>(len) };
            op.run(x, k, b, &mut out, None);
            Ok(storage(out))
        }
        let out = dispatch_float!(
            "conv2d_pool",
            sx,
            go(self, len, (sx, lx), (sk, lk), (sb, lb))
        )?;
        Ok((out, Shape::from((self.g.n, ph, pw, self.f))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{conv2d, pool2d, to_vec_f64};
    use candle_core::Device;

    fn t(dims: &[usize], a: f64) -> Tensor {
        let n: usize = dims.iter().product();
        let v: Vec<f64> = (0..n).map(|i| ((i as f64) * a + 0.3).sin()).collect();
        Tensor::from_vec(v, dims, &Device::Cpu).unwrap()
    }

    #[test]
    fn equals_convolution_then_pooling() {
        let conv = [
            ConvOpts {
                strides: (1, 1),
                padding: Padding::Valid,
                dilation: (1, 1),
            },
            ConvOpts {
                strides: (2, 1),
                padding: Padding::Same,
                dilation: (1, 2),
            },
        ];
        let pools = [
            PoolSpec {
                kind: PoolKind::Max,
                pool: (2, 2),
                strides: (2, 2),
                padding: Padding::Valid,
            },
            PoolSpec {
                kind: PoolKind::Avg,
                pool: (3, 2),
                strides: (1, 2),
                padding: Padding::Same,
            },
        ];
        // 40 images: more than one image block per thread, on more than one thread.
        for (n, c) in [(3, 2), (40, 5)] {
            let x = t(&[n, 12, 11, c], 0.37);
            let k = t(&[3, 3, c, 6], 0.71);
            let b = t(&[6], 0.5);
            for o in conv {
                for p in pools {
                    for act in [Act::Relu, Act::Tanh, Act::Linear] {
                        let fused = conv2d_pool(&x, &k, Some(&b), o, act, p).unwrap();
                        let y = conv2d(&x, &k, Some(&b), o, act, None).unwrap();
                        let want = pool2d(&y, p.kind, p.pool, p.strides, p.padding).unwrap();
                        assert_eq!(fused.dims(), want.dims(), "{o:?} {p:?}");
                        let (a, w) = (to_vec_f64(&fused).unwrap(), to_vec_f64(&want).unwrap());
                        for (u, v) in a.iter().zip(&w) {
                            assert!((u - v).abs() < 1e-12, "{o:?} {p:?} {act:?}: {u} vs {v}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn bad_shapes_are_errors() {
        let o = ConvOpts {
            strides: (1, 1),
            padding: Padding::Valid,
            dilation: (1, 1),
        };
        let p = PoolSpec {
            kind: PoolKind::Max,
            pool: (4, 4),
            strides: (4, 4),
            padding: Padding::Valid,
        };
        let x = t(&[1, 5, 5, 2], 0.3);
        // A 3x3 output cannot hold a 4x4 window.
        assert!(conv2d_pool(&x, &t(&[3, 3, 2, 1], 0.2), None, o, Act::Relu, p).is_err());
        // Wrong channel count.
        assert!(conv2d_pool(&x, &t(&[3, 3, 1, 1], 0.2), None, o, Act::Relu, p).is_err());
    }
}
