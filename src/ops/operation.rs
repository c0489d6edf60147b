//! Operations as data (Keras's `keras.src.ops.operation.Operation`): what the user-facing
//! functions of [`crate::ops`] (`add`, `matmul`, `mean`, ...) build, so that one function runs
//! on real tensors (eagerly) and on a functional model's symbolic tensors (as a graph node).
//!
//! An [`Op`] is Keras's op class name and module, its constructor arguments (its `config`),
//! the template of its call arguments (which positions are tensors, which are constants such
//! as the `2.0` of `x * 2.0`) and the function that computes it on real tensors. A type the
//! functions accept implements [`TensorLike`]: [`Tensor`] runs the op at once,
//! [`crate::engine::KerasTensor`] records a node (in `crate::engine`, which knows layers).
//!
//! ```
//! use keras::ops::{self, Device, Tensor};
//! let x = Tensor::new(&[[1f32, 2.0]], &Device::Cpu)?;
//! let y = ops::add(&x, 1.0)?;
//! assert_eq!(y.to_vec2::<f32>()?, vec![vec![2.0, 3.0]]);
//! # Ok::<(), keras::Error>(())
//! ```

use super::Tensor;
use crate::serialization::registration::{Builtins, Registrable};
use crate::serialization::{Cfg, Config, Value};
use crate::{Error, Result};
use std::sync::Arc;

/// The function that computes an op on real tensors (its tensor arguments, in order).
pub type EagerFn = Arc<dyn Fn(&[Tensor]) -> Result<Vec<Tensor>> + Send + Sync>;

/// One position of an op's call arguments, as Keras serializes a node's `args`.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    /// The next tensor input.
    Tensor,
    /// A constant written as is (`2.0`, a `GetItem` key).
    Const(Value),
    /// A list of arguments (`concatenate`'s list of tensors).
    List(Vec<Arg>),
}

/// An operation: Keras's op class, its config, its call-argument template and its math.
///
/// ```
/// use keras::ops::{Arg, Op};
/// use keras::serialization::{config, json};
/// let op = Op::new("keras.src.ops.numpy", "Exp", config(json!({})), vec![Arg::Tensor],
///     |x| Ok(vec![x[0].exp()?]));
/// assert_eq!(op.class_name(), "Exp");
/// assert_eq!(op.call_args(vec![json!("t")]), json!(["t"]));
/// ```
#[derive(Clone)]
pub struct Op {
    module: String,
    class_name: String,
    config: Config,
    args: Vec<Arg>,
    eager: EagerFn,
}

impl Op {
    /// An op of class `class_name` (in Keras module `module`, e.g. `keras.src.ops.numpy`) with
    /// its constructor arguments `config`, call-argument template `args` and math `eager`.
    pub fn new(
        module: &str,
        class_name: &str,
        config: Config,
        args: Vec<Arg>,
        eager: impl Fn(&[Tensor]) -> Result<Vec<Tensor>> + Send + Sync + 'static,
    ) -> Op {
        Op {
            module: module.to_string(),
            class_name: class_name.to_string(),
            config,
            args,
            eager: Arc::new(eager),
        }
    }

    /// Keras's class name (`Add`, `GetItem`, ...).
    pub fn class_name(&self) -> &str {
        &self.class_name
    }

    /// Keras's module of the class (`keras.src.ops.numpy`, `keras.src.ops.nn`, ...).
    pub fn module(&self) -> &str {
        &self.module
    }

    /// The constructor arguments, as Keras's `get_config` writes them (without `name`).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The call-argument template.
    pub fn args(&self) -> &[Arg] {
        &self.args
    }

    /// Number of tensor inputs the template takes.
    pub fn num_inputs(&self) -> usize {
        fn count(a: &[Arg]) -> usize {
            a.iter()
                .map(|x| match x {
                    Arg::Tensor => 1,
                    Arg::Const(_) => 0,
                    Arg::List(l) => count(l),
                })
                .sum()
        }
        count(&self.args)
    }

    /// Computes the op on real tensors.
    pub fn call(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        if inputs.len() != self.num_inputs() {
            return Err(Error::value(format!(
                "{} takes {} tensor inputs; received {}",
                self.class_name,
                self.num_inputs(),
                inputs.len()
            )));
        }
        (self.eager)(inputs)
    }

    /// The math, shareable (a [`crate::engine::trace`] closure).
    pub fn eager(&self) -> EagerFn {
        self.eager.clone()
    }

    /// The node's `args` as Keras writes them: the template with `tensors` (serialized inputs,
    /// in order) in its tensor positions.
    pub fn call_args(&self, tensors: Vec<Value>) -> Value {
        fn fill(a: &[Arg], it: &mut std::vec::IntoIter<Value>) -> Vec<Value> {
            a.iter()
                .map(|x| match x {
                    Arg::Tensor => it.next().unwrap_or(Value::Null),
                    Arg::Const(v) => v.clone(),
                    Arg::List(l) => Value::Array(fill(l, it)),
                })
                .collect()
        }
        Value::Array(fill(&self.args, &mut tensors.into_iter()))
    }
}

impl std::fmt::Debug for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<Op {} {:?}>", self.class_name, self.config)
    }
}

/// What the functions of [`crate::ops`] take: a real [`Tensor`] (the op runs now) or a
/// symbolic [`crate::engine::KerasTensor`] (the op becomes a node of the graph).
pub trait TensorLike: Clone + Sized {
    /// Applies `op` to these tensor inputs (in the order of the op's template).
    fn apply_op(op: Op, inputs: &[&Self]) -> Result<Vec<Self>>;
}

impl TensorLike for Tensor {
    fn apply_op(op: Op, inputs: &[&Self]) -> Result<Vec<Self>> {
        let xs: Vec<Tensor> = inputs.iter().map(|t| (*t).clone()).collect();
        op.call(&xs)
    }
}

/// An argument that may be a tensor or a Python-style scalar (`x * 2.0`).
#[derive(Debug)]
pub enum Operand<'a, T> {
    /// A tensor.
    Tensor(&'a T),
    /// A number.
    Scalar(f64),
}

impl<T> Clone for Operand<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Operand<'_, T> {}

/// Things that can be an [`Operand`]: `&T` and `f64` / `f32` / `i32` scalars.
pub trait IntoOperand<'a, T> {
    /// This value as an operand.
    fn into_operand(self) -> Operand<'a, T>;
}

impl<'a, T: TensorLike> IntoOperand<'a, T> for &'a T {
    fn into_operand(self) -> Operand<'a, T> {
        Operand::Tensor(self)
    }
}
impl<'a, T> IntoOperand<'a, T> for f64 {
    fn into_operand(self) -> Operand<'a, T> {
        Operand::Scalar(self)
    }
}
impl<'a, T> IntoOperand<'a, T> for f32 {
    fn into_operand(self) -> Operand<'a, T> {
        Operand::Scalar(self as f64)
    }
}
impl<'a, T> IntoOperand<'a, T> for i32 {
    fn into_operand(self) -> Operand<'a, T> {
        Operand::Scalar(self as f64)
    }
}
impl<'a, T> IntoOperand<'a, T> for Operand<'a, T> {
    fn into_operand(self) -> Operand<'a, T> {
        self
    }
}

/// An op's builder from a saved node: Keras's op config with the node's call arguments
/// under the key [`CALL_ARGS`]. Registered per class in [`Registrable::register_builtins`]
/// (see [`crate::ops::numpy`]).
impl Registrable for Op {
    const KIND: &'static str = "operation";

    fn register_builtins(r: &mut Builtins<Self>) {
        super::numpy::register(r);
        super::nn_ops::register(r);
    }
}

/// The config key under which a saved node's `args` reach an op's `from_config`.
pub const CALL_ARGS: &str = "__call_args__";

/// A saved node's call arguments (from [`CALL_ARGS`]) as a template and the constants in it:
/// tensors become [`Arg::Tensor`].
pub fn template_from(c: &Cfg) -> Vec<Arg> {
    fn one(v: &Value) -> Arg {
        match v {
            Value::Object(o)
                if o.get("class_name").and_then(Value::as_str) == Some("__keras_tensor__") =>
            {
                Arg::Tensor
            }
            Value::Array(a) if a.iter().any(has_tensor) => Arg::List(a.iter().map(one).collect()),
            other => Arg::Const(other.clone()),
        }
    }
    fn has_tensor(v: &Value) -> bool {
        match v {
            Value::Object(o) => {
                o.get("class_name").and_then(Value::as_str) == Some("__keras_tensor__")
            }
            Value::Array(a) => a.iter().any(has_tensor),
            _ => false,
        }
    }
    match c.get(CALL_ARGS) {
        Some(Value::Array(a)) => a.iter().map(one).collect(),
        _ => vec![],
    }
}

/// Position `i` of a saved node's call arguments as an operand slot: a tensor, a number, or
/// an error naming the op.
pub(crate) fn slot(c: &Cfg, args: &[Arg], i: usize) -> Result<Slot> {
    match args.get(i) {
        Some(Arg::Tensor) => Ok(Slot::Tensor),
        Some(Arg::Const(v)) => v.as_f64().map(Slot::Scalar).ok_or_else(|| {
            Error::value(format!(
                "{}: argument {i} should be a tensor or a number; received {v}",
                c.class
            ))
        }),
        other => Err(Error::value(format!(
            "{}: argument {i} should be a tensor or a number; received {other:?}",
            c.class
        ))),
    }
}

/// Whether an op argument is a tensor input or a number baked into the op.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Slot {
    /// The next tensor input.
    Tensor,
    /// A constant.
    Scalar(f64),
}

impl Slot {
    /// The template entry.
    pub fn arg(self) -> Arg {
        match self {
            Slot::Tensor => Arg::Tensor,
            Slot::Scalar(v) => Arg::Const(Value::from(v)),
        }
    }
}

/// A number as Keras writes it: `3` for an integer value, `2.5` otherwise.
pub fn number(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        Value::from(v as i64)
    } else {
        Value::from(v)
    }
}

/// Splits operands into slots and the tensors they take.
pub(crate) fn split_operands<'a, T>(ops: &[Operand<'a, T>]) -> (Vec<Slot>, Vec<&'a T>) {
    let mut slots = vec![];
    let mut ts = vec![];
    for o in ops {
        match *o {
            Operand::Tensor(t) => {
                slots.push(Slot::Tensor);
                ts.push(t);
            }
            Operand::Scalar(v) => slots.push(Slot::Scalar(v)),
        }
    }
    (slots, ts)
}

/// Applies an op with one output.
pub(crate) fn apply1<T: TensorLike>(op: Op, inputs: &[&T]) -> Result<T> {
    let class = op.class_name().to_string();
    T::apply_op(op, inputs)?
        .into_iter()
        .next()
        .ok_or_else(|| Error::value(format!("{class} returned no output")))
}
