//! Keras's numpy reductions (keras/src/ops/numpy.py `Sum`, `Mean`, `Max`, `Min`, `Argmax`) on
//! real or symbolic tensors, over an [`Axis`]: every axis (`None`), one, or several.
//!
//! ```
//! use keras::ops::{self, Device, Tensor};
//! let x = Tensor::new(&[[1f32, 2.0], [3.0, 4.0]], &Device::Cpu)?;
//! assert_eq!(ops::mean(&x, 1, false)?.to_vec1::<f32>()?, vec![1.5, 3.5]);
//! assert_eq!(ops::max(&x, [0, 1], false)?.to_scalar::<f32>()?, 4.0);
//! # Ok::<(), keras::Error>(())
//! ```

use super::numpy::NUMPY;
use super::operation::{apply1, Arg, Op, TensorLike};
use super::{normalize_axis, DType, Tensor};
use crate::serialization::registration::Builtins;
use crate::serialization::{Cfg, Config, Value};
use crate::Result;

/// The axes a reduction runs over: all of them (`None` in Keras), one, or several.
#[derive(Clone, Debug, PartialEq)]
pub enum Axis {
    /// Every axis (Keras's `axis=None`).
    All,
    /// These axes (negative counts from the end).
    Axes(Vec<isize>),
}

impl Axis {
    /// As Keras writes `axis` in a config: `null`, `1`, or `[1, 2]`.
    pub fn to_value(&self) -> Value {
        match self {
            Axis::All => Value::Null,
            Axis::Axes(a) if a.len() == 1 => Value::from(a[0] as i64),
            Axis::Axes(a) => Value::from(a.iter().map(|&x| x as i64).collect::<Vec<_>>()),
        }
    }

    /// Read back from a config's `axis`.
    pub fn from_cfg(c: &Cfg, key: &str) -> Result<Axis> {
        match c.get(key) {
            None | Some(Value::Null) => Ok(Axis::All),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(|a| Axis::Axes(vec![a as isize]))
                .ok_or_else(|| c.bad(key, "an integer, a list of integers or null")),
            Some(Value::Array(_)) => Ok(Axis::Axes(c.isizes(key)?)),
            Some(_) => Err(c.bad(key, "an integer, a list of integers or null")),
        }
    }

    /// The axes of a tensor of rank `rank`, sorted, each once.
    pub fn resolve(&self, rank: usize) -> Result<Vec<usize>> {
        let mut v = match self {
            Axis::All => (0..rank).collect(),
            Axis::Axes(a) => a
                .iter()
                .map(|&x| normalize_axis(x, rank))
                .collect::<Result<Vec<_>>>()?,
        };
        v.sort_unstable();
        v.dedup();
        Ok(v)
    }
}

impl From<i32> for Axis {
    fn from(a: i32) -> Self {
        Axis::Axes(vec![a as isize])
    }
}
impl From<isize> for Axis {
    fn from(a: isize) -> Self {
        Axis::Axes(vec![a])
    }
}
impl<const N: usize> From<[i32; N]> for Axis {
    fn from(a: [i32; N]) -> Self {
        Axis::Axes(a.iter().map(|&x| x as isize).collect())
    }
}
impl From<&[isize]> for Axis {
    fn from(a: &[isize]) -> Self {
        Axis::Axes(a.to_vec())
    }
}
impl From<Option<i32>> for Axis {
    fn from(a: Option<i32>) -> Self {
        a.map_or(Axis::All, Axis::from)
    }
}

/// How a reduction combines values.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Reduce {
    Sum,
    Mean,
    Max,
    Min,
}

fn reduce(x: &Tensor, axes: &[usize], how: Reduce, keepdims: bool) -> Result<Tensor> {
    let mut y = x.clone();
    let mut count = 1usize;
    for &a in axes.iter().rev() {
        count *= y.dim(a)?;
        y = match how {
            Reduce::Sum | Reduce::Mean => y.sum_keepdim(a)?,
            Reduce::Max => y.max_keepdim(a)?,
            Reduce::Min => y.min_keepdim(a)?,
        };
    }
    if how == Reduce::Mean {
        y = (y / count as f64)?;
    }
    if !keepdims {
        for &a in axes.iter().rev() {
            y = y.squeeze(a)?;
        }
    }
    Ok(y)
}

fn reduce_op(class: &str, axis: Axis, keepdims: bool, how: Reduce) -> Op {
    let mut config = Config::new();
    config.insert("axis".into(), axis.to_value());
    config.insert("keepdims".into(), Value::from(keepdims));
    if matches!(how, Reduce::Max | Reduce::Min) {
        config.insert("initial".into(), Value::Null);
    }
    Op::new(NUMPY, class, config, vec![Arg::Tensor], move |xs| {
        let axes = axis.resolve(xs[0].rank())?;
        Ok(vec![reduce(&xs[0], &axes, how, keepdims)?])
    })
}

fn reduce_from(c: &Cfg, how: Reduce) -> Result<Op> {
    Ok(reduce_op(
        c.class,
        Axis::from_cfg(c, "axis")?,
        c.bool_or("keepdims", false)?,
        how,
    ))
}

/// The sum over `axis` (class `Sum`; `Axis::All` / `None` for every axis).
///
/// ```
/// use keras::ops::{self, Device, Tensor};
/// let x = Tensor::new(&[[1f32, 2.0], [3.0, 4.0]], &Device::Cpu)?;
/// assert_eq!(ops::sum(&x, 0, true)?.to_vec2::<f32>()?, vec![vec![4.0, 6.0]]);
/// assert_eq!(ops::sum(&x, None, false)?.to_scalar::<f32>()?, 10.0);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn sum<T: TensorLike>(x: &T, axis: impl Into<Axis>, keepdims: bool) -> Result<T> {
    apply1(reduce_op("Sum", axis.into(), keepdims, Reduce::Sum), &[x])
}

/// The mean over `axis` (class `Mean`).
pub fn mean<T: TensorLike>(x: &T, axis: impl Into<Axis>, keepdims: bool) -> Result<T> {
    apply1(reduce_op("Mean", axis.into(), keepdims, Reduce::Mean), &[x])
}

/// The maximum over `axis` (class `Max`).
pub fn max<T: TensorLike>(x: &T, axis: impl Into<Axis>, keepdims: bool) -> Result<T> {
    apply1(reduce_op("Max", axis.into(), keepdims, Reduce::Max), &[x])
}

/// The minimum over `axis` (class `Min`).
pub fn min<T: TensorLike>(x: &T, axis: impl Into<Axis>, keepdims: bool) -> Result<T> {
    apply1(reduce_op("Min", axis.into(), keepdims, Reduce::Min), &[x])
}

fn argmax_op(axis: Option<isize>, keepdims: bool) -> Op {
    let mut config = Config::new();
    config.insert(
        "axis".into(),
        axis.map_or(Value::Null, |a| Value::from(a as i64)),
    );
    config.insert("keepdims".into(), Value::from(keepdims));
    Op::new(NUMPY, "Argmax", config, vec![Arg::Tensor], move |xs| {
        let x = &xs[0];
        let y = match axis {
            None => {
                let flat = x.flatten_all()?.argmax_keepdim(0)?;
                if keepdims {
                    flat.reshape(vec![1; x.rank()])?
                } else {
                    flat.squeeze(0)?
                }
            }
            Some(a) => {
                let a = normalize_axis(a, x.rank())?;
                let y = x.argmax_keepdim(a)?;
                if keepdims {
                    y
                } else {
                    y.squeeze(a)?
                }
            }
        };
        Ok(vec![y.to_dtype(DType::I64)?])
    })
}

/// The index of the largest value along `axis` (class `Argmax`; `None`: of the flattened
/// tensor), as `int64` (Keras: `int32`).
pub fn argmax<T: TensorLike>(x: &T, axis: Option<isize>, keepdims: bool) -> Result<T> {
    apply1(argmax_op(axis, keepdims), &[x])
}

/// Registers the reductions' classes (one line each).
pub(crate) fn register(r: &mut Builtins<Op>) {
    r.add("Sum", |c| reduce_from(c, Reduce::Sum));
    r.add("Mean", |c| reduce_from(c, Reduce::Mean));
    r.add("Max", |c| reduce_from(c, Reduce::Max));
    r.add("Min", |c| reduce_from(c, Reduce::Min));
    r.add("Argmax", |c| {
        let axis = c.get("axis").and_then(Value::as_i64).map(|a| a as isize);
        Ok(argmax_op(axis, c.bool_or("keepdims", false)?))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn t(v: &[f32], dims: &[usize]) -> Tensor {
        Tensor::from_vec(v.to_vec(), dims, &Device::Cpu).unwrap()
    }

    #[test]
    fn reductions_over_axes() {
        let x = t(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
        let m = mean(&x, [0, 1], false).unwrap();
        assert_eq!(m.to_scalar::<f32>().unwrap(), 3.5);
        let mx = max(&x, -1, true).unwrap();
        assert_eq!(mx.to_vec2::<f32>().unwrap(), vec![vec![3.0], vec![6.0]]);
        assert_eq!(
            min(&x, None, false).unwrap().to_scalar::<f32>().unwrap(),
            1.0
        );
        let am = argmax(&x, Some(1), false).unwrap();
        assert_eq!(am.to_vec1::<i64>().unwrap(), vec![2, 2]);
        assert!(sum(&x, 2, false).is_err());
    }

    #[test]
    fn configs_are_kerass() {
        let op = reduce_op("Max", Axis::from(-1), false, Reduce::Max);
        assert_eq!(
            Value::Object(op.config().clone()),
            serde_json::json!({"axis": -1, "keepdims": false, "initial": null})
        );
    }
}
