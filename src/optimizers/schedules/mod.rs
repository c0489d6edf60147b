//! Learning-rate schedules, as `keras.optimizers.schedules`: a schedule maps the optimizer's
//! step counter to a learning rate. Built in: [`ExponentialDecay`], [`PiecewiseConstantDecay`],
//! [`PolynomialDecay`], [`InverseTimeDecay`], [`CosineDecay`] (with linear warmup),
//! [`CosineDecayRestarts`]. They compute in float32, as Keras does.
//!
//! A user schedule implements [`LearningRateSchedule`] and, to load from configs, registers
//! its class:
//!
//! ```
//! use keras::prelude::*;
//! use keras::optimizers::schedules::LearningRateSchedule;
//! use keras::saving::object_registration::register;
//! use keras::serialization::{json, object, Value};
//!
//! struct Halving { lr: f64 }
//! impl LearningRateSchedule for Halving {
//!     fn call(&self, step: u64) -> f64 { self.lr / (1 << step.min(30)) as f64 }
//!     fn get_config(&self) -> Value { object("my_schedules", "Halving", json!({"lr": self.lr})) }
//! }
//! register::<Box<dyn LearningRateSchedule>>("Halving", |c| Ok(Box::new(Halving { lr: c.f64("lr")? })));
//!
//! let opt = SGD::new().learning_rate(Halving { lr: 0.4 });
//! assert_eq!(opt.get_learning_rate(), 0.4);
//! let again = keras::optimizers::from_config(&opt.get_config())?;
//! assert_eq!(again.get_config()["config"]["learning_rate"]["config"]["lr"], 0.4);
//! # Ok::<(), keras::Error>(())
//! ```

mod cosine_decay;
mod cosine_decay_restarts;
mod exponential_decay;
mod inverse_time_decay;
mod piecewise_constant_decay;
mod polynomial_decay;
mod step_decay;

pub use cosine_decay::CosineDecay;
pub use cosine_decay_restarts::CosineDecayRestarts;
pub use exponential_decay::{Exponential, ExponentialDecay};
pub use inverse_time_decay::{InverseTime, InverseTimeDecay};
pub use piecewise_constant_decay::PiecewiseConstantDecay;
pub use polynomial_decay::PolynomialDecay;
pub use step_decay::{DecayRule, StepDecay};

use crate::saving::object_registration::{deserialize_object, Builtins, Registrable};
use crate::serialization::{json, object, Cfg, Value};
use crate::{Error, Result};

/// A learning rate as a function of the step counter (Keras's `LearningRateSchedule`).
pub trait LearningRateSchedule: Send + Sync {
    /// The learning rate at step `step` (the optimizer's step counter before the update).
    fn call(&self, step: u64) -> f64;
    /// The serialized schedule: `{module, class_name, config, registered_name}`.
    fn get_config(&self) -> Value;
}

impl Registrable for Box<dyn LearningRateSchedule> {
    const KIND: &'static str = "learning rate schedule";
    fn register_builtins(r: &mut Builtins<Self>) {
        r.add("ExponentialDecay", boxed(ExponentialDecay::from_config));
        r.add(
            "PiecewiseConstantDecay",
            boxed(PiecewiseConstantDecay::from_config),
        );
        r.add("PolynomialDecay", boxed(PolynomialDecay::from_config));
        r.add("InverseTimeDecay", boxed(InverseTimeDecay::from_config));
        r.add("CosineDecay", boxed(CosineDecay::from_config));
        r.add(
            "CosineDecayRestarts",
            boxed(CosineDecayRestarts::from_config),
        );
    }
}

fn boxed<S: LearningRateSchedule + 'static>(
    f: fn(&Cfg) -> Result<S>,
) -> impl Fn(&Cfg) -> Result<Box<dyn LearningRateSchedule>> {
    move |c| Ok(Box::new(f(c)?))
}

/// Keras's `schedules.serialize`.
pub fn serialize(s: &dyn LearningRateSchedule) -> Value {
    s.get_config()
}

/// Keras's `schedules.deserialize`: the schedule a serialized config describes (built-in or
/// registered).
///
/// ```
/// use keras::serialization::json;
/// let s = keras::optimizers::schedules::deserialize(&json!({
///     "class_name": "InverseTimeDecay",
///     "config": {"initial_learning_rate": 0.1, "decay_steps": 1, "decay_rate": 0.5}}))?;
/// assert!((s.call(2) - 0.05).abs() < 1e-8);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn deserialize(v: &Value) -> Result<Box<dyn LearningRateSchedule>> {
    deserialize_object::<Box<dyn LearningRateSchedule>>(v)
}

pub(crate) fn schedule_object(class: &str, config: Value) -> Value {
    object("keras.optimizers.schedules", class, config)
}

/// A step count as JSON: an integer where it is one (Keras's configs hold Python ints).
pub(crate) fn steps_json(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9e15 {
        json!(v as i64)
    } else {
        json!(v)
    }
}

/// Refuses config keys the class does not take (Keras's `cls(**config)` would).
pub(crate) fn check_keys(c: &Cfg, keys: &[&str]) -> Result<()> {
    let unknown: Vec<&str> = c
        .map
        .keys()
        .map(String::as_str)
        .filter(|k| !keys.contains(k))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(Error::value(format!(
            "{}: unexpected argument(s) {unknown:?}; it takes {keys:?}",
            c.class
        )))
    }
}

/// `decay_steps > 0` (Keras's check) and a finite, non-negative learning rate.
pub(crate) fn check_steps_and_rate(
    class: &str,
    steps_key: &str,
    steps: f64,
    rates: &[(&str, f64)],
) -> Result<()> {
    if steps.is_nan() || steps <= 0.0 {
        return Err(Error::value(format!(
            "{class}: Argument `{steps_key}` must be > 0. Received: {steps_key}={}",
            super::base::py_f64(steps)
        )));
    }
    for (key, v) in rates {
        if !v.is_finite() || *v < 0.0 {
            return Err(Error::value(format!(
                "{class}: `{key}` must be a finite number >= 0. Received: {key}={}",
                super::base::py_f64(*v)
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::saving::object_registration::registered_names;

    #[test]
    fn every_builtin_is_registered_and_round_trips() {
        let names = registered_names::<Box<dyn LearningRateSchedule>>();
        for n in [
            "CosineDecay",
            "CosineDecayRestarts",
            "ExponentialDecay",
            "InverseTimeDecay",
            "PiecewiseConstantDecay",
            "PolynomialDecay",
        ] {
            assert!(names.iter().any(|r| r == n), "{n} in {names:?}");
        }
        let all: Vec<Box<dyn LearningRateSchedule>> = vec![
            Box::new(ExponentialDecay::new(0.1, 10, 0.9).unwrap().staircase(true)),
            Box::new(PiecewiseConstantDecay::new(&[10.0, 20.0], &[0.3, 0.2, 0.1]).unwrap()),
            Box::new(PolynomialDecay::new(0.1, 100).unwrap().cycle(true)),
            Box::new(InverseTimeDecay::new(0.1, 5, 0.5).unwrap()),
            Box::new(CosineDecay::new(0.1, 50).unwrap().warmup(0.2, 10)),
            Box::new(CosineDecayRestarts::new(0.1, 20).unwrap().m_mul(0.5)),
        ];
        for s in all {
            let c = s.get_config();
            let again = deserialize(&c).unwrap();
            assert_eq!(again.get_config(), c);
            for step in [0u64, 3, 17, 60, 1000] {
                assert_eq!(again.call(step), s.call(step), "{c}");
            }
        }
    }

    #[test]
    fn bad_arguments_are_errors() {
        let e = ExponentialDecay::new(0.1, 0, 0.5)
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains(
                "ExponentialDecay: Argument `decay_steps` must be > 0. Received: decay_steps=0.0"
            ),
            "{e}"
        );
        let e = CosineDecay::new(-0.1, 10).err().unwrap().to_string();
        assert!(
            e.contains("`initial_learning_rate` must be a finite number >= 0"),
            "{e}"
        );
        let e = InverseTimeDecay::new(0.1, 10, -1.0)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("decay_rate=-1.0"), "{e}");
        let e = PiecewiseConstantDecay::new(&[1.0], &[0.1])
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("The length of boundaries should be 1 less than the length of values"),
            "{e}"
        );
        let e = deserialize(&json!({"class_name": "CosineDecay", "config": {"initial_learning_rate": 0.1, "decay_steps": 5, "warmup": 3}}))
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("CosineDecay: unexpected argument(s) [\"warmup\"]"),
            "{e}"
        );
        let e = deserialize(&json!({"class_name": "CosineDecy", "config": {}}))
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("'CosineDecy'") && e.contains("'CosineDecay'"),
            "{e}"
        );
    }
}
