//! `from_config` for the numeric and image preprocessing layers (`Rescaling`,
//! `Normalization`, `Resizing`, `CenterCrop`, the random image layers, `CategoryEncoding`,
//! `Hashing`, `Discretization`), reading the configs Keras 3 writes.

use super::config::{Cfg, Value};
use super::registry::finish;
use crate::engine::LayerRef;
use crate::layers::preprocessing::NormStat;
use crate::layers::preprocessing::*;
use crate::{Error, Result};

/// The `fill_mode`, `interpolation` and `fill_value` of an affine image layer's config
/// (Keras's defaults when absent), applied to the layer `$l`.
macro_rules! affine_args {
    ($l:expr, $c:expr) => {
        $l.fill_mode($c.str_or("fill_mode", "reflect")?)
            .interpolation($c.str_or("interpolation", "bilinear")?)
            .fill_value($c.f64_or("fill_value", 0.0)?)
    };
}

/// The layer for `class`, or `None` when this file does not know the class.
pub(crate) fn layer_from_config(class: &str, c: &Cfg) -> Option<Result<LayerRef>> {
    Some(match class {
        "Rescaling" => rescaling(c),
        "Normalization" => normalization(c),
        "Resizing" => resizing(c),
        "CenterCrop" => (|| finish(CenterCrop::new(c.usize("height")?, c.usize("width")?), c))(),
        "RandomFlip" => (|| {
            let l = RandomFlip::new(c.str_or("mode", "horizontal_and_vertical")?);
            finish_seeded(l, RandomFlip::seed, c)
        })(),
        "RandomRotation" => (|| {
            let l = affine_args!(RandomRotation::new(factor(c, "factor")?), c);
            finish_seeded(l, RandomRotation::seed, c)
        })(),
        "RandomZoom" => (|| {
            let mut l = affine_args!(RandomZoom::new(factor(c, "height_factor")?), c);
            if c.get("width_factor").is_some() {
                l = l.width_factor(factor(c, "width_factor")?);
            }
            finish_seeded(l, RandomZoom::seed, c)
        })(),
        "RandomTranslation" => (|| {
            let l = RandomTranslation::new(factor(c, "height_factor")?, factor(c, "width_factor")?);
            finish_seeded(affine_args!(l, c), RandomTranslation::seed, c)
        })(),
        "RandomCrop" => (|| {
            let l = RandomCrop::new(c.usize("height")?, c.usize("width")?);
            finish_seeded(l, RandomCrop::seed, c)
        })(),
        "RandomContrast" => (|| {
            let mut l = RandomContrast::new(factor(c, "factor")?);
            if c.get("value_range").is_some() {
                let (lo, hi) = match factor(c, "value_range")? {
                    Factor::Range(a, b) => (a, b),
                    Factor::Symmetric(_) => {
                        return Err(Error::value(format!(
                            "RandomContrast: `value_range` should be two numbers; received {}",
                            c.map["value_range"]
                        )))
                    }
                };
                l = l.value_range(lo, hi);
            }
            finish_seeded(l, RandomContrast::seed, c)
        })(),
        "CategoryEncoding" => (|| {
            no_sparse(c)?;
            let l = CategoryEncoding::new(c.usize("num_tokens")?)
                .output_mode(c.str_or("output_mode", "multi_hot")?);
            finish(l, c)
        })(),
        "Hashing" => hashing(c),
        "Discretization" => discretization(c),
        _ => return None,
    })
}

/// `layer`, given the config's `seed` (through its `seed` builder) when there is one.
fn finish_seeded<L: crate::engine::LayerExt>(
    layer: L,
    with_seed: fn(L, u64) -> L,
    c: &Cfg,
) -> Result<LayerRef> {
    let layer = match seed(c)? {
        Some(s) => with_seed(layer, s),
        None => layer,
    };
    finish(layer, c)
}

fn seed(c: &Cfg) -> Result<Option<u64>> {
    match c.get("seed") {
        None => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| {
            Error::value(format!(
                "{}: `seed` should be a non-negative integer; received {v}",
                c.class
            ))
        }),
    }
}

fn factor(c: &Cfg, key: &str) -> Result<Factor> {
    match c.get(key) {
        Some(v) => Factor::from_json(v, c.class, key),
        None => Err(Error::value(format!("{}: config needs `{key}`", c.class))),
    }
}

fn no_sparse(c: &Cfg) -> Result<()> {
    if c.bool_or("sparse", false)? {
        return Err(Error::value(format!(
            "{}: sparse=True is not supported by keras-rs",
            c.class
        )));
    }
    Ok(())
}

fn rescaling(c: &Cfg) -> Result<LayerRef> {
    let scale = match c.get("scale") {
        Some(v) => Rescaling::values(v, "scale")?,
        None => return Err(Error::value("Rescaling: config needs `scale`")),
    };
    let offset = match c.get("offset") {
        Some(v) => Rescaling::values(v, "offset")?,
        None => (vec![0.0], true),
    };
    finish(Rescaling::from_values(scale, offset), c)
}

fn normalization(c: &Cfg) -> Result<LayerRef> {
    let axes: Vec<isize> = match c.map.get("axis") {
        None => vec![-1],
        Some(Value::Null) => vec![],
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_i64().map(|v| v as isize))
            .collect::<Option<_>>()
            .ok_or_else(|| Error::value(format!("Normalization: bad `axis` {}", c.map["axis"])))?,
        Some(v) => vec![v
            .as_i64()
            .ok_or_else(|| Error::value(format!("Normalization: bad `axis` {v}")))?
            as isize],
    };
    let given = match (c.get("mean"), c.get("variance")) {
        (None, None) => None,
        (Some(m), Some(v)) => Some((
            normalization_stat(m, "mean")?,
            normalization_stat(v, "variance")?,
        )),
        _ => {
            return Err(Error::value(
                "When setting values directly, both `mean` and `variance` must be set.",
            ))
        }
    };
    let l = Normalization::new()
        .axes(&axes)
        .invert(c.bool_or("invert", false)?);
    finish(l.given(given), c)
}

fn normalization_stat(v: &Value, key: &str) -> Result<NormStat> {
    NormStat::from_json(v, key)
}

fn resizing(c: &Cfg) -> Result<LayerRef> {
    let l = Resizing::new(c.usize("height")?, c.usize("width")?)
        .interpolation(c.str_or("interpolation", "bilinear")?)
        .crop_to_aspect_ratio(c.bool_or("crop_to_aspect_ratio", false)?)
        .pad_to_aspect_ratio(c.bool_or("pad_to_aspect_ratio", false)?)
        .fill_mode(c.str_or("fill_mode", "constant")?)
        .fill_value(c.f64_or("fill_value", 0.0)?)
        .antialias(c.bool_or("antialias", false)?);
    finish(l, c)
}

fn hashing(c: &Cfg) -> Result<LayerRef> {
    no_sparse(c)?;
    let mut l = Hashing::new(c.usize("num_bins")?).output_mode(c.str_or("output_mode", "int")?);
    match c.get("salt") {
        None => {}
        Some(Value::Array(a)) if a.len() == 2 => {
            let k: Option<Vec<u64>> = a.iter().map(Value::as_u64).collect();
            match k.as_deref() {
                Some([a, b]) => l = l.salt([*a, *b]),
                _ => return Err(bad_salt(c)),
            }
        }
        Some(v) => match v.as_u64() {
            Some(s) => l = l.salt([s, s]),
            None => return Err(bad_salt(c)),
        },
    }
    let mask = match c.get("mask_value") {
        None => None,
        Some(Value::String(s)) => Some(MaskValue::Text(s.clone())),
        Some(v) => Some(MaskValue::Number(v.as_f64().ok_or_else(|| {
            Error::value(format!("Hashing: bad `mask_value` {v}"))
        })?)),
    };
    finish(l.set_mask_value(mask), c)
}

fn bad_salt(c: &Cfg) -> Error {
    Error::value(format!(
        "The `salt` argument for `Hashing` can only be a tuple of size 2 integers, or a single \
         integer. Received: salt={}.",
        c.map["salt"]
    ))
}

fn discretization(c: &Cfg) -> Result<LayerRef> {
    no_sparse(c)?;
    let bounds = match c.get("bin_boundaries") {
        None => None,
        Some(Value::Array(a)) => Some(
            a.iter()
                .map(Value::as_f64)
                .collect::<Option<Vec<f64>>>()
                .ok_or_else(|| {
                    Error::value("Discretization: `bin_boundaries` should be numbers")
                })?,
        ),
        Some(v) => {
            return Err(Error::value(format!(
                "Discretization: `bin_boundaries` should be a list of numbers; received {v}"
            )))
        }
    };
    let num_bins = match c.get("num_bins") {
        None => None,
        Some(_) => Some(c.usize("num_bins")?),
    };
    let l = Discretization::from_parts(bounds, num_bins)
        .epsilon(c.f64_or("epsilon", 0.01)?)
        .output_mode(c.str_or("output_mode", "int")?);
    finish(l, c)
}
