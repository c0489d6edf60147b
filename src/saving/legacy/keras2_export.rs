//! A Keras 3 model config (ours) in the tf.keras 2 form of a `model.save("m.h5")` file's
//! `model_config`: dtype names instead of `DTypePolicy` objects, `batch_input_shape`,
//! inbound nodes as lists of `[layer, node, tensor, kwargs]`, input and output lists of
//! lists, no Keras 3-only layer arguments at their defaults, no `module` / `build_config`.
//! [`super::keras2_config`] reads it back.

use super::keras2_config::{class_of, entry_name, is_model_class, NESTED_LAYER_KEYS, RENAMED_ARGS};
use crate::serialization::Config;
use crate::{Error, Result};
use serde_json::{json, Map, Value};

/// Keras 3 layer arguments that tf.keras 2's layers refuse ("Unrecognized keyword arguments")
/// when they hold their defaults; written files leave them out.
const KERAS3_ONLY: &[(&str, Value)] = &[
    ("quantization_config", Value::Null),
    ("lora_rank", Value::Null),
    ("lora_alpha", Value::Null),
    ("synchronized", Value::Bool(false)),
];

/// A Keras 3 model config (ours, [`crate::saving::to_json`]) in the tf.keras 2 form that
/// `model.save("m.h5")` files hold: tf_keras and Keras 3's legacy loader both read it.
///
/// ```
/// use keras::prelude::*;
/// let model = Sequential::from_layers([Input::new(&[3]).into(), Dense::new(2).into()])?.into_model();
/// let v: serde_json::Value = serde_json::from_str(&keras::saving::to_json(&model)?).unwrap();
/// let k2 = keras::saving::legacy::keras2_config::to_keras2(&v)?;
/// assert_eq!(k2["config"]["layers"][0]["config"]["batch_input_shape"], serde_json::json!([null, 3]));
/// # Ok::<(), keras::Error>(())
/// ```
pub fn to_keras2(v: &Value) -> Result<Value> {
    let class = class_of(v)?;
    let config = v
        .get("config")
        .and_then(Value::as_object)
        .ok_or_else(|| Error::value(format!("model config: {class} has no config object")))?;
    match class {
        "Sequential" => {
            let mut out = Map::new();
            for key in ["name", "trainable"] {
                if let Some(x) = config.get(key) {
                    out.insert(key.into(), x.clone());
                }
            }
            let layers = config
                .get("layers")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let layers = layers
                .iter()
                .map(layer_to_keras2)
                .collect::<Result<Vec<_>>>()?;
            out.insert("layers".into(), Value::Array(layers));
            if let Some(s) = config.get("build_input_shape").filter(|s| !s.is_null()) {
                out.insert("build_input_shape".into(), s.clone());
            }
            Ok(json!({"class_name": "Sequential", "config": out}))
        }
        "Functional" | "Model" => functional_to_keras2(config),
        // A subclassed model keeps its own config (Keras 3 reads it with the class registered).
        _ => Ok(v.clone()),
    }
}

fn functional_to_keras2(config: &Config) -> Result<Value> {
    let entries = config
        .get("layers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut layers = vec![];
    for e in &entries {
        let mut layer = layer_to_keras2(e)?;
        let name = entry_name(e).unwrap_or_default();
        layer["name"] = json!(name);
        let nodes = e
            .get("inbound_nodes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut out_nodes = vec![];
        for n in &nodes {
            let args = n.get("args").cloned().unwrap_or_else(|| json!([]));
            let kwargs = n.get("kwargs").cloned().unwrap_or_else(|| json!({}));
            // Keras 2's form holds one input (a tensor or a list of them) and plain keyword
            // arguments; a call with more (attention's query and value) keeps Keras 3's form,
            // which Keras 3's legacy loader reads node by node (tf_keras does not).
            let single = args.as_array().is_some_and(|a| a.len() == 1);
            if !single || contains_tensor(&kwargs) {
                out_nodes.push(n.clone());
                continue;
            }
            let mut hist = vec![];
            collect_history(&args, &mut hist);
            // A nested model's node index as Keras 3's legacy loader reads it (from 0).
            let inputs: Vec<Value> = hist
                .into_iter()
                .map(|(l, i, t)| json!([l, i, t, kwargs]))
                .collect();
            out_nodes.push(Value::Array(inputs));
        }
        layer["inbound_nodes"] = Value::Array(out_nodes);
        layers.push(layer);
    }
    let refs = |key: &str| -> Value {
        let mut v = config.get(key).cloned().unwrap_or_else(|| json!([]));
        // A single tensor ([name, node, index]) as Keras 2's list of them.
        if v.as_array()
            .is_some_and(|a| a.first().is_some_and(Value::is_string))
        {
            v = json!([v]);
        }
        v
    };
    let mut out = Map::new();
    for key in ["name", "trainable"] {
        if let Some(x) = config.get(key) {
            out.insert(key.into(), x.clone());
        }
    }
    out.insert("layers".into(), Value::Array(layers));
    out.insert("input_layers".into(), refs("input_layers"));
    out.insert("output_layers".into(), refs("output_layers"));
    Ok(json!({"class_name": "Functional", "config": out}))
}

fn collect_history(v: &Value, out: &mut Vec<(String, u64, u64)>) {
    match v {
        Value::Array(a) => a.iter().for_each(|x| collect_history(x, out)),
        Value::Object(o)
            if o.get("class_name").and_then(Value::as_str) == Some("__keras_tensor__") =>
        {
            let h = &o["config"]["keras_history"];
            out.push((
                h[0].as_str().unwrap_or_default().to_string(),
                h[1].as_u64().unwrap_or(0),
                h[2].as_u64().unwrap_or(0),
            ));
        }
        _ => {}
    }
}

fn contains_tensor(v: &Value) -> bool {
    let mut h = vec![];
    collect_history(v, &mut h);
    match v {
        Value::Object(o) => !h.is_empty() || o.values().any(contains_tensor),
        _ => !h.is_empty(),
    }
}

fn layer_to_keras2(e: &Value) -> Result<Value> {
    let class = class_of(e)?;
    if is_model_class(class) {
        return to_keras2(e);
    }
    let mut config = e
        .get("config")
        .and_then(Value::as_object)
        .cloned()
        .ok_or_else(|| {
            Error::value(format!(
                "model config: layer {} ({class}) has no config object",
                entry_name(e).unwrap_or_default()
            ))
        })?;
    if let Some(d) = config.get("dtype").and_then(dtype_to_keras2) {
        config.insert("dtype".into(), d);
    }
    if class == "InputLayer" {
        if let Some(s) = config.remove("batch_shape") {
            config.insert("batch_input_shape".into(), s);
        }
    }
    for (c, keras2, keras3) in RENAMED_ARGS {
        if *c == class {
            if let Some(v) = config.remove(*keras3) {
                config.insert(keras2.to_string(), v);
            }
        }
    }
    for (key, default) in KERAS3_ONLY {
        if config.get(*key).is_some_and(|v| v == default) {
            config.remove(*key);
        }
    }
    for key in NESTED_LAYER_KEYS {
        if let Some(inner) = config.get(*key).filter(|v| v.get("class_name").is_some()) {
            let inner = nested_layer_to_keras2(inner)?;
            config.insert(key.to_string(), inner);
        }
    }
    if let Some(Value::Array(cells)) = config.get("cells") {
        let cells = cells
            .iter()
            .map(nested_layer_to_keras2)
            .collect::<Result<Vec<_>>>()?;
        config.insert("cells".into(), Value::Array(cells));
    }
    Ok(json!({"class_name": class, "config": config}))
}

/// A layer inside a layer's config (a wrapper's `layer`, an RNN's `cell`): Keras 3 reads it
/// with its own deserializer, which needs its `module` (tf.keras 2.13+ writes it too).
fn nested_layer_to_keras2(e: &Value) -> Result<Value> {
    let mut out = layer_to_keras2(e)?;
    for key in ["module", "registered_name"] {
        if let Some(v) = e.get(key) {
            out[key] = v.clone();
        }
    }
    Ok(out)
}

/// A `DTypePolicy` object as tf.keras 2 writes dtypes: the name, or a mixed `Policy`.
fn dtype_to_keras2(d: &Value) -> Option<Value> {
    let name = d.get("config")?.get("name")?.as_str()?;
    Some(if name.starts_with("mixed_") {
        json!({"class_name": "Policy", "config": {"name": name}})
    } else {
        json!(name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keras3_config_goes_to_keras2_form() {
        let k3 = json!({"class_name": "Functional", "config": {"name": "m", "trainable": true,
            "layers": [
                {"module": "keras.layers", "class_name": "InputLayer", "name": "a",
                 "config": {"batch_shape": [null, 4], "dtype": "float32", "name": "a"},
                 "inbound_nodes": []},
                {"module": "keras.layers", "class_name": "Dense", "name": "d",
                 "config": {"name": "d", "units": 2, "quantization_config": null,
                            "dtype": {"module": "keras", "class_name": "DTypePolicy",
                                      "config": {"name": "float32"}}},
                 "build_config": {"input_shape": [null, 4]},
                 "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__",
                     "config": {"shape": [null, 4], "dtype": "float32",
                                "keras_history": ["a", 0, 0]}}], "kwargs": {}}]}],
            "input_layers": ["a", 0, 0], "output_layers": ["d", 0, 0]}});
        let v = to_keras2(&k3).unwrap();
        let layers = &v["config"]["layers"];
        assert_eq!(layers[0]["config"]["batch_input_shape"], json!([null, 4]));
        assert_eq!(layers[1]["config"]["dtype"], "float32");
        assert!(layers[1]["config"].get("quantization_config").is_none());
        assert!(layers[1].get("build_config").is_none());
        assert_eq!(layers[1]["inbound_nodes"], json!([[["a", 0, 0, {}]]]));
        assert_eq!(v["config"]["output_layers"], json!([["d", 0, 0]]));
        // And back.
        let back = super::super::keras2_config::from_keras2(&v).unwrap();
        assert_eq!(
            back["config"]["layers"][1]["inbound_nodes"][0]["args"][0]["config"]["keras_history"],
            json!(["a", 0, 0])
        );
    }

    #[test]
    fn renamed_arguments_go_both_ways() {
        let k3 = json!({"class_name": "Sequential", "config": {"name": "s", "layers": [
            {"module": "keras.layers", "class_name": "LeakyReLU",
             "config": {"name": "l", "negative_slope": 0.1}}]}});
        let k2 = to_keras2(&k3).unwrap();
        assert_eq!(
            k2["config"]["layers"][0]["config"],
            json!({"name": "l", "alpha": 0.1})
        );
        let back = super::super::keras2_config::from_keras2(&k2).unwrap();
        assert_eq!(
            back["config"]["layers"][0]["config"]["negative_slope"],
            json!(0.1)
        );
    }
}
