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

thread_local! {
    static INFERENCE: Cell<bool> = const { Cell::new(false) };
}

/// Whether the current call takes no gradient (inside `predict` and `evaluate`), so a model
/// may let a layer fold the layer after it into its own call ([`crate::engine::Layer::forward_fused`]).
pub fn inference() -> bool {
    INFERENCE.with(|t| t.get())
}

/// Marks the calls made until the guard drops as taking no gradient.
#[must_use = "the flag is restored when the guard drops"]
pub struct InferenceGuard(bool);

/// Enters (or leaves) inference for the guard's lifetime.
///
/// ```
/// use keras::engine::context::{inference, set_inference};
/// assert!(!inference());
/// {
///     let _g = set_inference(true);
///     assert!(inference());
/// }
/// assert!(!inference());
/// ```
pub fn set_inference(on: bool) -> InferenceGuard {
    InferenceGuard(INFERENCE.with(|t| t.replace(on)))
}

impl Drop for InferenceGuard {
    fn drop(&mut self) {
        INFERENCE.with(|t| t.set(self.0));
    }
}

thread_local! {
    static LOSSES: std::cell::RefCell<Option<Vec<crate::ops::Tensor>>> =
        const { std::cell::RefCell::new(None) };
}

/// Adds a loss computed inside a layer's call (Keras's `self.add_loss`), such as an activity
/// penalty. It joins the model's loss when the call runs inside a training or evaluation step;
/// elsewhere (prediction, a bare `apply`) it is dropped.
pub fn add_loss(loss: crate::ops::Tensor) {
    LOSSES.with(|l| {
        if let Some(v) = l.borrow_mut().as_mut() {
            v.push(loss);
        }
    });
}

/// Collects the losses layers add until the guard is dropped.
#[must_use = "losses are collected while the guard lives"]
pub struct LossScope(Option<Vec<crate::ops::Tensor>>);

/// Starts collecting layer losses (the trainer does this around each step).
pub fn collect_losses() -> LossScope {
    LossScope(LOSSES.with(|l| l.borrow_mut().replace(vec![])))
}

/// Takes the losses added since the scope began (or the last take).
pub fn take_losses() -> Vec<crate::ops::Tensor> {
    LOSSES.with(|l| {
        l.borrow_mut()
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    })
}

impl Drop for LossScope {
    fn drop(&mut self) {
        let prev = self.0.take();
        LOSSES.with(|l| *l.borrow_mut() = prev);
    }
}
