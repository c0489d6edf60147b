//! `batch` (consecutive elements stacked along a new first axis) and `unbatch` (the reverse).

use super::{BoxIter, Cardinality, Dataset, Pass, RowPlan, Source, Structure};
use crate::{Error, Result};
use std::sync::Arc;

struct Batch<S> {
    up: Arc<dyn Source<S>>,
    size: usize,
    drop_remainder: bool,
}

impl<S: Structure> Source<S> for Batch<S> {
    fn open(&self, pass: Pass) -> Result<BoxIter<S>> {
        let (size, drop_remainder) = (self.size, self.drop_remainder);
        if let Some(plan) = self.up.row_plan(pass) {
            // Rows of one structure: one gather per component and batch.
            let RowPlan { data, mut rows } = plan?;
            let mut idx: Vec<u32> = Vec::with_capacity(size);
            return Ok(Box::new(std::iter::from_fn(move || {
                idx.clear();
                idx.extend(rows.by_ref().take(size));
                if idx.is_empty() || (drop_remainder && idx.len() < size) {
                    return None;
                }
                Some(data.take_rows(&idx))
            })));
        }
        let mut up = self.up.open(pass)?;
        let mut buf: Vec<S> = Vec::with_capacity(size);
        let mut done = false;
        Ok(Box::new(std::iter::from_fn(move || {
            if done {
                return None;
            }
            buf.clear();
            while buf.len() < size {
                match up.next() {
                    Some(Ok(e)) => buf.push(e),
                    Some(Err(e)) => {
                        done = true;
                        return Some(Err(e));
                    }
                    None => {
                        done = true;
                        break;
                    }
                }
            }
            if buf.is_empty() || (drop_remainder && buf.len() < size) {
                return None;
            }
            Some(S::stack(&buf))
        })))
    }
    fn cardinality(&self) -> Cardinality {
        let size = self.size;
        if self.drop_remainder {
            self.up.cardinality().map(|n| n / size)
        } else {
            self.up.cardinality().map(|n| n.div_ceil(size))
        }
    }
    fn name(&self) -> &'static str {
        "BatchDataset"
    }
}

struct Unbatch<S> {
    up: Arc<dyn Source<S>>,
}

impl<S: Structure> Source<S> for Unbatch<S> {
    fn open(&self, pass: Pass) -> Result<BoxIter<S>> {
        let up = self.up.open(pass)?;
        Ok(Box::new(up.flat_map(|batch| {
            let rows: Vec<Result<S>> = match batch.and_then(|b| b.unstack()) {
                Ok(rows) => rows.into_iter().map(Ok).collect(),
                Err(e) => vec![Err(e)],
            };
            rows
        })))
    }
    fn cardinality(&self) -> Cardinality {
        Cardinality::Unknown
    }
    fn name(&self) -> &'static str {
        "UnbatchDataset"
    }
}

impl<S: Structure> Dataset<S> {
    /// Consecutive elements stacked into batches of `batch_size` along a new first axis
    /// (`Dataset.batch`); the last batch is smaller when the elements do not divide evenly.
    ///
    /// ```
    /// use keras::data::Dataset;
    /// let ds = Dataset::range(10)?.batch(3)?;
    /// let sizes: Vec<usize> = ds.iter()?.map(|b| b.unwrap().dims()[0]).collect();
    /// assert_eq!(sizes, [3, 3, 3, 1]);
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn batch(&self, batch_size: usize) -> Result<Self> {
        self.batch_with(batch_size, false)
    }

    /// [`Dataset::batch`], dropping a last batch smaller than `batch_size` when
    /// `drop_remainder` is set (so every batch has the same shape).
    ///
    /// Elements of different shapes in a batch are an error at that batch, naming the
    /// component and both shapes.
    ///
    /// ```
    /// use keras::data::Dataset;
    /// let ds = Dataset::range(10)?.batch_with(3, true)?;
    /// assert_eq!(ds.iter()?.count(), 3);
    /// assert_eq!(ds.len()?, 3);
    /// assert!(Dataset::range(10)?.batch(0).is_err());
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn batch_with(&self, batch_size: usize, drop_remainder: bool) -> Result<Self> {
        if batch_size == 0 {
            return Err(Error::value(format!(
                "Batch size must be greater than zero, got batch_size={batch_size}."
            )));
        }
        Ok(Dataset::from_source(Batch {
            up: self.source(),
            size: batch_size,
            drop_remainder,
        }))
    }

    /// Every element split along its first axis into its rows (`Dataset.unbatch`): the
    /// inverse of [`Dataset::batch`]. The cardinality becomes unknown.
    ///
    /// ```
    /// use keras::data::Dataset;
    /// let ds = Dataset::range(5)?.batch(2)?.unbatch();
    /// let v: Vec<i64> = ds.iter()?.map(|t| t.unwrap().to_vec0::<i64>().unwrap()).collect();
    /// assert_eq!(v, [0, 1, 2, 3, 4]);
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn unbatch(&self) -> Self {
        Dataset::from_source(Unbatch { up: self.source() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::ints;
    use crate::ops::Tensor;

    #[test]
    fn batches_follow_tf() {
        let ds = Dataset::range(10).unwrap();
        let b: Vec<Vec<i64>> = ds
            .batch(3)
            .unwrap()
            .iter()
            .unwrap()
            .map(|b| b.unwrap().to_vec1().unwrap())
            .collect();
        assert_eq!(
            b,
            vec![vec![0, 1, 2], vec![3, 4, 5], vec![6, 7, 8], vec![9]]
        );
        assert_eq!(ds.batch(3).unwrap().cardinality(), Cardinality::Finite(4));
        assert_eq!(
            ds.batch_with(3, true).unwrap().cardinality(),
            Cardinality::Finite(3)
        );
        assert_eq!(ds.batch_with(3, true).unwrap().iter().unwrap().count(), 3);
        assert_eq!(ds.batch_with(5, true).unwrap().iter().unwrap().count(), 2);
        assert_eq!(
            ds.batch(3).unwrap().unbatch().cardinality(),
            Cardinality::Unknown
        );
        assert_eq!(
            ints(&ds.batch(4).unwrap().unbatch()),
            (0..10).collect::<Vec<_>>()
        );
        let err = ds.batch(0).unwrap_err().to_string();
        assert!(
            err.starts_with("Batch size must be greater than zero"),
            "{err}"
        );
    }

    #[test]
    fn gathered_batches_equal_stacked_ones() {
        // The row-plan path (slices -> shuffle -> skip -> take -> repeat -> batch) gives exactly the
        // batches that stacking the elements one by one gives.
        let x = crate::ops::from_vec((0..300u32).collect(), &[100, 3]).unwrap();
        let y = crate::ops::from_vec((0..100i64).collect(), &[100]).unwrap();
        let base = Dataset::from_tensor_slices((x, y))
            .unwrap()
            .shuffle_with(17, Some(4), true)
            .unwrap()
            .skip(3)
            .take(30)
            .repeat(Some(3));
        let fast = base.batch(8).unwrap();
        // map hides the row plan, so this one stacks.
        let slow = base.map(Ok).batch(8).unwrap();
        for epoch in 0..3 {
            let a: Vec<_> = fast
                .iter_epoch(epoch)
                .unwrap()
                .map(|b| b.unwrap())
                .collect();
            let b: Vec<_> = slow
                .iter_epoch(epoch)
                .unwrap()
                .map(|b| b.unwrap())
                .collect();
            assert_eq!(a.len(), 12);
            for ((ax, ay), (bx, by)) in a.iter().zip(&b) {
                assert_eq!(ax.to_vec2::<u32>().unwrap(), bx.to_vec2::<u32>().unwrap());
                assert_eq!(ay.to_vec1::<i64>().unwrap(), by.to_vec1::<i64>().unwrap());
            }
        }
        assert_eq!(
            fast.batch_with(8, true).unwrap().cardinality(),
            Cardinality::Finite(1)
        );
    }

    #[test]
    fn unequal_shapes_fail_at_that_batch() {
        let ds = Dataset::from_generator(|| {
            (0..6).map(|i| {
                let rows = if i == 5 { 27 } else { 28 };
                Tensor::zeros((rows, 28), crate::ops::DType::F32, &crate::ops::Device::Cpu).unwrap()
            })
        });
        let got: Vec<_> = ds.batch(8).unwrap().iter().unwrap().collect();
        assert_eq!(got.len(), 1);
        let err = got[0].as_ref().unwrap_err().to_string();
        assert_eq!(err, "Cannot batch tensors with different shapes in component 0. First element had shape [28, 28] and element 5 had shape [27, 28].");
    }
}
