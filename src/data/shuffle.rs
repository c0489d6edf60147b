//! `shuffle`: tf.data's buffer shuffle, with bounded memory.
//!
//! A buffer is filled with the first `buffer_size` elements; then each step yields the
//! element in a random slot and puts the next input element in its place. With a buffer at
//! least as large as the dataset this is a uniform permutation; a smaller buffer only mixes
//! nearby elements (as in tf.data).

use super::{mix, stage_seed, BoxIter, Cardinality, Dataset, Pass, RowPlan, Source};
use crate::ops::random::Rng;
use crate::{Error, Result};
use std::sync::Arc;

struct Shuffle<T> {
    up: Arc<dyn Source<T>>,
    buffer_size: usize,
    seed: u64,
    reshuffle_each_iteration: bool,
}

/// tf.data's buffer shuffle of any stream (elements, or row numbers for a row plan: the
/// same draws give the same order either way).
fn buffer_shuffle<X: Send + 'static>(
    mut up: impl Iterator<Item = Result<X>> + Send + 'static,
    size: usize,
    mut rng: Rng,
) -> impl Iterator<Item = Result<X>> + Send + 'static {
    let mut buf: Vec<X> = Vec::new();
    let mut filled = false;
    let mut exhausted = false;
    std::iter::from_fn(move || {
        if !filled {
            filled = true;
            buf.reserve(size.min(1 << 16));
            while buf.len() < size {
                match up.next() {
                    Some(Ok(e)) => buf.push(e),
                    Some(Err(e)) => return Some(Err(e)),
                    None => {
                        exhausted = true;
                        break;
                    }
                }
            }
        }
        if buf.is_empty() {
            return None;
        }
        let j = rng.below(buf.len());
        let next = if exhausted { None } else { up.next() };
        match next {
            Some(Ok(e)) => Some(Ok(std::mem::replace(&mut buf[j], e))),
            Some(Err(e)) => Some(Err(e)),
            None => {
                exhausted = true;
                Some(Ok(buf.swap_remove(j)))
            }
        }
    })
}

impl<T: Send + 'static> Shuffle<T> {
    fn rng(&self, pass: Pass) -> Rng {
        Rng::new(if self.reshuffle_each_iteration {
            mix(self.seed, pass.key)
        } else {
            self.seed
        })
    }
}

impl<T: Send + 'static> Source<T> for Shuffle<T> {
    fn open(&self, pass: Pass) -> Result<BoxIter<T>> {
        let up = self.up.open(pass)?;
        Ok(Box::new(buffer_shuffle(
            up,
            self.buffer_size,
            self.rng(pass),
        )))
    }
    fn row_plan(&self, pass: Pass) -> Option<Result<RowPlan<T>>> {
        let (size, rng) = (self.buffer_size, self.rng(pass));
        Some(self.up.row_plan(pass)?.map(|p| RowPlan {
            data: p.data,
            rows: Box::new(buffer_shuffle(p.rows.map(Ok), size, rng).map_while(|r| r.ok())),
        }))
    }
    fn cardinality(&self) -> Cardinality {
        self.up.cardinality()
    }
    fn name(&self) -> &'static str {
        "ShuffleDataset"
    }
}

impl<T: Send + 'static> Dataset<T> {
    /// The elements in random order, drawn through a buffer of `buffer_size` elements
    /// (`Dataset.shuffle(buffer_size)`), reshuffled every iteration. The seed comes from the
    /// generator `keras::utils::set_random_seed` seeds, drawn when this is called.
    ///
    /// ```
    /// use keras::data::Dataset;
    /// keras::utils::set_random_seed(7);
    /// let ds = Dataset::range(10)?.shuffle(10)?;
    /// let mut v: Vec<i64> = ds.iter()?.map(|t| t.unwrap().to_vec0::<i64>().unwrap()).collect();
    /// v.sort();
    /// assert_eq!(v, (0..10).collect::<Vec<_>>()); // a permutation
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn shuffle(&self, buffer_size: usize) -> Result<Self> {
        self.shuffle_with(buffer_size, None, true)
    }

    /// [`Dataset::shuffle`] with tf's options: an explicit `seed` (overriding the global
    /// generator), and whether each iteration gets a new order (`reshuffle_each_iteration`;
    /// when false every pass has the same order).
    ///
    /// ```
    /// use keras::data::Dataset;
    /// let ds = Dataset::range(20)?.shuffle_with(20, Some(5), false)?;
    /// let read = || -> Vec<i64> { ds.iter().unwrap().map(|t| t.unwrap().to_vec0::<i64>().unwrap()).collect() };
    /// assert_eq!(read(), read());
    /// assert!(Dataset::range(20)?.shuffle(0).is_err());
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn shuffle_with(
        &self,
        buffer_size: usize,
        seed: Option<u64>,
        reshuffle_each_iteration: bool,
    ) -> Result<Self> {
        if buffer_size == 0 {
            return Err(Error::value(format!(
                "buffer_size must be greater than zero, got buffer_size={buffer_size}."
            )));
        }
        Ok(Dataset::from_source(Shuffle {
            up: self.source(),
            buffer_size,
            seed: stage_seed(seed),
            reshuffle_each_iteration,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::ints;

    #[test]
    fn a_full_buffer_is_a_permutation() {
        let ds = Dataset::range(100)
            .unwrap()
            .shuffle_with(1000, Some(1), true)
            .unwrap();
        let a = ints(&ds);
        let b = ints(&ds);
        assert_ne!(a, b);
        assert_ne!(a, (0..100).collect::<Vec<_>>());
        for mut v in [a, b] {
            v.sort();
            assert_eq!(v, (0..100).collect::<Vec<_>>());
        }
        assert_eq!(ds.cardinality(), Cardinality::Finite(100));
    }

    #[test]
    fn a_small_buffer_only_mixes_nearby() {
        // With a buffer of k, element i comes out no earlier than position i - k + 1.
        let k = 5;
        let ds = Dataset::range(200)
            .unwrap()
            .shuffle_with(k, Some(2), true)
            .unwrap();
        let v = ints(&ds);
        for (pos, &x) in v.iter().enumerate() {
            assert!((x as usize) < pos + k, "{x} at {pos}");
        }
        let mut s = v.clone();
        s.sort();
        assert_eq!(s, (0..200).collect::<Vec<_>>());
        // buffer_size 1 is the identity.
        let one = Dataset::range(10)
            .unwrap()
            .shuffle_with(1, Some(3), true)
            .unwrap();
        assert_eq!(ints(&one), (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn seeds_repeat_and_global_seed_is_used() {
        let read = |seed| {
            ints(
                &Dataset::range(30)
                    .unwrap()
                    .shuffle_with(30, seed, true)
                    .unwrap(),
            )
        };
        assert_eq!(read(Some(9)), read(Some(9)));
        assert_ne!(read(Some(9)), read(Some(10)));
        crate::ops::random::set_seed(4);
        let a = read(None);
        crate::ops::random::set_seed(4);
        assert_eq!(a, read(None));
    }

    #[test]
    fn first_positions_are_uniform() {
        // Over many epochs, element 0 lands in every position about equally often.
        let ds = Dataset::range(8)
            .unwrap()
            .shuffle_with(8, Some(11), true)
            .unwrap();
        let mut counts = [0usize; 8];
        let epochs = 4000;
        for _ in 0..epochs {
            let v = ints(&ds);
            counts[v.iter().position(|&x| x == 0).unwrap()] += 1;
        }
        let expect = epochs as f64 / 8.0;
        for c in counts {
            assert!((c as f64 - expect).abs() < 0.15 * expect, "{counts:?}");
        }
    }
}
