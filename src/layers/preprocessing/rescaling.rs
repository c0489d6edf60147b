//! `Rescaling` (`keras/src/layers/preprocessing/rescaling.py`).

use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, Layer, LayerArgs, LayerRef, Shape};
use crate::ops::{self, DType, Tensor};
use crate::serialization::{config, json, Cfg, Config, Value};
use crate::{Error, Result};

/// Multiplies its inputs by `scale` and adds `offset`, in training and at inference; the
/// output is float32 whatever the input dtype. `scale` and `offset` are numbers, or one
/// value per channel (the last axis) with [`Rescaling::per_channel`].
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::preprocessing::Rescaling;
/// let l = Rescaling::new(1.0 / 127.5, -1.0).into_layer();
/// let y = l.apply(&Tensor::new(&[0u8, 255], &Device::Cpu)?)?;
/// assert_eq!(y.to_vec1::<f32>()?, vec![-1.0, 1.0]);
/// # Ok::<(), keras::Error>(())
/// ```
pub struct Rescaling {
    args: LayerArgs,
    scale: Vec<f64>,
    offset: Vec<f64>,
    scalar: (bool, bool),
}

impl Rescaling {
    /// `x * scale + offset`.
    pub fn new(scale: f64, offset: f64) -> Self {
        Rescaling {
            args: LayerArgs::default(),
            scale: vec![scale],
            offset: vec![offset],
            scalar: (true, true),
        }
    }
    /// One scale and offset per channel (a list of one value is broadcast like a number).
    pub fn per_channel(scale: &[f64], offset: &[f64]) -> Self {
        Rescaling {
            args: LayerArgs::default(),
            scale: scale.to_vec(),
            offset: offset.to_vec(),
            scalar: (false, false),
        }
    }

    /// Reads `scale` or `offset` from a config: a number, a list, or Keras's serialized NumPy
    /// array (`{"class_name": "__numpy__", "config": {"value": ...}}`).
    pub(crate) fn values(v: &Value, key: &str) -> Result<(Vec<f64>, bool)> {
        let bad = || {
            Error::value(format!(
                "Rescaling: `{key}` should be a number or a list of numbers; received {v}"
            ))
        };
        match v {
            Value::Number(n) => Ok((vec![n.as_f64().ok_or_else(bad)?], true)),
            Value::Array(a) => Ok((
                a.iter()
                    .map(|x| x.as_f64().ok_or_else(bad))
                    .collect::<Result<_>>()?,
                false,
            )),
            Value::Object(o) => match o.get("config").and_then(|c| c.get("value")) {
                Some(inner) => Self::values(inner, key),
                None => Err(bad()),
            },
            _ => Err(bad()),
        }
    }

    /// Builds from config values (see [`Rescaling::values`]).
    pub(crate) fn from_values(scale: (Vec<f64>, bool), offset: (Vec<f64>, bool)) -> Self {
        Rescaling {
            args: LayerArgs::default(),
            scale: scale.0,
            offset: offset.0,
            scalar: (scale.1, offset.1),
        }
    }

    fn value_json(v: &[f64], scalar: bool) -> Value {
        if scalar {
            json!(v[0])
        } else {
            json!(v)
        }
    }

    fn factor(v: &[f64], x: &Tensor, what: &str) -> Result<Tensor> {
        let c = *x.dims().last().unwrap_or(&1);
        if v.len() != 1 && v.len() != c {
            return Err(Error::shape(format!(
                "Rescaling: {} {what} values for inputs with {c} channels (shape {:?})",
                v.len(),
                x.dims()
            )));
        }
        let f: Vec<f32> = v.iter().map(|&a| a as f32).collect();
        let n = f.len();
        Ok(Tensor::from_vec(f, n, x.device())?)
    }
}

impl Rescaling {
    /// A `Rescaling` from its Keras config (`scale` required; `offset` 0 when absent).
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        let scale = match c.get("scale") {
            Some(v) => Rescaling::values(v, "scale")?,
            None => return Err(Error::value("Rescaling: config needs `scale`")),
        };
        let offset = match c.get("offset") {
            Some(v) => Rescaling::values(v, "offset")?,
            None => (vec![0.0], true),
        };
        apply_base_config(Rescaling::from_values(scale, offset), c)
    }
}

impl Layer for Rescaling {
    fn class_name(&self) -> &str {
        "Rescaling"
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn supports_masking(&self) -> bool {
        true
    }
    fn get_config(&self) -> Result<Config> {
        Ok(config(json!({
            "scale": Self::value_json(&self.scale, self.scalar.0),
            "offset": Self::value_json(&self.offset, self.scalar.1),
        })))
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        Ok(vec![s[0].clone()])
    }
    fn forward(&self, inputs: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
        let dtype = self.args.dtype.unwrap_or(DType::F32);
        let x = ops::cast(&inputs[0], DType::F32)?;
        let y = if x.rank() == 0 {
            ((x * self.scale[0])? + self.offset[0])?
        } else {
            let s = Self::factor(&self.scale, &x, "scale")?;
            let o = Self::factor(&self.offset, &x, "offset")?;
            x.broadcast_mul(&s)?.broadcast_add(&o)?
        };
        Ok(vec![ops::cast(&y, dtype)?])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::LayerExt;
    use crate::ops::Device;

    #[test]
    fn per_channel_values_and_configs() {
        let l = Rescaling::per_channel(&[1.0, 2.0], &[0.0, -1.0]).into_layer();
        let y = l
            .apply(&Tensor::new(&[[1f32, 1.0]], &Device::Cpu).unwrap())
            .unwrap();
        assert_eq!(y.to_vec2::<f32>().unwrap(), vec![vec![1.0, 1.0]]);
        let (v, scalar) = Rescaling::values(
            &json!({"class_name": "__numpy__", "config": {"value": [0.5, 0.25], "dtype": "float32"}}),
            "scale",
        )
        .unwrap();
        assert_eq!((v, scalar), (vec![0.5, 0.25], false));
        let c = Rescaling::new(0.5, 0.0).get_config().unwrap();
        assert_eq!(c["scale"], json!(0.5));
        assert!(l
            .apply(&Tensor::zeros((1, 3), DType::F32, &Device::Cpu).unwrap())
            .is_err());
    }
}
