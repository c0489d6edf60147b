//! `InverseTimeDecay`.

use super::{check_keys, check_steps_and_rate, schedule_object, steps_json, LearningRateSchedule};
use crate::serialization::{json, Cfg, Value};
use crate::Result;

/// `initial_learning_rate / (1 + decay_rate * step / decay_steps)` (the quotient floored with
/// `staircase`), as `keras.optimizers.schedules.InverseTimeDecay`.
///
/// ```
/// use keras::optimizers::schedules::{InverseTimeDecay, LearningRateSchedule};
/// let s = InverseTimeDecay::new(0.1, 1, 0.5)?;
/// assert!((s.call(2) - 0.05).abs() < 1e-8);
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct InverseTimeDecay {
    initial_learning_rate: f64,
    decay_steps: f64,
    decay_rate: f64,
    staircase: bool,
    name: String,
}

impl InverseTimeDecay {
    /// `decay_steps` must be > 0.
    pub fn new(
        initial_learning_rate: f64,
        decay_steps: impl Into<f64>,
        decay_rate: f64,
    ) -> Result<Self> {
        let decay_steps = decay_steps.into();
        check_steps_and_rate(
            "InverseTimeDecay",
            "decay_steps",
            decay_steps,
            &[
                ("initial_learning_rate", initial_learning_rate),
                ("decay_rate", decay_rate),
            ],
        )?;
        Ok(InverseTimeDecay {
            initial_learning_rate,
            decay_steps,
            decay_rate,
            staircase: false,
            name: "InverseTimeDecay".into(),
        })
    }

    /// Decay at discrete intervals.
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
        .name(c.str_or("name", "InverseTimeDecay")?))
    }
}

impl LearningRateSchedule for InverseTimeDecay {
    fn call(&self, step: u64) -> f64 {
        let mut p = step as f32 / self.decay_steps as f32;
        if self.staircase {
            p = p.floor();
        }
        (self.initial_learning_rate as f32 / (1.0 + self.decay_rate as f32 * p)) as f64
    }

    fn get_config(&self) -> Value {
        schedule_object(
            "InverseTimeDecay",
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
