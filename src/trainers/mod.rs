//! Training: `compile` arguments, the data adapter, the `fit` / `evaluate` / `predict` loops
//! and the progress bar.
//!
//! The loops work on anything that implements [`Network`]; every model does.

mod batch_args;
mod compile;
mod compile_config;
mod compile_utils;
mod data;
pub mod data_adapters;
mod epoch_iterator;
mod fit_args;
mod loops;
mod outputs;
mod progbar;
mod trainer;

pub use batch_args::BatchArgs;
pub use compile::{CompileArgs, LossSpec, LossWeights, MetricsSpec};
pub use data::Data;
pub use data_adapters::{
    class_weight_to_sample_weights, Batch, DataAdapter, DataSource, DatasetAdapter,
    GeneratorDataAdapter, IntoBatch, IntoData, PyDatasetAdapter, Sequence,
};
pub use fit_args::{EvalArgs, FitArgs, ValidationData};
pub(crate) use loops::{evaluate, evaluate_source, fit, fit_source, predict, predict_source};
pub use outputs::FromOutputs;
pub use progbar::Progbar;
pub use trainer::{StepContext, Trainer};

use crate::engine::Weight;
use crate::ops::Tensor;
use crate::Result;

/// What the training loop needs from a model.
pub trait Network {
    /// The model's name.
    fn name(&self) -> String;
    /// Outputs for real inputs; `training` selects dropout / batch statistics.
    fn forward(&self, inputs: &[Tensor], training: bool) -> Result<Vec<Tensor>>;
    /// Input names, in order (to match `x` given as a map).
    fn input_names(&self) -> Vec<String>;
    /// Output names, in order (to match `y`, losses and metrics given as maps).
    fn output_names(&self) -> Vec<String>;
    /// The weights to train.
    fn trainable_weights(&self) -> Vec<Weight>;
    /// Builds the network for inputs like these, if it is not built yet (a `Sequential`
    /// without an input shape, a subclassed model), so its weights exist before training.
    fn ensure_built(&self, _inputs: &[Tensor]) -> Result<()> {
        Ok(())
    }
    /// A custom training step, replacing the default one (a subclassed model's `train_step`).
    fn train_step(
        &self,
        _step: &mut StepContext,
        _x: &[Tensor],
        _y: &[Tensor],
    ) -> Option<Result<crate::callbacks::Logs>> {
        None
    }
}
