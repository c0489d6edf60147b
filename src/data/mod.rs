//! Input pipelines, as `tf.data`: a [`Dataset`] describes where elements come from and what
//! happens to them; [`Dataset::iter`] makes one pass over them (an epoch).
//!
//! The tutorials' pipeline:
//!
//! ```
//! use keras::data::Dataset;
//! use keras::prelude::*;
//! keras::utils::set_random_seed(42);
//! let x = Tensor::zeros((1000, 28, 28), DType::F32, &Device::Cpu)?;
//! let y = Tensor::zeros(1000, DType::U32, &Device::Cpu)?;
//! let ds = Dataset::from_tensor_slices((x, y))?
//!     .shuffle(10000)?
//!     .batch(32)?
//!     .prefetch(2)?;
//! assert_eq!(ds.cardinality().finite(), Some(32)); // ceil(1000 / 32)
//! for batch in ds.iter()? {
//!     let (images, labels) = batch?;
//!     assert_eq!(images.dims()[1..], [28, 28]);
//!     assert_eq!(labels.dims()[0], images.dims()[0]);
//! }
//! # Ok::<(), keras::Error>(())
//! ```
//!
//! A `Dataset` is cheap to clone and `Send + Sync`: it holds its stages behind `Arc`s and
//! produces nothing until iterated. Each [`Dataset::iter`] call is a new *iteration*: a
//! `shuffle` with `reshuffle_each_iteration` gives a new order each time, and the order of
//! every iteration is fixed by the seed (drawn from the generator that
//! `keras::utils::set_random_seed` seeds when the stage is built, unless given), so two runs
//! with the same seed see the same elements, whatever the number of worker threads.
//!
//! Elements are [`Structure`]s where a stage needs to look inside them (slicing, batching):
//! a [`Tensor`](crate::Tensor), a [`TensorMap`], a `Vec` or a tuple of those.
//!
//! Cost: `from_tensor_slices` elements are row views (no copy). A `batch` straight after
//! `from_tensor_slices` (through `shuffle`, `take`, `skip`, `repeat`) gathers each batch
//! in one copy per component from the shuffled row order; other batches stack their
//! elements. An MNIST-sized epoch (60000 x 28 x 28 f32) through `shuffle(10000).batch(32)`
//! takes about 30 ms on one core, as long as gathering the rows by index does.
//! `map`, `filter` and `prefetch` each have a pass-through cost per element.

mod batch;
mod cache;
mod combine;
mod map;
mod prefetch;
mod shard;
mod shuffle;
mod source;
mod structure;

pub(crate) use structure::describe_tensor;
pub use structure::{Structure, TensorMap};

use crate::{Error, Result};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// `tf.data.AUTOTUNE`: as a `num_parallel_calls`, one worker per core; as a prefetch buffer
/// size, a small default.
pub const AUTOTUNE: usize = usize::MAX;

/// The iterator a stage opens for one pass.
pub(crate) type BoxIter<T> = Box<dyn Iterator<Item = Result<T>> + Send>;

/// Which iteration a stage is opened for: the epoch, mixed with the repetition number inside
/// `repeat`. Random stages derive their per-iteration seed from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pass {
    pub key: u64,
}

impl Pass {
    /// The pass of repetition `rep` inside this one.
    pub fn sub(self, rep: u64) -> Pass {
        Pass {
            key: mix(self.key, rep.wrapping_add(1)),
        }
    }
}

/// Row numbers, in the order a pass visits them.
pub(crate) type RowIter = Box<dyn Iterator<Item = u32> + Send>;

/// The elements of a pass as rows of one structure: the structure (the data
/// `from_tensor_slices` was given) and the rows' order. `batch` gathers a batch in one copy
/// per component from it instead of stacking row views.
pub(crate) struct RowPlan<T> {
    pub data: T,
    pub rows: RowIter,
}

/// One stage of a pipeline.
pub(crate) trait Source<T>: Send + Sync {
    /// A fresh iterator over this stage's elements for `pass`.
    fn open(&self, pass: Pass) -> Result<BoxIter<T>>;
    /// The same pass as rows of one structure, where this stage's elements are that
    /// (`from_tensor_slices`, and `shuffle` / `take` / `skip` of it). It must give exactly the
    /// elements [`Source::open`] gives.
    fn row_plan(&self, _pass: Pass) -> Option<Result<RowPlan<T>>> {
        None
    }
    /// How many elements a pass yields, as far as known without running it.
    fn cardinality(&self) -> Cardinality;
    /// The stage's name, as tf.data's dataset classes (`BatchDataset`, ...).
    fn name(&self) -> &'static str;
}

/// Mixes two words into a well-spread seed (splitmix64's finalizer).
pub(crate) fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A seed for a random stage: `seed` when given, else one drawn from the global generator
/// (`keras::utils::set_random_seed`).
pub(crate) fn stage_seed(seed: Option<u64>) -> u64 {
    seed.unwrap_or_else(|| crate::ops::random::fork().next_u64())
}

/// How many elements a dataset yields per pass (`Dataset.cardinality()`).
///
/// ```
/// use keras::data::{Cardinality, Dataset};
/// let ds = Dataset::range(10)?;
/// assert_eq!(ds.cardinality(), Cardinality::Finite(10));
/// assert_eq!(ds.repeat(None).cardinality(), Cardinality::Infinite);
/// assert_eq!(ds.filter(|_| Ok(true)).cardinality(), Cardinality::Unknown);
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cardinality {
    /// Exactly this many.
    Finite(usize),
    /// Never ends (`tf.data.INFINITE_CARDINALITY`).
    Infinite,
    /// Not known without iterating (`tf.data.UNKNOWN_CARDINALITY`): after `filter`,
    /// from a generator.
    Unknown,
}

impl Cardinality {
    /// The count when finite.
    pub fn finite(self) -> Option<usize> {
        match self {
            Cardinality::Finite(n) => Some(n),
            _ => None,
        }
    }

    /// As tf.data reports it: the count, `-1` for infinite, `-2` for unknown.
    pub fn as_i64(self) -> i64 {
        match self {
            Cardinality::Finite(n) => n as i64,
            Cardinality::Infinite => -1,
            Cardinality::Unknown => -2,
        }
    }

    /// `f` applied to a finite count; infinite and unknown stay as they are.
    pub(crate) fn map(self, f: impl FnOnce(usize) -> usize) -> Cardinality {
        match self {
            Cardinality::Finite(n) => Cardinality::Finite(f(n)),
            c => c,
        }
    }
}

/// A pipeline of elements of type `T` (`tf.data.Dataset`).
///
/// Build one from tensors ([`Dataset::from_tensor_slices`]), a generator
/// ([`Dataset::from_generator`]) or [`Dataset::range`], chain transformations
/// (`shuffle`, `map`, `batch`, `prefetch`, ...), then iterate with [`Dataset::iter`].
///
/// ```
/// use keras::data::Dataset;
/// let ds = Dataset::range(5)?.map(|t| Ok((t * 2.0)?));
/// let v: Vec<i64> = ds.iter()?.map(|e| e.unwrap().to_vec0::<i64>().unwrap()).collect();
/// assert_eq!(v, [0, 2, 4, 6, 8]);
/// # Ok::<(), keras::Error>(())
/// ```
pub struct Dataset<T> {
    src: Arc<dyn Source<T>>,
    passes: Arc<AtomicU64>,
}

impl<T> Clone for Dataset<T> {
    fn clone(&self) -> Self {
        Dataset {
            src: self.src.clone(),
            passes: self.passes.clone(),
        }
    }
}

impl<T> std::fmt::Debug for Dataset<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "<{} cardinality={}>",
            self.src.name(),
            self.src.cardinality().as_i64()
        )
    }
}

impl<T: Send + 'static> Dataset<T> {
    /// A dataset of one stage (with its own iteration counter).
    pub(crate) fn from_source(src: impl Source<T> + 'static) -> Self {
        Dataset {
            src: Arc::new(src),
            passes: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The stage behind this dataset (for building the next one).
    pub(crate) fn source(&self) -> Arc<dyn Source<T>> {
        self.src.clone()
    }

    /// One fresh pass over the elements (an epoch). Each call is a new iteration: the
    /// `n`-th call on a dataset (or any of its clones) is [`Dataset::iter_epoch`]`(n)`.
    ///
    /// The iterator yields `Err` where an element could not be made (a failing `map`, a
    /// batch of unequal shapes) and ends after it.
    ///
    /// ```
    /// use keras::data::Dataset;
    /// let ds = Dataset::range(100)?.shuffle_with(100, Some(1), true)?;
    /// let a: Vec<_> = ds.iter()?.map(|e| e.unwrap().to_vec0::<i64>().unwrap()).collect();
    /// let b: Vec<_> = ds.iter()?.map(|e| e.unwrap().to_vec0::<i64>().unwrap()).collect();
    /// assert_ne!(a, b); // reshuffled
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn iter(&self) -> Result<DatasetIter<T>> {
        let epoch = self.passes.fetch_add(1, Ordering::Relaxed);
        self.iter_epoch(epoch)
    }

    /// The pass of iteration `epoch`, without touching the iteration counter: the same
    /// `epoch` gives the same elements every time.
    ///
    /// ```
    /// use keras::data::Dataset;
    /// let ds = Dataset::range(50)?.shuffle_with(50, Some(3), true)?;
    /// let read = |e| -> Vec<i64> {
    ///     ds.iter_epoch(e).unwrap().map(|x| x.unwrap().to_vec0::<i64>().unwrap()).collect()
    /// };
    /// assert_eq!(read(4), read(4));
    /// assert_ne!(read(4), read(5));
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn iter_epoch(&self, epoch: u64) -> Result<DatasetIter<T>> {
        Ok(DatasetIter {
            inner: Some(self.src.open(Pass { key: epoch })?),
        })
    }

    /// How many elements a pass yields, as tf.data computes it without iterating.
    ///
    /// ```
    /// use keras::data::{Cardinality, Dataset};
    /// let ds = Dataset::range(10)?;
    /// assert_eq!(ds.batch(3)?.cardinality(), Cardinality::Finite(4));
    /// assert_eq!(ds.batch_with(3, true)?.cardinality(), Cardinality::Finite(3));
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn cardinality(&self) -> Cardinality {
        self.src.cardinality()
    }

    /// The number of elements, for a finite dataset (Python's `len(dataset)`); an error
    /// naming the reason for an infinite or unknown one.
    ///
    /// ```
    /// use keras::data::Dataset;
    /// let ds = Dataset::range(7)?;
    /// assert_eq!(ds.len()?, 7);
    /// assert_eq!(ds.repeat(None).len().unwrap_err().to_string(), "The dataset is infinite.");
    /// # Ok::<(), keras::Error>(())
    /// ```
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> Result<usize> {
        match self.cardinality() {
            Cardinality::Finite(n) => Ok(n),
            Cardinality::Infinite => Err(Error::value("The dataset is infinite.")),
            Cardinality::Unknown => Err(Error::value("The dataset length is unknown.")),
        }
    }
}

/// One pass over a [`Dataset`]: yields `Result<T>` and ends after the first `Err`.
///
/// Dropping it early is fine: background threads (`prefetch`, parallel `map`) are stopped
/// and joined.
pub struct DatasetIter<T> {
    inner: Option<BoxIter<T>>,
}

impl<T> Iterator for DatasetIter<T> {
    type Item = Result<T>;
    fn next(&mut self) -> Option<Result<T>> {
        let item = self.inner.as_mut()?.next();
        match &item {
            None | Some(Err(_)) => self.inner = None,
            Some(Ok(_)) => {}
        }
        item
    }
}

impl<T> std::fmt::Debug for DatasetIter<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.inner.is_some() {
            "DatasetIter"
        } else {
            "DatasetIter(finished)"
        })
    }
}

/// Helper for tests and doc examples: the values of a pass of scalar int64 elements.
#[cfg(test)]
pub(crate) fn ints(ds: &Dataset<crate::ops::Tensor>) -> Vec<i64> {
    ds.iter()
        .unwrap()
        .map(|e| e.unwrap().to_vec0::<i64>().unwrap())
        .collect()
}
