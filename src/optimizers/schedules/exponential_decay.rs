//! `ExponentialDecay`.

use super::step_decay::{DecayRule, StepDecay};

/// `initial_learning_rate * decay_rate ^ (step / decay_steps)` (the exponent floored with
/// `staircase`), as `keras.optimizers.schedules.ExponentialDecay`.
///
/// ```
/// use keras::optimizers::schedules::{ExponentialDecay, LearningRateSchedule};
/// let s = ExponentialDecay::new(0.1, 100, 0.5)?.staircase(true);
/// assert_eq!(s.call(99), 0.1f32 as f64);
/// assert_eq!(s.call(100), 0.05f32 as f64);
/// # Ok::<(), keras::Error>(())
/// ```
pub type ExponentialDecay = StepDecay<Exponential>;

/// The rule of [`ExponentialDecay`].
#[derive(Clone, Copy, Debug)]
pub struct Exponential;

impl DecayRule for Exponential {
    const CLASS: &'static str = "ExponentialDecay";
    fn decay(initial_learning_rate: f32, decay_rate: f32, p: f32) -> f32 {
        initial_learning_rate * decay_rate.powf(p)
    }
}
