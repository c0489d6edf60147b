//! `InverseTimeDecay`.

use super::step_decay::{DecayRule, StepDecay};

/// `initial_learning_rate / (1 + decay_rate * step / decay_steps)` (the quotient floored with
/// `staircase`), as `keras.optimizers.schedules.InverseTimeDecay`.
///
/// ```
/// use keras::optimizers::schedules::{InverseTimeDecay, LearningRateSchedule};
/// let s = InverseTimeDecay::new(0.1, 1, 0.5)?;
/// assert!((s.call(2) - 0.05).abs() < 1e-8);
/// # Ok::<(), keras::Error>(())
/// ```
pub type InverseTimeDecay = StepDecay<InverseTime>;

/// The rule of [`InverseTimeDecay`].
#[derive(Clone, Copy, Debug)]
pub struct InverseTime;

impl DecayRule for InverseTime {
    const CLASS: &'static str = "InverseTimeDecay";
    fn decay(initial_learning_rate: f32, decay_rate: f32, p: f32) -> f32 {
        initial_learning_rate / (1.0 + decay_rate * p)
    }
}
