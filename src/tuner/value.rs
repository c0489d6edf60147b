//! A hyperparameter's value (an int, a float, a string or a boolean), printed as Python
//! prints it, since KerasTuner's summaries are Python's `print`s.

use crate::serialization::Value;
use crate::{Error, Result};

/// The value of one hyperparameter.
///
/// ```
/// use keras::tuner::HpValue;
/// assert_eq!(HpValue::from(64).to_string(), "64");
/// assert_eq!(HpValue::from(1e-5).to_string(), "1e-05");
/// assert_eq!(HpValue::from(true).to_string(), "True");
/// assert_eq!(HpValue::from("relu").to_string(), "relu");
/// ```
#[derive(Clone, Debug)]
pub enum HpValue {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// A boolean.
    Bool(bool),
}

impl PartialEq for HpValue {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (HpValue::Str(a), HpValue::Str(b)) => a == b,
            (HpValue::Bool(a), HpValue::Bool(b)) => a == b,
            (a, b) if a.is_number() && b.is_number() => a.as_f64() == b.as_f64(),
            _ => false,
        }
    }
}

impl HpValue {
    /// Whether an int or a float.
    pub fn is_number(&self) -> bool {
        matches!(self, HpValue::Int(_) | HpValue::Float(_))
    }
    /// The number, if one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            HpValue::Int(i) => Some(*i as f64),
            HpValue::Float(f) => Some(*f),
            _ => None,
        }
    }
    /// The integer, if an int (or a float with no fraction).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            HpValue::Int(i) => Some(*i),
            HpValue::Float(f) if f.fract() == 0.0 => Some(*f as i64),
            _ => None,
        }
    }
    /// The string, if one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            HpValue::Str(s) => Some(s),
            _ => None,
        }
    }
    /// The boolean, if one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            HpValue::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            HpValue::Int(_) => "int",
            HpValue::Float(_) => "float",
            HpValue::Str(_) => "str",
            HpValue::Bool(_) => "bool",
        }
    }
    /// The JSON form (`trial.json`).
    pub fn to_json(&self) -> Value {
        match self {
            HpValue::Int(i) => Value::from(*i),
            HpValue::Float(f) => Value::from(*f),
            HpValue::Str(s) => Value::from(s.as_str()),
            HpValue::Bool(b) => Value::from(*b),
        }
    }
    /// Reads [`HpValue::to_json`]'s form.
    pub fn from_json(v: &Value) -> Result<HpValue> {
        match v {
            Value::Bool(b) => Ok(HpValue::Bool(*b)),
            Value::String(s) => Ok(HpValue::Str(s.clone())),
            Value::Number(n) if n.is_i64() => Ok(HpValue::Int(n.as_i64().unwrap_or(0))),
            Value::Number(n) => Ok(HpValue::Float(n.as_f64().unwrap_or(f64::NAN))),
            other => Err(Error::format(format!(
                "a hyperparameter value must be a number, a string or a boolean; received {other}"
            ))),
        }
    }
    /// Python's `repr` (strings quoted).
    pub fn py_repr(&self) -> String {
        match self {
            HpValue::Str(s) => format!("'{s}'"),
            other => other.to_string(),
        }
    }
    /// KerasTuner's `Display.format_value`: numbers as `{:.5g}`, long strings cut to 18.
    pub(crate) fn display_cell(&self) -> String {
        match self {
            HpValue::Int(i) => format_g5(*i as f64),
            HpValue::Float(f) => format_g5(*f),
            other => {
                let s = other.to_string();
                if s.chars().count() > 18 {
                    format!("{}...", s.chars().take(15).collect::<String>())
                } else {
                    s
                }
            }
        }
    }
}

impl std::fmt::Display for HpValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HpValue::Int(i) => write!(f, "{i}"),
            HpValue::Float(x) => write!(f, "{}", py_float(*x)),
            HpValue::Str(s) => write!(f, "{s}"),
            HpValue::Bool(b) => write!(f, "{}", if *b { "True" } else { "False" }),
        }
    }
}

macro_rules! from_num {
    ($variant:ident, $cast:ty, $($t:ty),*) => {$(
        impl From<$t> for HpValue {
            fn from(v: $t) -> Self {
                HpValue::$variant(v as $cast)
            }
        }
    )*};
}
from_num!(Int, i64, i64, i32, u32, usize, u64);
from_num!(Float, f64, f64, f32);

impl From<bool> for HpValue {
    fn from(v: bool) -> Self {
        HpValue::Bool(v)
    }
}
impl From<&str> for HpValue {
    fn from(v: &str) -> Self {
        HpValue::Str(v.to_string())
    }
}
impl From<String> for HpValue {
    fn from(v: String) -> Self {
        HpValue::Str(v)
    }
}
impl From<&String> for HpValue {
    fn from(v: &String) -> Self {
        HpValue::Str(v.clone())
    }
}

/// Python's `repr(float)`: the shortest round-trip digits, `1.0` for whole numbers,
/// scientific notation below 1e-4 and from 1e16 (`1e-05`, `1e+16`).
pub fn py_float(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let a = x.abs();
    if a != 0.0 && !(1e-4..1e16).contains(&a) {
        let s = format!("{x:e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.abs());
    }
    let s = format!("{x}");
    if s.contains('.') {
        s
    } else {
        format!("{s}.0")
    }
}

/// Python's `f"{x:.5g}"`.
pub(crate) fn format_g5(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    if !x.is_finite() {
        return py_float(x);
    }
    let exp = x.abs().log10().floor() as i32;
    let exp = {
        // Rounding to 5 significant digits can carry into the next power of ten.
        let r: f64 = format!("{:.4e}", x)
            .split('e')
            .nth(1)
            .and_then(|e| e.parse().ok())
            .unwrap_or(exp as f64);
        r as i32
    };
    if !(-4..5).contains(&exp) {
        let s = format!("{:.4e}", x);
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let m = trim_zeros(m);
        let e: i32 = e.parse().unwrap_or(0);
        let sign = if e < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", e.abs())
    } else {
        let decimals = (4 - exp).max(0) as usize;
        trim_zeros(&format!("{:.*}", decimals, x))
    }
}

fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

/// Python's `repr` of a JSON value read as a Python object (`{'k': v}`, `None`, `True`).
pub(crate) fn py_repr_json(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        Value::Number(n) if n.is_f64() => py_float(n.as_f64().unwrap_or(f64::NAN)),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("'{s}'"),
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(py_repr_json).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(m) => py_dict(m.iter().map(|(k, v)| (k.as_str(), v))),
    }
}

/// Python's `repr` of a dict given its items in order.
pub(crate) fn py_dict<'a>(items: impl Iterator<Item = (&'a str, &'a Value)>) -> String {
    let parts: Vec<String> = items
        .map(|(k, v)| format!("'{k}': {}", py_repr_json(v)))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_float_repr() {
        assert_eq!(py_float(0.001), "0.001");
        assert_eq!(py_float(1e-5), "1e-05");
        assert_eq!(py_float(2.5e-7), "2.5e-07");
        assert_eq!(py_float(3.0), "3.0");
        assert_eq!(py_float(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(py_float(1e16), "1e+16");
    }

    #[test]
    fn g5_format() {
        assert_eq!(format_g5(64.0), "64");
        assert_eq!(format_g5(0.0012345678), "0.0012346");
        assert_eq!(format_g5(1e-5), "1e-05");
        assert_eq!(format_g5(123456.0), "1.2346e+05");
        assert_eq!(format_g5(0.5), "0.5");
        assert_eq!(format_g5(99999.9), "1e+05");
    }
}
