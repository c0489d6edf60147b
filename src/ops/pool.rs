//! 2D max and average pooling over NHWC data (1D pooling is 2D pooling of height 1), with
//! Keras's padding rules: `same` padding is ignored by both (average divides by the number of
//! real inputs in the window).

use super::conv::Padding;
use super::{contiguous, dispatch_float, storage, Float};
use crate::{Error, Result};
use candle_core::{CpuStorage, CustomOp1, CustomOp3, Layout, Shape, Tensor};

/// Max or average.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    /// Maximum of the window.
    Max,
    /// Mean of the window's real (unpadded) inputs.
    Avg,
}

/// A pooling's geometry (also read by `pool_composed`).
#[derive(Clone, Copy, Debug)]
pub(super) struct Geom {
    pub(super) n: usize,
    pub(super) h: usize,
    pub(super) w: usize,
    pub(super) c: usize,
    pub(super) ph: usize,
    pub(super) pw: usize,
    pub(super) sh: usize,
    pub(super) sw: usize,
    pub(super) pt: usize,
    pub(super) pl: usize,
    pub(super) oh: usize,
    pub(super) ow: usize,
}

impl Geom {
    /// The input rows and columns of window (y, x), clipped to the image.
    #[inline]
    fn window(&self, y: usize, x: usize) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
        let y0 = (y * self.sh) as isize - self.pt as isize;
        let x0 = (x * self.sw) as isize - self.pl as isize;
        let r = y0.max(0) as usize..((y0 + self.ph as isize).max(0) as usize).min(self.h);
        let c = x0.max(0) as usize..((x0 + self.pw as isize).max(0) as usize).min(self.w);
        (r, c)
    }
}

/// Pools windows of `pool` with `strides` over NHWC `x`.
pub fn pool2d(
    x: &Tensor,
    kind: PoolKind,
    pool: (usize, usize),
    strides: (usize, usize),
    padding: Padding,
) -> Result<Tensor> {
    let (n, h, w, c) = x.dims4()?;
    let g = Geom::new([n, h, w, c], pool, strides, padding)?;
    if !x.device().is_cpu() {
        return super::pool_composed::pool2d(x, kind, pool, strides, padding);
    }
    if !super::device::host_kernel_takes(x) {
        return super::device::on_host(&[x], |h| pool2d(&h[0], kind, pool, strides, padding));
    }
    Ok(x.contiguous()?.apply_op1(Pool { g, kind })?)
}

impl Geom {
    pub(super) fn new(
        [n, h, w, c]: [usize; 4],
        pool: (usize, usize),
        strides: (usize, usize),
        padding: Padding,
    ) -> Result<Geom> {
        let err = || {
            Error::shape(format!(
                "the pool size {pool:?} is larger than the input's spatial size ({h}, {w}) with padding \"valid\""
            ))
        };
        let (oh, pt, _) = padding.out_size(h, pool.0, strides.0, 1).ok_or_else(err)?;
        let (ow, pl, _) = padding.out_size(w, pool.1, strides.1, 1).ok_or_else(err)?;
        Ok(Geom {
            n,
            h,
            w,
            c,
            ph: pool.0,
            pw: pool.1,
            sh: strides.0,
            sw: strides.1,
            pt,
            pl,
            oh,
            ow,
        })
    }
}

/// One pooling of whole images, for kernels that pool a block of images they have just
/// computed (a convolution fused with the pooling after it, in inference).
#[derive(Clone, Copy, Debug)]
pub(crate) struct PoolImages {
    g: Geom,
    kind: PoolKind,
}

impl PoolImages {
    /// The pooling of `(h, w, c)` images, or the error `pool2d` gives.
    pub(crate) fn new(
        image: [usize; 3],
        kind: PoolKind,
        pool: (usize, usize),
        strides: (usize, usize),
        padding: Padding,
    ) -> Result<PoolImages> {
        let [h, w, c] = image;
        Ok(PoolImages {
            g: Geom::new([1, h, w, c], pool, strides, padding)?,
            kind,
        })
    }

    /// The geometry over as many whole images as `len` input values hold.
    fn over(&self, len: usize) -> Geom {
        Geom {
            n: len / (self.g.h * self.g.w * self.g.c).max(1),
            ..self.g
        }
    }

    /// Output height and width.
    pub(crate) fn out_hw(&self) -> (usize, usize) {
        (self.g.oh, self.g.ow)
    }

    /// The input gradient of images `x` (pooled into `y`) for the output gradient `gy`, added
    /// into `dx`, on this thread.
    pub(crate) fn backward<T: Float>(&self, x: &[T], y: &[T], gy: &[T], dx: &mut [T]) {
        pulp::Arch::new().dispatch(PoolBwd {
            g: self.over(x.len()),
            kind: self.kind,
            x,
            y,
            gy,
            dx,
        })
    }

    /// Pools the images of `x` (whole `(h, w, c)` images, one after another) into `out`, on
    /// this thread.
    pub(crate) fn run<T: Float>(&self, x: &[T], out: &mut [T]) {
        pulp::Arch::new().dispatch(PoolFwd {
            g: self.over(x.len()),
            kind: self.kind,
            x,
            b0: 0,
            out,
        })
    }
}

struct Pool {
    g: Geom,
    kind: PoolKind,
}

impl CustomOp1 for Pool {
    fn name(&self) -> &'static str {
        "pool2d"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        fn run<T: Float>(op: &Pool, s: &CpuStorage, l: &Layout) -> candle_core::Result<CpuStorage> {
            let x = contiguous::<T>("pool2d", s, l)?;
            let g = op.g;
            let mut out = vec![T::zero(); g.n * g.oh * g.ow * g.c];
            let per = g.oh * g.ow * g.c;
            super::par_chunks(&mut out, per, g.n, x.len(), |b0, _, out| {
                pulp::Arch::new().dispatch(PoolFwd {
                    g,
                    kind: op.kind,
                    x,
                    b0,
                    out,
                })
            });
            Ok(storage(out))
        }
        let out = dispatch_float!("pool2d", s, run(self, s, l))?;
        Ok((out, Shape::from((self.g.n, self.g.oh, self.g.ow, self.g.c))))
    }

    fn bwd(&self, x: &Tensor, res: &Tensor, grad: &Tensor) -> candle_core::Result<Option<Tensor>> {
        Ok(Some(x.apply_op3_no_bwd(
            &res.contiguous()?,
            &grad.contiguous()?,
            &PoolGrad {
                g: self.g,
                kind: self.kind,
            },
        )?))
    }
}

/// (x, pooled output, upstream gradient) -> input gradient.
struct PoolGrad {
    g: Geom,
    kind: PoolKind,
}

impl CustomOp3 for PoolGrad {
    fn name(&self) -> &'static str {
        "pool2d_grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        #[allow(clippy::too_many_arguments)]
        fn run<T: Float>(
            op: &PoolGrad,
            s1: &CpuStorage,
            l1: &Layout,
            s2: &CpuStorage,
            l2: &Layout,
            s3: &CpuStorage,
            l3: &Layout,
        ) -> candle_core::Result<CpuStorage> {
            let x = contiguous::<T>("pool2d_grad", s1, l1)?;
            let y = contiguous::<T>("pool2d_grad", s2, l2)?;
            let gy = contiguous::<T>("pool2d_grad", s3, l3)?;
            let mut dx = vec![T::zero(); x.len()];
            let g = op.g;
            let (img, per) = (g.h * g.w * g.c, g.oh * g.ow * g.c);
            super::par_chunks(&mut dx, img, g.n, x.len(), |b0, b1, dx| {
                pulp::Arch::new().dispatch(PoolBwd {
                    g,
                    kind: op.kind,
                    x: &x[b0 * img..b1 * img],
                    y: &y[b0 * per..b1 * per],
                    gy: &gy[b0 * per..b1 * per],
                    dx,
                })
            });
            Ok(storage(dx))
        }
        Ok((
            dispatch_float!("pool2d_grad", s1, run(self, s1, l1, s2, l2, s3, l3))?,
            l1.shape().clone(),
        ))
    }
}

/// The forward pass, channel vectors at a time, compiled for the CPU's vector unit.
struct PoolFwd<'a, T> {
    g: Geom,
    kind: PoolKind,
    x: &'a [T],
    /// The first image `out` holds.
    b0: usize,
    out: &'a mut [T],
}

impl<T: Float> pulp::WithSimd for PoolFwd<'_, T> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        let g = self.g;
        let c = g.c;
        for (p, o) in self.out.chunks_exact_mut(c).enumerate() {
            let p = p + self.b0 * g.oh * g.ow;
            let (b, y, xx) = (p / (g.oh * g.ow), (p / g.ow) % g.oh, p % g.ow);
            let (rows, cols) = g.window(y, xx);
            let count = rows.len() * cols.len();
            let init = if self.kind == PoolKind::Max {
                T::neg_infinity()
            } else {
                T::zero()
            };
            o.iter_mut().for_each(|v| *v = init);
            for iy in rows {
                for ix in cols.clone() {
                    let src = &self.x[((b * g.h + iy) * g.w + ix) * c..][..c];
                    match self.kind {
                        PoolKind::Max => o.iter_mut().zip(src).for_each(|(a, &v)| *a = a.maxf(v)),
                        PoolKind::Avg => o.iter_mut().zip(src).for_each(|(a, &v)| *a += v),
                    }
                }
            }
            if self.kind == PoolKind::Avg {
                let inv = T::c(1.0 / count.max(1) as f64);
                o.iter_mut().for_each(|v| *v *= inv);
            }
        }
    }
}

/// The backward pass: to the first maximum of each window (as TensorFlow), or evenly over the
/// window's real inputs.
struct PoolBwd<'a, T> {
    g: Geom,
    kind: PoolKind,
    x: &'a [T],
    y: &'a [T],
    gy: &'a [T],
    dx: &'a mut [T],
}

impl<T: Float> pulp::WithSimd for PoolBwd<'_, T> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        let g = self.g;
        let c = g.c;
        // What is left of each channel's gradient in the current window: the first input equal
        // to the window's maximum takes it all (branch-free, so the loops vectorize).
        let mut left = vec![T::zero(); c];
        for (p, go) in self.gy.chunks_exact(c).enumerate() {
            let (b, y, xx) = (p / (g.oh * g.ow), (p / g.ow) % g.oh, p % g.ow);
            let (rows, cols) = g.window(y, xx);
            match self.kind {
                PoolKind::Avg => {
                    let inv = T::c(1.0 / (rows.len() * cols.len()).max(1) as f64);
                    for iy in rows {
                        for ix in cols.clone() {
                            let d = &mut self.dx[((b * g.h + iy) * g.w + ix) * c..][..c];
                            d.iter_mut().zip(go).for_each(|(a, &v)| *a += v * inv);
                        }
                    }
                }
                PoolKind::Max => {
                    let yo = &self.y[p * c..][..c];
                    left.copy_from_slice(go);
                    for iy in rows {
                        for ix in cols.clone() {
                            let base = ((b * g.h + iy) * g.w + ix) * c;
                            let src = &self.x[base..base + c];
                            let d = &mut self.dx[base..base + c];
                            for (((d, l), &s), &m) in
                                d.iter_mut().zip(left.iter_mut()).zip(src).zip(yo)
                            {
                                let hit = if s == m { *l } else { T::zero() };
                                *d += hit;
                                *l -= hit;
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::check_gradient;
    use candle_core::Device;

    fn t(dims: &[usize], a: f64) -> Tensor {
        let n: usize = dims.iter().product();
        // Distinct values, so the maxima are unique and finite differences are valid.
        Tensor::from_vec(
            (0..n)
                .map(|i| ((i as f64) * a + 0.3).sin() + i as f64 * 1e-3)
                .collect::<Vec<_>>(),
            dims,
            &Device::Cpu,
        )
        .unwrap()
    }

    #[test]
    fn values_and_shapes() {
        let x = Tensor::from_vec(
            (0..16).map(|v| v as f64).collect::<Vec<_>>(),
            (1, 4, 4, 1),
            &Device::Cpu,
        )
        .unwrap();
        let m = pool2d(&x, PoolKind::Max, (2, 2), (2, 2), Padding::Valid).unwrap();
        assert_eq!(
            crate::ops::to_vec_f64(&m).unwrap(),
            vec![5.0, 7.0, 13.0, 15.0]
        );
        let a = pool2d(&x, PoolKind::Avg, (3, 3), (2, 2), Padding::Same).unwrap();
        assert_eq!(a.dims(), &[1, 2, 2, 1]);
        // The bottom-right window sees rows 2..4 and columns 2..4 only: (10+11+14+15)/4.
        assert_eq!(crate::ops::to_vec_f64(&a).unwrap()[3], 12.5);
        assert!(pool2d(&x, PoolKind::Max, (5, 5), (1, 1), Padding::Valid).is_err());
    }

    #[test]
    fn gradients_kernel_not_equal_stride_non_square() {
        for kind in [PoolKind::Max, PoolKind::Avg] {
            for (pool, strides, pad) in [
                ((2, 2), (2, 2), Padding::Valid),
                ((3, 2), (1, 2), Padding::Valid),
                ((3, 3), (2, 2), Padding::Same),
            ] {
                let x = t(&[2, 5, 7, 3], 0.77);
                let y = pool2d(&x, kind, pool, strides, pad).unwrap();
                let r = t(y.dims(), 0.41);
                check_gradient(
                    &[x],
                    |v| {
                        Ok(pool2d(&v[0], kind, pool, strides, pad)?
                            .mul(&r)?
                            .sum_all()?)
                    },
                    1e-6,
                    1e-6,
                )
                .unwrap_or_else(|e| panic!("{kind:?} {pool:?} {strides:?}: {e}"));
            }
        }
    }
}
