//! `ExponentialDecay`.

use super::{check_keys, check_steps_and_rate, schedule_object, steps_json, LearningRateSchedule};
use crate::serialization::{json, Cfg, Value};
use crate::Result;

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
#[derive(Clone, Debug)]
pub struct ExponentialDecay {
    initial_learning_rate: f64,
    decay_steps: f64,
    decay_rate: f64,
    staircase: bool,
    name: String,
}

impl ExponentialDecay {
    /// Decays by `decay_rate` every `decay_steps` steps (which must be > 0).
    pub fn new(
        initial_learning_rate: f64,
        decay_steps: impl Into<f64>,
        decay_rate: f64,
    ) -> Result<Self> {
        let decay_steps = decay_steps.into();
        check_steps_and_rate(
            "ExponentialDecay",
            "decay_steps",
            decay_steps,
            &[
                ("initial_learning_rate", initial_learning_rate),
                ("decay_rate", decay_rate),
            ],
        )?;
        Ok(ExponentialDecay {
            initial_learning_rate,
            decay_steps,
            decay_rate,
            staircase: false,
            name: "ExponentialDecay".into(),
        })
    }

    /// Decay at discrete intervals (the exponent floored).
    pub fn staircase(mut self, v: bool) -> Self {
        self.staircase = v;
        self
    }

    /// The schedule's name (in its config).
    pub fn name(mut self, n: &str) -> Self {
        self.name = n.into();
        self
    }

    /// Reads Keras's config.
    pub fn from_config(c: &Cfg) -> Result<Self> {
        check_keys(
            c,
            &[
                "initial_learning_rate",
                "decay_steps",
                "decay_rate",
                "staircase",
                "name",
            ],
        )?;
        Ok(Self::new(
            c.f64("initial_learning_rate")?,
            c.f64("decay_steps")?,
            c.f64("decay_rate")?,
        )?
        .staircase(c.bool_or("staircase", false)?)
        .name(c.str_or("name", "ExponentialDecay")?))
    }
}

impl LearningRateSchedule for ExponentialDecay {
    fn call(&self, step: u64) -> f64 {
        let mut p = step as f32 / self.decay_steps as f32;
        if self.staircase {
            p = p.floor();
        }
        (self.initial_learning_rate as f32 * (self.decay_rate as f32).powf(p)) as f64
    }

    fn get_config(&self) -> Value {
        schedule_object(
            "ExponentialDecay",
            json!({
                "initial_learning_rate": self.initial_learning_rate,
                "decay_steps": steps_json(self.decay_steps),
                "decay_rate": self.decay_rate,
                "staircase": self.staircase,
                "name": self.name,
            }),
        )
    }
}
