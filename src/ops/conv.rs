//! 2D convolution and its transpose in Keras's `channels_last` layout (NHWC), as im2col + one
//! gemm, with bias and activation fused and a hand-written backward. 1D convolutions are 2D
//! ones of height 1.
//!
//! Kernels are Keras's: `(kh, kw, in, out)` for a convolution and `(kh, kw, out, in)` for a
//! transposed one, so Keras weights load unchanged.

use super::activation::{activation, activation_grad, apply_in_place, Act};
use super::{contiguous, dispatch_float, gemm, storage, Float, GradSink};
use crate::{Error, Result};
use candle_core::{CpuStorage, CustomOp2, CustomOp3, DType, Layout, Shape, Tensor};

/// The geometry of a 2D convolution over NHWC data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeom {
    /// Batch size.
    pub n: usize,
    /// Input height and width.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Input channels.
    pub c: usize,
    /// Kernel height.
    pub kh: usize,
    /// Kernel width.
    pub kw: usize,
    /// Strides.
    pub sh: usize,
    /// Stride along the width.
    pub sw: usize,
    /// Dilation along the height.
    pub dh: usize,
    /// Dilation along the width.
    pub dw: usize,
    /// Zero padding at the top.
    pub pt: usize,
    /// Zero padding at the left.
    pub pl: usize,
    /// Output height.
    pub oh: usize,
    /// Output width.
    pub ow: usize,
}

/// `valid` (no padding) or `same` (output size `ceil(input / stride)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    /// No padding.
    Valid,
    /// Pad so that the output has `ceil(input / stride)` positions (TensorFlow's rule: the
    /// extra row/column goes at the bottom/right).
    Same,
}

impl Padding {
    /// `"valid"` or `"same"`.
    pub fn parse(s: &str) -> Result<Padding> {
        match s.to_lowercase().as_str() {
            "valid" => Ok(Padding::Valid),
            "same" => Ok(Padding::Same),
            other => Err(Error::value(format!(
                "The `padding` argument must be a string, one of \"valid\", \"same\" (case-insensitive). Received: padding={other}"
            ))),
        }
    }

    /// Output size and (before, after) padding along one axis, or None when the (dilated)
    /// kernel does not fit.
    pub fn out_size(
        self,
        input: usize,
        k: usize,
        stride: usize,
        dilation: usize,
    ) -> Option<(usize, usize, usize)> {
        if k == 0 || stride == 0 || dilation == 0 {
            return None;
        }
        let ek = dilation * (k - 1) + 1;
        match self {
            Padding::Valid => (input >= ek).then(|| ((input - ek) / stride + 1, 0, 0)),
            Padding::Same => {
                let out = input.div_ceil(stride);
                let total = ((out - 1) * stride + ek).saturating_sub(input);
                Some((out, total / 2, total - total / 2))
            }
        }
    }
}

impl ConvGeom {
    /// The geometry for input `(n, h, w, c)` and kernel `(kh, kw)`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        input: [usize; 4],
        kernel: (usize, usize),
        strides: (usize, usize),
        dilation: (usize, usize),
        padding: Padding,
    ) -> Result<ConvGeom> {
        let [n, h, w, c] = input;
        let (kh, kw) = kernel;
        let (oh, pt, _) = padding
            .out_size(h, kh, strides.0, dilation.0)
            .ok_or_else(|| too_big(input, kernel))?;
        let (ow, pl, _) = padding
            .out_size(w, kw, strides.1, dilation.1)
            .ok_or_else(|| too_big(input, kernel))?;
        Ok(ConvGeom {
            n,
            h,
            w,
            c,
            kh,
            kw,
            sh: strides.0,
            sw: strides.1,
            dh: dilation.0,
            dw: dilation.1,
            pt,
            pl,
            oh,
            ow,
        })
    }

    pub(super) fn k(&self) -> usize {
        self.kh * self.kw * self.c
    }

    fn rows(&self) -> usize {
        self.n * self.oh * self.ow
    }

    /// The input position read by output (y, x) and kernel tap (i, j), if inside the image.
    #[inline]
    fn src(&self, y: usize, x: usize, i: usize, j: usize) -> Option<(usize, usize)> {
        let iy = (y * self.sh + i * self.dh) as isize - self.pt as isize;
        let ix = (x * self.sw + j * self.dw) as isize - self.pl as isize;
        (iy >= 0 && ix >= 0 && (iy as usize) < self.h && (ix as usize) < self.w)
            .then_some((iy as usize, ix as usize))
    }
}

pub(super) fn too_big(input: [usize; 4], kernel: (usize, usize)) -> Error {
    Error::shape(format!(
        "the kernel of size {kernel:?} is larger than the (padded) input of spatial size ({}, {})",
        input[1], input[2]
    ))
}

/// Rows `[r0, r1)` of the im2col matrix (each row: the `kh*kw*c` input values an output
/// position sees, zeros outside the image). A kernel row whose taps all fall inside the image
/// (no dilation) is one contiguous copy of `kw * c` values.
pub(super) fn im2col<T: Float>(g: &ConvGeom, x: &[T], r0: usize, r1: usize, col: &mut [T]) {
    let k = g.k();
    let seg = g.kw * g.c;
    // (batch, output row, output column) of row r0, then counted up: no divisions per row.
    let (mut b, mut y, mut xx) = (r0 / (g.oh * g.ow), (r0 / g.ow) % g.oh, r0 % g.ow);
    for row in col[..(r1 - r0) * k].chunks_exact_mut(k) {
        let (b, y, xx) = {
            let cur = (b, y, xx);
            xx += 1;
            if xx == g.ow {
                xx = 0;
                y += 1;
                if y == g.oh {
                    y = 0;
                    b += 1;
                }
            }
            cur
        };
        let ix0 = (xx * g.sw) as isize - g.pl as isize;
        let row_inside = g.dw == 1 && ix0 >= 0 && ix0 as usize + g.kw <= g.w;
        for i in 0..g.kh {
            let iy = (y * g.sh + i * g.dh) as isize - g.pt as isize;
            let dst = &mut row[i * seg..(i + 1) * seg];
            if iy < 0 || iy as usize >= g.h {
                dst.iter_mut().for_each(|v| *v = T::zero());
                continue;
            }
            if row_inside {
                let s = ((b * g.h + iy as usize) * g.w + ix0 as usize) * g.c;
                copy_small(dst, &x[s..s + seg]);
                continue;
            }
            for j in 0..g.kw {
                let d = &mut dst[j * g.c..(j + 1) * g.c];
                let ix = ix0 + (j * g.dw) as isize;
                if ix >= 0 && (ix as usize) < g.w {
                    let s = ((b * g.h + iy as usize) * g.w + ix as usize) * g.c;
                    copy_small(d, &x[s..s + g.c]);
                } else {
                    d.iter_mut().for_each(|v| *v = T::zero());
                }
            }
        }
    }
}

/// `dst.copy_from_slice(src)`, with the short lengths of first-layer convolutions (1 to 16
/// values: a kernel row over 1 or 3 channels) as fixed-size moves instead of `memmove` calls,
/// which dominated im2col for MNIST's one-channel input.
#[inline(always)]
fn copy_small<T: Copy>(dst: &mut [T], src: &[T]) {
    #[inline(always)]
    fn fixed<T: Copy, const N: usize>(dst: &mut [T], src: &[T]) {
        let s: &[T; N] = src[..N].try_into().expect("length checked");
        let d: &mut [T; N] = (&mut dst[..N]).try_into().expect("length checked");
        *d = *s;
    }
    match dst.len() {
        1 => dst[0] = src[0],
        2 => fixed::<T, 2>(dst, src),
        3 => fixed::<T, 3>(dst, src),
        4 => fixed::<T, 4>(dst, src),
        5 => fixed::<T, 5>(dst, src),
        6 => fixed::<T, 6>(dst, src),
        7 => fixed::<T, 7>(dst, src),
        8 => fixed::<T, 8>(dst, src),
        9 => fixed::<T, 9>(dst, src),
        12 => fixed::<T, 12>(dst, src),
        15 => fixed::<T, 15>(dst, src),
        16 => fixed::<T, 16>(dst, src),
        _ => dst.copy_from_slice(src),
    }
}

/// Adds rows `[r0, r1)` of a column-gradient matrix back into the image gradient; `dx`
/// starts at image `img0`.
fn col2im<T: Float>(g: &ConvGeom, col: &[T], r0: usize, r1: usize, dx: &mut [T], img0: usize) {
    let base = img0 * g.h * g.w * g.c;
    let k = g.k();
    for (r, row) in (r0..r1).zip(col.chunks_exact(k)) {
        let b = r / (g.oh * g.ow);
        let y = (r / g.ow) % g.oh;
        let xx = r % g.ow;
        for i in 0..g.kh {
            for j in 0..g.kw {
                if let Some((iy, ix)) = g.src(y, xx, i, j) {
                    let s = ((b * g.h + iy) * g.w + ix) * g.c - base;
                    let src = &row[(i * g.kw + j) * g.c..(i * g.kw + j + 1) * g.c];
                    for (d, &v) in dx[s..s + g.c].iter_mut().zip(src) {
                        *d += v;
                    }
                }
            }
        }
    }
}

thread_local! {
    static SCRATCH32: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
    static SCRATCH64: std::cell::RefCell<Vec<f64>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` with a reusable scratch buffer of `len` values (the im2col matrix), so every step
/// does not map and fault in fresh pages.
pub(super) fn with_scratch<T: Float, R>(len: usize, f: impl FnOnce(&mut [T]) -> R) -> R {
    fn take<U: Clone + Default>(v: &mut Vec<U>, len: usize) -> Vec<U> {
        let mut b = std::mem::take(v);
        if b.len() < len {
            b.resize(len, U::default());
        }
        b
    }
    if std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>() {
        let mut buf = SCRATCH32.with(|s| take(&mut s.borrow_mut(), len));
        // SAFETY: T is f32 (checked above) and the buffer holds at least `len` values.
        let r = f(unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr() as *mut T, len) });
        SCRATCH32.with(|s| *s.borrow_mut() = std::mem::take(&mut buf));
        r
    } else {
        let mut buf = SCRATCH64.with(|s| take(&mut s.borrow_mut(), len));
        // SAFETY: the only other Float is f64; the buffer holds at least `len` values.
        let r = f(unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr() as *mut T, len) });
        SCRATCH64.with(|s| *s.borrow_mut() = std::mem::take(&mut buf));
        r
    }
}

/// Rows per im2col block: a block of the column matrix (about 512 KB) stays in the core's L2
/// cache between being written and being multiplied.
pub(super) fn block_rows<T>(g: &ConvGeom) -> usize {
    let per_row = g.k() * std::mem::size_of::<T>();
    ((512 << 10) / per_row.max(1)).clamp(16, 4096)
}

/// Images `[b0, b1)` per thread: each thread runs whole images (their output rows, and the
/// part of the input gradient they write), block by block.
pub(super) fn image_parts(g: &ConvGeom, f: usize) -> Vec<(usize, usize)> {
    let work = g.rows() * g.k() * f;
    let parts = if work >= super::PARALLEL_MACS {
        super::parallel::threads().clamp(1, g.n.max(1))
    } else {
        1
    };
    let step = g.n.div_ceil(parts.max(1)).max(1);
    (0..parts)
        .map(|p| (p * step, ((p + 1) * step).min(g.n)))
        .filter(|(a, b)| a < b)
        .collect()
}

/// Runs `f(part index, b0, b1)` for each part.
pub(super) fn run_parts(parts: &[(usize, usize)], f: impl Fn(usize, usize, usize) + Sync) {
    super::for_each_part(parts.len(), |i| f(i, parts[i].0, parts[i].1));
}

/// `out[rows, f] = act(im2col(x) @ w + bias)`, each thread over whole images in L2-sized row
/// blocks: a block's bias rows are written, multiplied into and activated while in cache, so
/// the output is written once and no pass over it runs on one thread. With `bias` None the
/// product accumulates into `out` (no activation).
fn conv_forward<T: Float>(
    g: &ConvGeom,
    x: &[T],
    w: &[T],
    f: usize,
    out: &mut [T],
    bias: Option<(&[T], Act)>,
) {
    let (k, bs, per_img) = (g.k(), block_rows::<T>(g), g.oh * g.ow);
    let parts = image_parts(g, f);
    let out = super::SharedMut::new(out);
    if super::conv_direct::applies::<T>(g, f) {
        // A thin kernel (a first layer): straight from the image, no im2col matrix.
        return run_parts(&parts, |_, b0, b1| {
            let (rows0, rows1) = (b0 * per_img, b1 * per_img);
            // SAFETY: parts own disjoint images, hence disjoint output rows.
            let o = unsafe { out.slice(rows0 * f, rows1 * f) };
            let start = match bias {
                Some((b, _)) => super::conv_direct::Start::Bias(b),
                None => super::conv_direct::Start::Out,
            };
            super::conv_direct::rows(g, x, w, f, start, rows0, rows1, o);
            if let Some((_, act)) = bias {
                apply_in_place(act, o, f);
            }
        });
    }
    run_parts(&parts, |_, b0, b1| {
        let (rows0, rows1) = (b0 * per_img, b1 * per_img);
        with_scratch::<T, _>(bs.min(rows1 - rows0) * k, |col| {
            let mut r0 = rows0;
            while r0 < rows1 {
                let r1 = (r0 + bs).min(rows1);
                let col = &mut col[..(r1 - r0) * k];
                im2col(g, x, r0, r1, col);
                // SAFETY: parts own disjoint images, hence disjoint output rows.
                let o = unsafe { out.slice(r0 * f, r1 * f) };
                if let Some((b, _)) = bias {
                    fill_rows(o, b);
                }
                gemm(o, col, w, r1 - r0, k, f, false, false, true);
                if let Some((_, act)) = bias {
                    apply_in_place(act, o, f);
                }
                r0 = r1;
            }
        })
    });
}

/// Fills `out` with copies of the row `b` by doubling copies: a few large moves rather than a
/// `memmove` call per short row (32 channels).
pub(super) fn fill_rows<T: Copy>(out: &mut [T], b: &[T]) {
    if out.is_empty() {
        return;
    }
    out[..b.len()].copy_from_slice(b);
    let mut done = b.len();
    while done < out.len() {
        let n = done.min(out.len() - done);
        out.copy_within(..n, done);
        done += n;
    }
}

/// `dw[k, f] = im2col(x)^T @ gy` and `dx = col2im(gy @ w^T)`, each thread over whole images in
/// L2-sized row blocks (its own `dw`, summed at the end; its own images of `dx`).
fn conv_backward<T: Float>(
    g: &ConvGeom,
    x: &[T],
    w: &[T],
    gy: &[T],
    f: usize,
    dw: Option<&mut [T]>,
    dx: Option<&mut [T]>,
) {
    let (k, bs, per_img) = (g.k(), block_rows::<T>(g), g.oh * g.ow);
    let img = g.h * g.w * g.c;
    let parts = image_parts(g, f);
    let want_dw = dw.is_some();
    let mut dw_parts = vec![T::zero(); if want_dw { parts.len() * k * f } else { 0 }];
    let dw_shared = super::SharedMut::new(&mut dw_parts);
    let dx_shared = dx.map(super::SharedMut::new);
    run_parts(&parts, |p, b0, b1| {
        let (rows0, rows1) = (b0 * per_img, b1 * per_img);
        // SAFETY: each part has its own dw slot and its own images of dx.
        let mut dw_p = want_dw.then(|| unsafe { dw_shared.slice(p * k * f, (p + 1) * k * f) });
        let mut dx_p = dx_shared
            .as_ref()
            .map(|d| unsafe { d.slice(b0 * img, b1 * img) });
        with_scratch::<T, _>(bs.min(rows1 - rows0) * k, |col| {
            let mut r0 = rows0;
            while r0 < rows1 {
                let r1 = (r0 + bs).min(rows1);
                let col = &mut col[..(r1 - r0) * k];
                let gyb = &gy[r0 * f..r1 * f];
                if let Some(dw) = dw_p.as_deref_mut() {
                    im2col(g, x, r0, r1, col);
                    gemm(dw, col, gyb, k, r1 - r0, f, true, false, r0 > rows0);
                }
                if let Some(dx) = dx_p.as_deref_mut() {
                    gemm(col, gyb, w, r1 - r0, f, k, false, true, false);
                    col2im(g, col, r0, r1, dx, b0);
                }
                r0 = r1;
            }
        })
    });
    if let Some(dw) = dw {
        let mut chunks = dw_parts.chunks_exact(k * f);
        if let Some(first) = chunks.next() {
            dw.copy_from_slice(first);
        }
        for c in chunks {
            dw.iter_mut().zip(c).for_each(|(a, &b)| *a += b);
        }
    }
}

/// Options of a convolution (`strides`, `padding`, `dilation_rate`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvOpts {
    /// Strides (height, width).
    pub strides: (usize, usize),
    /// Padding mode.
    pub padding: Padding,
    /// Dilation (height, width).
    pub dilation: (usize, usize),
}

/// The geometry of `conv2d(x, kernel)` and the filter count, with the errors for a kernel
/// whose channels differ from the input's or that does not fit it.
pub(super) fn geometry(x: &Tensor, kernel: &Tensor, opts: ConvOpts) -> Result<(ConvGeom, usize)> {
    let (n, h, w, c) = x.dims4()?;
    let (kh, kw, kc, f) = kernel.dims4()?;
    if kc != c {
        return Err(Error::shape(format!(
            "conv2d: the input has {c} channels but the kernel expects {kc} (kernel shape ({kh}, {kw}, {kc}, {f}))"
        )));
    }
    let g = ConvGeom::new(
        [n, h, w, c],
        (kh, kw),
        opts.strides,
        opts.dilation,
        opts.padding,
    )?;
    Ok((g, f))
}

/// A half-precision convolution on the CPU, computed in float32 (candle's CPU matmul has
/// no half types); `None` for every other input.
fn half_on_cpu(
    x: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    f: impl FnOnce(&[Tensor]) -> Result<Tensor>,
) -> Option<Result<Tensor>> {
    if !x.device().is_cpu() || !matches!(x.dtype(), DType::F16 | DType::BF16) {
        return None;
    }
    let mut ins = vec![x, kernel];
    ins.extend(bias);
    Some(super::device::on_host(&ins, f))
}

/// `activation(conv2d(x, kernel) + bias)` for NHWC `x` and a Keras kernel `(kh, kw, c, f)`.
/// With gradient sinks on, the kernel and bias gradients go to `sinks`.
pub fn conv2d(
    x: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    opts: ConvOpts,
    act: Act,
    sinks: Option<(&GradSink, Option<&GradSink>)>,
) -> Result<Tensor> {
    if let Some(y) = half_on_cpu(x, kernel, bias, |h| {
        conv2d(&h[0], &h[1], h.get(2), opts, act, None)
    }) {
        return y;
    }
    let (g, f) = geometry(x, kernel, opts)?;
    let fused_act = if act.grad_from_output() {
        act
    } else {
        Act::Linear
    };
    // A sink may only stand in for a gradient that candle would hand straight to a variable:
    // an intermediate tensor left without a gradient would stop candle's backward.
    let sinks = weight_sinks(kernel, bias, sinks);
    let op = ConvOp {
        g,
        f,
        act: fused_act,
        sinks,
    };
    let b = match bias {
        Some(b) => b.clone(),
        None => Tensor::zeros(f, kernel.dtype(), kernel.device())?,
    };
    let fused = super::device::host_kernel_takes(x) && x.dtype() == kernel.dtype();
    let y = if fused {
        x.contiguous()?
            .apply_op3(&kernel.contiguous()?, &b.contiguous()?, op)?
    } else {
        // Other devices: candle's convolution.
        let k = super::conv_composed::kernel_fchw(kernel)?;
        super::conv_composed::conv2d(x, &k, Some(&b), opts, &g, 1)?
    };
    if fused && fused_act == act {
        Ok(y)
    } else {
        activation(&y, act)
    }
}

struct ConvOp {
    g: ConvGeom,
    f: usize,
    act: Act,
    sinks: Option<(GradSink, Option<GradSink>)>,
}

impl CustomOp3 for ConvOp {
    fn name(&self) -> &'static str {
        "conv2d"
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
        fn run<T: Float>(
            op: &ConvOp,
            sx: &CpuStorage,
            lx: &Layout,
            sk: &CpuStorage,
            lk: &Layout,
            sb: &CpuStorage,
            lb: &Layout,
        ) -> candle_core::Result<CpuStorage> {
            let x = contiguous::<T>("conv2d", sx, lx)?;
            let k = contiguous::<T>("conv2d", sk, lk)?;
            let b = contiguous::<T>("conv2d", sb, lb)?;
            let out_len = op.g.rows() * op.f;
            // SAFETY: conv_forward writes every row's bias before multiplying into it.
            let mut out = unsafe { super::uninit_vec::<T>(out_len) };
            conv_forward(&op.g, x, k, op.f, &mut out, Some((b, op.act)));
            Ok(storage(out))
        }
        let out = dispatch_float!("conv2d", sx, run(self, sx, lx, sk, lk, sb, lb))?;
        Ok((out, Shape::from((self.g.n, self.g.oh, self.g.ow, self.f))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        k: &Tensor,
        b: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let gy = activation_grad(res, grad, self.act)?;
        let grads = ConvGrads {
            op: self,
            want_dx: x.track_op(),
        };
        let dwb = x.detach().apply_op3_no_bwd(&k.detach(), &gy, &grads)?;
        split_grads(&dwb, self.g.k() * self.f, x, k, b, self.sinks.as_ref())
    }
}

/// The sinks a fused convolution hands its weight gradients to, where candle would hand them
/// straight to the variables (see `conv2d`).
pub(super) fn weight_sinks(
    kernel: &Tensor,
    bias: Option<&Tensor>,
    sinks: Option<(&GradSink, Option<&GradSink>)>,
) -> Option<(GradSink, Option<GradSink>)> {
    sinks
        .filter(|_| super::sinks_enabled() && kernel.is_variable())
        .map(|(k, b)| {
            (
                k.clone(),
                b.filter(|_| bias.is_some_and(Tensor::is_variable)).cloned(),
            )
        })
}

/// Splits a `[dW | db | dx]` buffer into the gradients of x, the kernel and the bias,
/// sending the weights' to their sinks where there are sinks.
#[allow(clippy::type_complexity)]
pub(super) fn split_grads(
    dwb: &Tensor,
    kn: usize,
    x: &Tensor,
    k: &Tensor,
    b: &Tensor,
    sinks: Option<&(GradSink, Option<GradSink>)>,
) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
    let f = b.elem_count();
    let flat = dwb.flatten_all()?;
    let dw = flat.narrow(0, 0, kn)?.reshape(k.shape())?;
    let db = flat.narrow(0, kn, f)?;
    let dx = if x.track_op() {
        Some(flat.narrow(0, kn + f, x.elem_count())?.reshape(x.shape())?)
    } else {
        None
    };
    let db = b.track_op().then_some(db);
    match sinks {
        Some((sk, sb)) => {
            sk.add(dw)?;
            match (sb, db) {
                (Some(sb), Some(db)) => {
                    sb.add(db)?;
                    Ok((dx, None, None))
                }
                (_, db) => Ok((dx, None, db)),
            }
        }
        None => Ok((dx, Some(dw), db)),
    }
}

/// `[dW | db | dx]` (dx only with `want_dx`; `total` values) for the output gradient `gy`.
pub(super) fn conv_grads<T: Float>(
    g: &ConvGeom,
    f: usize,
    x: &[T],
    k: &[T],
    gy: &[T],
    want_dx: bool,
    total: usize,
) -> Vec<T> {
    let kn = g.k() * f;
    let mut out = vec![T::zero(); total];
    let (dw, rest) = out.split_at_mut(kn);
    let (db, dx) = rest.split_at_mut(f);
    if super::conv_direct::applies::<T>(g, f) {
        // A thin kernel: its gradient and the bias's in one pass over the image, in registers.
        super::conv_direct::kernel_grads(g, x, gy, f, dw, db);
        if want_dx {
            conv_backward(g, x, k, gy, f, None, Some(dx));
        }
        return out;
    }
    for row in gy.chunks_exact(f) {
        for (d, &v) in db.iter_mut().zip(row) {
            *d += v;
        }
    }
    conv_backward(g, x, k, gy, f, Some(dw), want_dx.then_some(dx));
    out
}

/// (x, kernel, gy) -> `[dW | db | dx]` flattened in one buffer.
struct ConvGrads<'a> {
    op: &'a ConvOp,
    want_dx: bool,
}

impl CustomOp3 for ConvGrads<'_> {
    fn name(&self) -> &'static str {
        "conv2d_grads"
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
        let g = &self.op.g;
        let f = self.op.f;
        let kn = g.k() * f;
        let xn = g.n * g.h * g.w * g.c;
        let total = kn + f + if self.want_dx { xn } else { 0 };
        fn run<T: Float>(
            me: &ConvGrads,
            sx: &CpuStorage,
            lx: &Layout,
            sk: &CpuStorage,
            lk: &Layout,
            sg: &CpuStorage,
            lg: &Layout,
            total: usize,
        ) -> candle_core::Result<CpuStorage> {
            let x = contiguous::<T>("conv2d_grads", sx, lx)?;
            let k = contiguous::<T>("conv2d_grads", sk, lk)?;
            let gy = contiguous::<T>("conv2d_grads", sg, lg)?;
            let out = conv_grads(&me.op.g, me.op.f, x, k, gy, me.want_dx, total);
            Ok(storage(out))
        }
        Ok((
            dispatch_float!("conv2d_grads", sx, run(self, sx, lx, sk, lk, sg, lg, total))?,
            Shape::from(total),
        ))
    }
}

/// `activation(conv2d_transpose(x, kernel) + bias)` for NHWC `x` and a Keras transposed kernel
/// `(kh, kw, f, c)`; `out_hw` is the output's spatial size.
pub fn conv2d_transpose(
    x: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    opts: ConvOpts,
    out_hw: (usize, usize),
    act: Act,
) -> Result<Tensor> {
    if let Some(y) = half_on_cpu(x, kernel, bias, |h| {
        conv2d_transpose(&h[0], &h[1], h.get(2), opts, out_hw, act)
    }) {
        return y;
    }
    let (n, h, w, c) = x.dims4()?;
    let (kh, kw, f, kc) = kernel.dims4()?;
    if kc != c {
        return Err(Error::shape(format!(
            "conv2d_transpose: the input has {c} channels but the kernel expects {kc} (kernel shape ({kh}, {kw}, {f}, {kc}))"
        )));
    }
    // The forward convolution that maps the output back to the input shape.
    let g = ConvGeom::new(
        [n, out_hw.0, out_hw.1, f],
        (kh, kw),
        opts.strides,
        opts.dilation,
        opts.padding,
    )?;
    if (g.oh, g.ow) != (h, w) {
        return Err(Error::shape(format!(
            "conv2d_transpose: output size {out_hw:?} does not map back to the input size ({h}, {w})"
        )));
    }
    let y = if super::device::host_kernel_takes(x) && x.dtype() == kernel.dtype() {
        x.contiguous()?
            .apply_op2(&kernel.contiguous()?, TransposeOp { g, c })?
    } else {
        super::conv_composed::conv2d_transpose(x, kernel, opts, &g)?
    };
    let y = match bias {
        Some(b) => y.broadcast_add(b)?,
        None => y,
    };
    activation(&y, act)
}

struct TransposeOp {
    /// The geometry of the forward convolution from this op's output to its input.
    g: ConvGeom,
    c: usize,
}

impl CustomOp2 for TransposeOp {
    fn name(&self) -> &'static str {
        "conv2d_transpose"
    }
    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sk: &CpuStorage,
        lk: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        fn run<T: Float>(
            op: &TransposeOp,
            sx: &CpuStorage,
            lx: &Layout,
            sk: &CpuStorage,
            lk: &Layout,
        ) -> candle_core::Result<CpuStorage> {
            let x = contiguous::<T>("conv2d_transpose", sx, lx)?;
            let k = contiguous::<T>("conv2d_transpose", sk, lk)?;
            let g = &op.g;
            let mut out = vec![T::zero(); g.n * g.h * g.w * g.c];
            // y = col2im(x @ k^T): the input gradient of the forward convolution.
            conv_backward(g, &[], k, x, op.c, None, Some(&mut out));
            Ok(storage(out))
        }
        let out = dispatch_float!("conv2d_transpose", sx, run(self, sx, lx, sk, lk))?;
        Ok((out, Shape::from((self.g.n, self.g.h, self.g.w, self.g.c))))
    }
    fn bwd(
        &self,
        x: &Tensor,
        k: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        // dx = conv(gy, k) (the forward convolution); dk = im2col(gy)^T @ x.
        let gy = grad.contiguous()?;
        let dx = if x.track_op() {
            Some(gy.apply_op2_no_bwd(
                &k.detach(),
                &Forward {
                    g: self.g,
                    f: self.c,
                },
            )?)
        } else {
            None
        };
        let dk = gy
            .apply_op2_no_bwd(
                &x.detach(),
                &KernelGrad {
                    g: self.g,
                    f: self.c,
                },
            )?
            .reshape(k.shape())?;
        Ok((dx, Some(dk)))
    }
}

/// The plain forward convolution (no bias, no activation): `im2col(x) @ k`.
struct Forward {
    g: ConvGeom,
    f: usize,
}

impl CustomOp2 for Forward {
    fn name(&self) -> &'static str {
        "conv2d_plain"
    }
    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sk: &CpuStorage,
        lk: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        fn run<T: Float>(
            op: &Forward,
            sx: &CpuStorage,
            lx: &Layout,
            sk: &CpuStorage,
            lk: &Layout,
        ) -> candle_core::Result<CpuStorage> {
            let x = contiguous::<T>("conv2d_plain", sx, lx)?;
            let k = contiguous::<T>("conv2d_plain", sk, lk)?;
            let mut out = vec![T::zero(); op.g.rows() * op.f];
            conv_forward(&op.g, x, k, op.f, &mut out, None);
            Ok(storage(out))
        }
        let out = dispatch_float!("conv2d_plain", sx, run(self, sx, lx, sk, lk))?;
        Ok((out, Shape::from((self.g.n, self.g.oh, self.g.ow, self.f))))
    }
}

/// (image, gy) -> `im2col(image)^T @ gy`: the kernel gradient of a convolution.
struct KernelGrad {
    g: ConvGeom,
    f: usize,
}

impl CustomOp2 for KernelGrad {
    fn name(&self) -> &'static str {
        "conv2d_kernel_grad"
    }
    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sg: &CpuStorage,
        lg: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        fn run<T: Float>(
            op: &KernelGrad,
            sx: &CpuStorage,
            lx: &Layout,
            sg: &CpuStorage,
            lg: &Layout,
        ) -> candle_core::Result<CpuStorage> {
            let x = contiguous::<T>("conv2d_kernel_grad", sx, lx)?;
            let gy = contiguous::<T>("conv2d_kernel_grad", sg, lg)?;
            let mut dw = vec![T::zero(); op.g.k() * op.f];
            conv_backward(&op.g, x, &[], gy, op.f, Some(&mut dw), None);
            Ok(storage(dw))
        }
        let out = dispatch_float!("conv2d_kernel_grad", sx, run(self, sx, lx, sg, lg))?;
        Ok((out, Shape::from(self.g.k() * self.f)))
    }
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

    /// Direct loops, as the definition reads.
    fn naive(x: &Tensor, k: &Tensor, o: ConvOpts) -> Vec<f64> {
        let (n, h, w, c) = x.dims4().unwrap();
        let (kh, kw, _, f) = k.dims4().unwrap();
        let g = ConvGeom::new([n, h, w, c], (kh, kw), o.strides, o.dilation, o.padding).unwrap();
        let xv = crate::ops::to_vec_f64(x).unwrap();
        let kv = crate::ops::to_vec_f64(k).unwrap();
        let mut out = vec![0.0; n * g.oh * g.ow * f];
        for b in 0..n {
            for y in 0..g.oh {
                for xx in 0..g.ow {
                    for ff in 0..f {
                        let mut s = 0.0;
                        for i in 0..kh {
                            for j in 0..kw {
                                if let Some((iy, ix)) = g.src(y, xx, i, j) {
                                    for cc in 0..c {
                                        s += xv[((b * h + iy) * w + ix) * c + cc]
                                            * kv[((i * kw + j) * c + cc) * f + ff];
                                    }
                                }
                            }
                        }
                        out[((b * g.oh + y) * g.ow + xx) * f + ff] = s;
                    }
                }
            }
        }
        out
    }

    fn cases() -> Vec<ConvOpts> {
        vec![
            ConvOpts {
                strides: (1, 1),
                padding: Padding::Valid,
                dilation: (1, 1),
            },
            ConvOpts {
                strides: (2, 2),
                padding: Padding::Same,
                dilation: (1, 1),
            },
            ConvOpts {
                strides: (2, 1),
                padding: Padding::Valid,
                dilation: (1, 1),
            },
            ConvOpts {
                strides: (1, 1),
                padding: Padding::Same,
                dilation: (2, 1),
            },
        ]
    }

    #[test]
    fn matches_the_definition() {
        for o in cases() {
            let x = t(&[2, 7, 5, 3], 0.37);
            let k = t(&[3, 2, 3, 4], 0.71);
            let y = conv2d(&x, &k, None, o, Act::Linear, None).unwrap();
            let want = naive(&x, &k, o);
            let got = crate::ops::to_vec_f64(&y).unwrap();
            assert_eq!(got.len(), want.len(), "{o:?}");
            for (a, b) in got.iter().zip(&want) {
                assert!((a - b).abs() < 1e-12, "{o:?}: {a} vs {b}");
            }
            // Bias and activation are applied block by block, inside the product's threads.
            let bias = t(&[4], 0.9);
            let bv = crate::ops::to_vec_f64(&bias).unwrap();
            let y = conv2d(&x, &k, Some(&bias), o, Act::Relu, None).unwrap();
            let got = crate::ops::to_vec_f64(&y).unwrap();
            for (i, (a, b)) in got.iter().zip(&want).enumerate() {
                let b = (b + bv[i % 4]).max(0.0);
                assert!((a - b).abs() < 1e-12, "{o:?}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn gradients_for_input_kernel_and_bias() {
        for o in cases() {
            let x = t(&[2, 6, 5, 2], 0.37);
            let k = t(&[3, 2, 2, 3], 0.71);
            let b = t(&[3], 0.5);
            let y0 = conv2d(&x, &k, Some(&b), o, Act::Tanh, None).unwrap();
            let r = t(y0.dims(), 0.23);
            check_gradient(
                &[x, k, b],
                |v| {
                    Ok(conv2d(&v[0], &v[1], Some(&v[2]), o, Act::Tanh, None)?
                        .mul(&r)?
                        .sum_all()?)
                },
                1e-6,
                1e-5,
            )
            .unwrap_or_else(|e| panic!("{o:?}: {e}"));
        }
    }

    #[test]
    fn transpose_is_the_adjoint_and_has_gradients() {
        // <conv(a, k), b> == <a, conv_transpose(b, k)> for the same kernel.
        let o = ConvOpts {
            strides: (2, 2),
            padding: Padding::Same,
            dilation: (1, 1),
        };
        let a = t(&[2, 6, 5, 3], 0.31);
        let k = t(&[3, 3, 3, 4], 0.67);
        let y = conv2d(&a, &k, None, o, Act::Linear, None).unwrap();
        let b = t(y.dims(), 0.13);
        let lhs = crate::ops::scalar(&y.mul(&b).unwrap().sum_all().unwrap()).unwrap();
        // Read as a transposed kernel (kh, kw, out = 3, in = 4), the same array maps 4
        // channels back to 3.
        let tk = k.clone();
        let back = conv2d_transpose(&b, &tk, None, o, (6, 5), Act::Linear).unwrap();
        let rhs = crate::ops::scalar(&a.mul(&back).unwrap().sum_all().unwrap()).unwrap();
        assert!((lhs - rhs).abs() < 1e-9, "{lhs} vs {rhs}");
        let r = t(back.dims(), 0.41);
        check_gradient(
            &[b, tk],
            |v| {
                Ok(
                    conv2d_transpose(&v[0], &v[1], None, o, (6, 5), Act::Linear)?
                        .mul(&r)?
                        .sum_all()?,
                )
            },
            1e-6,
            1e-5,
        )
        .unwrap();
    }

    #[test]
    fn kernel_too_big_is_an_error() {
        let x = t(&[1, 2, 2, 1], 0.3);
        let k = t(&[3, 3, 1, 1], 0.3);
        let o = ConvOpts {
            strides: (1, 1),
            padding: Padding::Valid,
            dilation: (1, 1),
        };
        assert!(conv2d(&x, &k, None, o, Act::Linear, None)
            .unwrap_err()
            .to_string()
            .contains("larger than"));
    }

    #[test]
    fn threaded_batches_equal_one_image_at_a_time() {
        // Big enough for the convolution and pooling to split over threads; each single image
        // runs on one thread.
        let g = ConvGeom::new([48, 13, 13, 8], (3, 3), (1, 1), (1, 1), Padding::Valid).unwrap();
        assert_eq!(
            image_parts(&g, 32).len(),
            super::super::parallel::threads().min(48)
        );
        let x = t(&[48, 13, 13, 8], 0.37);
        let k = t(&[3, 3, 8, 32], 0.71);
        let b = t(&[32], 0.29);
        let r = t(&[48, 11, 11, 32], 0.13);
        let opts = ConvOpts {
            strides: (1, 1),
            padding: Padding::Valid,
            dilation: (1, 1),
        };
        let run = |x: &Tensor, r: &Tensor| {
            let xv = candle_core::Var::from_tensor(x).unwrap();
            let y = conv2d(xv.as_tensor(), &k, Some(&b), opts, Act::Tanh, None).unwrap();
            let p = super::super::pool2d(
                &y,
                super::super::PoolKind::Max,
                (2, 2),
                (2, 2),
                Padding::Same,
            )
            .unwrap();
            let loss = y.mul(r).unwrap().sum_all().unwrap() + p.sum_all().unwrap();
            let g = loss.unwrap().backward().unwrap();
            (y, p, g.get(xv.as_tensor()).unwrap().clone())
        };
        let (y, p, dx) = run(&x, &r);
        for i in [0, 17, 47] {
            let (yi, pi, dxi) = run(&x.narrow(0, i, 1).unwrap(), &r.narrow(0, i, 1).unwrap());
            for (big, one) in [(&y, yi), (&p, pi), (&dx, dxi)] {
                let a = super::super::to_vec_f64(&big.narrow(0, i, 1).unwrap()).unwrap();
                let b = super::super::to_vec_f64(&one).unwrap();
                assert!(
                    a.iter().zip(&b).all(|(p, q)| (p - q).abs() < 1e-12),
                    "image {i}"
                );
            }
        }
    }
}
