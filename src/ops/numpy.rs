//! Keras's `keras.ops` numpy functions (keras/src/ops/numpy.py) on real or symbolic tensors:
//! arithmetic with broadcasting (`add`, `subtract`, `multiply`, `divide`, `negative`,
//! `maximum`, `minimum`, comparisons), elementwise math (`exp`, `log`, `sqrt`, `square`,
//! `abs`, `tanh`), `where` and `clip`. Reductions (`sum`, `mean`, `max`, `min`, `argmax`) are
//! in `numpy_reduce.rs`, shape ops in `numpy_shape.rs`, `x[...]` in
//! [`super::get_item`].
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
use super::{broadcast_dims, DType, Tensor};
use crate::serialization::registration::Builtins;
use crate::serialization::{Cfg, Config, Value};
use crate::{Error, Result};

/// Keras's module of the numpy ops.
pub const NUMPY: &str = "keras.src.ops.numpy";

type BinFn = fn(&Tensor, &Tensor) -> candle_core::Result<Tensor>;
type UnFn = fn(&Tensor) -> candle_core::Result<Tensor>;

/// A 0-d tensor holding `v` in the dtype and on the device of `like`.
pub(crate) fn scalar_like(v: f64, like: Option<&Tensor>) -> Result<Tensor> {
    let (dt, dev) = like.map_or((DType::F32, crate::config::device()), |t| {
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
    r.add("Where", |c| {
        let args = template_from(c);
        Ok(where_op([
            Slot::Tensor,
            slot(c, &args, 1)?,
            slot(c, &args, 2)?,
        ]))
    });
    r.add("Clip", |c| Ok(clip_op(c.f64("x_min")?, c.f64("x_max")?)));
    super::numpy_reduce::register(r);
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
    fn where_and_clip_broadcast() {
        let x = t(&[-2.0, 0.5, 3.0], &[3]);
        let c = clip(&x, -1.0, 1.0).unwrap();
        assert_eq!(c.to_vec1::<f32>().unwrap(), vec![-1.0, 0.5, 1.0]);
        let w = where_(&greater(&x, 0.0).unwrap(), &x, -9.0).unwrap();
        assert_eq!(w.to_vec1::<f32>().unwrap(), vec![-9.0, 0.5, 3.0]);
    }

    #[test]
    fn configs_are_kerass() {
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
