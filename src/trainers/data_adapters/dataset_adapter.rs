//! What a source's elements must be to feed a model, and the adapter for
//! [`crate::data::Dataset`] (Keras's `TFDatasetAdapter`).

use super::Batch;
use crate::ops::Tensor;
use crate::trainers::Data;
use crate::Result;

/// A part of a batch: the inputs, the targets or the sample weights (one tensor, a list in
/// the model's order, or a map by name).
pub trait IntoData {
    /// The part as [`Data`].
    fn into_data(self) -> Data;
}

impl IntoData for Tensor {
    fn into_data(self) -> Data {
        Data::One(self)
    }
}
impl IntoData for Vec<Tensor> {
    fn into_data(self) -> Data {
        Data::List(self)
    }
}
impl IntoData for Data {
    fn into_data(self) -> Data {
        self
    }
}

/// An element a source yields: inputs only (`x`), `(x, y)` or `(x, y, sample_weight)`, as
/// Keras unpacks them, or a [`Batch`].
///
/// ```
/// use keras::prelude::*;
/// use keras::trainers::IntoBatch;
/// let x = Tensor::zeros((4, 2), DType::F32, &Device::Cpu)?;
/// let y = Tensor::zeros((4, 1), DType::F32, &Device::Cpu)?;
/// let b = (x, y).into_batch()?;
/// assert!(b.y.is_some() && b.sample_weight.is_none());
/// # Ok::<(), keras::Error>(())
/// ```
pub trait IntoBatch: Send + 'static {
    /// The element as a batch.
    fn into_batch(self) -> Result<Batch>;
}

impl IntoBatch for Batch {
    fn into_batch(self) -> Result<Batch> {
        Ok(self)
    }
}
impl IntoBatch for Tensor {
    fn into_batch(self) -> Result<Batch> {
        Ok(Batch::new(self))
    }
}
impl IntoBatch for Vec<Tensor> {
    fn into_batch(self) -> Result<Batch> {
        Ok(Batch::new(self))
    }
}
impl<X: IntoData + Send + 'static, Y: IntoData + Send + 'static> IntoBatch for (X, Y) {
    fn into_batch(self) -> Result<Batch> {
        Ok(Batch {
            x: self.0.into_data(),
            y: Some(self.1.into_data()),
            sample_weight: None,
        })
    }
}
impl<X, Y, W> IntoBatch for (X, Y, W)
where
    X: IntoData + Send + 'static,
    Y: IntoData + Send + 'static,
    W: IntoData + Send + 'static,
{
    fn into_batch(self) -> Result<Batch> {
        Ok(Batch {
            x: self.0.into_data(),
            y: Some(self.1.into_data()),
            sample_weight: Some(self.2.into_data()),
        })
    }
}
impl<T: IntoBatch, E: Into<crate::Error> + Send + 'static> IntoBatch for std::result::Result<T, E> {
    fn into_batch(self) -> Result<Batch> {
        self.map_err(Into::into)?.into_batch()
    }
}

impl IntoData for crate::data::TensorMap {
    fn into_data(self) -> Data {
        Data::Named(self.into_vec())
    }
}

/// The adapter over a [`crate::data::Dataset`] whose elements are batches (Keras's
/// `TFDatasetAdapter`): each pass is a new iteration of the dataset, so a `shuffle` with
/// `reshuffle_each_iteration` reshuffles every epoch.
pub struct DatasetAdapter<T> {
    ds: crate::data::Dataset<T>,
}

impl<T: IntoBatch> DatasetAdapter<T> {
    /// An adapter reading `ds`.
    pub fn new(ds: crate::data::Dataset<T>) -> Self {
        DatasetAdapter { ds }
    }
}

impl<T: IntoBatch> super::DataAdapter for DatasetAdapter<T> {
    fn iter(&mut self) -> Result<super::BatchIter> {
        Ok(Box::new(
            self.ds.iter()?.map(|e| e.and_then(IntoBatch::into_batch)),
        ))
    }

    fn num_batches(&self) -> Option<usize> {
        self.ds.cardinality().finite()
    }

    fn is_infinite(&self) -> bool {
        self.ds.cardinality() == crate::data::Cardinality::Infinite
    }
}

impl<T: IntoBatch> From<crate::data::Dataset<T>> for super::DataSource {
    fn from(ds: crate::data::Dataset<T>) -> Self {
        super::DataSource(Box::new(DatasetAdapter::new(ds)))
    }
}

impl<T: IntoBatch> From<&crate::data::Dataset<T>> for super::DataSource {
    fn from(ds: &crate::data::Dataset<T>) -> Self {
        super::DataSource(Box::new(DatasetAdapter::new(ds.clone())))
    }
}

impl<T: IntoBatch> From<&crate::data::Dataset<T>> for crate::trainers::ValidationData {
    fn from(ds: &crate::data::Dataset<T>) -> Self {
        crate::trainers::ValidationData::Source(ds.into())
    }
}

impl<T: IntoBatch> From<crate::data::Dataset<T>> for crate::trainers::ValidationData {
    fn from(ds: crate::data::Dataset<T>) -> Self {
        crate::trainers::ValidationData::Source(ds.into())
    }
}

impl<T: IntoBatch> From<&crate::utils::DirectoryDataset<T>> for super::DataSource {
    fn from(ds: &crate::utils::DirectoryDataset<T>) -> Self {
        (&ds.dataset).into()
    }
}

impl<T: IntoBatch> From<&crate::utils::DirectoryDataset<T>> for crate::trainers::ValidationData {
    fn from(ds: &crate::utils::DirectoryDataset<T>) -> Self {
        crate::trainers::ValidationData::Source((&ds.dataset).into())
    }
}
