//! Convolutions with candle's ops, for devices our CPU kernels do not run on (CUDA): candle's
//! NCHW `conv2d` / `conv_transpose2d` (its CUDA kernels and autodiff) behind Keras's NHWC
//! layout, kernel layouts and `same` padding (the extra row / column at the bottom / right).
//! The tests compare them with the CPU kernels, values and gradients.

use super::conv::{ConvGeom, ConvOpts};
use super::pool_composed::strided;
use crate::{Error, Result};
use candle_core::Tensor;

/// `conv2d(x, kernel) + bias` for NHWC `x`, a Keras kernel `(kh, kw, c / groups, f)` and the
/// forward geometry `g`; `groups` as candle's (a depthwise convolution has one per channel).
pub(crate) fn conv2d(
    x: &Tensor,
    kernel_fchw: &Tensor,
    bias: Option<&Tensor>,
    opts: ConvOpts,
    g: &ConvGeom,
    groups: usize,
) -> Result<Tensor> {
    let (kh, kw) = (g.kh, g.kw);
    let pad = |input: usize, k: usize, s: usize, d: usize| {
        opts.padding
            .out_size(input, k, s, d)
            .map(|(_, before, after)| (before, after))
            .ok_or_else(|| Error::shape(format!("conv2d: the kernel ({kh}, {kw}) does not fit")))
    };
    let (pt, pb) = pad(g.h, kh, opts.strides.0, opts.dilation.0)?;
    let (pl, pr) = pad(g.w, kw, opts.strides.1, opts.dilation.1)?;
    // Only the rows and columns the windows read: candle's backward returns a wrongly sized
    // input gradient when the last window leaves some unread ((h - k) % stride != 0).
    let used = |o: usize, k: usize, s: usize, d: usize| (o - 1) * s + d * (k - 1) + 1;
    let xp = x
        .pad_with_zeros(1, pt, pb)?
        .pad_with_zeros(2, pl, pr)?
        .narrow(1, 0, used(g.oh, kh, opts.strides.0, opts.dilation.0))?
        .narrow(2, 0, used(g.ow, kw, opts.strides.1, opts.dilation.1))?
        .permute((0, 3, 1, 2))?
        .contiguous()?;
    if opts.dilation.0 != opts.dilation.1 {
        return Err(Error::value(
            "conv2d on this device needs the same dilation on both axes",
        ));
    }
    let d = opts.dilation.0;
    let (sh, sw) = opts.strides;
    let y = if sh == sw {
        xp.conv2d(kernel_fchw, 0, sh, d, groups)?
    } else {
        // candle takes one stride: every position, then every sh-th row and sw-th column.
        let full = xp.conv2d(kernel_fchw, 0, 1, d, groups)?;
        let rows = strided(&full, 2, 0, sh, g.oh)?;
        strided(&rows, 3, 0, sw, g.ow)?
    };
    let y = y.permute((0, 2, 3, 1))?;
    Ok(match bias {
        Some(b) => y.broadcast_add(b)?,
        None => y,
    })
}

/// A Keras convolution kernel `(kh, kw, c, f)` as candle's `(f, c, kh, kw)`.
pub(crate) fn kernel_fchw(kernel: &Tensor) -> Result<Tensor> {
    Ok(kernel.permute((3, 2, 0, 1))?.contiguous()?)
}

/// A Keras depthwise kernel `(kh, kw, c, m)` as candle's grouped `(c * m, 1, kh, kw)` (output
/// channel `i * m + j` is input channel `i` with multiplier `j`, as Keras orders them).
pub(crate) fn depthwise_fchw(kernel: &Tensor) -> Result<Tensor> {
    let (kh, kw, c, m) = kernel.dims4()?;
    Ok(kernel
        .permute((2, 3, 0, 1))?
        .reshape((c * m, 1, kh, kw))?
        .contiguous()?)
}

/// The transposed convolution: the adjoint of the forward convolution `g` (output `(n, g.h,
/// g.w, g.c)` from input `(n, g.oh, g.ow, f)`), for a Keras kernel `(kh, kw, g.c, f)`.
pub(crate) fn conv2d_transpose(
    x: &Tensor,
    kernel: &Tensor,
    opts: ConvOpts,
    g: &ConvGeom,
) -> Result<Tensor> {
    if opts.strides.0 != opts.strides.1 || opts.dilation.0 != opts.dilation.1 {
        return Err(Error::value(
            "conv2d_transpose on this device needs equal strides and dilations on both axes",
        ));
    }
    let (s, d) = (opts.strides.0, opts.dilation.0);
    // candle's kernel for conv_transpose2d is (in, out, kh, kw): here (f, c, kh, kw).
    let k = kernel.permute((3, 2, 0, 1))?.contiguous()?;
    let xn = x.permute((0, 3, 1, 2))?.contiguous()?;
    // Unpadded: (oh - 1) * s + d * (kh - 1) + 1 rows; the forward padding is cut off the top
    // and left, and rows the forward convolution never read are zeros at the end.
    let full = xn.conv_transpose2d(&k, 0, 0, s, d)?;
    let fit = |t: Tensor, axis: usize, before: usize, want: usize| -> Result<Tensor> {
        let have = t.dim(axis)?;
        let t = t.narrow(axis, before.min(have), (have - before.min(have)).min(want))?;
        let short = want - t.dim(axis)?;
        Ok(if short > 0 {
            t.pad_with_zeros(axis, 0, short)?
        } else {
            t
        })
    };
    let y = fit(full, 2, g.pt, g.h)?;
    let y = fit(y, 3, g.pl, g.w)?;
    Ok(y.permute((0, 2, 3, 1))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{Act, Padding};
    use candle_core::{DType, Var};

    fn rand(dims: &[usize]) -> Tensor {
        crate::random::normal(dims)
            .unwrap()
            .to_dtype(DType::F64)
            .unwrap()
    }

    /// Output and the gradients of every input of `sum(f(xs) * r)`.
    fn value_grads(xs: &[Tensor], f: impl Fn(&[Tensor]) -> Result<Tensor>) -> Vec<Vec<f64>> {
        let vars: Vec<Var> = xs.iter().map(|x| Var::from_tensor(x).unwrap()).collect();
        let ts: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
        let y = f(&ts).unwrap();
        let r = Tensor::arange(0f64, y.elem_count() as f64, y.device())
            .unwrap()
            .affine(0.01, 0.5)
            .unwrap()
            .reshape(y.dims())
            .unwrap();
        let g = (&y * r).unwrap().sum_all().unwrap().backward().unwrap();
        let flat = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f64>().unwrap();
        let mut out = vec![flat(&y)];
        out.extend(ts.iter().map(|t| flat(g.get(t).unwrap())));
        out
    }

    fn same(what: &str, a: &[Vec<f64>], b: &[Vec<f64>]) {
        for (i, (p, q)) in a.iter().zip(b).enumerate() {
            assert_eq!(p.len(), q.len(), "{what} [{i}]");
            for (u, v) in p.iter().zip(q) {
                assert!((u - v).abs() < 1e-9, "{what} [{i}]: {u} vs {v}");
            }
        }
    }

    fn cases() -> Vec<ConvOpts> {
        let o = |s: (usize, usize), padding, d: (usize, usize)| ConvOpts {
            strides: s,
            padding,
            dilation: d,
        };
        vec![
            o((1, 1), Padding::Valid, (1, 1)),
            o((1, 1), Padding::Same, (1, 1)),
            o((2, 2), Padding::Same, (1, 1)),
            o((2, 1), Padding::Same, (1, 1)),
            o((1, 1), Padding::Same, (2, 2)),
            o((3, 3), Padding::Valid, (1, 1)),
        ]
    }

    #[test]
    fn convolutions_equal_the_cpu_kernel() {
        crate::utils::set_random_seed(2);
        let (x, k, b) = (rand(&[2, 8, 7, 3]), rand(&[3, 3, 3, 4]), rand(&[4]));
        for opts in cases() {
            let g = ConvGeom::new(
                [2, 8, 7, 3],
                (3, 3),
                opts.strides,
                opts.dilation,
                opts.padding,
            )
            .unwrap();
            let ours = value_grads(&[x.clone(), k.clone(), b.clone()], |t| {
                conv2d(&t[0], &kernel_fchw(&t[1])?, Some(&t[2]), opts, &g, 1)
            });
            let cpu = value_grads(&[x.clone(), k.clone(), b.clone()], |t| {
                crate::ops::conv2d(&t[0], &t[1], Some(&t[2]), opts, Act::Linear, None)
            });
            same(&format!("conv2d {opts:?}"), &ours, &cpu);
        }
    }

    #[test]
    fn depthwise_convolutions_equal_the_cpu_kernel() {
        crate::utils::set_random_seed(3);
        let (x, k) = (rand(&[2, 7, 6, 3]), rand(&[3, 2, 3, 2]));
        for opts in cases().into_iter().filter(|o| o.strides.0 == o.strides.1) {
            let g = ConvGeom::new(
                [2, 7, 6, 3],
                (3, 2),
                opts.strides,
                opts.dilation,
                opts.padding,
            )
            .unwrap();
            let ours = value_grads(&[x.clone(), k.clone()], |t| {
                conv2d(&t[0], &depthwise_fchw(&t[1])?, None, opts, &g, 3)
            });
            let cpu = value_grads(&[x.clone(), k.clone()], |t| {
                crate::ops::depthwise_conv2d(&t[0], &t[1], opts)
            });
            same(&format!("depthwise {opts:?}"), &ours, &cpu);
        }
    }

    #[test]
    fn transposed_convolutions_equal_the_cpu_kernel() {
        crate::utils::set_random_seed(4);
        // Output (2, 9, 8, 3) from input (2, oh, ow, 4); kernel (3, 3, 3, 4).
        let k = rand(&[3, 3, 3, 4]);
        for opts in cases().into_iter().filter(|o| o.strides.0 == o.strides.1) {
            let g = ConvGeom::new(
                [2, 9, 8, 3],
                (3, 3),
                opts.strides,
                opts.dilation,
                opts.padding,
            )
            .unwrap();
            let x = rand(&[2, g.oh, g.ow, 4]);
            let ours = value_grads(&[x.clone(), k.clone()], |t| {
                conv2d_transpose(&t[0], &t[1], opts, &g)
            });
            let cpu = value_grads(&[x.clone(), k.clone()], |t| {
                crate::ops::conv2d_transpose(&t[0], &t[1], None, opts, (9, 8), Act::Linear)
            });
            same(&format!("conv2d_transpose {opts:?}"), &ours, &cpu);
        }
    }
}
