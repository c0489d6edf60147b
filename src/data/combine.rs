//! Reshaping the stream: `repeat`, `take`, `skip`, `zip`, `concatenate`.

use super::{BoxIter, Cardinality, Dataset, Pass, RowPlan, Source};
use crate::Result;
use std::sync::Arc;

struct Repeat<T> {
    up: Arc<dyn Source<T>>,
    count: Option<usize>,
}

impl<T: Send + 'static> Source<T> for Repeat<T> {
    fn open(&self, pass: Pass) -> Result<BoxIter<T>> {
        let up = self.up.clone();
        let count = self.count;
        let mut rep = 0usize;
        let mut cur: Option<BoxIter<T>> = None;
        let mut yielded_this_rep = false;
        Ok(Box::new(std::iter::from_fn(move || loop {
            if cur.is_none() {
                if count.is_some_and(|c| rep >= c) {
                    return None;
                }
                match up.open(pass.sub(rep as u64)) {
                    Ok(it) => cur = Some(it),
                    Err(e) => {
                        rep = usize::MAX;
                        return Some(Err(e));
                    }
                }
                yielded_this_rep = false;
            }
            match cur.as_mut().and_then(|it| it.next()) {
                Some(item) => {
                    yielded_this_rep = true;
                    return Some(item);
                }
                None => {
                    cur = None;
                    rep = rep.saturating_add(1);
                    // An empty dataset repeated forever is still empty (as tf.data).
                    if count.is_none() && !yielded_this_rep {
                        return None;
                    }
                }
            }
        })))
    }
    fn row_plan(&self, pass: Pass) -> Option<Result<RowPlan<T>>> {
        let first = match self.up.row_plan(pass.sub(0))? {
            Ok(p) => p,
            Err(e) => return Some(Err(e)),
        };
        let (up, count) = (self.up.clone(), self.count);
        let mut rep = 0u64;
        let mut cur = (count != Some(0)).then_some(first.rows);
        let mut yielded = false;
        let rows = std::iter::from_fn(move || loop {
            if let Some(r) = cur.as_mut()?.next() {
                yielded = true;
                return Some(r);
            }
            rep += 1;
            if count.is_some_and(|c| rep >= c as u64) || (count.is_none() && !yielded) {
                cur = None;
                return None;
            }
            yielded = false;
            // Each repetition's order, as `open` would give it (the data is the same).
            cur = match up.row_plan(pass.sub(rep)) {
                Some(Ok(p)) => Some(p.rows),
                _ => None,
            };
        });
        Some(Ok(RowPlan {
            data: first.data,
            rows: Box::new(rows),
        }))
    }
    fn cardinality(&self) -> Cardinality {
        let up = self.up.cardinality();
        match (self.count, up) {
            (_, Cardinality::Finite(0)) | (Some(0), _) => Cardinality::Finite(0),
            (None, _) => Cardinality::Infinite,
            (Some(k), c) => c.map(|n| n.saturating_mul(k)),
        }
    }
    fn name(&self) -> &'static str {
        "RepeatDataset"
    }
}

struct Take<T> {
    up: Arc<dyn Source<T>>,
    n: usize,
}

impl<T: Send + 'static> Source<T> for Take<T> {
    fn open(&self, pass: Pass) -> Result<BoxIter<T>> {
        Ok(Box::new(self.up.open(pass)?.take(self.n)))
    }
    fn row_plan(&self, pass: Pass) -> Option<Result<RowPlan<T>>> {
        let n = self.n;
        Some(self.up.row_plan(pass)?.map(|p| RowPlan {
            data: p.data,
            rows: Box::new(p.rows.take(n)),
        }))
    }
    fn cardinality(&self) -> Cardinality {
        match self.up.cardinality() {
            Cardinality::Finite(m) => Cardinality::Finite(m.min(self.n)),
            Cardinality::Infinite => Cardinality::Finite(self.n),
            Cardinality::Unknown => Cardinality::Unknown,
        }
    }
    fn name(&self) -> &'static str {
        "TakeDataset"
    }
}

struct Skip<T> {
    up: Arc<dyn Source<T>>,
    n: usize,
}

impl<T: Send + 'static> Source<T> for Skip<T> {
    fn open(&self, pass: Pass) -> Result<BoxIter<T>> {
        let mut up = self.up.open(pass)?;
        let n = self.n;
        let mut skipped = false;
        Ok(Box::new(std::iter::from_fn(move || {
            if !skipped {
                skipped = true;
                for _ in 0..n {
                    match up.next()? {
                        Ok(_) => {}
                        Err(e) => return Some(Err(e)),
                    }
                }
            }
            up.next()
        })))
    }
    fn row_plan(&self, pass: Pass) -> Option<Result<RowPlan<T>>> {
        let n = self.n;
        Some(self.up.row_plan(pass)?.map(|p| RowPlan {
            data: p.data,
            rows: Box::new(p.rows.skip(n)),
        }))
    }
    fn cardinality(&self) -> Cardinality {
        self.up.cardinality().map(|m| m.saturating_sub(self.n))
    }
    fn name(&self) -> &'static str {
        "SkipDataset"
    }
}

struct Zip<A, B> {
    a: Arc<dyn Source<A>>,
    b: Arc<dyn Source<B>>,
}

impl<A: Send + 'static, B: Send + 'static> Source<(A, B)> for Zip<A, B> {
    fn open(&self, pass: Pass) -> Result<BoxIter<(A, B)>> {
        let (mut a, mut b) = (self.a.open(pass)?, self.b.open(pass)?);
        Ok(Box::new(std::iter::from_fn(move || {
            let x = a.next()?;
            let y = b.next()?;
            Some(x.and_then(|x| Ok((x, y?))))
        })))
    }
    fn cardinality(&self) -> Cardinality {
        use Cardinality::*;
        match (self.a.cardinality(), self.b.cardinality()) {
            (Unknown, _) | (_, Unknown) => Unknown,
            (Infinite, Infinite) => Infinite,
            (Finite(n), Infinite) | (Infinite, Finite(n)) => Finite(n),
            (Finite(n), Finite(m)) => Finite(n.min(m)),
        }
    }
    fn name(&self) -> &'static str {
        "ZipDataset"
    }
}

struct Concatenate<T> {
    a: Arc<dyn Source<T>>,
    b: Arc<dyn Source<T>>,
}

impl<T: Send + 'static> Source<T> for Concatenate<T> {
    fn open(&self, pass: Pass) -> Result<BoxIter<T>> {
        let first = self.a.open(pass)?;
        let b = self.b.clone();
        let mut second: Option<BoxIter<T>> = None;
        let mut first = Some(first);
        Ok(Box::new(std::iter::from_fn(move || {
            if let Some(it) = first.as_mut() {
                match it.next() {
                    Some(item) => return Some(item),
                    None => first = None,
                }
            }
            if second.is_none() {
                match b.open(pass) {
                    Ok(it) => second = Some(it),
                    Err(e) => return Some(Err(e)),
                }
            }
            second.as_mut()?.next()
        })))
    }
    fn cardinality(&self) -> Cardinality {
        use Cardinality::*;
        match (self.a.cardinality(), self.b.cardinality()) {
            (Infinite, _) | (_, Infinite) => Infinite,
            (Unknown, _) | (_, Unknown) => Unknown,
            (Finite(n), Finite(m)) => Finite(n + m),
        }
    }
    fn name(&self) -> &'static str {
        "ConcatenateDataset"
    }
}

impl<T: Send + 'static> Dataset<T> {
    /// The elements `count` times over (`Dataset.repeat`); `None` repeats forever. Each
    /// repetition is a new iteration of what comes before (a `shuffle` reshuffles).
    ///
    /// ```
    /// use keras::data::{Cardinality, Dataset};
    /// let ds = Dataset::range(3)?.repeat(Some(2));
    /// let v: Vec<i64> = ds.iter()?.map(|t| t.unwrap().to_vec0::<i64>().unwrap()).collect();
    /// assert_eq!(v, [0, 1, 2, 0, 1, 2]);
    /// assert_eq!(Dataset::range(3)?.repeat(None).cardinality(), Cardinality::Infinite);
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn repeat(&self, count: Option<usize>) -> Self {
        Dataset::from_source(Repeat {
            up: self.source(),
            count,
        })
    }

    /// At most the first `count` elements (`Dataset.take`).
    ///
    /// ```
    /// use keras::data::Dataset;
    /// let ds = Dataset::range(10)?.repeat(None).take(4);
    /// assert_eq!(ds.len()?, 4);
    /// assert_eq!(ds.iter()?.count(), 4);
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn take(&self, count: usize) -> Self {
        Dataset::from_source(Take {
            up: self.source(),
            n: count,
        })
    }

    /// All but the first `count` elements (`Dataset.skip`).
    ///
    /// ```
    /// use keras::data::Dataset;
    /// let ds = Dataset::range(5)?.skip(3);
    /// let v: Vec<i64> = ds.iter()?.map(|t| t.unwrap().to_vec0::<i64>().unwrap()).collect();
    /// assert_eq!(v, [3, 4]);
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn skip(&self, count: usize) -> Self {
        Dataset::from_source(Skip {
            up: self.source(),
            n: count,
        })
    }

    /// The elements of `self`, then those of `other` (`Dataset.concatenate`).
    ///
    /// ```
    /// use keras::data::Dataset;
    /// let ds = Dataset::range(2)?.concatenate(&Dataset::range_with(10, 12, 1)?);
    /// let v: Vec<i64> = ds.iter()?.map(|t| t.unwrap().to_vec0::<i64>().unwrap()).collect();
    /// assert_eq!(v, [0, 1, 10, 11]);
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn concatenate(&self, other: &Dataset<T>) -> Self {
        Dataset::from_source(Concatenate {
            a: self.source(),
            b: other.source(),
        })
    }
}

impl<A: Send + 'static, B: Send + 'static> Dataset<(A, B)> {
    /// Pairs of elements, one from each dataset, until the shorter ends
    /// (`tf.data.Dataset.zip((a, b))`).
    ///
    /// ```
    /// use keras::data::Dataset;
    /// let ds = Dataset::zip(&Dataset::range(3)?, &Dataset::range_with(10, 20, 1)?);
    /// assert_eq!(ds.len()?, 3);
    /// let (a, b) = ds.iter()?.nth(2).unwrap()?;
    /// assert_eq!((a.to_vec0::<i64>()?, b.to_vec0::<i64>()?), (2, 12));
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn zip(a: &Dataset<A>, b: &Dataset<B>) -> Self {
        Dataset::from_source(Zip {
            a: a.source(),
            b: b.source(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::ints;
    use Cardinality::*;

    fn r(n: usize) -> Dataset<crate::ops::Tensor> {
        Dataset::range(n).unwrap()
    }

    fn unknown(n: usize) -> Dataset<crate::ops::Tensor> {
        r(n).filter(|_| Ok(true))
    }

    #[test]
    fn elements_follow_tf() {
        // Values printed by tf.data (tensorflow 2.21).
        assert_eq!(ints(&r(3).repeat(Some(2)).take(5).skip(1)), [1, 2, 0, 1]);
        assert_eq!(
            ints(&r(3).concatenate(&Dataset::range_with(10, 12, 1).unwrap())),
            [0, 1, 2, 10, 11]
        );
        assert!(ints(&r(0).repeat(None)).is_empty());
        assert_eq!(ints(&r(3).skip(5)), Vec::<i64>::new());
        assert_eq!(ints(&r(3).repeat(Some(0))), Vec::<i64>::new());
        let z = Dataset::zip(&r(3), &r(5).repeat(None));
        assert_eq!(z.iter().unwrap().count(), 3);
    }

    #[test]
    fn cardinalities_follow_tf() {
        // tf.data's values (tensorflow 2.21), -1 infinite, -2 unknown.
        let cases: Vec<(Cardinality, Cardinality)> = vec![
            (r(0).repeat(None).cardinality(), Finite(0)),
            (r(3).repeat(Some(2)).cardinality(), Finite(6)),
            (r(3).repeat(Some(0)).cardinality(), Finite(0)),
            (unknown(3).repeat(None).cardinality(), Infinite),
            (unknown(3).repeat(Some(2)).cardinality(), Unknown),
            (r(3).take(5).cardinality(), Finite(3)),
            (r(3).repeat(None).take(5).cardinality(), Finite(5)),
            (unknown(3).take(5).cardinality(), Unknown),
            (r(3).skip(5).cardinality(), Finite(0)),
            (r(3).repeat(None).skip(5).cardinality(), Infinite),
            (Dataset::zip(&r(3), &r(5)).cardinality(), Finite(3)),
            (
                Dataset::zip(&r(3), &r(5).repeat(None)).cardinality(),
                Finite(3),
            ),
            (Dataset::zip(&r(3), &unknown(5)).cardinality(), Unknown),
            (
                Dataset::zip(&r(3).repeat(None), &unknown(5)).cardinality(),
                Unknown,
            ),
            (r(3).concatenate(&r(4)).cardinality(), Finite(7)),
            (r(3).concatenate(&r(4).repeat(None)).cardinality(), Infinite),
            (
                r(3).repeat(None).concatenate(&unknown(4)).cardinality(),
                Infinite,
            ),
            (
                unknown(3).concatenate(&r(4).repeat(None)).cardinality(),
                Infinite,
            ),
            (r(3).repeat(None).batch(2).unwrap().cardinality(), Infinite),
            (unknown(3).batch(2).unwrap().cardinality(), Unknown),
        ];
        for (i, (got, want)) in cases.into_iter().enumerate() {
            assert_eq!(got, want, "case {i}");
        }
    }

    #[test]
    fn repeat_reshuffles_each_repetition() {
        let ds = r(20)
            .shuffle_with(20, Some(1), true)
            .unwrap()
            .repeat(Some(2));
        let v = ints(&ds);
        assert_ne!(v[..20], v[20..]);
        let fixed = r(20)
            .shuffle_with(20, Some(1), false)
            .unwrap()
            .repeat(Some(2));
        let v = ints(&fixed);
        assert_eq!(v[..20], v[20..]);
    }

    #[test]
    fn take_stops_pulling_an_infinite_source() {
        assert_eq!(ints(&r(2).repeat(None).take(5)), [0, 1, 0, 1, 0]);
    }
}
