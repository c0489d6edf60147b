//! Data given to `fit` / `evaluate` / `predict`: one array, a list (one per model input or
//! output, in order) or a map keyed by input / output name; batching and splitting.

use crate::ops::{self, random::Rng, Tensor};
use crate::{Error, Result};
use std::collections::HashMap;

/// Model inputs or targets: one tensor, a list in order, or a map by name.
///
/// ```
/// use keras::prelude::*;
/// use keras::trainers::Data;
/// let a = Tensor::zeros((4, 2), DType::F32, &Device::Cpu)?;
/// let one: Data = (&a).into();
/// let list: Data = vec![a.clone(), a.clone()].into();
/// let named: Data = vec![("text", a.clone()), ("question", a)].into();
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Debug)]
pub enum Data {
    /// A single array.
    One(Tensor),
    /// One array per input (or output), in order.
    List(Vec<Tensor>),
    /// Arrays by input (or output) name.
    Named(Vec<(String, Tensor)>),
}

impl From<Tensor> for Data {
    fn from(t: Tensor) -> Self {
        Data::One(t)
    }
}
impl From<&Tensor> for Data {
    fn from(t: &Tensor) -> Self {
        Data::One(t.clone())
    }
}
impl From<Vec<Tensor>> for Data {
    fn from(v: Vec<Tensor>) -> Self {
        Data::List(v)
    }
}
impl From<&[Tensor]> for Data {
    fn from(v: &[Tensor]) -> Self {
        Data::List(v.to_vec())
    }
}
impl<const N: usize> From<[Tensor; N]> for Data {
    fn from(v: [Tensor; N]) -> Self {
        Data::List(v.to_vec())
    }
}
impl From<Vec<(&str, Tensor)>> for Data {
    fn from(v: Vec<(&str, Tensor)>) -> Self {
        Data::Named(v.into_iter().map(|(k, t)| (k.to_string(), t)).collect())
    }
}
impl<const N: usize> From<[(&str, Tensor); N]> for Data {
    fn from(v: [(&str, Tensor); N]) -> Self {
        Data::Named(v.into_iter().map(|(k, t)| (k.to_string(), t)).collect())
    }
}
impl From<HashMap<String, Tensor>> for Data {
    fn from(m: HashMap<String, Tensor>) -> Self {
        Data::Named(m.into_iter().collect())
    }
}

impl Data {
    /// The arrays in the order of `names` (the model's inputs or outputs). `what` is `x` or `y`.
    pub(crate) fn resolve(self, names: &[String], what: &str) -> Result<Vec<Tensor>> {
        match self {
            Data::One(t) => {
                if names.len() > 1 {
                    return Err(Error::value(format!(
                        "The model has {} {} ({}), but `{what}` is a single array. Pass a list or a map.",
                        names.len(),
                        if what == "x" { "inputs" } else { "outputs" },
                        names.join(", ")
                    )));
                }
                Ok(vec![t])
            }
            Data::List(v) => {
                if !names.is_empty() && v.len() != names.len() {
                    return Err(Error::value(format!(
                        "Expected {} arrays in `{what}` (for {}), but received {}.",
                        names.len(),
                        names.join(", "),
                        v.len()
                    )));
                }
                Ok(v)
            }
            Data::Named(mut m) => {
                for (k, _) in &m {
                    if !names.contains(k) {
                        return Err(Error::value(format!(
                            "The key '{k}' of `{what}` does not name any {} of the model. Expected keys: {:?}",
                            if what == "x" { "input" } else { "output" },
                            names
                        )));
                    }
                }
                names
                    .iter()
                    .map(|n| {
                        let i = m.iter().position(|(k, _)| k == n).ok_or_else(|| {
                            Error::value(format!(
                                "`{what}` has no array for '{n}'. Expected keys: {names:?}"
                            ))
                        })?;
                        Ok(m.swap_remove(i).1)
                    })
                    .collect()
            }
        }
    }
}

/// Arrays of equal length, batched along axis 0.
#[derive(Clone, Debug)]
pub(crate) struct Dataset {
    pub xs: Vec<Tensor>,
    pub ys: Vec<Tensor>,
    pub n: usize,
}

impl Dataset {
    /// Checks that every array has the same number of samples (Keras's cardinality check).
    pub fn new(xs: Vec<Tensor>, ys: Vec<Tensor>) -> Result<Self> {
        let len = |t: &Tensor| t.dims().first().copied().unwrap_or(1);
        let xn: Vec<usize> = xs.iter().map(len).collect();
        let yn: Vec<usize> = ys.iter().map(len).collect();
        let mut all: Vec<usize> = xn.iter().chain(&yn).copied().collect();
        all.dedup();
        if all.len() > 1 {
            let fmt = |v: &[usize]| {
                v.iter()
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let mut msg = "Data cardinality is ambiguous. Make sure all arrays contain the same number of samples.".to_string();
            msg.push_str(&format!("'x' sizes: {}\n", fmt(&xn)));
            if !yn.is_empty() {
                msg.push_str(&format!("'y' sizes: {}\n", fmt(&yn)));
            }
            return Err(Error::shape(msg.trim_end().to_string()));
        }
        let n = all.first().copied().unwrap_or(0);
        // Strided views (a column slice, a transpose) are copied once here, not every batch.
        let dense = |v: Vec<Tensor>| -> Result<Vec<Tensor>> {
            v.into_iter().map(|t| Ok(t.contiguous()?)).collect()
        };
        Ok(Dataset {
            xs: dense(xs)?,
            ys: dense(ys)?,
            n,
        })
    }

    /// Keras's `validation_split`: the last `fraction` of the samples (before any shuffling)
    /// become the validation set.
    pub fn split(self, fraction: f64) -> Result<(Dataset, Dataset)> {
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
        let train = Dataset {
            xs: part(&self.xs, 0, at)?,
            ys: part(&self.ys, 0, at)?,
            n: at,
        };
        let val = Dataset {
            xs: part(&self.xs, at, self.n - at)?,
            ys: part(&self.ys, at, self.n - at)?,
            n: self.n - at,
        };
        Ok((train, val))
    }

    /// Index lists of each batch, shuffled when a generator is given.
    pub fn batches(&self, batch_size: usize, rng: Option<&mut Rng>) -> Vec<Vec<u32>> {
        let mut idx: Vec<u32> = (0..self.n as u32).collect();
        if let Some(r) = rng {
            r.shuffle(&mut idx);
        }
        idx.chunks(batch_size.max(1)).map(<[u32]>::to_vec).collect()
    }

    /// The arrays of one batch.
    pub fn take(&self, idx: &[u32]) -> Result<(Vec<Tensor>, Vec<Tensor>)> {
        let xs = self
            .xs
            .iter()
            .map(|t| ops::take_rows(t, idx))
            .collect::<Result<_>>()?;
        let ys = self
            .ys
            .iter()
            .map(|t| ops::take_rows(t, idx))
            .collect::<Result<_>>()?;
        Ok((xs, ys))
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
        let d = Dataset::new(vec![t(10)], vec![t(10)]).unwrap();
        let (train, val) = d.split(0.2).unwrap();
        assert_eq!((train.n, val.n), (8, 2));
        assert_eq!(ops::to_vec_f32(&val.xs[0]).unwrap(), vec![8.0, 9.0]);
        assert!(Dataset::new(vec![t(1)], vec![t(1)])
            .unwrap()
            .split(0.5)
            .is_err());
    }

    #[test]
    fn cardinality_and_names() {
        let e = Dataset::new(vec![t(100)], vec![t(90)])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("Data cardinality is ambiguous") && e.contains("'y' sizes: 90"),
            "{e}"
        );
        let names = vec!["a".to_string(), "b".to_string()];
        let d: Data = vec![("b", t(2)), ("a", t(3))].into();
        let v = d.resolve(&names, "x").unwrap();
        assert_eq!(v[0].dims(), &[3, 1]);
        let d: Data = vec![("c", t(2))].into();
        assert!(d
            .resolve(&names, "x")
            .unwrap_err()
            .to_string()
            .contains("'c'"));
        let one: Data = Tensor::zeros((2, 2), DType::F32, &Device::Cpu)
            .unwrap()
            .into();
        assert!(one.resolve(&names, "x").is_err());
    }

    #[test]
    fn batches_cover_every_sample_once() {
        let d = Dataset::new(vec![t(10)], vec![]).unwrap();
        let mut rng = Rng::new(3);
        let b = d.batches(4, Some(&mut rng));
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), vec![4, 4, 2]);
        let mut all: Vec<u32> = b.concat();
        all.sort();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
    }
}
