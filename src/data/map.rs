//! `map` (sequential or on worker threads, yielding in order), its random-augmentation form
//! and `filter`.

use super::{mix, stage_seed, BoxIter, Cardinality, Dataset, Pass, Source, AUTOTUNE};
use crate::ops::random::Rng;
use crate::{Error, Result};
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;

/// A map function given the element, its index in the pass and the pass.
type IndexedFn<T, U> = Arc<dyn Fn(T, u64, Pass) -> Result<U> + Send + Sync>;

struct Map<T, U> {
    up: Arc<dyn Source<T>>,
    f: IndexedFn<T, U>,
    workers: usize,
}

impl<T: Send + 'static, U: Send + 'static> Source<U> for Map<T, U> {
    fn open(&self, pass: Pass) -> Result<BoxIter<U>> {
        let up = self.up.open(pass)?;
        let f = self.f.clone();
        if self.workers <= 1 {
            return Ok(Box::new(
                up.enumerate()
                    .map(move |(i, e)| e.and_then(|e| f(e, i as u64, pass))),
            ));
        }
        Ok(Box::new(ParallelMap::start(up, f, pass, self.workers)))
    }
    fn cardinality(&self) -> Cardinality {
        self.up.cardinality()
    }
    fn name(&self) -> &'static str {
        if self.workers <= 1 {
            "MapDataset"
        } else {
            "ParallelMapDataset"
        }
    }
}

/// Runs the map function on worker threads; the upstream is read on the consumer's thread
/// and results come back in input order through a reorder buffer, at most `2 * workers`
/// elements in flight.
struct ParallelMap<T, U> {
    up: BoxIter<T>,
    up_done: bool,
    jobs: Option<mpsc::Sender<(u64, T)>>,
    results: mpsc::Receiver<(u64, Result<U>)>,
    pending: BTreeMap<u64, Result<U>>,
    next_in: u64,
    next_out: u64,
    max_in_flight: u64,
    stop: Arc<AtomicBool>,
    handles: Vec<JoinHandle<()>>,
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

impl<T: Send + 'static, U: Send + 'static> ParallelMap<T, U> {
    fn start(up: BoxIter<T>, f: IndexedFn<T, U>, pass: Pass, workers: usize) -> Self {
        let (job_tx, job_rx) = mpsc::channel::<(u64, T)>();
        let (res_tx, res_rx) = mpsc::channel::<(u64, Result<U>)>();
        let job_rx = Arc::new(Mutex::new(job_rx));
        let stop = Arc::new(AtomicBool::new(false));
        let handles = (0..workers)
            .map(|_| {
                let (job_rx, res_tx, f, stop) =
                    (job_rx.clone(), res_tx.clone(), f.clone(), stop.clone());
                std::thread::spawn(move || loop {
                    let job = match job_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok((i, elem)) = job else { return };
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let out =
                        catch_unwind(AssertUnwindSafe(|| f(elem, i, pass))).unwrap_or_else(|p| {
                            Err(Error::runtime(format!(
                                "the map function panicked at element {i}: {}",
                                panic_message(p)
                            )))
                        });
                    if res_tx.send((i, out)).is_err() {
                        return;
                    }
                })
            })
            .collect();
        ParallelMap {
            up,
            up_done: false,
            jobs: Some(job_tx),
            results: res_rx,
            pending: BTreeMap::new(),
            next_in: 0,
            next_out: 0,
            max_in_flight: 2 * workers as u64,
            stop,
            handles,
        }
    }

    /// Sends upstream elements to the workers until `max_in_flight` are out.
    fn fill(&mut self) {
        while !self.up_done && self.next_in - self.next_out < self.max_in_flight {
            match self.up.next() {
                Some(Ok(e)) => {
                    let sent = self
                        .jobs
                        .as_ref()
                        .map(|tx| tx.send((self.next_in, e)).is_ok())
                        .unwrap_or(false);
                    if !sent {
                        self.pending
                            .insert(self.next_in, Err(Error::runtime("the map workers stopped")));
                        self.up_done = true;
                    }
                }
                Some(Err(e)) => {
                    self.pending.insert(self.next_in, Err(e));
                    self.up_done = true;
                }
                None => {
                    self.up_done = true;
                    break;
                }
            }
            self.next_in += 1;
        }
    }
}

impl<T: Send + 'static, U: Send + 'static> Iterator for ParallelMap<T, U> {
    type Item = Result<U>;
    fn next(&mut self) -> Option<Result<U>> {
        self.fill();
        if self.next_out == self.next_in {
            return None;
        }
        loop {
            if let Some(r) = self.pending.remove(&self.next_out) {
                self.next_out += 1;
                return Some(r);
            }
            match self.results.recv() {
                Ok((i, r)) => {
                    self.pending.insert(i, r);
                }
                Err(_) => {
                    self.next_out += 1;
                    return Some(Err(Error::runtime("the map workers stopped")));
                }
            }
        }
    }
}

impl<T, U> Drop for ParallelMap<T, U> {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.jobs = None;
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}

type Predicate<T> = Arc<dyn Fn(&T) -> Result<bool> + Send + Sync>;

struct Filter<T> {
    up: Arc<dyn Source<T>>,
    pred: Predicate<T>,
}

impl<T: Send + 'static> Source<T> for Filter<T> {
    fn open(&self, pass: Pass) -> Result<BoxIter<T>> {
        let pred = self.pred.clone();
        Ok(Box::new(self.up.open(pass)?.filter_map(move |e| match e {
            Ok(e) => match pred(&e) {
                Ok(true) => Some(Ok(e)),
                Ok(false) => None,
                Err(err) => Some(Err(err)),
            },
            Err(err) => Some(Err(err)),
        })))
    }
    fn cardinality(&self) -> Cardinality {
        Cardinality::Unknown
    }
    fn name(&self) -> &'static str {
        "FilterDataset"
    }
}

fn worker_count(num_parallel_calls: usize) -> usize {
    if num_parallel_calls == AUTOTUNE {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    } else {
        num_parallel_calls
    }
}

impl<T: Send + 'static> Dataset<T> {
    /// Each element replaced by `f(element)` (`Dataset.map`). An `Err` from `f` comes out
    /// of the pass at that element.
    ///
    /// ```
    /// use keras::data::Dataset;
    /// use keras::prelude::*;
    /// let x = Tensor::new(&[1f32, 2.0, 3.0], &Device::Cpu)?;
    /// let ds = Dataset::from_tensor_slices(x)?.map(|t| Ok((t * 10.0)?));
    /// let v: Vec<f32> = ds.iter()?.map(|t| t.unwrap().to_vec0::<f32>().unwrap()).collect();
    /// assert_eq!(v, [10.0, 20.0, 30.0]);
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn map<U, F>(&self, f: F) -> Dataset<U>
    where
        U: Send + 'static,
        F: Fn(T) -> Result<U> + Send + Sync + 'static,
    {
        self.map_with(f, 1)
    }

    /// [`Dataset::map`] on `num_parallel_calls` worker threads ([`AUTOTUNE`]: one per core),
    /// still yielding in input order (tf.data's `deterministic=True`). At most twice that
    /// many elements are in flight; dropping the iterator stops and joins the workers.
    ///
    /// ```
    /// use keras::data::{Dataset, AUTOTUNE};
    /// let ds = Dataset::range(100)?.map_with(|t| Ok((t + 1.0)?), AUTOTUNE);
    /// let v: Vec<i64> = ds.iter()?.map(|t| t.unwrap().to_vec0::<i64>().unwrap()).collect();
    /// assert_eq!(v, (1..=100).collect::<Vec<_>>());
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn map_with<U, F>(&self, f: F, num_parallel_calls: usize) -> Dataset<U>
    where
        U: Send + 'static,
        F: Fn(T) -> Result<U> + Send + Sync + 'static,
    {
        Dataset::from_source(Map {
            up: self.source(),
            f: Arc::new(move |e, _, _| f(e)),
            workers: worker_count(num_parallel_calls),
        })
    }

    /// A random map (data augmentation): `f` also gets a generator seeded from the
    /// dataset's seed, the iteration and the element's index, so every element gets its
    /// own draws, new ones each epoch, and the same ones on every run after
    /// `keras::utils::set_random_seed`, whatever the number of threads.
    ///
    /// ```
    /// use keras::data::Dataset;
    /// let ds = Dataset::range(4)?.map_random(|t, rng| {
    ///     let noise = rng.uniform();
    ///     Ok((t.to_dtype(keras::DType::F64)? + noise)?)
    /// });
    /// let a: Vec<f64> = ds.iter_epoch(0)?.map(|t| t.unwrap().to_vec0::<f64>().unwrap()).collect();
    /// let b: Vec<f64> = ds.iter_epoch(0)?.map(|t| t.unwrap().to_vec0::<f64>().unwrap()).collect();
    /// assert_eq!(a, b);
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn map_random<U, F>(&self, f: F) -> Dataset<U>
    where
        U: Send + 'static,
        F: Fn(T, &mut Rng) -> Result<U> + Send + Sync + 'static,
    {
        self.map_random_with(f, 1, None)
    }

    /// [`Dataset::map_random`] on `num_parallel_calls` worker threads and with an explicit
    /// `seed` (overriding the global generator's). The results do not depend on the number
    /// of threads.
    ///
    /// ```
    /// use keras::data::Dataset;
    /// let read = |threads| -> Vec<u64> {
    ///     let ds = Dataset::range(50).unwrap().map_random_with(|_, rng| Ok(rng.next_u64()), threads, Some(1));
    ///     ds.iter().unwrap().map(|x| x.unwrap()).collect()
    /// };
    /// assert_eq!(read(1), read(4));
    /// ```
    pub fn map_random_with<U, F>(
        &self,
        f: F,
        num_parallel_calls: usize,
        seed: Option<u64>,
    ) -> Dataset<U>
    where
        U: Send + 'static,
        F: Fn(T, &mut Rng) -> Result<U> + Send + Sync + 'static,
    {
        let seed = stage_seed(seed);
        Dataset::from_source(Map {
            up: self.source(),
            f: Arc::new(move |e, i, pass: Pass| {
                let mut rng = Rng::new(mix(mix(seed, pass.key), i));
                f(e, &mut rng)
            }),
            workers: worker_count(num_parallel_calls),
        })
    }

    /// The elements for which `predicate` is true (`Dataset.filter`); the cardinality
    /// becomes unknown.
    ///
    /// ```
    /// use keras::data::Dataset;
    /// let ds = Dataset::range(10)?.filter(|t| Ok(t.to_vec0::<i64>()? % 3 == 0));
    /// let v: Vec<i64> = ds.iter()?.map(|t| t.unwrap().to_vec0::<i64>().unwrap()).collect();
    /// assert_eq!(v, [0, 3, 6, 9]);
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn filter<F>(&self, predicate: F) -> Self
    where
        F: Fn(&T) -> Result<bool> + Send + Sync + 'static,
    {
        Dataset::from_source(Filter {
            up: self.source(),
            pred: Arc::new(predicate),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::ints;
    use crate::ops::Tensor;
    use std::time::Duration;

    fn slow_identity(t: Tensor) -> Result<Tensor> {
        // Later elements finish first, so order must come from the reorder buffer.
        let v = t.to_vec0::<i64>()?;
        std::thread::sleep(Duration::from_micros(((50 - v % 50) * 20) as u64));
        Ok(t)
    }

    #[test]
    fn parallel_map_keeps_order() {
        let ds = Dataset::range(200).unwrap().map_with(slow_identity, 4);
        assert_eq!(ints(&ds), (0..200).collect::<Vec<_>>());
        assert_eq!(ds.cardinality(), Cardinality::Finite(200));
    }

    #[test]
    fn errors_come_out_at_their_element() {
        for threads in [1, 3] {
            let ds = Dataset::range(10).unwrap().map_with(
                |t| {
                    let v = t.to_vec0::<i64>()?;
                    if v == 6 {
                        return Err(Error::value(format!("bad element {v}")));
                    }
                    Ok(v)
                },
                threads,
            );
            let got: Vec<Result<i64>> = ds.iter().unwrap().collect();
            assert_eq!(got.len(), 7, "threads={threads}");
            assert_eq!(
                got.iter()
                    .take(6)
                    .map(|r| *r.as_ref().unwrap())
                    .collect::<Vec<_>>(),
                (0..6).collect::<Vec<_>>()
            );
            assert_eq!(got[6].as_ref().unwrap_err().to_string(), "bad element 6");
        }
    }

    #[test]
    fn a_panicking_worker_is_an_error() {
        let ds = Dataset::range(10).unwrap().map_with(
            |t| {
                if t.to_vec0::<i64>()? == 3 {
                    panic!("boom");
                }
                Ok(t)
            },
            2,
        );
        let got: Vec<_> = ds.iter().unwrap().collect();
        assert_eq!(got.len(), 4);
        let err = got[3].as_ref().unwrap_err().to_string();
        assert!(err.contains("panicked at element 3: boom"), "{err}");
    }

    #[test]
    fn dropping_early_joins_the_workers() {
        let ds = Dataset::range(1_000_000).unwrap().map_with(Ok, 4);
        let mut it = ds.iter().unwrap();
        assert_eq!(it.next().unwrap().unwrap().to_vec0::<i64>().unwrap(), 0);
        drop(it); // must return promptly
    }

    #[test]
    fn random_maps_repeat_per_epoch_and_differ_across_epochs() {
        let make = |threads| {
            Dataset::range(64).unwrap().map_random_with(
                |_, rng| Ok(rng.next_u64()),
                threads,
                Some(5),
            )
        };
        let one = make(1);
        let four = make(4);
        let a: Vec<u64> = one.iter_epoch(0).unwrap().map(|x| x.unwrap()).collect();
        let b: Vec<u64> = four.iter_epoch(0).unwrap().map(|x| x.unwrap()).collect();
        let c: Vec<u64> = four.iter_epoch(1).unwrap().map(|x| x.unwrap()).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        crate::ops::random::set_seed(3);
        let x: Vec<u64> = Dataset::range(8)
            .unwrap()
            .map_random(|_, r| Ok(r.next_u64()))
            .iter()
            .unwrap()
            .map(|x| x.unwrap())
            .collect();
        crate::ops::random::set_seed(3);
        let y: Vec<u64> = Dataset::range(8)
            .unwrap()
            .map_random(|_, r| Ok(r.next_u64()))
            .iter()
            .unwrap()
            .map(|x| x.unwrap())
            .collect();
        assert_eq!(x, y);
    }

    #[test]
    fn filter_keeps_matching_elements() {
        let ds = Dataset::range(10)
            .unwrap()
            .filter(|t| Ok(t.to_vec0::<i64>()? % 2 == 1));
        assert_eq!(ints(&ds), [1, 3, 5, 7, 9]);
        assert_eq!(ds.cardinality(), Cardinality::Unknown);
        let bad = Dataset::range(3)
            .unwrap()
            .filter(|_| Err(Error::value("no")));
        assert_eq!(bad.iter().unwrap().count(), 1);
    }
}
