//! KerasTuner's hyperparameter types (`keras_tuner/src/engine/hyperparameters/hp_types`):
//! `Int`, `Float`, `Choice`, `Boolean`, `Fixed`, each mapping a cumulative probability in
//! `[0, 1)` to a value (`prob_to_value`) and back (`value_to_prob`), as KerasTuner's oracles
//! sample and vectorize them.

use super::value::{py_float, HpValue};
use crate::{Error, Result};

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
    pub(crate) fn num(&self) -> Numerical<'_> {
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
    pub(crate) fn num(&self) -> Numerical<'_> {
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
pub(crate) struct Numerical<'a> {
    class: &'static str,
    name: &'a str,
    min: f64,
    max: f64,
    pub(crate) step: Option<f64>,
    sampling: &'a str,
}

impl Numerical<'_> {
    pub(crate) fn check(&self) -> Result<()> {
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
    pub(crate) fn n_values(&self) -> usize {
        let step = self.step.unwrap_or(1.0);
        if self.sampling == "linear" {
            py_floordiv(self.max - self.min, step) as usize + 1
        } else {
            ((self.max / self.min).ln() / step.ln() + 1e-8) as usize + 1
        }
    }
    pub(crate) fn value_by_index(&self, i: usize) -> f64 {
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
    use crate::tuner::HyperParameter;

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
}
