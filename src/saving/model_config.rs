//! Models as Keras 3 configs: `Sequential` and functional graphs (with `layers`,
//! `inbound_nodes`, `input_layers`, `output_layers`), nested models included, both ways.

use super::config::{dtype_name, dtype_policy, object, parse_dtype, shape_value, Cfg, Config};
use super::registry::layer_from_config;
use crate::engine::{KerasTensor, LayerRef};
use crate::layers::Input;
use crate::models::functional::Functional;
use crate::models::sequential::SequentialNet;
use crate::models::{Model, Sequential};
use crate::{Error, Result};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

fn base(l: &LayerRef) -> Config {
    let dtype = l
        .with_dyn(|x| x.args().dtype)
        .unwrap_or(crate::ops::DType::F32);
    let mut c = Config::new();
    c.insert("name".into(), json!(l.name()));
    c.insert("trainable".into(), json!(l.trainable()));
    c.insert("dtype".into(), dtype_policy(dtype));
    c
}

fn build_config(l: &LayerRef) -> Value {
    match l.build_shapes() {
        Some(s) => l.with_dyn(|x| x.build_config(&s)),
        None => json!({ "input_shape": null }),
    }
}

/// A layer (or nested model) as Keras serializes it.
pub fn serialize_layer(l: &LayerRef) -> Result<Value> {
    if l.with(|_: &Functional| ()).is_some() || l.with(|_: &SequentialNet| ()).is_some() {
        return serialize_model(l);
    }
    let mut config = l.with_dyn(|x| x.base_config(base(l)));
    config.extend(l.with_dyn(|x| x.get_config())?);
    let mut v = object("keras.layers", l.class_name(), Value::Object(config));
    // Keras writes a build config for built layers only.
    if l.class_name() != "InputLayer" && l.built() {
        v["build_config"] = build_config(l);
    }
    Ok(v)
}

fn history(t: &KerasTensor, local: &HashMap<usize, usize>) -> Value {
    let (layer, _, index) = t.history();
    let node = local
        .get(&(Arc::as_ptr(t.node()) as usize))
        .copied()
        .unwrap_or(0);
    json!({
        "class_name": "__keras_tensor__",
        "config": {
            "shape": shape_value(&t.shape().0),
            "dtype": if t.is_string() { "string" } else { dtype_name(t.dtype()) },
            "keras_history": [layer.name(), node, index],
        }
    })
}

fn layer_refs(ts: &[KerasTensor], local: &HashMap<usize, usize>) -> Value {
    let v: Vec<Value> = ts
        .iter()
        .map(|t| {
            let (layer, _, index) = t.history();
            let node = local
                .get(&(Arc::as_ptr(t.node()) as usize))
                .copied()
                .unwrap_or(0);
            // Keras counts a nested functional model's nodes from 1 here (and only here).
            let node = node + usize::from(layer.with(|_: &Functional| ()).is_some());
            json!([layer.name(), node, index])
        })
        .collect();
    if v.len() == 1 {
        v.into_iter().next().unwrap_or(Value::Null)
    } else {
        Value::Array(v)
    }
}

fn functional_config(name: &str, trainable: bool, g: &Functional) -> Result<Value> {
    // Each layer's nodes that belong to this graph, renumbered from 0 (Keras's
    // `node_reindexing_map`).
    let mut nodes: Vec<Arc<crate::engine::Node>> =
        g.nodes_by_depth.iter().flatten().cloned().collect();
    nodes.sort_by_key(|n| (n.layer().id(), n.index));
    let mut local: HashMap<usize, usize> = HashMap::new();
    let mut count: HashMap<u64, usize> = HashMap::new();
    for n in &nodes {
        let c = count.entry(n.layer().id()).or_insert(0);
        local.insert(Arc::as_ptr(n) as usize, *c);
        *c += 1;
    }
    let mut layers = vec![];
    for l in &g.layers {
        let mut v = serialize_layer(l)?;
        let mut own: Vec<&Arc<crate::engine::Node>> =
            nodes.iter().filter(|n| n.layer().same(l)).collect();
        own.sort_by_key(|n| n.index);
        let inbound: Vec<Value> = own
            .iter()
            .filter(|n| !n.inputs().is_empty())
            .map(|n| {
                let ins: Vec<Value> = n.inputs().iter().map(|t| history(t, &local)).collect();
                let (args, kwargs) = l.with_dyn(|x| x.call_config(ins));
                json!({ "args": args, "kwargs": kwargs })
            })
            .collect();
        v["name"] = json!(l.name());
        v["inbound_nodes"] = Value::Array(inbound);
        layers.push(v);
    }
    let mut v = object(
        "keras.src.models.functional",
        "Functional",
        json!({
            "name": name,
            "trainable": trainable,
            "layers": layers,
            "input_layers": layer_refs(&g.inputs, &local),
            "output_layers": layer_refs(&g.outputs, &local),
        }),
    );
    v["registered_name"] = json!("Functional");
    v["build_config"] = json!({ "input_shape": null });
    Ok(v)
}

/// A model (functional or `Sequential`) as Keras serializes it.
pub fn serialize_model(net: &LayerRef) -> Result<Value> {
    if let Some(r) = net.with(|g: &Functional| functional_config(&net.name(), net.trainable(), g)) {
        return r;
    }
    let seq = net.with(|s: &SequentialNet| {
        let graph = s.graph().map(|g| g.inputs[0].clone());
        (s.layers().to_vec(), graph)
    });
    let Some((layers, input)) = seq else {
        return subclass_config(net);
    };
    let mut list = vec![];
    let mut build_shape = Value::Null;
    if let Some(t) = &input {
        list.push(serialize_layer(t.layer())?);
        build_shape = shape_value(&t.shape().0);
    }
    for l in &layers {
        list.push(serialize_layer(l)?);
    }
    let mut config = base(net);
    config.insert("layers".into(), Value::Array(list));
    config.insert("build_input_shape".into(), build_shape.clone());
    let mut v = object("keras", "Sequential", Value::Object(config));
    v["build_config"] = json!({ "input_shape": build_shape });
    Ok(v)
}

/// A subclassed model: its `get_config`, under its class name, registered.
fn subclass_config(net: &LayerRef) -> Result<Value> {
    let config = net
        .with(|s: &crate::models::subclass::SubclassNet| s.inner.get_config())
        .flatten()
        .ok_or_else(|| {
            Error::value(format!(
                "Model \"{}\" ({}) cannot be saved to a config: implement `Subclass::get_config` \
                 (and register_model to load it), or save its weights with save_weights",
                net.name(),
                net.class_name()
            ))
        })?;
    let mut c = base(net);
    c.extend(config);
    let mut v = object("keras-rs", net.class_name(), Value::Object(c));
    v["registered_name"] = json!(net.class_name());
    v["build_config"] = build_config(net);
    Ok(v)
}

fn config_of<'a>(v: &'a Value, what: &str) -> Result<(&'a str, &'a Config)> {
    let class = v
        .get("class_name")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::value(format!("{what}: a serialized layer needs a class_name")))?;
    let config = v
        .get("config")
        .and_then(Value::as_object)
        .ok_or_else(|| Error::value(format!("{what}: layer {class} has no config object")))?;
    Ok((class, config))
}

fn input_from_config(c: &Cfg) -> Result<KerasTensor> {
    let shape = match c.get("batch_shape") {
        Some(_) => c.shape("batch_shape")?,
        None => {
            let mut s = vec![None];
            s.extend(c.shape("shape")?);
            s
        }
    };
    let mut b = Input::shape(shape.get(1..).unwrap_or(&[]).to_vec());
    if let Some(n) = shape.first().copied().flatten() {
        b = b.batch_size(n);
    }
    if c.get("dtype").and_then(Value::as_str) == Some("string") {
        b = b.dtype_string();
    } else if let Some(d) = parse_dtype(c.get("dtype"))? {
        b = b.dtype(d);
    }
    if let Some(name) = c.get("name").and_then(Value::as_str) {
        b = b.name(name);
    }
    Ok(b.build())
}

/// The layer (or nested model) a serialized entry describes.
pub fn deserialize_layer(v: &Value) -> Result<LayerRef> {
    let (class, config) = config_of(v, "deserialize")?;
    match class {
        "Functional" | "Model" | "Sequential" => Ok(deserialize_model(v)?.net.clone()),
        _ => layer_from_config(class, config),
    }
}

fn tensors_in(arg: &Value, out: &mut Vec<(String, usize, usize)>) -> Result<()> {
    match arg {
        Value::Array(a) => a.iter().try_for_each(|x| tensors_in(x, out)),
        Value::Object(o)
            if o.get("class_name").and_then(Value::as_str) == Some("__keras_tensor__") =>
        {
            let h = o
                .get("config")
                .and_then(|c| c.get("keras_history"))
                .and_then(Value::as_array)
                .ok_or_else(|| Error::value("a Keras tensor without keras_history"))?;
            let name = h
                .first()
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let node = h.get(1).and_then(Value::as_u64).unwrap_or(0) as usize;
            let index = h.get(2).and_then(Value::as_u64).unwrap_or(0) as usize;
            out.push((name, node, index));
            Ok(())
        }
        _ => Ok(()),
    }
}

fn refs(v: Option<&Value>) -> Vec<(String, usize, usize)> {
    let one = |x: &Value| -> Option<(String, usize, usize)> {
        let a = x.as_array()?;
        Some((
            a.first()?.as_str()?.to_string(),
            a.get(1)?.as_u64()? as usize,
            a.get(2)?.as_u64()? as usize,
        ))
    };
    match v {
        Some(x) if one(x).is_some() => one(x).into_iter().collect(),
        Some(Value::Array(a)) => a.iter().filter_map(one).collect(),
        _ => vec![],
    }
}

fn functional_from_config(name: &str, config: &Config) -> Result<Model> {
    let empty = vec![];
    let entries = config
        .get("layers")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    // Outputs of every node made so far: (layer name, node index) -> tensors.
    let mut made: HashMap<(String, usize), Vec<KerasTensor>> = HashMap::new();
    let mut pending: Vec<(LayerRef, String, Vec<Value>)> = vec![];
    let mut functional = std::collections::HashSet::new();
    for e in entries {
        let (class, cfg) = config_of(e, name)?;
        let lname = e
            .get("name")
            .and_then(Value::as_str)
            .or_else(|| cfg.get("name").and_then(Value::as_str))
            .unwrap_or_default()
            .to_string();
        if class == "InputLayer" {
            let t = input_from_config(&Cfg::new(class, cfg))?;
            made.insert((lname, 0), vec![t]);
            continue;
        }
        if matches!(class, "Functional" | "Model") {
            functional.insert(lname.clone());
        }
        let layer = deserialize_layer(e)?;
        let nodes = e
            .get("inbound_nodes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        pending.push((layer, lname, nodes));
    }
    // Call layers on their inputs as soon as those exist (shared layers may wait a pass).
    let mut next_node: HashMap<String, usize> = HashMap::new();
    loop {
        let mut progressed = false;
        for (layer, lname, nodes) in pending.iter_mut() {
            while let Some(node) = nodes.first() {
                let mut hist = vec![];
                tensors_in(node.get("args").unwrap_or(&Value::Null), &mut hist)?;
                tensors_in(node.get("kwargs").unwrap_or(&Value::Null), &mut hist)?;
                let inputs: Option<Vec<KerasTensor>> = hist
                    .iter()
                    .map(|(n, i, t)| {
                        made.get(&(n.clone(), *i))
                            .and_then(|ts| ts.get(*t))
                            .cloned()
                    })
                    .collect();
                let Some(inputs) = inputs else { break };
                let outs = layer.call_many(&inputs)?;
                let k = next_node.entry(lname.clone()).or_insert(0);
                made.insert((lname.clone(), *k), outs);
                *k += 1;
                nodes.remove(0);
                progressed = true;
            }
        }
        if pending.iter().all(|(_, _, n)| n.is_empty()) {
            break;
        }
        if !progressed {
            let stuck: Vec<&str> = pending
                .iter()
                .filter(|(_, _, n)| !n.is_empty())
                .map(|(_, n, _)| n.as_str())
                .collect();
            return Err(Error::value(format!(
                "Model \"{name}\": cannot connect layers {stuck:?}; their inputs never appear in the config"
            )));
        }
    }
    let pick = |key: &str| -> Result<Vec<KerasTensor>> {
        refs(config.get(key))
            .into_iter()
            .map(|(n, i, t)| {
                // Keras numbers a nested functional model's nodes from 1 in these lists.
                let i = if functional.contains(&n) {
                    i.saturating_sub(1)
                } else {
                    i
                };
                made.get(&(n.clone(), i))
                    .and_then(|ts| ts.get(t))
                    .cloned()
                    .ok_or_else(|| {
                        Error::value(format!(
                            "Model \"{name}\": {key} names unknown tensor {n}[{i}][{t}]"
                        ))
                    })
            })
            .collect()
    };
    let (inputs, outputs) = (pick("input_layers")?, pick("output_layers")?);
    Ok(Model::new(&inputs, &outputs)?.name(name))
}

fn sequential_from_config(name: &str, config: &Config) -> Result<Model> {
    let empty = vec![];
    let entries = config
        .get("layers")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let mut layers = vec![];
    let mut input: Option<KerasTensor> = None;
    for e in entries {
        let (class, cfg) = config_of(e, name)?;
        if class == "InputLayer" {
            input = Some(input_from_config(&Cfg::new(class, cfg))?);
            continue;
        }
        layers.push(deserialize_layer(e)?);
    }
    if input.is_none() {
        if let Some(Value::Array(_)) = config.get("build_input_shape") {
            let s = Cfg::new("Sequential", config).shape("build_input_shape")?;
            input = Some(Input::new(s.get(1..).unwrap_or(&[]).to_vec()));
        }
    }
    let mut all: Vec<LayerRef> = vec![];
    if let Some(t) = input {
        all.push(t.layer().clone());
    }
    all.extend(layers);
    Ok(Sequential::from_layers(all)?.into_model().name(name))
}

/// A model from its Keras config (`{class_name, config}`), weights freshly initialized.
pub fn deserialize_model(v: &Value) -> Result<Model> {
    let (class, config) = config_of(v, "model_from_config")?;
    let name = config
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("model")
        .to_string();
    let model = match class {
        "Functional" | "Model" => functional_from_config(&name, config)?,
        "Sequential" => sequential_from_config(&name, config)?,
        other => subclass_from_config(other, v, config)?,
    };
    if !config
        .get("trainable")
        .and_then(Value::as_bool)
        .unwrap_or(true)
    {
        model.net.set_trainable(false);
    }
    Ok(model)
}

fn subclass_from_config(class: &str, v: &Value, config: &Config) -> Result<Model> {
    let make = super::registry::model_constructor(class).ok_or_else(|| {
        Error::value(format!(
            "Could not locate model class '{class}'. Register subclassed models with \
             keras::saving::registry::register_model; Sequential and functional models load as they are"
        ))
    })?;
    let model = make(config)?;
    // Build it as it was built when saved, so its weights exist before they are loaded.
    let shape = v.get("build_config").and_then(|b| b.get("input_shape"));
    if let Some(Value::Array(dims)) = shape {
        if !dims.is_empty() && !dims.iter().any(Value::is_array) {
            let dims = Cfg::new(
                class,
                &Config::from_iter([("s".to_string(), Value::Array(dims.clone()))]),
            )
            .shape("s")?;
            model.build(&dims)?;
        }
    }
    Ok(model)
}

/// Keras's `model.to_json()`.
pub fn to_json(model: &Model) -> Result<String> {
    Ok(serialize_model(&model.net)?.to_string())
}

/// Keras's `model_from_json`.
pub fn model_from_json(json: &str) -> Result<Model> {
    let v: Value =
        serde_json::from_str(json).map_err(|e| Error::value(format!("invalid JSON: {e}")))?;
    deserialize_model(&v)
}
