//! A direct convolution for thin kernels (few taps times input channels: a first layer over
//! one to three channels), float32 on AVX-512 CPUs: each output pixel's filters accumulate in
//! registers from input values broadcast straight from the image, several pixels at a time,
//! so there is no im2col matrix and no matrix product. With `K = kh * kw * c` as small as 9,
//! im2col writes and reads back more bytes than the product does work, and the product's
//! packing dominates; here the input (a few KB an image) and the kernel stay in L1.
//!
//! [`applies`] says when it runs; the callers fall back to im2col + gemm otherwise.

use super::conv::ConvGeom;
use super::{Act, Float, Padding, PoolKind, PoolSpec};
use std::any::TypeId;

/// `s` as float32 values.
///
/// # Safety
/// `T` must be `f32` (the callers check it through [`applies`]).
unsafe fn cast<T>(s: &[T]) -> &[f32] {
    std::slice::from_raw_parts(s.as_ptr() as *const f32, s.len())
}

/// [`cast`] for a mutable slice.
///
/// # Safety
/// As for [`cast`].
unsafe fn cast_mut<T>(s: &mut [T]) -> &mut [f32] {
    std::slice::from_raw_parts_mut(s.as_mut_ptr() as *mut f32, s.len())
}

/// Taps times input channels at most (the kernel, `K x f` floats, stays in L1).
const MAX_K: usize = 64;

/// Whether [`rows`] runs this convolution: float32, a CPU with AVX-512, at most 64 taps times
/// input channels, and 16, 32, 48 or 64 filters.
pub(super) fn applies<T: 'static>(g: &ConvGeom, f: usize) -> bool {
    TypeId::of::<T>() == TypeId::of::<f32>()
        && g.k() <= MAX_K
        && f.is_multiple_of(16)
        && (16..=64).contains(&f)
        && avx512()
}

fn avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Where each output row's accumulation starts.
#[derive(Clone, Copy)]
pub(super) enum Start<'a, T> {
    /// The bias (one value per filter).
    Bias(&'a [T]),
    /// What `out` holds already.
    Out,
}

/// `out[r - r0, :] (+)= conv(x, w)[r, :]` for the output rows (batch, y, x flattened) `r0..r1`
/// of NHWC `x` and HWIO `w` (`K x f`), starting from the bias or from `out`. Only where
/// [`applies`] is true; elsewhere it panics (a caller's bug).
pub(super) fn rows<T: Float>(
    g: &ConvGeom,
    x: &[T],
    w: &[T],
    f: usize,
    start: Start<'_, T>,
    r0: usize,
    r1: usize,
    out: &mut [T],
) {
    assert!(applies::<T>(g, f), "conv_direct::rows outside its cases");
    assert!(out.len() >= (r1 - r0) * f && w.len() >= g.k() * f);
    assert!(x.len() >= g.n * g.h * g.w * g.c && r1 <= g.n * g.oh * g.ow);
    if let Start::Bias(b) = start {
        assert!(b.len() >= f);
    }
    #[cfg(target_arch = "x86_64")]
    // SAFETY: T is f32 and AVX-512 is present (both checked by `applies`); the bounds are
    // asserted above and every input index is checked against the image by the kernel.
    unsafe {
        let start = match start {
            Start::Bias(b) => Some(cast(b)),
            Start::Out => None,
        };
        let out = cast_mut(out);
        let k = avx512::Kernel::new(g, cast(x), cast(w), f);
        // 16 accumulators (8 pixels of 32 filters) where the filters come in 32s.
        if f.is_multiple_of(32) {
            avx512::rows::<2, 8>(&k, start, r0, r1, out)
        } else {
            avx512::rows::<1, 8>(&k, start, r0, r1, out)
        }
    }
}

/// Whether [`max_pooled`] runs `pool(act(conv + bias))`: where [`applies`], with max pooling
/// by 2x2 or 3x3 windows that tile the output (strides equal to the window,
/// `valid` padding), and a piecewise-linear activation (`linear`, `relu`, `relu6`, a leaky
/// ReLU), which the max commutes with exactly. (Non-finite values may differ from the
/// unfused ops': a NaN is kept only where it is a window's last pixel, and padded taps are
/// skipped rather than multiplied by zero.)
pub(super) fn pools<T: 'static>(g: &ConvGeom, f: usize, pool: &PoolSpec, act: Act) -> bool {
    let window = matches!(pool.pool, (2, 2) | (3, 3));
    let act_ok = match act {
        Act::Linear | Act::Relu | Act::Relu6 => true,
        Act::LeakyRelu(s) => (0.0..f64::INFINITY).contains(&s),
        _ => false,
    };
    applies::<T>(g, f)
        && window
        && act_ok
        && pool.kind == PoolKind::Max
        && pool.strides == pool.pool
        && pool.padding == Padding::Valid
        && g.oh >= pool.pool.0
        && g.ow >= pool.pool.1
}

/// Images `i0..i1` of NHWC `x` convolved with HWIO `w` (`K x f`), the bias added, and
/// max-pooled by `pool` into `out` (`(i1 - i0) * (oh / ph) * (ow / pw) * f` values; the caller
/// applies the activation). Only where [`pools`] is true; elsewhere it panics.
pub(super) fn max_pooled<T: Float>(
    g: &ConvGeom,
    x: &[T],
    w: &[T],
    f: usize,
    bias: &[T],
    pool: (usize, usize),
    (i0, i1): (usize, usize),
    out: &mut [T],
) {
    assert!(applies::<T>(g, f) && matches!(pool, (2, 2) | (3, 3)));
    let pooled = (g.oh / pool.0) * (g.ow / pool.1) * f;
    assert!(out.len() >= (i1 - i0) * pooled && i1 <= g.n && bias.len() >= f);
    assert!(w.len() >= g.k() * f && x.len() >= g.n * g.h * g.w * g.c);
    #[cfg(target_arch = "x86_64")]
    // SAFETY: as in `rows`.
    unsafe {
        let out = cast_mut(out);
        let k = avx512::Kernel::new(g, cast(x), cast(w), f);
        let (b, imgs) = (cast(bias), (i0, i1));
        // Two 2x2 windows (or one 3x3) of 32 filters (16 where they come in 16s) at a time.
        match (pool, f.is_multiple_of(32)) {
            ((2, 2), true) => avx512::max_pooled::<2, 8, 4>(&k, b, pool, imgs, out),
            ((2, 2), false) => avx512::max_pooled::<1, 8, 4>(&k, b, pool, imgs, out),
            (_, true) => avx512::max_pooled::<2, 9, 9>(&k, b, pool, imgs, out),
            (_, false) => avx512::max_pooled::<1, 9, 9>(&k, b, pool, imgs, out),
        }
    }
}

/// The kernel's and the bias's gradients, `dw[t, :] = sum_r x_t(r) * dy[r, :]` and
/// `db = sum_r dy[r, :]` over every output row `r` (`x_t(r)`: the input value tap `t` of row
/// `r` reads, zero in the padding), written to `dw` (`K x f`) and `db` (`f`). Each thread
/// accumulates its images in registers straight from the image: no im2col matrix. Only where
/// [`applies`] is true; elsewhere it panics.
pub(super) fn kernel_grads<T: Float>(
    g: &ConvGeom,
    x: &[T],
    dy: &[T],
    f: usize,
    dw: &mut [T],
    db: &mut [T],
) {
    assert!(
        applies::<T>(g, f),
        "conv_direct::kernel_grads outside its cases"
    );
    let (k, rows) = (g.k(), g.n * g.oh * g.ow);
    assert!(dw.len() >= k * f && db.len() >= f && dy.len() >= rows * f);
    assert!(x.len() >= g.n * g.h * g.w * g.c);
    let parts = super::conv::image_parts(g, f);
    let len = k * f + f;
    let mut partial = vec![0f32; parts.len() * len];
    #[cfg(target_arch = "x86_64")]
    // SAFETY: as in `rows`; each part writes its own slot of `partial`.
    unsafe {
        let (xs, dys) = (cast(x), cast(dy));
        let kern = avx512::Kernel::new(g, xs, &[], f);
        let shared = super::SharedMut::new(&mut partial);
        super::conv::run_parts(&parts, |p, b0, b1| {
            let slot = shared.slice(p * len, (p + 1) * len);
            let (pw, pb) = slot.split_at_mut(k * f);
            if f.is_multiple_of(32) {
                avx512::kernel_grads::<2, 10>(&kern, dys, (b0, b1), pw, pb)
            } else {
                avx512::kernel_grads::<1, 20>(&kern, dys, (b0, b1), pw, pb)
            }
        });
    }
    // SAFETY: T is f32.
    let (dw, db) = unsafe { (cast_mut(dw), cast_mut(db)) };
    dw[..k * f].iter_mut().for_each(|v| *v = 0.0);
    db[..f].iter_mut().for_each(|v| *v = 0.0);
    for slot in partial.chunks_exact(len) {
        dw.iter_mut().zip(&slot[..k * f]).for_each(|(a, b)| *a += b);
        db.iter_mut().zip(&slot[k * f..]).for_each(|(a, b)| *a += b);
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::ConvGeom;
    use std::arch::x86_64::*;

    /// A kernel tap: its row and column offsets in the input (dilated) and channel, and its
    /// offset from a pixel's top-left input value.
    struct Tap {
        dy: usize,
        dx: usize,
        ch: usize,
        off: usize,
    }

    /// The convolution of one geometry: its taps, and which output pixels read only inside
    /// the image.
    pub(super) struct Kernel<'a> {
        g: &'a ConvGeom,
        x: &'a [f32],
        w: &'a [f32],
        /// Filters (the kernel's row length).
        f: usize,
        taps: Vec<Tap>,
        span_h: usize,
        x_lo: usize,
        x_hi: usize,
    }

    impl<'a> Kernel<'a> {
        pub(super) fn new(g: &'a ConvGeom, x: &'a [f32], w: &'a [f32], f: usize) -> Self {
            let mut taps = Vec::with_capacity(g.k());
            for i in 0..g.kh {
                for j in 0..g.kw {
                    for ch in 0..g.c {
                        let (dy, dx) = (i * g.dh, j * g.dw);
                        let off = (dy * g.w + dx) * g.c + ch;
                        taps.push(Tap { dy, dx, ch, off });
                    }
                }
            }
            let (span_h, span_w) = ((g.kh - 1) * g.dh, (g.kw - 1) * g.dw);
            // Output columns whose every tap is inside the image, along the width.
            let x_lo = g.pl.div_ceil(g.sw);
            let x_hi = if g.w + g.pl > span_w {
                ((g.w + g.pl - span_w - 1) / g.sw + 1).min(g.ow)
            } else {
                0
            };
            Kernel {
                g,
                x,
                w,
                f,
                taps,
                span_h,
                x_lo,
                x_hi,
            }
        }

        /// Whether every tap of output pixel (`y`, `x`) is inside the image, as the blocks
        /// decide it.
        #[cfg(test)]
        pub(super) fn interior(&self, y: usize, x: usize) -> bool {
            self.row_inside(y).is_some() && x >= self.x_lo && x < self.x_hi
        }

        /// The input row of output row `y`'s top taps, if every tap row is inside the image.
        fn row_inside(&self, y: usize) -> Option<usize> {
            let iy0 = (y * self.g.sh) as isize - self.g.pt as isize;
            (iy0 >= 0 && iy0 as usize + self.span_h < self.g.h).then_some(iy0 as usize)
        }

        /// `acc[p] += conv` of the `P` pixels whose top-left input values are at `base +
        /// rel[p]`, every tap of them inside the image, for the `NV * 16` filters from `f0`.
        #[target_feature(enable = "avx512f")]
        unsafe fn block<const NV: usize, const P: usize>(
            &self,
            base: usize,
            rel: &[usize; P],
            f0: usize,
            acc: &mut [[__m512; NV]; P],
        ) {
            let f = self.f;
            let (xp, wp) = (self.x.as_ptr(), self.w.as_ptr().add(f0));
            for (t, tap) in self.taps.iter().enumerate() {
                let mut wv = [_mm512_setzero_ps(); NV];
                for (v, wv) in wv.iter_mut().enumerate() {
                    *wv = _mm512_loadu_ps(wp.add(t * f + v * 16));
                }
                let src = xp.add(base + tap.off);
                for (a, &r) in acc.iter_mut().zip(rel) {
                    let s = _mm512_set1_ps(*src.add(r));
                    for v in 0..NV {
                        a[v] = _mm512_fmadd_ps(s, wv[v], a[v]);
                    }
                }
            }
        }

        /// `acc += conv` of output pixel (image `b`, `y`, `x`) for the `NV * 16` filters
        /// from `f0`, taps outside the image skipped (zero padding).
        #[target_feature(enable = "avx512f")]
        unsafe fn pixel<const NV: usize>(
            &self,
            (b, y, x): (usize, usize, usize),
            f0: usize,
            acc: &mut [__m512; NV],
        ) {
            let (g, f) = (self.g, self.f);
            let iy0 = (y * g.sh) as isize - g.pt as isize;
            let ix0 = (x * g.sw) as isize - g.pl as isize;
            for (t, tap) in self.taps.iter().enumerate() {
                let (iy, ix) = (iy0 + tap.dy as isize, ix0 + tap.dx as isize);
                if iy < 0 || ix < 0 || iy as usize >= g.h || ix as usize >= g.w {
                    continue;
                }
                let i = ((b * g.h + iy as usize) * g.w + ix as usize) * g.c + tap.ch;
                let s = _mm512_set1_ps(*self.x.as_ptr().add(i));
                for (v, av) in acc.iter_mut().enumerate() {
                    let wv = _mm512_loadu_ps(self.w.as_ptr().add(t * f + f0 + v * 16));
                    *av = _mm512_fmadd_ps(s, wv, *av);
                }
            }
        }
    }

    #[target_feature(enable = "avx512f")]
    unsafe fn load<const NV: usize>(p: *const f32) -> [__m512; NV] {
        let mut a = [_mm512_setzero_ps(); NV];
        for (v, av) in a.iter_mut().enumerate() {
            *av = _mm512_loadu_ps(p.add(v * 16));
        }
        a
    }

    #[target_feature(enable = "avx512f")]
    unsafe fn store<const NV: usize>(p: *mut f32, a: &[__m512; NV]) {
        for (v, av) in a.iter().enumerate() {
            _mm512_storeu_ps(p.add(v * 16), *av);
        }
    }

    /// Output rows `r0..r1`, `NV` vectors of 16 filters at a time, `P` pixels of one output
    /// row at a time where all their taps are inside the image.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn rows<const NV: usize, const P: usize>(
        k: &Kernel,
        bias: Option<&[f32]>,
        r0: usize,
        r1: usize,
        out: &mut [f32],
    ) {
        let (g, f) = (k.g, k.f);
        let per_img = g.oh * g.ow;
        let step = g.sw * g.c;
        let rel: [usize; P] = std::array::from_fn(|p| p * step);
        let mut r = r0;
        while r < r1 {
            let (b, y, x0) = (r / per_img, (r / g.ow) % g.oh, r % g.ow);
            let x1 = (x0 + (r1 - r)).min(g.ow);
            let iy0 = k.row_inside(y);
            let mut xx = x0;
            while xx < x1 {
                let o = out.as_mut_ptr().add((r + xx - x0 - r0) * f);
                let block = iy0.is_some() && xx >= k.x_lo && xx + P <= x1.min(k.x_hi);
                for f0 in (0..f).step_by(NV * 16) {
                    let init = |p: usize| match bias {
                        Some(bs) => load::<NV>(bs.as_ptr().add(f0)),
                        None => load::<NV>(o.add(p * f + f0)),
                    };
                    if block {
                        let iy0 = iy0.unwrap_or(0);
                        let base = ((b * g.h + iy0) * g.w + xx * g.sw - g.pl) * g.c;
                        let mut acc: [[__m512; NV]; P] = std::array::from_fn(init);
                        k.block(base, &rel, f0, &mut acc);
                        for (p, a) in acc.iter().enumerate() {
                            store(o.add(p * f + f0), a);
                        }
                    } else {
                        let mut acc = init(0);
                        k.pixel((b, y, xx), f0, &mut acc);
                        store(o.add(f0), &acc);
                    }
                }
                xx += if block { P } else { 1 };
            }
            r += x1 - x0;
        }
    }

    /// Images `i0..i1` convolved and max-pooled by `(ph, pw)` windows (`Q` pixels) that tile
    /// the output (strides equal to the window, no padding): `out` holds the pooled images,
    /// the bias added, no activation. `P / Q` windows of a row at a time where all their taps
    /// are inside the image, `NV` vectors of 16 filters at a time.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn max_pooled<const NV: usize, const P: usize, const Q: usize>(
        k: &Kernel,
        bias: &[f32],
        (ph, pw): (usize, usize),
        (i0, i1): (usize, usize),
        out: &mut [f32],
    ) {
        let (g, f) = (k.g, k.f);
        let (oh, ow) = (g.oh / ph, g.ow / pw);
        let windows = P / Q;
        // A pixel's input offset from its group's first pixel's: window w, row a, column c.
        let offset = |w: usize, a: usize, c: usize| (a * g.sh * g.w + (w * pw + c) * g.sw) * g.c;
        let rel: [usize; P] = std::array::from_fn(|i| offset(i / Q, i % Q / pw, i % Q % pw));
        let rel_one: [usize; Q] = std::array::from_fn(|j| offset(0, j / pw, j % pw));
        for b in i0..i1 {
            for py in 0..oh {
                let y0 = py * ph;
                let rows_inside = (0..ph).all(|a| k.row_inside(y0 + a).is_some());
                let iy0 = k.row_inside(y0).unwrap_or(0);
                let o_row = out.as_mut_ptr().add(((b - i0) * oh + py) * ow * f);
                let mut px = 0;
                while px < ow {
                    let x0 = px * pw;
                    let inside = |n: usize| {
                        rows_inside && x0 >= k.x_lo && x0 + n * pw <= k.x_hi && px + n <= ow
                    };
                    let n = if inside(windows) { windows } else { 1 };
                    let base = if inside(1) {
                        ((b * g.h + iy0) * g.w + x0 * g.sw - g.pl) * g.c
                    } else {
                        0
                    };
                    for f0 in (0..f).step_by(NV * 16) {
                        let bias = load::<NV>(bias.as_ptr().add(f0));
                        if n == windows && windows > 1 {
                            let mut acc = [bias; P];
                            k.block(base, &rel, f0, &mut acc);
                            for w in 0..windows {
                                let m = max_of(&acc[w * Q..(w + 1) * Q]);
                                store(o_row.add((px + w) * f + f0), &m);
                            }
                            continue;
                        }
                        let mut acc = [bias; Q];
                        if inside(1) {
                            k.block(base, &rel_one, f0, &mut acc);
                        } else {
                            for (j, a) in acc.iter_mut().enumerate() {
                                k.pixel((b, y0 + j / pw, x0 + j % pw), f0, a);
                            }
                        }
                        store(o_row.add(px * f + f0), &max_of(&acc));
                    }
                    px += n;
                }
            }
        }
    }

    /// `dw` (`K x f`) and `db` (`f`) of images `b0..b1`: for each slice of `NV * 16`
    /// filters and chunk of `TK` taps, one pass over the pixels with the chunk's gradients
    /// (and, with the first chunk, the bias's) in registers.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn kernel_grads<const NV: usize, const TK: usize>(
        k: &Kernel,
        dy: &[f32],
        (b0, b1): (usize, usize),
        dw: &mut [f32],
        db: &mut [f32],
    ) {
        let (g, f, nt) = (k.g, k.f, k.taps.len());
        let (xp, dp) = (k.x.as_ptr(), dy.as_ptr());
        for f0 in (0..f).step_by(NV * 16) {
            for t0 in (0..nt).step_by(TK) {
                let cnt = (nt - t0).min(TK);
                let tap = |j: usize| &k.taps[t0 + j.min(cnt - 1)];
                let offs: [usize; TK] = std::array::from_fn(|j| tap(j).off);
                let mut acc = [[_mm512_setzero_ps(); NV]; TK];
                let mut dbacc = [_mm512_setzero_ps(); NV];
                for b in b0..b1 {
                    for y in 0..g.oh {
                        let iy0 = k.row_inside(y);
                        for xx in 0..g.ow {
                            let r = (b * g.oh + y) * g.ow + xx;
                            let d = load::<NV>(dp.add(r * f + f0));
                            if t0 == 0 {
                                for v in 0..NV {
                                    dbacc[v] = _mm512_add_ps(dbacc[v], d[v]);
                                }
                            }
                            match iy0 {
                                Some(iy0) if xx >= k.x_lo && xx < k.x_hi => {
                                    let base = ((b * g.h + iy0) * g.w + xx * g.sw - g.pl) * g.c;
                                    for (j, a) in acc.iter_mut().enumerate() {
                                        if j < cnt {
                                            let s = _mm512_set1_ps(*xp.add(base + offs[j]));
                                            for v in 0..NV {
                                                a[v] = _mm512_fmadd_ps(s, d[v], a[v]);
                                            }
                                        }
                                    }
                                }
                                _ => {
                                    let iy0 = (y * g.sh) as isize - g.pt as isize;
                                    let ix0 = (xx * g.sw) as isize - g.pl as isize;
                                    for (j, a) in acc.iter_mut().enumerate().take(cnt) {
                                        let t = tap(j);
                                        let (iy, ix) = (iy0 + t.dy as isize, ix0 + t.dx as isize);
                                        if iy < 0
                                            || ix < 0
                                            || iy as usize >= g.h
                                            || ix as usize >= g.w
                                        {
                                            continue;
                                        }
                                        let i = ((b * g.h + iy as usize) * g.w + ix as usize) * g.c
                                            + t.ch;
                                        let s = _mm512_set1_ps(*xp.add(i));
                                        for v in 0..NV {
                                            a[v] = _mm512_fmadd_ps(s, d[v], a[v]);
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                for (j, a) in acc.iter().enumerate().take(cnt) {
                    store(dw.as_mut_ptr().add((t0 + j) * f + f0), a);
                }
                if t0 == 0 {
                    store(db.as_mut_ptr().add(f0), &dbacc);
                }
            }
        }
    }

    /// The elementwise max of pixels' accumulators.
    #[target_feature(enable = "avx512f")]
    unsafe fn max_of<const NV: usize>(acc: &[[__m512; NV]]) -> [__m512; NV] {
        let mut m = acc[0];
        for a in &acc[1..] {
            for v in 0..NV {
                m[v] = _mm512_max_ps(m[v], a[v]);
            }
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{conv2d, to_vec_f64, Act, ConvOpts, Padding};
    use candle_core::{Device, Tensor};

    /// Float64 values (the reference convolutions run in float64, on im2col + gemm, which
    /// this kernel does not serve) that float32 holds exactly.
    fn t(dims: &[usize], a: f64) -> Tensor {
        let n: usize = dims.iter().product();
        let v: Vec<f64> = (0..n)
            .map(|i| ((i as f64) * a + 0.3).sin() as f32 as f64)
            .collect();
        Tensor::from_vec(v, dims, &Device::Cpu).unwrap()
    }

    /// Whether to skip: the kernel runs on AVX-512 CPUs only.
    fn no_avx512() -> bool {
        if !avx512() {
            eprintln!("skipped: no AVX-512");
        }
        !avx512()
    }

    fn opts((strides, padding, dilation): ((usize, usize), Padding, (usize, usize))) -> ConvOpts {
        ConvOpts {
            strides,
            padding,
            dilation,
        }
    }

    fn f32s(t: &Tensor) -> Vec<f32> {
        let v = t.flatten_all().unwrap().to_vec1::<f64>().unwrap();
        v.iter().map(|&v| v as f32).collect()
    }

    /// Every stride, dilation and padding, every filter count it takes, any rows range
    /// (blocks that start and end inside an output row): the im2col + gemm path's values (in
    /// float64).
    #[test]
    fn equals_the_im2col_convolution() {
        if no_avx512() {
            return;
        }
        let cases = [
            ((1, 1), Padding::Valid, (1, 1)),
            ((1, 1), Padding::Same, (1, 1)),
            ((2, 1), Padding::Same, (1, 2)),
            ((1, 3), Padding::Valid, (2, 1)),
            ((2, 2), Padding::Same, (1, 1)),
            ((1, 2), Padding::Same, (1, 1)),
            ((2, 3), Padding::Same, (1, 2)),
        ];
        // Wide images (8-pixel blocks at every stride), a kernel larger than the image
        // (`same` only), a one-pixel image.
        let images = [(3, 13, 12), (2, 11, 37), (2, 2, 3), (1, 1, 1)];
        for (c, kh, kw) in [(1, 3, 3), (3, 3, 3), (2, 5, 4), (1, 1, 1)] {
            for f in [16, 32, 48, 64] {
                for ((strides, padding, dilation), (n, h, w)) in
                    cases.into_iter().flat_map(|c| images.map(|i| (c, i)))
                {
                    let o = opts((strides, padding, dilation));
                    let x = t(&[n, h, w, c], 0.37);
                    let k = t(&[kh, kw, c, f], 0.71);
                    let b = t(&[f], 0.5);
                    let Ok(want) = conv2d(&x, &k, Some(&b), o, Act::Linear, None) else {
                        continue; // no output (a `valid` kernel larger than the image)
                    };
                    let (g, _) = crate::ops::conv::geometry(&x, &k, o).unwrap();
                    assert!(applies::<f32>(&g, f));
                    let (xs, ks, bs) = (f32s(&x), f32s(&k), f32s(&b));
                    let n = g.n * g.oh * g.ow;
                    let mut got = vec![0f32; n * f];
                    // Three uneven blocks.
                    let cuts = [0, (n / 3 + 1).min(n), (2 * n / 3 + 2).min(n), n];
                    for w in cuts.windows(2) {
                        let (a, z) = (w[0], w[1]);
                        rows(
                            &g,
                            &xs,
                            &ks,
                            f,
                            Start::Bias(&bs),
                            a,
                            z,
                            &mut got[a * f..z * f],
                        );
                    }
                    let want = to_vec_f64(&want).unwrap();
                    for (i, (u, v)) in got.iter().zip(&want).enumerate() {
                        assert!(
                            (*u as f64 - v).abs() < 1e-4,
                            "{c} {kh}x{kw} f{f} {o:?} at {i}: {u} vs {v}"
                        );
                    }
                    // Accumulating into `out`: twice the convolution less the bias.
                    let mut twice = got.clone();
                    rows(&g, &xs, &ks, f, Start::Out, 0, n, &mut twice);
                    for (i, (u, v)) in twice.iter().zip(&want).enumerate() {
                        let want2 = 2.0 * v - bs[i % f] as f64;
                        assert!((*u as f64 - want2).abs() < 2e-4, "accumulate at {i}");
                    }
                }
            }
        }
    }

    /// Convolution then max pooling by tiling windows, fused: the unfused ops' values, for
    /// every filter count, window, stride, dilation and padding of the convolution, odd
    /// output sizes (the last row and column dropped) and images split between calls.
    #[test]
    fn max_pooled_equals_convolution_then_pooling() {
        if no_avx512() {
            return;
        }
        use crate::ops::{pool2d, PoolKind};
        let cases = [
            ((1, 1), Padding::Valid, (1, 1)),
            ((1, 1), Padding::Same, (1, 1)),
            ((2, 1), Padding::Same, (1, 2)),
            ((1, 2), Padding::Same, (1, 1)),
            ((2, 3), Padding::Valid, (1, 1)),
        ];
        for (c, kh, kw) in [(1, 3, 3), (3, 3, 3), (2, 2, 4)] {
            for pool in [(2, 2), (3, 3)] {
                for f in [16, 32, 48, 64] {
                    for ((strides, padding, dilation), (h, w)) in cases
                        .into_iter()
                        .flat_map(|c| [(13, 12), (11, 41)].map(|i| (c, i)))
                    {
                        let o = opts((strides, padding, dilation));
                        let x = t(&[3, h, w, c], 0.37);
                        let k = t(&[kh, kw, c, f], 0.71);
                        let b = t(&[f], 0.5);
                        let conv = conv2d(&x, &k, Some(&b), o, Act::Linear, None).unwrap();
                        let Ok(want) = pool2d(&conv, PoolKind::Max, pool, pool, Padding::Valid)
                        else {
                            continue; // an output smaller than the window
                        };
                        let (g, _) = crate::ops::conv::geometry(&x, &k, o).unwrap();
                        let spec = PoolSpec {
                            kind: PoolKind::Max,
                            pool,
                            strides: pool,
                            padding: Padding::Valid,
                        };
                        assert!(pools::<f32>(&g, f, &spec, Act::Relu));
                        let (xs, ks, bs) = (f32s(&x), f32s(&k), f32s(&b));
                        let per = want.elem_count() / 3;
                        let mut got = vec![0f32; 3 * per];
                        max_pooled(&g, &xs, &ks, f, &bs, pool, (0, 1), &mut got[..per]);
                        max_pooled(&g, &xs, &ks, f, &bs, pool, (1, 3), &mut got[per..]);
                        let want = to_vec_f64(&want).unwrap();
                        for (i, (u, v)) in got.iter().zip(&want).enumerate() {
                            assert!(
                                (*u as f64 - v).abs() < 1e-4,
                                "{c} {kh}x{kw} f{f} {pool:?} {o:?} at {i}: {u} vs {v}"
                            );
                        }
                    }
                }
            }
        }
        // Not fused: average pooling, overlapping windows, an activation the max does not
        // commute with exactly.
        let x = t(&[1, 8, 8, 1], 0.3);
        let k = t(&[3, 3, 1, 32], 0.2);
        let o = ConvOpts {
            strides: (1, 1),
            padding: Padding::Valid,
            dilation: (1, 1),
        };
        let (g, _) = crate::ops::conv::geometry(&x, &k, o).unwrap();
        let spec = |kind, strides| PoolSpec {
            kind,
            pool: (2, 2),
            strides,
            padding: Padding::Valid,
        };
        assert!(!pools::<f32>(
            &g,
            32,
            &spec(PoolKind::Avg, (2, 2)),
            Act::Relu
        ));
        assert!(!pools::<f32>(
            &g,
            32,
            &spec(PoolKind::Max, (1, 1)),
            Act::Relu
        ));
        assert!(!pools::<f32>(
            &g,
            32,
            &spec(PoolKind::Max, (2, 2)),
            Act::Sigmoid
        ));
        assert!(!pools::<f64>(
            &g,
            32,
            &spec(PoolKind::Max, (2, 2)),
            Act::Relu
        ));
    }

    /// The blocks' interior test is exact: a pixel is served by a block only if every tap
    /// reads inside the image, and every such pixel qualifies (so no block reads outside
    /// and the single-pixel path is not used where a block could be).
    #[test]
    fn the_interior_is_exactly_where_every_tap_is_inside() {
        if no_avx512() {
            return;
        }
        for (h, w) in [(1, 1), (2, 3), (7, 9), (12, 5)] {
            for (kh, kw) in [(1, 1), (3, 3), (5, 4), (2, 7)] {
                for strides in [(1, 1), (2, 3), (3, 1)] {
                    for dilation in [(1, 1), (2, 1)] {
                        for padding in [Padding::Valid, Padding::Same] {
                            let o = opts((strides, padding, dilation));
                            let x = t(&[1, h, w, 1], 0.1);
                            let k = t(&[kh, kw, 1, 16], 0.2);
                            let Ok((g, _)) = crate::ops::conv::geometry(&x, &k, o) else {
                                continue;
                            };
                            let (xs, ks) = (f32s(&x), f32s(&k));
                            let kern = avx512::Kernel::new(&g, &xs, &ks, 16);
                            for y in 0..g.oh {
                                for xx in 0..g.ow {
                                    let inside = (0..kh).all(|i| {
                                        (0..kw).all(|j| {
                                            let iy = (y * g.sh + i * g.dh) as isize - g.pt as isize;
                                            let ix =
                                                (xx * g.sw + j * g.dw) as isize - g.pl as isize;
                                            iy >= 0
                                                && ix >= 0
                                                && (iy as usize) < h
                                                && (ix as usize) < w
                                        })
                                    });
                                    assert_eq!(
                                        kern.interior(y, xx),
                                        inside,
                                        "{h}x{w} image, {kh}x{kw} kernel, {o:?}: pixel ({y}, {xx})"
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Through `conv2d_pool` in float32 (threads splitting 40 images): the fused max pooling,
    /// and the direct convolution under an average pooling, against float64 ops.
    #[test]
    fn conv2d_pool_in_float32_takes_the_direct_paths() {
        use crate::ops::{conv2d_pool, pool2d, PoolKind};
        let o = ConvOpts {
            strides: (1, 1),
            padding: Padding::Valid,
            dilation: (1, 1),
        };
        let x = t(&[40, 12, 11, 1], 0.37);
        let k = t(&[3, 3, 1, 32], 0.71);
        let b = t(&[32], 0.5);
        let as32 = |t: &Tensor| t.to_dtype(candle_core::DType::F32).unwrap();
        for kind in [PoolKind::Max, PoolKind::Avg] {
            let p = PoolSpec {
                kind,
                pool: (2, 2),
                strides: (2, 2),
                padding: Padding::Valid,
            };
            let got = conv2d_pool(&as32(&x), &as32(&k), Some(&as32(&b)), o, Act::Relu, p).unwrap();
            let y = conv2d(&x, &k, Some(&b), o, Act::Relu, None).unwrap();
            let want = pool2d(&y, kind, p.pool, p.strides, p.padding).unwrap();
            assert_eq!(got.dims(), want.dims());
            let got = to_vec_f64(&got).unwrap();
            let want = to_vec_f64(&want).unwrap();
            for (i, (u, v)) in got.iter().zip(&want).enumerate() {
                assert!((u - v).abs() < 1e-4, "{kind:?} at {i}: {u} vs {v}");
            }
        }
    }

    /// The kernel's and bias's gradients straight from the image equal float64 autograd
    /// through the im2col path, for every stride, dilation, padding, filter count (slices of
    /// 32 and of 16), more taps than one register chunk holds (5x4x2 = 40), and threads
    /// splitting the images.
    #[test]
    fn kernel_grads_equal_the_im2col_gradients() {
        if no_avx512() {
            return;
        }
        let cases = [
            ((1, 1), Padding::Valid, (1, 1)),
            ((1, 1), Padding::Same, (1, 1)),
            ((2, 3), Padding::Same, (1, 2)),
            ((2, 1), Padding::Valid, (2, 1)),
        ];
        for (c, kh, kw) in [(1, 3, 3), (3, 3, 3), (2, 5, 4)] {
            for f in [16, 32, 48, 64] {
                for (strides, padding, dilation) in cases {
                    let o = opts((strides, padding, dilation));
                    let x = t(&[6, 13, 21, c], 0.37);
                    let k = candle_core::Var::from_tensor(&t(&[kh, kw, c, f], 0.71)).unwrap();
                    let b = candle_core::Var::from_tensor(&t(&[f], 0.5)).unwrap();
                    let y = conv2d(&x, k.as_tensor(), Some(b.as_tensor()), o, Act::Linear, None)
                        .unwrap();
                    let r = t(y.dims(), 0.13);
                    let grads = (&y * &r).unwrap().sum_all().unwrap().backward().unwrap();
                    let want_k = to_vec_f64(grads.get(k.as_tensor()).unwrap()).unwrap();
                    let want_b = to_vec_f64(grads.get(b.as_tensor()).unwrap()).unwrap();
                    let (g, _) = crate::ops::conv::geometry(&x, k.as_tensor(), o).unwrap();
                    let (mut dw, mut db) = (vec![1f32; g.k() * f], vec![1f32; f]);
                    kernel_grads(&g, &f32s(&x), &f32s(&r), f, &mut dw, &mut db);
                    for (name, got, want) in [("dw", &dw, &want_k), ("db", &db, &want_b)] {
                        for (i, (u, v)) in got.iter().zip(want.iter()).enumerate() {
                            assert!(
                                (*u as f64 - v).abs() < 1e-3 * (1.0 + v.abs()),
                                "{name} {c} {kh}x{kw} f{f} {o:?} at {i}: {u} vs {v}"
                            );
                        }
                    }
                }
            }
        }
    }
}
