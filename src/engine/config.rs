//! A layer's Keras config, the engine's half (the base of Keras's `Layer.get_config` /
//! `from_config` and `serialize_keras_object` for layers): the base keys every layer writes
//! (`name`, `trainable`, `dtype` as a `DTypePolicy`) and reads back ([`apply_base_config`]),
//! the default `build_config`, and a layer as the `{module, class_name, config, build_config}`
//! object a model config lists ([`serialize_layer`]). Each layer reads and writes its own
//! keys beside its code (`Dense::get_config` in `dense.rs`).
//!
//! ```
//! use keras::prelude::*;
//! let v = Dense::new(3).name("head").into_layer().serialize()?;
//! assert_eq!(v["class_name"], "Dense");
//! assert_eq!(v["config"]["name"], "head");
//! assert_eq!(v["config"]["dtype"]["config"]["name"], "float32");
//! # Ok::<(), keras::Error>(())
//! ```

use super::layer::{Layer, LayerExt, LayerRef};
use super::shape::Shape;
use crate::ops::{dtype_from_name, dtype_name, DType};
use crate::serialization::{json, object, shape_value, Cfg, Config, Value};
use crate::{Error, Result};

/// The `DTypePolicy` Keras writes in every layer config.
///
/// ```
/// let p = keras::engine::config::dtype_policy(keras::DType::F64);
/// assert_eq!(p["class_name"], "DTypePolicy");
/// assert_eq!(p["config"]["name"], "float64");
/// ```
pub fn dtype_policy(d: DType) -> Value {
    object("keras", "DTypePolicy", json!({ "name": dtype_name(d) }))
}

/// The dtype a config's `dtype` holds: a name ([`crate::ops::dtype_from_name`]) or a
/// `DTypePolicy` object; a mixed policy (`mixed_float16`) keeps float32 variables, so float32.
///
/// ```
/// use keras::engine::config::{dtype_policy, parse_dtype_policy};
/// use keras::DType;
/// assert_eq!(parse_dtype_policy(Some(&dtype_policy(DType::BF16)))?, Some(DType::BF16));
/// assert_eq!(parse_dtype_policy(None)?, None);
/// assert!(parse_dtype_policy(Some(&"int8".into())).is_err());
/// # Ok::<(), keras::Error>(())
/// ```
pub fn parse_dtype_policy(v: Option<&Value>) -> Result<Option<DType>> {
    let name = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.as_str(),
        Some(Value::Object(o)) => o
            .get("config")
            .and_then(|c| c.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("float32"),
        Some(other) => return Err(Error::value(format!("Invalid dtype: {other}"))),
    };
    match name {
        "mixed_float16" | "mixed_bfloat16" => Ok(Some(DType::F32)),
        n => dtype_from_name(n).map(Some),
    }
}

/// The base keys of a layer's (or model's) config: `name`, `trainable` and the `dtype`
/// policy.
///
/// ```
/// let c = keras::engine::config::base_config("dense", true, keras::DType::F32);
/// assert_eq!(c["name"], "dense");
/// assert_eq!(c["trainable"], true);
/// ```
pub fn base_config(name: &str, trainable: bool, dtype: DType) -> Config {
    let mut c = Config::new();
    c.insert("name".into(), json!(name));
    c.insert("trainable".into(), json!(trainable));
    c.insert("dtype".into(), dtype_policy(dtype));
    c
}

/// The default `build_config`: the one input shape, or the list of them.
///
/// ```
/// use keras::engine::{config::input_shape_build_config, Shape};
/// let v = input_shape_build_config(&[Shape(vec![None, Some(4)])]);
/// assert_eq!(v.to_string(), r#"{"input_shape":[null,4]}"#);
/// ```
pub fn input_shape_build_config(shapes: &[Shape]) -> Value {
    match shapes {
        [s] => json!({ "input_shape": shape_value(&s.0) }),
        s => json!({ "input_shape": s.iter().map(|s| shape_value(&s.0)).collect::<Vec<_>>() }),
    }
}

/// `layer` (behind `handle`) as Keras serializes it, without its build config:
/// `{module: "keras.layers", class_name, config: base keys + get_config, registered_name}`.
///
/// ```
/// use keras::prelude::*;
/// let layer = Dropout::new(0.5).into_layer();
/// let v = layer.with_dyn(|l| keras::engine::config::layer_object(l, &layer))?;
/// assert_eq!(v["config"]["rate"], 0.5);
/// assert!(v.get("build_config").is_none());
/// # Ok::<(), keras::Error>(())
/// ```
pub fn layer_object<L: Layer + ?Sized>(layer: &L, handle: &LayerRef) -> Result<Value> {
    let base = base_config(
        &handle.name(),
        handle.trainable(),
        layer.args().dtype.unwrap_or(DType::F32),
    );
    let mut config = layer.base_config(base);
    config.extend(layer.get_config()?);
    Ok(object(
        "keras.layers",
        layer.class_name(),
        Value::Object(config),
    ))
}

/// [`layer_object`] with the `build_config` Keras writes for a built layer (the default
/// [`Layer::serialize`]).
///
/// ```
/// use keras::prelude::*;
/// let x = Dense::new(2).call(&Input::new(&[3]))?;
/// let v = x.layer().serialize()?;
/// assert_eq!(v["build_config"]["input_shape"].to_string(), "[null,3]");
/// # Ok::<(), keras::Error>(())
/// ```
pub fn serialize_layer<L: Layer + ?Sized>(layer: &L, handle: &LayerRef) -> Result<Value> {
    let mut v = layer_object(layer, handle)?;
    // A layer made under a mixed policy writes that policy, as Keras's does.
    if let Some(p) = handle.dtype_policy().filter(|p| p.is_mixed()) {
        if v["config"].get("dtype").is_some() {
            v["config"]["dtype"] = object("keras", "DTypePolicy", json!({ "name": p.name() }));
        }
    }
    if handle.built() {
        v["build_config"] = built_config(layer, handle);
    }
    Ok(v)
}

/// The `build_config` of `layer` for the shapes it was built with (`{"input_shape": null}`
/// when it was not built from shapes).
pub(crate) fn built_config<L: Layer + ?Sized>(layer: &L, handle: &LayerRef) -> Value {
    match handle.build_shapes() {
        Some(s) => layer.build_config(&s),
        None => json!({ "input_shape": null }),
    }
}

/// Applies a config's base keys (`name`, `dtype`, `trainable`) to `layer`, made from the same
/// config by its class's `from_config`, and wraps it. A regularizer or constraint the config
/// sets but the layer does not keep (its own `get_config` writes none) would be silently
/// dropped and change training: refused.
///
/// ```
/// use keras::prelude::*;
/// use keras::engine::config::apply_base_config;
/// use keras::serialization::{config, json, Cfg};
/// let map = config(json!({"units": 3, "name": "head", "trainable": false}));
/// let c = Cfg::new("Dense", &map);
/// let layer = apply_base_config(Dense::new(c.usize("units")?), &c)?;
/// assert_eq!((layer.name().as_str(), layer.trainable()), ("head", false));
/// let map = config(json!({"units": 3, "kernel_constraint": {"class_name": "NonNeg"}}));
/// let e = apply_base_config(Dense::new(3), &Cfg::new("Dense", &map)).unwrap_err();
/// assert!(e.to_string().contains("kernel_constraint"), "{e}");
/// # Ok::<(), keras::Error>(())
/// ```
pub fn apply_base_config<L: LayerExt>(mut layer: L, c: &Cfg) -> Result<LayerRef> {
    if let Some(name) = c.opt_str("name")? {
        layer = layer.name(name);
    }
    let mixed = mixed_policy(c.get("dtype"))?;
    if let Some(d) = parse_dtype_policy(c.get("dtype"))?.filter(|_| mixed.is_none()) {
        layer = layer.dtype(d);
    }
    let trainable = c.bool_or("trainable", true)?;
    let ours = layer.get_config()?;
    for (key, v) in c.map {
        let dropped = (key.ends_with("_regularizer") || key.ends_with("_constraint"))
            && !v.is_null()
            && ours.get(key).is_none_or(Value::is_null);
        if dropped {
            return Err(Error::value(format!(
                "{}: {key}={v} is not supported by keras-rs for this layer",
                c.class
            )));
        }
    }
    let r = layer.into_layer();
    r.set_dtype_policy(mixed);
    if !trainable {
        r.set_trainable(false);
    }
    Ok(r)
}

/// The mixed policy (`mixed_float16` / `mixed_bfloat16`) a config's `dtype` names, if any.
fn mixed_policy(v: Option<&Value>) -> Result<Option<crate::mixed_precision::DTypePolicy>> {
    let name = match v {
        Some(Value::String(s)) => Some(s.as_str()),
        Some(Value::Object(o)) => o
            .get("config")
            .and_then(|c| c.get("name"))
            .and_then(Value::as_str),
        _ => None,
    };
    match name {
        Some(n @ ("mixed_float16" | "mixed_bfloat16")) => {
            Ok(Some(crate::mixed_precision::DTypePolicy::new(n)?))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_and_names_read_back() {
        for d in [DType::F32, DType::F64, DType::I16, DType::U8, DType::BF16] {
            assert_eq!(parse_dtype_policy(Some(&dtype_policy(d))).unwrap(), Some(d));
            assert_eq!(
                parse_dtype_policy(Some(&json!(dtype_name(d)))).unwrap(),
                Some(d)
            );
        }
        let mixed = object("keras", "DTypePolicy", json!({"name": "mixed_float16"}));
        assert_eq!(parse_dtype_policy(Some(&mixed)).unwrap(), Some(DType::F32));
        let e = parse_dtype_policy(Some(&json!(3))).unwrap_err().to_string();
        assert!(e.contains("Invalid dtype: 3"), "{e}");
    }
}
