//! `PiecewiseConstantDecay`.

use super::{check_keys, schedule_object, steps_json, LearningRateSchedule};
use crate::serialization::{json, Cfg, Value};
use crate::{Error, Result};

/// `values[0]` while `step <= boundaries[0]`, `values[i]` while
/// `boundaries[i-1] < step <= boundaries[i]`, the last value after the last boundary, as
/// `keras.optimizers.schedules.PiecewiseConstantDecay`.
///
/// ```
/// use keras::optimizers::schedules::{PiecewiseConstantDecay, LearningRateSchedule};
/// let s = PiecewiseConstantDecay::new(&[100.0, 110.0], &[1.0, 0.5, 0.1])?;
/// assert_eq!((s.call(100), s.call(101), s.call(111)), (1.0, 0.5, 0.1f32 as f64));
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct PiecewiseConstantDecay {
    boundaries: Vec<f64>,
    values: Vec<f64>,
    name: String,
}

impl PiecewiseConstantDecay {
    /// `values` has one more element than `boundaries`.
    pub fn new(boundaries: &[f64], values: &[f64]) -> Result<Self> {
        if boundaries.len() + 1 != values.len() {
            return Err(Error::value(format!(
                "PiecewiseConstantDecay: The length of boundaries should be 1 less than the length of values. Received: boundaries={boundaries:?} of length {}, and values={values:?} of length {}.",
                boundaries.len(),
                values.len()
            )));
        }
        if let Some(v) = values.iter().find(|v| !v.is_finite() || **v < 0.0) {
            return Err(Error::value(format!(
                "PiecewiseConstantDecay: every learning rate in `values` must be a finite number >= 0. Received: values={values:?} (with {v})"
            )));
        }
        Ok(PiecewiseConstantDecay {
            boundaries: boundaries.to_vec(),
            values: values.to_vec(),
            name: "PiecewiseConstant".into(),
        })
    }

    /// The schedule's name (in its config).
    pub fn name(mut self, n: &str) -> Self {
        self.name = n.into();
        self
    }

    /// Reads Keras's config.
    pub fn from_config(c: &Cfg) -> Result<Self> {
        check_keys(c, &["boundaries", "values", "name"])?;
        let list = |k: &str| -> Result<Vec<f64>> {
            c.opt_f64s(k)?.ok_or_else(|| c.bad(k, "a list of numbers"))
        };
        Ok(Self::new(&list("boundaries")?, &list("values")?)?
            .name(c.str_or("name", "PiecewiseConstant")?))
    }
}

impl LearningRateSchedule for PiecewiseConstantDecay {
    fn call(&self, step: u64) -> f64 {
        // Keras casts the boundaries to the step's integer type.
        let step = step as f64;
        let i = self
            .boundaries
            .iter()
            .position(|b| step <= b.trunc())
            .unwrap_or(self.boundaries.len());
        self.values[i] as f32 as f64
    }

    fn get_config(&self) -> Value {
        let b: Vec<Value> = self.boundaries.iter().map(|b| steps_json(*b)).collect();
        schedule_object(
            "PiecewiseConstantDecay",
            json!({"boundaries": b, "values": self.values, "name": self.name}),
        )
    }
}
