//! What every built-in loss shares: a type implements [`Builtin`] (its names, options, fused
//! loss and per-sample values) and gets its [`Loss`] and [`BuiltinLoss`] impls from here.
//! The module is private, so `Builtin` cannot be named (or implemented) outside the crate.

use super::{full_config, reduce_weighted_values, BuiltinLoss, Loss, Reduction};
use crate::ops::Tensor;
use crate::Result;
use serde_json::{Map, Value};

/// The parts of a built-in loss that differ from one loss to the next.
pub trait Builtin: Send + Sync {
    /// The Keras name (`mean_squared_error`, ...): [`Loss::name`].
    const NAME: &'static str;
    /// Keras's class name (`MeanSquaredError`, ...): [`BuiltinLoss::class_name`].
    const CLASS: &'static str;
    /// The options Keras's `get_config` writes besides `name` and `reduction`.
    fn args(&self) -> Map<String, Value> {
        Map::new()
    }
    /// Whether [`Loss::get_config`] writes the full `{class_name, config}` object (options
    /// that matter) rather than the name alone.
    fn has_options(&self) -> bool {
        false
    }
    /// The unweighted loss with the default reduction, as one fused op: [`Loss::call`].
    fn fused(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor>;
    /// The per-sample values, with differentiable tensor ops: [`Loss::values`].
    fn per_sample(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor>;
}

/// A built-in loss reduced by `reduction`: its fused op when unweighted with a mean
/// reduction, else its per-sample values weighted and reduced.
pub(super) fn fused_or_reduced<L: Loss + ?Sized>(
    l: &L,
    y_true: &Tensor,
    y_pred: &Tensor,
    sample_weight: Option<&Tensor>,
    reduction: Reduction,
) -> Result<Tensor> {
    if sample_weight.is_none() && reduction.is_mean() {
        return l.call(y_true, y_pred);
    }
    reduce_weighted_values(&l.values(y_true, y_pred)?, sample_weight, reduction)
}

impl<T: Builtin> Loss for T {
    fn name(&self) -> &str {
        T::NAME
    }
    fn values(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        self.per_sample(y_true, y_pred)
    }
    fn call(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        self.fused(y_true, y_pred)
    }
    fn call_weighted(
        &self,
        y_true: &Tensor,
        y_pred: &Tensor,
        sample_weight: Option<&Tensor>,
    ) -> Result<Tensor> {
        fused_or_reduced(self, y_true, y_pred, sample_weight, Reduction::default())
    }
    fn get_config(&self) -> Value {
        if self.has_options() {
            full_config(self, Reduction::default())
        } else {
            Value::String(T::NAME.to_string())
        }
    }
}

impl<T: Builtin> BuiltinLoss for T {
    fn class_name(&self) -> &'static str {
        T::CLASS
    }
    fn config_args(&self) -> Map<String, Value> {
        self.args()
    }
}
