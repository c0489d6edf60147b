//! `CosineDecayRestarts` (SGDR).

use super::{check_keys, check_steps_and_rate, schedule_object, steps_json, LearningRateSchedule};
use crate::serialization::{json, Cfg, Value};
use crate::Result;

/// Cosine decay with warm restarts: the first period lasts `first_decay_steps`, each next one
/// `t_mul` times longer and starting `m_mul` times lower; `alpha` is the floor as a fraction.
/// As `keras.optimizers.schedules.CosineDecayRestarts` (`t_mul` 2, `m_mul` 1 by default).
///
/// ```
/// use keras::optimizers::schedules::{CosineDecayRestarts, LearningRateSchedule};
/// let s = CosineDecayRestarts::new(0.1, 10)?;
/// assert!((s.call(5) - 0.05).abs() < 1e-8);
/// assert!((s.call(10) - 0.1).abs() < 1e-8); // restart, now for 20 steps
/// assert!((s.call(20) - 0.05).abs() < 1e-8);
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct CosineDecayRestarts {
    initial_learning_rate: f64,
    first_decay_steps: f64,
    t_mul: f64,
    m_mul: f64,
    alpha: f64,
    name: String,
}

impl CosineDecayRestarts {
    /// The first period lasts `first_decay_steps` (> 0) steps.
    pub fn new(initial_learning_rate: f64, first_decay_steps: impl Into<f64>) -> Result<Self> {
        let first_decay_steps = first_decay_steps.into();
        check_steps_and_rate(
            "CosineDecayRestarts",
            "first_decay_steps",
            first_decay_steps,
            &[("initial_learning_rate", initial_learning_rate)],
        )?;
        Ok(CosineDecayRestarts {
            initial_learning_rate,
            first_decay_steps,
            t_mul: 2.0,
            m_mul: 1.0,
            alpha: 0.0,
            name: "SGDRDecay".into(),
        })
    }

    /// Each period is this many times longer than the one before.
    pub fn t_mul(mut self, v: f64) -> Self {
        self.t_mul = v;
        self
    }

    /// Each period starts this many times lower than the one before.
    pub fn m_mul(mut self, v: f64) -> Self {
        self.m_mul = v;
        self
    }

    /// The floor, as a fraction of the initial rate.
    pub fn alpha(mut self, v: f64) -> Self {
        self.alpha = v;
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
                "first_decay_steps",
                "t_mul",
                "m_mul",
                "alpha",
                "name",
            ],
        )?;
        Ok(
            Self::new(c.f64("initial_learning_rate")?, c.f64("first_decay_steps")?)?
                .t_mul(c.f64_or("t_mul", 2.0)?)
                .m_mul(c.f64_or("m_mul", 1.0)?)
                .alpha(c.f64_or("alpha", 0.0)?)
                .name(c.str_or("name", "SGDRDecay")?),
        )
    }
}

impl LearningRateSchedule for CosineDecayRestarts {
    fn call(&self, step: u64) -> f64 {
        let init = self.initial_learning_rate as f32;
        let (alpha, t_mul, m_mul) = (self.alpha as f32, self.t_mul as f32, self.m_mul as f32);
        let mut fraction = step as f32 / self.first_decay_steps as f32;
        let i_restart = if t_mul == 1.0 {
            let i = fraction.floor();
            fraction -= i;
            i
        } else {
            let i = ((1.0 - fraction * (1.0 - t_mul)).ln() / t_mul.ln()).floor();
            let sum_r = (1.0 - t_mul.powf(i)) / (1.0 - t_mul);
            fraction = (fraction - sum_r) / t_mul.powf(i);
            i
        };
        let m_fac = m_mul.powf(i_restart);
        let cosine = 0.5 * m_fac * (1.0 + (std::f32::consts::PI * fraction).cos());
        (init * ((1.0 - alpha) * cosine + alpha)) as f64
    }

    fn get_config(&self) -> Value {
        schedule_object(
            "CosineDecayRestarts",
            json!({
                "initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": steps_json(self.first_decay_steps),
                "t_mul": self.t_mul,
                "m_mul": self.m_mul,
                "alpha": self.alpha,
                "name": self.name,
            }),
        )
    }
}
