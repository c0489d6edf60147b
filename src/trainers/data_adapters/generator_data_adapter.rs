//! Any Rust iterator of batches (Keras's `GeneratorDataAdapter`): read once, length unknown.

use super::{BatchIter, DataAdapter, IntoBatch};
use crate::Result;
use std::sync::{Arc, Mutex};

/// Feeds batches from an iterator. Every pass continues where the previous one stopped (a
/// generator is not rewound); the length is unknown, so an epoch ends where the iterator
/// runs out unless `steps_per_epoch` bounds it.
///
/// ```
/// use keras::prelude::*;
/// use keras::trainers::{DataAdapter, GeneratorDataAdapter};
/// let batches = (0..3).map(|_| Tensor::zeros((4, 2), DType::F32, &Device::Cpu));
/// let mut a = GeneratorDataAdapter::new(batches);
/// assert_eq!(a.num_batches(), None);
/// assert_eq!(a.iter()?.count(), 3);
/// # Ok::<(), keras::Error>(())
/// ```
pub struct GeneratorDataAdapter {
    next: Arc<Mutex<dyn FnMut() -> Option<Result<super::Batch>> + Send>>,
}

impl GeneratorDataAdapter {
    /// An adapter over `iter`.
    pub fn new<I, T>(iter: I) -> Self
    where
        I: Iterator<Item = T> + Send + 'static,
        T: IntoBatch,
    {
        let mut iter = iter;
        GeneratorDataAdapter {
            next: Arc::new(Mutex::new(move || iter.next().map(IntoBatch::into_batch))),
        }
    }
}

impl DataAdapter for GeneratorDataAdapter {
    fn iter(&mut self) -> Result<BatchIter> {
        let next = self.next.clone();
        Ok(Box::new(std::iter::from_fn(move || {
            (next.lock().unwrap_or_else(|e| e.into_inner()))()
        })))
    }

    fn num_batches(&self) -> Option<usize> {
        None
    }

    fn rereadable(&self) -> bool {
        false
    }
}
