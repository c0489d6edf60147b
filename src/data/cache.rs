//! `cache`: the first complete pass is kept in memory, later passes replay it.

use super::{BoxIter, Cardinality, Dataset, Pass, Source};
use crate::Result;
use std::sync::{Arc, Mutex};

type Slot<T> = Arc<Mutex<Option<Arc<Vec<T>>>>>;

struct Cache<T> {
    up: Arc<dyn Source<T>>,
    slot: Slot<T>,
}

impl<T: Clone + Send + Sync + 'static> Source<T> for Cache<T> {
    fn open(&self, pass: Pass) -> Result<BoxIter<T>> {
        let cached = self.slot.lock().ok().and_then(|s| s.clone());
        if let Some(items) = cached {
            let mut i = 0;
            return Ok(Box::new(std::iter::from_fn(move || {
                let item = items.get(i)?.clone();
                i += 1;
                Some(Ok(item))
            })));
        }
        let mut up = self.up.open(pass)?;
        let slot = self.slot.clone();
        let mut record: Option<Vec<T>> = Some(Vec::new());
        Ok(Box::new(std::iter::from_fn(move || match up.next() {
            Some(Ok(e)) => {
                if let Some(r) = record.as_mut() {
                    r.push(e.clone());
                }
                Some(Ok(e))
            }
            Some(Err(e)) => {
                // A pass that failed is not cached.
                record = None;
                Some(Err(e))
            }
            None => {
                if let (Some(r), Ok(mut s)) = (record.take(), slot.lock()) {
                    if s.is_none() {
                        *s = Some(Arc::new(r));
                    }
                }
                None
            }
        })))
    }
    fn cardinality(&self) -> Cardinality {
        self.up.cardinality()
    }
    fn name(&self) -> &'static str {
        "CacheDataset"
    }
}

impl<T: Clone + Send + Sync + 'static> Dataset<T> {
    /// Keeps the elements of the first complete pass in memory; later passes replay them
    /// without running the stages before (`Dataset.cache()`). A pass stopped early or
    /// failed is not kept. Random stages before the cache are fixed by it (the same order
    /// every epoch), as in tf.data.
    ///
    /// ```
    /// use keras::data::Dataset;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// let calls = Arc::new(AtomicUsize::new(0));
    /// let c = calls.clone();
    /// let ds = Dataset::range(5)?.map(move |t| { c.fetch_add(1, Ordering::SeqCst); Ok(t) }).cache();
    /// assert_eq!(ds.iter()?.count(), 5);
    /// assert_eq!(ds.iter()?.count(), 5);
    /// assert_eq!(calls.load(Ordering::SeqCst), 5); // the map ran once per element
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn cache(&self) -> Self {
        Dataset::from_source(Cache {
            up: self.source(),
            slot: Arc::new(Mutex::new(None)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::ints;
    use crate::Error;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn replays_the_first_complete_pass() {
        let ds = Dataset::range(30)
            .unwrap()
            .shuffle_with(30, Some(2), true)
            .unwrap()
            .cache();
        let a = ints(&ds);
        assert_eq!(a, ints(&ds));
        assert_eq!(ds.cardinality(), Cardinality::Finite(30));
    }

    #[test]
    fn partial_and_failed_passes_are_not_kept() {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let ds = Dataset::range(4)
            .unwrap()
            .map(move |t| {
                if c.fetch_add(1, Ordering::SeqCst) == 1 {
                    return Err(Error::value("flaky"));
                }
                Ok(t)
            })
            .cache();
        // Pass 1 fails at its second element.
        assert!(ds.iter().unwrap().any(|e| e.is_err()));
        // Pass 2 stopped after one element.
        assert_eq!(ds.iter().unwrap().take(1).count(), 1);
        // Pass 3 completes and is recorded; pass 4 replays it.
        assert_eq!(ints(&ds), [0, 1, 2, 3]);
        let before = calls.load(Ordering::SeqCst);
        assert_eq!(ints(&ds), [0, 1, 2, 3]);
        assert_eq!(calls.load(Ordering::SeqCst), before);
    }
}
