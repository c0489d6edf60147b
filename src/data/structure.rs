//! Element structures: what one element of a [`Dataset`](super::Dataset) is made of.
//!
//! An element is a [`Tensor`], a [`TensorMap`] (tensors by name, for models with named
//! inputs), a `Vec` of structures, or a tuple of structures (`(x, y)`, `(x, y, sample_weight)`).
//! [`Structure`] flattens an element into its tensors (its *components*, numbered in order as
//! tf.data numbers them in error messages) and rebuilds one from new tensors; slicing rows,
//! gathering rows and stacking a batch are built on that.

use crate::ops::{self, Tensor};
use crate::{Error, Result};

/// An element structure: tensors in a fixed arrangement (a tensor, a map by name, a list, a
/// tuple), as tf.data's nested structures.
///
/// ```
/// use keras::data::{Structure, TensorMap};
/// use keras::prelude::*;
/// let x = Tensor::zeros((5, 28, 28), DType::F32, &Device::Cpu)?;
/// let y = Tensor::zeros(5, DType::U32, &Device::Cpu)?;
/// let pair = (x, y);
/// assert_eq!(pair.num_rows()?, 5);
/// let first = pair.row(0)?;
/// assert_eq!(first.describe(), "(Tensor[f32; 28, 28], Tensor[u32; ])");
/// let batch = <(Tensor, Tensor)>::stack(&[first.clone(), first])?;
/// assert_eq!(batch.0.dims(), &[2, 28, 28]);
/// # Ok::<(), keras::Error>(())
/// ```
pub trait Structure: Clone + Send + Sync + 'static {
    /// Appends this element's tensors (its components) to `out`, in order.
    fn flatten_into<'a>(&'a self, out: &mut Vec<&'a Tensor>);

    /// An element of the same arrangement as `self` made of the tensors `parts` yields, in
    /// the order [`Structure::flatten_into`] gives them.
    fn rebuild(&self, parts: &mut dyn Iterator<Item = Tensor>) -> Result<Self>;

    /// A short description for messages, e.g. `(Tensor[f32; 28, 28], Tensor[u32; ])`.
    fn describe(&self) -> String;

    /// The components, in order.
    fn components(&self) -> Vec<&Tensor> {
        let mut out = Vec::new();
        self.flatten_into(&mut out);
        out
    }

    /// This element with every component replaced by `f(component)`.
    fn map_components(&self, mut f: impl FnMut(&Tensor) -> Result<Tensor>) -> Result<Self> {
        let parts = self
            .components()
            .into_iter()
            .map(&mut f)
            .collect::<Result<Vec<_>>>()?;
        self.rebuild(&mut parts.into_iter())
    }

    /// The common size of every component's first axis (the number of elements
    /// `from_tensor_slices` makes). Errors on a scalar component or on sizes that differ.
    fn num_rows(&self) -> Result<usize> {
        let parts = self.components();
        let Some(first) = parts.first() else {
            return Err(Error::value(format!(
                "Cannot slice an element with no tensors: {}",
                self.describe()
            )));
        };
        let mut sizes = Vec::with_capacity(parts.len());
        for (i, t) in parts.iter().enumerate() {
            if t.rank() == 0 {
                return Err(Error::shape(format!(
                    "Unbatching a tensor is only supported for rank >= 1, but component {i} of {} is a scalar.",
                    self.describe()
                )));
            }
            sizes.push(t.dims()[0]);
        }
        let n = first.dims()[0];
        if let Some(&m) = sizes.iter().find(|&&s| s != n) {
            return Err(Error::shape(format!(
                "Dimensions {n} and {m} are not compatible: the components' first dimensions are {sizes:?} in {}.",
                self.describe()
            )));
        }
        Ok(n)
    }

    /// Row `i` of every component (a view, no copy): element `i` of `from_tensor_slices`.
    fn row(&self, i: usize) -> Result<Self> {
        self.map_components(|t| {
            let n = t.dims().first().copied().unwrap_or(0);
            if i >= n {
                return Err(Error::shape(format!(
                    "row index {i} is out of range for {n} rows"
                )));
            }
            Ok(t.get(i)?)
        })
    }

    /// Rows `start .. start + len` of every component (a view).
    fn rows(&self, start: usize, len: usize) -> Result<Self> {
        self.map_components(|t| Ok(t.narrow(0, start, len)?))
    }

    /// Rows `idx` of every component, in that order, gathered into new tensors
    /// ([`ops::take_rows`]).
    fn take_rows(&self, idx: &[u32]) -> Result<Self> {
        self.map_components(|t| ops::take_rows(t, idx))
    }

    /// The elements stacked along a new first axis (one batch). Every element must have the
    /// same arrangement, and each component the same shape and dtype.
    fn stack(elems: &[Self]) -> Result<Self> {
        let Some(first) = elems.first() else {
            return Err(Error::value("Cannot batch an empty list of elements."));
        };
        let first_parts = first.components();
        let mut columns: Vec<Vec<&Tensor>> = first_parts
            .iter()
            .map(|t| {
                let mut c = Vec::with_capacity(elems.len());
                c.push(*t);
                c
            })
            .collect();
        for (e, elem) in elems.iter().enumerate().skip(1) {
            let parts = elem.components();
            if parts.len() != first_parts.len() {
                return Err(Error::value(format!(
                    "Cannot batch elements with different structures. First element was {} and element {e} was {}.",
                    first.describe(),
                    elem.describe()
                )));
            }
            for (c, (a, b)) in first_parts.iter().zip(&parts).enumerate() {
                if a.dims() != b.dims() {
                    return Err(Error::shape(format!(
                        "Cannot batch tensors with different shapes in component {c}. First element had shape {:?} and element {e} had shape {:?}.",
                        a.dims(),
                        b.dims()
                    )));
                }
                if a.dtype() != b.dtype() {
                    return Err(Error::value(format!(
                        "Cannot batch tensors with different dtypes in component {c}. First element had dtype {} and element {e} had dtype {}.",
                        a.dtype().as_str(),
                        b.dtype().as_str()
                    )));
                }
                columns[c].push(b);
            }
        }
        let stacked = columns
            .iter()
            .map(|c| Ok(Tensor::stack(c, 0)?))
            .collect::<Result<Vec<_>>>()?;
        first.rebuild(&mut stacked.into_iter())
    }

    /// The elements of a batch: row `i` of every component for each `i` (the inverse of
    /// [`Structure::stack`]; views, no copy).
    fn unstack(&self) -> Result<Vec<Self>> {
        let n = self.num_rows()?;
        (0..n).map(|i| self.row(i)).collect()
    }
}

fn missing() -> Error {
    Error::runtime("Structure::rebuild: fewer tensors than components")
}

/// `Tensor[f32; 28, 28]`: a tensor's dtype and shape, for error messages.
pub(crate) fn describe_tensor(t: &Tensor) -> String {
    let dims: Vec<String> = t.dims().iter().map(|d| d.to_string()).collect();
    format!("Tensor[{}; {}]", t.dtype().as_str(), dims.join(", "))
}

impl Structure for Tensor {
    fn flatten_into<'a>(&'a self, out: &mut Vec<&'a Tensor>) {
        out.push(self);
    }
    fn rebuild(&self, parts: &mut dyn Iterator<Item = Tensor>) -> Result<Self> {
        parts.next().ok_or_else(missing)
    }
    fn describe(&self) -> String {
        describe_tensor(self)
    }
}

impl<S: Structure> Structure for Vec<S> {
    fn flatten_into<'a>(&'a self, out: &mut Vec<&'a Tensor>) {
        for s in self {
            s.flatten_into(out);
        }
    }
    fn rebuild(&self, parts: &mut dyn Iterator<Item = Tensor>) -> Result<Self> {
        self.iter().map(|s| s.rebuild(parts)).collect()
    }
    fn describe(&self) -> String {
        let items: Vec<String> = self.iter().map(|s| s.describe()).collect();
        format!("[{}]", items.join(", "))
    }
}

macro_rules! tuple_structure {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: Structure),+> Structure for ($($name,)+) {
            fn flatten_into<'a>(&'a self, out: &mut Vec<&'a Tensor>) {
                $(self.$idx.flatten_into(out);)+
            }
            fn rebuild(&self, parts: &mut dyn Iterator<Item = Tensor>) -> Result<Self> {
                Ok(($(self.$idx.rebuild(parts)?,)+))
            }
            fn describe(&self) -> String {
                let items = [$(self.$idx.describe()),+];
                format!("({})", items.join(", "))
            }
        }
    };
}
tuple_structure!(A 0, B 1);
tuple_structure!(A 0, B 1, C 2);
tuple_structure!(A 0, B 1, C 2, D 3);

/// Tensors by name, in insertion order: an element for a model with named inputs
/// (tf.data's dict elements).
///
/// ```
/// use keras::data::TensorMap;
/// use keras::prelude::*;
/// let a = Tensor::zeros((4, 3), DType::F32, &Device::Cpu)?;
/// let b = Tensor::zeros((4, 5), DType::F32, &Device::Cpu)?;
/// let m = TensorMap::from([("text", a), ("question", b)]);
/// assert_eq!(m.get("question").unwrap().dims(), &[4, 5]);
/// assert_eq!(m.names().collect::<Vec<_>>(), ["text", "question"]);
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct TensorMap {
    entries: Vec<(String, Tensor)>,
}

impl TensorMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` to `t` (replacing an earlier value in place, else appending).
    pub fn insert(&mut self, name: impl Into<String>, t: Tensor) {
        let name = name.into();
        match self.entries.iter_mut().find(|(k, _)| *k == name) {
            Some(slot) => slot.1 = t,
            None => self.entries.push((name, t)),
        }
    }

    /// The tensor called `name`.
    pub fn get(&self, name: &str) -> Option<&Tensor> {
        self.entries.iter().find(|(k, _)| k == name).map(|(_, t)| t)
    }

    /// The names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    /// `(name, tensor)` pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Tensor)> {
        self.entries.iter().map(|(k, t)| (k.as_str(), t))
    }

    /// How many tensors.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The `(name, tensor)` pairs, in order.
    pub fn into_vec(self) -> Vec<(String, Tensor)> {
        self.entries
    }
}

impl<K: Into<String>, const N: usize> From<[(K, Tensor); N]> for TensorMap {
    fn from(v: [(K, Tensor); N]) -> Self {
        v.into_iter().collect()
    }
}

impl<K: Into<String>> From<Vec<(K, Tensor)>> for TensorMap {
    fn from(v: Vec<(K, Tensor)>) -> Self {
        v.into_iter().collect()
    }
}

impl<K: Into<String>> FromIterator<(K, Tensor)> for TensorMap {
    fn from_iter<I: IntoIterator<Item = (K, Tensor)>>(iter: I) -> Self {
        let mut m = TensorMap::new();
        for (k, t) in iter {
            m.insert(k, t);
        }
        m
    }
}

impl IntoIterator for TensorMap {
    type Item = (String, Tensor);
    type IntoIter = std::vec::IntoIter<(String, Tensor)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl std::ops::Index<&str> for TensorMap {
    type Output = Tensor;
    /// Panics when `name` is absent (use [`TensorMap::get`] to check).
    fn index(&self, name: &str) -> &Tensor {
        self.get(name)
            .unwrap_or_else(|| panic!("TensorMap has no tensor named {name:?}"))
    }
}

impl Structure for TensorMap {
    fn flatten_into<'a>(&'a self, out: &mut Vec<&'a Tensor>) {
        out.extend(self.entries.iter().map(|(_, t)| t));
    }
    fn rebuild(&self, parts: &mut dyn Iterator<Item = Tensor>) -> Result<Self> {
        let entries = self
            .entries
            .iter()
            .map(|(k, _)| Ok((k.clone(), parts.next().ok_or_else(missing)?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(TensorMap { entries })
    }
    fn describe(&self) -> String {
        let items: Vec<String> = self
            .entries
            .iter()
            .map(|(k, t)| format!("{k}: {}", describe_tensor(t)))
            .collect();
        format!("{{{}}}", items.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{DType, Device};

    fn arange(n: usize, dims: &[usize]) -> Tensor {
        ops::from_vec((0..n as u32).collect::<Vec<_>>(), dims).unwrap()
    }

    #[test]
    fn rows_and_stack_round_trip() {
        let x = arange(24, &[4, 3, 2]);
        let y = arange(4, &[4]);
        let s = (x.clone(), TensorMap::from([("y", y)]));
        assert_eq!(s.num_rows().unwrap(), 4);
        let rows = s.unstack().unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[2].0.dims(), &[3, 2]);
        assert_eq!(rows[2].1["y"].to_vec0::<u32>().unwrap(), 2);
        let back = <(Tensor, TensorMap)>::stack(&rows).unwrap();
        assert_eq!(
            back.0.flatten_all().unwrap().to_vec1::<u32>().unwrap(),
            (0..24).collect::<Vec<_>>()
        );
        assert_eq!(back.1["y"].to_vec1::<u32>().unwrap(), vec![0, 1, 2, 3]);
    }

    #[test]
    fn stack_names_the_mismatch() {
        let a = Tensor::zeros((28, 28), DType::F32, &Device::Cpu).unwrap();
        let b = Tensor::zeros((27, 28), DType::F32, &Device::Cpu).unwrap();
        let l = Tensor::zeros((), DType::U32, &Device::Cpu).unwrap();
        let mut elems = vec![(a.clone(), l.clone()); 5];
        elems.push((b, l.clone()));
        let err = <(Tensor, Tensor)>::stack(&elems).unwrap_err().to_string();
        assert_eq!(
            err,
            "Cannot batch tensors with different shapes in component 0. First element had shape [28, 28] and element 5 had shape [27, 28]."
        );
        let elems = vec![(a.clone(), l.clone()), (a, l.to_dtype(DType::I64).unwrap())];
        let err = <(Tensor, Tensor)>::stack(&elems).unwrap_err().to_string();
        assert!(err.contains("different dtypes in component 1"), "{err}");
        let v = vec![vec![l.clone()], vec![l.clone(), l]];
        let err = Vec::<Tensor>::stack(&v).unwrap_err().to_string();
        assert!(err.contains("different structures"), "{err}");
    }

    #[test]
    fn num_rows_checks_sizes() {
        let err = (arange(3, &[3]), arange(4, &[4]))
            .num_rows()
            .unwrap_err()
            .to_string();
        assert!(err.contains("[3, 4]"), "{err}");
        let s = Tensor::zeros((), DType::F32, &Device::Cpu).unwrap();
        assert!(s.num_rows().unwrap_err().to_string().contains("rank >= 1"));
        assert!(Vec::<Tensor>::new().num_rows().is_err());
    }

    #[test]
    fn describe_and_map() {
        let m = TensorMap::from([("text", arange(6, &[2, 3])), ("q", arange(2, &[2]))]);
        assert_eq!(m.describe(), "{text: Tensor[u32; 2, 3], q: Tensor[u32; 2]}");
        let g = m.take_rows(&[1, 0]).unwrap();
        assert_eq!(g["q"].to_vec1::<u32>().unwrap(), vec![1, 0]);
        let mut m2 = m.clone();
        m2.insert("q", arange(3, &[3]));
        assert_eq!(m2.len(), 2);
        assert_eq!(m2["q"].dims(), &[3]);
    }
}
