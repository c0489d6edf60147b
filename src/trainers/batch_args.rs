//! The weighting arguments of `train_on_batch` / `test_on_batch` (Keras's
//! `train_on_batch(x, y, sample_weight=None, class_weight=None)`).

use super::data::Data;
use super::data_adapters::{batch_sample_weights, Arrays};
use super::Network;
use crate::Result;
use std::collections::HashMap;

/// Sample or class weights for one batch, for `Model::train_on_batch_with` and
/// `Model::test_on_batch_with`.
///
/// `sample_weight` is one array for every output (`(batch,)`, `(batch, 1)`, or
/// `(batch, steps)` for a sequence output), or one per output as a list or a map by output
/// name. `class_weight` maps class indices to weights for a single-output model: each sample
/// weighs its class's weight (1 for classes not listed; one-hot targets are read by their
/// arg-max), as Keras's `class_weight_to_sample_weights`. The two cannot be given together.
///
/// ```
/// use keras::prelude::*;
/// use keras::trainers::BatchArgs;
/// use std::collections::HashMap;
/// let mut model = Sequential::from_layers([Input::new([2]).into(), Dense::new(3).into()])?;
/// model.compile_with(
///     CompileArgs::new("sgd", keras::losses::SparseCategoricalCrossentropy::new().from_logits(true))
///         .weighted_metrics(["accuracy"]),
/// )?;
/// let x = Tensor::ones((4, 2), DType::F32, &Device::Cpu)?;
/// let y = Tensor::new(&[0u32, 1, 2, 1], &Device::Cpu)?;
/// let w = Tensor::new(&[1f32, 0.5, 2.0, 0.0], &Device::Cpu)?;
/// let logs = model.train_on_batch_with(&x, &y, BatchArgs::default().sample_weight(&w))?;
/// assert!(logs.get("accuracy").is_some());
/// let cw = HashMap::from([(0, 1.0), (1, 3.0)]);
/// model.train_on_batch_with(&x, &y, BatchArgs::default().class_weight(cw))?;
/// let eval = model.test_on_batch_with(&x, &y, BatchArgs::default().sample_weight(&w))?;
/// assert!(eval.get("loss").unwrap().is_finite());
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct BatchArgs {
    /// Per-sample weights (Keras's `sample_weight`).
    pub sample_weight: Option<Data>,
    /// Weights by class index (Keras's `class_weight`), for training only.
    pub class_weight: Option<HashMap<usize, f64>>,
}

impl BatchArgs {
    /// Sets the sample weights.
    pub fn sample_weight(mut self, w: impl Into<Data>) -> Self {
        self.sample_weight = Some(w.into());
        self
    }

    /// Sets the class weights.
    pub fn class_weight(mut self, cw: HashMap<usize, f64>) -> Self {
        self.class_weight = Some(cw);
        self
    }

    /// The batch with its sample weights resolved against the model's outputs (class
    /// weights turned into sample weights); refuses both at once, as Keras does.
    pub(crate) fn weigh(self, net: &dyn Network, d: Arrays) -> Result<Arrays> {
        let sw = batch_sample_weights(
            self.sample_weight,
            self.class_weight.as_ref(),
            &d.ys,
            &net.output_names(),
            "Arguments `sample_weight` and `class_weight` cannot be specified at the same time.",
        )?;
        if sw.is_empty() {
            return Ok(d);
        }
        // Keras's cardinality check covers the weights too.
        Arrays::with_weights(d.xs, d.ys, sw)
    }
}
