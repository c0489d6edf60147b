//! Data adapters, as Keras 3's `keras/src/trainers/data_adapters`: one adapter per kind of
//! source (in-memory arrays, a [`crate::data::Dataset`], a [`Sequence`], any iterator of
//! batches), all behind [`DataAdapter`], so the `EpochIterator` serves `fit`,
//! `evaluate` and `predict` from any of them the same way.

mod array_data_adapter;
mod data_adapter_utils;
mod dataset_adapter;
mod generator_data_adapter;
mod py_dataset_adapter;

pub(crate) use array_data_adapter::{ArrayDataAdapter, Arrays};
pub use data_adapter_utils::class_weight_to_sample_weights;
pub(crate) use data_adapter_utils::{batch_sample_weights, check_classes_present};
pub use dataset_adapter::{DatasetAdapter, IntoBatch, IntoData};
pub use generator_data_adapter::GeneratorDataAdapter;
pub use py_dataset_adapter::{PyDatasetAdapter, Sequence};

use super::data::Data;
use crate::Result;

/// One batch as a source yields it: inputs, targets (absent for `predict` sources) and sample
/// weights, each one array, a list or a map by name (Keras's `(x, y, sample_weight)` tuple).
///
/// ```
/// use keras::prelude::*;
/// use keras::trainers::Batch;
/// let x = Tensor::zeros((4, 2), DType::F32, &Device::Cpu)?;
/// let y = Tensor::zeros((4, 1), DType::F32, &Device::Cpu)?;
/// let b = Batch::new(&x).y(&y);
/// assert!(b.sample_weight.is_none());
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Batch {
    /// The model's inputs.
    pub x: Data,
    /// The targets.
    pub y: Option<Data>,
    /// Per-sample weights: one array for every output, or one per output.
    pub sample_weight: Option<Data>,
}

impl Batch {
    /// A batch of inputs only.
    pub fn new(x: impl Into<Data>) -> Self {
        Batch {
            x: x.into(),
            y: None,
            sample_weight: None,
        }
    }

    /// With targets.
    pub fn y(mut self, y: impl Into<Data>) -> Self {
        self.y = Some(y.into());
        self
    }

    /// With sample weights.
    pub fn sample_weight(mut self, w: impl Into<Data>) -> Self {
        self.sample_weight = Some(w.into());
        self
    }

    /// The batch with every array on `device`.
    pub fn to_device(&self, device: &crate::ops::Device) -> Result<Batch> {
        Ok(Batch {
            x: self.x.to_device(device)?,
            y: self.y.as_ref().map(|y| y.to_device(device)).transpose()?,
            sample_weight: self
                .sample_weight
                .as_ref()
                .map(|w| w.to_device(device))
                .transpose()?,
        })
    }
}

/// A pass over a source's batches.
pub type BatchIter = Box<dyn Iterator<Item = Result<Batch>> + Send>;

/// What the epoch iterator needs from a source of batches (Keras's `DataAdapter`).
///
/// Implement it to feed `fit` from a source of your own, then pass it as
/// `DataSource::adapter(Box::new(mine))`.
pub trait DataAdapter: Send {
    /// Starts a fresh pass over the data.
    fn iter(&mut self) -> Result<BatchIter>;
    /// Batches in one pass, when known (`None`: unknown or infinite).
    fn num_batches(&self) -> Option<usize>;
    /// Whether a pass never ends (a `repeat()`ed dataset): then `steps_per_epoch` is
    /// required.
    fn is_infinite(&self) -> bool {
        false
    }
    /// Whether each [`DataAdapter::iter`] starts the data again (`false`: an iterator read
    /// once, whose passes carry on one stream).
    fn rereadable(&self) -> bool {
        true
    }
    /// Called before each epoch.
    fn on_epoch_begin(&mut self) -> Result<()> {
        Ok(())
    }
    /// Called after each epoch (a `Sequence`'s `on_epoch_end`).
    fn on_epoch_end(&mut self) -> Result<()> {
        Ok(())
    }
}

/// A source of batches for `fit_dataset` / `evaluate_dataset` / `predict_dataset` and for
/// `validation_data`: a [`crate::data::Dataset`], a [`Sequence`], an iterator of batches or
/// an adapter of your own.
///
/// ```
/// use keras::prelude::*;
/// use keras::data::Dataset;
/// use keras::trainers::DataSource;
/// let x = Tensor::zeros((8, 2), DType::F32, &Device::Cpu)?;
/// let y = Tensor::zeros((8, 1), DType::F32, &Device::Cpu)?;
/// let ds = Dataset::from_tensor_slices((x, y))?.batch(4)?;
/// let source: DataSource = (&ds).into();
/// assert_eq!(source.num_batches(), Some(2));
/// # Ok::<(), keras::Error>(())
/// ```
pub struct DataSource(pub(crate) Box<dyn DataAdapter>);

impl DataSource {
    /// An adapter of your own.
    pub fn adapter(a: Box<dyn DataAdapter>) -> Self {
        DataSource(a)
    }

    /// A [`Sequence`] (Keras's `PyDataset`), read by its `workers()` threads.
    pub fn sequence<S: Sequence + 'static>(seq: S) -> Self {
        DataSource(Box::new(PyDatasetAdapter::new(seq)))
    }

    /// Any iterator of batches (Keras's generator input): each element converts to a
    /// [`Batch`] (a tensor, `(x, y)`, `(x, y, sample_weight)`). It is read once; its length
    /// is unknown, so epochs end where it runs out unless `steps_per_epoch` is given.
    pub fn generator<I, T>(iter: I) -> Self
    where
        I: Iterator<Item = T> + Send + 'static,
        T: IntoBatch,
    {
        DataSource(Box::new(GeneratorDataAdapter::new(iter)))
    }

    /// Batches in one pass, when known.
    pub fn num_batches(&self) -> Option<usize> {
        self.0.num_batches()
    }
}

impl std::fmt::Debug for DataSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DataSource(num_batches: {:?})", self.0.num_batches())
    }
}
