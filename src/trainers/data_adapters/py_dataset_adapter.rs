//! `Sequence` (Keras 3's `PyDataset`, once `keras.utils.Sequence`): a source that knows its
//! number of batches and returns batch `i` on demand, read by worker threads in order.

use super::{Batch, BatchIter, DataAdapter, IntoBatch};
use crate::{Error, Result};
use std::collections::BTreeMap;
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::thread::JoinHandle;

/// A source of batches by index, as Keras's `PyDataset`: `len()` batches, `get(i)` makes
/// batch `i` (any [`IntoBatch`]: `x`, `(x, y)`, `(x, y, sample_weight)`), `on_epoch_end`
/// runs after each epoch (reshuffle there). `workers()` threads call `get` ahead of the
/// training step, at most `max_queue_size()` batches ahead; batches still arrive in order.
///
/// ```
/// use keras::prelude::*;
/// use keras::trainers::Sequence;
/// struct Squares { n: usize }
/// impl Sequence for Squares {
///     type Item = (Tensor, Tensor);
///     fn len(&self) -> usize { self.n }
///     fn get(&self, i: usize) -> keras::Result<(Tensor, Tensor)> {
///         let x = Tensor::full(i as f32, (8, 1), &Device::Cpu)?;
///         Ok((x.clone(), (&x * &x)?))
///     }
///     fn workers(&self) -> usize { 2 }
/// }
/// let mut model = Sequential::from_layers([Input::new([1]).into(), Dense::new(1).into()])?;
/// model.compile("sgd", "mse", ())?;
/// model.fit_dataset(keras::trainers::DataSource::sequence(Squares { n: 4 }), FitArgs { verbose: 0, ..Default::default() })?;
/// # Ok::<(), keras::Error>(())
/// ```
// `len` is Keras's `__len__` (the number of batches); an empty Sequence is simply `len() == 0`.
#[allow(clippy::len_without_is_empty)]
pub trait Sequence: Send + Sync {
    /// What `get` returns.
    type Item: IntoBatch;
    /// The number of batches in an epoch.
    fn len(&self) -> usize;
    /// Batch `index` (`0..len()`).
    fn get(&self, index: usize) -> Result<Self::Item>;
    /// Called at the end of every epoch.
    fn on_epoch_end(&mut self) -> Result<()> {
        Ok(())
    }
    /// Threads that call `get` (Keras's `workers`, default 1: `get` runs on the training
    /// thread).
    fn workers(&self) -> usize {
        1
    }
    /// Keras's `use_multiprocessing`: workers here are always threads; `true` is accepted
    /// and means the same.
    fn use_multiprocessing(&self) -> bool {
        false
    }
    /// How many batches the workers may prepare ahead (Keras's `max_queue_size`, 10).
    fn max_queue_size(&self) -> usize {
        10
    }
}

type Shared<S> = Arc<RwLock<S>>;

fn get<S: Sequence>(seq: &Shared<S>, i: usize) -> Result<Batch> {
    let s = seq.read().unwrap_or_else(|e| e.into_inner());
    s.get(i)
        .and_then(IntoBatch::into_batch)
        .map_err(|e| e.context(&format!("Sequence.get({i}) failed (batch {i})")))
}

/// The adapter over a [`Sequence`] (Keras's `PyDatasetAdapter`).
pub struct PyDatasetAdapter<S: Sequence> {
    seq: Shared<S>,
}

impl<S: Sequence + 'static> PyDatasetAdapter<S> {
    /// An adapter reading `seq`.
    pub fn new(seq: S) -> Self {
        PyDatasetAdapter {
            seq: Arc::new(RwLock::new(seq)),
        }
    }
}

impl<S: Sequence + 'static> DataAdapter for PyDatasetAdapter<S> {
    fn iter(&mut self) -> Result<BatchIter> {
        let (n, workers, queue) = {
            let s = self.seq.read().unwrap_or_else(|e| e.into_inner());
            (s.len(), s.workers(), s.max_queue_size().max(1))
        };
        if workers <= 1 {
            let seq = self.seq.clone();
            return Ok(Box::new((0..n).map(move |i| get(&seq, i))));
        }
        Ok(Box::new(Workers::start(
            self.seq.clone(),
            n,
            workers,
            queue,
        )))
    }

    fn num_batches(&self) -> Option<usize> {
        Some(self.seq.read().unwrap_or_else(|e| e.into_inner()).len())
    }

    fn on_epoch_end(&mut self) -> Result<()> {
        self.seq
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .on_epoch_end()
    }
}

#[derive(Default)]
struct Window {
    next: usize,
    consumed: usize,
    stop: bool,
}

/// Worker threads taking indices in order, at most `queue` ahead of the consumer; the
/// consumer reorders what they send. Dropping it stops and joins them.
struct Workers {
    rx: mpsc::Receiver<(usize, Result<Batch>)>,
    window: Arc<(Mutex<Window>, Condvar)>,
    pending: BTreeMap<usize, Result<Batch>>,
    want: usize,
    n: usize,
    threads: Vec<JoinHandle<()>>,
}

impl Workers {
    fn start<S: Sequence + 'static>(
        seq: Shared<S>,
        n: usize,
        workers: usize,
        queue: usize,
    ) -> Self {
        let (tx, rx) = mpsc::channel();
        let window = Arc::new((Mutex::new(Window::default()), Condvar::new()));
        let threads = (0..workers)
            .map(|_| {
                let (seq, tx, window) = (seq.clone(), tx.clone(), window.clone());
                std::thread::spawn(move || loop {
                    let i = {
                        let (m, cv) = &*window;
                        let mut w = m.lock().unwrap_or_else(|e| e.into_inner());
                        while !w.stop && w.next < n && w.next >= w.consumed + queue {
                            w = cv.wait(w).unwrap_or_else(|e| e.into_inner());
                        }
                        if w.stop || w.next >= n {
                            return;
                        }
                        w.next += 1;
                        w.next - 1
                    };
                    let r = get(&seq, i);
                    if tx.send((i, r)).is_err() {
                        return;
                    }
                })
            })
            .collect();
        Workers {
            rx,
            window,
            pending: BTreeMap::new(),
            want: 0,
            n,
            threads,
        }
    }

    fn stop(&mut self) {
        let (m, cv) = &*self.window;
        m.lock().unwrap_or_else(|e| e.into_inner()).stop = true;
        cv.notify_all();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Iterator for Workers {
    type Item = Result<Batch>;

    fn next(&mut self) -> Option<Result<Batch>> {
        if self.want >= self.n {
            return None;
        }
        while !self.pending.contains_key(&self.want) {
            match self.rx.recv() {
                Ok((i, r)) => {
                    self.pending.insert(i, r);
                }
                Err(_) => {
                    self.want = self.n;
                    return Some(Err(Error::runtime(
                        "A Sequence worker thread stopped without returning its batch",
                    )));
                }
            }
        }
        let r = self.pending.remove(&self.want)?;
        self.want += 1;
        {
            let (m, cv) = &*self.window;
            m.lock().unwrap_or_else(|e| e.into_inner()).consumed = self.want;
            cv.notify_all();
        }
        if r.is_err() {
            // Nothing after a failed batch: stop the workers now.
            self.want = self.n;
            self.stop();
        }
        Some(r)
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{Device, Tensor};
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counting {
        n: usize,
        fail_at: Option<usize>,
        calls: Arc<AtomicUsize>,
        workers: usize,
    }

    impl Sequence for Counting {
        type Item = Tensor;
        fn len(&self) -> usize {
            self.n
        }
        fn get(&self, i: usize) -> Result<Tensor> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if Some(i) == self.fail_at {
                return Err(Error::value("bad file"));
            }
            // Later batches finish first, so order must come from the reordering.
            std::thread::sleep(std::time::Duration::from_millis((self.n - i) as u64));
            Ok(Tensor::full(i as f32, (2, 1), &Device::Cpu)?)
        }
        fn workers(&self) -> usize {
            self.workers
        }
        fn max_queue_size(&self) -> usize {
            3
        }
    }

    fn first_values(it: BatchIter) -> Vec<Result<f32>> {
        it.map(|b| {
            let b = b?;
            let crate::trainers::Data::One(t) = b.x else {
                unreachable!()
            };
            Ok(t.flatten_all()?.to_vec1::<f32>()?[0])
        })
        .collect()
    }

    #[test]
    fn workers_keep_order() {
        for workers in [1, 4] {
            let calls = Arc::new(AtomicUsize::new(0));
            let mut a = PyDatasetAdapter::new(Counting {
                n: 12,
                fail_at: None,
                calls: calls.clone(),
                workers,
            });
            let v: Vec<f32> = first_values(a.iter().unwrap())
                .into_iter()
                .map(|r| r.unwrap())
                .collect();
            assert_eq!(v, (0..12).map(|i| i as f32).collect::<Vec<_>>());
            assert_eq!(calls.load(Ordering::SeqCst), 12);
        }
    }

    #[test]
    fn a_failing_get_names_the_batch_and_stops_the_workers() {
        let calls = Arc::new(AtomicUsize::new(0));
        let mut a = PyDatasetAdapter::new(Counting {
            n: 40,
            fail_at: Some(5),
            calls: calls.clone(),
            workers: 4,
        });
        let v = first_values(a.iter().unwrap());
        assert_eq!(v.len(), 6);
        let e = v[5].as_ref().unwrap_err().to_string();
        assert!(e.contains("batch 5") && e.contains("bad file"), "{e}");
        // The window kept the workers near the failure; they are joined, nothing runs on.
        let seen = calls.load(Ordering::SeqCst);
        assert!(seen < 40, "{seen}");
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert_eq!(calls.load(Ordering::SeqCst), seen);
    }

    #[test]
    fn dropping_early_joins_the_workers() {
        let calls = Arc::new(AtomicUsize::new(0));
        let mut a = PyDatasetAdapter::new(Counting {
            n: 100,
            fail_at: None,
            calls: calls.clone(),
            workers: 4,
        });
        let mut it = a.iter().unwrap();
        it.next().unwrap().unwrap();
        drop(it);
        let seen = calls.load(Ordering::SeqCst);
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert_eq!(calls.load(Ordering::SeqCst), seen);
        assert!(seen <= 1 + 3 + 4, "{seen}");
    }
}
