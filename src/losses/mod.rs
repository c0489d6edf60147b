//! Loss functions, as `keras.losses`: by name or as values with options.
//!
//! Each loss returns the mean over the batch (Keras's `sum_over_batch_size` reduction) as a
//! scalar tensor with its gradient.
//!
//! ```
//! use keras::prelude::*;
//! use keras::losses::{self, Loss};
//! let mse = losses::get("mse")?;
//! let y_true = Tensor::new(&[[0f32, 1.0], [1.0, 0.0]], &Device::Cpu)?;
//! let y_pred = Tensor::new(&[[1f32, 1.0], [1.0, 1.0]], &Device::Cpu)?;
//! assert_eq!(keras::ops::scalar(&mse.call(&y_true, &y_pred)?)?, 0.5);
//! # Ok::<(), keras::Error>(())
//! ```

use crate::ops::{self, ElementwiseLoss, Tensor};
use crate::{Error, Result};
use std::sync::Arc;

/// A loss function: `call(y_true, y_pred)` gives the mean loss.
pub trait Loss: Send + Sync {
    /// The Keras name (`mean_squared_error`, ...), used for History keys.
    fn name(&self) -> &str;
    /// The mean loss over the batch.
    fn call(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor>;
    /// How Keras serializes the loss: its name, or `{class_name, config}` when it has
    /// arguments (`from_logits`, `delta`).
    fn get_config(&self) -> serde_json::Value {
        serde_json::Value::String(self.name().to_string())
    }
}

fn loss_object(class: &str, config: serde_json::Value) -> serde_json::Value {
    crate::saving::config::object("keras.losses", class, config)
}

/// `y_true` reshaped to `y_pred`'s shape when they hold as many values (Keras's
/// `squeeze_or_expand_to_same_rank`, e.g. labels `(N,)` against predictions `(N, 1)`).
fn align(y_true: &Tensor, y_pred: &Tensor, loss: &str) -> Result<Tensor> {
    if y_true.dims() == y_pred.dims() {
        return Ok(y_true.clone());
    }
    if y_true.elem_count() == y_pred.elem_count() {
        return Ok(y_true.reshape(y_pred.dims())?);
    }
    Err(Error::shape(format!(
        "{loss}: y_true shape {} does not match y_pred shape {}",
        crate::engine::tuple(y_true.dims()),
        crate::engine::tuple(y_pred.dims())
    )))
}

fn float_pred(y_pred: &Tensor) -> Result<Tensor> {
    if y_pred.dtype().is_float() {
        Ok(y_pred.clone())
    } else {
        ops::cast(y_pred, ops::DType::F32)
    }
}

macro_rules! simple_loss {
    ($(#[$doc:meta])* $name:ident, $kname:expr, $kind:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default)]
        pub struct $name;
        impl Loss for $name {
            fn name(&self) -> &str {
                $kname
            }
            fn call(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
                let p = float_pred(y_pred)?;
                ops::elementwise_loss(&p, &align(y_true, &p, $kname)?, $kind)
            }
        }
    };
}

simple_loss!(
    /// Mean of `(y_true - y_pred)^2`.
    MeanSquaredError,
    "mean_squared_error",
    ElementwiseLoss::MeanSquaredError
);
simple_loss!(
    /// Mean of `|y_true - y_pred|`.
    MeanAbsoluteError,
    "mean_absolute_error",
    ElementwiseLoss::MeanAbsoluteError
);

/// Huber loss: quadratic for errors below `delta` (1.0), linear above.
#[derive(Clone, Copy, Debug)]
pub struct Huber {
    /// The switch point.
    pub delta: f64,
}
impl Default for Huber {
    fn default() -> Self {
        Huber { delta: 1.0 }
    }
}
impl Loss for Huber {
    fn name(&self) -> &str {
        "huber_loss"
    }
    fn get_config(&self) -> serde_json::Value {
        loss_object("Huber", serde_json::json!({ "delta": self.delta }))
    }
    fn call(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        let p = float_pred(y_pred)?;
        ops::elementwise_loss(
            &p,
            &align(y_true, &p, "huber_loss")?,
            ElementwiseLoss::Huber(self.delta),
        )
    }
}

/// Binary cross-entropy between labels in [0, 1] and probabilities (or logits).
#[derive(Clone, Copy, Debug, Default)]
pub struct BinaryCrossentropy {
    /// Whether predictions are logits.
    pub from_logits: bool,
}
impl BinaryCrossentropy {
    /// On probabilities.
    pub fn new() -> Self {
        Self::default()
    }
    /// On logits (`true`) or probabilities.
    pub fn from_logits(mut self, v: bool) -> Self {
        self.from_logits = v;
        self
    }
}
impl Loss for BinaryCrossentropy {
    fn name(&self) -> &str {
        "binary_crossentropy"
    }
    fn get_config(&self) -> serde_json::Value {
        if self.from_logits {
            loss_object(
                "BinaryCrossentropy",
                serde_json::json!({ "from_logits": true }),
            )
        } else {
            serde_json::Value::String(self.name().to_string())
        }
    }
    fn call(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        let p = float_pred(y_pred)?;
        let kind = ElementwiseLoss::BinaryCrossentropy {
            from_logits: self.from_logits,
        };
        ops::elementwise_loss(&p, &align(y_true, &p, "binary_crossentropy")?, kind)
    }
}

/// Categorical cross-entropy between one-hot labels and probabilities (or logits).
#[derive(Clone, Copy, Debug, Default)]
pub struct CategoricalCrossentropy {
    /// Whether predictions are logits.
    pub from_logits: bool,
}
impl CategoricalCrossentropy {
    /// On probabilities.
    pub fn new() -> Self {
        Self::default()
    }
    /// On logits (`true`) or probabilities.
    pub fn from_logits(mut self, v: bool) -> Self {
        self.from_logits = v;
        self
    }
}
impl Loss for CategoricalCrossentropy {
    fn name(&self) -> &str {
        "categorical_crossentropy"
    }
    fn get_config(&self) -> serde_json::Value {
        if self.from_logits {
            loss_object(
                "CategoricalCrossentropy",
                serde_json::json!({ "from_logits": true }),
            )
        } else {
            serde_json::Value::String(self.name().to_string())
        }
    }
    fn call(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        let p = float_pred(y_pred)?;
        ops::crossentropy(
            &p,
            &align(y_true, &p, "categorical_crossentropy")?,
            self.from_logits,
        )
    }
}

/// Cross-entropy between integer class labels and probabilities (or logits).
#[derive(Clone, Copy, Debug, Default)]
pub struct SparseCategoricalCrossentropy {
    /// Whether predictions are logits.
    pub from_logits: bool,
}
impl SparseCategoricalCrossentropy {
    /// On probabilities.
    pub fn new() -> Self {
        Self::default()
    }
    /// On logits (`true`) or probabilities.
    pub fn from_logits(mut self, v: bool) -> Self {
        self.from_logits = v;
        self
    }
}
impl Loss for SparseCategoricalCrossentropy {
    fn name(&self) -> &str {
        "sparse_categorical_crossentropy"
    }
    fn get_config(&self) -> serde_json::Value {
        if self.from_logits {
            loss_object(
                "SparseCategoricalCrossentropy",
                serde_json::json!({ "from_logits": true }),
            )
        } else {
            serde_json::Value::String(self.name().to_string())
        }
    }
    fn call(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        ops::sparse_crossentropy(&float_pred(y_pred)?, y_true, self.from_logits)
    }
}

/// Every name [`get`] knows.
pub const NAMES: &[&str] = &[
    "binary_crossentropy",
    "categorical_crossentropy",
    "huber",
    "huber_loss",
    "mae",
    "mean_absolute_error",
    "mean_squared_error",
    "mse",
    "sparse_categorical_crossentropy",
];

/// A loss by Keras name, with default options.
pub fn get(name: &str) -> Result<Arc<dyn Loss>> {
    Ok(match name {
        "mse" | "mean_squared_error" | "MeanSquaredError" => Arc::new(MeanSquaredError),
        "mae" | "mean_absolute_error" | "MeanAbsoluteError" => Arc::new(MeanAbsoluteError),
        "huber" | "huber_loss" | "Huber" => Arc::new(Huber::default()),
        "binary_crossentropy" | "BinaryCrossentropy" => Arc::new(BinaryCrossentropy::default()),
        "categorical_crossentropy" | "CategoricalCrossentropy" => {
            Arc::new(CategoricalCrossentropy::default())
        }
        "sparse_categorical_crossentropy" | "SparseCategoricalCrossentropy" => {
            Arc::new(SparseCategoricalCrossentropy::default())
        }
        _ => {
            return Err(Error::value(format!(
                "Could not interpret loss identifier: {name}. Valid losses are: {}",
                NAMES.join(", ")
            )))
        }
    })
}

/// The loss a Keras config describes: a name, or `{class_name, config}`.
pub fn from_config(v: &serde_json::Value) -> Result<LossArg> {
    if let Some(name) = v.as_str() {
        return Ok(LossArg::from(name));
    }
    let class = v.get("class_name").and_then(|c| c.as_str()).unwrap_or("");
    let cfg = v.get("config").cloned().unwrap_or_default();
    let logits = cfg
        .get("from_logits")
        .and_then(|x| x.as_bool())
        .unwrap_or(false);
    let loss: Arc<dyn Loss> = match class {
        "BinaryCrossentropy" => Arc::new(BinaryCrossentropy {
            from_logits: logits,
        }),
        "CategoricalCrossentropy" => Arc::new(CategoricalCrossentropy {
            from_logits: logits,
        }),
        "SparseCategoricalCrossentropy" => Arc::new(SparseCategoricalCrossentropy {
            from_logits: logits,
        }),
        "Huber" => Arc::new(Huber {
            delta: cfg.get("delta").and_then(|x| x.as_f64()).unwrap_or(1.0),
        }),
        other => get(other)?,
    };
    Ok(LossArg(Ok(loss)))
}

/// A loss given by name or by value (for `compile`).
#[derive(Clone)]
pub struct LossArg(pub(crate) std::result::Result<Arc<dyn Loss>, String>);

impl LossArg {
    /// The loss, or the error for an unknown name.
    pub fn resolve(&self) -> Result<Arc<dyn Loss>> {
        match &self.0 {
            Ok(l) => Ok(l.clone()),
            Err(n) => get(n),
        }
    }
}

impl From<&str> for LossArg {
    fn from(s: &str) -> Self {
        LossArg(get(s).map_err(|_| s.to_string()))
    }
}

impl<L: Loss + 'static> From<L> for LossArg {
    fn from(l: L) -> Self {
        LossArg(Ok(Arc::new(l)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Device;

    #[test]
    fn labels_of_rank_one_fit_predictions_of_width_one() {
        let y = Tensor::new(&[0f32, 1.0, 1.0], &Device::Cpu).unwrap();
        let p = Tensor::new(&[[0.2f32], [0.7], [0.9]], &Device::Cpu).unwrap();
        let l = ops::scalar(&BinaryCrossentropy::new().call(&y, &p).unwrap()).unwrap();
        let want = -((0.8f64).ln() + (0.7f64).ln() + (0.9f64).ln()) / 3.0;
        assert!((l - want).abs() < 1e-6, "{l} {want}");
        assert!(MeanSquaredError
            .call(&Tensor::new(&[1f32, 2.0], &Device::Cpu).unwrap(), &p)
            .is_err());
    }

    #[test]
    fn unknown_name_lists_valid_ones() {
        let e = get("msex").err().unwrap().to_string();
        assert!(e.contains("msex") && e.contains("sparse_categorical_crossentropy"));
    }
}
