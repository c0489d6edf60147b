//! `Dataset.shard(num_shards, index)`: one worker's share of a dataset, for data-parallel
//! training where each process reads its own part (with
//! [`DataParallel::auto_shard_dataset`](crate::distribution::DataParallel::auto_shard_dataset)
//! off).

use super::{BoxIter, Cardinality, Dataset, Pass, RowPlan, Source};
use crate::{Error, Result};
use std::sync::Arc;

struct Shard<T> {
    up: Arc<dyn Source<T>>,
    num_shards: usize,
    index: usize,
}

impl<T: Send + 'static> Source<T> for Shard<T> {
    fn open(&self, pass: Pass) -> Result<BoxIter<T>> {
        let (n, i) = (self.num_shards, self.index);
        // Every element is still drawn from upstream (an error in another shard's element
        // surfaces here too, as in tf.data); only this shard's are kept.
        Ok(Box::new(
            self.up
                .open(pass)?
                .enumerate()
                .filter(move |(k, item)| k % n == i || item.is_err())
                .map(|(_, item)| item),
        ))
    }
    fn row_plan(&self, pass: Pass) -> Option<Result<RowPlan<T>>> {
        let (n, i) = (self.num_shards, self.index);
        Some(self.up.row_plan(pass)?.map(|p| RowPlan {
            data: p.data,
            rows: Box::new(p.rows.skip(i).step_by(n)),
        }))
    }
    fn cardinality(&self) -> Cardinality {
        let (n, i) = (self.num_shards, self.index);
        self.up
            .cardinality()
            .map(|m| m.saturating_sub(i).div_ceil(n))
    }
    fn name(&self) -> &'static str {
        "ShardDataset"
    }
}

impl<T: Send + 'static> Dataset<T> {
    /// The elements whose position modulo `num_shards` is `index` (`Dataset.shard`): one of
    /// `num_shards` workers' disjoint shares. Shard before shuffling and batching, so each
    /// worker shuffles and batches only its own elements.
    ///
    /// ```
    /// use keras::data::Dataset;
    /// let ds = Dataset::range(10)?.shard(3, 1)?;
    /// let v: Vec<i64> = ds.iter()?.map(|t| t.unwrap().to_vec0::<i64>().unwrap()).collect();
    /// assert_eq!(v, [1, 4, 7]);
    /// assert_eq!(ds.len()?, 3);
    /// assert!(Dataset::range(10)?.shard(3, 3).is_err());
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn shard(&self, num_shards: usize, index: usize) -> Result<Self> {
        if num_shards == 0 {
            return Err(Error::value(
                "Dataset.shard: num_shards must be greater than zero. Received: num_shards=0",
            ));
        }
        if index >= num_shards {
            return Err(Error::value(format!(
                "Dataset.shard: index must be between 0 and {}. Received: num_shards={num_shards}, \
                 index={index}",
                num_shards - 1
            )));
        }
        Ok(Dataset::from_source(Shard {
            up: self.source(),
            num_shards,
            index,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{Device, Tensor};

    /// The shards of a shuffled, sliced dataset partition it, whether read element by
    /// element or gathered by rows into batches.
    #[test]
    fn shards_partition_the_elements() {
        let x = Tensor::arange(0u32, 23, &Device::Cpu).unwrap();
        let ds = Dataset::from_tensor_slices(x).unwrap();
        let mut all = vec![];
        for i in 0..4 {
            let s = ds.shard(4, i).unwrap();
            assert_eq!(s.cardinality().finite(), Some((23 - i).div_ceil(4)));
            let batched: Vec<u32> = s
                .batch(4)
                .unwrap()
                .iter()
                .unwrap()
                .flat_map(|b| b.unwrap().to_vec1::<u32>().unwrap())
                .collect();
            let one_by_one: Vec<u32> = s
                .map(|t: Tensor| Ok(t))
                .iter()
                .unwrap()
                .map(|t| t.unwrap().to_scalar::<u32>().unwrap())
                .collect();
            assert_eq!(batched, one_by_one);
            assert!(batched.iter().all(|v| *v as usize % 4 == i), "{batched:?}");
            all.extend(batched);
        }
        all.sort();
        assert_eq!(all, (0..23).collect::<Vec<u32>>());
    }
}
