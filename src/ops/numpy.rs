//! Keras's `keras.ops` numpy functions (keras/src/ops/numpy.py) on real or symbolic tensors:
//! arithmetic with broadcasting (`add`, `subtract`, `multiply`, `divide`, `negative`,
//! `maximum`, `minimum`, comparisons), elementwise math (`exp`, `log`, `sqrt`, `square`,
//! `abs`, `tanh`), reductions (`sum`, `mean`, `max`, `min`, `argmax`), `where` and `clip`.
//! Shape ops are in [`super::numpy_shape`], `x[...]` in [`super::get_item`].
//!
//! Each function builds an [`Op`] of Keras's class (`Add`, `Mean`, ...) with Keras's config
//! and runs it through [`TensorLike`]: at once on a [`Tensor`], as a graph node on a
//! [`crate::engine::KerasTensor`].
//!
//! ```
//! use keras::ops::{self, Device, Tensor};
//! let x = Tensor::new(&[[1f32, 2.0], [3.0, 4.0]], &Device::Cpu)?;
//! let y = ops::mean(&ops::multiply(&x, 2.0)?, 1, false)?;
//! assert_eq!(y.to_vec1::<f32>()?, vec![3.0, 7.0]);
//! # Ok::<(), keras::Error>(())
//! ```

use super::operation::{
    apply1, slot, split_operands, template_from, Arg, IntoOperand, Op, Slot, TensorLike,
};
use super::{broadcast_dims, normalize_axis, DType, Tensor};
use crate::serialization::registration::Builtins;
use crate::serialization::{Cfg, Config, Value};
use crate::{Error, Result};

/// Keras's module of the numpy ops.
pub const NUMPY: &str = "keras.src.ops.numpy";

type BinFn = fn(&Tensor, &Tensor) -> candle_core::Result<Tensor>;
type UnFn = fn(&Tensor) -> candle_core::Result<Tensor>;

/// A 0-d tensor holding `v` in the dtype and on the device of `like`.
pub(crate) fn scalar_like(v: f64, like: Option<&Tensor>) -> Result<Tensor> {
    let (dt, dev) = like.map_or((DType::F32, candle_core::Device::Cpu), |t| {
        (t.dtype(), t.device().clone())
    });
    Ok(Tensor::new(v, &dev)?.to_dtype(dt)?)
}

/// Tensors for `slots`, taking real ones from `xs` in order and making scalars like the first.
pub(crate) fn fill_slots(slots: &[Slot], xs: &[Tensor]) -> Result<Vec<Tensor>> {
    let mut it = xs.iter();
    slots
        .iter()
        .map(|s| match s {
            Slot::Tensor => it
                .next()
                .cloned()
                .ok_or_else(|| Error::value("missing tensor input")),
            Slot::Scalar(v) => scalar_like(*v, xs.first()),
        })
        .collect()
}

/// The dtype two operands meet in (a simplified Keras `result_type`): the wider float if
/// either is a float, else the wider integer (`uint8`, Keras's `bool`, widens to the other).
pub fn result_dtype(a: DType, b: DType) -> DType {
    if a == b {
        return a;
    }
    let float = |d: DType| d.is_float();
    match (float(a), float(b)) {
        (true, false) => a,
        (false, true) => b,
        _ if a.size_in_bytes() >= b.size_in_bytes() && a != DType::U8 => a,
        _ => b,
    }
}

/// The op of a broadcasting binary function of class `class`.
pub fn binary_op(class: &str, slots: [Slot; 2], f: BinFn) -> Op {
    let name = class.to_string();
    Op::new(
        NUMPY,
        class,
        Config::new(),
        slots.iter().map(|s| s.arg()).collect(),
        move |xs| {
            if xs.is_empty() {
                return Err(Error::value(format!("{name} needs at least one tensor")));
            }
            let ab = fill_slots(&slots, xs)?;
            let dt = result_dtype(ab[0].dtype(), ab[1].dtype());
            let (a, b) = (
                super::basic::cast(&ab[0], dt)?,
                super::basic::cast(&ab[1], dt)?,
            );
            Ok(vec![f(&a, &b)?])
        },
    )
}

fn binary<'a, T: TensorLike + 'a>(
    class: &str,
    a: impl IntoOperand<'a, T>,
    b: impl IntoOperand<'a, T>,
    f: BinFn,
) -> Result<T> {
    let (slots, ts) = split_operands(&[a.into_operand(), b.into_operand()]);
    if ts.is_empty() {
        return Err(Error::value(format!(
            "{class}: at least one argument must be a tensor"
        )));
    }
    apply1(binary_op(class, [slots[0], slots[1]], f), &ts)
}

fn binary_from(c: &Cfg, f: BinFn) -> Result<Op> {
    let args = template_from(c);
    Ok(binary_op(
        c.class,
        [slot(c, &args, 0)?, slot(c, &args, 1)?],
        f,
    ))
}

/// The op of an elementwise function of one tensor.
pub fn unary_op(module: &str, class: &str, config: Config, f: UnFn) -> Op {
    Op::new(module, class, config, vec![Arg::Tensor], move |xs| {
        Ok(vec![f(&xs[0])?])
    })
}

fn unary<T: TensorLike>(class: &str, x: &T, f: UnFn) -> Result<T> {
    apply1(unary_op(NUMPY, class, Config::new(), f), &[x])
}

/// `x1 + x2` with broadcasting (Keras's `ops.add`, class `Add`); either may be a number.
///
/// ```
/// use keras::ops::{self, Device, Tensor};
/// let x = Tensor::new(&[1f32, 2.0], &Device::Cpu)?;
/// assert_eq!(ops::add(&x, &x)?.to_vec1::<f32>()?, vec![2.0, 4.0]);
/// assert_eq!(ops::add(10.0, &x)?.to_vec1::<f32>()?, vec![11.0, 12.0]);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn add<'a, T: TensorLike + 'a>(
    x1: impl IntoOperand<'a, T>,
    x2: impl IntoOperand<'a, T>,
) -> Result<T> {
    binary("Add", x1, x2, Tensor::broadcast_add)
}

/// `x1 - x2` with broadcasting (class `Subtract`).
pub fn subtract<'a, T: TensorLike + 'a>(
    x1: impl IntoOperand<'a, T>,
    x2: impl IntoOperand<'a, T>,
) -> Result<T> {
    binary("Subtract", x1, x2, Tensor::broadcast_sub)
}

/// `x1 * x2` with broadcasting (class `Multiply`).
pub fn multiply<'a, T: TensorLike + 'a>(
    x1: impl IntoOperand<'a, T>,
    x2: impl IntoOperand<'a, T>,
) -> Result<T> {
    binary("Multiply", x1, x2, Tensor::broadcast_mul)
}

/// `x1 / x2` with broadcasting (Keras's `ops.divide` / `true_divide`, class `TrueDivide`,
/// which `x / y` on symbolic tensors makes).
pub fn divide<'a, T: TensorLike + 'a>(
    x1: impl IntoOperand<'a, T>,
    x2: impl IntoOperand<'a, T>,
) -> Result<T> {
    binary("TrueDivide", x1, x2, Tensor::broadcast_div)
}

/// The larger of `x1` and `x2`, elementwise (class `Maximum`).
pub fn maximum<'a, T: TensorLike + 'a>(
    x1: impl IntoOperand<'a, T>,
    x2: impl IntoOperand<'a, T>,
) -> Result<T> {
    binary("Maximum", x1, x2, Tensor::broadcast_maximum)
}

/// The smaller of `x1` and `x2`, elementwise (class `Minimum`).
pub fn minimum<'a, T: TensorLike + 'a>(
    x1: impl IntoOperand<'a, T>,
    x2: impl IntoOperand<'a, T>,
) -> Result<T> {
    binary("Minimum", x1, x2, Tensor::broadcast_minimum)
}

/// `x1 > x2` as a `uint8` (Keras's `bool`) tensor (class `Greater`).
pub fn greater<'a, T: TensorLike + 'a>(
    x1: impl IntoOperand<'a, T>,
    x2: impl IntoOperand<'a, T>,
) -> Result<T> {
    binary("Greater", x1, x2, Tensor::broadcast_gt)
}

/// `x1 < x2` as a `uint8` (Keras's `bool`) tensor (class `Less`).
pub fn less<'a, T: TensorLike + 'a>(
    x1: impl IntoOperand<'a, T>,
    x2: impl IntoOperand<'a, T>,
) -> Result<T> {
    binary("Less", x1, x2, Tensor::broadcast_lt)
}

/// `x1 == x2` as a `uint8` (Keras's `bool`) tensor (class `Equal`).
pub fn equal<'a, T: TensorLike + 'a>(
    x1: impl IntoOperand<'a, T>,
    x2: impl IntoOperand<'a, T>,
) -> Result<T> {
    binary("Equal", x1, x2, Tensor::broadcast_eq)
}

fn power_op(slots: [Slot; 2]) -> Op {
    Op::new(
        NUMPY,
        "Power",
        Config::new(),
        slots.iter().map(|s| s.arg()).collect(),
        move |xs| {
            let y = match slots {
                // A number as the exponent: exact for negative bases (`x ** 2`).
                [Slot::Tensor, Slot::Scalar(e)] => xs[0].powf(e)?,
                _ => {
                    let ab = fill_slots(&slots, xs)?;
                    let dt = result_dtype(ab[0].dtype(), ab[1].dtype());
                    super::basic::cast(&ab[0], dt)?
                        .broadcast_pow(&super::basic::cast(&ab[1], dt)?)?
                }
            };
            Ok(vec![y])
        },
    )
}

/// `x1 ** x2` (Python's `**`, class `Power`); a number exponent is exact for negative bases.
///
/// ```
/// use keras::ops::{self, Device, Tensor};
/// let x = Tensor::new(&[-2f32, 3.0], &Device::Cpu)?;
/// assert_eq!(ops::power(&x, 2.0)?.to_vec1::<f32>()?, vec![4.0, 9.0]);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn power<'a, T: TensorLike + 'a>(
    x1: impl IntoOperand<'a, T>,
    x2: impl IntoOperand<'a, T>,
) -> Result<T> {
    let (slots, ts) = split_operands(&[x1.into_operand(), x2.into_operand()]);
    if ts.is_empty() {
        return Err(Error::value(
            "Power: at least one argument must be a tensor",
        ));
    }
    apply1(power_op([slots[0], slots[1]]), &ts)
}

/// `-x` (class `Negative`).
pub fn negative<T: TensorLike>(x: &T) -> Result<T> {
    unary("Negative", x, Tensor::neg)
}

/// `e^x` (class `Exp`).
pub fn exp<T: TensorLike>(x: &T) -> Result<T> {
    unary("Exp", x, Tensor::exp)
}

/// The natural logarithm (class `Log`).
pub fn log<T: TensorLike>(x: &T) -> Result<T> {
    unary("Log", x, Tensor::log)
}

/// The square root (class `Sqrt`).
pub fn sqrt<T: TensorLike>(x: &T) -> Result<T> {
    unary("Sqrt", x, Tensor::sqrt)
}

/// `x * x` (class `Square`).
pub fn square<T: TensorLike>(x: &T) -> Result<T> {
    unary("Square", x, Tensor::sqr)
}

/// `|x|` (Keras's `ops.abs` / `absolute`, class `Absolute`).
pub fn abs<T: TensorLike>(x: &T) -> Result<T> {
    unary("Absolute", x, Tensor::abs)
}

/// The hyperbolic tangent (class `Tanh`, a numpy op in Keras).
pub fn tanh<T: TensorLike>(x: &T) -> Result<T> {
    unary("Tanh", x, Tensor::tanh)
}

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

fn where_op(slots: [Slot; 3]) -> Op {
    Op::new(
        NUMPY,
        "Where",
        Config::new(),
        slots.iter().map(|s| s.arg()).collect(),
        move |xs| {
            let mut it = xs.iter();
            let cond = it
                .next()
                .ok_or_else(|| Error::value("Where: missing condition"))?;
            let rest: Vec<Tensor> = it.cloned().collect();
            let like = rest.first().cloned();
            let pick = |s: Slot, it: &mut std::slice::Iter<Tensor>| -> Result<Tensor> {
                match s {
                    Slot::Tensor => it
                        .next()
                        .cloned()
                        .ok_or_else(|| Error::value("Where: missing input")),
                    Slot::Scalar(v) => scalar_like(v, like.as_ref()),
                }
            };
            let mut it = rest.iter();
            let a = pick(slots[1], &mut it)?;
            let b = pick(slots[2], &mut it)?;
            let shape = broadcast_dims(cond.dims(), a.dims())
                .and_then(|s| broadcast_dims(&s, b.dims()))
                .ok_or_else(|| {
                    Error::shape(format!(
                        "Where: shapes {:?}, {:?} and {:?} do not broadcast",
                        cond.dims(),
                        a.dims(),
                        b.dims()
                    ))
                })?;
            let cond = if cond.dtype() == DType::U8 {
                cond.clone()
            } else {
                cond.ne(0.0)?
            };
            let (c, a, b) = (
                cond.broadcast_as(shape.as_slice())?.contiguous()?,
                a.broadcast_as(shape.as_slice())?.contiguous()?,
                b.broadcast_as(shape.as_slice())?.contiguous()?,
            );
            Ok(vec![c.where_cond(&a, &b)?])
        },
    )
}

/// `x1` where `condition` is true, else `x2` (class `Where`); `x1` / `x2` may be numbers.
///
/// ```
/// use keras::ops::{self, Device, Tensor};
/// let x = Tensor::new(&[-1f32, 2.0], &Device::Cpu)?;
/// let y = ops::where_(&ops::greater(&x, 0.0)?, &x, 0.0)?;
/// assert_eq!(y.to_vec1::<f32>()?, vec![0.0, 2.0]);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn where_<'a, T: TensorLike + 'a>(
    condition: &'a T,
    x1: impl IntoOperand<'a, T>,
    x2: impl IntoOperand<'a, T>,
) -> Result<T> {
    let (slots, mut ts) = split_operands(&[x1.into_operand(), x2.into_operand()]);
    ts.insert(0, condition);
    apply1(where_op([Slot::Tensor, slots[0], slots[1]]), &ts)
}

fn clip_op(x_min: f64, x_max: f64) -> Op {
    let mut config = Config::new();
    config.insert("x_min".into(), Value::from(x_min));
    config.insert("x_max".into(), Value::from(x_max));
    Op::new(NUMPY, "Clip", config, vec![Arg::Tensor], move |xs| {
        Ok(vec![xs[0].clamp(x_min, x_max)?])
    })
}

/// `x` limited to `[x_min, x_max]` (class `Clip`).
pub fn clip<T: TensorLike>(x: &T, x_min: f64, x_max: f64) -> Result<T> {
    apply1(clip_op(x_min, x_max), &[x])
}

/// Registers the numpy ops' classes for loading saved nodes (one line each).
pub(crate) fn register(r: &mut Builtins<Op>) {
    r.add("Add", |c| binary_from(c, Tensor::broadcast_add));
    r.add("Subtract", |c| binary_from(c, Tensor::broadcast_sub));
    r.add("Multiply", |c| binary_from(c, Tensor::broadcast_mul));
    r.alias(&["TrueDivide", "Divide"], |c| {
        binary_from(c, Tensor::broadcast_div)
    });
    r.add("Maximum", |c| binary_from(c, Tensor::broadcast_maximum));
    r.add("Minimum", |c| binary_from(c, Tensor::broadcast_minimum));
    r.add("Greater", |c| binary_from(c, Tensor::broadcast_gt));
    r.add("Less", |c| binary_from(c, Tensor::broadcast_lt));
    r.add("Equal", |c| binary_from(c, Tensor::broadcast_eq));
    r.add("Power", |c| {
        let args = template_from(c);
        Ok(power_op([slot(c, &args, 0)?, slot(c, &args, 1)?]))
    });
    r.add("Negative", |_| {
        Ok(unary_op(NUMPY, "Negative", Config::new(), Tensor::neg))
    });
    r.add("Exp", |_| {
        Ok(unary_op(NUMPY, "Exp", Config::new(), Tensor::exp))
    });
    r.add("Log", |_| {
        Ok(unary_op(NUMPY, "Log", Config::new(), Tensor::log))
    });
    r.add("Sqrt", |_| {
        Ok(unary_op(NUMPY, "Sqrt", Config::new(), Tensor::sqrt))
    });
    r.add("Square", |_| {
        Ok(unary_op(NUMPY, "Square", Config::new(), Tensor::sqr))
    });
    r.add("Absolute", |_| {
        Ok(unary_op(NUMPY, "Absolute", Config::new(), Tensor::abs))
    });
    r.add("Tanh", |_| {
        Ok(unary_op(NUMPY, "Tanh", Config::new(), Tensor::tanh))
    });
    r.add("Sum", |c| reduce_from(c, Reduce::Sum));
    r.add("Mean", |c| reduce_from(c, Reduce::Mean));
    r.add("Max", |c| reduce_from(c, Reduce::Max));
    r.add("Min", |c| reduce_from(c, Reduce::Min));
    r.add("Argmax", |c| {
        let axis = c.get("axis").and_then(Value::as_i64).map(|a| a as isize);
        Ok(argmax_op(axis, c.bool_or("keepdims", false)?))
    });
    r.add("Where", |c| {
        let args = template_from(c);
        Ok(where_op([
            Slot::Tensor,
            slot(c, &args, 1)?,
            slot(c, &args, 2)?,
        ]))
    });
    r.add("Clip", |c| Ok(clip_op(c.f64("x_min")?, c.f64("x_max")?)));
    super::numpy_shape::register(r);
    super::get_item::register(r);
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn t(v: &[f32], dims: &[usize]) -> Tensor {
        Tensor::from_vec(v.to_vec(), dims, &Device::Cpu).unwrap()
    }

    #[test]
    fn arithmetic_with_scalars_both_sides() {
        let x = t(&[1.0, 2.0, 4.0], &[3]);
        assert_eq!(
            subtract(2.0, &x).unwrap().to_vec1::<f32>().unwrap(),
            vec![1.0, 0.0, -2.0]
        );
        assert_eq!(
            divide(&x, 2.0).unwrap().to_vec1::<f32>().unwrap(),
            vec![0.5, 1.0, 2.0]
        );
        assert_eq!(
            negative(&x).unwrap().to_vec1::<f32>().unwrap(),
            vec![-1.0, -2.0, -4.0]
        );
        assert!(add::<Tensor>(1.0, 2.0).is_err());
        // float * bool (uint8) is float, as in Keras.
        let mask = greater(&x, 1.5).unwrap();
        assert_eq!(mask.dtype(), DType::U8);
        let m = multiply(&x, &mask).unwrap();
        assert_eq!(m.to_vec1::<f32>().unwrap(), vec![0.0, 2.0, 4.0]);
        assert_eq!(result_dtype(DType::U8, DType::I64), DType::I64);
        assert_eq!(result_dtype(DType::F16, DType::F32), DType::F32);
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
    fn where_and_clip_broadcast() {
        let x = t(&[-2.0, 0.5, 3.0], &[3]);
        let c = clip(&x, -1.0, 1.0).unwrap();
        assert_eq!(c.to_vec1::<f32>().unwrap(), vec![-1.0, 0.5, 1.0]);
        let w = where_(&greater(&x, 0.0).unwrap(), &x, -9.0).unwrap();
        assert_eq!(w.to_vec1::<f32>().unwrap(), vec![-9.0, 0.5, 3.0]);
    }

    #[test]
    fn configs_are_kerass() {
        let op = reduce_op("Max", Axis::from(-1), false, Reduce::Max);
        assert_eq!(
            Value::Object(op.config().clone()),
            serde_json::json!({"axis": -1, "keepdims": false, "initial": null})
        );
        let op = binary_op(
            "Subtract",
            [Slot::Scalar(2.0), Slot::Tensor],
            Tensor::broadcast_sub,
        );
        assert_eq!(
            op.call_args(vec![Value::from("t")]),
            serde_json::json!([2.0, "t"])
        );
    }
}
