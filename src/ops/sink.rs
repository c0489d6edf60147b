//! Gradient sinks: where fused ops put the gradients of weights during a training step.
//!
//! candle's backward accumulates every gradient by adding it to a fresh zero tensor. For the
//! weights of fused layers that costs two allocations and two passes per weight per step. When
//! the trainer turns sinks on (around its forward and backward passes), fused ops write weight
//! gradients into the weight's sink instead and hand candle nothing for them; the trainer then
//! reads the sink. Outside that scope (a user's own `backward()`), ops return every gradient to
//! candle as usual.

use candle_core::Tensor;
use std::cell::Cell;
use std::sync::{Arc, Mutex};

thread_local! {
    static ENABLED: Cell<bool> = const { Cell::new(false) };
}

/// Whether fused ops should write weight gradients into sinks on this thread.
pub fn sinks_enabled() -> bool {
    ENABLED.with(Cell::get)
}

/// Turns sinks on for the guard's lifetime.
#[must_use = "sinks are turned off again when the guard drops"]
pub struct SinkGuard(bool);

/// Turns gradient sinks on (for the trainer's step).
pub fn enable_sinks() -> SinkGuard {
    SinkGuard(ENABLED.with(|e| e.replace(true)))
}

impl Drop for SinkGuard {
    fn drop(&mut self) {
        ENABLED.with(|e| e.set(self.0));
    }
}

/// A weight's gradient accumulator. Cloning shares it.
#[derive(Clone, Default, Debug)]
pub struct GradSink(Arc<Mutex<Option<Tensor>>>);

impl GradSink {
    /// Adds a gradient contribution (the first one is stored as is).
    pub fn add(&self, g: Tensor) -> candle_core::Result<()> {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *s = Some(match s.take() {
            None => g,
            Some(prev) => (prev + g)?,
        });
        Ok(())
    }

    /// Takes the accumulated gradient, leaving the sink empty.
    pub fn take(&self) -> Option<Tensor> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    /// Empties the sink.
    pub fn clear(&self) {
        self.take();
    }
}
