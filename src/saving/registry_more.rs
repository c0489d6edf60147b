//! `from_config` for the layers beyond the core set: transposed and separable convolutions,
//! reshaping, regularization, activation and attention layers, and the `Bidirectional` /
//! `TimeDistributed` wrappers (whose inner layer is itself a serialized layer).

use super::config::{Cfg, Value};
use super::registry::{finish, gru, lstm, simple_rnn};
use crate::engine::LayerRef;
use crate::layers::convolutional::Size2;
use crate::layers::reshaping::Sides;
use crate::layers::*;
use crate::{Error, Result};

/// The layer for `class`, or `None` when this file does not know the class.
pub(crate) fn layer_from_config(class: &str, c: &Cfg) -> Option<Result<LayerRef>> {
    Some(match class {
        "Conv2DTranspose" | "Conv1DTranspose" => conv_transpose(class, c),
        "SeparableConv2D" | "DepthwiseConv2D" => separable(class, c),
        "Masking" => finish(Masking::new().mask_value(f(c, "mask_value", 0.0)), c),
        "Dot" => dot(c),
        "GroupNormalization" => (|| {
            let l = GroupNormalization::new()
                .groups(c.isize_or("groups", 32)?)
                .axis(c.isize_or("axis", -1)?)
                .epsilon(c.f64_or("epsilon", 1e-3)?)
                .center(c.bool_or("center", true)?)
                .scale(c.bool_or("scale", true)?);
            finish(l, c)
        })(),
        "ActivityRegularization" => finish(
            ActivityRegularization::new(f(c, "l1", 0.0), f(c, "l2", 0.0)),
            c,
        ),
        "GaussianNoise" => finish(GaussianNoise::new(f(c, "stddev", 0.0)), c),
        "GaussianDropout" => finish(GaussianDropout::new(f(c, "rate", 0.0)), c),
        "SpatialDropout1D" => finish(SpatialDropout1D::new(f(c, "rate", 0.0)), c),
        "SpatialDropout2D" => finish(SpatialDropout2D::new(f(c, "rate", 0.0)), c),
        "Permute" => c.usizes("dims").and_then(|d| finish(Permute::new(&d), c)),
        "RepeatVector" => c.usize("n").and_then(|n| finish(RepeatVector::new(n), c)),
        "UpSampling1D" => c
            .one("size", 2)
            .and_then(|s| finish(UpSampling1D::new(s), c)),
        "UpSampling2D" => (|| {
            let l = UpSampling2D::new(c.pair("size", (2, 2))?)
                .interpolation(c.str_or("interpolation", "nearest")?);
            finish(l, c)
        })(),
        "ZeroPadding1D" => {
            sides1(c, "padding", 1).and_then(|(a, b)| finish(ZeroPadding1D::new(a, b), c))
        }
        "Cropping1D" => {
            sides1(c, "cropping", 0).and_then(|(a, b)| finish(Cropping1D::new(a, b), c))
        }
        "ZeroPadding2D" => sides2(c, "padding", 1).and_then(|s| finish(ZeroPadding2D::new(s), c)),
        "Cropping2D" => sides2(c, "cropping", 0).and_then(|s| finish(Cropping2D::new(s), c)),
        "ReLU" => (|| {
            let mut l = ReLU::new()
                .negative_slope(c.f64_or("negative_slope", 0.0)?)
                .threshold(c.f64_or("threshold", 0.0)?);
            if let Some(m) = c.opt_f64("max_value")? {
                l = l.max_value(m);
            }
            finish(l, c)
        })(),
        "LeakyReLU" => finish(
            LeakyReLU::new().negative_slope(f(c, "negative_slope", 0.3)),
            c,
        ),
        "ELU" => finish(ELU::new().alpha(f(c, "alpha", 1.0)), c),
        "Softmax" => c
            .isize_or("axis", -1)
            .and_then(|a| finish(Softmax::new().axis(a), c)),
        "PReLU" => (|| {
            let axes = match c.get("shared_axes") {
                None => vec![],
                Some(Value::Array(_)) => c.usizes("shared_axes")?,
                Some(_) => vec![c.one("shared_axes", 1)?],
            };
            finish(PReLU::new().shared_axes(&axes), c)
        })(),
        "Attention" => (|| {
            let l = Attention::new()
                .use_scale(c.bool_or("use_scale", false)?)
                .score_mode(c.str_or("score_mode", "dot")?)
                .dropout(c.f64_or("dropout", 0.0)?);
            finish(l, c)
        })(),
        "MultiHeadAttention" => multi_head_attention(c),
        "TimeDistributed" => (|| {
            let inner = c
                .get("layer")
                .ok_or_else(|| Error::value("TimeDistributed: config needs a `layer`"))?;
            let inner = super::model_config::deserialize_layer(inner)?;
            finish(TimeDistributed::new(inner), c)
        })(),
        "Bidirectional" => bidirectional(c),
        _ => return None,
    })
}

/// A number with a default (a wrong type falls back to the default only when absent).
fn f(c: &Cfg, key: &str, default: f64) -> f64 {
    c.f64_or(key, default).unwrap_or(default)
}

fn conv_transpose(class: &str, c: &Cfg) -> Result<LayerRef> {
    if let Some(op) = c.get("output_padding") {
        return Err(Error::value(format!(
            "{class}: output_padding is not supported yet; received {op}"
        )));
    }
    if c.pair("dilation_rate", (1, 1))? != (1, 1) {
        return Err(Error::value(format!(
            "{class}: dilation_rate other than 1 is not supported"
        )));
    }
    let filters = c.usize("filters")?;
    let l = if class == "Conv1DTranspose" {
        Conv1DTranspose::new(filters, c.one("kernel_size", 1)?)
            .strides(Size2(1, c.one("strides", 1)?))
    } else {
        Conv2DTranspose::new(filters, c.pair("kernel_size", (1, 1))?)
            .strides(c.pair("strides", (1, 1))?)
    };
    let l = l
        .padding(c.str_or("padding", "valid")?)
        .activation(c.activation("activation", "linear")?)
        .use_bias(c.bool_or("use_bias", true)?)
        .kernel_initializer(c.initializer("kernel_initializer", "glorot_uniform")?);
    finish(l, c)
}

fn separable(class: &str, c: &Cfg) -> Result<LayerRef> {
    let k = c.pair("kernel_size", (1, 1))?;
    let (s, d) = (c.pair("strides", (1, 1))?, c.pair("dilation_rate", (1, 1))?);
    let (padding, dm) = (
        c.str_or("padding", "valid")?,
        c.usize_or("depth_multiplier", 1)?,
    );
    let (act, bias) = (
        c.activation("activation", "linear")?,
        c.bool_or("use_bias", true)?,
    );
    if class == "DepthwiseConv2D" {
        let l = DepthwiseConv2D::new(k)
            .strides(s)
            .dilation_rate(d)
            .padding(padding);
        finish(l.depth_multiplier(dm).activation(act).use_bias(bias), c)
    } else {
        let l = SeparableConv2D::new(c.usize("filters")?, k)
            .strides(s)
            .dilation_rate(d);
        finish(
            l.padding(padding)
                .depth_multiplier(dm)
                .activation(act)
                .use_bias(bias),
            c,
        )
    }
}

fn dot(c: &Cfg) -> Result<LayerRef> {
    let l = match c.get("axes") {
        Some(Value::Array(a)) if a.len() == 2 => {
            let ax = |v: &Value| v.as_i64().map(|x| x as isize);
            match (ax(&a[0]), ax(&a[1])) {
                (Some(x), Some(y)) => Dot::with_axes(x, y),
                _ => return Err(Error::value(format!("Dot: invalid axes {a:?}"))),
            }
        }
        _ => Dot::new(c.isize_or("axes", -1)?),
    };
    finish(l.normalize(c.bool_or("normalize", false)?), c)
}

/// A 1D padding / cropping: one number for both sides or a pair.
fn sides1(c: &Cfg, key: &str, default: usize) -> Result<(usize, usize)> {
    match c.get(key) {
        None => Ok((default, default)),
        Some(Value::Array(_)) => c.pair(key, (default, default)),
        Some(_) => c.usize(key).map(|n| (n, n)),
    }
}

/// A 2D padding / cropping: a number, a pair (symmetric per axis), or a pair of pairs.
fn sides2(c: &Cfg, key: &str, default: usize) -> Result<Sides> {
    let bad = || Error::value(format!("{}: invalid {key} {:?}", c.class, c.get(key)));
    let num = |v: &Value| v.as_u64().map(|n| n as usize).ok_or_else(bad);
    match c.get(key) {
        None => Ok(Sides::from(default)),
        Some(Value::Array(a)) if a.len() == 2 => match (&a[0], &a[1]) {
            (Value::Array(h), Value::Array(w)) if h.len() == 2 && w.len() == 2 => Ok(Sides([
                (num(&h[0])?, num(&h[1])?),
                (num(&w[0])?, num(&w[1])?),
            ])),
            (h, w) => {
                let (h, w) = (num(h)?, num(w)?);
                Ok(Sides([(h, h), (w, w)]))
            }
        },
        Some(v) => num(v).map(Sides::from),
    }
}

fn multi_head_attention(c: &Cfg) -> Result<LayerRef> {
    // Keras fills in `attention_axes` = [1] (the sequence axis) once built; that is ours.
    let default_axes = c
        .get("attention_axes")
        .is_none_or(|v| *v == serde_json::json!([1]));
    for key in ["attention_axes", "sliding_window"] {
        if key == "attention_axes" && default_axes {
            continue;
        }
        if let Some(v) = c.get(key) {
            return Err(Error::value(format!(
                "MultiHeadAttention: {key} is not supported yet; received {v}"
            )));
        }
    }
    if c.bool_or("use_gate", false)? {
        return Err(Error::value(
            "MultiHeadAttention: use_gate is not supported yet",
        ));
    }
    let key_dim = c.usize("key_dim")?;
    let mut l = MultiHeadAttention::new(c.usize("num_heads")?, key_dim)
        .value_dim(c.usize_or("value_dim", key_dim)?)
        .dropout(c.f64_or("dropout", 0.0)?)
        .use_bias(c.bool_or("use_bias", true)?)
        .kernel_initializer(c.initializer("kernel_initializer", "glorot_uniform")?)
        .bias_initializer(c.initializer("bias_initializer", "zeros")?);
    if let Some(Value::Number(n)) = c.get("output_shape") {
        l = l.output_shape(n.as_u64().unwrap_or(0) as usize);
    } else if let Some(Value::Array(a)) = c.get("output_shape") {
        match a.as_slice() {
            [n] if n.is_u64() => l = l.output_shape(n.as_u64().unwrap_or(0) as usize),
            _ => {
                return Err(Error::value(format!(
                    "MultiHeadAttention: output_shape {a:?} is not supported"
                )))
            }
        }
    }
    finish(l, c)
}

fn bidirectional(c: &Cfg) -> Result<LayerRef> {
    let inner = |key: &str| -> Result<Option<(String, super::config::Config)>> {
        let Some(v) = c.get(key) else { return Ok(None) };
        let class = v.get("class_name").and_then(Value::as_str).unwrap_or("");
        let config = v
            .get("config")
            .and_then(Value::as_object)
            .cloned()
            .ok_or_else(|| Error::value(format!("Bidirectional: `{key}` needs a config")))?;
        Ok(Some((class.to_string(), config)))
    };
    let (class, fwd) =
        inner("layer")?.ok_or_else(|| Error::value("Bidirectional: config needs a `layer`"))?;
    let bwd = inner("backward_layer")?;
    // Absent: Keras's default "concat"; null: the two directions returned apart.
    let merge = match c.map.get("merge_mode") {
        None => Some("concat"),
        Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(v) => return Err(Error::value(format!("Bidirectional: bad merge_mode {v}"))),
    };
    macro_rules! wrap {
        ($make:ident) => {{
            let f = named($make(&Cfg::new(&class, &fwd))?, &fwd);
            let l = match &bwd {
                Some((bclass, b)) if *bclass == class => {
                    Bidirectional::with_backward(f, named($make(&Cfg::new(bclass, b))?, b))?
                }
                Some((bclass, _)) => {
                    return Err(Error::value(format!(
                        "Bidirectional: a {class} forward layer with a {bclass} backward layer is not supported"
                    )))
                }
                None => Bidirectional::new(f),
            };
            finish(l.merge_mode(merge), c)
        }};
    }
    match class.as_str() {
        "LSTM" => wrap!(lstm),
        "GRU" => wrap!(gru),
        "SimpleRNN" => wrap!(simple_rnn),
        other => Err(Error::value(format!(
            "Bidirectional: cannot wrap a {other} layer; LSTM, GRU and SimpleRNN can be loaded"
        ))),
    }
}

/// Gives a layer the `name` of its config.
fn named<L: crate::engine::LayerExt>(l: L, config: &super::config::Config) -> L {
    match config.get("name").and_then(Value::as_str) {
        Some(n) => l.name(n),
        None => l,
    }
}
