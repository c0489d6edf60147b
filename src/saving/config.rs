//! The domain half of Keras configs: activations, initializers, regularizers, dtypes and
//! shapes as layers write them. The generic reader lives in [`crate::serialization`] (a leaf
//! module) and is re-exported here.

use crate::activations::{self, ActivationArg};
use crate::ops::DType;
pub use crate::serialization::*;
use crate::{Error, Result};

impl Cfg<'_> {
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
