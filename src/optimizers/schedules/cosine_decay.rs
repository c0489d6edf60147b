//! `CosineDecay`, with an optional linear warmup.

use super::{check_keys, check_steps_and_rate, schedule_object, steps_json, LearningRateSchedule};
use crate::serialization::{json, Cfg, Value};
use crate::Result;

/// A cosine decay from the initial rate (or, with a warmup, from `warmup_target` after
/// `warmup_steps` steps of linear increase) to `alpha` times it over `decay_steps`, as
/// `keras.optimizers.schedules.CosineDecay`.
///
/// ```
/// use keras::optimizers::schedules::{CosineDecay, LearningRateSchedule};
/// let s = CosineDecay::new(0.0, 100)?.warmup(0.1, 10);
/// assert!((s.call(5) - 0.05).abs() < 1e-8);
/// assert!((s.call(10) - 0.1).abs() < 1e-8);
/// assert!(s.call(110).abs() < 1e-8);
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct CosineDecay {
    initial_learning_rate: f64,
    decay_steps: f64,
    alpha: f64,
    name: String,
    warmup_target: Option<f64>,
    warmup_steps: f64,
}

impl CosineDecay {
    /// Decays over `decay_steps` (> 0) steps, to 0 by default.
    pub fn new(initial_learning_rate: f64, decay_steps: impl Into<f64>) -> Result<Self> {
        let decay_steps = decay_steps.into();
        check_steps_and_rate(
            "CosineDecay",
            "decay_steps",
            decay_steps,
            &[("initial_learning_rate", initial_learning_rate)],
        )?;
        Ok(CosineDecay {
            initial_learning_rate,
            decay_steps,
            alpha: 0.0,
            name: "CosineDecay".into(),
            warmup_target: None,
            warmup_steps: 0.0,
        })
    }

    /// The final rate as a fraction of the decay's starting rate.
    pub fn alpha(mut self, v: f64) -> Self {
        self.alpha = v;
        self
    }

    /// A linear warmup from the initial rate to `target` over `steps` steps, before the decay.
    pub fn warmup(mut self, target: f64, steps: impl Into<f64>) -> Self {
        self.warmup_target = Some(target);
        self.warmup_steps = steps.into();
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
                "alpha",
                "name",
                "warmup_target",
                "warmup_steps",
            ],
        )?;
        let mut s = Self::new(c.f64("initial_learning_rate")?, c.f64("decay_steps")?)?
            .alpha(c.f64_or("alpha", 0.0)?)
            .name(c.str_or("name", "CosineDecay")?);
        s.warmup_target = c.opt_f64("warmup_target")?;
        s.warmup_steps = c.f64_or("warmup_steps", 0.0)?;
        if let Some(t) = s.warmup_target {
            check_steps_and_rate(
                "CosineDecay",
                "decay_steps",
                s.decay_steps,
                &[("warmup_target", t)],
            )?;
        }
        Ok(s)
    }

    fn decay(&self, step: f32, decay_steps: f32, from: f32) -> f32 {
        let fraction = step / decay_steps;
        let cosine = 0.5 * (1.0 + (std::f32::consts::PI * fraction).cos());
        let alpha = self.alpha as f32;
        from * ((1.0 - self.alpha) as f32 * cosine + alpha)
    }
}

impl LearningRateSchedule for CosineDecay {
    fn call(&self, step: u64) -> f64 {
        let init = self.initial_learning_rate as f32;
        let decay_steps = self.decay_steps as f32;
        let step = step as f32;
        let Some(target) = self.warmup_target else {
            return self.decay(step.min(decay_steps), decay_steps, init) as f64;
        };
        let (target, warmup_steps) = (target as f32, self.warmup_steps as f32);
        let step = step.min(decay_steps + warmup_steps);
        if step < warmup_steps {
            ((target - init) * (step / warmup_steps) + init) as f64
        } else {
            self.decay(step - warmup_steps, decay_steps, target) as f64
        }
    }

    fn get_config(&self) -> Value {
        schedule_object(
            "CosineDecay",
            json!({
                "initial_learning_rate": self.initial_learning_rate,
                "decay_steps": steps_json(self.decay_steps),
                "alpha": self.alpha,
                "name": self.name,
                "warmup_target": self.warmup_target,
                "warmup_steps": steps_json(self.warmup_steps),
            }),
        )
    }
}
