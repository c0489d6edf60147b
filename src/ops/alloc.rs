//! Allocator tuning for training loops.
//!
//! Every training step allocates and frees the same large activation and gradient buffers.
//! glibc serves blocks over its mmap threshold with fresh pages and returns freed heap tops to
//! the system, so each step pays page faults again: on W2 (a small CNN) that was a third of
//! the step (13 ms vs 8 ms measured). Serving every block from the heap (no mmap: blocks over
//! glibc's largest mmap threshold, 32 MiB, such as a convolution's output at batch 1000, were
//! mapped and faulted in again on every batch: `predict` of the W2 CNN at batch 1000 ran at
//! 9,500 images/s with them, 13,400 without, in one A/B run) and raising the trim threshold to 1 GiB
//! keeps the memory in the process. This is process-wide; it is applied once, on the first
//! `fit` / `train_on_batch` / `evaluate` / `predict`, on Linux with glibc only, and skipped
//! when `KERAS_RS_NO_MALLOC_TUNING` is set.

use std::sync::Once;

static ONCE: Once = Once::new();

/// Applies the tuning (once per process).
pub fn tune_allocator() {
    ONCE.call_once(|| {
        if std::env::var_os("KERAS_RS_NO_MALLOC_TUNING").is_some() {
            return;
        }
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: mallopt only changes glibc's allocation thresholds; it is called once, before
        // the training loop allocates.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
            libc::mallopt(libc::M_MMAP_MAX, 0);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        }
    });
}
