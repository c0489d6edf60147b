//! KerasTuner's hyperparameter types (`keras_tuner/src/engine/hyperparameters/hp_types`):
//! `Int`, `Float`, `Choice`, `Boolean`, `Fixed`, each mapping a cumulative probability in
//! `[0, 1)` to a value (`prob_to_value`) and back (`value_to_prob`), as KerasTuner's oracles
//! sample and vectorize them.

use super::value::{py_float, HpValue};
use crate::serialization::Value;
use crate::{Error, Result};
use serde_json::json;

/// `hp.Int(name, min_value, max_value, step=None, sampling="linear", default=None)`: an
/// integer in `[min_value, max_value]` (both included). Linear sampling without a step gets
/// `step=1`, as KerasTuner's.
///
/// ```
/// use keras::tuner::Int;
/// let units = Int::new("units", 32, 512).step(32);
/// assert_eq!(units.values(), (1..=16).map(|i| 32 * i).collect::<Vec<i64>>());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Int {
    /// The name, unique in the search space.
    pub name: String,
    /// Lower limit, inclusive.
    pub min_value: i64,
    /// Upper limit, inclusive.
    pub max_value: i64,
    /// Distance (linear) or factor (log) between consecutive values.
    pub step: Option<i64>,
    /// `"linear"`, `"log"` or `"reverse_log"`.
    pub sampling: String,
    /// The value used before sampling (default: `min_value`).
    pub default: Option<i64>,
}

impl Int {
    /// `Int(name, min_value, max_value)`, linear with step 1.
    pub fn new(name: &str, min_value: i64, max_value: i64) -> Self {
        Int {
            name: name.to_string(),
            min_value,
            max_value,
            step: None,
            sampling: "linear".into(),
            default: None,
        }
    }
    /// The step (`step=`).
    pub fn step(mut self, step: i64) -> Self {
        self.step = Some(step);
        self
    }
    /// `"linear"`, `"log"` or `"reverse_log"` (`sampling=`).
    pub fn sampling(mut self, sampling: &str) -> Self {
        self.sampling = sampling.to_lowercase();
        self
    }
    /// The default value (`default=`).
    pub fn default(mut self, default: i64) -> Self {
        self.default = Some(default);
        self
    }
    fn num(&self) -> Numerical<'_> {
        let step = match (self.step, self.sampling.as_str()) {
            (Some(s), _) => Some(s as f64),
            (None, "linear") => Some(1.0),
            _ => None,
        };
        Numerical {
            class: "Int",
            name: &self.name,
            min: self.min_value as f64,
            max: self.max_value as f64,
            step,
            sampling: &self.sampling,
        }
    }
    /// Every value (the ten bucket centres when there is no step, as KerasTuner's `values`).
    pub fn values(&self) -> Vec<i64> {
        let n = self.num();
        let mut v: Vec<i64> = match n.step {
            Some(_) => (0..n.n_values())
                .map(|i| n.value_by_index(i) as i64)
                .collect(),
            None => (0..10)
                .map(|i| self.prob_to_value(i as f64 * 0.1 + 0.05))
                .collect(),
        };
        if n.step.is_none() {
            v.sort();
            v.dedup();
        }
        v
    }
    /// The value at cumulative probability `prob`.
    pub fn prob_to_value(&self, prob: f64) -> i64 {
        let n = self.num();
        match n.step {
            None => n.sample_numerical(prob, self.max_value as f64 + 1.0) as i64,
            Some(_) => n.sample_with_step(prob) as i64,
        }
    }
    /// The cumulative probability of `value` (the centre of its bucket).
    pub fn value_to_prob(&self, value: i64) -> f64 {
        let n = self.num();
        match n.step {
            None => n.numerical_to_prob(value as f64 + 0.5, self.max_value as f64 + 1.0),
            Some(_) => n.to_prob_with_step(value as f64),
        }
    }
}

/// `hp.Float(name, min_value, max_value, step=None, sampling="linear", default=None)`.
///
/// ```
/// use keras::tuner::Float;
/// let lr = Float::new("learning_rate", 1e-4, 1e-2).sampling("log");
/// assert!((lr.prob_to_value(0.5) - 1e-3).abs() < 1e-12);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Float {
    /// The name, unique in the search space.
    pub name: String,
    /// Lower limit, inclusive.
    pub min_value: f64,
    /// Upper limit, inclusive.
    pub max_value: f64,
    /// Distance (linear) or factor (log) between consecutive values.
    pub step: Option<f64>,
    /// `"linear"`, `"log"` or `"reverse_log"`.
    pub sampling: String,
    /// The value used before sampling (default: `min_value`).
    pub default: Option<f64>,
}

impl Float {
    /// `Float(name, min_value, max_value)`, linear and continuous.
    pub fn new(name: &str, min_value: f64, max_value: f64) -> Self {
        Float {
            name: name.to_string(),
            min_value,
            max_value,
            step: None,
            sampling: "linear".into(),
            default: None,
        }
    }
    /// The step (`step=`).
    pub fn step(mut self, step: f64) -> Self {
        self.step = Some(step);
        self
    }
    /// `"linear"`, `"log"` or `"reverse_log"` (`sampling=`).
    pub fn sampling(mut self, sampling: &str) -> Self {
        self.sampling = sampling.to_lowercase();
        self
    }
    /// The default value (`default=`).
    pub fn default(mut self, default: f64) -> Self {
        self.default = Some(default);
        self
    }
    fn num(&self) -> Numerical<'_> {
        Numerical {
            class: "Float",
            name: &self.name,
            min: self.min_value,
            max: self.max_value,
            step: self.step,
            sampling: &self.sampling,
        }
    }
    /// Every value with a step; the ten bucket centres (sorted) without one.
    pub fn values(&self) -> Vec<f64> {
        let n = self.num();
        match n.step {
            Some(_) => (0..n.n_values()).map(|i| n.value_by_index(i)).collect(),
            None => (0..10)
                .map(|i| self.prob_to_value(i as f64 * 0.1 + 0.05))
                .collect(),
        }
    }
    /// The value at cumulative probability `prob`.
    pub fn prob_to_value(&self, prob: f64) -> f64 {
        let n = self.num();
        match n.step {
            None => n.sample_numerical(prob, self.max_value),
            Some(_) => n.sample_with_step(prob),
        }
    }
    /// The cumulative probability of `value`.
    pub fn value_to_prob(&self, value: f64) -> f64 {
        let n = self.num();
        match n.step {
            None => n.numerical_to_prob(value, self.max_value),
            Some(_) => n.to_prob_with_step(value),
        }
    }
}

/// `hp.Choice(name, values, ordered=None, default=None)`: one of a list of ints, floats,
/// strings or booleans (the first is the default).
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    /// The name, unique in the search space.
    pub name: String,
    /// The possible values.
    pub values: Vec<HpValue>,
    /// Whether the values are ordered (default: all numeric).
    pub ordered: bool,
    /// The default (default: the first value).
    pub default: Option<HpValue>,
}

impl Choice {
    /// `Choice(name, values)`.
    pub fn new<T: Into<HpValue> + Clone>(name: &str, values: &[T]) -> Self {
        let values: Vec<HpValue> = values.iter().cloned().map(Into::into).collect();
        let ordered = values.iter().all(HpValue::is_number);
        Choice {
            name: name.to_string(),
            values,
            ordered,
            default: None,
        }
    }
    /// The default value (`default=`).
    pub fn default(mut self, default: impl Into<HpValue>) -> Self {
        self.default = Some(default.into());
        self
    }
}

/// `hp.Boolean(name, default=False)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Boolean {
    /// The name, unique in the search space.
    pub name: String,
    /// The default value.
    pub default: bool,
}

impl Boolean {
    /// `Boolean(name)`, default `false`.
    pub fn new(name: &str) -> Self {
        Boolean {
            name: name.to_string(),
            default: false,
        }
    }
    /// The default value (`default=`).
    pub fn default(mut self, default: bool) -> Self {
        self.default = default;
        self
    }
}

/// `hp.Fixed(name, value)`: a constant recorded with the trial.
#[derive(Clone, Debug, PartialEq)]
pub struct Fixed {
    /// The name, unique in the search space.
    pub name: String,
    /// The value.
    pub value: HpValue,
}

impl Fixed {
    /// `Fixed(name, value)`.
    pub fn new(name: &str, value: impl Into<HpValue>) -> Self {
        Fixed {
            name: name.to_string(),
            value: value.into(),
        }
    }
}

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

/// `[a, b, c]` in Python's list repr.
pub(crate) fn list_repr(v: &[HpValue]) -> String {
    let items: Vec<String> = v.iter().map(HpValue::py_repr).collect();
    format!("[{}]", items.join(", "))
}

/// KerasTuner's `hp_utils.prob_to_index`.
pub(crate) fn prob_to_index(prob: f64, n: usize) -> usize {
    let ele = 1.0 / n as f64;
    let i = (prob / ele).floor().max(0.0) as usize;
    i.min(n - 1)
}

/// KerasTuner's `hp_utils.index_to_prob`.
pub(crate) fn index_to_prob(index: f64, n: usize) -> f64 {
    (index + 0.5) / n as f64
}

/// Python's float `a // b` (`float_floordiv`: through `fmod`, so `0.5 // 0.1 == 4.0`).
fn py_floordiv(a: f64, b: f64) -> f64 {
    let mut m = a % b;
    let mut div = (a - m) / b;
    if m != 0.0 && ((b < 0.0) != (m < 0.0)) {
        m += b;
        div -= 1.0;
    }
    let _ = m;
    if div != 0.0 {
        let f = div.floor();
        if div - f > 0.5 {
            f + 1.0
        } else {
            f
        }
    } else {
        0.0
    }
}

/// The shared maths of `Int` and `Float` (KerasTuner's `Numerical`).
struct Numerical<'a> {
    class: &'static str,
    name: &'a str,
    min: f64,
    max: f64,
    step: Option<f64>,
    sampling: &'a str,
}

impl Numerical<'_> {
    fn check(&self) -> Result<()> {
        let who = format!("For HyperParameters.{}(name='{}')", self.class, self.name);
        if self.min > self.max {
            return Err(Error::value(format!(
                "{who}, min_value {} is greater than the max_value {}.",
                self.fmt(self.min),
                self.fmt(self.max)
            )));
        }
        if !matches!(self.sampling, "linear" | "log" | "reverse_log") {
            return Err(Error::value(format!(
                "{who}, sampling must be one of {{'linear', 'log', 'reverse_log'}}. Received: sampling='{}'.",
                self.sampling
            )));
        }
        let log = self.sampling != "linear";
        if log && self.min <= 0.0 {
            return Err(Error::value(format!(
                "{who}, sampling='{}' does not support negative values, found min_value: {}.",
                self.sampling,
                self.fmt(self.min)
            )));
        }
        if let Some(s) = self.step {
            if log && s <= 1.0 {
                return Err(Error::value(format!(
                    "{who}, expected step > 1 with sampling='{}'. Received: step={}.",
                    self.sampling,
                    self.fmt(s)
                )));
            }
            if !log && s <= 0.0 {
                return Err(Error::value(format!(
                    "{who}, expected step > 0. Received: step={}.",
                    self.fmt(s)
                )));
            }
        }
        Ok(())
    }
    fn fmt(&self, v: f64) -> String {
        if self.class == "Int" {
            format!("{}", v as i64)
        } else {
            py_float(v)
        }
    }
    fn sample_numerical(&self, prob: f64, max: f64) -> f64 {
        match self.sampling {
            "log" => self.min * (max / self.min).powf(prob),
            "reverse_log" => max + self.min - self.min * (max / self.min).powf(1.0 - prob),
            _ => prob * (max - self.min) + self.min,
        }
    }
    fn numerical_to_prob(&self, value: f64, max: f64) -> f64 {
        if max == self.min {
            return 0.5;
        }
        match self.sampling {
            "log" => (value / self.min).ln() / (max / self.min).ln(),
            "reverse_log" => {
                1.0 - ((max + self.min - value) / self.min).ln() / (max / self.min).ln()
            }
            _ => (value - self.min) / (max - self.min),
        }
    }
    fn n_values(&self) -> usize {
        let step = self.step.unwrap_or(1.0);
        if self.sampling == "linear" {
            py_floordiv(self.max - self.min, step) as usize + 1
        } else {
            ((self.max / self.min).ln() / step.ln() + 1e-8) as usize + 1
        }
    }
    fn value_by_index(&self, i: usize) -> f64 {
        let step = self.step.unwrap_or(1.0);
        match self.sampling {
            "log" => self.min * step.powi(i as i32),
            "reverse_log" => self.max + self.min - self.min * step.powi(i as i32),
            _ => self.min + i as f64 * step,
        }
    }
    fn sample_with_step(&self, prob: f64) -> f64 {
        self.value_by_index(prob_to_index(prob, self.n_values()))
    }
    fn to_prob_with_step(&self, value: f64) -> f64 {
        let step = self.step.unwrap_or(1.0);
        let index = match self.sampling {
            "log" => (value / self.min).ln() / step.ln(),
            "reverse_log" => ((self.max - value + self.min) / self.min).ln() / step.ln(),
            _ => py_floordiv(value - self.min, step),
        };
        index_to_prob(index, self.n_values())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_steps_and_log() {
        assert_eq!(Int::new("n", 6, 13).step(3).values(), vec![6, 9, 12]);
        let log = Int::new("b", 2, 32).step(2).sampling("log");
        assert_eq!(log.values(), vec![2, 4, 8, 16, 32]);
        assert_eq!(log.prob_to_value(0.99), 32);
        assert_eq!(log.prob_to_value(0.0), 2);
        assert!((log.value_to_prob(8) - 0.5).abs() < 1e-12);
        // Without a step the max is reachable (KerasTuner samples in [min, max + 1)).
        let i = Int::new("u", 1, 4);
        assert_eq!(i.prob_to_value(0.999), 4);
        assert!((i.value_to_prob(1) - 0.125).abs() < 1e-12);
    }

    #[test]
    fn float_log_and_checks() {
        let f = Float::new("lr", 1e-4, 1e-1).sampling("log");
        assert!((f.prob_to_value(1.0 / 3.0) - 1e-3).abs() < 1e-12);
        assert!((f.value_to_prob(1e-2) - 2.0 / 3.0).abs() < 1e-12);
        let e = HyperParameter::from(Float::new("lr", 0.0, 1.0).sampling("log"))
            .validate()
            .unwrap_err()
            .to_string();
        assert_eq!(e, "For HyperParameters.Float(name='lr'), sampling='log' does not support negative values, found min_value: 0.0.");
        let e = HyperParameter::from(Int::new("u", 5, 1))
            .validate()
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "For HyperParameters.Int(name='u'), min_value 5 is greater than the max_value 1."
        );
        // Python's 0.5 // 0.1 is 4.0: KerasTuner's grid stops at 0.4.
        assert_eq!(Float::new("d", 0.0, 0.5).step(0.1).values().len(), 5);
    }

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
