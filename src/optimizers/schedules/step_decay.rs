//! The shape `ExponentialDecay` and `InverseTimeDecay` share: an initial rate, `decay_steps`,
//! `decay_rate`, `staircase` and a name, with one formula each ([`DecayRule`]).

use super::{check_keys, check_steps_and_rate, schedule_object, steps_json, LearningRateSchedule};
use crate::serialization::{json, Cfg, Value};
use crate::Result;
use std::marker::PhantomData;

/// One schedule's Keras class name and formula of `(initial_learning_rate, decay_rate, p)`,
/// `p` being `step / decay_steps` (floored with `staircase`).
pub trait DecayRule: Clone + std::fmt::Debug + Send + Sync + 'static {
    /// Keras's class name.
    const CLASS: &'static str;
    /// The learning rate for progress `p`, in float32 as Keras computes it.
    fn decay(initial_learning_rate: f32, decay_rate: f32, p: f32) -> f32;
}

/// A schedule of Keras's `(initial_learning_rate, decay_steps, decay_rate, staircase)` form;
/// use it through [`ExponentialDecay`](super::ExponentialDecay) and
/// [`InverseTimeDecay`](super::InverseTimeDecay).
#[derive(Clone, Debug)]
pub struct StepDecay<R: DecayRule> {
    initial_learning_rate: f64,
    decay_steps: f64,
    decay_rate: f64,
    staircase: bool,
    name: String,
    rule: PhantomData<R>,
}

impl<R: DecayRule> StepDecay<R> {
    /// Decays by `decay_rate` over every `decay_steps` steps (which must be > 0).
    pub fn new(
        initial_learning_rate: f64,
        decay_steps: impl Into<f64>,
        decay_rate: f64,
    ) -> Result<Self> {
        let decay_steps = decay_steps.into();
        check_steps_and_rate(
            R::CLASS,
            "decay_steps",
            decay_steps,
            &[
                ("initial_learning_rate", initial_learning_rate),
                ("decay_rate", decay_rate),
            ],
        )?;
        Ok(StepDecay {
            initial_learning_rate,
            decay_steps,
            decay_rate,
            staircase: false,
            name: R::CLASS.into(),
            rule: PhantomData,
        })
    }

    /// Decay at discrete intervals (`step / decay_steps` floored).
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
        .name(c.str_or("name", R::CLASS)?))
    }
}

impl<R: DecayRule> LearningRateSchedule for StepDecay<R> {
    fn call(&self, step: u64) -> f64 {
        let mut p = step as f32 / self.decay_steps as f32;
        if self.staircase {
            p = p.floor();
        }
        R::decay(self.initial_learning_rate as f32, self.decay_rate as f32, p) as f64
    }

    fn get_config(&self) -> Value {
        schedule_object(
            R::CLASS,
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
