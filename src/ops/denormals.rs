//! Flushing denormal floats to zero while our kernels run, as XLA (Keras-JAX) and TensorFlow
//! do on their compute threads.
//!
//! Arithmetic on denormals (magnitudes under ~1.2e-38 in float32) takes the CPU's slow path.
//! A long `fit` drives Adam's second moments there once gradients get small: W1's `fit` step
//! went from 0.95 to 2.5 ms after a few hundred steps, 29% of it in the Adam update
//! (BENCHMARKS.md). With the x86 MXCSR flags FTZ (results) and DAZ (inputs) set, such values
//! are zeros; nothing above the float32 minimum normal changes. The training loops set them on
//! the calling thread for their duration ([`flush_denormals`]) and on the kernel threads of
//! candle's pool when a part first runs there ([`flush_denormals_on_this_thread`]); those
//! threads keep it (a computation there outside the loops flushes too). Not covered: rayon's
//! threads, on which candle's own matmul and convolution run. Other targets: no-ops.

use std::cell::Cell;
use std::marker::PhantomData;

#[cfg(target_arch = "x86_64")]
const FTZ_DAZ: u32 = 0x8040;

#[cfg(target_arch = "x86_64")]
fn csr() -> u32 {
    let mut v = 0u32;
    // SAFETY: STMXCSR stores the SSE control register of this thread into `v`.
    unsafe { std::arch::asm!("stmxcsr [{}]", in(reg) &mut v, options(nostack)) };
    v
}

#[cfg(target_arch = "x86_64")]
fn set_csr(v: u32) {
    // SAFETY: LDMXCSR loads this thread's SSE control register; `v` is one read from it with
    // only the FTZ / DAZ bits changed, so no exception is unmasked.
    unsafe { std::arch::asm!("ldmxcsr [{}]", in(reg) &v, options(nostack, readonly)) };
}

/// Restores this thread's previous floating-point mode when dropped (on the thread that made
/// it: the guard is not `Send`).
#[must_use = "the mode is restored when the guard drops"]
pub struct DenormalsGuard(#[allow(dead_code)] u32, PhantomData<*const ()>);

/// Flushes denormals to zero on this thread until the guard drops.
///
/// ```
/// let x = std::hint::black_box(1e-39f32);
/// {
///     let _g = keras::ops::flush_denormals();
///     # #[cfg(target_arch = "x86_64")]
///     assert_eq!(std::hint::black_box(x) * 1.0, 0.0);
/// }
/// assert_eq!(std::hint::black_box(x) * 1.0, 1e-39);
/// ```
pub fn flush_denormals() -> DenormalsGuard {
    #[cfg(target_arch = "x86_64")]
    {
        let old = csr();
        set_csr(old | FTZ_DAZ);
        DenormalsGuard(old, PhantomData)
    }
    #[cfg(not(target_arch = "x86_64"))]
    DenormalsGuard(0, PhantomData)
}

impl Drop for DenormalsGuard {
    fn drop(&mut self) {
        #[cfg(target_arch = "x86_64")]
        set_csr(self.0);
    }
}

thread_local! {
    static SET: Cell<bool> = const { Cell::new(false) };
}

/// Flushes denormals on this thread from now on (the pool's kernel threads, once each).
pub(crate) fn flush_denormals_on_this_thread() {
    if !SET.with(|s| s.replace(true)) {
        #[cfg(target_arch = "x86_64")]
        set_csr(csr() | FTZ_DAZ);
    }
}
