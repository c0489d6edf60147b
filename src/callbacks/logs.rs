//! `Logs`: metric values by name, in Keras's order.

use std::collections::BTreeMap;

/// Named metric values (`loss`, `accuracy`, `val_loss`, ...), kept in insertion order.
///
/// `evaluate` returns one: read it as a list (`values()`, Keras's default) or as a map (`get`,
/// `to_map()`, Keras's `return_dict=True`).
///
/// ```
/// use keras::callbacks::Logs;
/// let mut logs = Logs::default();
/// logs.insert("loss", 0.5);
/// logs.insert("accuracy", 0.9);
/// assert_eq!(logs.values(), vec![0.5, 0.9]);
/// assert_eq!(logs.get("accuracy"), Some(0.9));
/// assert_eq!(logs.to_string(), "loss: 0.5000 - accuracy: 0.9000");
/// logs.sort();
/// assert_eq!(logs.to_string(), "accuracy: 0.9000 - loss: 0.5000");
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Logs(Vec<(String, f64)>);

impl Logs {
    /// Sets `name` (replacing an earlier value).
    pub fn insert(&mut self, name: &str, value: f64) {
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some(e) => e.1 = value,
            None => self.0.push((name.to_string(), value)),
        }
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }

    /// The values in order (Keras's list form: loss first, then metrics).
    pub fn values(&self) -> Vec<f64> {
        self.0.iter().map(|(_, v)| *v).collect()
    }

    /// The names in order.
    pub fn names(&self) -> Vec<String> {
        self.0.iter().map(|(n, _)| n.clone()).collect()
    }

    /// The entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, f64)> {
        self.0.iter().map(|(n, v)| (n.as_str(), *v))
    }

    /// As a map (Keras's `return_dict=True`).
    pub fn to_map(&self) -> BTreeMap<String, f64> {
        self.0.iter().cloned().collect()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Sorts the entries by name in place, as Keras's `CallbackList` does before every hook
    /// (so `val_` values follow the training ones, and what callbacks add comes last).
    pub fn sort(&mut self) {
        self.0.sort_by(|a, b| a.0.cmp(&b.0));
    }

    /// The entries sorted by name.
    pub fn sorted(&self) -> Vec<(String, f64)> {
        let mut v = self.0.clone();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }
}

/// Keras's progress-bar number format: 4 decimals, or scientific below 1e-3.
pub fn fmt_value(v: f64) -> String {
    if v.abs() > 1e-3 {
        format!("{v:.4}")
    } else {
        python_exponent(&format!("{v:.4e}"))
    }
}

/// Rust's scientific form as Python writes it: `1.2340e-5` -> `1.2340e-05`, `1e16` -> `1e+16`.
pub(crate) fn python_exponent(s: &str) -> String {
    match s.split_once('e') {
        Some((m, e)) => {
            let (sign, digits) = match e.strip_prefix('-') {
                Some(d) => ("-", d),
                None => ("+", e),
            };
            format!("{m}e{sign}{digits:0>2}")
        }
        None => s.to_string(),
    }
}

/// Python's `repr` of a float: the shortest round-trip form, with `.0` on whole numbers.
pub(crate) fn py_float(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let s = format!("{x:?}");
    if s.contains('e') {
        // Rust writes `1.0e16` where Python writes `1e+16`.
        return python_exponent(&s.replacen(".0e", "e", 1));
    }
    s
}

impl std::fmt::Display for Logs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .iter()
            .map(|(n, v)| format!("{n}: {}", fmt_value(v)))
            .collect();
        write!(f, "{}", parts.join(" - "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_number_format() {
        assert_eq!(fmt_value(0.12345678), "0.1235");
        assert_eq!(fmt_value(0.0), "0.0000e+00");
        assert_eq!(fmt_value(0.00012345), "1.2345e-04");
        assert_eq!(py_float(0.5), "0.5");
        assert_eq!(py_float(3.0), "3.0");
        assert_eq!(py_float(0.3f32 as f64), "0.30000001192092896");
        assert_eq!(py_float(1e-5), "1e-05");
        assert_eq!(py_float(1.5e-7), "1.5e-07");
        assert_eq!(py_float(1e16), "1e+16");
    }
}
