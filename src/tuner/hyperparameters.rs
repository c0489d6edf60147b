//! KerasTuner's `HyperParameters`: the search space a model-building function declares as it
//! runs, and the values of one trial. Asking for a hyperparameter registers it (on first use)
//! and returns its value in this trial: the default until an oracle has chosen one.

use super::hp_types::{Boolean, Choice, Fixed, Float, Int};
use super::hyperparameter::HyperParameter;
use super::value::HpValue;
use crate::serialization::Value;
use crate::{Error, Result};
use serde_json::json;

/// A search space and the values of one trial (KerasTuner's `hp` argument).
///
/// ```
/// use keras::tuner::{HyperParameters, Float, Int};
/// let mut hp = HyperParameters::new();
/// assert_eq!(hp.int("units", 32, 512)?, 32); // the default: min_value
/// let lr = hp.float_with(Float::new("lr", 1e-4, 1e-2).sampling("log"))?;
/// assert_eq!(lr, 1e-4);
/// assert_eq!(hp.choice("activation", &["relu", "tanh"])?, "relu");
/// assert!(!hp.boolean("batchnorm")?);
/// assert_eq!(hp.space().len(), 4);
/// hp.set("units", 64)?;
/// assert_eq!(hp.int("units", 32, 512)?, 64);
/// assert_eq!(hp.get("units")?.as_i64(), Some(64));
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HyperParameters {
    space: Vec<HyperParameter>,
    values: Vec<(String, HpValue)>,
}

impl HyperParameters {
    /// An empty space.
    pub fn new() -> Self {
        Self::default()
    }

    /// The hyperparameters declared so far, in order.
    pub fn space(&self) -> &[HyperParameter] {
        &self.space
    }

    /// The values of this trial (KerasTuner's `hp.values`), in order.
    pub fn values(&self) -> &[(String, HpValue)] {
        &self.values
    }

    /// The value of `name` (KerasTuner's `hp.get(name)`).
    pub fn get(&self, name: &str) -> Result<HpValue> {
        self.value(name)
            .cloned()
            .ok_or_else(|| Error::value(format!("{name} does not exist.")))
    }

    /// The value of `name`, if set.
    pub fn value(&self, name: &str) -> Option<&HpValue> {
        self.values.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Whether `name` has a value.
    pub fn contains(&self, name: &str) -> bool {
        self.value(name).is_some()
    }

    /// Sets the value of `name` (KerasTuner's `hp.values[name] = value`).
    pub fn set(&mut self, name: &str, value: impl Into<HpValue>) -> Result<()> {
        let value = value.into();
        match self.values.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => *v = value,
            None => self.values.push((name.to_string(), value)),
        }
        Ok(())
    }

    /// The declared hyperparameter called `name`.
    pub fn hyperparameter(&self, name: &str) -> Option<&HyperParameter> {
        self.space.iter().find(|h| h.name() == name)
    }

    /// Declares `hp` (once; later calls with the same name return the current value) and
    /// returns its value in this trial.
    pub fn register(&mut self, hp: impl Into<HyperParameter>) -> Result<HpValue> {
        let mut hp = hp.into();
        if let HyperParameter::Int(i) = &mut hp {
            if i.step.is_none() && i.sampling == "linear" {
                i.step = Some(1);
            }
        }
        if self.hyperparameter(hp.name()).is_none() {
            if hp.name().is_empty() {
                return Err(Error::value("A hyperparameter name must not be empty."));
            }
            hp.validate()?;
            self.space.push(hp.clone());
        }
        if let Some(v) = self.value(hp.name()) {
            return Ok(v.clone());
        }
        let v = hp.default_value();
        self.values.push((hp.name().to_string(), v.clone()));
        Ok(v)
    }

    /// `hp.Int(name, min_value, max_value)` (linear, step 1).
    pub fn int(&mut self, name: &str, min_value: i64, max_value: i64) -> Result<i64> {
        self.int_with(Int::new(name, min_value, max_value))
    }

    /// `hp.Int(...)` with a step, sampling or default.
    pub fn int_with(&mut self, hp: Int) -> Result<i64> {
        let name = hp.name.clone();
        let v = self.register(hp)?;
        v.as_i64()
            .ok_or_else(|| Error::value(format!("{name}: expected an int, found {v}")))
    }

    /// `hp.Float(name, min_value, max_value)` (linear, continuous).
    pub fn float(&mut self, name: &str, min_value: f64, max_value: f64) -> Result<f64> {
        self.float_with(Float::new(name, min_value, max_value))
    }

    /// `hp.Float(...)` with a step, sampling (`"log"`) or default.
    pub fn float_with(&mut self, hp: Float) -> Result<f64> {
        let name = hp.name.clone();
        let v = self.register(hp)?;
        v.as_f64()
            .ok_or_else(|| Error::value(format!("{name}: expected a float, found {v}")))
    }

    /// `hp.Choice(name, values)`: returns the chosen element of `values` (ints, floats,
    /// strings or booleans; the first is the default).
    pub fn choice<T: Clone + Into<HpValue>>(&mut self, name: &str, values: &[T]) -> Result<T> {
        let v = self.register(Choice::new(name, values))?;
        values
            .iter()
            .find(|x| (*x).clone().into() == v)
            .cloned()
            .ok_or_else(|| {
                Error::value(format!(
                    "{name}: the value {} is not one of the choices",
                    v.py_repr()
                ))
            })
    }

    /// `hp.Boolean(name)` (default `false`).
    pub fn boolean(&mut self, name: &str) -> Result<bool> {
        let v = self.register(Boolean::new(name))?;
        v.as_bool()
            .ok_or_else(|| Error::value(format!("{name}: expected a boolean, found {v}")))
    }

    /// `hp.Fixed(name, value)`.
    pub fn fixed<T: Clone + Into<HpValue>>(&mut self, name: &str, value: T) -> Result<T> {
        let want: HpValue = value.clone().into();
        let v = self.register(Fixed::new(name, want.clone()))?;
        if v == want {
            Ok(value)
        } else {
            Err(Error::value(format!(
                "{name}: fixed to {}, found {}",
                want.py_repr(),
                v.py_repr()
            )))
        }
    }

    /// Adds the hyperparameters of `space` not declared yet (KerasTuner's `merge`).
    pub fn merge(&mut self, space: &[HyperParameter]) {
        for hp in space {
            if self.hyperparameter(hp.name()).is_none() {
                self.space.push(hp.clone());
            }
        }
    }

    /// Sets every hyperparameter without a value to its default.
    pub fn ensure_active_values(&mut self) {
        for hp in self.space.clone() {
            if !self.contains(hp.name()) {
                self.values
                    .push((hp.name().to_string(), hp.default_value()));
            }
        }
    }

    /// A copy with the same space and the given values (values in space order).
    pub fn with_values(&self, values: Vec<(String, HpValue)>) -> Self {
        let mut hp = HyperParameters {
            space: self.space.clone(),
            values,
        };
        hp.order_values();
        hp
    }

    /// KerasTuner's `get_config()`: `{"space": [...], "values": {...}}`.
    pub fn get_config(&self) -> Value {
        let values: serde_json::Map<String, Value> = self
            .values
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect();
        json!({
            "space": self.space.iter().map(HyperParameter::to_json).collect::<Vec<_>>(),
            "values": values,
        })
    }

    /// Reads [`HyperParameters::get_config`]'s form (KerasTuner's `from_config`). Values are
    /// put in the order of the space, then `tuner/...` entries in KerasTuner's order.
    pub fn from_config(config: &Value) -> Result<Self> {
        let space = match config.get("space") {
            Some(Value::Array(a)) => a
                .iter()
                .map(HyperParameter::from_json)
                .collect::<Result<Vec<_>>>()?,
            _ => vec![],
        };
        let mut values = vec![];
        if let Some(Value::Object(m)) = config.get("values") {
            for (k, v) in m {
                values.push((k.clone(), HpValue::from_json(v)?));
            }
        }
        let mut hp = HyperParameters { space, values };
        hp.order_values();
        Ok(hp)
    }

    fn order_values(&mut self) {
        const TUNER: [&str; 5] = [
            "tuner/trial_id",
            "tuner/epochs",
            "tuner/initial_epoch",
            "tuner/bracket",
            "tuner/round",
        ];
        let rank = |name: &str| -> (usize, usize) {
            if let Some(i) = self.space.iter().position(|h| h.name() == name) {
                return (0, i);
            }
            match TUNER.iter().position(|t| *t == name) {
                Some(i) => (1, i),
                None => (2, 0),
            }
        };
        let mut keyed: Vec<((usize, usize), (String, HpValue))> = self
            .values
            .drain(..)
            .map(|(k, v)| (rank(&k), (k, v)))
            .collect();
        keyed.sort_by_key(|a| a.0);
        self.values = keyed.into_iter().map(|(_, kv)| kv).collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_follow_the_space_after_a_round_trip() {
        let mut hp = HyperParameters::new();
        hp.int("b", 1, 3).unwrap();
        hp.int("a", 1, 3).unwrap();
        hp.set("tuner/epochs", 2).unwrap();
        hp.set("tuner/trial_id", "0001").unwrap();
        let back = HyperParameters::from_config(&hp.get_config()).unwrap();
        let names: Vec<&str> = back.values().iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["b", "a", "tuner/trial_id", "tuner/epochs"]);
        assert_eq!(back.space(), hp.space());
    }

    #[test]
    fn unknown_name_and_choice_types() {
        let hp = HyperParameters::new();
        assert_eq!(
            hp.get("units").unwrap_err().to_string(),
            "units does not exist."
        );
        let mut hp = HyperParameters::new();
        assert_eq!(hp.choice("n", &[16, 32]).unwrap(), 16);
        assert_eq!(hp.choice("rate", &[0.1, 0.2]).unwrap(), 0.1);
        hp.set("n", 32).unwrap();
        assert_eq!(hp.choice("n", &[16, 32]).unwrap(), 32);
        assert!(hp.fixed("k", 3).is_ok());
    }
}
