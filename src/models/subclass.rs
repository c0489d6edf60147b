//! Subclassed models: a user type that holds layers and says how to call them.

use crate::callbacks::Logs;
use crate::engine::config::{base_config, built_config};
use crate::engine::{context, tracker, CallCtx, Layer, LayerArgs, LayerRef, Shape, WeightBuilder};
use crate::ops::{DType, Tensor};
use crate::serialization::{json, object, Value};
use crate::trainers::StepContext;
use crate::{Error, Result};
use std::sync::Arc;

/// A model written as code, as subclassing `keras.Model`: hold the layers as fields, run them
/// in `call`. Wrap it with [`Model::subclass`](super::Model::subclass) to build, summarize,
/// compile and fit it; override `train_step` for a custom training step. Its layers need not
/// be listed: the model records the layers `call` applies (with [`LayerRef::apply`] and its
/// siblings) when it is built, in the order of their first use.
///
/// ```
/// use keras::prelude::*;
/// use keras::models::Subclass;
///
/// struct MyModel { dense1: LayerRef, dense2: LayerRef, output_layer: LayerRef }
///
/// impl Subclass for MyModel {
///     fn call(&self, x: &[Tensor], _training: bool) -> keras::Result<Vec<Tensor>> {
///         let x = self.dense1.apply(&x[0])?;
///         let x = self.dense2.apply(&x)?;
///         Ok(vec![self.output_layer.apply(&x)?])
///     }
/// }
///
/// let model = Model::subclass(MyModel {
///     dense1: Dense::new(64).activation("relu").into_layer(),
///     dense2: Dense::new(64).activation("relu").into_layer(),
///     output_layer: Dense::new(10).activation("softmax").into_layer(),
/// });
/// model.build(&[None, Some(784)])?;
/// assert_eq!(model.count_params(), 55_050);
/// // Its layers, found as `call` applied them while the model was built.
/// let names: Vec<String> = model.layers().iter().map(|l| l.name()).collect();
/// assert_eq!(names.len(), 3);
/// assert_eq!(model.layers()[0].output_shape().unwrap()[0].to_string(), "(None, 64)");
/// # Ok::<(), keras::Error>(())
/// ```
pub trait Subclass: Send + Sync + 'static {
    /// The forward pass on real tensors (layers called with `apply` pick up `training` from
    /// the call context).
    fn call(&self, inputs: &[Tensor], training: bool) -> Result<Vec<Tensor>>;
    /// The layers the model holds (for weights, `summary`, saving and freezing). By default
    /// (an empty list) the layers `call` applied while the model was built, in the order of
    /// their first use (Keras tracks the layers assigned to a model's attributes). Write it to
    /// list layers `call` does not apply when building (a layer used only in training), or to
    /// choose their order; a list given here is used as it is.
    fn layers(&self) -> Vec<LayerRef> {
        vec![]
    }
    /// The class name shown by `summary` (default: the Rust type's name).
    fn class_name(&self) -> String {
        let full = std::any::type_name::<Self>();
        full.rsplit("::").next().unwrap_or(full).to_string()
    }
    /// The arguments that rebuild this model, for `model.save` / `to_json` (Keras's
    /// `get_config`). `None` (the default): the model saves its weights only. A model with a
    /// config is loaded back by the function given to
    /// [`crate::saving::registry::register_model`] under its `class_name`.
    fn get_config(&self) -> Option<serde_json::Map<String, serde_json::Value>> {
        None
    }
    /// A custom training step; `None` (the default) uses the standard one.
    fn train_step(
        &self,
        _step: &mut StepContext,
        _x: &[Tensor],
        _y: &[Tensor],
    ) -> Option<Result<Logs>> {
        None
    }
}

/// The layer behind a subclassed model.
pub(crate) struct SubclassNet {
    args: LayerArgs,
    class: String,
    pub(crate) inner: Arc<dyn Subclass>,
    /// The layers `call` applied when the model was built (used when `layers()` is empty).
    found: Vec<LayerRef>,
}

impl SubclassNet {
    pub(crate) fn new(inner: Arc<dyn Subclass>) -> Self {
        SubclassNet {
            args: LayerArgs::default(),
            class: inner.class_name(),
            inner,
            found: vec![],
        }
    }

    /// Runs `call` on zeros of these shapes (unknown sizes as 1) to build the layers or to find
    /// the output shapes. Layers first built here record an unknown batch axis as `None`.
    fn trace(&self, shapes: &[Shape]) -> Result<Vec<Tensor>> {
        let xs: Vec<Tensor> = shapes
            .iter()
            .map(|s| {
                let dims: Vec<usize> = s.0.iter().map(|d| d.unwrap_or(1)).collect();
                Tensor::zeros(dims, DType::F32, &crate::config::device())
            })
            .collect::<candle_core::Result<_>>()?;
        let _g = context::set_training(false);
        self.inner.call(&xs, false)
    }
}

impl Layer for SubclassNet {
    fn class_name(&self) -> &str {
        &self.class
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn build(&mut self, input_shapes: &[Shape], _: &mut WeightBuilder) -> Result<()> {
        let unknown_batch = input_shapes
            .first()
            .is_some_and(|s| s.0.first().is_some_and(Option::is_none));
        let (out, found) = tracker::record_layers(unknown_batch, || self.trace(input_shapes));
        out?;
        self.found = found;
        Ok(())
    }
    fn compute_output_shape(&self, input_shapes: &[Shape]) -> Result<Vec<Shape>> {
        let batch = input_shapes
            .first()
            .and_then(|s| s.0.first().copied().flatten());
        Ok(self
            .trace(input_shapes)?
            .iter()
            .map(|t| {
                let mut d: Vec<Option<usize>> = t.dims().iter().map(|&d| Some(d)).collect();
                if let Some(b) = d.first_mut() {
                    *b = batch;
                }
                Shape(d)
            })
            .collect())
    }
    fn forward(&self, inputs: &[Tensor], ctx: &CallCtx) -> Result<Vec<Tensor>> {
        let _g = context::set_training(ctx.training);
        self.inner.call(inputs, ctx.training)
    }
    fn sublayers(&self) -> Vec<LayerRef> {
        let listed = self.inner.layers();
        if listed.is_empty() {
            self.found.clone()
        } else {
            listed
        }
    }
    fn var_group(&self, name: &str, own: &[crate::engine::Weight]) -> crate::engine::VarGroup {
        // Its layers in a `layers` container, in `layers()` order (Keras walks a subclassed
        // model's attributes by name; Rust has no attribute names to walk).
        crate::engine::VarGroup::layer(name, own).with_child(
            "layers",
            crate::engine::VarGroup::container(&self.sublayers()),
        )
    }
    fn is_model(&self) -> bool {
        true
    }
    fn serialize(&self, handle: &LayerRef) -> Result<Value> {
        // Its `get_config`, under its class name, registered.
        let config = self.inner.get_config().ok_or_else(|| {
            Error::value(format!(
                "Model \"{}\" ({}) cannot be saved to a config: implement `Subclass::get_config` \
                 (and register_model to load it), or save its weights with save_weights",
                handle.name(),
                self.class
            ))
        })?;
        let dtype = self.args.dtype.unwrap_or(DType::F32);
        let mut c = base_config(&handle.name(), handle.trainable(), dtype);
        c.extend(config);
        let mut v = object("keras-rs", &self.class, Value::Object(c));
        v["registered_name"] = json!(self.class);
        v["build_config"] = built_config(self, handle);
        Ok(v)
    }
}
