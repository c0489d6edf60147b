//! In-memory arrays (Keras's `ArrayDataAdapter`): every array sliced along axis 0 into
//! batches, reshuffled each epoch when asked.

use super::{Batch, BatchIter, DataAdapter};
use crate::ops::{self, random, Tensor};
use crate::trainers::Data;
use crate::{Error, Result};

/// Inputs, targets and sample weights of equal length (the model's order already resolved).
#[derive(Clone, Debug)]
pub(crate) struct Arrays {
    pub xs: Vec<Tensor>,
    pub ys: Vec<Tensor>,
    pub sw: Vec<Tensor>,
    pub n: usize,
}

fn sizes(v: &[usize]) -> String {
    v.iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Arrays {
    /// Checks that every array has the same number of samples (Keras's cardinality check).
    pub fn new(xs: Vec<Tensor>, ys: Vec<Tensor>) -> Result<Self> {
        Self::with_weights(xs, ys, vec![])
    }

    /// With sample weights (one array for every output, or one per output).
    pub fn with_weights(xs: Vec<Tensor>, ys: Vec<Tensor>, sw: Vec<Tensor>) -> Result<Self> {
        let len = |t: &Tensor| t.dims().first().copied().unwrap_or(1);
        let xn: Vec<usize> = xs.iter().map(len).collect();
        let yn: Vec<usize> = ys.iter().map(len).collect();
        let wn: Vec<usize> = sw.iter().map(len).collect();
        let mut all: Vec<usize> = xn.iter().chain(&yn).chain(&wn).copied().collect();
        all.dedup();
        if all.len() > 1 {
            let mut msg = "Data cardinality is ambiguous. Make sure all arrays contain the same number of samples.".to_string();
            msg.push_str(&format!("'x' sizes: {}\n", sizes(&xn)));
            if !yn.is_empty() {
                msg.push_str(&format!("'y' sizes: {}\n", sizes(&yn)));
            }
            if !wn.is_empty() {
                msg.push_str(&format!("'sample_weight' sizes: {}\n", sizes(&wn)));
            }
            return Err(Error::shape(msg.trim_end().to_string()));
        }
        let n = all.first().copied().unwrap_or(0);
        // Strided views (a column slice, a transpose) are copied once here, not every batch.
        let dense = |v: Vec<Tensor>| -> Result<Vec<Tensor>> {
            v.into_iter().map(|t| Ok(t.contiguous()?)).collect()
        };
        Ok(Arrays {
            xs: dense(xs)?,
            ys: dense(ys)?,
            sw: dense(sw)?,
            n,
        })
    }

    /// Keras's `validation_split`: the last `fraction` of the samples (before any shuffling)
    /// become the validation set.
    pub fn split(self, fraction: f64) -> Result<(Arrays, Arrays)> {
        if !(0.0..1.0).contains(&fraction) {
            return Err(Error::value(format!(
                "`validation_split` must be in [0, 1). Received: {fraction}"
            )));
        }
        let at = (self.n as f64 * (1.0 - fraction)).floor() as usize;
        if at == 0 || at == self.n {
            return Err(Error::value(format!(
                "Training data contains {} samples, which is not sufficient to split it into a \
                 validation and training set as specified by `validation_split={fraction}`. Either \
                 provide more data, or a different value for the `validation_split` argument.",
                self.n
            )));
        }
        let part = |ts: &[Tensor], start: usize, len: usize| -> Result<Vec<Tensor>> {
            ts.iter().map(|t| Ok(t.narrow(0, start, len)?)).collect()
        };
        let train = Arrays {
            xs: part(&self.xs, 0, at)?,
            ys: part(&self.ys, 0, at)?,
            sw: part(&self.sw, 0, at)?,
            n: at,
        };
        let val = Arrays {
            xs: part(&self.xs, at, self.n - at)?,
            ys: part(&self.ys, at, self.n - at)?,
            sw: part(&self.sw, at, self.n - at)?,
            n: self.n - at,
        };
        Ok((train, val))
    }

    /// Index lists of each batch, shuffled when a generator is given.
    pub fn batches(&self, batch_size: usize, rng: Option<&mut random::Rng>) -> Vec<Vec<u32>> {
        let mut idx: Vec<u32> = (0..self.n as u32).collect();
        if let Some(r) = rng {
            r.shuffle(&mut idx);
        }
        idx.chunks(batch_size.max(1)).map(<[u32]>::to_vec).collect()
    }

    /// The arrays of one batch.
    pub fn take(&self, idx: &[u32]) -> Result<Batch> {
        let rows = |ts: &[Tensor]| -> Result<Vec<Tensor>> {
            ts.iter().map(|t| ops::take_rows(t, idx)).collect()
        };
        Ok(Batch {
            x: Data::List(rows(&self.xs)?),
            y: (!self.ys.is_empty())
                .then(|| rows(&self.ys))
                .transpose()?
                .map(Data::List),
            sample_weight: (!self.sw.is_empty())
                .then(|| rows(&self.sw))
                .transpose()?
                .map(Data::List),
        })
    }
}

/// Batches of in-memory arrays, in order or reshuffled each pass.
pub(crate) struct ArrayDataAdapter {
    data: std::sync::Arc<Arrays>,
    batch_size: usize,
    shuffle: bool,
}

impl ArrayDataAdapter {
    pub fn new(data: Arrays, batch_size: usize, shuffle: bool) -> Self {
        ArrayDataAdapter {
            data: std::sync::Arc::new(data),
            batch_size,
            shuffle,
        }
    }
}

impl DataAdapter for ArrayDataAdapter {
    fn iter(&mut self) -> Result<BatchIter> {
        // One generator per pass, forked from the global seed whether or not it shuffles, so
        // the random stream after it does not depend on `shuffle`.
        let mut rng = random::fork();
        let batches = self
            .data
            .batches(self.batch_size, self.shuffle.then_some(&mut rng));
        let data = self.data.clone();
        Ok(Box::new(
            batches.into_iter().map(move |idx| data.take(&idx)),
        ))
    }

    fn num_batches(&self) -> Option<usize> {
        Some(self.data.n.div_ceil(self.batch_size.max(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{DType, Device};

    fn t(n: usize) -> Tensor {
        Tensor::arange(0f32, n as f32, &Device::Cpu)
            .unwrap()
            .reshape((n, 1))
            .unwrap()
    }

    #[test]
    fn validation_split_takes_the_last_fraction() {
        let d = Arrays::new(vec![t(10)], vec![t(10)]).unwrap();
        let (train, val) = d.split(0.2).unwrap();
        assert_eq!((train.n, val.n), (8, 2));
        assert_eq!(ops::to_vec_f32(&val.xs[0]).unwrap(), vec![8.0, 9.0]);
        assert!(Arrays::new(vec![t(1)], vec![t(1)])
            .unwrap()
            .split(0.5)
            .is_err());
    }

    #[test]
    fn cardinality_names_every_size() {
        let e = Arrays::new(vec![t(100)], vec![t(90)])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("Data cardinality is ambiguous") && e.contains("'y' sizes: 90"),
            "{e}"
        );
        let e = Arrays::with_weights(vec![t(4)], vec![t(4)], vec![t(3)])
            .unwrap_err()
            .to_string();
        assert!(e.contains("'sample_weight' sizes: 3"), "{e}");
    }

    #[test]
    fn batches_cover_every_sample_once() {
        let d = Arrays::new(vec![t(10)], vec![]).unwrap();
        let mut rng = random::Rng::new(3);
        let b = d.batches(4, Some(&mut rng));
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), vec![4, 4, 2]);
        let mut all: Vec<u32> = b.concat();
        all.sort();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        let mut a = ArrayDataAdapter::new(d, 4, false);
        assert_eq!(a.num_batches(), Some(3));
        let first = a.iter().unwrap().next().unwrap().unwrap();
        let Data::List(x) = first.x else { panic!() };
        assert_eq!(x[0].dims(), &[4, 1]);
        let _ = DType::F32;
    }
}
