//! The call context: whether layers run in training mode.
//!
//! The trainer sets it around a training step; layers called inside (including those a
//! subclassed model calls by hand) read it, as in Keras 3.

use std::cell::Cell;

thread_local! {
    static TRAINING: Cell<bool> = const { Cell::new(false) };
}

/// Whether the current call runs in training mode.
pub fn training() -> bool {
    TRAINING.with(|t| t.get())
}

/// Sets the training flag until the guard is dropped.
#[must_use = "the flag is restored when the guard drops"]
pub struct TrainingGuard(bool);

/// Enters (or leaves) training mode for the guard's lifetime.
pub fn set_training(on: bool) -> TrainingGuard {
    TrainingGuard(TRAINING.with(|t| t.replace(on)))
}

impl Drop for TrainingGuard {
    fn drop(&mut self) {
        TRAINING.with(|t| t.set(self.0));
    }
}
