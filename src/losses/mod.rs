//! Loss functions, as `keras.losses`: by name or as values with options.
//!
//! A loss gives per-sample values ([`Loss::values`], Keras's `call`) and reduces them,
//! optionally weighted by sample weights ([`Loss::call_weighted`], Keras's `__call__`), with
//! its [`Reduction`] (`sum_over_batch_size` by default: the weighted sum over the number of
//! values). Without sample weights the built-in losses take a fused path (one pass, one
//! backward) that gives the same mean.
//!
//! ```
//! use keras::prelude::*;
//! use keras::losses::{self, Loss, Reduction};
//! let mse = losses::get("mse")?;
//! let y_true = Tensor::new(&[[0f32, 1.0], [1.0, 0.0]], &Device::Cpu)?;
//! let y_pred = Tensor::new(&[[1f32, 1.0], [1.0, 1.0]], &Device::Cpu)?;
//! assert_eq!(keras::ops::scalar(&mse.call(&y_true, &y_pred)?)?, 0.5);
//! // Per-sample values [0.5, 0.5], weighted 1 and 3: (0.5 + 1.5) / 2.
//! let w = Tensor::new(&[1f32, 3.0], &Device::Cpu)?;
//! assert_eq!(keras::ops::scalar(&mse.call_weighted(&y_true, &y_pred, Some(&w))?)?, 1.0);
//! let sum = losses::MeanSquaredError.reduction(Reduction::Sum);
//! assert_eq!(keras::ops::scalar(&sum.call_weighted(&y_true, &y_pred, Some(&w))?)?, 2.0);
//! # Ok::<(), keras::Error>(())
//! ```

mod builtin;
mod crossentropy;
mod reduction;
mod regression;

pub use crossentropy::{
    BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
};
pub(crate) use reduction::{aligned_dims, broadcast_shapes, incompatible_shapes};
pub use reduction::{reduce_weighted_values, squeeze_or_expand_to_same_rank, Reduction};
pub use regression::{Huber, MeanAbsoluteError, MeanSquaredError};

use crate::ops::{self, Tensor};
use crate::{Error, Result};
use serde_json::{Map, Value};
use std::sync::Arc;

/// Keras's fuzz factor `keras.config.epsilon()`.
pub(crate) const EPSILON: f64 = 1e-7;

/// A loss function.
///
/// Implement [`values`](Loss::values) (Keras's `call`: one value per sample, or per sample
/// and step); `call` and `call_weighted` reduce them with [`get_reduction`](Loss::get_reduction).
///
/// ```
/// use keras::prelude::*;
/// use keras::losses::Loss;
/// struct Cube;
/// impl Loss for Cube {
///     fn name(&self) -> &str { "cube" }
///     fn values(&self, y_true: &Tensor, y_pred: &Tensor) -> keras::Result<Tensor> {
///         Ok((y_pred - y_true)?.abs()?.powf(3.0)?.mean(1)?)
///     }
/// }
/// let t = Tensor::new(&[[0f32], [0.0]], &Device::Cpu)?;
/// let p = Tensor::new(&[[1f32], [2.0]], &Device::Cpu)?;
/// assert_eq!(keras::ops::scalar(&Cube.call(&t, &p)?)?, 4.5);
/// # Ok::<(), keras::Error>(())
/// ```
pub trait Loss: Send + Sync {
    /// The Keras name (`mean_squared_error`, ...), used for History keys.
    fn name(&self) -> &str;
    /// The unreduced values (Keras's `Loss.call`): for the built-in losses, one per sample
    /// (per sample and step for sequences), the shape of `y_pred` without its last axis.
    fn values(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor>;
    /// How [`call`](Loss::call) reduces the values (Keras's `reduction`).
    fn get_reduction(&self) -> Reduction {
        Reduction::default()
    }
    /// The reduced loss without sample weights (for the default reduction, the mean over the
    /// batch).
    fn call(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        self.call_weighted(y_true, y_pred, None)
    }
    /// Keras's `Loss.__call__(y_true, y_pred, sample_weight)`: the values times the sample
    /// weights (of shape `(batch,)`, `(batch, 1)` or `(batch, steps)`, aligned as Keras's
    /// `squeeze_or_expand_to_same_rank` does), reduced.
    fn call_weighted(
        &self,
        y_true: &Tensor,
        y_pred: &Tensor,
        sample_weight: Option<&Tensor>,
    ) -> Result<Tensor> {
        reduce_weighted_values(
            &self.values(y_true, y_pred)?,
            sample_weight,
            self.get_reduction(),
        )
    }
    /// How Keras serializes the loss: its name, or `{class_name, config}` when it has
    /// options (`from_logits`, `delta`, a reduction).
    fn get_config(&self) -> Value {
        Value::String(self.name().to_string())
    }
}

/// A built-in Keras loss class: its class name and options, for configs.
pub trait BuiltinLoss: Loss {
    /// Keras's class name (`MeanSquaredError`, ...).
    fn class_name(&self) -> &'static str;
    /// The options Keras's `get_config` writes besides `name` and `reduction`.
    fn config_args(&self) -> Map<String, Value>;
}

fn loss_object(class: &str, config: Value) -> Value {
    crate::saving::config::object("keras.losses", class, config)
}

/// Keras's full serialization of a built-in loss: `{module, class_name, config: {name,
/// reduction, options...}}`.
pub(crate) fn full_config<L: BuiltinLoss + ?Sized>(l: &L, reduction: Reduction) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), Value::String(l.name().to_string()));
    m.insert("reduction".into(), Value::String(reduction.as_str().into()));
    m.extend(l.config_args());
    loss_object(l.class_name(), Value::Object(m))
}

/// A built-in loss with another [`Reduction`] (made by its `.reduction(..)` method, as
/// Keras's `reduction=` argument).
///
/// ```
/// use keras::prelude::*;
/// use keras::losses::{Loss, Reduction, SparseCategoricalCrossentropy};
/// let l = SparseCategoricalCrossentropy::new().from_logits(true).reduction(Reduction::Sum);
/// assert_eq!(l.get_reduction(), Reduction::Sum);
/// assert_eq!(l.get_config()["config"]["reduction"], "sum");
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Reduced<L> {
    /// The loss.
    pub loss: L,
    /// Its reduction.
    pub reduction: Reduction,
}

impl<L> Reduced<L> {
    /// `loss` reduced by `reduction`.
    pub fn new(loss: L, reduction: Reduction) -> Self {
        Reduced { loss, reduction }
    }
}

impl<L: BuiltinLoss> Loss for Reduced<L> {
    fn name(&self) -> &str {
        self.loss.name()
    }
    fn values(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        self.loss.values(y_true, y_pred)
    }
    fn get_reduction(&self) -> Reduction {
        self.reduction
    }
    fn call_weighted(
        &self,
        y_true: &Tensor,
        y_pred: &Tensor,
        sample_weight: Option<&Tensor>,
    ) -> Result<Tensor> {
        builtin::fused_or_reduced(&self.loss, y_true, y_pred, sample_weight, self.reduction)
    }
    fn get_config(&self) -> Value {
        if self.reduction == Reduction::default() {
            self.loss.get_config()
        } else {
            full_config(&self.loss, self.reduction)
        }
    }
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

/// A loss's fused elementwise op (`kind`) on `y_pred` (as floats) and `y_true` aligned to it.
fn elementwise_fused(
    y_true: &Tensor,
    y_pred: &Tensor,
    loss: &str,
    kind: ops::ElementwiseLoss,
) -> Result<Tensor> {
    let p = float_pred(y_pred)?;
    let t = align(y_true, &p, loss)?;
    ops::elementwise_loss(&p, &t, kind)
}

/// A loss's per-sample values: `f(y_pred, y_true)` (floats, `y_true` aligned to `y_pred`),
/// averaged over the last axis.
fn elementwise_values(
    y_true: &Tensor,
    y_pred: &Tensor,
    loss: &str,
    f: impl Fn(&Tensor, &Tensor) -> Result<Tensor>,
) -> Result<Tensor> {
    let p = float_pred(y_pred)?;
    let t = align(y_true, &p, loss)?.to_dtype(p.dtype())?;
    mean_last(&f(&p, &t)?)
}

/// Mean over the last axis (a rank-1 tensor gives a scalar, as `ops.mean(x, axis=-1)`).
fn mean_last(x: &Tensor) -> Result<Tensor> {
    if x.rank() == 0 {
        return Ok(x.clone());
    }
    Ok(x.mean(x.rank() - 1)?)
}

/// A CPU `f32` tensor of shape `d` holding `v` (unit tests of losses and metrics).
#[cfg(test)]
pub(crate) fn test_tensor(v: &[f32], d: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), d, &crate::ops::Device::Cpu).unwrap()
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

fn reduced<L: BuiltinLoss + 'static>(l: L, r: Reduction) -> Arc<dyn Loss> {
    if r == Reduction::default() {
        Arc::new(l)
    } else {
        Arc::new(Reduced::new(l, r))
    }
}

/// The loss a Keras config describes: a name, or `{class_name, config}` (with its
/// `reduction`, `from_logits`, `delta`).
pub fn from_config(v: &Value) -> Result<LossArg> {
    if let Some(name) = v.as_str() {
        return Ok(LossArg::from(name));
    }
    let class = v.get("class_name").and_then(|c| c.as_str()).unwrap_or("");
    let cfg = v.get("config").cloned().unwrap_or_default();
    let logits = cfg
        .get("from_logits")
        .and_then(|x| x.as_bool())
        .unwrap_or(false);
    let r = Reduction::from_config(cfg.get("reduction"))?;
    let loss: Arc<dyn Loss> = match class {
        "MeanSquaredError" => reduced(MeanSquaredError, r),
        "MeanAbsoluteError" => reduced(MeanAbsoluteError, r),
        "BinaryCrossentropy" => reduced(BinaryCrossentropy::new().from_logits(logits), r),
        "CategoricalCrossentropy" => reduced(CategoricalCrossentropy::new().from_logits(logits), r),
        "SparseCategoricalCrossentropy" => {
            reduced(SparseCategoricalCrossentropy::new().from_logits(logits), r)
        }
        "Huber" => reduced(
            Huber {
                delta: cfg.get("delta").and_then(|x| x.as_f64()).unwrap_or(1.0),
            },
            r,
        ),
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
    fn reductions_round_trip_through_configs() {
        let l = MeanSquaredError.reduction(Reduction::Sum);
        let v = l.get_config();
        assert_eq!(v["class_name"], "MeanSquaredError");
        assert_eq!(v["config"]["name"], "mean_squared_error");
        let back = from_config(&v).unwrap().resolve().unwrap();
        assert_eq!(back.get_reduction(), Reduction::Sum);
        assert_eq!(back.get_config(), v);
        // Keras's `None` reduction is null in its configs.
        let keras = serde_json::json!({"module": "keras.losses", "class_name": "Huber",
            "config": {"name": "huber_loss", "reduction": null}, "registered_name": null});
        let h = from_config(&keras).unwrap().resolve().unwrap();
        assert_eq!(h.get_reduction(), Reduction::None);
        let bad = serde_json::json!({"class_name": "Huber", "config": {"reduction": "avg"}});
        assert!(from_config(&bad).is_err());
        // Default objects keep their short forms.
        assert_eq!(
            MeanSquaredError
                .reduction(Reduction::default())
                .get_config(),
            "mean_squared_error"
        );
        let y = Tensor::new(&[[0f32], [1.0]], &Device::Cpu).unwrap();
        let p = Tensor::new(&[[1f32], [3.0]], &Device::Cpu).unwrap();
        let none = MeanAbsoluteError
            .reduction(Reduction::None)
            .call(&y, &p)
            .unwrap();
        assert_eq!(ops::to_vec_f32(&none).unwrap(), vec![1.0, 2.0]);
    }

    #[test]
    fn unknown_name_lists_valid_ones() {
        let e = get("msex").err().unwrap().to_string();
        assert!(e.contains("msex") && e.contains("sparse_categorical_crossentropy"));
    }
}
