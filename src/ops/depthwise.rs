//! Depthwise 2D convolution (each channel convolved with its own `depth_multiplier` filters)
//! over NHWC data, forward and backward. Kernel `(kh, kw, c, m)`, as Keras stores it; output
//! channel `c * m + j` comes from input channel `c` and filter `j`.

use super::conv::{ConvGeom, ConvOpts};
use super::{contiguous, dispatch_float, storage, Float};
use crate::{Error, Result};
use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Shape, Tensor};

/// Depthwise convolution of NHWC `x` by a Keras depthwise kernel `(kh, kw, c, m)`.
pub fn depthwise_conv2d(x: &Tensor, kernel: &Tensor, opts: ConvOpts) -> Result<Tensor> {
    let (n, h, w, c) = x.dims4()?;
    let (kh, kw, kc, m) = kernel.dims4()?;
    if kc != c {
        return Err(Error::shape(format!(
            "depthwise_conv2d: input has {c} channels, kernel expects {kc}"
        )));
    }
    let g = ConvGeom::new(
        [n, h, w, c],
        (kh, kw),
        opts.strides,
        opts.dilation,
        opts.padding,
    )?;
    if !x.device().is_cpu() && opts.strides.0 == opts.strides.1 {
        // Other devices: candle's grouped convolution, one group per channel.
        let k = super::conv_composed::depthwise_fchw(kernel)?;
        return super::conv_composed::conv2d(x, &k, None, opts, &g, c);
    }
    if !super::device::host_kernel_takes(x) || kernel.dtype() != x.dtype() {
        return super::device::on_host(&[x, kernel], |h| depthwise_conv2d(&h[0], &h[1], opts));
    }
    Ok(x.contiguous()?
        .apply_op2(&kernel.contiguous()?, Depthwise { g, m })?)
}

struct Depthwise {
    g: ConvGeom,
    m: usize,
}

/// Calls `f(out_pos, in_pos, tap)` for every valid (output position, kernel tap) pair, with
/// flat offsets (in pixels) into the output and input.
fn each_tap(g: &ConvGeom, mut f: impl FnMut(usize, usize, usize)) {
    for b in 0..g.n {
        for y in 0..g.oh {
            for xx in 0..g.ow {
                let o = (b * g.oh + y) * g.ow + xx;
                for i in 0..g.kh {
                    let iy = (y * g.sh + i * g.dh) as isize - g.pt as isize;
                    if iy < 0 || iy as usize >= g.h {
                        continue;
                    }
                    for j in 0..g.kw {
                        let ix = (xx * g.sw + j * g.dw) as isize - g.pl as isize;
                        if ix < 0 || ix as usize >= g.w {
                            continue;
                        }
                        f(o, (b * g.h + iy as usize) * g.w + ix as usize, i * g.kw + j);
                    }
                }
            }
        }
    }
}

impl CustomOp2 for Depthwise {
    fn name(&self) -> &'static str {
        "depthwise_conv2d"
    }

    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sk: &CpuStorage,
        lk: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        fn run<T: Float>(
            op: &Depthwise,
            sx: &CpuStorage,
            lx: &Layout,
            sk: &CpuStorage,
            lk: &Layout,
        ) -> candle_core::Result<CpuStorage> {
            let x = contiguous::<T>("depthwise_conv2d", sx, lx)?;
            let k = contiguous::<T>("depthwise_conv2d", sk, lk)?;
            let (g, m) = (&op.g, op.m);
            let (c, cm) = (g.c, g.c * m);
            let mut out = vec![T::zero(); g.n * g.oh * g.ow * cm];
            each_tap(g, |o, p, t| {
                let (dst, src, ks) = (
                    &mut out[o * cm..(o + 1) * cm],
                    &x[p * c..(p + 1) * c],
                    &k[t * cm..(t + 1) * cm],
                );
                if m == 1 {
                    for ((d, &a), &b) in dst.iter_mut().zip(src).zip(ks) {
                        *d += a * b;
                    }
                } else {
                    for ch in 0..c {
                        for j in 0..m {
                            dst[ch * m + j] += src[ch] * ks[ch * m + j];
                        }
                    }
                }
            });
            Ok(storage(out))
        }
        let out = dispatch_float!("depthwise_conv2d", sx, run(self, sx, lx, sk, lk))?;
        Ok((
            out,
            Shape::from((self.g.n, self.g.oh, self.g.ow, self.g.c * self.m)),
        ))
    }

    fn bwd(
        &self,
        x: &Tensor,
        k: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let both = x.detach().apply_op3_no_bwd(
            &k.detach(),
            &grad.contiguous()?,
            &DepthwiseGrad {
                g: self.g,
                m: self.m,
            },
        )?;
        let xn = x.elem_count();
        let dx = both.narrow(0, 0, xn)?.reshape(x.shape())?;
        let dk = both.narrow(0, xn, k.elem_count())?.reshape(k.shape())?;
        Ok((x.track_op().then_some(dx), Some(dk)))
    }
}

/// (x, k, gy) -> `[dx | dk]`.
struct DepthwiseGrad {
    g: ConvGeom,
    m: usize,
}

impl CustomOp3 for DepthwiseGrad {
    fn name(&self) -> &'static str {
        "depthwise_conv2d_grad"
    }

    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sk: &CpuStorage,
        lk: &Layout,
        sg: &CpuStorage,
        lg: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        fn run<T: Float>(
            op: &DepthwiseGrad,
            sx: &CpuStorage,
            lx: &Layout,
            sk: &CpuStorage,
            lk: &Layout,
            sg: &CpuStorage,
            lg: &Layout,
        ) -> candle_core::Result<CpuStorage> {
            let x = contiguous::<T>("depthwise_conv2d_grad", sx, lx)?;
            let k = contiguous::<T>("depthwise_conv2d_grad", sk, lk)?;
            let gy = contiguous::<T>("depthwise_conv2d_grad", sg, lg)?;
            let (g, m) = (&op.g, op.m);
            let (c, cm) = (g.c, g.c * m);
            let mut out = vec![T::zero(); x.len() + k.len()];
            let (dx, dk) = out.split_at_mut(x.len());
            each_tap(g, |o, p, t| {
                let go = &gy[o * cm..(o + 1) * cm];
                let xs = &x[p * c..(p + 1) * c];
                let ks = &k[t * cm..(t + 1) * cm];
                let dxs = &mut dx[p * c..(p + 1) * c];
                let dks = &mut dk[t * cm..(t + 1) * cm];
                for ch in 0..c {
                    for j in 0..m {
                        let gv = go[ch * m + j];
                        dxs[ch] += gv * ks[ch * m + j];
                        dks[ch * m + j] += gv * xs[ch];
                    }
                }
            });
            Ok(storage(out))
        }
        let n = lx.shape().elem_count() + lk.shape().elem_count();
        Ok((
            dispatch_float!(
                "depthwise_conv2d_grad",
                sx,
                run(self, sx, lx, sk, lk, sg, lg)
            )?,
            Shape::from(n),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{conv2d, Act, Padding};
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
    fn equals_grouped_convolution_and_has_gradients() {
        for (m, o) in [
            (
                1,
                ConvOpts {
                    strides: (1, 1),
                    padding: Padding::Same,
                    dilation: (1, 1),
                },
            ),
            (
                2,
                ConvOpts {
                    strides: (2, 1),
                    padding: Padding::Valid,
                    dilation: (1, 2),
                },
            ),
        ] {
            let x = t(&[2, 6, 5, 3], 0.37);
            let k = t(&[3, 2, 3, m], 0.71);
            let y = depthwise_conv2d(&x, &k, o).unwrap();
            // Channel c alone, with its m filters, is an ordinary convolution.
            for c in 0..3 {
                let kc = k.narrow(2, c, 1).unwrap();
                let yc =
                    conv2d(&x.narrow(3, c, 1).unwrap(), &kc, None, o, Act::Linear, None).unwrap();
                let d = (y.narrow(3, c * m, m).unwrap() - yc)
                    .unwrap()
                    .abs()
                    .unwrap()
                    .max_all()
                    .unwrap()
                    .to_scalar::<f64>()
                    .unwrap();
                assert!(d < 1e-12);
            }
            let r = t(y.dims(), 0.23);
            check_gradient(
                &[x, k],
                |v| Ok(depthwise_conv2d(&v[0], &v[1], o)?.mul(&r)?.sum_all()?),
                1e-6,
                1e-6,
            )
            .unwrap();
        }
    }
}
