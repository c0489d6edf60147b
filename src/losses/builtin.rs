//! What every built-in loss shares: a type implements [`Builtin`] (its names, options, config
//! reader, per-sample values and, where it has one, a fused op) and gets its [`Loss`] and
//! [`BuiltinLoss`] impls, its Keras config and its registry constructor from here. The module
//! is private, so `Builtin` cannot be named (or implemented) outside the crate.

use super::{reduce_masked_values, reduce_weighted_values, Loss, Reduced, Reduction};
use crate::ops::Tensor;
use crate::serialization::{Cfg, Map, Value};
use crate::Result;
use std::sync::Arc;

/// The parts of a built-in loss that differ from one loss to the next.
pub trait Builtin: Send + Sync + Sized + 'static {
    /// The Keras name (`mean_squared_error`, ...): [`Loss::name`].
    const NAME: &'static str;
    /// Keras's class name (`MeanSquaredError`, ...): [`BuiltinLoss::class_name`].
    const CLASS: &'static str;
    /// The options Keras's `get_config` writes besides `name` and `reduction`.
    fn args(&self) -> Map<String, Value> {
        Map::new()
    }
    /// The loss these options describe (Keras's `from_config`; `name` and `reduction` are
    /// read by the registry's constructor).
    fn from_config(c: &Cfg) -> Result<Self>;
    /// The unweighted loss with a mean reduction as one fused op, where this loss has one for
    /// these options and inputs (`Ok(None)`: reduce the per-sample values).
    fn fused(&self, _y_true: &Tensor, _y_pred: &Tensor) -> Result<Option<Tensor>> {
        Ok(None)
    }
    /// The per-sample values with differentiable tensor ops (Keras's `call`, the alignment
    /// of `LossFunctionWrapper.call` included): [`Loss::values`].
    fn per_sample(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor>;
    /// The per-sample values and their mask (Keras's `keras_mask` on them), where the loss
    /// sets one.
    fn masked_values(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<(Tensor, Option<Tensor>)> {
        Ok((self.per_sample(y_true, y_pred)?, None))
    }
}

/// A built-in Keras loss class: its class name and options, for configs, and its reduced
/// call.
pub trait BuiltinLoss: Loss {
    /// Keras's class name (`MeanSquaredError`, ...).
    fn class_name(&self) -> &'static str;
    /// The options Keras's `get_config` writes besides `name` and `reduction`.
    fn config_args(&self) -> Map<String, Value>;
    /// Keras's `__call__` with `reduction` in place of the loss's own.
    fn reduce_with(
        &self,
        y_true: &Tensor,
        y_pred: &Tensor,
        sample_weight: Option<&Tensor>,
        reduction: Reduction,
    ) -> Result<Tensor> {
        reduce_weighted_values(&self.values(y_true, y_pred)?, sample_weight, reduction)
    }
}

/// A built-in loss reduced by `reduction`: its fused op when unweighted with a mean
/// reduction (on the CPU, where the fused ops run), else its per-sample values, masked,
/// weighted and reduced.
fn weighted<L: Builtin>(
    l: &L,
    y_true: &Tensor,
    y_pred: &Tensor,
    sample_weight: Option<&Tensor>,
    reduction: Reduction,
) -> Result<Tensor> {
    if sample_weight.is_none() && reduction.is_mean() && y_pred.device().is_cpu() {
        if let Some(v) = l.fused(y_true, y_pred)? {
            return Ok(v);
        }
    }
    let (values, mask) = l.masked_values(y_true, y_pred)?;
    reduce_masked_values(&values, sample_weight, mask.as_ref(), reduction)
}

/// Keras's serialization of a built-in loss: `{module, class_name, config: {name,
/// reduction, options...}}`.
pub(crate) fn full_config<L: BuiltinLoss + ?Sized>(
    l: &L,
    reduction: Reduction,
    name: Option<&str>,
) -> Value {
    let mut m = Map::new();
    m.insert(
        "name".into(),
        Value::String(name.unwrap_or(l.name()).to_string()),
    );
    m.insert("reduction".into(), reduction.to_config());
    m.extend(l.config_args());
    crate::serialization::object("keras.losses", l.class_name(), Value::Object(m))
}

/// The registry's constructor of built-in loss `L`: its options, `reduction` and `name`.
pub(super) fn make<L: Builtin>(c: &Cfg) -> Result<Arc<dyn Loss>> {
    let loss = L::from_config(c)?;
    let reduction = Reduction::from_config(c.map.get("reduction"))?;
    let mut r = Reduced::new(loss, reduction);
    if let Some(name) = c.opt_str("name")?.filter(|n| *n != L::NAME) {
        r = r.named(name);
    }
    Ok(Arc::new(r))
}

impl<T: Builtin> Loss for T {
    fn name(&self) -> &str {
        T::NAME
    }
    fn values(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        self.per_sample(y_true, y_pred)
    }
    fn call_weighted(
        &self,
        y_true: &Tensor,
        y_pred: &Tensor,
        sample_weight: Option<&Tensor>,
    ) -> Result<Tensor> {
        weighted(self, y_true, y_pred, sample_weight, Reduction::default())
    }
    fn get_config(&self) -> Value {
        full_config(self, Reduction::default(), None)
    }
}

impl<T: Builtin> BuiltinLoss for T {
    fn class_name(&self) -> &'static str {
        T::CLASS
    }
    fn config_args(&self) -> Map<String, Value> {
        self.args()
    }
    fn reduce_with(
        &self,
        y_true: &Tensor,
        y_pred: &Tensor,
        sample_weight: Option<&Tensor>,
        reduction: Reduction,
    ) -> Result<Tensor> {
        weighted(self, y_true, y_pred, sample_weight, reduction)
    }
}
