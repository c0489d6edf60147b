//! The arguments of `fit`, `evaluate` and `predict`, with Keras's defaults.

use super::data::Data;
use super::data_adapters::DataSource;
use crate::callbacks::Callback;
use std::collections::HashMap;

/// Validation data for `fit`: arrays as a pair `(x, y)` or a triple `(x, y, sample_weight)`
/// of anything that converts to [`Data`], or a source of batches (a
/// [`crate::data::Dataset`], a [`super::Sequence`]: anything that converts to
/// [`DataSource`]).
///
/// ```
/// use keras::prelude::*;
/// let x_val = Tensor::zeros((4, 2), DType::F32, &Device::Cpu)?;
/// let y_val = Tensor::zeros((4, 1), DType::F32, &Device::Cpu)?;
/// let args = FitArgs { validation_data: Some((&x_val, &y_val).into()), ..Default::default() };
/// let val_ds = keras::data::Dataset::from_tensor_slices((x_val, y_val))?.batch(2)?;
/// let args = FitArgs { validation_data: Some((&val_ds).into()), ..Default::default() };
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Debug)]
pub enum ValidationData {
    /// In-memory arrays.
    Arrays {
        /// The inputs.
        x: Data,
        /// The targets.
        y: Data,
        /// Per-sample weights.
        sample_weight: Option<Data>,
    },
    /// Batches from a source.
    Source(DataSource),
}

impl<X: Into<Data>, Y: Into<Data>> From<(X, Y)> for ValidationData {
    fn from((x, y): (X, Y)) -> Self {
        ValidationData::Arrays {
            x: x.into(),
            y: y.into(),
            sample_weight: None,
        }
    }
}

impl<X: Into<Data>, Y: Into<Data>, W: Into<Data>> From<(X, Y, W)> for ValidationData {
    fn from((x, y, w): (X, Y, W)) -> Self {
        ValidationData::Arrays {
            x: x.into(),
            y: y.into(),
            sample_weight: Some(w.into()),
        }
    }
}

impl From<DataSource> for ValidationData {
    fn from(s: DataSource) -> Self {
        ValidationData::Source(s)
    }
}

/// Arguments of `fit`, with Keras's defaults (`batch_size` 32, one epoch, verbose 1, shuffle).
/// The callbacks are borrowed: read their state after `fit`.
///
/// ```
/// use keras::prelude::*;
/// use keras::callbacks::EarlyStopping;
/// use std::collections::HashMap;
/// let mut stop = EarlyStopping::new().monitor("val_loss").patience(3);
/// let args = FitArgs {
///     epochs: 5,
///     validation_split: 0.1,
///     class_weight: Some(HashMap::from([(0, 1.0), (1, 5.0)])),
///     callbacks: vec![&mut stop],
///     ..Default::default()
/// };
/// assert_eq!(args.batch_size, 32);
/// ```
pub struct FitArgs<'a> {
    /// Samples per gradient step (arrays only: a source's batches are its own).
    pub batch_size: usize,
    /// Passes over the data.
    pub epochs: usize,
    /// 0 silent, 1 progress bar, 2 one line per epoch.
    pub verbose: u8,
    /// Fraction of the data (taken from the end, before shuffling) held out for validation
    /// (arrays only).
    pub validation_split: f64,
    /// Validation data (takes precedence over `validation_split`):
    /// `Some((&x_val, &y_val).into())` or `Some((&val_ds).into())`.
    pub validation_data: Option<ValidationData>,
    /// Shuffle the training samples before each epoch (arrays only).
    pub shuffle: bool,
    /// Per-sample weights for the training arrays: one array for every output, or one per
    /// output (Keras's `sample_weight`).
    pub sample_weight: Option<Data>,
    /// Weights by class index for a single-output model (Keras's `class_weight`): each
    /// sample's loss is scaled by its class's weight (1 for classes not listed).
    pub class_weight: Option<HashMap<usize, f64>>,
    /// Epoch to start from (for resuming).
    pub initial_epoch: usize,
    /// Batches per epoch; a source then carries on where the previous epoch stopped (use
    /// `repeat()` on a Dataset that should run for `steps_per_epoch * epochs` batches).
    pub steps_per_epoch: Option<usize>,
    /// Batches per validation run (default: all of the validation data).
    pub validation_steps: Option<usize>,
    /// Batch size for validation arrays (default: `batch_size`).
    pub validation_batch_size: Option<usize>,
    /// Validate every `validation_freq` epochs (default 1).
    pub validation_freq: usize,
    /// Hooks called during training, in order (then the History and the progress bar).
    pub callbacks: Vec<&'a mut dyn Callback>,
}

impl Default for FitArgs<'_> {
    fn default() -> Self {
        FitArgs {
            batch_size: 32,
            epochs: 1,
            verbose: 1,
            validation_split: 0.0,
            validation_data: None,
            shuffle: true,
            sample_weight: None,
            class_weight: None,
            initial_epoch: 0,
            steps_per_epoch: None,
            validation_steps: None,
            validation_batch_size: None,
            validation_freq: 1,
            callbacks: vec![],
        }
    }
}

/// Arguments of `evaluate` and `predict` (batch size 32, verbose 1, no callbacks).
///
/// ```
/// use keras::prelude::*;
/// let quiet = EvalArgs { verbose: 0, ..Default::default() };
/// assert_eq!(quiet.batch_size, 32);
/// ```
pub struct EvalArgs<'a> {
    /// Samples per batch (arrays only).
    pub batch_size: usize,
    /// 0 silent, 1 progress bar, 2 one line.
    pub verbose: u8,
    /// Batches to run (default: all of the data).
    pub steps: Option<usize>,
    /// Per-sample weights for `evaluate` on arrays (ignored by `predict`).
    pub sample_weight: Option<Data>,
    /// Hooks called during the run (`on_test_*` or `on_predict_*`).
    pub callbacks: Vec<&'a mut dyn Callback>,
}

impl Default for EvalArgs<'_> {
    fn default() -> Self {
        EvalArgs {
            batch_size: 32,
            verbose: 1,
            steps: None,
            sample_weight: None,
            callbacks: vec![],
        }
    }
}

impl EvalArgs<'_> {
    /// Silent, batch size 32.
    pub fn quiet() -> Self {
        EvalArgs {
            verbose: 0,
            ..Default::default()
        }
    }
}

/// Keras's keyword arguments as builder calls: `model.fit(x, y, epochs=5, batch_size=64)` is
/// `model.fit(&x, &y, FitArgs::new().epochs(5).batch_size(64))`. Each method sets the field of
/// the same name; the rest keep Keras's defaults.
///
/// ```
/// use keras::prelude::*;
/// use keras::callbacks::EarlyStopping;
/// let x_val = Tensor::zeros((4, 2), DType::F32, &Device::Cpu)?;
/// let mut stop = EarlyStopping::new().patience(2);
/// let args = FitArgs::new()
///     .epochs(5)
///     .batch_size(64)
///     .validation_data((&x_val, &x_val))
///     .class_weight([(0, 1.0), (1, 5.0)])
///     .callback(&mut stop);
/// assert_eq!((args.epochs, args.batch_size, args.verbose, args.callbacks.len()), (5, 64, 1, 1));
/// # Ok::<(), keras::Error>(())
/// ```
impl<'a> FitArgs<'a> {
    /// Keras's defaults (the same as `FitArgs::default()`).
    pub fn new() -> Self {
        Self::default()
    }
    /// Samples per gradient step (default 32).
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }
    /// Passes over the data (default 1).
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }
    /// 0 silent, 1 progress bar (default), 2 one line per epoch.
    pub fn verbose(mut self, verbose: u8) -> Self {
        self.verbose = verbose;
        self
    }
    /// The fraction of the samples, taken from the end, held out for validation.
    pub fn validation_split(mut self, validation_split: f64) -> Self {
        self.validation_split = validation_split;
        self
    }
    /// Data to validate on at the end of each epoch: `(x, y)`, `(x, y, sample_weight)` or a
    /// source of batches.
    pub fn validation_data(mut self, data: impl Into<ValidationData>) -> Self {
        self.validation_data = Some(data.into());
        self
    }
    /// Whether to shuffle the samples before each epoch (default true).
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }
    /// Per-sample weights of the loss.
    pub fn sample_weight(mut self, sample_weight: impl Into<Data>) -> Self {
        self.sample_weight = Some(sample_weight.into());
        self
    }
    /// Loss weights by class index.
    pub fn class_weight(mut self, weights: impl IntoIterator<Item = (usize, f64)>) -> Self {
        self.class_weight = Some(weights.into_iter().collect());
        self
    }
    /// The epoch to start at (to resume training).
    pub fn initial_epoch(mut self, initial_epoch: usize) -> Self {
        self.initial_epoch = initial_epoch;
        self
    }
    /// Batches per epoch (default: all of the data).
    pub fn steps_per_epoch(mut self, steps: usize) -> Self {
        self.steps_per_epoch = Some(steps);
        self
    }
    /// Validation batches per run (default: all of the validation data).
    pub fn validation_steps(mut self, steps: usize) -> Self {
        self.validation_steps = Some(steps);
        self
    }
    /// Samples per validation batch (default: `batch_size`).
    pub fn validation_batch_size(mut self, batch_size: usize) -> Self {
        self.validation_batch_size = Some(batch_size);
        self
    }
    /// Validate every this many epochs (default 1).
    pub fn validation_freq(mut self, freq: usize) -> Self {
        self.validation_freq = freq;
        self
    }
    /// Adds a callback (borrowed: read its state after `fit`).
    pub fn callback(mut self, callback: &'a mut dyn Callback) -> Self {
        self.callbacks.push(callback);
        self
    }
    /// Sets the callbacks.
    pub fn callbacks(mut self, callbacks: Vec<&'a mut dyn Callback>) -> Self {
        self.callbacks = callbacks;
        self
    }
}

/// `evaluate(x, y, batch_size=64, verbose=0)` is `evaluate(&x, &y, EvalArgs::new().batch_size(64).verbose(0))`.
///
/// ```
/// use keras::prelude::*;
/// let args = EvalArgs::new().batch_size(64).verbose(0);
/// assert_eq!((args.batch_size, args.verbose, args.steps), (64, 0, None));
/// ```
impl<'a> EvalArgs<'a> {
    /// Keras's defaults (the same as `EvalArgs::default()`).
    pub fn new() -> Self {
        Self::default()
    }
    /// Samples per batch (default 32).
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }
    /// 0 silent, 1 progress bar (default), 2 one line.
    pub fn verbose(mut self, verbose: u8) -> Self {
        self.verbose = verbose;
        self
    }
    /// Batches to run (default: all of the data).
    pub fn steps(mut self, steps: usize) -> Self {
        self.steps = Some(steps);
        self
    }
    /// Per-sample weights (evaluate only).
    pub fn sample_weight(mut self, sample_weight: impl Into<Data>) -> Self {
        self.sample_weight = Some(sample_weight.into());
        self
    }
    /// Adds a callback.
    pub fn callback(mut self, callback: &'a mut dyn Callback) -> Self {
        self.callbacks.push(callback);
        self
    }
}
