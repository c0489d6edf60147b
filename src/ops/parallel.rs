//! Where our kernels' threads come from: candle's CPU barrier pool, the same threads candle's
//! own elementwise ops run on.
//!
//! A separate pool (rayon's) oversubscribed the cores: after each of candle's parallel ops its
//! workers spin for a while waiting for more, taking a core from ours. On the 2-core build VM
//! that spinning was a quarter of W2's CPU time, and sharing one pool took a W2 step from about
//! 7.0 to 5.4 ms (BENCHMARKS.md).

use std::cell::Cell;

thread_local! {
    static INSIDE: Cell<bool> = const { Cell::new(false) };
}

/// Threads available to a parallel region (the calling thread included).
pub(crate) fn threads() -> usize {
    static N: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *N.get_or_init(|| candle_core::utils::barrier_pool().n_workers() + 1)
}

/// Runs `f(p)` for every part `p < parts`, spread over the pool's threads (the caller works
/// too). Inside a parallel region (a nested call) the parts run here, one after another.
pub(crate) fn for_each_part(parts: usize, f: impl Fn(usize) + Sync) {
    if parts <= 1 || INSIDE.with(Cell::get) || threads() == 1 {
        (0..parts).for_each(f);
        return;
    }
    let total = threads();
    candle_core::utils::barrier_pool().execute(|tid| {
        if tid + 1 != total {
            // A pool thread (the caller, worker `total - 1`, has its mode set by its loop).
            super::denormals::flush_denormals_on_this_thread();
        }
        let was = INSIDE.with(|i| i.replace(true));
        let mut p = tid;
        while p < parts {
            f(p);
            p += total;
        }
        INSIDE.with(|i| i.set(was));
    });
}

/// Shares a mutable buffer between parts that write disjoint ranges of it.
#[derive(Clone, Copy)]
pub(crate) struct SharedMut<T>(*mut T, usize);
// SAFETY: parts only touch disjoint ranges (the contract of `slice`).
unsafe impl<T: Send> Send for SharedMut<T> {}
unsafe impl<T: Send> Sync for SharedMut<T> {}

impl<T> SharedMut<T> {
    pub(crate) fn new(v: &mut [T]) -> Self {
        SharedMut(v.as_mut_ptr(), v.len())
    }
    /// Values `[lo, hi)`.
    ///
    /// # Safety
    /// No two slices alive at the same time may overlap, and the buffer must outlive them.
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn slice(&self, lo: usize, hi: usize) -> &mut [T] {
        assert!(lo <= hi && hi <= self.1, "range {lo}..{hi} of {}", self.1);
        std::slice::from_raw_parts_mut(self.0.add(lo), hi - lo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn every_part_runs_once_even_nested() {
        let hits: Vec<AtomicUsize> = (0..7).map(|_| AtomicUsize::new(0)).collect();
        for_each_part(7, |p| {
            hits[p].fetch_add(1, Ordering::Relaxed);
            // A nested region runs inline rather than deadlocking on the pool.
            for_each_part(3, |_| {});
        });
        assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 1));
    }
}
