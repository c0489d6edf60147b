//! The epoch iterator, as Keras 3's `keras/src/trainers/epoch_iterator.py`: it serves the
//! batches of each epoch from any [`DataAdapter`], for a fixed number of steps
//! (`steps_per_epoch`, carrying on from where the previous epoch stopped) or until the
//! source runs out, and learns the length of sources that do not know it.

use super::data_adapters::{Batch, BatchIter, DataAdapter};
use crate::ops::Device;
use crate::{Error, Result};

/// What the step function tells the iterator after a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Next batch.
    Continue,
    /// End the epoch now (`stop_training`).
    Stop,
}

pub(crate) struct EpochIterator {
    adapter: Box<dyn DataAdapter>,
    steps_per_epoch: Option<usize>,
    current: Option<BatchIter>,
    steps_seen: usize,
    num_batches: Option<usize>,
    warned: bool,
    /// Where the batches go (the model's device); `None` or the CPU: served as they come.
    device: Option<Device>,
    /// Serve this process's slice of each global batch in a data-parallel job.
    shard: bool,
    /// A pass started by [`EpochIterator::peek`], served by the next epoch.
    primed: Option<BatchIter>,
}

/// Keras's warning when a source cannot fill `steps_per_epoch`.
const RAN_OUT: &str = "UserWarning: Your input ran out of data; interrupting training. Make sure \
    that your dataset or generator can generate at least `steps_per_epoch * epochs` batches. You \
    may need to use the `.repeat()` function when building your dataset.";

impl EpochIterator {
    pub fn new(adapter: Box<dyn DataAdapter>, steps_per_epoch: Option<usize>) -> Result<Self> {
        if steps_per_epoch == Some(0) {
            return Err(Error::value(
                "`steps_per_epoch` must be positive. Received: steps_per_epoch=0",
            ));
        }
        if steps_per_epoch.is_none() && adapter.is_infinite() {
            return Err(Error::value(
                "The dataset is infinite (it is `repeat()`ed): pass `steps_per_epoch` (or \
                 `validation_steps` / `steps`) to say how many batches make an epoch.",
            ));
        }
        let num_batches = adapter.num_batches();
        Ok(EpochIterator {
            adapter,
            steps_per_epoch,
            current: None,
            steps_seen: 0,
            num_batches,
            warned: false,
            device: None,
            shard: false,
            primed: None,
        })
    }

    /// Serves the batches on `device`. Off the CPU a thread reads the source and copies the
    /// next batch to the device while the current step runs (two batches ahead at most).
    pub fn on_device(mut self, device: Device) -> Self {
        self.device = (!device.is_cpu()).then_some(device);
        self
    }

    /// In a data-parallel job ([`crate::distribution`]), serves this process's slice of
    /// each global batch (`fit`, `evaluate`; `predict` slices its batches itself and gathers
    /// the outputs). Where each process reads its own data instead
    /// (`auto_shard_dataset(false)`), checks that all run the same number of steps.
    pub fn sharded(mut self) -> Result<Self> {
        self.shard = true;
        crate::distribution::check_same_steps(self.num_batches())?;
        Ok(self)
    }

    /// The first batch of the next pass, which still serves it: the pass is kept for the next
    /// epoch (Keras's `_symbolic_build` reads the first batch the same way, to build a model
    /// that has no input shape before the callbacks see it). `None`: the source is empty.
    /// The pass starts before the first epoch's `DataAdapter::on_epoch_begin` (no adapter
    /// here does anything there).
    pub fn peek(&mut self) -> Result<Option<Batch>> {
        let mut it = self.pass()?;
        let first = match it.next() {
            None => None,
            Some(b) => Some(b?),
        };
        let seen = first.clone();
        self.primed = Some(Box::new(first.map(Ok).into_iter().chain(it)));
        Ok(seen)
    }

    /// Forgets a pass started by [`EpochIterator::peek`]: the next epoch starts a fresh one
    /// (after a callback replaced the random state its shuffle was drawn from). A source read
    /// once (an iterator of batches, which draws nothing) keeps its pass and the peeked batch.
    pub fn unpeek(&mut self) {
        if self.adapter.rereadable() {
            self.primed = None;
        }
    }

    fn pass(&mut self) -> Result<BatchIter> {
        if let Some(it) = self.primed.take() {
            return Ok(it);
        }
        let it = self.adapter.iter()?;
        let it: BatchIter = if self.shard && crate::distribution::active().is_some() {
            Box::new(it.map(|b| b.and_then(crate::distribution::shard)))
        } else {
            it
        };
        Ok(match &self.device {
            None => it,
            Some(d) => feed(it, d.clone()),
        })
    }

    /// Steps in an epoch, when known (the progress bar's total).
    pub fn num_batches(&self) -> Option<usize> {
        self.steps_per_epoch.or(self.num_batches)
    }

    fn warn(&mut self) {
        if !self.warned {
            self.warned = true;
            eprintln!("{RAN_OUT}");
        }
    }

    /// One epoch: `step(i, batch)` for each batch. Returns the number of steps run.
    pub fn epoch(&mut self, mut step: impl FnMut(usize, Batch) -> Result<Flow>) -> Result<usize> {
        self.adapter.on_epoch_begin()?;
        let mut run = 0;
        match self.num_batches() {
            Some(steps) => {
                if self.current.is_none() || self.steps_per_epoch.is_none() {
                    self.current = Some(self.pass()?);
                    self.steps_seen = 0;
                }
                for i in 0..steps {
                    if self.num_batches.is_some_and(|n| self.steps_seen >= n) {
                        if self.steps_per_epoch.is_some() {
                            self.warn();
                        }
                        break;
                    }
                    let next = self.current.as_mut().and_then(Iterator::next);
                    let Some(batch) = next else {
                        // The source ran out before `steps`: now its length is known.
                        if self.num_batches.is_none() {
                            self.num_batches = Some(self.steps_seen);
                        }
                        self.warn();
                        self.current = None;
                        break;
                    };
                    self.steps_seen += 1;
                    run += 1;
                    if step(i, batch?)? == Flow::Stop {
                        break;
                    }
                }
                if self.num_batches.is_some_and(|n| self.steps_seen >= n) {
                    self.current = None;
                    self.steps_seen = 0;
                }
            }
            None => {
                let mut it = self.pass()?;
                for (i, batch) in it.by_ref().enumerate() {
                    run += 1;
                    if step(i, batch?)? == Flow::Stop {
                        break;
                    }
                }
                // A source of unknown length: the first full pass tells it.
                if self.num_batches.is_none() && run > 0 {
                    self.num_batches = Some(run);
                }
            }
        }
        self.adapter.on_epoch_end()?;
        Ok(run)
    }
}

/// A pass whose batches a thread moves to `device` ahead of the consumer. The thread stops
/// when the pass is dropped (its next send fails) or the source ends.
fn feed(mut it: BatchIter, device: Device) -> BatchIter {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Batch>>(2);
    std::thread::spawn(move || {
        for b in it.by_ref() {
            let moved = b.and_then(|b| b.to_device(&device));
            let failed = moved.is_err();
            if tx.send(moved).is_err() || failed {
                break;
            }
        }
    });
    Box::new(rx.into_iter())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{DType, Device, Tensor};
    use crate::trainers::data_adapters::GeneratorDataAdapter;

    struct Counted(usize);
    impl DataAdapter for Counted {
        fn iter(&mut self) -> Result<BatchIter> {
            let n = self.0;
            Ok(Box::new((0..n).map(|i| {
                Ok(Batch::new(Tensor::full(i as f32, (1, 1), &Device::Cpu)?))
            })))
        }
        fn num_batches(&self) -> Option<usize> {
            Some(self.0)
        }
    }

    fn values(it: &mut EpochIterator) -> Vec<f32> {
        let mut v = vec![];
        it.epoch(|_, b| {
            let crate::trainers::Data::One(t) = b.x else {
                unreachable!()
            };
            v.push(t.flatten_all()?.to_vec1::<f32>()?[0]);
            Ok(Flow::Continue)
        })
        .unwrap();
        v
    }

    #[test]
    fn steps_per_epoch_carries_on_across_epochs() {
        let mut it = EpochIterator::new(Box::new(Counted(5)), Some(2)).unwrap();
        assert_eq!(values(&mut it), vec![0.0, 1.0]);
        assert_eq!(values(&mut it), vec![2.0, 3.0]);
        // Only one batch left: the epoch is cut short, then the data starts again.
        assert_eq!(values(&mut it), vec![4.0]);
        assert_eq!(values(&mut it), vec![0.0, 1.0]);
    }

    #[test]
    fn a_fed_pass_serves_every_batch_in_order() {
        // The thread that moves batches to a GPU, run here with the CPU as the target.
        let mut it = EpochIterator::new(Box::new(Counted(5)), Some(2)).unwrap();
        it.device = Some(Device::Cpu);
        assert_eq!(values(&mut it), vec![0.0, 1.0]);
        assert_eq!(values(&mut it), vec![2.0, 3.0]);
        assert_eq!(values(&mut it), vec![4.0]);
        let mut all = EpochIterator::new(Box::new(Counted(4)), None).unwrap();
        all.device = Some(Device::Cpu);
        assert_eq!(values(&mut all), vec![0.0, 1.0, 2.0, 3.0]);
    }

    #[test]
    fn unknown_length_is_learned() {
        let g = (0..3).map(|_| Tensor::zeros((2, 1), DType::F32, &Device::Cpu));
        let mut it = EpochIterator::new(Box::new(GeneratorDataAdapter::new(g)), None).unwrap();
        assert_eq!(it.num_batches(), None);
        assert_eq!(values(&mut it).len(), 3);
        assert_eq!(it.num_batches(), Some(3));
        // A generator is not rewound.
        assert_eq!(values(&mut it).len(), 0);
        assert!(EpochIterator::new(Box::new(Counted(1)), Some(0)).is_err());
    }

    #[test]
    fn a_peeked_batch_is_still_served() {
        let first = |b: Option<Batch>| match b.map(|b| b.x) {
            Some(crate::trainers::Data::One(t)) => {
                t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
            }
            _ => vec![],
        };
        let mut it = EpochIterator::new(Box::new(Counted(3)), None).unwrap();
        assert_eq!(first(it.peek().unwrap()), [0.0]);
        assert_eq!(values(&mut it), vec![0.0, 1.0, 2.0]);
        assert_eq!(values(&mut it), vec![0.0, 1.0, 2.0]);
        // With `steps_per_epoch`, the peeked pass carries on across epochs.
        let mut it = EpochIterator::new(Box::new(Counted(3)), Some(2)).unwrap();
        assert_eq!(first(it.peek().unwrap()), [0.0]);
        assert_eq!(values(&mut it), vec![0.0, 1.0]);
        assert_eq!(values(&mut it), vec![2.0]);
        // A generator, read once, loses nothing to the peek.
        let g = (0..3).map(|i| Tensor::full(i as f32, (1, 1), &Device::Cpu));
        let mut it = EpochIterator::new(Box::new(GeneratorDataAdapter::new(g)), None).unwrap();
        assert_eq!(first(it.peek().unwrap()), [0.0]);
        assert_eq!(values(&mut it), vec![0.0, 1.0, 2.0]);
        // Forgotten, the next pass starts afresh; a generator's is kept (nothing is lost).
        let mut it = EpochIterator::new(Box::new(Counted(2)), None).unwrap();
        it.peek().unwrap();
        it.unpeek();
        assert_eq!(values(&mut it), vec![0.0, 1.0]);
        let g = (0..2).map(|i| Tensor::full(i as f32, (1, 1), &Device::Cpu));
        let mut it = EpochIterator::new(Box::new(GeneratorDataAdapter::new(g)), None).unwrap();
        it.peek().unwrap();
        it.unpeek();
        assert_eq!(values(&mut it), vec![0.0, 1.0]);
        let mut empty = EpochIterator::new(Box::new(Counted(0)), None).unwrap();
        assert!(empty.peek().unwrap().is_none());
    }
}
