//! `prefetch`: a background thread runs the pipeline ahead of the consumer, through a
//! bounded channel.

use super::{BoxIter, Cardinality, Dataset, Pass, Source, AUTOTUNE};
use crate::{Error, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

/// The buffer size [`AUTOTUNE`] stands for.
const AUTOTUNE_BUFFER: usize = 2;

struct Prefetch<T> {
    up: Arc<dyn Source<T>>,
    buffer_size: usize,
}

enum Msg<T> {
    Item(Result<T>),
    End,
}

/// The consumer's side: the channel and the producer thread to stop and join on drop.
struct PrefetchIter<T> {
    rx: Option<mpsc::Receiver<Msg<T>>>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
    done: bool,
}

impl<T: Send + 'static> Source<T> for Prefetch<T> {
    fn open(&self, pass: Pass) -> Result<BoxIter<T>> {
        let mut up = self.up.open(pass)?;
        if self.buffer_size == 0 {
            return Ok(up);
        }
        let (tx, rx) = mpsc::sync_channel::<Msg<T>>(self.buffer_size);
        let stop = Arc::new(AtomicBool::new(false));
        let stop_producer = stop.clone();
        let handle = std::thread::Builder::new()
            .name("keras-data-prefetch".into())
            .spawn(move || {
                while !stop_producer.load(Ordering::Relaxed) {
                    match up.next() {
                        Some(item) => {
                            let failed = item.is_err();
                            if tx.send(Msg::Item(item)).is_err() || failed {
                                return;
                            }
                        }
                        None => {
                            let _ = tx.send(Msg::End);
                            return;
                        }
                    }
                }
            })
            .map_err(|e| Error::io("starting the prefetch thread", e))?;
        Ok(Box::new(PrefetchIter {
            rx: Some(rx),
            stop,
            handle: Some(handle),
            done: false,
        }))
    }
    fn cardinality(&self) -> Cardinality {
        self.up.cardinality()
    }
    fn name(&self) -> &'static str {
        "PrefetchDataset"
    }
}

impl<T> Iterator for PrefetchIter<T> {
    type Item = Result<T>;
    fn next(&mut self) -> Option<Result<T>> {
        if self.done {
            return None;
        }
        let msg = self.rx.as_ref()?.recv();
        match msg {
            Ok(Msg::Item(item)) => {
                if item.is_err() {
                    self.done = true;
                }
                Some(item)
            }
            Ok(Msg::End) => {
                self.done = true;
                None
            }
            Err(_) => {
                // The producer ended without saying so: it panicked.
                self.done = true;
                let why = self
                    .handle
                    .take()
                    .and_then(|h| h.join().err())
                    .map(|p| {
                        p.downcast_ref::<&str>()
                            .map(|s| s.to_string())
                            .or_else(|| p.downcast_ref::<String>().cloned())
                            .unwrap_or_else(|| "unknown panic".into())
                    })
                    .unwrap_or_else(|| "it stopped".into());
                Some(Err(Error::runtime(format!(
                    "the prefetch thread panicked: {why}"
                ))))
            }
        }
    }
}

impl<T> Drop for PrefetchIter<T> {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Dropping the receiver unblocks a producer waiting on a full channel.
        self.rx = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl<T: Send + 'static> Dataset<T> {
    /// Produces up to `buffer_size` elements ahead on a background thread while the consumer
    /// works on the current one (`Dataset.prefetch`); [`AUTOTUNE`] picks a small buffer, 0
    /// prefetches nothing. Errors come through in order; dropping the iterator early stops
    /// and joins the thread.
    ///
    /// ```
    /// use keras::data::{Dataset, AUTOTUNE};
    /// let ds = Dataset::range(100)?.batch(10)?.prefetch(AUTOTUNE)?;
    /// assert_eq!(ds.iter()?.count(), 10);
    /// let mut it = ds.iter()?;
    /// it.next();
    /// drop(it); // the producer thread is stopped and joined
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn prefetch(&self, buffer_size: usize) -> Result<Self> {
        let buffer_size = if buffer_size == AUTOTUNE {
            AUTOTUNE_BUFFER
        } else {
            buffer_size
        };
        Ok(Dataset::from_source(Prefetch {
            up: self.source(),
            buffer_size,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::ints;
    use crate::ops::{Device, Tensor};
    use std::sync::atomic::AtomicUsize;
    use std::time::{Duration, Instant};

    #[test]
    fn prefetch_passes_elements_in_order() {
        for n in [0, 1, 3] {
            let ds = Dataset::range(50).unwrap().prefetch(n).unwrap();
            assert_eq!(ints(&ds), (0..50).collect::<Vec<_>>());
            assert_eq!(ds.cardinality(), Cardinality::Finite(50));
        }
    }

    #[test]
    fn errors_are_forwarded_in_order() {
        let ds = Dataset::from_generator_result(|| {
            (0..10).map(|i| {
                if i == 4 {
                    Err(Error::value("record 4 is corrupt"))
                } else {
                    Ok(Tensor::new(i as i64, &Device::Cpu)?)
                }
            })
        })
        .prefetch(2)
        .unwrap();
        let got: Vec<_> = ds.iter().unwrap().collect();
        assert_eq!(got.len(), 5);
        for (i, g) in got.iter().take(4).enumerate() {
            assert_eq!(g.as_ref().unwrap().to_vec0::<i64>().unwrap(), i as i64);
        }
        assert_eq!(
            got[4].as_ref().unwrap_err().to_string(),
            "record 4 is corrupt"
        );
    }

    #[test]
    fn dropping_early_stops_an_infinite_producer() {
        let made = Arc::new(AtomicUsize::new(0));
        let m = made.clone();
        let ds = Dataset::from_generator(move || {
            let m = m.clone();
            (0..).map(move |i: i64| {
                m.fetch_add(1, Ordering::SeqCst);
                Tensor::new(i, &Device::Cpu).unwrap()
            })
        })
        .prefetch(3)
        .unwrap();
        let t = Instant::now();
        let mut it = ds.iter().unwrap();
        for _ in 0..5 {
            it.next().unwrap().unwrap();
        }
        drop(it);
        let after_drop = made.load(Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(20));
        // Nothing runs after the drop returned, and at most the buffer was made ahead.
        assert_eq!(made.load(Ordering::SeqCst), after_drop);
        assert!(after_drop <= 5 + 3 + 1, "{after_drop}");
        assert!(t.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn producing_overlaps_consuming() {
        let made = Arc::new(AtomicUsize::new(0));
        let m = made.clone();
        let ds = Dataset::range(8)
            .unwrap()
            .map(move |t| {
                std::thread::sleep(Duration::from_millis(5));
                m.fetch_add(1, Ordering::SeqCst);
                Ok(t)
            })
            .prefetch(8)
            .unwrap();
        let mut it = ds.iter().unwrap();
        // The consumer is busy and asks for nothing; the producer runs ahead meanwhile.
        let t = Instant::now();
        while made.load(Ordering::SeqCst) < 8 && t.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(made.load(Ordering::SeqCst), 8);
        assert_eq!(it.by_ref().count(), 8);
    }

    #[test]
    fn a_panicking_producer_is_an_error() {
        let ds = Dataset::range(5)
            .unwrap()
            .map(|t| {
                if t.to_vec0::<i64>()? == 2 {
                    panic!("producer failed");
                }
                Ok(t)
            })
            .prefetch(1)
            .unwrap();
        let got: Vec<_> = ds.iter().unwrap().collect();
        assert_eq!(got.len(), 3);
        let err = got[2].as_ref().unwrap_err().to_string();
        assert!(err.contains("producer failed"), "{err}");
    }
}
