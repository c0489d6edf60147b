//! Where elements come from: tensors sliced along their first axis, one element, a range of
//! integers, a generator called once per pass.

use super::{BoxIter, Cardinality, Dataset, Pass, RowPlan, Source, Structure};
use crate::ops::Tensor;
use crate::Result;
use std::sync::Arc;

/// `from_tensor_slices`: element `i` is row `i` of every component.
pub(crate) struct Slices<S> {
    pub data: S,
    pub rows: usize,
}

impl<S: Structure> Source<S> for Slices<S> {
    fn open(&self, _pass: Pass) -> Result<BoxIter<S>> {
        let data = self.data.clone();
        Ok(Box::new((0..self.rows).map(move |i| data.row(i))))
    }
    fn row_plan(&self, _pass: Pass) -> Option<Result<RowPlan<S>>> {
        if self.rows > u32::MAX as usize {
            return None;
        }
        Some(Ok(RowPlan {
            data: self.data.clone(),
            rows: Box::new(0..self.rows as u32),
        }))
    }
    fn cardinality(&self) -> Cardinality {
        Cardinality::Finite(self.rows)
    }
    fn name(&self) -> &'static str {
        "TensorSliceDataset"
    }
}

/// `from_tensors`: the whole structure as one element.
struct One<S>(S);

impl<S: Structure> Source<S> for One<S> {
    fn open(&self, _pass: Pass) -> Result<BoxIter<S>> {
        Ok(Box::new(std::iter::once(Ok(self.0.clone()))))
    }
    fn cardinality(&self) -> Cardinality {
        Cardinality::Finite(1)
    }
    fn name(&self) -> &'static str {
        "TensorDataset"
    }
}

/// `range`: scalar int64 tensors.
struct Range {
    start: i64,
    stop: i64,
    step: i64,
}

impl Range {
    fn len(&self) -> usize {
        if self.step > 0 && self.stop > self.start {
            ((self.stop - self.start + self.step - 1) / self.step) as usize
        } else if self.step < 0 && self.stop < self.start {
            ((self.start - self.stop - self.step - 1) / -self.step) as usize
        } else {
            0
        }
    }
}

impl Source<Tensor> for Range {
    fn open(&self, _pass: Pass) -> Result<BoxIter<Tensor>> {
        let (start, step) = (self.start, self.step);
        Ok(Box::new((0..self.len() as i64).map(move |i| {
            Ok(Tensor::new(start + i * step, &crate::ops::Device::Cpu)?)
        })))
    }
    fn cardinality(&self) -> Cardinality {
        Cardinality::Finite(self.len())
    }
    fn name(&self) -> &'static str {
        "RangeDataset"
    }
}

type Generator<T> = Arc<dyn Fn() -> Result<BoxIter<T>> + Send + Sync>;

/// `from_generator`: a fresh iterator from the closure each pass.
struct FromGenerator<T>(Generator<T>);

impl<T: Send + 'static> Source<T> for FromGenerator<T> {
    fn open(&self, _pass: Pass) -> Result<BoxIter<T>> {
        (self.0)()
    }
    fn cardinality(&self) -> Cardinality {
        Cardinality::Unknown
    }
    fn name(&self) -> &'static str {
        "FlatMapDataset"
    }
}

impl<S: Structure> Dataset<S> {
    /// A dataset whose elements are the slices of `data` along its first axis
    /// (`tf.data.Dataset.from_tensor_slices`): element `i` is row `i` of every component,
    /// as a view (no copy). Every component must have the same number of rows.
    ///
    /// ```
    /// use keras::data::{Dataset, TensorMap};
    /// use keras::prelude::*;
    /// let x = Tensor::zeros((6, 28, 28), DType::F32, &Device::Cpu)?;
    /// let y = Tensor::zeros(6, DType::U32, &Device::Cpu)?;
    /// let ds = Dataset::from_tensor_slices((x.clone(), y))?;
    /// assert_eq!(ds.len()?, 6);
    /// let (image, label) = ds.iter()?.next().unwrap()?;
    /// assert_eq!((image.dims(), label.dims()), (&[28, 28][..], &[][..]));
    ///
    /// let named = Dataset::from_tensor_slices(TensorMap::from([("image", x)]))?;
    /// assert_eq!(named.iter()?.next().unwrap()?["image"].dims(), &[28, 28]);
    ///
    /// let bad = Tensor::zeros(5, DType::U32, &Device::Cpu)?;
    /// assert!(Dataset::from_tensor_slices((Tensor::zeros(6, DType::F32, &Device::Cpu)?, bad)).is_err());
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn from_tensor_slices(data: S) -> Result<Self> {
        let rows = data.num_rows()?;
        // Strided views (a column slice, a transpose) are copied once here, not every batch.
        let data = data.map_components(|t| Ok(t.contiguous()?))?;
        Ok(Dataset::from_source(Slices { data, rows }))
    }

    /// A dataset of one element, `data` itself (`tf.data.Dataset.from_tensors`).
    ///
    /// ```
    /// use keras::data::Dataset;
    /// use keras::prelude::*;
    /// let x = Tensor::zeros((3, 2), DType::F32, &Device::Cpu)?;
    /// let ds = Dataset::from_tensors(x)?;
    /// assert_eq!(ds.len()?, 1);
    /// assert_eq!(ds.iter()?.next().unwrap()?.dims(), &[3, 2]);
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn from_tensors(data: S) -> Result<Self> {
        Ok(Dataset::from_source(One(data)))
    }
}

impl Dataset<Tensor> {
    /// Scalar int64 tensors `0, 1, ..., n - 1` (`tf.data.Dataset.range(n)`).
    ///
    /// ```
    /// use keras::data::Dataset;
    /// let ds = Dataset::range(3)?;
    /// let v: Vec<i64> = ds.iter()?.map(|t| t.unwrap().to_vec0::<i64>().unwrap()).collect();
    /// assert_eq!(v, [0, 1, 2]);
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn range(n: usize) -> Result<Self> {
        Self::range_with(0, n as i64, 1)
    }

    /// Scalar int64 tensors from `start` towards `stop` (excluded) by `step`
    /// (`tf.data.Dataset.range(start, stop, step)`); `step` must not be zero.
    ///
    /// ```
    /// use keras::data::Dataset;
    /// let v: Vec<i64> = Dataset::range_with(5, 0, -2)?
    ///     .iter()?
    ///     .map(|t| t.unwrap().to_vec0::<i64>().unwrap())
    ///     .collect();
    /// assert_eq!(v, [5, 3, 1]);
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn range_with(start: i64, stop: i64, step: i64) -> Result<Self> {
        if step == 0 {
            crate::bail_value!("step must be a non-zero integer, got step={step}.");
        }
        Ok(Dataset::from_source(Range { start, stop, step }))
    }
}

impl<T: Send + 'static> Dataset<T> {
    /// A dataset that calls `generator` at the start of every pass and yields what the
    /// iterator it returns yields (`tf.data.Dataset.from_generator`). Its cardinality is
    /// unknown.
    ///
    /// ```
    /// use keras::data::Dataset;
    /// use keras::prelude::*;
    /// let ds = Dataset::from_generator(|| {
    ///     (0..4).map(|i| Tensor::new(i as f32, &Device::Cpu).unwrap())
    /// });
    /// assert_eq!(ds.iter()?.count(), 4);
    /// assert_eq!(ds.iter()?.count(), 4); // called again for the second pass
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn from_generator<F, I>(generator: F) -> Self
    where
        F: Fn() -> I + Send + Sync + 'static,
        I: IntoIterator<Item = T>,
        I::IntoIter: Send + 'static,
    {
        Dataset::from_source(FromGenerator(Arc::new(move || {
            Ok(Box::new(generator().into_iter().map(Ok)) as BoxIter<T>)
        })))
    }

    /// [`Dataset::from_generator`] for a generator whose elements can fail: an `Err` comes
    /// out of the pass at that element (and ends it).
    ///
    /// ```
    /// use keras::data::Dataset;
    /// use keras::prelude::*;
    /// let ds = Dataset::from_generator_result(|| {
    ///     (0..3).map(|i| {
    ///         if i == 2 { return Err(keras::Error::value("bad record")); }
    ///         Ok(Tensor::new(i as f32, &Device::Cpu)?)
    ///     })
    /// });
    /// let got: Vec<_> = ds.iter()?.collect();
    /// assert_eq!(got.len(), 3);
    /// assert_eq!(got[2].as_ref().unwrap_err().to_string(), "bad record");
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn from_generator_result<F, I>(generator: F) -> Self
    where
        F: Fn() -> I + Send + Sync + 'static,
        I: IntoIterator<Item = Result<T>>,
        I::IntoIter: Send + 'static,
    {
        Dataset::from_source(FromGenerator(Arc::new(move || {
            Ok(Box::new(generator().into_iter()) as BoxIter<T>)
        })))
    }
}

/// Int64 scalars as a plain vector (for tests).
#[cfg(test)]
pub(crate) fn scalars(v: &[i64]) -> Tensor {
    crate::ops::from_vec(v.to_vec(), &[v.len()]).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::ints;

    #[test]
    fn slices_yield_rows_in_order() {
        let x = crate::ops::from_vec((0..12i64).collect(), &[4, 3]).unwrap();
        let y = scalars(&[10, 11, 12, 13]);
        let ds = Dataset::from_tensor_slices((x, y)).unwrap();
        let got: Vec<(Vec<i64>, i64)> = ds
            .iter()
            .unwrap()
            .map(|e| {
                let (a, b) = e.unwrap();
                (a.to_vec1().unwrap(), b.to_vec0().unwrap())
            })
            .collect();
        assert_eq!(got[1], (vec![3, 4, 5], 11));
        assert_eq!(got.len(), 4);
    }

    #[test]
    fn ranges_match_python() {
        assert_eq!(ints(&Dataset::range(4).unwrap()), [0, 1, 2, 3]);
        assert_eq!(ints(&Dataset::range_with(2, 9, 3).unwrap()), [2, 5, 8]);
        assert_eq!(ints(&Dataset::range_with(5, 0, -2).unwrap()), [5, 3, 1]);
        assert!(ints(&Dataset::range_with(5, 0, 1).unwrap()).is_empty());
        assert!(Dataset::range_with(0, 3, 0).is_err());
        assert_eq!(
            Dataset::range_with(2, 9, 3).unwrap().cardinality(),
            Cardinality::Finite(3)
        );
    }

    #[test]
    fn mismatched_rows_are_refused() {
        let err = Dataset::from_tensor_slices((scalars(&[1, 2, 3]), scalars(&[1])))
            .unwrap_err()
            .to_string();
        assert!(err.contains("[3, 1]"), "{err}");
    }
}
