//! Tensor operations: the one module that talks to candle.
//!
//! Layers, losses and optimizers call the functions here; this module picks a fused CPU kernel
//! (a candle custom op with a hand-written backward) where one exists and falls back to a
//! composition of plain candle ops on other devices. Every op with a gradient is checked
//! against finite differences in its tests.
//!
//! ```
//! use keras::ops::{self, Act, Tensor, Device};
//! let x = Tensor::new(&[[-1f32, 2.0]], &Device::Cpu)?;
//! let y = ops::activation(&x, Act::Relu)?;
//! assert_eq!(y.to_vec2::<f32>()?, vec![vec![0.0, 2.0]]);
//! # Ok::<(), keras::Error>(())
//! ```

mod activation;
mod basic;
mod dense;
mod loss;
pub mod npy;
mod optim;
pub mod random;
mod sink;

pub use activation::{activation, Act};
pub use basic::*;
pub use candle_core::{DType, Device, Tensor, Var};
pub use dense::{dense, dense_with_sinks, matmul};
pub use loss::{crossentropy, elementwise_loss, sparse_crossentropy, ElementwiseLoss};
pub use optim::{update_in_place, Slot, Update, UpdateArgs};
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
}
macro_rules! impl_float {
    ($t:ty) => {
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
        }
    };
}
impl_float!(f32);
impl_float!(f64);

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

/// How gemm should use threads: the rayon pool for large products only. Measured on 2 cores:
/// below ~50M multiply-adds (every matmul of an MLP at batch 128) waking the pool costs more
/// than it saves (128x256x128: 0.034 ms on one thread, 0.094 ms on two).
pub(crate) fn parallelism(work: usize) -> gemm::Parallelism {
    let n = rayon_threads();
    if n > 1 && work >= 48 * 1024 * 1024 {
        gemm::Parallelism::Rayon(n)
    } else {
        gemm::Parallelism::None
    }
}

fn rayon_threads() -> usize {
    static N: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *N.get_or_init(candle_core::utils::get_num_threads)
}

/// `dst (m x n) = [dst +] a (m x k) @ b (k x n)`, all row-major with the given transposes.
///
/// `ta`: `a` is stored as (k x m); `tb`: `b` is stored as (n x k).
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
    let (a_cs, a_rs) = if ta { (m as isize, 1) } else { (1, k as isize) };
    let (b_cs, b_rs) = if tb { (k as isize, 1) } else { (1, n as isize) };
    // SAFETY: the asserts above bound every index gemm touches; strides describe the layouts.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            T::one(),
            T::one(),
            false,
            false,
            false,
            parallelism(m * n * k),
        )
    }
}

/// Wraps a result vector as CPU storage.
pub(crate) fn storage<T: Float>(v: Vec<T>) -> CpuStorage {
    T::to_cpu_storage_owned(v)
}
