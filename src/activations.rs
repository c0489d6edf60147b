//! Activation functions by name, as `keras.activations`.
//!
//! ```
//! use keras::prelude::*;
//! let relu = keras::activations::get("relu")?;
//! let y = keras::activations::apply(relu, &Tensor::new(&[-1f32, 3.0], &Device::Cpu)?)?;
//! assert_eq!(y.to_vec1::<f32>()?, vec![0.0, 3.0]);
//! assert!(keras::activations::get("relux").is_err());
//! # Ok::<(), keras::Error>(())
//! ```

pub use crate::ops::Act;
use crate::ops::Tensor;
use crate::serialization::{Cfg, Value};
use crate::{Error, Result};

/// Every name [`get`] knows, with its activation (Keras 3's defaults: `leaky_relu` has
/// `negative_slope = 0.2`, `elu` has `alpha = 1.0`, `gelu` is the exact `erf` form).
pub const NAMES: &[(&str, Act)] = &[
    ("elu", Act::Elu(1.0)),
    ("exponential", Act::Exponential),
    ("gelu", Act::Gelu { approximate: false }),
    ("hard_sigmoid", Act::HardSigmoid),
    ("leaky_relu", Act::LeakyRelu(0.2)),
    ("linear", Act::Linear),
    ("log_softmax", Act::LogSoftmax),
    ("relu", Act::Relu),
    ("relu6", Act::Relu6),
    ("selu", Act::Selu),
    ("sigmoid", Act::Sigmoid),
    ("silu", Act::Silu),
    ("softmax", Act::Softmax),
    ("softplus", Act::Softplus),
    ("softsign", Act::Softsign),
    ("swish", Act::Silu),
    ("tanh", Act::Tanh),
];

/// The activation called `name` (`None`-like `""` and `"linear"` give the identity).
pub fn get(name: &str) -> Result<Act> {
    if name.is_empty() || name == "None" {
        return Ok(Act::Linear);
    }
    NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, a)| *a)
        .ok_or_else(|| {
            let valid: Vec<&str> = NAMES.iter().map(|(n, _)| *n).collect();
            Error::value(format!(
            "Could not interpret activation function identifier: {name}. Valid activations are: {}",
            valid.join(", ")
        ))
        })
}

/// Keras's serialized name of an activation.
pub fn name(act: Act) -> &'static str {
    NAMES
        .iter()
        .find(|(_, a)| *a == act)
        .map(|(n, _)| *n)
        .unwrap_or("linear")
}

/// Applies an activation to a tensor (softmax family on the last axis).
pub fn apply(act: Act, x: &Tensor) -> Result<Tensor> {
    crate::ops::activation(x, act)
}

/// An activation given by name or by value, for builder methods such as
/// `Dense::activation`.
#[derive(Clone, Debug)]
pub struct ActivationArg(pub(crate) std::result::Result<Act, String>);

impl ActivationArg {
    /// The activation, or the error for an unknown name.
    pub fn resolve(&self) -> Result<Act> {
        match &self.0 {
            Ok(a) => Ok(*a),
            Err(name) => get(name),
        }
    }
}

impl ActivationArg {
    /// The activation as Keras serializes it in a layer config: its name (an unknown name
    /// as given).
    ///
    /// ```
    /// use keras::activations::{Act, ActivationArg};
    /// assert_eq!(ActivationArg::from(Act::Relu).serialize(), "relu");
    /// ```
    pub fn serialize(&self) -> Value {
        match &self.0 {
            Ok(act) => Value::String(name(*act).into()),
            Err(name) => Value::String(name.clone()),
        }
    }
}

impl Cfg<'_> {
    /// The activation at `key` (a name, or a serialized activation object), or `default` (the
    /// layer's own default, e.g. `tanh` for recurrent layers) when absent.
    ///
    /// ```
    /// use keras::serialization::{config, json, Cfg};
    /// let map = config(json!({ "activation": {"module": "keras.activations", "class_name": "function", "config": "relu"} }));
    /// let a = Cfg::new("Dense", &map).activation("activation", "linear")?;
    /// assert_eq!(a.serialize(), "relu");
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn activation(&self, key: &str, default: &str) -> Result<ActivationArg> {
        match self.get(key) {
            None => Ok(default.into()),
            Some(Value::String(s)) => Ok(s.as_str().into()),
            Some(Value::Object(o)) => {
                let name = o
                    .get("config")
                    .and_then(|c| c.as_str())
                    .or_else(|| o.get("class_name").and_then(Value::as_str))
                    .ok_or_else(|| self.bad(key, "an activation name"))?;
                Ok(name.into())
            }
            _ => Err(self.bad(key, "an activation name")),
        }
    }
}

impl From<&str> for ActivationArg {
    fn from(s: &str) -> Self {
        ActivationArg(get(s).map_err(|_| s.to_string()))
    }
}

impl From<String> for ActivationArg {
    fn from(s: String) -> Self {
        ActivationArg::from(s.as_str())
    }
}

impl From<Act> for ActivationArg {
    fn from(a: Act) -> Self {
        ActivationArg(Ok(a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_lists_valid() {
        for (n, a) in NAMES {
            assert_eq!(get(n).unwrap(), *a);
        }
        let e = get("relux").unwrap_err().to_string();
        assert!(
            e.contains("relux") && e.contains("softmax") && e.contains("leaky_relu"),
            "{e}"
        );
    }
}
