//! Keras 3's JSON configs: typed reads of a layer's `config` with errors that name the class
//! and key, and the small shared pieces (activations, dtypes, shapes, serialized objects).

use crate::activations::{self, ActivationArg};
use crate::ops::DType;
use crate::{Error, Result};
pub use serde_json::{json, Map, Value};

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

    fn bad(&self, key: &str, want: &str) -> Error {
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

    /// An activation (a name, or a serialized activation object); `default` (the layer's own
    /// default, e.g. `tanh` for recurrent layers) when absent.
    pub fn activation(&self, key: &str, default: &str) -> Result<ActivationArg> {
        match self.get(key) {
            None => Ok(default.into()),
            Some(Value::String(s)) => Ok(s.as_str().into()),
            Some(Value::Object(o)) => {
                let name = o
                    .get("config")
                    .and_then(|c| c.as_str())
                    .or_else(|| o.get("class_name").and_then(Value::as_str))
                    .ok_or_else(|| self.bad(key, "an activation name"))?;
                Ok(name.into())
            }
            _ => Err(self.bad(key, "an activation name")),
        }
    }

    /// An initializer (a name or a serialized object), or `default` when absent.
    pub fn initializer(
        &self,
        key: &str,
        default: &str,
    ) -> Result<crate::initializers::InitializerArg> {
        let init = match self.get(key) {
            None => crate::initializers::get(default),
            Some(v) => crate::initializers::from_config(v),
        }
        .map_err(|e| Error::value(format!("{}: config key '{key}': {e}", self.class)))?;
        Ok(crate::initializers::InitializerArg(Ok(init)))
    }

    /// A regularizer (a name or a serialized object), if present.
    pub fn regularizer(&self, key: &str) -> Result<Option<crate::regularizers::RegularizerArg>> {
        self.get(key)
            .map(|v| {
                crate::regularizers::from_config(v)
                    .map(|r| crate::regularizers::RegularizerArg(Ok(r)))
                    .map_err(|e| Error::value(format!("{}: config key '{key}': {e}", self.class)))
            })
            .transpose()
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

/// Keras's serialized `Zeros` initializer (for layers whose initializer is fixed here).
pub fn zeros_initializer() -> Value {
    object("keras.initializers", "Zeros", json!({}))
}

/// Keras's serialized `Ones` initializer.
pub fn ones_initializer() -> Value {
    object("keras.initializers", "Ones", json!({}))
}

/// Keras's serialized `GlorotUniform` initializer.
pub fn glorot_uniform_initializer() -> Value {
    object(
        "keras.initializers",
        "GlorotUniform",
        json!({ "seed": null }),
    )
}

/// A 2D size as a JSON pair.
pub fn pair(s: crate::layers::convolutional::Size2) -> Value {
    json!([s.0, s.1])
}

/// An initializer as Keras serializes it.
pub fn initializer_value(i: &crate::initializers::InitializerArg) -> Result<Value> {
    Ok(crate::initializers::serialize(i.resolve()?.as_ref()))
}

/// A regularizer as Keras serializes it (`null` when there is none).
pub fn regularizer_value(r: &Option<crate::regularizers::RegularizerArg>) -> Result<Value> {
    match r {
        None => Ok(Value::Null),
        Some(r) => r.resolve()?.get_config().ok_or_else(|| {
            Error::value("this regularizer has no Keras config; only L1, L2 and L1L2 can be saved")
        }),
    }
}

/// An activation as Keras serializes it: its name.
pub fn activation_value(a: &ActivationArg) -> Value {
    match &a.0 {
        Ok(act) => Value::String(activations::name(*act).into()),
        Err(name) => Value::String(name.clone()),
    }
}

/// Keras's name of a dtype (`float32`, `int64`, ...).
pub fn dtype_name(d: DType) -> &'static str {
    match d {
        DType::F32 => "float32",
        DType::F64 => "float64",
        DType::F16 => "float16",
        DType::BF16 => "bfloat16",
        DType::I64 => "int64",
        DType::I32 => "int32",
        DType::U32 => "uint32",
        DType::U8 => "uint8",
        _ => "float32",
    }
}

/// The dtype Keras names `name` (a string, or a `DTypePolicy` object).
pub fn parse_dtype(v: Option<&Value>) -> Result<Option<DType>> {
    let name = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.as_str(),
        Some(Value::Object(o)) => o
            .get("config")
            .and_then(|c| c.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("float32"),
        Some(other) => return Err(Error::value(format!("unknown dtype {other}"))),
    };
    Ok(Some(match name {
        "float32" | "mixed_float16" | "mixed_bfloat16" => DType::F32,
        "float64" => DType::F64,
        "float16" => DType::F16,
        "bfloat16" => DType::BF16,
        "int64" => DType::I64,
        "int32" => DType::I32,
        "int16" | "int8" => DType::I64,
        "uint32" => DType::U32,
        "uint8" | "bool" => DType::U8,
        other => return Err(Error::value(format!("unknown dtype '{other}'"))),
    }))
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

/// The `DTypePolicy` Keras writes in every layer config.
pub fn dtype_policy(d: DType) -> Value {
    object("keras", "DTypePolicy", json!({ "name": dtype_name(d) }))
}

/// The default `build_config`: the one input shape, or the list of them.
pub fn input_shape_build_config(shapes: &[crate::engine::Shape]) -> Value {
    match shapes {
        [s] => json!({ "input_shape": shape_value(&s.0) }),
        s => json!({ "input_shape": s.iter().map(|s| shape_value(&s.0)).collect::<Vec<_>>() }),
    }
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
