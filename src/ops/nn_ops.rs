//! Keras's `keras.ops` neural-network functions (keras/src/ops/nn.py) and `cast`
//! (keras/src/ops/core.py) on real or symbolic tensors: `relu`, `sigmoid`, `softmax`, `gelu`,
//! `one_hot`, `cast`.
//!
//! ```
//! use keras::ops::{self, Device, Tensor};
//! let x = Tensor::new(&[[-1f32, 2.0]], &Device::Cpu)?;
//! assert_eq!(ops::relu(&x)?.to_vec2::<f32>()?, vec![vec![0.0, 2.0]]);
//! let ids = Tensor::new(&[2u32, 0], &Device::Cpu)?;
//! assert_eq!(ops::one_hot(&ids, 3)?.to_vec2::<f32>()?, vec![vec![0.0, 0.0, 1.0], vec![1.0, 0.0, 0.0]]);
//! # Ok::<(), keras::Error>(())
//! ```

use super::operation::{apply1, Arg, Op, TensorLike};
use super::{activation, dtype_from_name, dtype_name, normalize_axis, Act, DType, Tensor};
use crate::serialization::registration::Builtins;
use crate::serialization::{Config, Value};
use crate::Result;

/// Keras's module of the nn ops.
pub const NN: &str = "keras.src.ops.nn";
/// Keras's module of the core ops (`Cast`).
pub const CORE: &str = "keras.src.ops.core";

fn cfg(pairs: Vec<(&str, Value)>) -> Config {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn act_op(class: &str, config: Config, act: Act) -> Op {
    Op::new(NN, class, config, vec![Arg::Tensor], move |xs| {
        Ok(vec![activation(&xs[0], act)?])
    })
}

/// `max(x, 0)` (class `Relu`).
pub fn relu<T: TensorLike>(x: &T) -> Result<T> {
    apply1(act_op("Relu", Config::new(), Act::Relu), &[x])
}

/// `1 / (1 + exp(-x))` (class `Sigmoid`).
pub fn sigmoid<T: TensorLike>(x: &T) -> Result<T> {
    apply1(act_op("Sigmoid", Config::new(), Act::Sigmoid), &[x])
}

fn gelu_op(approximate: bool) -> Op {
    act_op(
        "Gelu",
        cfg(vec![("approximate", Value::from(approximate))]),
        Act::Gelu { approximate },
    )
}

/// The Gaussian error linear unit (class `Gelu`); Keras's default is `approximate=true`.
pub fn gelu<T: TensorLike>(x: &T, approximate: bool) -> Result<T> {
    apply1(gelu_op(approximate), &[x])
}

fn softmax_op(axis: isize) -> Op {
    Op::new(
        NN,
        "Softmax",
        cfg(vec![("axis", Value::from(axis as i64))]),
        vec![Arg::Tensor],
        move |xs| {
            let x = &xs[0];
            let a = normalize_axis(axis, x.rank())?;
            let y = if a + 1 == x.rank() {
                activation(x, Act::Softmax)?
            } else {
                let m = x.max_keepdim(a)?;
                let e = x.broadcast_sub(&m)?.exp()?;
                e.broadcast_div(&e.sum_keepdim(a)?)?
            };
            Ok(vec![y])
        },
    )
}

/// `exp(x) / sum(exp(x))` along `axis` (class `Softmax`; Keras's default axis is -1).
pub fn softmax<T: TensorLike>(x: &T, axis: isize) -> Result<T> {
    apply1(softmax_op(axis), &[x])
}

fn one_hot_op(num_classes: usize, axis: isize, dtype: DType) -> Op {
    Op::new(
        NN,
        "OneHot",
        cfg(vec![
            ("num_classes", Value::from(num_classes as u64)),
            ("axis", Value::from(axis as i64)),
            ("dtype", Value::from(dtype_name(dtype))),
            ("sparse", Value::from(false)),
        ]),
        vec![Arg::Tensor],
        move |xs| {
            let x = xs[0].to_dtype(DType::I64)?;
            let classes = Tensor::arange(0i64, num_classes as i64, x.device())?;
            let y = x
                .unsqueeze(x.rank())?
                .broadcast_eq(&classes)?
                .to_dtype(dtype)?;
            let a = normalize_axis(axis, y.rank())?;
            let y = if a + 1 == y.rank() {
                y
            } else {
                let r = y.rank();
                let mut perm: Vec<usize> = (0..r - 1).collect();
                perm.insert(a, r - 1);
                y.permute(perm)?.contiguous()?
            };
            Ok(vec![y])
        },
    )
}

/// Integer class ids as one-hot float32 vectors along the last axis (class `OneHot`).
pub fn one_hot<T: TensorLike>(x: &T, num_classes: usize) -> Result<T> {
    apply1(one_hot_op(num_classes, -1, DType::F32), &[x])
}

/// [`one_hot`] with the new axis at `axis` and the output dtype `dtype`.
pub fn one_hot_with<T: TensorLike>(
    x: &T,
    num_classes: usize,
    axis: isize,
    dtype: DType,
) -> Result<T> {
    apply1(one_hot_op(num_classes, axis, dtype), &[x])
}

fn cast_op(dtype: DType) -> Op {
    Op::new(
        CORE,
        "Cast",
        cfg(vec![("dtype", Value::from(dtype_name(dtype)))]),
        vec![Arg::Tensor],
        move |xs| Ok(vec![super::basic::cast(&xs[0], dtype)?]),
    )
}

/// `x` converted to `dtype` (class `Cast`), unchanged if it already is.
pub fn cast<T: TensorLike>(x: &T, dtype: DType) -> Result<T> {
    apply1(cast_op(dtype), &[x])
}

/// Registers the nn and core ops' classes.
pub(crate) fn register(r: &mut Builtins<Op>) {
    r.add("Relu", |_| Ok(act_op("Relu", Config::new(), Act::Relu)));
    r.add("Sigmoid", |_| {
        Ok(act_op("Sigmoid", Config::new(), Act::Sigmoid))
    });
    r.add("Gelu", |c| Ok(gelu_op(c.bool_or("approximate", true)?)));
    r.add("Softmax", |c| Ok(softmax_op(c.isize_or("axis", -1)?)));
    r.add("OneHot", |c| {
        let dtype = dtype_from_name(c.str_or("dtype", "float32")?)?;
        Ok(one_hot_op(
            c.usize("num_classes")?,
            c.isize_or("axis", -1)?,
            dtype,
        ))
    });
    r.add("Cast", |c| {
        Ok(cast_op(dtype_from_name(c.str_or("dtype", "float32")?)?))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn softmax_on_any_axis_and_one_hot_axis() {
        let x = Tensor::new(&[[1f32, 2.0], [3.0, 5.0]], &Device::Cpu).unwrap();
        let s = softmax(&x, 0).unwrap().to_vec2::<f32>().unwrap();
        assert!((s[0][0] + s[1][0] - 1.0).abs() < 1e-6);
        let last = softmax(&x, -1)
            .unwrap()
            .sum(1)
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        assert!(last.iter().all(|v| (v - 1.0).abs() < 1e-6));
        let ids = Tensor::new(&[1u32, 0], &Device::Cpu).unwrap();
        let oh = one_hot_with(&ids, 3, 0, DType::F64).unwrap();
        assert_eq!(oh.dims(), &[3, 2]);
        assert_eq!(oh.to_vec2::<f64>().unwrap()[1], vec![1.0, 0.0]);
        assert_eq!(cast(&x, DType::F64).unwrap().dtype(), DType::F64);
    }
}
