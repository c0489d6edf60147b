//! Keras's `layer.adapt(data)` for the layers that learn from data before training
//! (`Normalization`, `Discretization`, and the lookup layers `TextVectorization`,
//! `StringLookup`, `IntegerLookup`), from a tensor, batches, or a `keras::data::Dataset`.

use super::{Discretization, IntegerLookup, Normalization, StringLookup, TextVectorization};
use crate::data::{Dataset, Structure};
use crate::engine::{LayerRef, Shape};
use crate::ops::Tensor;
use crate::{Error, Result};

/// One batch of data for `adapt`: a tensor (owned or borrowed), or the `Result` of making
/// one (a dataset's elements).
pub trait AdaptBatch {
    /// The batch, or the error that replaced it.
    fn into_batch(self) -> Result<Tensor>;
}

impl AdaptBatch for Tensor {
    fn into_batch(self) -> Result<Tensor> {
        Ok(self)
    }
}

impl AdaptBatch for &Tensor {
    fn into_batch(self) -> Result<Tensor> {
        Ok(self.clone())
    }
}

impl AdaptBatch for Result<Tensor> {
    fn into_batch(self) -> Result<Tensor> {
        self
    }
}

/// Adapts a preprocessing layer held in a `LayerRef` to `data` (Keras's `layer.adapt(data)`):
/// a `Normalization` computes its mean and variance (building itself for `data`'s shape
/// first, as Keras does), a `Discretization` its bin boundaries, a `TextVectorization`,
/// `StringLookup` (string tensors, `keras::ops::strings`) or `IntegerLookup` its vocabulary.
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::preprocessing::{adapt, Discretization};
/// let d = Discretization::with_num_bins(2).into_layer();
/// adapt(&d, &Tensor::new(&[1f32, 2.0, 3.0, 4.0], &Device::Cpu)?)?;
/// let b = d.with(|d: &Discretization| d.bin_boundaries().unwrap().to_vec()).unwrap();
/// assert_eq!(b, vec![2.0]); // as Keras
/// # Ok::<(), keras::Error>(())
/// ```
pub fn adapt(layer: &LayerRef, data: &Tensor) -> Result<()> {
    adapt_batches(layer, [data])
}

/// [`adapt`] over batches of data, in order (combined as Keras combines a dataset's batches).
pub fn adapt_batches<I, B>(layer: &LayerRef, batches: I) -> Result<()>
where
    I: IntoIterator<Item = B>,
    B: AdaptBatch,
{
    let mut it = batches.into_iter().map(AdaptBatch::into_batch).peekable();
    if layer.with(|_: &Normalization| ()).is_some() {
        if !layer.built() {
            match it.peek() {
                Some(Ok(first)) => layer.build(&[Shape::known(first.dims())])?,
                Some(Err(_)) => return it.next().map(|r| r.map(|_| ())).unwrap_or(Ok(())),
                None => {}
            }
        }
        return layer
            .with_mut(|n: &mut Normalization| n.adapt_batches(it))
            .unwrap_or(Ok(()));
    }
    if layer.with(|_: &Discretization| ()).is_some() {
        return layer
            .with_mut(|d: &mut Discretization| d.adapt_batches(it))
            .unwrap_or(Ok(()));
    }
    if layer.with(|_: &TextVectorization| ()).is_some() {
        return layer
            .with_mut(|t: &mut TextVectorization| t.adapt_batches(it, None))
            .unwrap_or(Ok(()));
    }
    if layer.with(|_: &StringLookup| ()).is_some() {
        return layer
            .with_mut(|t: &mut StringLookup| t.adapt_batches(it, None))
            .unwrap_or(Ok(()));
    }
    if layer.with(|_: &IntegerLookup| ()).is_some() {
        return layer
            .with_mut(|t: &mut IntegerLookup| t.adapt_batches(it, None))
            .unwrap_or(Ok(()));
    }
    Err(Error::value(format!(
        "Layer \"{}\" ({}) has no adapt(); Normalization, Discretization, TextVectorization, \
         StringLookup and IntegerLookup do",
        layer.name(),
        layer.class_name()
    )))
}

/// [`adapt`] over a dataset: one pass, each element's inputs (the first tensor of an `(x, y)`
/// element) a batch. As Keras does, a `Normalization` batches a dataset of unbatched rank-1
/// elements by 128 first.
///
/// ```
/// use keras::prelude::*;
/// use keras::data::Dataset;
/// use keras::layers::preprocessing::{adapt_dataset, Normalization};
/// let x = Tensor::new(&[[0f32, 10.0], [2.0, 30.0], [4.0, 50.0]], &Device::Cpu)?;
/// let norm = Normalization::new().into_layer();
/// adapt_dataset(&norm, &Dataset::from_tensor_slices(x)?)?;
/// assert_eq!(norm.get_weights()?[0].to_vec1::<f32>()?, vec![2.0, 30.0]);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn adapt_dataset<T: Structure>(layer: &LayerRef, ds: &Dataset<T>) -> Result<()> {
    let inputs = ds.iter()?.map(|e| {
        e.and_then(|el| {
            el.components()
                .first()
                .map(|t| (*t).clone())
                .ok_or_else(|| {
                    Error::value(format!(
                        "adapt(): a dataset element has no tensor: {}",
                        el.describe()
                    ))
                })
        })
    });
    let mut inputs = inputs.peekable();
    let unbatched = matches!(inputs.peek(), Some(Ok(t)) if t.rank() == 1);
    if unbatched && layer.with(|_: &Normalization| ()).is_some() {
        let mut batches = vec![];
        let mut chunk: Vec<Tensor> = vec![];
        for t in inputs {
            chunk.push(t?);
            if chunk.len() == 128 {
                batches.push(Tensor::stack(&std::mem::take(&mut chunk), 0)?);
            }
        }
        if !chunk.is_empty() {
            batches.push(Tensor::stack(&chunk, 0)?);
        }
        return adapt_batches(layer, batches);
    }
    adapt_batches(layer, inputs)
}
