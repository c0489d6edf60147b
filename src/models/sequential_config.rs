//! A `Sequential`'s Keras config, both ways (Keras's `Sequential.get_config` /
//! `from_config`): its `layers` (the `InputLayer` first once built) and its
//! `build_input_shape`.
//!
//! ```
//! use keras::prelude::*;
//! let model = Sequential::from_layers([Input::new(&[4]).into(), Dense::new(2).into()])?;
//! let v = model.layer().serialize()?;
//! assert_eq!(v["class_name"], "Sequential");
//! assert_eq!(v["config"]["build_input_shape"].to_string(), "[null,4]");
//! let back = keras::models::model_from_json(&v.to_string())?;
//! assert_eq!(back.count_params(), 10);
//! # Ok::<(), keras::Error>(())
//! ```

use super::config::apply_trainable;
use super::model::Model;
use super::sequential::{Sequential, SequentialNet};
use crate::engine::config::base_config;
use crate::engine::{Layer, LayerRef};
use crate::layers::{Input, InputLayer};
use crate::ops::DType;
use crate::serialization::registration::deserialize_object;
use crate::serialization::{json, object, shape_value, Cfg, Value};
use crate::{Error, Result};

impl SequentialNet {
    /// The model (behind `handle`) as Keras serializes it.
    pub(crate) fn to_config(&self, handle: &LayerRef) -> Result<Value> {
        let input = self.graph().map(|g| g.inputs()[0].clone());
        let mut list = vec![];
        let mut build_shape = Value::Null;
        if let Some(t) = &input {
            list.push(t.layer().serialize()?);
            build_shape = shape_value(&t.shape().0);
        }
        for l in self.layers() {
            list.push(l.serialize()?);
        }
        let dtype = self.args().dtype.unwrap_or(DType::F32);
        let mut config = base_config(&handle.name(), handle.trainable(), dtype);
        config.insert("layers".into(), Value::Array(list));
        config.insert("build_input_shape".into(), build_shape.clone());
        let mut v = object("keras", "Sequential", Value::Object(config));
        v["build_config"] = json!({ "input_shape": build_shape });
        Ok(v)
    }
}

impl Sequential {
    /// A `Sequential` from its Keras config: its layers in order (an `InputLayer` entry, or
    /// `build_input_shape`, gives the input).
    pub(crate) fn from_config(c: &Cfg) -> Result<Model> {
        let entries = match c.get("layers") {
            Some(Value::Array(a)) => a.as_slice(),
            None => &[],
            Some(_) => return Err(c.bad("layers", "a list of layers")),
        };
        let mut input = None;
        let mut layers = vec![];
        for e in entries {
            let class = e.get("class_name").and_then(Value::as_str);
            let config = e.get("config").and_then(Value::as_object);
            match (class, config) {
                (Some("InputLayer"), Some(cfg)) => {
                    input = Some(InputLayer::tensor_from_config(&Cfg::new(
                        "InputLayer",
                        cfg,
                    ))?);
                }
                (Some(_), Some(_)) => layers.push(deserialize_object::<LayerRef>(e)?),
                _ => {
                    return Err(Error::value(format!(
                        "Sequential: a layer entry needs a class_name and a config; received {e}"
                    )))
                }
            }
        }
        if input.is_none() {
            if let Some(Value::Array(_)) = c.get("build_input_shape") {
                let s = c.shape("build_input_shape")?;
                input = Some(Input::new(s.get(1..).unwrap_or(&[]).to_vec()));
            }
        }
        let all = input.map(|t| t.layer().clone()).into_iter().chain(layers);
        let model = Sequential::from_layers(all)?.into_model();
        let model = model.name(c.str_or("name", "model")?);
        apply_trainable(&model, c)?;
        Ok(model)
    }
}
