//! Indexing and slicing (Python's `x[:, 0]`, `x[..., 1:3]`, `x[:, None]`): Keras's `GetItem`
//! op, with the key as a list of [`Idx`].
//!
//! ```
//! use keras::ops::{self, Device, Idx, Tensor};
//! let x = Tensor::new(&[[1f32, 2.0, 3.0], [4.0, 5.0, 6.0]], &Device::Cpu)?;
//! // x[:, 0]
//! let c = ops::get_item(&x, &[Idx::all(), Idx::at(0)])?;
//! assert_eq!(c.to_vec1::<f32>()?, vec![1.0, 4.0]);
//! // x[..., 1:]
//! let s = ops::get_item(&x, &[Idx::Ellipsis, (1..).into()])?;
//! assert_eq!(s.to_vec2::<f32>()?, vec![vec![2.0, 3.0], vec![5.0, 6.0]]);
//! # Ok::<(), keras::Error>(())
//! ```

use super::numpy::NUMPY;
use super::operation::{apply1, template_from, Arg, Op, TensorLike};
use super::Tensor;
use crate::serialization::registration::Builtins;
use crate::serialization::{json, Config, Value};
use crate::{Error, Result};
use std::ops::{Range, RangeFrom, RangeFull, RangeTo};

/// One entry of an indexing key.
#[derive(Clone, Debug, PartialEq)]
pub enum Idx {
    /// One position (`x[2]`, `x[-1]`): the axis goes away.
    Index(i64),
    /// A slice `start:stop:step` (each optional, negative counts from the end).
    Slice(Option<i64>, Option<i64>, Option<i64>),
    /// `...`: as many full slices as the other entries leave.
    Ellipsis,
    /// `None` (numpy's `newaxis`): a new axis of size 1.
    NewAxis,
}

impl Idx {
    /// `:`, the whole axis.
    pub fn all() -> Idx {
        Idx::Slice(None, None, None)
    }
    /// One position.
    pub fn at(i: i64) -> Idx {
        Idx::Index(i)
    }
    /// `start:stop:step`.
    pub fn slice(start: Option<i64>, stop: Option<i64>, step: Option<i64>) -> Idx {
        Idx::Slice(start, stop, step)
    }

    /// As Keras serializes a key entry.
    pub fn to_value(&self) -> Value {
        match self {
            Idx::Index(i) => Value::from(*i),
            Idx::Slice(a, b, c) => json!({
                "class_name": "__slice__",
                "config": {"start": a, "stop": b, "step": c},
            }),
            Idx::Ellipsis => json!({"class_name": "__ellipsis__", "config": {}}),
            Idx::NewAxis => Value::Null,
        }
    }

    /// Read back from Keras's serialized key entry.
    pub fn from_value(v: &Value) -> Result<Idx> {
        let bad = || Error::value(format!("GetItem: unsupported key entry {v}"));
        match v {
            Value::Null => Ok(Idx::NewAxis),
            Value::Number(n) => n.as_i64().map(Idx::Index).ok_or_else(bad),
            Value::Object(o) => match o.get("class_name").and_then(Value::as_str) {
                Some("__ellipsis__") => Ok(Idx::Ellipsis),
                Some("__slice__") => {
                    let c = o.get("config").ok_or_else(bad)?;
                    let part = |k: &str| -> Result<Option<i64>> {
                        match c.get(k) {
                            None | Some(Value::Null) => Ok(None),
                            Some(x) => x.as_i64().map(Some).ok_or_else(bad),
                        }
                    };
                    Ok(Idx::Slice(part("start")?, part("stop")?, part("step")?))
                }
                _ => Err(bad()),
            },
            _ => Err(bad()),
        }
    }
}

impl From<i64> for Idx {
    fn from(i: i64) -> Self {
        Idx::Index(i)
    }
}
impl From<i32> for Idx {
    fn from(i: i32) -> Self {
        Idx::Index(i as i64)
    }
}
impl From<RangeFull> for Idx {
    fn from(_: RangeFull) -> Self {
        Idx::all()
    }
}
impl From<Range<i64>> for Idx {
    fn from(r: Range<i64>) -> Self {
        Idx::Slice(Some(r.start), Some(r.end), None)
    }
}
impl From<RangeFrom<i64>> for Idx {
    fn from(r: RangeFrom<i64>) -> Self {
        Idx::Slice(Some(r.start), None, None)
    }
}
impl From<RangeTo<i64>> for Idx {
    fn from(r: RangeTo<i64>) -> Self {
        Idx::Slice(None, Some(r.end), None)
    }
}

/// An indexing key: `&[Idx]` / `[Idx; N]` / `Vec<Idx>`, or a tuple whose entries convert to
/// [`Idx`] (an integer, a range, `..`, an `Idx`), so `x[:, 0]` is `(.., 0)` and `x[1:3, -1]`
/// is `(1..3, -1)`.
///
/// ```
/// use keras::ops::{self, Device, Idx, Tensor};
/// let x = Tensor::new(&[[1f32, 2.0, 3.0], [4.0, 5.0, 6.0]], &Device::Cpu)?;
/// assert_eq!(ops::get_item(&x, (.., 0))?.to_vec1::<f32>()?, vec![1.0, 4.0]);
/// assert_eq!(ops::get_item(&x, (1, 1..))?.to_vec1::<f32>()?, vec![5.0, 6.0]);
/// assert_eq!(ops::get_item(&x, (Idx::Ellipsis, -1))?.to_vec1::<f32>()?, vec![3.0, 6.0]);
/// # Ok::<(), keras::Error>(())
/// ```
pub trait IntoKey {
    /// The key's entries.
    fn into_key(self) -> Vec<Idx>;
}

impl IntoKey for &[Idx] {
    fn into_key(self) -> Vec<Idx> {
        self.to_vec()
    }
}
impl<const N: usize> IntoKey for &[Idx; N] {
    fn into_key(self) -> Vec<Idx> {
        self.to_vec()
    }
}
impl<const N: usize> IntoKey for [Idx; N] {
    fn into_key(self) -> Vec<Idx> {
        self.to_vec()
    }
}
impl IntoKey for Vec<Idx> {
    fn into_key(self) -> Vec<Idx> {
        self
    }
}
impl IntoKey for &Vec<Idx> {
    fn into_key(self) -> Vec<Idx> {
        self.clone()
    }
}
impl<A: Into<Idx>> IntoKey for (A,) {
    fn into_key(self) -> Vec<Idx> {
        vec![self.0.into()]
    }
}
impl<A: Into<Idx>, B: Into<Idx>> IntoKey for (A, B) {
    fn into_key(self) -> Vec<Idx> {
        vec![self.0.into(), self.1.into()]
    }
}
impl<A: Into<Idx>, B: Into<Idx>, C: Into<Idx>> IntoKey for (A, B, C) {
    fn into_key(self) -> Vec<Idx> {
        vec![self.0.into(), self.1.into(), self.2.into()]
    }
}
impl<A: Into<Idx>, B: Into<Idx>, C: Into<Idx>, D: Into<Idx>> IntoKey for (A, B, C, D) {
    fn into_key(self) -> Vec<Idx> {
        vec![self.0.into(), self.1.into(), self.2.into(), self.3.into()]
    }
}

/// Python's `slice.indices`: the positions a slice picks from an axis of length `n`.
fn positions(
    n: usize,
    start: Option<i64>,
    stop: Option<i64>,
    step: Option<i64>,
) -> Result<Vec<usize>> {
    let n = n as i64;
    let step = step.unwrap_or(1);
    if step == 0 {
        return Err(Error::value("slice step cannot be zero"));
    }
    let clamp = |v: i64, lo: i64, hi: i64| v.clamp(lo, hi);
    let norm = |v: i64| if v < 0 { v + n } else { v };
    let (lo, hi) = if step > 0 { (0, n) } else { (-1, n - 1) };
    let a = start.map_or(if step > 0 { 0 } else { n - 1 }, |s| clamp(norm(s), lo, hi));
    let b = stop.map_or(if step > 0 { n } else { -1 }, |s| clamp(norm(s), lo, hi));
    let mut out = vec![];
    let mut i = a;
    while (step > 0 && i < b) || (step < 0 && i > b) {
        out.push(i as usize);
        i += step;
    }
    Ok(out)
}

/// `x[key]` on a real tensor.
pub(crate) fn index(x: &Tensor, key: &[Idx]) -> Result<Tensor> {
    let used = key
        .iter()
        .filter(|k| !matches!(k, Idx::Ellipsis | Idx::NewAxis))
        .count();
    if used > x.rank() || key.iter().filter(|k| **k == Idx::Ellipsis).count() > 1 {
        return Err(Error::value(format!(
            "too many indices for a tensor of shape {:?}: {key:?}",
            x.dims()
        )));
    }
    let mut y = x.clone();
    let mut pos = 0;
    for k in key {
        match k {
            Idx::Ellipsis => pos += x.rank() - used,
            Idx::NewAxis => {
                y = y.unsqueeze(pos)?;
                pos += 1;
            }
            Idx::Index(i) => {
                let n = y.dim(pos)? as i64;
                let j = if *i < 0 { i + n } else { *i };
                if j < 0 || j >= n {
                    return Err(Error::value(format!(
                        "index {i} is out of bounds for axis {pos} with size {n}"
                    )));
                }
                y = y.narrow(pos, j as usize, 1)?.squeeze(pos)?;
            }
            Idx::Slice(a, b, s) => {
                let p = positions(y.dim(pos)?, *a, *b, *s)?;
                let contiguous_run = p.windows(2).all(|w| w[1] == w[0] + 1);
                y = if contiguous_run && !p.is_empty() {
                    y.narrow(pos, p[0], p.len())?
                } else {
                    let ids: Vec<u32> = p.iter().map(|&i| i as u32).collect();
                    let ids = Tensor::from_vec(ids, p.len(), y.device())?;
                    y.contiguous()?.index_select(&ids, pos)?
                };
                pos += 1;
            }
        }
    }
    Ok(y)
}

fn key_value(key: &[Idx]) -> Value {
    match key {
        [one] => one.to_value(),
        many => Value::Array(many.iter().map(Idx::to_value).collect()),
    }
}

fn get_item_op(key: Vec<Idx>) -> Op {
    Op::new(
        NUMPY,
        "GetItem",
        Config::new(),
        vec![Arg::Tensor, Arg::Const(key_value(&key))],
        move |xs| Ok(vec![index(&xs[0], &key)?]),
    )
}

/// `x[key]` (class `GetItem`): indices, slices, `...` and new axes, as numpy.
pub fn get_item<T: TensorLike>(x: &T, key: impl IntoKey) -> Result<T> {
    apply1(get_item_op(key.into_key()), &[x])
}

/// Registers `GetItem`.
pub(crate) fn register(r: &mut Builtins<Op>) {
    r.add("GetItem", |c| {
        let key = match template_from(c).get(1) {
            Some(Arg::Const(Value::Array(a))) => {
                a.iter().map(Idx::from_value).collect::<Result<Vec<_>>>()?
            }
            Some(Arg::Const(v)) => vec![Idx::from_value(v)?],
            other => {
                return Err(Error::value(format!(
                    "GetItem: the key should be constant; received {other:?}"
                )))
            }
        };
        Ok(get_item_op(key))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn tuple_keys_are_the_idx_lists() {
        assert_eq!((.., 0).into_key(), vec![Idx::all(), Idx::at(0)]);
        assert_eq!(
            (1..3, ..2, 4..).into_key(),
            vec![
                Idx::slice(Some(1), Some(3), None),
                Idx::slice(None, Some(2), None),
                Idx::slice(Some(4), None, None)
            ]
        );
        assert_eq!(
            (Idx::Ellipsis, Idx::NewAxis, -1).into_key(),
            vec![Idx::Ellipsis, Idx::NewAxis, Idx::at(-1)]
        );
        let x = Tensor::arange(0f32, 12.0, &Device::Cpu)
            .unwrap()
            .reshape((3, 4))
            .unwrap();
        let a = get_item(&x, (1.., -1)).unwrap();
        let b = get_item(&x, &[Idx::slice(Some(1), None, None), Idx::at(-1)]).unwrap();
        assert_eq!(a.to_vec1::<f32>().unwrap(), vec![7.0, 11.0]);
        assert_eq!(a.to_vec1::<f32>().unwrap(), b.to_vec1::<f32>().unwrap());
    }

    #[test]
    fn slices_like_python() {
        assert_eq!(positions(5, None, None, Some(2)).unwrap(), vec![0, 2, 4]);
        assert_eq!(positions(5, Some(-2), None, None).unwrap(), vec![3, 4]);
        assert_eq!(
            positions(5, None, None, Some(-1)).unwrap(),
            vec![4, 3, 2, 1, 0]
        );
        assert_eq!(
            positions(5, Some(1), Some(10), None).unwrap(),
            vec![1, 2, 3, 4]
        );
        assert!(positions(5, None, None, Some(0)).is_err());
    }

    #[test]
    fn keys_index_and_round_trip() {
        let x = Tensor::arange(0f32, 24.0, &Device::Cpu)
            .unwrap()
            .reshape((2, 3, 4))
            .unwrap();
        let key = vec![
            Idx::all(),
            Idx::slice(Some(1), Some(3), None),
            Idx::slice(None, None, Some(2)),
        ];
        let y = index(&x, &key).unwrap();
        assert_eq!(y.dims(), &[2, 2, 2]);
        assert_eq!(
            y.to_vec3::<f32>().unwrap()[0],
            vec![vec![4.0, 6.0], vec![8.0, 10.0]]
        );
        let y = index(&x, &[Idx::Ellipsis, Idx::at(-1)]).unwrap();
        assert_eq!(y.dims(), &[2, 3]);
        let y = index(&x, &[Idx::all(), Idx::NewAxis, Idx::at(0)]).unwrap();
        assert_eq!(y.dims(), &[2, 1, 4]);
        assert!(index(&x, &[Idx::at(5)]).is_err());
        for k in key {
            assert_eq!(Idx::from_value(&k.to_value()).unwrap(), k);
        }
    }
}
