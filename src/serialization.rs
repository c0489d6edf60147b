//! Keras 3's JSON configs, read and written generically (Keras's `serialization_lib`): the
//! [`Cfg`] reader with typed getters whose errors name the class, the key and the received
//! value, and the `{module, class_name, config, registered_name}` object form. A leaf module:
//! it knows no layer, initializer or optimizer; each of those reads and writes its own config
//! with these pieces (and may add its own reader to [`Cfg`], as `initializers` adds
//! `Cfg::initializer`). [`registration`] is the registry of the classes configs name.
//!
//! ```
//! use keras::serialization::{json, config, Cfg};
//! let map = config(json!({"units": 4, "use_bias": false}));
//! let c = Cfg::new("Dense", &map);
//! assert_eq!(c.usize("units")?, 4);
//! assert!(!c.bool_or("use_bias", true)?);
//! assert!(c.usize("filters").unwrap_err().to_string().contains("Dense: config key 'filters'"));
//! # Ok::<(), keras::Error>(())
//! ```

use crate::{Error, Result};
pub use serde_json::{json, Map, Value};

pub mod registration;

/// A layer's `config` object.
pub type Config = Map<String, Value>;

/// A `config` being read for class `class`.
pub struct Cfg<'a> {
    /// The class being deserialized (for errors).
    pub class: &'a str,
    /// The config object.
    pub map: &'a Config,
}

impl<'a> Cfg<'a> {
    /// Wraps `map` for class `class`.
    pub fn new(class: &'a str, map: &'a Config) -> Self {
        Cfg { class, map }
    }

    /// The error for key `key` not holding `want`, quoting what it holds:
    /// `Dense: config key 'units' should be a non-negative integer; received "4"`.
    pub fn bad(&self, key: &str, want: &str) -> Error {
        Error::value(format!(
            "{}: config key '{key}' should be {want}; received {}",
            self.class,
            self.map
                .get(key)
                .map(|v| v.to_string())
                .unwrap_or_else(|| "nothing".into())
        ))
    }

    /// A present, non-null value.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// A required non-negative integer.
    pub fn usize(&self, key: &str) -> Result<usize> {
        self.get(key)
            .and_then(Value::as_u64)
            .map(|v| v as usize)
            .ok_or_else(|| self.bad(key, "a non-negative integer"))
    }

    /// An integer with a default.
    pub fn usize_or(&self, key: &str, default: usize) -> Result<usize> {
        match self.get(key) {
            None => Ok(default),
            Some(_) => self.usize(key),
        }
    }

    /// A signed integer with a default.
    pub fn isize_or(&self, key: &str, default: isize) -> Result<isize> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .as_i64()
                .map(|v| v as isize)
                .ok_or_else(|| self.bad(key, "an integer")),
        }
    }

    /// A number with a default.
    pub fn f64_or(&self, key: &str, default: f64) -> Result<f64> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v.as_f64().ok_or_else(|| self.bad(key, "a number")),
        }
    }

    /// A required number.
    pub fn f64(&self, key: &str) -> Result<f64> {
        self.get(key)
            .and_then(Value::as_f64)
            .ok_or_else(|| self.bad(key, "a number"))
    }

    /// An optional non-negative integer.
    pub fn opt_usize(&self, key: &str) -> Result<Option<usize>> {
        self.get(key).map(|_| self.usize(key)).transpose()
    }

    /// An optional string.
    pub fn opt_str(&self, key: &str) -> Result<Option<&'a str>> {
        self.get(key)
            .map(|v| v.as_str().ok_or_else(|| self.bad(key, "a string")))
            .transpose()
    }

    /// A list of numbers (a single number counts as a list of one), if present.
    pub fn opt_f64s(&self, key: &str) -> Result<Option<Vec<f64>>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64().map(|v| vec![v])),
            Some(Value::Array(a)) => a
                .iter()
                .map(Value::as_f64)
                .collect::<Option<Vec<_>>>()
                .map(Some)
                .ok_or_else(|| self.bad(key, "numbers")),
            Some(_) => Err(self.bad(key, "a number or a list of numbers")),
        }
    }

    /// An optional number.
    pub fn opt_f64(&self, key: &str) -> Result<Option<f64>> {
        self.get(key)
            .map(|v| v.as_f64().ok_or_else(|| self.bad(key, "a number")))
            .transpose()
    }

    /// A boolean with a default.
    pub fn bool_or(&self, key: &str, default: bool) -> Result<bool> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v.as_bool().ok_or_else(|| self.bad(key, "true or false")),
        }
    }

    /// A string with a default.
    pub fn str_or(&self, key: &str, default: &'a str) -> Result<&'a str> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v.as_str().ok_or_else(|| self.bad(key, "a string")),
        }
    }

    /// A list of integers (a single integer counts as a list of one).
    pub fn usizes(&self, key: &str) -> Result<Vec<usize>> {
        match self.get(key) {
            Some(Value::Number(n)) => n
                .as_u64()
                .map(|v| vec![v as usize])
                .ok_or_else(|| self.bad(key, "integers")),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| v.as_u64().map(|v| v as usize))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| self.bad(key, "integers")),
            _ => Err(self.bad(key, "an integer or a list of integers")),
        }
    }

    /// A list of signed integers (a single integer counts as a list of one), e.g. axes.
    pub fn isizes(&self, key: &str) -> Result<Vec<isize>> {
        let one = |v: &Value| v.as_i64().map(|v| v as isize);
        match self.get(key) {
            Some(Value::Array(a)) => a
                .iter()
                .map(one)
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| self.bad(key, "integers")),
            Some(v) => one(v)
                .map(|v| vec![v])
                .ok_or_else(|| self.bad(key, "an integer or a list of integers")),
            None => Err(self.bad(key, "an integer or a list of integers")),
        }
    }

    /// Two integers (one integer is used for both).
    pub fn pair(&self, key: &str, default: (usize, usize)) -> Result<(usize, usize)> {
        if self.get(key).is_none() {
            return Ok(default);
        }
        let v = self.usizes(key)?;
        match v.as_slice() {
            [a] => Ok((*a, *a)),
            [a, b] => Ok((*a, *b)),
            _ => Err(self.bad(key, "one or two integers")),
        }
    }

    /// One integer (a one-element list counts).
    pub fn one(&self, key: &str, default: usize) -> Result<usize> {
        if self.get(key).is_none() {
            return Ok(default);
        }
        match self.usizes(key)?.as_slice() {
            [a] => Ok(*a),
            _ => Err(self.bad(key, "one integer")),
        }
    }

    /// A shape with unknown (`null`) dimensions.
    pub fn shape(&self, key: &str) -> Result<Vec<Option<usize>>> {
        match self.get(key) {
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| match v {
                    Value::Null => Ok(None),
                    v => v
                        .as_u64()
                        .map(|d| Some(d as usize))
                        .ok_or_else(|| self.bad(key, "a shape")),
                })
                .collect(),
            _ => Err(self.bad(key, "a shape (a list of integers or nulls)")),
        }
    }
}

/// A `json!({...})` object as a config map.
pub fn config(v: Value) -> Config {
    match v {
        Value::Object(m) => m,
        _ => Config::new(),
    }
}

/// A serialized Keras object: `{module, class_name, config, registered_name}`.
pub fn object(module: &str, class_name: &str, config: Value) -> Value {
    json!({
        "module": module,
        "class_name": class_name,
        "config": config,
        "registered_name": null,
    })
}

/// The default node arguments: one tensor, or one list of tensors, and no keyword arguments.
pub fn single_argument_call(mut inputs: Vec<Value>) -> (Value, Value) {
    let args = if inputs.len() == 1 {
        Value::Array(vec![inputs.remove(0)])
    } else {
        json!([inputs])
    };
    (args, json!({}))
}

/// A shape as JSON, `null` for unknown dimensions.
pub fn shape_value(s: &[Option<usize>]) -> Value {
    Value::Array(
        s.iter()
            .map(|d| d.map(|d| json!(d)).unwrap_or(Value::Null))
            .collect(),
    )
}
