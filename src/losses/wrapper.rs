//! User losses from a closure: Keras's `LossFunctionWrapper`.

use super::tensors::aligned;
use super::{Loss, Reduction};
use crate::ops::Tensor;
use crate::Result;
use serde_json::Value;
use std::sync::Arc;

/// A per-sample loss function: `(y_true, y_pred)` to one value per sample.
pub type LossFn = Arc<dyn Fn(&Tensor, &Tensor) -> Result<Tensor> + Send + Sync>;

/// A loss made from a function of `(y_true, y_pred)` giving per-sample values (Keras's
/// `LossFunctionWrapper`): `y_true` and `y_pred` reach it as floats, aligned as Keras aligns
/// them (`squeeze_or_expand_to_same_rank`); its values are weighted and reduced like any
/// loss's. Use it in `compile` like a built-in loss. Its config is its name: register the
/// name to load a saved model that uses it.
///
/// ```
/// use keras::prelude::*;
/// use keras::losses::{self, Loss};
/// let quartic = losses::LossFunctionWrapper::new("quartic", |y_true, y_pred| {
///     Ok((y_pred - y_true)?.powf(4.0)?.mean(1)?)
/// });
/// let t = Tensor::new(&[[0f32], [0.0]], &Device::Cpu)?;
/// let p = Tensor::new(&[[1f32], [2.0]], &Device::Cpu)?;
/// assert_eq!(keras::ops::scalar(&quartic.call(&t, &p)?)?, 8.5);
///
/// let mut model = Sequential::from_layers([Dense::new(1).input_shape(&[2]).into()])?;
/// model.compile("sgd", quartic.clone(), ["mae"])?;
/// let x = Tensor::new(&[[1f32, 2.0], [3.0, 4.0]], &Device::Cpu)?;
/// let logs = model.train_on_batch(&x, &t)?;
/// assert!(logs.get("loss").unwrap().is_finite());
///
/// // A saved model names the loss "quartic"; registering the name loads it back.
/// keras::saving::object_registration::register::<std::sync::Arc<dyn Loss>>("quartic", move |_| {
///     Ok(std::sync::Arc::new(quartic.clone()))
/// });
/// assert_eq!(losses::get("quartic")?.name(), "quartic");
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone)]
pub struct LossFunctionWrapper {
    name: String,
    f: LossFn,
    reduction: Reduction,
}

impl LossFunctionWrapper {
    /// The loss `name` computed by `f`, reduced by the default reduction.
    pub fn new(
        name: &str,
        f: impl Fn(&Tensor, &Tensor) -> Result<Tensor> + Send + Sync + 'static,
    ) -> Self {
        LossFunctionWrapper {
            name: name.to_string(),
            f: Arc::new(f),
            reduction: Reduction::default(),
        }
    }

    /// The same loss with another reduction (Keras's `reduction=` argument).
    pub fn reduction(self, reduction: Reduction) -> Self {
        LossFunctionWrapper { reduction, ..self }
    }
}

/// [`LossFunctionWrapper::new`]: the loss `name` computed by `f`.
///
/// ```
/// use keras::prelude::*;
/// use keras::losses::{from_fn, Loss};
/// let l = from_fn("abs_sum", |t, p| Ok((p - t)?.abs()?.sum(1)?));
/// let t = Tensor::new(&[[0f32, 0.0]], &Device::Cpu)?;
/// let p = Tensor::new(&[[1f32, -2.0]], &Device::Cpu)?;
/// assert_eq!(keras::ops::scalar(&l.call(&t, &p)?)?, 3.0);
/// assert_eq!(l.get_config(), "abs_sum");
/// # Ok::<(), keras::Error>(())
/// ```
pub fn from_fn(
    name: &str,
    f: impl Fn(&Tensor, &Tensor) -> Result<Tensor> + Send + Sync + 'static,
) -> LossFunctionWrapper {
    LossFunctionWrapper::new(name, f)
}

impl std::fmt::Debug for LossFunctionWrapper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LossFunctionWrapper({}, {})", self.name, self.reduction)
    }
}

impl Loss for LossFunctionWrapper {
    fn name(&self) -> &str {
        &self.name
    }
    fn values(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        let (t, p) = aligned(y_true, y_pred)?;
        (self.f)(&t, &p)
    }
    fn get_reduction(&self) -> Reduction {
        self.reduction
    }
    fn get_config(&self) -> Value {
        Value::String(self.name.clone())
    }
}
