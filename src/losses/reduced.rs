//! A built-in loss with Keras's `reduction=` and `name=` arguments.

use super::builtin::full_config;
use super::{BuiltinLoss, Loss, Reduction};
use crate::ops::Tensor;
use crate::Result;
use serde_json::Value;

/// A built-in loss with another [`Reduction`] (made by its `.reduction(..)` method, as
/// Keras's `reduction=` argument) and, optionally, another name (Keras's `name=`).
///
/// ```
/// use keras::prelude::*;
/// use keras::losses::{Loss, Reduction, SparseCategoricalCrossentropy};
/// let l = SparseCategoricalCrossentropy::new().from_logits(true).reduction(Reduction::Sum);
/// assert_eq!(l.get_reduction(), Reduction::Sum);
/// assert_eq!(l.get_config()["config"]["reduction"], "sum");
/// let named = l.named("scce");
/// assert_eq!(named.name(), "scce");
/// assert_eq!(named.get_config()["config"]["name"], "scce");
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Reduced<L> {
    /// The loss.
    pub loss: L,
    /// Its reduction.
    pub reduction: Reduction,
    name: Option<String>,
}

impl<L> Reduced<L> {
    /// `loss` reduced by `reduction`.
    pub fn new(loss: L, reduction: Reduction) -> Self {
        Reduced {
            loss,
            reduction,
            name: None,
        }
    }

    /// The same loss under another name (Keras's `name=`).
    pub fn named(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }
}

impl<L: BuiltinLoss> Loss for Reduced<L> {
    fn name(&self) -> &str {
        self.name.as_deref().unwrap_or(self.loss.name())
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
        self.loss
            .reduce_with(y_true, y_pred, sample_weight, self.reduction)
    }
    fn get_config(&self) -> Value {
        full_config(&self.loss, self.reduction, self.name.as_deref())
    }
}
