//! `PolynomialDecay`.

use super::{check_keys, check_steps_and_rate, schedule_object, steps_json, LearningRateSchedule};
use crate::serialization::{json, Cfg, Value};
use crate::Result;

/// `(initial - end) * (1 - min(step, decay_steps) / decay_steps) ^ power + end`; with `cycle`,
/// `decay_steps` grows to the first multiple above the step. As
/// `keras.optimizers.schedules.PolynomialDecay` (end 0.0001, power 1 by default).
///
/// ```
/// use keras::optimizers::schedules::{PolynomialDecay, LearningRateSchedule};
/// let s = PolynomialDecay::new(0.1, 100)?.end_learning_rate(0.0).power(2.0);
/// assert!((s.call(50) - 0.025).abs() < 1e-8);
/// assert_eq!(s.call(500), 0.0);
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct PolynomialDecay {
    initial_learning_rate: f64,
    decay_steps: f64,
    end_learning_rate: f64,
    power: f64,
    cycle: bool,
    name: String,
}

impl PolynomialDecay {
    /// Decays over `decay_steps` (> 0) steps.
    pub fn new(initial_learning_rate: f64, decay_steps: impl Into<f64>) -> Result<Self> {
        let decay_steps = decay_steps.into();
        check_steps_and_rate(
            "PolynomialDecay",
            "decay_steps",
            decay_steps,
            &[("initial_learning_rate", initial_learning_rate)],
        )?;
        Ok(PolynomialDecay {
            initial_learning_rate,
            decay_steps,
            end_learning_rate: 0.0001,
            power: 1.0,
            cycle: false,
            name: "PolynomialDecay".into(),
        })
    }

    /// The final learning rate.
    pub fn end_learning_rate(mut self, v: f64) -> Self {
        self.end_learning_rate = v;
        self
    }

    /// The polynomial's power.
    pub fn power(mut self, v: f64) -> Self {
        self.power = v;
        self
    }

    /// Restart the decay after `decay_steps`, over a longer period.
    pub fn cycle(mut self, v: bool) -> Self {
        self.cycle = v;
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
                "end_learning_rate",
                "power",
                "cycle",
                "name",
            ],
        )?;
        let s = Self::new(c.f64("initial_learning_rate")?, c.f64("decay_steps")?)?
            .end_learning_rate(c.f64_or("end_learning_rate", 0.0001)?)
            .power(c.f64_or("power", 1.0)?)
            .cycle(c.bool_or("cycle", false)?)
            .name(c.str_or("name", "PolynomialDecay")?);
        check_steps_and_rate(
            "PolynomialDecay",
            "decay_steps",
            s.decay_steps,
            &[("end_learning_rate", s.end_learning_rate)],
        )?;
        Ok(s)
    }
}

impl LearningRateSchedule for PolynomialDecay {
    fn call(&self, step: u64) -> f64 {
        let (init, end, power) = (
            self.initial_learning_rate as f32,
            self.end_learning_rate as f32,
            self.power as f32,
        );
        let mut step = step as f32;
        let mut decay_steps = self.decay_steps as f32;
        if self.cycle {
            let multiplier = if step == 0.0 {
                1.0
            } else {
                (step / decay_steps).ceil()
            };
            decay_steps *= multiplier;
        } else {
            step = step.min(decay_steps);
        }
        let p = step / decay_steps;
        ((init - end) * (1.0 - p).powf(power) + end) as f64
    }

    fn get_config(&self) -> Value {
        schedule_object(
            "PolynomialDecay",
            json!({
                "initial_learning_rate": self.initial_learning_rate,
                "decay_steps": steps_json(self.decay_steps),
                "end_learning_rate": self.end_learning_rate,
                "power": self.power,
                "cycle": self.cycle,
                "name": self.name,
            }),
        )
    }
}
