//! One hyperparameter of a search space, whichever its type: its default, values, the
//! probability maths the oracles use, its validation, and KerasTuner's serialized form
//! (`{"class_name": "Int", "config": {...}}` in `trial.json` / `oracle.json`).

use super::hp_types::{
    index_to_prob, list_repr, prob_to_index, Boolean, Choice, Fixed, Float, Int,
};
use super::value::HpValue;
use crate::serialization::Value;
use crate::{Error, Result};
use serde_json::json;

/// One hyperparameter of a search space.
#[derive(Clone, Debug, PartialEq)]
pub enum HyperParameter {
    /// An integer.
    Int(Int),
    /// A float.
    Float(Float),
    /// One of a list.
    Choice(Choice),
    /// True or false.
    Boolean(Boolean),
    /// A constant.
    Fixed(Fixed),
}

macro_rules! into_hp {
    ($($t:ident),*) => {$(
        impl From<$t> for HyperParameter {
            fn from(h: $t) -> Self {
                HyperParameter::$t(h)
            }
        }
    )*};
}
into_hp!(Int, Float, Choice, Boolean, Fixed);

impl HyperParameter {
    /// The name.
    pub fn name(&self) -> &str {
        match self {
            HyperParameter::Int(h) => &h.name,
            HyperParameter::Float(h) => &h.name,
            HyperParameter::Choice(h) => &h.name,
            HyperParameter::Boolean(h) => &h.name,
            HyperParameter::Fixed(h) => &h.name,
        }
    }
    /// KerasTuner's class name (`Int`, `Float`, ...).
    pub fn class_name(&self) -> &'static str {
        match self {
            HyperParameter::Int(_) => "Int",
            HyperParameter::Float(_) => "Float",
            HyperParameter::Choice(_) => "Choice",
            HyperParameter::Boolean(_) => "Boolean",
            HyperParameter::Fixed(_) => "Fixed",
        }
    }
    /// The value before any sampling.
    pub fn default_value(&self) -> HpValue {
        match self {
            HyperParameter::Int(h) => HpValue::Int(h.default.unwrap_or(h.min_value)),
            HyperParameter::Float(h) => HpValue::Float(h.default.unwrap_or(h.min_value)),
            HyperParameter::Choice(h) => h.default.clone().unwrap_or_else(|| h.values[0].clone()),
            HyperParameter::Boolean(h) => HpValue::Bool(h.default),
            HyperParameter::Fixed(h) => h.value.clone(),
        }
    }
    /// Every possible value, in KerasTuner's `values` order.
    pub fn values(&self) -> Vec<HpValue> {
        match self {
            HyperParameter::Int(h) => h.values().into_iter().map(HpValue::Int).collect(),
            HyperParameter::Float(h) => h.values().into_iter().map(HpValue::Float).collect(),
            HyperParameter::Choice(h) => h.values.clone(),
            HyperParameter::Boolean(_) => vec![HpValue::Bool(true), HpValue::Bool(false)],
            HyperParameter::Fixed(h) => vec![h.value.clone()],
        }
    }
    /// The value at cumulative probability `prob` in `[0, 1)`.
    pub fn prob_to_value(&self, prob: f64) -> HpValue {
        match self {
            HyperParameter::Int(h) => HpValue::Int(h.prob_to_value(prob)),
            HyperParameter::Float(h) => HpValue::Float(h.prob_to_value(prob)),
            HyperParameter::Choice(h) => h.values[prob_to_index(prob, h.values.len())].clone(),
            HyperParameter::Boolean(_) => HpValue::Bool(prob >= 0.5),
            HyperParameter::Fixed(h) => h.value.clone(),
        }
    }
    /// The cumulative probability of `value` (the centre of its bucket).
    pub fn value_to_prob(&self, value: &HpValue) -> f64 {
        match self {
            HyperParameter::Int(h) => h.value_to_prob(value.as_f64().unwrap_or(0.0) as i64),
            HyperParameter::Float(h) => h.value_to_prob(value.as_f64().unwrap_or(0.0)),
            HyperParameter::Choice(h) => {
                let i = h.values.iter().position(|v| v == value).unwrap_or(0);
                index_to_prob(i as f64, h.values.len())
            }
            HyperParameter::Boolean(_) => match value {
                HpValue::Bool(true) => 0.75,
                _ => 0.25,
            },
            HyperParameter::Fixed(_) => 0.5,
        }
    }
    /// Checks the arguments as KerasTuner's constructors do.
    pub fn validate(&self) -> Result<()> {
        match self {
            HyperParameter::Int(h) => h.num().check(),
            HyperParameter::Float(h) => h.num().check(),
            HyperParameter::Choice(h) => {
                if h.values.is_empty() {
                    return Err(Error::value("`values` must be provided for `Choice`."));
                }
                let kinds: std::collections::BTreeSet<&str> =
                    h.values.iter().map(HpValue::type_name).collect();
                let numeric = kinds.iter().all(|k| *k == "int" || *k == "float");
                if kinds.len() > 1 && !numeric {
                    return Err(Error::value(format!(
                        "A `Choice` can contain only one type of value, found values: {} with types {:?}.",
                        list_repr(&h.values),
                        kinds
                    )));
                }
                if let Some(d) = &h.default {
                    if !h.values.contains(d) {
                        return Err(Error::value(format!(
                            "The default value should be one of the choices {}. Received: default={}.",
                            list_repr(&h.values),
                            d
                        )));
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
    /// KerasTuner's `get_config()`, keys in its order.
    pub fn config_pairs(&self) -> Vec<(&'static str, Value)> {
        let name = json!(self.name());
        let none = Value::Null;
        match self {
            HyperParameter::Int(h) => vec![
                ("name", name),
                ("default", h.default.map(|d| json!(d)).unwrap_or(none)),
                ("conditions", json!([])),
                ("min_value", json!(h.min_value)),
                ("max_value", json!(h.max_value)),
                (
                    "step",
                    h.num().step.map(|s| json!(s as i64)).unwrap_or(Value::Null),
                ),
                ("sampling", json!(h.sampling)),
            ],
            HyperParameter::Float(h) => vec![
                ("name", name),
                ("default", json!(h.default.unwrap_or(h.min_value))),
                ("conditions", json!([])),
                ("min_value", json!(h.min_value)),
                ("max_value", json!(h.max_value)),
                ("step", h.step.map(|s| json!(s)).unwrap_or(none)),
                ("sampling", json!(h.sampling)),
            ],
            HyperParameter::Choice(h) => vec![
                ("name", name),
                ("default", self.default_value().to_json()),
                ("conditions", json!([])),
                (
                    "values",
                    Value::Array(h.values.iter().map(HpValue::to_json).collect()),
                ),
                ("ordered", json!(h.ordered)),
            ],
            HyperParameter::Boolean(h) => vec![
                ("name", name),
                ("default", json!(h.default)),
                ("conditions", json!([])),
            ],
            HyperParameter::Fixed(h) => vec![
                ("name", name),
                ("conditions", json!([])),
                ("value", h.value.to_json()),
            ],
        }
    }
    /// `{"class_name": ..., "config": {...}}`, as KerasTuner's `HyperParameters.get_config()`
    /// lists its space.
    pub fn to_json(&self) -> Value {
        let config: serde_json::Map<String, Value> = self
            .config_pairs()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        json!({"class_name": self.class_name(), "config": config})
    }
    /// Reads [`HyperParameter::to_json`]'s form (also KerasTuner's `trial.json` / `oracle.json`).
    pub fn from_json(v: &Value) -> Result<HyperParameter> {
        let bad = || Error::format(format!("not a KerasTuner hyperparameter: {v}"));
        let class = v
            .get("class_name")
            .and_then(Value::as_str)
            .ok_or_else(bad)?;
        let c = v.get("config").ok_or_else(bad)?;
        let name = c.get("name").and_then(Value::as_str).ok_or_else(bad)?;
        let f = |k: &str| c.get(k).and_then(Value::as_f64);
        let sampling = c
            .get("sampling")
            .and_then(Value::as_str)
            .unwrap_or("linear");
        let hp = match class {
            "Int" => HyperParameter::Int(Int {
                name: name.into(),
                min_value: f("min_value").ok_or_else(bad)? as i64,
                max_value: f("max_value").ok_or_else(bad)? as i64,
                step: f("step").map(|s| s as i64),
                sampling: sampling.into(),
                default: f("default").map(|s| s as i64),
            }),
            "Float" => HyperParameter::Float(Float {
                name: name.into(),
                min_value: f("min_value").ok_or_else(bad)?,
                max_value: f("max_value").ok_or_else(bad)?,
                step: f("step"),
                sampling: sampling.into(),
                default: f("default"),
            }),
            "Choice" => {
                let values = c
                    .get("values")
                    .and_then(Value::as_array)
                    .ok_or_else(bad)?
                    .iter()
                    .map(HpValue::from_json)
                    .collect::<Result<Vec<_>>>()?;
                HyperParameter::Choice(Choice {
                    name: name.into(),
                    ordered: c
                        .get("ordered")
                        .and_then(Value::as_bool)
                        .unwrap_or_else(|| values.iter().all(HpValue::is_number)),
                    default: match c.get("default") {
                        None | Some(Value::Null) => None,
                        Some(d) => Some(HpValue::from_json(d)?),
                    },
                    values,
                })
            }
            "Boolean" => HyperParameter::Boolean(Boolean {
                name: name.into(),
                default: c.get("default").and_then(Value::as_bool).unwrap_or(false),
            }),
            "Fixed" => HyperParameter::Fixed(Fixed {
                name: name.into(),
                value: HpValue::from_json(c.get("value").ok_or_else(bad)?)?,
            }),
            other => {
                return Err(Error::value(format!(
                    "Unknown hyperparameter class: {other}. Expected one of Int, Float, Choice, Boolean, Fixed."
                )))
            }
        };
        Ok(hp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_round_trip() {
        let hps: Vec<HyperParameter> = vec![
            Int::new("units", 16, 128).step(16).into(),
            Float::new("lr", 1e-4, 1e-2).sampling("log").into(),
            Choice::new("act", &["relu", "tanh"]).into(),
            Boolean::new("bn").into(),
            Fixed::new("k", 3).into(),
        ];
        for hp in hps {
            let back = HyperParameter::from_json(&hp.to_json()).unwrap();
            assert_eq!(back.to_json(), hp.to_json());
        }
    }
}
