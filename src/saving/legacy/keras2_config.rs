//! Keras 2 / tf.keras model configs (the `model_config` attribute of a `model.save("m.h5")`
//! file) to Keras 3's and back, as Keras 3's legacy loader reads them
//! (`keras/src/legacy/saving/saving_utils.py`'s `model_from_config`, `Functional`'s and
//! `Sequential`'s legacy branches):
//!
//! - `batch_input_shape` becomes an `InputLayer`'s `batch_shape` (a Keras 2 `Sequential` whose
//!   first layer carries it gets the `InputLayer` Keras 3 would add); `axis: [n]` becomes `n`;
//! - `Model` is `Functional`; a Keras 2.0 `Sequential` whose config is a bare list of layers
//!   gets a name;
//! - inbound nodes in Keras 2's list-of-lists form (`[[["dense", 0, 0, {}]]]`) become Keras 3's
//!   `{args, kwargs}` with `__keras_tensor__` entries; a nested model's node indices, which
//!   tf.keras 2 counts from its built-in node (1 = first call), are renumbered as Keras 3
//!   counts them (Keras 3's own legacy loader does not, and so cannot load a tf.keras file
//!   whose model nests models);
//! - objects without `module` (`{class_name, config}`, Keras 2.4) are read as they are.
//!
//! Writing goes the other way ([`to_keras2`], in `keras2_export.rs`): the tf.keras 2 form that both tf_keras and Keras
//! 3's legacy loader read (dtype names, `batch_input_shape`, list-of-lists nodes, no Keras
//! 3-only layer arguments). A nested model's node indices are written as Keras 3's legacy
//! loader reads them (from 0), which tf_keras reads differently: a model that nests models
//! loads in Keras 3, not in tf_keras. [`from_legacy_config`] tells the two numberings apart by
//! the file's `keras_version`.

use crate::serialization::Config;
use crate::{Error, Result};
use serde_json::{json, Value};
use std::collections::HashSet;

pub use super::keras2_export::to_keras2;

/// Keras 2 class names Keras 3 spells differently (its `layers` module exports the Keras 2
/// spellings as aliases).
const ALIASES: &[(&str, &str)] = &[
    ("Convolution1D", "Conv1D"),
    ("Convolution2D", "Conv2D"),
    ("Convolution3D", "Conv3D"),
    ("Convolution2DTranspose", "Conv2DTranspose"),
    ("Convolution3DTranspose", "Conv3DTranspose"),
    ("Deconvolution2D", "Conv2DTranspose"),
    ("Deconvolution3D", "Conv3DTranspose"),
    ("MaxPool1D", "MaxPooling1D"),
    ("MaxPool2D", "MaxPooling2D"),
    ("MaxPool3D", "MaxPooling3D"),
    ("AvgPool1D", "AveragePooling1D"),
    ("AvgPool2D", "AveragePooling2D"),
    ("AvgPool3D", "AveragePooling3D"),
    ("GlobalMaxPool1D", "GlobalMaxPooling1D"),
    ("GlobalMaxPool2D", "GlobalMaxPooling2D"),
    ("GlobalMaxPool3D", "GlobalMaxPooling3D"),
    ("GlobalAvgPool1D", "GlobalAveragePooling1D"),
    ("GlobalAvgPool2D", "GlobalAveragePooling2D"),
    ("GlobalAvgPool3D", "GlobalAveragePooling3D"),
    ("SeparableConvolution1D", "SeparableConv1D"),
    ("SeparableConvolution2D", "SeparableConv2D"),
    ("CuDNNLSTM", "LSTM"),
    ("CuDNNGRU", "GRU"),
];

/// Keras 2 layers whose config holds Python (bytecode or TensorFlow ops), which no config
/// reader can rebuild.
const PYTHON_LAYERS: &[&str] = &[
    "Lambda",
    "TFOpLambda",
    "SlicingOpLambda",
    "TensorFlowOpLayer",
];

/// Layer arguments Keras 3 renamed (and still reads under their Keras 2 names):
/// `(class, Keras 2 name, Keras 3 name)`.
pub(super) const RENAMED_ARGS: &[(&str, &str, &str)] = &[("LeakyReLU", "alpha", "negative_slope")];

/// Config keys that hold a nested layer (wrappers, RNNs).
pub(super) const NESTED_LAYER_KEYS: &[&str] = &["layer", "forward_layer", "backward_layer", "cell"];

pub(super) fn class_of(v: &Value) -> Result<&str> {
    v.get("class_name").and_then(Value::as_str).ok_or_else(|| {
        Error::value(format!(
            "model_config: every serialized object needs a `class_name`; received {}",
            truncated(v)
        ))
    })
}

fn truncated(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(200) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s,
    }
}

pub(super) fn is_model_class(class: &str) -> bool {
    matches!(class, "Functional" | "Model" | "Sequential")
}

/// A Keras 2 / tf.keras `model_config` as the Keras 3 model config [`crate::saving::model_from_json`]
/// reads.
///
/// ```
/// use serde_json::json;
/// let keras2 = json!({"class_name": "Sequential", "config": {"name": "s", "layers": [
///     {"class_name": "Dense", "config": {"name": "d", "units": 2, "batch_input_shape": [null, 3]}}]}});
/// let v = keras::saving::legacy::keras2_config::from_keras2(&keras2)?;
/// let model = keras::saving::model_from_json(&v.to_string())?;
/// assert_eq!(model.count_params(), 8);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn from_keras2(v: &Value) -> Result<Value> {
    from_legacy(v, true)
}

/// [`from_keras2`] for a file written by Keras `keras_version` (its root attribute): tf.keras 2
/// (or no version: Keras 1) numbers a nested model's nodes from its built-in node, our files
/// (Keras 3 versions) from 0, as Keras 3's legacy loader reads them.
///
/// ```
/// use serde_json::json;
/// use keras::saving::legacy::keras2_config::from_legacy_config;
/// let m = json!({"class_name": "Functional", "config": {"name": "m", "layers": [
///     {"class_name": "Sequential", "name": "inner", "config": {"name": "inner", "layers": []},
///      "inbound_nodes": []},
///     {"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 1},
///      "inbound_nodes": [[["inner", 1, 0, {}]]]}],
///     "input_layers": [], "output_layers": []}});
/// let history = |v: &serde_json::Value| v["config"]["layers"][1]["inbound_nodes"][0]["args"][0]["config"]["keras_history"].clone();
/// assert_eq!(history(&from_legacy_config(&m, Some("2.15.0"))?), json!(["inner", 0, 0]));
/// assert_eq!(history(&from_legacy_config(&m, Some("3.15.1"))?), json!(["inner", 1, 0]));
/// # Ok::<(), keras::Error>(())
/// ```
pub fn from_legacy_config(v: &Value, keras_version: Option<&str>) -> Result<Value> {
    let major = keras_version
        .and_then(|s| s.split('.').next())
        .and_then(|m| m.trim().parse::<u32>().ok())
        .unwrap_or(1);
    from_legacy(v, major < 3)
}

/// `keras2_nodes`: nested models' list-form node indices count from their built-in node.
fn from_legacy(v: &Value, keras2_nodes: bool) -> Result<Value> {
    let class = class_of(v)?;
    match class {
        "Sequential" => sequential_from_keras2(v, keras2_nodes),
        "Functional" | "Model" => functional_from_keras2(v, keras2_nodes),
        // A subclassed model: its registered class reads its own config.
        _ => Ok(v.clone()),
    }
}

fn sequential_from_keras2(v: &Value, keras2_nodes: bool) -> Result<Value> {
    let (mut config, entries) = match v.get("config") {
        // Keras 2.0's Sequential config was the bare list of layers.
        Some(Value::Array(a)) => (Config::new(), a.clone()),
        Some(Value::Object(o)) => {
            let layers = o
                .get("layers")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            (o.clone(), layers)
        }
        _ => {
            return Err(Error::value(
                "model_config: a Sequential model needs a `config` with its `layers`",
            ))
        }
    };
    config.entry("name").or_insert_with(|| json!("sequential"));
    let mut layers = vec![];
    for (i, e) in entries.iter().enumerate() {
        let (layer, batch_input_shape) = layer_from_keras2(e, keras2_nodes)?;
        let class = class_of(&layer)?;
        if i == 0 && class != "InputLayer" {
            if let Some(shape) = batch_input_shape {
                let name = layer["config"]["name"].as_str().unwrap_or("layer");
                let mut input = json!({
                    "batch_shape": shape,
                    "name": format!("{name}_input"),
                });
                if let Some(d) = layer["config"].get("dtype").filter(|d| d.is_string()) {
                    input["dtype"] = d.clone();
                }
                layers.push(json!({"class_name": "InputLayer", "config": input}));
            }
        }
        layers.push(layer);
    }
    config.insert("layers".into(), Value::Array(layers));
    Ok(json!({"class_name": "Sequential", "config": config}))
}

fn functional_from_keras2(v: &Value, keras2_nodes: bool) -> Result<Value> {
    let config = v
        .get("config")
        .and_then(Value::as_object)
        .ok_or_else(|| Error::value("model_config: a Functional model needs a `config` object"))?;
    let entries = config
        .get("layers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    // Nested models: tf.keras 2 numbers their nodes from their own built-in node (1 = first
    // call).
    let nested: HashSet<String> = entries
        .iter()
        .filter(|_| keras2_nodes)
        .filter(|e| {
            e.get("class_name")
                .and_then(Value::as_str)
                .is_some_and(is_model_class)
        })
        .filter_map(|e| entry_name(e).map(str::to_string))
        .collect();
    let legacy_nodes = keras2_nodes
        && entries.iter().any(|e| {
            e.get("inbound_nodes")
                .and_then(Value::as_array)
                .is_some_and(|n| n.iter().any(Value::is_array))
        });
    let mut layers = vec![];
    for e in &entries {
        let (mut layer, _) = layer_from_keras2(e, keras2_nodes)?;
        let name = entry_name(e).unwrap_or_default().to_string();
        layer["name"] = json!(name);
        let nodes = e
            .get("inbound_nodes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let nodes = nodes
            .iter()
            .map(|n| node_from_keras2(n, &nested, &name))
            .collect::<Result<Vec<_>>>()?;
        layer["inbound_nodes"] = Value::Array(nodes);
        layers.push(layer);
    }
    let mut out = config.clone();
    out.insert("layers".into(), Value::Array(layers));
    // Keras 3 counts a nested Sequential's nodes from 0 in these lists, a nested Functional's
    // from 1 (as Keras 2 did for both).
    if legacy_nodes {
        for key in ["input_layers", "output_layers"] {
            if let Some(refs) = out.get_mut(key) {
                renumber_sequential_refs(refs, &entries);
            }
        }
    }
    Ok(json!({"class_name": "Functional", "config": out}))
}

pub(super) fn entry_name(e: &Value) -> Option<&str> {
    e.get("name")
        .and_then(Value::as_str)
        .or_else(|| e.get("config")?.get("name")?.as_str())
}

fn renumber_sequential_refs(refs: &mut Value, entries: &[Value]) {
    let sequential = |n: &str| {
        entries.iter().any(|e| {
            entry_name(e) == Some(n)
                && e.get("class_name").and_then(Value::as_str) == Some("Sequential")
        })
    };
    let Value::Array(a) = refs else { return };
    if let [Value::String(n), Value::Number(i), _] = a.as_slice() {
        if sequential(n) {
            let i = i.as_u64().unwrap_or(0).saturating_sub(1);
            a[1] = json!(i);
        }
        return;
    }
    for r in a.iter_mut() {
        renumber_sequential_refs(r, entries);
    }
}

/// One Keras 2 inbound node (`[[name, node, tensor, kwargs], ...]`) as Keras 3's
/// `{args, kwargs}`; a node already in Keras 3's form is kept.
fn node_from_keras2(node: &Value, nested: &HashSet<String>, layer: &str) -> Result<Value> {
    let Value::Array(inputs) = node else {
        return Ok(node.clone());
    };
    let mut tensors = vec![];
    let mut kwargs = json!({});
    for input in inputs {
        let parts = input.as_array().map(Vec::as_slice).unwrap_or_default();
        let (name, index, tensor) = match parts {
            [n, i, t, ..] if parts.len() <= 4 => (n.as_str(), i.as_u64(), t.as_u64()),
            _ => (None, None, None),
        };
        let (Some(name), Some(index), Some(tensor)) = (name, index, tensor) else {
            return Err(Error::value(format!(
                "model_config: layer \"{layer}\" has an inbound node entry Keras cannot read \
                 (expected [layer_name, node_index, tensor_index, kwargs]); received {input}"
            )));
        };
        if let Some(k) = parts.get(3).filter(|k| k.is_object()) {
            kwargs = k.clone();
        }
        let index = if nested.contains(name) {
            index.saturating_sub(1)
        } else {
            index
        };
        tensors.push(json!({
            "class_name": "__keras_tensor__",
            "config": {"shape": null, "dtype": null, "keras_history": [name, index, tensor]},
        }));
    }
    let args = match tensors.len() {
        1 => Value::Array(tensors),
        _ => json!([tensors]),
    };
    Ok(json!({"args": args, "kwargs": kwargs}))
}

/// A Keras 2 layer entry as Keras 3's, and the `batch_input_shape` it carried.
fn layer_from_keras2(e: &Value, keras2_nodes: bool) -> Result<(Value, Option<Value>)> {
    let class = class_of(e)?;
    let name = entry_name(e).unwrap_or_default();
    if PYTHON_LAYERS.contains(&class) {
        return Err(Error::value(format!(
            "Layer \"{name}\" ({class}) holds Python code (a function or TensorFlow op) that \
             keras-rs cannot run; rebuild the model without it, or replace it with a registered \
             layer"
        )));
    }
    if is_model_class(class) {
        let mut m = from_legacy(e, keras2_nodes)?;
        if let Some(n) = e.get("name") {
            m["name"] = n.clone();
        }
        return Ok((m, None));
    }
    let class = ALIASES
        .iter()
        .find(|(old, _)| *old == class)
        .map_or(class, |(_, new)| new);
    let mut config = match e.get("config") {
        Some(Value::Object(c)) => c.clone(),
        _ => {
            return Err(Error::value(format!(
                "model_config: layer \"{name}\" ({class}) has no config object"
            )))
        }
    };
    let batch_input_shape = config.remove("batch_input_shape");
    if class == "InputLayer" {
        if let Some(s) = &batch_input_shape {
            config.insert("batch_shape".into(), s.clone());
        }
    }
    for (c, keras2, keras3) in RENAMED_ARGS {
        if *c == class && !config.contains_key(*keras3) {
            if let Some(v) = config.remove(*keras2) {
                config.insert(keras3.to_string(), v);
            }
        }
    }
    if let Some(Value::Array(a)) = config.get("axis") {
        if let [n] = a.as_slice() {
            let n = n.clone();
            config.insert("axis".into(), n);
        }
    }
    for key in NESTED_LAYER_KEYS {
        if let Some(inner) = config.get(*key).filter(|v| v.get("class_name").is_some()) {
            let (inner, _) = layer_from_keras2(inner, keras2_nodes)?;
            config.insert(key.to_string(), inner);
        }
    }
    if let Some(Value::Array(cells)) = config.get("cells") {
        let cells = cells
            .iter()
            .map(|c| layer_from_keras2(c, keras2_nodes).map(|(c, _)| c))
            .collect::<Result<Vec<_>>>()?;
        config.insert("cells".into(), Value::Array(cells));
    }
    let mut out = json!({"class_name": class, "config": config});
    for key in ["module", "registered_name", "build_config"] {
        if let Some(v) = e.get(key) {
            out[key] = v.clone();
        }
    }
    Ok((out, batch_input_shape.filter(|s| !s.is_null())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keras2_functional_nodes_become_keras3_nodes() {
        let k2 = json!({"class_name": "Model", "config": {"name": "m", "layers": [
            {"class_name": "InputLayer", "name": "a",
             "config": {"batch_input_shape": [null, 4], "dtype": "float32", "name": "a"},
             "inbound_nodes": []},
            {"class_name": "Sequential", "name": "inner", "config": {"name": "inner", "layers": [
                {"class_name": "Dense", "config": {"name": "d", "units": 3,
                                                   "batch_input_shape": [null, 4]}}]},
             "inbound_nodes": [[["a", 0, 0, {}]]]},
            {"class_name": "Concatenate", "name": "cat", "config": {"name": "cat", "axis": [-1]},
             "inbound_nodes": [[["inner", 1, 0, {}], ["a", 0, 0, {}]]]}],
            "input_layers": [["a", 0, 0]], "output_layers": [["cat", 0, 0], ["inner", 1, 0]]}});
        let v = from_keras2(&k2).unwrap();
        assert_eq!(v["class_name"], "Functional");
        let layers = &v["config"]["layers"];
        assert_eq!(layers[0]["config"]["batch_shape"], json!([null, 4]));
        assert!(layers[0]["config"].get("batch_input_shape").is_none());
        // The nested Sequential gets its InputLayer, and its node index counts from 0.
        assert_eq!(layers[1]["config"]["layers"][0]["class_name"], "InputLayer");
        assert_eq!(
            layers[1]["config"]["layers"][0]["config"]["batch_shape"],
            json!([null, 4])
        );
        let args = &layers[2]["inbound_nodes"][0]["args"];
        assert_eq!(
            args[0][0]["config"]["keras_history"],
            json!(["inner", 0, 0])
        );
        assert_eq!(args[0][1]["config"]["keras_history"], json!(["a", 0, 0]));
        assert_eq!(layers[2]["config"]["axis"], json!(-1));
        assert_eq!(v["config"]["output_layers"][1], json!(["inner", 0, 0]));
    }

    #[test]
    fn python_layers_and_bad_nodes_name_the_layer() {
        let k2 = json!({"class_name": "Sequential", "config": {"name": "s", "layers": [
            {"class_name": "Lambda", "config": {"name": "my_fn", "function": ["4wEAAA==", null, null]}}]}});
        let e = from_keras2(&k2).unwrap_err().to_string();
        assert!(e.contains("my_fn") && e.contains("Lambda"), "{e}");
        let k2 = json!({"class_name": "Functional", "config": {"name": "m", "layers": [
            {"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 1},
             "inbound_nodes": [[["a", "x"]]]}], "input_layers": [], "output_layers": []}});
        let e = from_keras2(&k2).unwrap_err().to_string();
        assert!(e.contains("\"d\""), "{e}");
        let e = from_keras2(&json!({"config": {}})).unwrap_err().to_string();
        assert!(e.contains("class_name"), "{e}");
    }
}
