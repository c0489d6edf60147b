//! Loss functions, as `keras.losses`: by name, as classes with options, as Keras's
//! per-sample functions, and as user losses (a [`Loss`] impl or a closure,
//! [`LossFunctionWrapper`]).
//!
//! A loss gives per-sample values ([`Loss::values`], Keras's `call`) and reduces them,
//! optionally weighted by sample weights ([`Loss::call_weighted`], Keras's `__call__`), with
//! its [`Reduction`] (`sum_over_batch_size` by default: the weighted sum over the number of
//! values). Without sample weights the losses that have one take a fused path (one pass, one
//! backward) that gives the same mean.
//!
//! Losses are a registry kind (`Arc<dyn Loss>`, kind `"loss"`): every class is registered
//! under its Keras class name, [`get`] also takes Keras's function names and aliases, and
//! [`from_config`] reads Keras's serialized losses.
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
//! // Keras's function forms give the per-sample values.
//! let v = losses::mean_squared_error(&y_true, &y_pred)?;
//! assert_eq!(v.to_vec1::<f32>()?, vec![0.5, 0.5]);
//! # Ok::<(), keras::Error>(())
//! ```

mod builtin;
mod circle;
mod cosine;
mod crossentropy;
mod ctc;
mod focal;
mod generalized;
mod hinge;
mod log_cosh;
mod probabilistic;
mod reduced;
mod reduction;
mod registry;
mod regression;
mod relative;
mod segmentation;
mod sparse;
mod tensors;
mod wrapper;

pub use builtin::BuiltinLoss;
pub use circle::{circle, Circle};
pub use cosine::{cosine_similarity, CosineSimilarity};
pub use crossentropy::{
    binary_crossentropy, categorical_crossentropy, BinaryCrossentropy, CategoricalCrossentropy,
};
pub use ctc::{ctc, CTC};
pub use focal::{
    binary_focal_crossentropy, categorical_focal_crossentropy, BinaryFocalCrossentropy,
    CategoricalFocalCrossentropy,
};
pub use generalized::{categorical_generalized_cross_entropy, CategoricalGeneralizedCrossEntropy};
pub use hinge::{categorical_hinge, hinge, squared_hinge, CategoricalHinge, Hinge, SquaredHinge};
pub use log_cosh::{log_cosh, LogCosh};
pub use probabilistic::{kl_divergence, poisson, KLDivergence, Poisson};
pub use reduced::Reduced;
pub(crate) use reduction::{aligned_dims, broadcast_shapes, incompatible_shapes};
pub use reduction::{
    reduce_masked_values, reduce_weighted_values, squeeze_or_expand_to_same_rank, Reduction,
};
pub use registry::{from_config, get, names, LossArg, FUNCTIONS};
pub use regression::{
    huber, mean_absolute_error, mean_squared_error, Huber, MeanAbsoluteError, MeanSquaredError,
};
pub use relative::{
    mean_absolute_percentage_error, mean_squared_logarithmic_error, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
};
pub use segmentation::{dice, tversky, Axes, Dice, Tversky};
pub use sparse::{sparse_categorical_crossentropy, SparseCategoricalCrossentropy};
pub use wrapper::{from_fn, LossFn, LossFunctionWrapper};

use crate::ops::Tensor;
use crate::Result;
use serde_json::Value;

/// Keras's fuzz factor `keras.config.epsilon()`.
pub(crate) const EPSILON: f64 = 1e-7;

/// A loss function.
///
/// Implement [`values`](Loss::values) (Keras's `call`: one value per sample, or per sample
/// and step); `call` and `call_weighted` reduce them with [`get_reduction`](Loss::get_reduction).
/// A user loss is used in `compile` like a built-in one; to load a saved model that names it,
/// register its name (`object_registration::register::<Arc<dyn Loss>>`).
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
    /// How Keras serializes the loss: a built-in class as `{module, class_name, config}`
    /// (its name, reduction and options), a loss given by name or a user loss as its name.
    fn get_config(&self) -> Value {
        Value::String(self.name().to_string())
    }
}

/// A CPU `f32` tensor of shape `d` holding `v` (unit tests of losses and metrics).
#[cfg(test)]
pub(crate) fn test_tensor(v: &[f32], d: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), d, &crate::ops::Device::Cpu).unwrap()
}

#[cfg(test)]
mod tests;
