//! `Hashing` (`keras/src/layers/preprocessing/hashing.py`): hashes values into bins with the
//! hashes TensorFlow uses, so the bins equal Keras's.

use super::category_encoding::{encode, encoded_shape, Encoding};
use crate::engine::config::{apply_base_config, dtype_policy};
use crate::engine::{CallCtx, Layer, LayerArgs, LayerRef, Shape};
use crate::ops::{self, hash, strings, DType, Tensor};
use crate::serialization::{config, json, Cfg, Config, Value};
use crate::{Error, Result};

/// A `mask_value`: an integer (or float) for numeric inputs, a string for string inputs.
#[derive(Clone, Debug, PartialEq)]
pub enum MaskValue {
    /// A number.
    Number(f64),
    /// A string.
    Text(String),
}

impl From<i64> for MaskValue {
    fn from(v: i64) -> Self {
        MaskValue::Number(v as f64)
    }
}

impl From<i32> for MaskValue {
    fn from(v: i32) -> Self {
        MaskValue::Number(v as f64)
    }
}

impl From<&str> for MaskValue {
    fn from(v: &str) -> Self {
        MaskValue::Text(v.into())
    }
}

/// Hashes each value into one of `num_bins` bins (Keras's `Hashing`): integers (as their
/// decimal text, as TensorFlow's `as_string` writes them), floats (truncated to integers
/// first) and strings (`keras::ops::strings` byte tensors, the last axis holding the bytes).
/// The hash is FarmHash's `Fingerprint64`, or SipHash-2-4 keyed by `salt` when one is given
/// (`to_hash_bucket_strong`); the bins equal Keras's. With `mask_value`, that value goes to
/// bin 0 and the others to bins `1..num_bins`. `output_mode` `"int"` (default, int64 bin
/// ids), `"one_hot"`, `"multi_hot"` or `"count"`.
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::preprocessing::Hashing;
/// let l = Hashing::new(1000).into_layer();
/// let y = l.apply(&keras::ops::strings::encode(&["hello", "a"])?)?;
/// assert_eq!(y.to_vec1::<i64>()?, vec![296, 939]); // Keras's bins
/// # Ok::<(), keras::Error>(())
/// ```
pub struct Hashing {
    args: LayerArgs,
    num_bins: usize,
    mask_value: Option<MaskValue>,
    salt: Option<[u64; 2]>,
    output_mode: String,
}

impl Hashing {
    /// Hashes into `num_bins` bins.
    pub fn new(num_bins: usize) -> Self {
        Hashing {
            args: LayerArgs::default(),
            num_bins,
            mask_value: None,
            salt: None,
            output_mode: "int".into(),
        }
    }
    /// The value that goes to bin 0.
    pub fn mask_value(mut self, v: impl Into<MaskValue>) -> Self {
        self.mask_value = Some(v.into());
        self
    }
    /// Use the keyed (strong) hash with this salt (Keras's integer salt `s` is `[s, s]`).
    pub fn salt(mut self, salt: [u64; 2]) -> Self {
        self.salt = Some(salt);
        self
    }
    /// `"int"` (default), `"one_hot"`, `"multi_hot"` or `"count"`.
    pub fn output_mode(mut self, mode: &str) -> Self {
        self.output_mode = mode.into();
        self
    }
    pub(crate) fn set_mask_value(mut self, v: Option<MaskValue>) -> Self {
        self.mask_value = v;
        self
    }

    fn mode(&self) -> Result<Option<Encoding>> {
        if self.num_bins == 0 {
            return Err(Error::value(format!(
                "The `num_bins` for `Hashing` cannot be `None` or non-positive values. \
                 Received: num_bins={}.",
                self.num_bins
            )));
        }
        match self.output_mode.as_str() {
            "int" => {
                if let Some(d) = self
                    .args
                    .dtype
                    .filter(|d| !matches!(d, DType::I64 | DType::I32))
                {
                    return Err(Error::value(format!(
                        "When `output_mode=\"int\"`, `dtype` should be an integer type, 'int32' \
                         or 'in64'. Received: dtype={}",
                        ops::dtype_name(d)
                    )));
                }
                Ok(None)
            }
            "one_hot" | "multi_hot" | "count" => Ok(Encoding::parse(&self.output_mode)),
            other => Err(Error::value(format!(
                "Invalid value for argument `output_mode`. Expected one of ('int', 'one_hot', \
                 'multi_hot', 'count'). Received: output_mode={other}"
            ))),
        }
    }

    fn bin(&self, bytes: &[u8], bins: u64) -> u64 {
        match self.salt {
            Some(key) => hash::siphash24(key, bytes) % bins,
            None => hash::fingerprint64(bytes) % bins,
        }
    }

    /// The bin of each value (the shape of the values: strings drop their byte axis).
    pub fn hash(&self, x: &Tensor) -> Result<Tensor> {
        let masked = self.mask_value.is_some() && self.num_bins > 1;
        let bins = self.num_bins as u64 - u64::from(masked);
        let finish = |h: u64, is_mask: bool| -> i64 {
            if !masked {
                h as i64
            } else if is_mask {
                0
            } else {
                h as i64 + 1
            }
        };
        let (ids, dims): (Vec<i64>, Vec<usize>) = if x.dtype() == DType::U8 {
            let texts = strings::decode(x)?;
            let mask = match &self.mask_value {
                Some(MaskValue::Text(t)) => Some(t.as_str()),
                _ => None,
            };
            let ids = texts
                .iter()
                .map(|t| finish(self.bin(t.as_bytes(), bins), mask == Some(t.as_str())))
                .collect();
            (ids, x.dims()[..x.rank() - 1].to_vec())
        } else {
            let mask = match &self.mask_value {
                Some(MaskValue::Number(m)) => Some(*m),
                _ => None,
            };
            let (ints, eq): (Vec<i64>, Vec<bool>) = if x.dtype().is_float() {
                ops::to_vec_f64(x)?
                    .into_iter()
                    .map(|v| (v as i64, mask == Some(v)))
                    .unzip()
            } else {
                let v = super::category_encoding::read_ids(x)?;
                let eq = v.iter().map(|&i| mask == Some(i as f64)).collect();
                (v, eq)
            };
            let ids = ints
                .iter()
                .zip(eq)
                .map(|(i, m)| finish(self.bin(i.to_string().as_bytes(), bins), m))
                .collect();
            (ids, x.dims().to_vec())
        };
        Ok(Tensor::from_vec(ids, dims, x.device())?)
    }
}

impl Hashing {
    /// A `Hashing` from its Keras config (`salt`: one integer or two; `mask_value`: a
    /// number or a string; `sparse=True` is refused).
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        c.not_sparse()?;
        let mut l = Hashing::new(c.usize("num_bins")?).output_mode(c.str_or("output_mode", "int")?);
        if let Some(v) = c.get("salt") {
            l = l.salt(salt_pair(v).ok_or_else(|| {
                Error::value(format!(
                    "The `salt` argument for `Hashing` can only be a tuple of size 2 integers,                      or a single integer. Received: salt={v}."
                ))
            })?);
        }
        let mask = match c.get("mask_value") {
            None => None,
            Some(Value::String(s)) => Some(MaskValue::Text(s.clone())),
            Some(_) => Some(MaskValue::Number(c.f64("mask_value")?)),
        };
        apply_base_config(l.set_mask_value(mask), c)
    }
}

/// A config's `salt`: two integers, or one used for both (Keras's hashing layers).
pub(crate) fn salt_pair(v: &Value) -> Option<[u64; 2]> {
    match v {
        Value::Array(a) => match a.as_slice() {
            [a, b] => Some([a.as_u64()?, b.as_u64()?]),
            _ => None,
        },
        v => v.as_u64().map(|s| [s, s]),
    }
}

impl Layer for Hashing {
    fn class_name(&self) -> &str {
        "Hashing"
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn base_config(&self, mut base: Config) -> Config {
        // Keras's default dtype is int64 in "int" mode.
        if self.args.dtype.is_none() && self.output_mode == "int" {
            base.insert("dtype".into(), dtype_policy(DType::I64));
        }
        base
    }
    fn get_config(&self) -> Result<Config> {
        let mask = match &self.mask_value {
            None => Value::Null,
            Some(MaskValue::Number(v)) if v.fract() == 0.0 => json!(*v as i64),
            Some(MaskValue::Number(v)) => json!(v),
            Some(MaskValue::Text(t)) => json!(t),
        };
        Ok(config(json!({
            "num_bins": self.num_bins,
            "salt": self.salt.map(|s| json!(s)).unwrap_or(Value::Null),
            "mask_value": mask,
            "output_mode": self.output_mode,
            "sparse": false,
        })))
    }
    fn build(&mut self, _: &[Shape], _: &mut crate::engine::WeightBuilder) -> Result<()> {
        self.mode().map(|_| ())
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        Ok(vec![match self.mode()? {
            None => s[0].clone(),
            Some(m) => encoded_shape(&s[0], m, self.num_bins),
        }])
    }
    fn compute_output_dtype(&self, _: &[DType], n: usize) -> Vec<DType> {
        let d = match self.output_mode.as_str() {
            "int" => self.args.dtype.unwrap_or(DType::I64),
            _ => self.args.dtype.unwrap_or(DType::F32),
        };
        vec![d; n]
    }
    fn forward(&self, inputs: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
        let mode = self.mode()?;
        let mut x = inputs[0].clone();
        let last = x.dims().last().copied();
        let text = x.dtype() == DType::U8;
        // One-hot squeezes a trailing axis of 1 first (for strings, the axis before the bytes).
        if mode == Some(Encoding::OneHot) {
            let r = x.rank();
            if !text && last == Some(1) && r > 0 {
                x = x.squeeze(r - 1)?;
            } else if text && r >= 2 && x.dim(r - 2)? == 1 {
                x = x.squeeze(r - 2)?;
            }
        }
        let ids = self.hash(&x)?;
        let dtype = self.compute_output_dtype(&[], 1)[0];
        Ok(vec![match mode {
            None => ops::cast(&ids, dtype)?,
            Some(m) => {
                let v = ids.flatten_all()?.to_vec1::<i64>()?;
                let (out, dims) = encode(&v, ids.dims(), m, self.num_bins, None);
                ops::cast(&Tensor::from_vec(out, dims, x.device())?, dtype)?
            }
        }])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::LayerExt;
    use crate::ops::Device;

    #[test]
    fn masked_values_take_bin_zero() {
        let x = Tensor::new(&[[0i64, 17, 5]], &Device::Cpu).unwrap();
        let y = Hashing::new(7)
            .mask_value(17i64)
            .into_layer()
            .apply(&x)
            .unwrap();
        let v = y.to_vec2::<i64>().unwrap();
        assert_eq!(v[0][1], 0);
        assert!(v[0][0] >= 1 && v[0][2] >= 1);
        let e = Hashing::new(0).into_layer().apply(&x).unwrap_err();
        assert!(e.to_string().contains("num_bins=0"), "{e}");
        let c = Hashing::new(3).salt([3, 3]).get_config().unwrap();
        assert_eq!(c["salt"], json!([3, 3]));
    }
}
