//! Tensor operations: the one module that talks to candle.
//!
//! Layers, losses and optimizers call the functions here; this module picks a fused CPU kernel
//! (a candle custom op with a hand-written backward) where one exists and falls back to a
//! composition of plain candle ops on other devices. Every op with a gradient is checked
//! against finite differences in its tests.
//!
//! Keras's user-facing `keras.ops` functions ([`add`], [`matmul`], [`mean`], [`get_item`],
//! [`softmax`], ...; see [`numpy`], [`operation`]) take a real [`Tensor`] (computed at once)
//! or a symbolic [`crate::engine::KerasTensor`] (a node of Keras's op class in a functional
//! model): `ops::mean(&x, 1, false)` works on both.
//!
//! ```
//! use keras::ops::{self, Act, Tensor, Device};
//! let x = Tensor::new(&[[-1f32, 2.0]], &Device::Cpu)?;
//! let y = ops::activation(&x, Act::Relu)?;
//! assert_eq!(y.to_vec2::<f32>()?, vec![vec![0.0, 2.0]]);
//! # Ok::<(), keras::Error>(())
//! ```

mod activation;
mod alloc;
mod attention;
mod basic;
mod conv;
mod conv_composed;
mod conv_direct;
mod conv_pool;
mod conv_pool_train;
mod ctc;
mod denormals;
mod dense;
mod depthwise;
mod describe;
mod device;
mod embedding;
mod get_item;
pub mod hash;
pub mod image;
mod loss;
mod loss_composed;
mod lstm_cell;
mod merge;
mod nn_ops;
mod norm;
pub mod npy;
pub mod numpy;
mod numpy_reduce;
mod numpy_shape;
pub mod operation;
mod optim;
mod parallel;
mod pool;
mod pool_composed;
pub mod random;
mod recurrent;
mod rnn;
mod sink;
pub mod strings;

pub use activation::{activation, Act};
pub use alloc::tune_allocator;
pub use attention::{causal_mask, dot_product_attention, dropout, mask_scores};
pub use basic::*;
pub use candle_core::{DType, Device, Tensor, Var};
pub use conv::{conv2d, conv2d_transpose, ConvGeom, ConvOpts, Padding};
pub use conv_pool::{conv2d_pool, PoolSpec};
pub use conv_pool_train::conv2d_pool_train;
pub use ctc::ctc_loss;
pub use denormals::{flush_denormals, DenormalsGuard};
pub use dense::{dense, dense_with_sinks};
pub use depthwise::depthwise_conv2d;
pub use describe::{dtype_from_name, dtype_name, shape_str};
pub use device::{cuda_built, missing_cuda_libraries, open_device, to_device_all, DeviceKind};
pub use embedding::{gather_rows, ids};
pub use get_item::{get_item, Idx, IntoKey};
pub use loss::{crossentropy, elementwise_loss, sparse_crossentropy, ElementwiseLoss};
pub use merge::{batch_dot, broadcast_dims, elementwise, l2_normalize, normalize_axis, Merge};
pub use nn_ops::{cast, gelu, one_hot, one_hot_with, relu, sigmoid, softmax};
pub use norm::{batch_moments, batch_norm, moments, normalize, BnStats, CrossProcessSum, Moments};
pub use numpy::{
    abs, add, clip, divide, equal, exp, greater, less, log, maximum, minimum, multiply, negative,
    power, sqrt, square, subtract, tanh, where_,
};
pub use numpy_reduce::{argmax, max, mean, min, sum, Axis};
pub use numpy_shape::{
    concatenate, einsum, expand_dims, matmul, reshape, split, squeeze, stack, transpose, Sections,
};
pub use operation::{Arg, IntoOperand, Op, Operand, TensorLike};
pub use optim::{update_in_place, Slot, Update, UpdateArgs};
pub use pool::{pool2d, PoolKind};
pub use recurrent::{recurrent, Cell, RecurrentOut, StepMask};
pub use rnn::{lstm, LstmOut};
pub use sink::{enable_sinks, sinks_enabled, GradSink, SinkGuard};

use candle_core::{CpuStorage, Layout, WithDType};

/// The float types our CPU kernels run on (f32 for training, f64 for gradient checks).
///
/// `c`, `f64v`, `maxf` and `minf` avoid the name clashes between candle's `WithDType` and
/// `num_traits::Float`.
pub(crate) trait Float:
    num_traits::Float + WithDType + Send + Sync + std::fmt::Debug + 'static
{
    /// The constant `v` in this type.
    fn c(v: f64) -> Self;
    /// This value as f64.
    fn f64v(self) -> f64;
    /// The larger of two values (NaN-ignoring, as `f64::max`).
    fn maxf(self, o: Self) -> Self;
    /// The smaller of two values.
    fn minf(self, o: Self) -> Self;
    /// `exp`, as a polynomial that vectorizes for f32 (relative error ~2e-7; libm's for f64).
    fn exp_fast(self) -> Self;
    /// `tanh` from [`Float::exp_fast`] for f32 (libm's for f64).
    fn tanh_fast(self) -> Self;
}

/// Cephes' single-precision `expf`: range reduction by powers of two and a degree-6
/// polynomial; plain arithmetic, so loops over it vectorize.
#[inline(always)]
fn exp_f32(x: f32) -> f32 {
    let x = x.clamp(-87.3, 88.7);
    let fx = (x * std::f32::consts::LOG2_E + 0.5).floor();
    let z = x - fx * 0.693_359_4 - fx * -2.121_944_4e-4;
    let p = ((((1.987_569_2e-4 * z + 1.398_199_9e-3) * z + 8.333_452e-3) * z + 4.166_579_6e-2) * z
        + 0.166_666_65)
        * z
        + 0.5;
    let y = p * z * z + z + 1.0;
    y * f32::from_bits(((fx as i32 + 127) as u32) << 23)
}
macro_rules! impl_float {
    ($t:ty, $exp:expr, $tanh:expr) => {
        impl Float for $t {
            #[inline]
            fn c(v: f64) -> Self {
                v as $t
            }
            #[inline]
            fn f64v(self) -> f64 {
                self as f64
            }
            #[inline]
            fn maxf(self, o: Self) -> Self {
                <$t>::max(self, o)
            }
            #[inline]
            fn minf(self, o: Self) -> Self {
                <$t>::min(self, o)
            }
            #[inline(always)]
            fn exp_fast(self) -> Self {
                $exp(self)
            }
            #[inline(always)]
            fn tanh_fast(self) -> Self {
                $tanh(self)
            }
        }
    };
}
impl_float!(f32, exp_f32, |x: f32| 1.0 - 2.0 / (exp_f32(2.0 * x) + 1.0));
impl_float!(f64, f64::exp, f64::tanh);

/// The contiguous data of a CPU tensor's storage, or an error naming the op.
pub(crate) fn contiguous<'a, T: WithDType>(
    op: &str,
    s: &'a CpuStorage,
    l: &Layout,
) -> candle_core::Result<&'a [T]> {
    let data = s.as_slice::<T>()?;
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&data[a..b]),
        None => candle_core::bail!("{op}: expected a contiguous input"),
    }
}

/// Runs `f` with the float type of the storage (f32 or f64).
macro_rules! dispatch_float {
    ($op:expr, $storage:expr, $f:ident ( $($args:expr),* )) => {
        match candle_core::backend::BackendStorage::dtype($storage) {
            candle_core::DType::F32 => $f::<f32>($($args),*),
            candle_core::DType::F64 => $f::<f64>($($args),*),
            dt => candle_core::bail!("{}: unsupported dtype {dt:?} (use float32 or float64)", $op),
        }
    };
}
pub(crate) use dispatch_float;

use parallel::{for_each_part, SharedMut};

/// Splits `n_items` items, each owning `per_item` consecutive values of `buf`, into one
/// contiguous range per thread and runs `f(lo, hi, chunk)` on each (on this thread alone when
/// `work`, a rough count of operations, is under 256k: waking a thread costs more).
pub(crate) fn par_chunks<T: Send>(
    buf: &mut [T],
    per_item: usize,
    n_items: usize,
    work: usize,
    f: impl Fn(usize, usize, &mut [T]) + Sync,
) {
    let parts = if work >= 1 << 18 {
        parallel::threads().clamp(1, n_items.max(1))
    } else {
        1
    };
    if parts <= 1 {
        f(0, n_items, buf);
        return;
    }
    let step = n_items.div_ceil(parts);
    let shared = SharedMut::new(buf);
    for_each_part(n_items.div_ceil(step), |p| {
        let (lo, hi) = (p * step, ((p + 1) * step).min(n_items));
        // SAFETY: parts cover disjoint item ranges of `buf`.
        f(lo, hi, unsafe {
            shared.slice(lo * per_item, hi * per_item)
        })
    });
}

/// Products below this many multiply-adds run on one thread: waking a second one costs more.
const PARALLEL_MACS: usize = 8 * 1024 * 1024;

/// `dst (m x n) = [dst +] a (m x k) @ b (k x n)`, all row-major with the given transposes.
///
/// `ta`: `a` is stored as (k x m); `tb`: `b` is stored as (n x k).
///
/// Large products are split into column (or row) blocks, one per thread, each a
/// single-threaded gemm: on 2 cores that measured 1.8x faster than gemm's own parallel mode
/// for 128x784x256 (0.118 vs 0.209 ms single-threaded; gemm's mode gave 0.180).
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm<T: Float>(
    dst: &mut [T],
    a: &[T],
    b: &[T],
    m: usize,
    k: usize,
    n: usize,
    ta: bool,
    tb: bool,
    accumulate: bool,
) {
    assert!(dst.len() >= m * n && a.len() >= m * k && b.len() >= k * n);
    let threads = parallel::threads().min(8);
    let parts = if threads > 1 && m * n * k >= PARALLEL_MACS {
        threads
    } else {
        1
    };
    let g = Gemm {
        dst: dst.as_mut_ptr() as usize,
        a: a.as_ptr() as usize,
        b: b.as_ptr() as usize,
        m,
        k,
        n,
        ta,
        tb,
        accumulate,
    };
    if parts == 1 {
        // SAFETY: the assert above bounds every index of the whole product.
        unsafe { g.block::<T>(0, m, 0, n) };
        return;
    }
    // Split the longer of the output's two sides into `parts` blocks.
    let by_cols = n >= m || m < 2 * parts;
    let len = if by_cols { n } else { m };
    let step = len.div_ceil(parts);
    for_each_part(parts, |p| {
        let (lo, hi) = (p * step, ((p + 1) * step).min(len));
        if lo >= hi {
            return;
        }
        // SAFETY: blocks are disjoint parts of `dst`; all indices are within the bounds
        // asserted above.
        unsafe {
            if by_cols {
                g.block::<T>(0, m, lo, hi)
            } else {
                g.block::<T>(lo, hi, 0, n)
            }
        }
    });
}

/// A matrix product described by raw addresses, so disjoint output blocks can go to threads.
struct Gemm {
    dst: usize,
    a: usize,
    b: usize,
    m: usize,
    k: usize,
    n: usize,
    ta: bool,
    tb: bool,
    accumulate: bool,
}

impl Gemm {
    /// Computes rows `r0..r1`, columns `c0..c1` of the output on this thread.
    ///
    /// # Safety
    /// The addresses must point to buffers of the sizes `gemm` asserted, and no other thread
    /// may write the same block.
    unsafe fn block<T: Float>(&self, r0: usize, r1: usize, c0: usize, c1: usize) {
        let (m, k, n) = (self.m, self.k, self.n);
        let (a_cs, a_rs) = if self.ta {
            (m as isize, 1)
        } else {
            (1, k as isize)
        };
        let (b_cs, b_rs) = if self.tb {
            (k as isize, 1)
        } else {
            (1, n as isize)
        };
        let dst = (self.dst as *mut T).add(r0 * n + c0);
        let a = (self.a as *const T).offset(r0 as isize * a_rs);
        let b = (self.b as *const T).offset(c0 as isize * b_cs);
        gemm::gemm(
            r1 - r0,
            c1 - c0,
            k,
            dst,
            1,
            n as isize,
            self.accumulate,
            a,
            a_cs,
            a_rs,
            b,
            b_cs,
            b_rs,
            T::one(),
            T::one(),
            false,
            false,
            false,
            gemm::Parallelism::None,
        )
    }
}

/// A vector of `n` values left unwritten, for outputs whose every element a kernel writes
/// before anything reads it (filling 100 MB with zeros first costs a pass over memory on one
/// thread).
///
/// # Safety
/// The caller writes every element before reading any; `T` (f32 / f64) has no invalid bit
/// patterns.
#[allow(clippy::uninit_vec)]
pub(crate) unsafe fn uninit_vec<T: Float>(n: usize) -> Vec<T> {
    let mut v = Vec::with_capacity(n);
    v.set_len(n);
    v
}

/// Wraps a result vector as CPU storage.
pub(crate) fn storage<T: Float>(v: Vec<T>) -> CpuStorage {
    T::to_cpu_storage_owned(v)
}

#[cfg(test)]
mod fast_math_tests {
    use super::Float;

    #[test]
    fn fast_exp_and_tanh_are_accurate() {
        let mut x = -80.0f32;
        while x < 80.0 {
            let (a, b) = (x.exp_fast() as f64, (x as f64).exp());
            assert!((a - b).abs() <= 4e-7 * b, "exp({x}): {a} vs {b}");
            let (a, b) = (x.tanh_fast() as f64, (x as f64).tanh());
            assert!((a - b).abs() <= 1e-6, "tanh({x}): {a} vs {b}");
            x += 0.0137;
        }
        assert!(f32::NAN.exp_fast().is_nan());
        assert_eq!(f32::INFINITY.tanh_fast(), 1.0);
    }
}
