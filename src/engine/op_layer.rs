//! `keras::ops` on symbolic tensors: an [`Op`] applied to [`KerasTensor`]s becomes a node of
//! an [`OpLayer`], a weightless layer whose class name is Keras's op class (`Add`, `Mean`,
//! `GetItem`, ...). Summaries, training and saving see it as any other layer; it serializes as
//! Keras writes an op node (`module: keras.src.ops.numpy`, `registered_name` = the class, the
//! node's constants among its `args`), and such entries of a Keras config load back here.
//!
//! Output shapes: broadcasting ops follow Keras's `broadcast_shapes` (its error text
//! included); every other op is traced with [`super::trace::infer_output_shapes`].
//!
//! ```
//! use keras::prelude::*;
//! use keras::ops;
//! let x = Input::new([3, 4]);
//! let y = ops::mean(&ops::add(&x, 1.0)?, 1, false)?;
//! assert_eq!(y.shape().to_string(), "(None, 4)");
//! assert_eq!(y.layer().class_name(), "Mean");
//! # Ok::<(), keras::Error>(())
//! ```

use super::layer::{CallCtx, Layer, LayerArgs, LayerRef};
use super::node::KerasTensor;
use super::shape::Shape;
use super::trace::infer_output_shapes;
use crate::ops::operation::CALL_ARGS;
use crate::ops::{dtype_from_name, DType, Op, Tensor, TensorLike};
use crate::serialization::registration::deserialize;
use crate::serialization::{json, Config, Value};
use crate::{Error, Result};
use std::sync::Mutex;

/// Op classes whose output shape is the broadcast of their two inputs'.
const BROADCASTING: &[&str] = &[
    "Add",
    "Subtract",
    "Multiply",
    "TrueDivide",
    "Divide",
    "Maximum",
    "Minimum",
    "Greater",
    "Less",
    "Equal",
    "Power",
];
/// Broadcasting op classes whose output is boolean (`uint8` here).
const COMPARISONS: &[&str] = &["Greater", "Less", "Equal"];

/// A node-making wrapper of an [`Op`]: a layer with no weights whose `forward` is the op.
pub struct OpLayer {
    op: Op,
    args: LayerArgs,
    input_dtypes: Vec<DType>,
    /// An error an operator (`+`, `*`, ...) could not return; raised on run and save.
    deferred: Option<String>,
    specs: Mutex<Option<Vec<DType>>>,
}

impl OpLayer {
    /// Wraps `op` for inputs of these dtypes.
    pub fn new(op: Op, input_dtypes: Vec<DType>) -> OpLayer {
        OpLayer {
            op,
            args: LayerArgs::default(),
            input_dtypes,
            deferred: None,
            specs: Mutex::new(None),
        }
    }

    /// The wrapped op.
    pub fn op(&self) -> &Op {
        &self.op
    }

    fn deferred_error(&self) -> Result<()> {
        match &self.deferred {
            Some(e) => Err(Error::shape(e.clone())),
            None => Ok(()),
        }
    }
}

/// Keras's `broadcast_shapes` on symbolic shapes (an unknown dimension takes the other's).
pub fn broadcast_shapes(a: &Shape, b: &Shape) -> Result<Shape> {
    let n = a.rank().max(b.rank());
    let pad = |s: &Shape| -> Vec<Option<usize>> {
        let mut v = vec![Some(1); n - s.rank()];
        v.extend(s.dims().iter().copied());
        v
    };
    let (x, y) = (pad(a), pad(b));
    let list = |s: &Shape| {
        format!(
            "[{}]",
            s.dims()
                .iter()
                .map(|d| d.map_or("None".to_string(), |d| d.to_string()))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let mut out = Vec::with_capacity(n);
    for (p, q) in x.iter().zip(&y) {
        out.push(match (*p, *q) {
            (Some(1), q) => q,
            (None, q) => {
                if q == Some(1) {
                    None
                } else {
                    q
                }
            }
            (Some(p), q) if q == Some(1) || q.is_none() || q == Some(p) => Some(p),
            (Some(p), Some(q)) => {
                return Err(Error::value(format!(
                    "Cannot broadcast shape, the failure dim has value {p}, which cannot be \
                     broadcasted to {q}. Input shapes are: {} and {}.",
                    list(a),
                    list(b)
                )))
            }
            (Some(p), None) => Some(p),
        });
    }
    Ok(Shape(out))
}

impl Layer for OpLayer {
    fn class_name(&self) -> &str {
        self.op.class_name()
    }
    fn is_operation(&self) -> bool {
        true
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn compute_output_shape(&self, shapes: &[Shape]) -> Result<Vec<Shape>> {
        self.deferred_error()?;
        let dtypes: Vec<DType> = if self.input_dtypes.len() == shapes.len() {
            self.input_dtypes.clone()
        } else {
            vec![DType::F32; shapes.len()]
        };
        let class = self.op.class_name();
        if BROADCASTING.contains(&class) {
            let out = match shapes {
                [a, b] => broadcast_shapes(a, b)?,
                [a] => a.clone(),
                _ => return Err(Error::value(format!("{class} takes at most two tensors"))),
            };
            let dt = if COMPARISONS.contains(&class) {
                DType::U8
            } else {
                dtypes
                    .iter()
                    .copied()
                    .reduce(crate::ops::numpy::result_dtype)
                    .unwrap_or(DType::F32)
            };
            *self.specs.lock().unwrap_or_else(|e| e.into_inner()) = Some(vec![dt]);
            return Ok(vec![out]);
        }
        let eager = self.op.eager();
        let f = move |xs: &[Tensor]| eager(xs);
        let specs = infer_output_shapes(&f, shapes, &dtypes).map_err(|e| {
            Error::value(format!(
                "Exception encountered when calling {class} on inputs of shapes {}: {e}",
                shapes
                    .iter()
                    .map(Shape::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        *self.specs.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(specs.iter().map(|s| s.1).collect());
        Ok(specs.into_iter().map(|s| s.0).collect())
    }
    fn compute_output_dtype(&self, input_dtypes: &[DType], n_outputs: usize) -> Vec<DType> {
        let g = self.specs.lock().unwrap_or_else(|e| e.into_inner());
        match g.as_ref() {
            Some(d) if d.len() == n_outputs => d.clone(),
            _ => vec![input_dtypes.first().copied().unwrap_or(DType::F32); n_outputs],
        }
    }
    fn forward(&self, inputs: &[Tensor], _ctx: &CallCtx) -> Result<Vec<Tensor>> {
        self.deferred_error()?;
        self.op.call(inputs)
    }
    fn get_config(&self) -> Result<Config> {
        self.deferred_error()?;
        Ok(self.op.config().clone())
    }
    fn call_config(&self, inputs: Vec<Value>) -> (Value, Value) {
        (self.op.call_args(inputs), json!({}))
    }
    fn serialize(&self, handle: &LayerRef) -> Result<Value> {
        self.deferred_error()?;
        let mut config = Config::new();
        config.insert("name".into(), Value::from(handle.name()));
        config.extend(self.op.config().clone());
        let class = self.op.class_name();
        Ok(json!({
            "module": self.op.module(),
            "class_name": class,
            "config": config,
            "registered_name": class,
        }))
    }
}

impl TensorLike for KerasTensor {
    fn apply_op(op: Op, inputs: &[&Self]) -> Result<Vec<Self>> {
        let dtypes = inputs.iter().map(|t| t.dtype()).collect();
        let xs: Vec<KerasTensor> = inputs.iter().map(|t| (*t).clone()).collect();
        LayerRef::new(OpLayer::new(op, dtypes)).call_many(&xs)
    }
}

/// Applies `op` to symbolic tensors where no `Result` can be returned (an operator): on a
/// shape error the node is still recorded (its output takes the first input's shape), and
/// the error is raised when the model runs or is saved (see [`deferred_error`]).
pub(crate) fn apply_or_defer(op: Op, inputs: &[&KerasTensor]) -> KerasTensor {
    let dtypes: Vec<DType> = inputs.iter().map(|t| t.dtype()).collect();
    let xs: Vec<KerasTensor> = inputs.iter().map(|t| (*t).clone()).collect();
    let layer = LayerRef::new(OpLayer::new(op, dtypes));
    match layer.call_many(&xs) {
        Ok(mut out) if !out.is_empty() => out.remove(0),
        res => {
            let msg = match res {
                Err(e) => e.to_string(),
                Ok(_) => "the op returned no output".to_string(),
            };
            layer.with_mut(|l: &mut OpLayer| l.deferred = Some(msg));
            let (shape, dtype) = (xs[0].shape().clone(), xs[0].dtype());
            layer.add_node(xs, vec![shape], vec![dtype]).remove(0)
        }
    }
}

/// The error an operator recorded on `layer`'s op, if any (what `Model::new` may check to
/// raise it at graph build, as Keras does).
pub fn deferred_error(layer: &LayerRef) -> Option<Error> {
    layer
        .with(|l: &OpLayer| l.deferred.clone())
        .flatten()
        .map(Error::shape)
}

/// The dtypes of the Keras tensors in a saved node's arguments, in order.
fn arg_dtypes(v: &Value, out: &mut Vec<DType>) -> Result<()> {
    match v {
        Value::Array(a) => a.iter().try_for_each(|x| arg_dtypes(x, out)),
        Value::Object(o)
            if o.get("class_name").and_then(Value::as_str) == Some("__keras_tensor__") =>
        {
            let name = o
                .get("config")
                .and_then(|c| c.get("dtype"))
                .and_then(Value::as_str)
                .unwrap_or("float32");
            out.push(dtype_from_name(name)?);
            Ok(())
        }
        _ => Ok(()),
    }
}

/// An entry of a functional config's `layers` that is an op node (its `module` is one of
/// Keras's `keras.src.ops.*`), as an [`OpLayer`]; `None` for a layer entry.
///
/// ```
/// use keras::engine::op_layer::from_entry;
/// use keras::serialization::json;
/// let e = json!({"module": "keras.src.ops.numpy", "class_name": "Multiply",
///     "config": {"name": "multiply"}, "registered_name": "Multiply", "name": "multiply",
///     "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config":
///         {"shape": [null, 3], "dtype": "float32", "keras_history": ["input_layer", 0, 0]}}, 2.0],
///         "kwargs": {}}]});
/// let layer = from_entry(&e).unwrap()?;
/// assert_eq!((layer.name().as_str(), layer.class_name()), ("multiply", "Multiply"));
/// assert!(from_entry(&json!({"module": "keras.layers", "class_name": "Dense"})).is_none());
/// # Ok::<(), keras::Error>(())
/// ```
pub fn from_entry(e: &Value) -> Option<Result<LayerRef>> {
    let module = e.get("module")?.as_str()?;
    if !module.starts_with("keras.src.ops") {
        return None;
    }
    Some(build_entry(e))
}

fn build_entry(e: &Value) -> Result<LayerRef> {
    let class = e
        .get("class_name")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::value(format!("an op entry needs a class_name; received {e}")))?;
    let mut config = e
        .get("config")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let node = e
        .get("inbound_nodes")
        .and_then(Value::as_array)
        .and_then(|n| n.first());
    let args = node
        .and_then(|n| n.get("args"))
        .cloned()
        .unwrap_or_else(|| json!([]));
    let mut dtypes = vec![];
    arg_dtypes(&args, &mut dtypes)?;
    let name = config
        .get("name")
        .and_then(Value::as_str)
        .or_else(|| e.get("name").and_then(Value::as_str))
        .map(str::to_string);
    config.remove("name");
    config.insert(CALL_ARGS.into(), args);
    let op: Op = deserialize(class, &config)?;
    let mut layer = OpLayer::new(op, dtypes);
    layer.args.name = name;
    Ok(LayerRef::new(layer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::Input;
    use crate::ops;

    #[test]
    fn broadcast_like_keras() {
        let s = |v: &[Option<usize>]| Shape(v.to_vec());
        assert_eq!(
            broadcast_shapes(&s(&[None, Some(3)]), &s(&[Some(3)])).unwrap(),
            s(&[None, Some(3)])
        );
        assert_eq!(
            broadcast_shapes(&s(&[None]), &s(&[Some(4)])).unwrap(),
            s(&[Some(4)])
        );
        let e = broadcast_shapes(&s(&[None, Some(3)]), &s(&[None, Some(4)])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Cannot broadcast shape, the failure dim has value 3, which cannot be broadcasted \
             to 4. Input shapes are: [None, 3] and [None, 4]."
        );
    }

    #[test]
    fn symbolic_ops_make_named_nodes() {
        let x = Input::new([3, 4]);
        let y = ops::add(&x, 1.0).unwrap();
        assert_eq!(y.layer().class_name(), "Add");
        assert!(y.layer().name().starts_with("add"));
        let v = y.layer().serialize().unwrap();
        assert_eq!(v["module"], "keras.src.ops.numpy");
        assert_eq!(v["registered_name"], "Add");
        let parts = ops::split(&y, ops::Sections::Equal(2), -1).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1].shape().to_string(), "(None, 3, 2)");
        let am = ops::argmax(&y, Some(-1), false).unwrap();
        assert_eq!(am.dtype(), DType::I64);
        assert!(ops::reshape(&x, &[5, -1]).is_err());
    }

    #[test]
    fn deferred_errors_surface_on_run_and_save() {
        let a = Input::new([3]);
        let b = Input::new([4]);
        let op = ops::numpy::binary_op(
            "Add",
            [ops::operation::Slot::Tensor, ops::operation::Slot::Tensor],
            Tensor::broadcast_add,
        );
        let y = apply_or_defer(op, &[&a, &b]);
        let err = deferred_error(y.layer()).unwrap().to_string();
        assert!(err.contains("Cannot broadcast shape"), "{err}");
        assert!(y.layer().serialize().is_err());
    }
}
