//! A functional model's Keras config, both ways (Keras's `Functional.get_config` and
//! `functional_from_config`): its `layers`, each with its `inbound_nodes`, and the
//! `input_layers` / `output_layers` tensors; nested models are layers of the list.
//!
//! ```
//! use keras::prelude::*;
//! let x = Input::new(&[3]);
//! let model = Model::new(&[x.clone()], &[Dense::new(2).call(&x)?])?.name("tiny");
//! let v = model.layer().serialize()?;
//! assert_eq!(v["class_name"], "Functional");
//! assert_eq!(v["config"]["layers"][1]["inbound_nodes"][0]["args"][0]["config"]["keras_history"][0], v["config"]["layers"][0]["name"]);
//! let back = keras::models::model_from_json(&v.to_string())?;
//! assert_eq!((back.get_name().as_str(), back.count_params()), ("tiny", 8));
//! # Ok::<(), keras::Error>(())
//! ```

use super::config::apply_trainable;
use super::functional::Functional;
use super::model::Model;
use crate::engine::{KerasTensor, LayerRef, Node};
use crate::layers::InputLayer;
use crate::ops::dtype_name;
use crate::serialization::registration::deserialize_object;
use crate::serialization::{json, object, shape_value, Cfg, Config, Value};
use crate::{Error, Result};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Each node's index among its layer's nodes in this graph (Keras's `node_reindexing_map`),
/// by node address.
type LocalIndex = HashMap<usize, usize>;

fn node_index(t: &KerasTensor, local: &LocalIndex) -> usize {
    local
        .get(&(Arc::as_ptr(t.node()) as usize))
        .copied()
        .unwrap_or(0)
}

/// A node's input tensor as Keras writes it: `__keras_tensor__` with its history.
fn history(t: &KerasTensor, local: &LocalIndex) -> Value {
    let (layer, _, index) = t.history();
    json!({
        "class_name": "__keras_tensor__",
        "config": {
            "shape": shape_value(&t.shape().0),
            "dtype": if t.is_string() { "string" } else { dtype_name(t.dtype()) },
            "keras_history": [layer.name(), node_index(t, local), index],
        }
    })
}

/// `input_layers` / `output_layers`: `[name, node, index]` each (one without a list).
fn layer_refs(ts: &[KerasTensor], local: &LocalIndex) -> Value {
    let v: Vec<Value> = ts
        .iter()
        .map(|t| {
            let (layer, _, index) = t.history();
            // Keras counts a nested functional model's nodes from 1 here (and only here).
            let node =
                node_index(t, local) + usize::from(layer.with(|_: &Functional| ()).is_some());
            json!([layer.name(), node, index])
        })
        .collect();
    if v.len() == 1 {
        v.into_iter().next().unwrap_or(Value::Null)
    } else {
        Value::Array(v)
    }
}

/// The `{class_name, config}` of a serialized layer entry.
fn entry_config<'a>(v: &'a Value, model: &str) -> Result<(&'a str, &'a Config)> {
    let class = v
        .get("class_name")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::value(format!("{model}: a serialized layer needs a class_name")))?;
    let config = v
        .get("config")
        .and_then(Value::as_object)
        .ok_or_else(|| Error::value(format!("{model}: layer {class} has no config object")))?;
    Ok((class, config))
}

/// The `(layer name, node index, tensor index)` of every Keras tensor in a node's arguments.
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
            let name = h.first().and_then(Value::as_str).unwrap_or_default();
            let node = h.get(1).and_then(Value::as_u64).unwrap_or(0) as usize;
            let index = h.get(2).and_then(Value::as_u64).unwrap_or(0) as usize;
            out.push((name.to_string(), node, index));
            Ok(())
        }
        _ => Ok(()),
    }
}

/// `input_layers` / `output_layers` read back: one `[name, node, index]` or a list of them.
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

/// A layer waiting for the inputs of its nodes: the layer, its name, its `inbound_nodes`.
type Pending = (LayerRef, String, Vec<Value>);

impl Functional {
    /// The model (named `name`) as Keras serializes it.
    pub(crate) fn to_config(&self, name: &str, trainable: bool) -> Result<Value> {
        // Each layer's nodes that belong to this graph, renumbered from 0.
        let mut nodes: Vec<Arc<Node>> = self.nodes_by_depth.iter().flatten().cloned().collect();
        nodes.sort_by_key(|n| (n.layer().id(), n.index));
        let mut local = LocalIndex::new();
        let mut count: HashMap<u64, usize> = HashMap::new();
        for n in &nodes {
            let c = count.entry(n.layer().id()).or_insert(0);
            local.insert(Arc::as_ptr(n) as usize, *c);
            *c += 1;
        }
        let mut layers = vec![];
        for l in &self.layers {
            let mut v = l.serialize()?;
            let mut own: Vec<&Arc<Node>> = nodes.iter().filter(|n| n.layer().same(l)).collect();
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
                "input_layers": layer_refs(&self.inputs, &local),
                "output_layers": layer_refs(&self.outputs, &local),
            }),
        );
        v["registered_name"] = json!("Functional");
        v["build_config"] = json!({ "input_shape": null });
        Ok(v)
    }

    /// A functional model from its Keras config (class `Functional` or `Model`): each layer
    /// made from its entry, then called on its inputs as soon as they exist.
    pub(crate) fn from_config(c: &Cfg) -> Result<Model> {
        let name = c.str_or("name", "model")?;
        let entries = match c.get("layers") {
            Some(Value::Array(a)) => a.as_slice(),
            None => &[],
            Some(_) => return Err(c.bad("layers", "a list of layers")),
        };
        // Outputs of every node made so far: (layer name, node index) -> tensors.
        let mut made: HashMap<(String, usize), Vec<KerasTensor>> = HashMap::new();
        let mut pending: Vec<Pending> = vec![];
        let mut nested = HashSet::new();
        for e in entries {
            let (class, cfg) = entry_config(e, name)?;
            let lname = e
                .get("name")
                .and_then(Value::as_str)
                .or_else(|| cfg.get("name").and_then(Value::as_str))
                .unwrap_or_default()
                .to_string();
            if class == "InputLayer" {
                let t = InputLayer::tensor_from_config(&Cfg::new(class, cfg))?;
                made.insert((lname, 0), vec![t]);
                continue;
            }
            if matches!(class, "Functional" | "Model") {
                nested.insert(lname.clone());
            }
            // An op node (`keras.src.ops.*`: `x * 2`, `ops.mean`) or a layer.
            let layer = match crate::engine::op_layer::from_entry(e) {
                Some(op) => op?,
                None => deserialize_object::<LayerRef>(e)?,
            };
            let nodes = match e.get("inbound_nodes") {
                Some(Value::Array(a)) => a.clone(),
                _ => vec![],
            };
            pending.push((layer, lname, nodes));
        }
        connect(name, &mut pending, &mut made)?;
        let pick = |key: &str| -> Result<Vec<KerasTensor>> {
            refs(c.get(key))
                .into_iter()
                .map(|(n, i, t)| {
                    // Keras numbers a nested functional model's nodes from 1 in these lists.
                    let i = if nested.contains(&n) {
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
        let model = Model::new(&inputs, &outputs)?.name(name);
        apply_trainable(&model, c)?;
        Ok(model)
    }
}

/// Calls each pending layer on the inputs of its nodes as soon as they exist (shared layers
/// may wait a pass), recording every node's outputs in `made`.
fn connect(
    name: &str,
    pending: &mut [Pending],
    made: &mut HashMap<(String, usize), Vec<KerasTensor>>,
) -> Result<()> {
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
            return Ok(());
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
}
