//! What every built-in metric shares: running totals kept as tensors on the device of the
//! batches they add up (Keras's metric variables, assigned with `assign_add`), the metric
//! dtype read from a config, and the `{module, class_name, config}` a metric serializes to.

use crate::ops::{self, DType, Device, Tensor};
use crate::serialization::{object, Cfg, Config, Value};
use crate::{Error, Result};

/// A running total (a Keras metric variable): `None` until something is added (zero, on no
/// device yet), then a tensor on the device of what was added, updated with tensor ops only.
#[derive(Clone, Debug, Default)]
pub(crate) struct Total(Option<Tensor>);

impl Total {
    /// Adds `x` (the shape of the total), moving the total to `x`'s device if it is elsewhere.
    pub fn add(&mut self, x: &Tensor) -> Result<()> {
        let x = x.detach();
        self.0 = Some(match self.0.take() {
            None => x,
            Some(t) if t.device().same_device(x.device()) => (t + x)?,
            Some(t) => (t.to_device(x.device())? + x)?,
        });
        Ok(())
    }

    /// Adds the number `n`, on the device and dtype of `like` when the total has none yet
    /// (no host-to-device copy: a fill and an affine op).
    pub fn add_number(&mut self, n: f64, like: &Tensor) -> Result<()> {
        self.0 = Some(match self.0.take() {
            None => like.zeros_like()?.affine(1.0, n)?,
            Some(t) if t.device().same_device(like.device()) => t.affine(1.0, n)?,
            Some(t) => t.to_device(like.device())?.affine(1.0, n)?,
        });
        Ok(())
    }

    /// Adds the number `n` to a scalar total (a new total is a CPU scalar of `dtype`).
    pub fn add_host(&mut self, n: f64, dtype: DType) -> Result<()> {
        self.0 = Some(match self.0.take() {
            None => Tensor::new(n, &Device::Cpu)?.to_dtype(dtype)?,
            Some(t) => t.affine(1.0, n)?,
        });
        Ok(())
    }

    /// Back to zero.
    pub fn reset(&mut self) {
        self.0 = None;
    }

    /// The total as a tensor of `shape` (zeros on the CPU if nothing was added).
    pub fn tensor(&self, shape: &[usize], dtype: DType) -> Tensor {
        match &self.0 {
            Some(t) => t.clone(),
            None => Tensor::zeros(shape, dtype, &Device::Cpu)
                .unwrap_or_else(|_| Tensor::new(0f32, &Device::Cpu).expect("a CPU scalar")),
        }
    }

    /// The values on the host (`None` before anything was added or if they cannot be read).
    pub fn host(&self) -> Option<Vec<f64>> {
        self.0.as_ref().and_then(|t| ops::to_vec_f64(t).ok())
    }

    /// The single value on the host (0 before anything was added; NaN if unreadable).
    pub fn scalar(&self) -> f64 {
        match &self.0 {
            None => 0.0,
            Some(t) => ops::scalar(t).unwrap_or(f64::NAN),
        }
    }

    /// Replaces the total with a saved value of `shape` (cast to `dtype`).
    pub fn set(&mut self, v: &Tensor, shape: &[usize], dtype: DType, what: &str) -> Result<()> {
        if v.dims() != shape && !(shape.is_empty() && v.elem_count() == 1) {
            return Err(Error::shape(format!(
                "{what}: expected a value of shape {}; received shape {}",
                ops::shape_str(shape),
                ops::shape_str(v.dims())
            )));
        }
        self.0 = Some(v.reshape(shape)?.to_dtype(dtype)?.detach());
        Ok(())
    }
}

/// The metric dtype a config names (`"float32"`, a `DTypePolicy` object, or nothing for
/// `float32`); only floating dtypes, as Keras's metrics accumulate in them.
pub(crate) fn read_dtype(c: &Cfg) -> Result<DType> {
    let name = match c.get("dtype") {
        None => return Ok(DType::F32),
        Some(Value::String(s)) => s.as_str(),
        Some(v) => v
            .pointer("/config/name")
            .and_then(Value::as_str)
            .ok_or_else(|| c.bad("dtype", "a dtype name"))?,
    };
    match ops::dtype_from_name(name) {
        Ok(d) if d.is_float() => Ok(d),
        _ => Err(c.bad(
            "dtype",
            "a floating dtype (float32, float64, float16, bfloat16)",
        )),
    }
}

/// Keras's serialization of a metric: `{module: "keras.metrics", class_name, config: {name,
/// dtype, ...args}, registered_name: null}`.
pub(crate) fn metric_object(class: &str, name: &str, dtype: DType, args: Config) -> Value {
    let mut config = Config::new();
    config.insert("name".into(), Value::String(name.to_string()));
    config.insert("dtype".into(), Value::String(ops::dtype_name(dtype).into()));
    config.extend(args);
    object("keras.metrics", class, Value::Object(config))
}

/// A class's own config entries, from a JSON object (`args(json!({"k": 5}))`).
pub(crate) fn args(v: Value) -> Config {
    match v {
        Value::Object(m) => m,
        _ => Config::new(),
    }
}

/// `e` prefixed with the metric it came from: `MeanSquaredError metric 'mse': ...`.
pub(crate) fn in_metric(e: Error, class: &str, name: &str) -> Error {
    e.context(&format!("{class} metric '{name}'"))
}

/// The error for a saved state of the wrong length.
pub(crate) fn wrong_count(class: &str, name: &str, want: usize, got: usize) -> Error {
    Error::value(format!(
        "{class} metric '{name}' has {want} state variables; received {got} values"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serialization::{config, json};

    #[test]
    fn totals_add_on_the_device_of_the_batch() {
        let mut t = Total::default();
        assert_eq!(t.scalar(), 0.0);
        let x = Tensor::new(2f32, &Device::Cpu).unwrap();
        t.add(&x).unwrap();
        t.add_number(0.5, &x).unwrap();
        assert_eq!(t.scalar(), 2.5);
        t.add_host(1.0, DType::F32).unwrap();
        assert_eq!(t.scalar(), 3.5);
        t.reset();
        assert_eq!(t.scalar(), 0.0);
        assert_eq!(t.tensor(&[3], DType::F32).dims(), &[3]);
        let e = t
            .set(
                &Tensor::zeros(2, DType::F32, &Device::Cpu).unwrap(),
                &[],
                DType::F32,
                "m",
            )
            .unwrap_err();
        assert!(e.to_string().contains("received shape (2,)"), "{e}");
    }

    #[test]
    fn dtypes_from_configs() {
        let read = |v| read_dtype(&Cfg::new("Mean", &config(v)));
        assert_eq!(read(json!({})).unwrap(), DType::F32);
        assert_eq!(read(json!({"dtype": "float64"})).unwrap(), DType::F64);
        let policy =
            json!({"dtype": {"class_name": "DTypePolicy", "config": {"name": "bfloat16"}}});
        assert_eq!(read(policy).unwrap(), DType::BF16);
        let e = read(json!({"dtype": "int32"})).unwrap_err().to_string();
        assert!(
            e.contains("Mean: config key 'dtype'") && e.contains("\"int32\""),
            "{e}"
        );
    }
}
