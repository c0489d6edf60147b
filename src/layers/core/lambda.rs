//! `Lambda`: a layer made from a function (keras/src/layers/core/lambda_layer.py), here a
//! Rust closure on real tensors.
//!
//! Saving needs a name for the function: `Lambda::registered("double", f)` registers `f`
//! under that name (kind `function` of the one registry), the config names it as Keras
//! names a registered function (`{"module": "builtins", "class_name": "function", "config":
//! "double", "registered_name": "function"}`), and loading finds it by that name. An
//! unregistered closure cannot be written (Rust code is not data); a Keras file whose
//! `function` is a Python lambda (`__lambda__`, bytecode) is refused with Keras's safe-mode
//! error: Python code never runs here.

use crate::engine::config::apply_base_config;
use crate::engine::trace::infer_output_shapes;
use crate::engine::{CallCtx, IntoDims, Layer, LayerArgs, LayerRef, Shape};
use crate::ops::{DType, Tensor};
use crate::serialization::registration::{get_registered, register, Builtins, Registrable};
use crate::serialization::{json, shape_value, Cfg, Config, Value};
use crate::{Error, Result};
use std::sync::Arc;

/// A function of a `Lambda`: the layer's inputs to its outputs, on real tensors.
pub type LambdaFn = Arc<dyn Fn(&[Tensor]) -> Result<Vec<Tensor>> + Send + Sync>;

/// A named Lambda function, as the registry keeps it (kind `function`).
#[derive(Clone)]
pub struct NamedFunction(pub LambdaFn);

impl Registrable for NamedFunction {
    const KIND: &'static str = "function";
    fn register_builtins(_: &mut Builtins<Self>) {}
}

/// Registers `f` (one tensor in, one out) under `name`, so `Lambda` configs naming it load.
///
/// ```
/// use keras::layers::register_lambda_function;
/// register_lambda_function("halve", |x| Ok((x * 0.5)?));
/// ```
pub fn register_lambda_function(
    name: &str,
    f: impl Fn(&Tensor) -> Result<Tensor> + Send + Sync + 'static,
) {
    register_lambda_function_many(name, single(f));
}

/// [`register_lambda_function`] for a function of several inputs and outputs.
pub fn register_lambda_function_many(
    name: &str,
    f: impl Fn(&[Tensor]) -> Result<Vec<Tensor>> + Send + Sync + 'static,
) {
    let f: LambdaFn = Arc::new(f);
    register::<NamedFunction>(name, move |_| Ok(NamedFunction(f.clone())));
}

fn single(
    f: impl Fn(&Tensor) -> Result<Tensor> + Send + Sync + 'static,
) -> impl Fn(&[Tensor]) -> Result<Vec<Tensor>> + Send + Sync + 'static {
    move |xs: &[Tensor]| {
        let x = xs
            .first()
            .ok_or_else(|| Error::value("Lambda: called with no inputs"))?;
        Ok(vec![f(x)?])
    }
}

/// Wraps a function as a layer (Keras's `Lambda`).
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::Lambda;
/// let x = Input::new([3]);
/// let y = Lambda::new(|t| Ok(t.sqr()?.sum_keepdim(1)?)).call(&x)?;
/// assert_eq!(y.shape().to_string(), "(None, 1)");
///
/// // Savable: registered under a name.
/// let twice = Lambda::registered("twice", |t| Ok((t * 2.0)?)).into_layer();
/// assert_eq!(twice.serialize()?["config"]["function"]["config"], "twice");
/// // Not savable: an anonymous closure.
/// let anon = Lambda::new(|t| Ok(t.clone())).into_layer();
/// assert!(anon.serialize().unwrap_err().to_string().contains("Lambda::registered"));
/// # Ok::<(), keras::Error>(())
/// ```
pub struct Lambda {
    args: LayerArgs,
    function: LambdaFn,
    name: Option<String>,
    output_shape: Option<Vec<Option<usize>>>,
}

impl Lambda {
    /// A layer computing `f` on its (single) input. Its output shape is found by running `f`
    /// on zeros ([`crate::engine::trace`]) unless given with [`Lambda::output_shape`].
    pub fn new(f: impl Fn(&Tensor) -> Result<Tensor> + Send + Sync + 'static) -> Lambda {
        Lambda::many(single(f))
    }

    /// A layer computing `f` on all its inputs, returning every output.
    pub fn many(f: impl Fn(&[Tensor]) -> Result<Vec<Tensor>> + Send + Sync + 'static) -> Lambda {
        Lambda {
            args: LayerArgs::default(),
            function: Arc::new(f),
            name: None,
            output_shape: None,
        }
    }

    /// A layer computing `f`, registered under `name` so the layer saves and loads.
    pub fn registered(
        name: &str,
        f: impl Fn(&Tensor) -> Result<Tensor> + Send + Sync + 'static,
    ) -> Lambda {
        Lambda::registered_many(name, single(f))
    }

    /// [`Lambda::registered`] for a function of several inputs and outputs.
    pub fn registered_many(
        name: &str,
        f: impl Fn(&[Tensor]) -> Result<Vec<Tensor>> + Send + Sync + 'static,
    ) -> Lambda {
        let f: LambdaFn = Arc::new(f);
        let g = f.clone();
        register_lambda_function_many(name, move |xs| g(xs));
        Lambda {
            name: Some(name.to_string()),
            ..Lambda::many(move |xs| f(xs))
        }
    }

    /// A layer computing the function registered under `name`.
    pub fn from_registered(name: &str) -> Result<Lambda> {
        let f = lookup(name)?;
        Ok(Lambda {
            name: Some(name.to_string()),
            ..Lambda::many(move |xs| (f.0)(xs))
        })
    }

    /// The shape of one output sample (batch axis excluded), as Keras's `output_shape=`.
    pub fn output_shape(mut self, dims: impl IntoDims) -> Self {
        self.output_shape = Some(dims.into_dims());
        self
    }

    /// The name the function is registered under, if any.
    pub fn function_name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// A `Lambda` from its Keras config (its `function` must name a registered function).
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        let f = c.get("function").unwrap_or(&Value::Null);
        let name = match f {
            Value::String(s) => s.clone(),
            Value::Object(o)
                if o.get("class_name").and_then(Value::as_str) == Some("__lambda__") =>
            {
                return Err(Error::value(
                    "Requested the deserialization of a `Lambda` layer whose `function` is a \
                     Python lambda. This carries a potential risk of arbitrary code execution \
                     and thus it is disallowed by default. If you trust the source of the \
                     artifact, you can override this error by passing `safe_mode=False` to the \
                     loading function, or calling `keras.config.enable_unsafe_deserialization(). \
                     (keras-rs never runs Python code: register a Rust function under a name \
                     with `Lambda::registered` and save the model with it.)",
                ))
            }
            Value::Object(o) => o
                .get("config")
                .and_then(Value::as_str)
                .ok_or_else(|| c.bad("function", "a registered function's name"))?
                .to_string(),
            _ => return Err(c.bad("function", "a registered function's name")),
        };
        let mut layer = Lambda::from_registered(&name)?;
        if let Some(Value::Array(_)) = c.get("output_shape") {
            layer.output_shape = Some(c.shape("output_shape")?);
        }
        apply_base_config(layer, c)
    }
}

/// The function registered under `name` (or, for Keras's `package>name`, under `name`).
fn lookup(name: &str) -> Result<NamedFunction> {
    let short = name.rsplit('>').next().unwrap_or(name);
    get_registered::<NamedFunction>(name)
        .or_else(|| get_registered::<NamedFunction>(short))
        .map(|f| f(&Cfg::new(name, &Config::new())))
        .unwrap_or_else(|| {
            Err(Error::value(format!(
                "Could not locate function '{name}'. Make sure custom classes and functions \
                 are decorated with `@keras.saving.register_keras_serializable()`; here: \
                 register it with `keras::layers::register_lambda_function(\"{name}\", f)` \
                 before loading."
            )))
        })
}

impl Layer for Lambda {
    fn class_name(&self) -> &str {
        "Lambda"
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn compute_output_shape(&self, shapes: &[Shape]) -> Result<Vec<Shape>> {
        if let Some(dims) = &self.output_shape {
            let mut d = vec![shapes
                .first()
                .and_then(|s| s.dims().first().copied())
                .flatten()];
            d.extend(dims.iter().copied());
            return Ok(vec![Shape(d)]);
        }
        let f = self.function.clone();
        let g = move |xs: &[Tensor]| f(xs);
        let dtypes = vec![self.args.dtype.unwrap_or(DType::F32); shapes.len()];
        let specs = infer_output_shapes(&g, shapes, &dtypes).map_err(|e| {
            Error::value(format!(
                "We could not automatically infer the shape of the Lambda's output. Please \
                 specify the `output_shape` argument for this Lambda layer. ({e})"
            ))
        })?;
        Ok(specs.into_iter().map(|s| s.0).collect())
    }
    fn forward(&self, inputs: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
        (self.function)(inputs)
    }
    fn get_config(&self) -> Result<Config> {
        let Some(name) = &self.name else {
            return Err(Error::value(
                "Cannot save a `Lambda` layer whose `function` is an anonymous Rust closure: \
                 code cannot be serialized. Register the function under a name with \
                 `Lambda::registered(name, f)` (or `register_lambda_function` and \
                 `Lambda::from_registered`) so the saved config names it.",
            ));
        };
        let mut c = Config::new();
        c.insert(
            "function".into(),
            json!({"module": "builtins", "class_name": "function", "config": name,
                   "registered_name": "function"}),
        );
        if let Some(s) = &self.output_shape {
            c.insert("output_shape".into(), shape_value(s));
        }
        c.insert("arguments".into(), json!({}));
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::LayerExt;
    use crate::layers::Input;
    use crate::serialization::config;

    #[test]
    fn registered_lambda_round_trips_and_lambdas_are_refused() {
        let l = Lambda::registered("lambda_test_add_one", |x| Ok((x + 1.0)?))
            .output_shape([2])
            .into_layer();
        let v = l.serialize().unwrap();
        assert_eq!(v["config"]["output_shape"], json!([2]));
        let back = crate::serialization::registration::deserialize_object::<LayerRef>(&v).unwrap();
        let x = Tensor::new(&[[1f32, 2.0]], &candle_core::Device::Cpu).unwrap();
        assert_eq!(
            back.apply(&x).unwrap().to_vec2::<f32>().unwrap(),
            vec![vec![2.0, 3.0]]
        );

        let py = config(json!({"function": {"class_name": "__lambda__", "config": {"code": "x"}}}));
        let err = Lambda::from_config(&Cfg::new("Lambda", &py))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("safe_mode=False"), "{err}");
        let missing = config(json!({"function": {"class_name": "function", "config": "nope"}}));
        let err = Lambda::from_config(&Cfg::new("Lambda", &missing))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("Could not locate function 'nope'"), "{err}");
    }

    #[test]
    fn output_shapes_traced_or_given() {
        let x = Input::new([3, 4]);
        let y = Lambda::new(|t| Ok(t.sum(2)?))
            .into_layer()
            .call(&x)
            .unwrap();
        assert_eq!(y.shape().to_string(), "(None, 3)");
        let y = Lambda::new(|t| Ok(t.clone()))
            .output_shape([12])
            .into_layer()
            .call(&x)
            .unwrap();
        assert_eq!(y.shape().to_string(), "(None, 12)");
        let err = Lambda::new(|t| Ok(t.reshape((5, 5))?))
            .into_layer()
            .call(&x)
            .unwrap_err()
            .to_string();
        assert!(err.contains("specify the `output_shape`"), "{err}");
    }
}
