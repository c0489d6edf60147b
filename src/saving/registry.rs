//! Layers by Keras class name: `from_config` for the built-in layers, and a registry where
//! programs add their own classes (Keras's `register_keras_serializable`).

use super::config::{parse_dtype, Cfg, Config, Value};
use crate::engine::{LayerExt, LayerRef};
use crate::layers::*;
use crate::{Error, Result};
use std::collections::HashMap;
use std::sync::RwLock;

/// Makes a layer from its Keras `config` (base keys included).
pub type FromConfig = fn(&Config) -> Result<LayerRef>;

impl super::object_registration::Registrable for LayerRef {
    const KIND: &'static str = "layer";
    fn register_builtins(_r: &mut super::object_registration::Builtins<Self>) {}
}

/// Makes a subclassed model from the config its `Subclass::get_config` gave.
pub type ModelFromConfig = fn(&Config) -> Result<crate::models::Model>;

static MODELS: RwLock<Option<HashMap<String, ModelFromConfig>>> = RwLock::new(None);

/// Registers a subclassed model class, so `load_model` / `model_from_json` can rebuild it
/// from the config its [`crate::models::Subclass::get_config`] wrote; `name` is its
/// `class_name`.
pub fn register_model(name: &str, f: ModelFromConfig) {
    let mut g = MODELS.write().unwrap_or_else(|e| e.into_inner());
    g.get_or_insert_with(HashMap::new)
        .insert(name.to_string(), f);
}

/// The registered constructor of model class `name`.
pub(crate) fn model_constructor(name: &str) -> Option<ModelFromConfig> {
    MODELS
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .and_then(|m| m.get(name).copied())
}

/// Registers a layer class so models that use it can be loaded from a config or a `.keras`
/// file; `name` is the `class_name` (or `registered_name`) the file holds.
///
/// ```
/// use keras::prelude::*;
/// use keras::saving::registry::register_layer;
/// register_layer("MyDense", |cfg| {
///     let units = cfg.get("units").and_then(|v| v.as_u64()).unwrap_or(1) as usize;
///     Ok(Dense::new(units).into_layer())
/// });
/// ```
pub fn register_layer(name: &str, f: FromConfig) {
    super::object_registration::register::<LayerRef>(name, move |c| f(c.map));
}

/// Applies the base keys (`name`, `trainable`, `dtype`) and wraps the layer.
pub(crate) fn finish<L: LayerExt>(mut l: L, c: &Cfg) -> Result<LayerRef> {
    if let Some(name) = c.get("name").and_then(|v| v.as_str()) {
        l = l.name(name);
    }
    if let Some(d) = parse_dtype(c.get("dtype"))? {
        l = l.dtype(d);
    }
    let trainable = c.bool_or("trainable", true)?;
    let r = l.into_layer();
    // A regularizer or constraint we would silently drop changes training: refuse it.
    let ours = r.with_dyn(|x| x.get_config())?;
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
    if !trainable {
        r.set_trainable(false);
    }
    Ok(r)
}

pub(crate) fn rnn<R: Recurrent>(mut l: R, c: &Cfg) -> Result<R> {
    let o = l.rnn_options_mut();
    o.return_sequences = c.bool_or("return_sequences", false)?;
    o.return_state = c.bool_or("return_state", false)?;
    o.go_backwards = c.bool_or("go_backwards", false)?;
    o.dropout = c.f64_or("dropout", 0.0)?;
    o.recurrent_dropout = c.f64_or("recurrent_dropout", 0.0)?;
    o.zero_output_for_mask = c.bool_or("zero_output_for_mask", false)?;
    if c.bool_or("stateful", false)? || c.bool_or("unroll", false)? {
        return Err(Error::value(format!(
            "{}: stateful and unrolled recurrent layers are not supported",
            c.class
        )));
    }
    Ok(l)
}

/// An `LSTM` from its config (also the layer inside a `Bidirectional`).
pub(crate) fn lstm(c: &Cfg) -> Result<LSTM> {
    rnn(
        LSTM::new(c.usize("units")?)
            .kernel_initializer(c.initializer("kernel_initializer", "glorot_uniform")?)
            .recurrent_initializer(c.initializer("recurrent_initializer", "orthogonal")?)
            .activation(c.activation("activation", "tanh")?)
            .recurrent_activation(c.activation("recurrent_activation", "sigmoid")?)
            .use_bias(c.bool_or("use_bias", true)?)
            .unit_forget_bias(c.bool_or("unit_forget_bias", true)?),
        c,
    )
}

/// A `GRU` from its config.
pub(crate) fn gru(c: &Cfg) -> Result<GRU> {
    rnn(
        GRU::new(c.usize("units")?)
            .kernel_initializer(c.initializer("kernel_initializer", "glorot_uniform")?)
            .recurrent_initializer(c.initializer("recurrent_initializer", "orthogonal")?)
            .activation(c.activation("activation", "tanh")?)
            .recurrent_activation(c.activation("recurrent_activation", "sigmoid")?)
            .use_bias(c.bool_or("use_bias", true)?)
            .reset_after(c.bool_or("reset_after", true)?),
        c,
    )
}

/// A `SimpleRNN` from its config.
pub(crate) fn simple_rnn(c: &Cfg) -> Result<SimpleRNN> {
    rnn(
        SimpleRNN::new(c.usize("units")?)
            .kernel_initializer(c.initializer("kernel_initializer", "glorot_uniform")?)
            .recurrent_initializer(c.initializer("recurrent_initializer", "orthogonal")?)
            .activation(c.activation("activation", "tanh")?)
            .use_bias(c.bool_or("use_bias", true)?),
        c,
    )
}

/// The layer a Keras config describes (`class_name` and its `config`).
pub fn layer_from_config(class_name: &str, config: &Config) -> Result<LayerRef> {
    if let Some(f) = super::object_registration::get_registered::<LayerRef>(class_name) {
        return f(&Cfg::new(class_name, config));
    }
    let c = Cfg::new(class_name, config);
    // (ZeroPadding layers have a `padding` of numbers, read below.)
    let padding = if class_name.starts_with("ZeroPadding") {
        "valid"
    } else {
        c.str_or("padding", "valid")?
    };
    if c.bool_or("renorm", false)? {
        return Err(Error::value(format!(
            "{class_name}: renorm=True is not supported"
        )));
    }
    if let Some(f) = c.get("data_format").and_then(|v| v.as_str()) {
        if f != "channels_last" {
            return Err(Error::value(format!(
                "{class_name}: only data_format=\"channels_last\" is supported; received {f}"
            )));
        }
    }
    match class_name {
        "Dense" => {
            let mut l = Dense::new(c.usize("units")?)
                .activation(c.activation("activation", "linear")?)
                .use_bias(c.bool_or("use_bias", true)?)
                .kernel_initializer(c.initializer("kernel_initializer", "glorot_uniform")?)
                .bias_initializer(c.initializer("bias_initializer", "zeros")?);
            if let Some(r) = c.regularizer("kernel_regularizer")? {
                l = l.kernel_regularizer(r);
            }
            if let Some(r) = c.regularizer("bias_regularizer")? {
                l = l.bias_regularizer(r);
            }
            finish(l, &c)
        }
        "Embedding" => finish(
            Embedding::new(c.usize("input_dim")?, c.usize("output_dim")?)
                .mask_zero(c.bool_or("mask_zero", false)?),
            &c,
        ),
        "Dropout" => finish(Dropout::new(c.f64_or("rate", 0.0)?), &c),
        "Flatten" => finish(Flatten::new(), &c),
        "Reshape" => {
            let t: Vec<i64> = c
                .get("target_shape")
                .and_then(|v| v.as_array())
                .map(|a| a.iter().filter_map(|v| v.as_i64()).collect())
                .ok_or_else(|| Error::value("Reshape: config needs target_shape"))?;
            finish(Reshape::new(&t), &c)
        }
        "Activation" => match c.get("activation") {
            Some(_) => finish(Activation::new(c.activation("activation", "linear")?), &c),
            None => Err(Error::value("Activation: config needs an `activation`")),
        },
        "Add" => finish(Add::new(), &c),
        "Subtract" => finish(Subtract::new(), &c),
        "Multiply" => finish(Multiply::new(), &c),
        "Average" => finish(Average::new(), &c),
        "Maximum" => finish(Maximum::new(), &c),
        "Minimum" => finish(Minimum::new(), &c),
        "Concatenate" => finish(Concatenate::new(c.isize_or("axis", -1)?), &c),
        "BatchNormalization" => finish(
            BatchNormalization::new()
                .axis(c.isize_or("axis", -1)?)
                .momentum(c.f64_or("momentum", 0.99)?)
                .epsilon(c.f64_or("epsilon", 1e-3)?)
                .center(c.bool_or("center", true)?)
                .scale(c.bool_or("scale", true)?),
            &c,
        ),
        "LayerNormalization" => {
            let axes: Vec<isize> = match c.get("axis") {
                None => vec![-1],
                Some(v) if v.is_array() => v
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|a| a.as_i64().map(|a| a as isize))
                    .collect(),
                Some(v) => vec![v.as_i64().unwrap_or(-1) as isize],
            };
            finish(
                LayerNormalization::new()
                    .axes(&axes)
                    .epsilon(c.f64_or("epsilon", 1e-3)?)
                    .center(c.bool_or("center", true)?)
                    .scale(c.bool_or("scale", true)?),
                &c,
            )
        }
        "Conv2D" | "Conv1D" => {
            let one = class_name == "Conv1D";
            let k = c.pair("kernel_size", (1, 1))?;
            let s = c.pair("strides", (1, 1))?;
            let d = c.pair("dilation_rate", (1, 1))?;
            let l = if one {
                Conv1D::new(c.usize("filters")?, k.0)
                    .strides(s.0)
                    .dilation_rate(d.0)
            } else {
                Conv2D::new(c.usize("filters")?, k)
                    .strides(s)
                    .dilation_rate(d)
            };
            let mut l = l
                .padding(padding)
                .groups(c.usize_or("groups", 1)?)
                .activation(c.activation("activation", "linear")?)
                .use_bias(c.bool_or("use_bias", true)?)
                .kernel_initializer(c.initializer("kernel_initializer", "glorot_uniform")?)
                .bias_initializer(c.initializer("bias_initializer", "zeros")?);
            if let Some(r) = c.regularizer("kernel_regularizer")? {
                l = l.kernel_regularizer(r);
            }
            if let Some(r) = c.regularizer("bias_regularizer")? {
                l = l.bias_regularizer(r);
            }
            finish(l, &c)
        }
        "MaxPooling2D" | "AveragePooling2D" | "MaxPool2D" | "AveragePool2D" => {
            let p = c.pair("pool_size", (2, 2))?;
            let l = if class_name.starts_with("Max") {
                MaxPooling2D::new(p)
            } else {
                AveragePooling2D::new(p)
            };
            let l = match c.get("strides") {
                Some(_) => l.strides(c.pair("strides", p)?),
                None => l,
            };
            finish(l.padding(padding), &c)
        }
        "MaxPooling1D" | "AveragePooling1D" | "MaxPool1D" | "AveragePool1D" => {
            let p = c.one("pool_size", 2)?;
            let l = if class_name.starts_with("Max") {
                MaxPooling1D::new(p)
            } else {
                AveragePooling1D::new(p)
            };
            let l = match c.get("strides") {
                Some(_) => l.strides(c.one("strides", p)?),
                None => l,
            };
            finish(l.padding(padding), &c)
        }
        "GlobalMaxPooling2D" | "GlobalMaxPool2D" => finish(
            GlobalMaxPooling2D::new().keepdims(c.bool_or("keepdims", false)?),
            &c,
        ),
        "GlobalAveragePooling2D" | "GlobalAvgPool2D" => finish(
            GlobalAveragePooling2D::new().keepdims(c.bool_or("keepdims", false)?),
            &c,
        ),
        "GlobalMaxPooling1D" | "GlobalMaxPool1D" => finish(
            GlobalMaxPooling1D::new().keepdims(c.bool_or("keepdims", false)?),
            &c,
        ),
        "GlobalAveragePooling1D" | "GlobalAvgPool1D" => finish(
            GlobalAveragePooling1D::new().keepdims(c.bool_or("keepdims", false)?),
            &c,
        ),
        "LSTM" => finish(lstm(&c)?, &c),
        "GRU" => finish(gru(&c)?, &c),
        "SimpleRNN" => finish(simple_rnn(&c)?, &c),
        other => {
            if let Some(r) = super::registry_more::layer_from_config(other, &c) {
                return r;
            }
            if let Some(r) = super::registry_preprocessing::layer_from_config(other, &c) {
                return r;
            }
            if let Some(r) = super::registry_text::layer_from_config(other, &c) {
                return r;
            }
            Err(super::object_registration::unknown_class::<LayerRef>(other))
        }
    }
}
