//! The `Layer` trait and `LayerRef`, the shared handle through which graphs, models and
//! optimizers hold a layer.
//!
//! A layer type (a plain struct such as `Dense`) implements [`Layer`]: `build` creates its
//! weights from the input shape, `compute_output_shape` gives symbolic output shapes, `forward`
//! computes. Wrapped in a [`LayerRef`] it gets what every Keras layer has: a unique name,
//! build-on-first-call, weights, the trainable flag, and its nodes in graphs.

use super::call_inputs::CallInputs;
use super::context;
use super::input_spec::InputSpec;
use super::naming;
use super::node::{KerasTensor, Node, TensorDesc};
use super::shape::{IntoDims, Shape};
use super::store::{Assets, Group};
use super::tracker;
use super::var_group::VarGroup;
use super::weight::{Weight, WeightBuilder};
use crate::mixed_precision::DTypePolicy;
use crate::ops::{DType, Tensor};
use crate::serialization::{Config, Value};
use crate::{Error, Result};
use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};

/// Options every layer takes (Keras's base-layer keyword arguments).
#[derive(Clone, Debug, Default)]
pub struct LayerArgs {
    /// The layer's name; generated from the class name when `None`.
    pub name: Option<String>,
    /// Shape of one sample, without the batch axis (Keras's `input_shape=`), used when the
    /// layer is the first of a `Sequential`.
    pub input_shape: Option<Vec<Option<usize>>>,
    /// Whether the weights are trained (default true).
    pub trainable: Option<bool>,
    /// The dtype of the weights and outputs (default float32).
    pub dtype: Option<DType>,
}

/// What a layer's `call` gets besides its inputs.
#[derive(Clone, Copy, Debug)]
pub struct CallCtx<'a> {
    /// The layer's name, for error messages.
    pub name: &'a str,
    /// Training mode (dropout active, batch statistics used).
    pub training: bool,
    /// The inputs' masks (Keras's `mask=`): `(batch, steps)` tensors of 1 (a real step) and 0
    /// (padding), propagated through a functional graph from an `Embedding` with `mask_zero`
    /// or a `Masking` layer. Empty when there are none.
    pub masks: &'a [Option<Tensor>],
}

impl CallCtx<'_> {
    /// The mask of input `i`, if it has one.
    pub fn mask(&self, i: usize) -> Option<&Tensor> {
        self.masks.get(i).and_then(Option::as_ref)
    }
}

/// A Keras layer. Implement this for a new layer type; wrap it with [`LayerRef::new`] (or
/// `.into_layer()`) to use it.
///
/// A custom layer needs only its `forward` (Keras's `call`) and, if it has weights, `build`;
/// [`#[keras::layer]`](macro@crate::layer) on the `impl` block writes `class_name` (the
/// type's name), `args` and `args_mut` (its `args: LayerArgs` field), and the output shape
/// is found by running `forward` ([`Layer::compute_output_shape`]'s default). Keras's
/// `Linear`:
///
/// ```
/// use keras::prelude::*;
///
/// #[derive(Default)]
/// struct Linear { args: LayerArgs, units: usize, w: Option<Weight> }
///
/// #[keras::layer]
/// impl Layer for Linear {
///     fn build(&mut self, s: &[Shape], w: &mut WeightBuilder) -> keras::Result<()> {
///         self.w = Some(w.add_weight("w", (s[0].dim(-1), self.units), "random_normal")?);
///         Ok(())
///     }
///     fn forward(&self, x: &[Tensor], _: &CallCtx) -> keras::Result<Vec<Tensor>> {
///         Ok(vec![x[0].matmul(&self.w.value()?)?])
///     }
/// }
///
/// let layer = Linear { units: 4, ..Default::default() }.into_layer();
/// assert_eq!((layer.name().as_str(), layer.class_name()), ("linear", "Linear"));
/// let y = layer.call(&Input::new([3]))?;
/// assert_eq!(y.shape().to_string(), "(None, 4)");
/// assert_eq!(layer.count_params(), 12);
/// # Ok::<(), keras::Error>(())
/// ```
///
/// Without the attribute, write the three methods yourself:
///
/// ```
/// use keras::prelude::*;
/// use keras::engine::{CallCtx, Layer, LayerArgs};
///
/// /// Multiplies its input by two.
/// struct Double { args: LayerArgs }
///
/// impl Layer for Double {
///     fn class_name(&self) -> &str { "Double" }
///     fn args(&self) -> &LayerArgs { &self.args }
///     fn args_mut(&mut self) -> &mut LayerArgs { &mut self.args }
///     fn compute_output_shape(&self, s: &[Shape]) -> keras::Result<Vec<Shape>> { Ok(s.to_vec()) }
///     fn forward(&self, x: &[Tensor], _: &CallCtx) -> keras::Result<Vec<Tensor>> {
///         Ok(vec![(&x[0] * 2.0)?])
///     }
/// }
///
/// let layer = Double { args: LayerArgs::default() }.into_layer();
/// assert_eq!(layer.name(), "double");
/// let y = layer.apply(&Tensor::new(&[[1f32, 2.0]], &Device::Cpu)?)?;
/// assert_eq!(y.to_vec2::<f32>()?, vec![vec![2.0, 4.0]]);
/// # Ok::<(), keras::Error>(())
/// ```
pub trait Layer: Any + Send + Sync {
    /// The Keras class name, e.g. `"Dense"`; by default the Rust type's name (without its
    /// module path and generic arguments), as Keras uses the Python class's name.
    fn class_name(&self) -> &str {
        short_type_name(std::any::type_name::<Self>())
    }
    /// The common options.
    fn args(&self) -> &LayerArgs;
    /// The common options, mutable (for the builder methods of [`LayerExt`]).
    fn args_mut(&mut self) -> &mut LayerArgs;
    /// Constraints on each input, checked before `build` and on every call. Empty: none.
    fn input_spec(&self) -> Vec<InputSpec> {
        vec![]
    }
    /// Creates the weights for these input shapes. Called once, before the first call.
    fn build(&mut self, _input_shapes: &[Shape], _weights: &mut WeightBuilder) -> Result<()> {
        Ok(())
    }
    /// The output shapes for these input shapes. Built-in layers compute them without
    /// computing anything; the default does what Keras 3 does for a layer without a shape
    /// rule: it runs [`Layer::forward`] (not training) on zero inputs of the layer's dtype,
    /// with unknown sizes set to two different values, and marks the output sizes that follow
    /// them `None` (see [`trace::infer_output_shapes`](super::trace::infer_output_shapes)).
    fn compute_output_shape(&self, input_shapes: &[Shape]) -> Result<Vec<Shape>> {
        let dtypes = vec![self.args().dtype.unwrap_or(DType::F32); input_shapes.len()];
        let ctx = CallCtx {
            name: self.class_name(),
            training: false,
            masks: &[],
        };
        let _mode = context::set_training(false);
        let f = |xs: &[Tensor]| tracker::inside_layer(|| self.forward(xs, &ctx));
        let out = super::trace::infer_output_shapes(&f, input_shapes, &dtypes)?;
        Ok(out.into_iter().map(|(s, _)| s).collect())
    }
    /// The output dtypes; by default the layer's dtype (float32) for every output.
    fn compute_output_dtype(&self, _input_dtypes: &[DType], n_outputs: usize) -> Vec<DType> {
        vec![self.args().dtype.unwrap_or(DType::F32); n_outputs]
    }
    /// Computes the outputs from real tensors (Keras's `Layer.call`; named `forward` here so
    /// it does not clash with [`LayerExt::call`], which calls a layer on symbolic tensors).
    fn forward(&self, inputs: &[Tensor], ctx: &CallCtx) -> Result<Vec<Tensor>>;
    /// Whether a mixed-precision policy runs this layer in float32: its floating inputs cast
    /// up, its weights read as they are, its outputs cast back to the compute dtype (Keras's
    /// normalization layers compute their statistics in float32 this way).
    fn compute_in_float32(&self) -> bool {
        false
    }
    /// Whether the layer keeps (and may use) the masks of its inputs; masks reaching a layer
    /// that does not are dropped, as in Keras.
    fn supports_masking(&self) -> bool {
        false
    }
    /// The masks of the outputs (asked only when [`Layer::supports_masking`]); by default the
    /// first input's mask for the first output.
    fn compute_mask(
        &self,
        _inputs: &[Tensor],
        masks: &[Option<Tensor>],
    ) -> Result<Vec<Option<Tensor>>> {
        Ok(vec![masks.first().cloned().flatten()])
    }
    /// [`Layer::forward`] and the output masks. Models override it to carry masks through their
    /// graph.
    fn forward_masked(
        &self,
        inputs: &[Tensor],
        ctx: &CallCtx,
    ) -> Result<(Vec<Tensor>, Vec<Option<Tensor>>)> {
        let outs = self.forward(inputs, ctx)?;
        let mut masks = if self.supports_masking() {
            self.compute_mask(inputs, ctx.masks)?
        } else {
            vec![]
        };
        masks.resize(outs.len(), None);
        Ok((outs, masks))
    }
    /// The output of `next` on this layer's output, computed in one call, when this layer
    /// can fold `next` into its own, as a convolution does with the pooling after it (its
    /// output then never leaves the cache where no gradient is taken,
    /// [`crate::engine::context::inference`], and its gradient never becomes a tensor in
    /// training). `None` (the default) runs the two one after the other. A model asks only
    /// where `next`'s one input is this layer's one output, nothing else reads it and no mask
    /// is carried; values and gradients must equal those of the two layers run apart. Keras
    /// has no such hook (XLA fuses for it).
    fn forward_fused(
        &self,
        _inputs: &[Tensor],
        _next: &dyn Layer,
        _ctx: &CallCtx,
    ) -> Option<Result<Vec<Tensor>>> {
        None
    }
    /// Whether [`Layer::forward_fused`] may fold `next` in, from the two layers' settings
    /// alone: a model asks once, when it plans its graph, so a pair that never fuses costs
    /// nothing per call (the default: no layer fuses). `forward_fused` may still decline at
    /// call time (another device, dtype or mode).
    fn fuses_with(&self, _next: &dyn Layer) -> bool {
        false
    }
    /// The layer's own arguments as Keras's `get_config()` writes them (the engine adds
    /// `name`, `trainable` and `dtype`). Layers that cannot be serialized yet say so.
    fn get_config(&self) -> Result<Config> {
        Err(Error::value(format!(
            "Layer class {} cannot be saved to a Keras config yet",
            self.class_name()
        )))
    }
    /// The base keys of its config (`name`, `trainable`, `dtype`, as the engine fills them),
    /// for the few Keras classes that write fewer or other ones (`InputLayer`: name only).
    fn base_config(&self, base: Config) -> Config {
        base
    }
    /// Keras's `build_config` for the shapes the layer was built with: `{"input_shape": ...}`.
    /// A layer whose Keras call takes its tensors as separate arguments names them instead
    /// (`MultiHeadAttention`: `{"shapes_dict": {"query_shape": ..., "value_shape": ...}}`).
    fn build_config(&self, input_shapes: &[Shape]) -> Value {
        super::config::input_shape_build_config(input_shapes)
    }
    /// A call's serialized input tensors as Keras writes a node: `(args, kwargs)`. By default
    /// one tensor, or one list of tensors, as the single argument.
    fn call_config(&self, inputs: Vec<Value>) -> (Value, Value) {
        crate::serialization::single_argument_call(inputs)
    }
    /// The layer as a model config lists it (Keras's `serialize_keras_object`): by default
    /// [`config::serialize_layer`](super::config::serialize_layer), `{module, class_name,
    /// config, build_config}` from [`Layer::get_config`] and the base keys. `handle` is the
    /// layer's own [`LayerRef`] (its name, trainable flag and build shapes). Models write their
    /// own (`Functional`: `layers`, `input_layers`, ...). A program's own layer type is written
    /// as Keras writes a custom class: `module` is the type's module path (`my_app.layers`), and
    /// `registered_name` its class name, the key Keras's `custom_objects` and our registry find
    /// it by.
    fn serialize(&self, handle: &LayerRef) -> Result<Value> {
        let mut v = super::config::serialize_layer(self, handle)?;
        if let (Some(module), Value::Object(m)) =
            (user_module(std::any::type_name::<Self>()), &mut v)
        {
            m.insert("module".into(), Value::String(module));
            m.insert(
                "registered_name".into(),
                Value::String(self.class_name().to_string()),
            );
        }
        Ok(v)
    }
    /// Where this layer's variables go in a Keras weights file, given its own weights (in
    /// creation order) and name: by default all at `<path>/vars`. Layers whose Keras
    /// counterpart keeps them on inner objects (an RNN's `cell`, a wrapper's `layer`) say so.
    fn var_group(&self, name: &str, own: &[Weight]) -> VarGroup {
        VarGroup::layer(name, own)
    }
    /// Layers this layer contains (a model's layers, a wrapper's inner layer).
    fn sublayers(&self) -> Vec<LayerRef> {
        vec![]
    }
    /// Whether this layer is a model (Functional, Sequential, subclassed); the summary shows
    /// models differently.
    fn is_model(&self) -> bool {
        false
    }
    /// Whether this is an op node (a `keras.ops` call on symbolic tensors, Keras's
    /// `Operation` that is not a `Layer`): such nodes are in a model's
    /// [`operations`](crate::models::Model::operations) but not its
    /// [`layers`](crate::models::Model::layers).
    fn is_operation(&self) -> bool {
        false
    }
    /// Whether this layer's outputs are strings (Keras's dtype `"string"`), carried as the
    /// `(..., max_bytes)` `u8` byte tensors of [`crate::ops::strings`]: a string `Input`, an
    /// inverting `StringLookup`.
    fn string_output(&self) -> bool {
        false
    }
    /// Whether this layer takes strings (`TextVectorization`, `StringLookup`): a `Sequential`
    /// that starts with it and has no `Input` builds a string input from the first data.
    fn string_input(&self) -> bool {
        false
    }
    /// Writes the files this layer keeps beside its weights in a `.keras` archive (Keras's
    /// `save_assets`, e.g. a lookup layer's `vocabulary.txt`) into `dir`, by path relative to
    /// the layer's asset folder (`assets/layers/<layer>/`).
    fn save_assets(&self, _dir: &mut Assets) -> Result<()> {
        Ok(())
    }
    /// Reads back what [`Layer::save_assets`] wrote (Keras's `load_assets`): `dir` holds the
    /// files under the layer's asset folder, by relative path.
    fn load_assets(&mut self, _dir: &Assets) -> Result<()> {
        Ok(())
    }
    /// Writes values Keras's `save_own_variables` stores under their own names rather than as
    /// numbered weights (e.g. a lookup layer's `vars/idf_weights`) into the layer's group of
    /// the weights file. The numbered weights of [`Layer::var_group`] are written separately.
    fn save_own_variables(&self, _group: &mut Group) -> Result<()> {
        Ok(())
    }
    /// Reads what [`Layer::save_own_variables`] wrote, from the layer's group of the weights
    /// file (Keras's `load_own_variables`); runs before [`Layer::load_assets`], as in Keras.
    fn load_own_variables(&mut self, _group: &Group) -> Result<()> {
        Ok(())
    }
}

/// `Linear` for `my_crate::layers::Linear<f32>`.
fn short_type_name(full: &'static str) -> &'static str {
    let path = full.split('<').next().unwrap_or(full);
    path.rsplit("::").next().unwrap_or(path)
}

/// The module of a type defined outside this crate, as Keras writes a custom class's
/// (`my_app.layers` for `my_app::layers::Linear`); `None` for this crate's own types.
fn user_module(full: &str) -> Option<String> {
    let path = full.split('<').next().unwrap_or(full);
    if path.starts_with("keras::") {
        return None;
    }
    let module = path.rsplit_once("::").map_or("", |(m, _)| m);
    Some(module.replace("::", "."))
}

static NEXT_LAYER_ID: AtomicU64 = AtomicU64::new(1);

struct State {
    built: bool,
    weights: Vec<Weight>,
    trainable: bool,
    nodes: Vec<Weak<Node>>,
    build_shapes: Option<Vec<Shape>>,
    /// The dtype policy the layer was made under, when it was given no `dtype` and the
    /// global one is not plain float32 ([`crate::mixed_precision::set_global_policy`]).
    policy: Option<DTypePolicy>,
}

struct Cell {
    id: u64,
    name: RwLock<String>,
    class_name: String,
    state: RwLock<State>,
    imp: RwLock<Box<dyn Layer>>,
}

/// A shared handle to a layer. Cloning it gives another handle to the same layer and weights.
#[derive(Clone)]
pub struct LayerRef(Arc<Cell>);

fn read<T: ?Sized>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T: ?Sized>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}

impl LayerRef {
    /// Wraps a layer, giving it its name (`args.name`, or the next `dense`, `dense_1`, ...).
    pub fn new<L: Layer>(layer: L) -> LayerRef {
        let class_name = layer.class_name().to_string();
        let name = layer
            .args()
            .name
            .clone()
            .unwrap_or_else(|| naming::unique_name(&naming::to_snake_case(&class_name)));
        let trainable = layer.args().trainable.unwrap_or(true);
        let policy = Some(crate::mixed_precision::global_policy()).filter(|p| {
            layer.args().dtype.is_none() && (p.variable_dtype() != DType::F32 || p.is_mixed())
        });
        LayerRef(Arc::new(Cell {
            id: NEXT_LAYER_ID.fetch_add(1, Ordering::Relaxed),
            name: RwLock::new(name),
            class_name,
            state: RwLock::new(State {
                built: false,
                weights: vec![],
                trainable,
                nodes: vec![],
                build_shapes: None,
                policy,
            }),
            imp: RwLock::new(Box::new(layer)),
        }))
    }

    /// The dtype policy the layer was made under when it is not plain float32 (a global
    /// [`crate::mixed_precision::set_global_policy`] and no `dtype` of its own).
    pub fn dtype_policy(&self) -> Option<DTypePolicy> {
        read(&self.0.state).policy.clone()
    }

    /// Sets the policy a config names (a layer read from a file made under a mixed policy);
    /// `None` keeps the one the layer was made with.
    pub(crate) fn set_dtype_policy(&self, policy: Option<DTypePolicy>) {
        if let Some(p) = policy {
            write(&self.0.state).policy = Some(p);
        }
    }

    /// The layer's unique name.
    pub fn name(&self) -> String {
        read(&self.0.name).clone()
    }

    /// Renames the layer (a model's `.name(..)`); weights keep their paths.
    pub(crate) fn set_name(&self, name: &str) {
        *write(&self.0.name) = name.to_string();
    }

    /// The Keras class name (`Dense`, `Functional`, ...).
    pub fn class_name(&self) -> &str {
        &self.0.class_name
    }

    /// A unique id.
    pub fn id(&self) -> u64 {
        self.0.id
    }

    /// Whether two handles name the same layer.
    pub fn same(&self, other: &LayerRef) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Runs `f` on the layer as its concrete type, if it is a `T`.
    ///
    /// ```
    /// use keras::prelude::*;
    /// let d = Dense::new(8).into_layer();
    /// assert_eq!(d.with(|d: &Dense| d.units()), Some(8));
    /// ```
    pub fn with<T: Layer, R>(&self, f: impl FnOnce(&T) -> R) -> Option<R> {
        let g = read(&self.0.imp);
        let any: &dyn Any = g.as_ref();
        any.downcast_ref::<T>().map(f)
    }

    /// Runs `f` on the layer as its concrete type, mutably, if it is a `T`.
    pub fn with_mut<T: Layer, R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        let mut g = write(&self.0.imp);
        let any: &mut dyn Any = g.as_mut();
        any.downcast_mut::<T>().map(f)
    }

    /// Runs `f` on the layer as a trait object.
    pub fn with_dyn<R>(&self, f: impl FnOnce(&dyn Layer) -> R) -> R {
        f(read(&self.0.imp).as_ref())
    }

    /// Runs `f` on the layer as a mutable trait object (how loading hands a layer its assets).
    pub fn with_dyn_mut<R>(&self, f: impl FnOnce(&mut dyn Layer) -> R) -> R {
        f(write(&self.0.imp).as_mut())
    }

    /// The layer as Keras serializes it in a model config ([`Layer::serialize`]): for a
    /// layer `{module, class_name, config, build_config}`, for a nested model its whole
    /// config.
    ///
    /// ```
    /// use keras::prelude::*;
    /// let v = Dense::new(4).activation("relu").into_layer().serialize()?;
    /// assert_eq!((v["class_name"].as_str(), v["config"]["activation"].as_str()), (Some("Dense"), Some("relu")));
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn serialize(&self) -> Result<Value> {
        self.with_dyn(|x| x.serialize(self))
    }

    /// Whether `build` has run.
    pub fn built(&self) -> bool {
        read(&self.0.state).built
    }

    /// The input shapes the layer was built for.
    pub fn build_shapes(&self) -> Option<Vec<Shape>> {
        read(&self.0.state).build_shapes.clone()
    }

    /// Builds the layer for these input shapes (batch axis included), if not built yet.
    pub fn build(&self, input_shapes: &[Shape]) -> Result<()> {
        if self.built() {
            return Ok(());
        }
        self.check_inputs(input_shapes)?;
        let mut imp = write(&self.0.imp);
        let mut st = write(&self.0.state);
        if st.built {
            return Ok(());
        }
        let dtype = imp.args().dtype.unwrap_or_else(|| {
            st.policy
                .as_ref()
                .map_or(DType::F32, DTypePolicy::variable_dtype)
        });
        let mut wb = WeightBuilder::new(&self.name(), dtype);
        imp.build(input_shapes, &mut wb)?;
        let frozen = !st.trainable;
        for w in &wb.weights {
            w.set_frozen(frozen);
        }
        st.weights = wb.weights;
        st.built = true;
        st.build_shapes = Some(input_shapes.to_vec());
        Ok(())
    }

    /// Marks a container layer built without creating weights (its sublayers hold them).
    pub(crate) fn mark_built(&self, input_shapes: &[Shape]) {
        let mut st = write(&self.0.state);
        st.built = true;
        st.build_shapes = Some(input_shapes.to_vec());
    }

    fn check_inputs(&self, shapes: &[Shape]) -> Result<()> {
        if shapes.is_empty() {
            return Err(Error::value(format!(
                "Layer \"{}\" was called with no inputs; it needs at least one tensor",
                self.name()
            )));
        }
        let specs = read(&self.0.imp).input_spec();
        for (i, (spec, s)) in specs.iter().zip(shapes).enumerate() {
            spec.check(&self.name(), i, s)?;
        }
        Ok(())
    }

    /// Calls the layer on its inputs, building it if needed, and records the node: Keras's
    /// `layer(x)` or `layer([a, b])`. The inputs are one tensor or several ([`CallInputs`]);
    /// the result is the layer's single output (a layer with several outputs is an error
    /// naming it: use [`LayerRef::call_many`]).
    ///
    /// ```
    /// use keras::prelude::*;
    /// use keras::layers::Add;
    /// let (a, b) = (Input::new([4]), Input::new([4]));
    /// let add = Add::new().into_layer();
    /// let s = add.call(&[a, b])?;
    /// assert_eq!(s.shape().to_string(), "(None, 4)");
    /// let dense = Dense::new(2).into_layer();
    /// assert_eq!(dense.call(&s)?.shape().to_string(), "(None, 2)");
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn call(&self, inputs: impl CallInputs) -> Result<KerasTensor> {
        let mut out = self.call_many(inputs)?;
        if out.len() != 1 {
            return Err(Error::value(format!(
                "Layer \"{}\" returns {} outputs, but `call` returns one tensor; use call_many to \
                 get them all",
                self.name(),
                out.len()
            )));
        }
        Ok(out.remove(0))
    }

    /// Calls the layer on its inputs (one tensor or several, [`CallInputs`]), returning every
    /// output (an RNN with `return_state`, ...).
    ///
    /// ```
    /// use keras::prelude::*;
    /// use keras::layers::GRU;
    /// let outs = GRU::new(8).return_state(true).into_layer().call_many(&Input::new((None, 3)))?;
    /// assert_eq!(outs.len(), 2);
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn call_many(&self, inputs: impl CallInputs) -> Result<Vec<KerasTensor>> {
        let xs = inputs.into_inputs();
        let shapes: Vec<Shape> = xs.iter().map(|x| x.shape().clone()).collect();
        let dtypes: Vec<DType> = xs.iter().map(|x| x.dtype()).collect();
        self.check_inputs(&shapes)?;
        self.build(&shapes)?;
        let (out_shapes, out_dtypes) = {
            let imp = read(&self.0.imp);
            let s = imp
                .compute_output_shape(&shapes)
                .map_err(|e| self.annotate(e))?;
            let d = imp.compute_output_dtype(&dtypes, s.len());
            (s, d)
        };
        Ok(self.add_node(xs, out_shapes, out_dtypes))
    }

    /// Records a node with these inputs and outputs; returns the output tensors.
    pub(crate) fn add_node(
        &self,
        inputs: Vec<KerasTensor>,
        shapes: Vec<Shape>,
        dtypes: Vec<DType>,
    ) -> Vec<KerasTensor> {
        let mut st = write(&self.0.state);
        let n = shapes.len();
        let outputs = shapes
            .into_iter()
            .zip(dtypes)
            .enumerate()
            .map(|(i, (s, d))| {
                let base = self.name();
                let name = if n == 1 && st.nodes.is_empty() && i == 0 {
                    base
                } else {
                    format!("{base}_{}", st.nodes.len() * n + i)
                };
                TensorDesc::new(s, d, name)
            })
            .collect();
        let node = Arc::new(Node {
            layer: self.clone(),
            inputs,
            outputs,
            index: st.nodes.len(),
        });
        st.nodes.push(Arc::downgrade(&node));
        node.outputs()
    }

    /// Runs the layer on a real tensor (building it on first use); training mode comes from the
    /// current call context.
    pub fn apply(&self, x: &Tensor) -> Result<Tensor> {
        let mut out = self.apply_many(std::slice::from_ref(x))?;
        if out.len() != 1 {
            return Err(Error::value(format!(
                "layer \"{}\" returns {} outputs; use apply_many",
                self.name(),
                out.len()
            )));
        }
        Ok(out.remove(0))
    }

    /// Runs the layer on real tensors, returning every output.
    pub fn apply_many(&self, xs: &[Tensor]) -> Result<Vec<Tensor>> {
        let shapes: Vec<Shape> = xs.iter().map(|x| Shape::known(x.dims())).collect();
        self.prepare_apply(&shapes)?;
        tracker::inside_layer(|| self.run(xs, &shapes, context::training()))
    }

    /// Reports the layer to the [`tracker`] (how a subclassed model finds its layers) and
    /// builds it on first use from the real tensors' shapes, with a `None` batch axis while
    /// a model is traced for an unknown batch size (as Keras builds from symbolic shapes).
    fn prepare_apply(&self, shapes: &[Shape]) -> Result<()> {
        tracker::report(self);
        if self.built() {
            return Ok(());
        }
        if !tracker::unknown_batch() {
            return self.build(shapes);
        }
        let unbatched: Vec<Shape> = shapes
            .iter()
            .map(|s| {
                let mut d = s.0.clone();
                if let Some(b) = d.first_mut() {
                    *b = None;
                }
                Shape(d)
            })
            .collect();
        self.build(&unbatched)
    }

    /// Runs the layer on real tensors with their masks (one per input, `None` for no mask),
    /// returning the outputs and their masks: how a wrapper runs its inner layer.
    ///
    /// ```
    /// use keras::prelude::*;
    /// let emb = Embedding::new(10, 4).mask_zero(true).into_layer();
    /// let ids = Tensor::new(&[[3i64, 5, 0, 0]], &Device::Cpu)?;
    /// let (_, masks) = emb.apply_masked(&[ids], &[None])?;
    /// assert_eq!(masks[0].as_ref().unwrap().to_vec2::<f32>()?, vec![vec![1.0, 1.0, 0.0, 0.0]]);
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn apply_masked(
        &self,
        xs: &[Tensor],
        masks: &[Option<Tensor>],
    ) -> Result<(Vec<Tensor>, Vec<Option<Tensor>>)> {
        let shapes: Vec<Shape> = xs.iter().map(|x| Shape::known(x.dims())).collect();
        self.prepare_apply(&shapes)?;
        tracker::inside_layer(|| self.run_masked(xs, &shapes, context::training(), masks))
    }

    /// Runs an already-built layer (the graph executor's entry point): checks the input spec
    /// on the real shapes, then calls.
    pub(crate) fn run(
        &self,
        xs: &[Tensor],
        shapes: &[Shape],
        training: bool,
    ) -> Result<Vec<Tensor>> {
        self.check_inputs(shapes)?;
        let imp = read(&self.0.imp);
        let name = self.name();
        let ctx = CallCtx {
            name: &name,
            training,
            masks: &[],
        };
        let mixed = self.mixed(imp.as_ref());
        mixed
            .run(xs, |xs| imp.forward(xs, &ctx))
            .and_then(|out| follow_inputs(xs, out))
            .map_err(|e| e.in_call(self.class_name(), &name, imp.is_model(), xs))
    }

    /// How a call of this layer handles dtypes under its policy.
    fn mixed(&self, imp: &dyn Layer) -> Mixed {
        match &read(&self.0.state).policy {
            Some(p) if p.is_mixed() && !imp.is_model() => Mixed {
                compute: Some(p.compute_dtype()),
                in_f32: imp.compute_in_float32(),
            },
            _ => Mixed {
                compute: None,
                in_f32: false,
            },
        }
    }

    /// [`LayerRef::run`] with input masks, returning the output masks too.
    pub(crate) fn run_masked(
        &self,
        xs: &[Tensor],
        shapes: &[Shape],
        training: bool,
        masks: &[Option<Tensor>],
    ) -> Result<(Vec<Tensor>, Vec<Option<Tensor>>)> {
        self.check_inputs(shapes)?;
        let imp = read(&self.0.imp);
        let name = self.name();
        let ctx = CallCtx {
            name: &name,
            training,
            masks,
        };
        let mixed = self.mixed(imp.as_ref());
        let mut out_masks = vec![];
        mixed
            .run(xs, |xs| {
                let (out, masks) = imp.forward_masked(xs, &ctx)?;
                out_masks = masks;
                Ok(out)
            })
            .and_then(|out| Ok((follow_inputs(xs, out)?, out_masks)))
            .map_err(|e| e.in_call(self.class_name(), &name, imp.is_model(), xs))
    }

    /// Whether this layer may compute `next` in its own call ([`Layer::fuses_with`]).
    pub(crate) fn fuses_with(&self, next: &LayerRef) -> bool {
        !self.same(next) && read(&self.0.imp).fuses_with(read(&next.0.imp).as_ref())
    }

    /// `next`'s outputs on this layer's outputs for `xs` in one call ([`Layer::forward_fused`]),
    /// or `None` where this layer does not fold `next` in.
    pub(crate) fn run_fused(
        &self,
        next: &LayerRef,
        xs: &[Tensor],
        shapes: &[Shape],
        training: bool,
    ) -> Option<Result<Vec<Tensor>>> {
        if self.same(next) {
            return None;
        }
        if let Err(e) = self.check_inputs(shapes) {
            return Some(Err(e));
        }
        let (imp, next_imp) = (read(&self.0.imp), read(&next.0.imp));
        let name = self.name();
        let ctx = CallCtx {
            name: &name,
            training,
            masks: &[],
        };
        if self.mixed(imp.as_ref()).compute.is_some()
            || next.mixed(next_imp.as_ref()).compute.is_some()
        {
            // The fused kernels compute in float32 / float64 only.
            return None;
        }
        imp.forward_fused(xs, next_imp.as_ref(), &ctx)
            .map(|r| r.map_err(|e| e.in_call(self.class_name(), &name, imp.is_model(), xs)))
    }

    /// A backend error raised while the layer computes its output shape, in the form of
    /// [`Error::in_call`] (other errors there name the layer already).
    fn annotate(&self, e: Error) -> Error {
        match e {
            Error::Backend(_) => e.in_call(self.class_name(), &self.name(), false, &[]),
            other => other,
        }
    }

    /// The layer's own weights followed by those of its sublayers (each weight once).
    pub fn weights(&self) -> Vec<Weight> {
        let mut out: Vec<Weight> = read(&self.0.state).weights.clone();
        for sub in self.sublayers() {
            for w in sub.weights() {
                if !out.iter().any(|o| o.same(&w)) {
                    out.push(w);
                }
            }
        }
        out
    }

    /// The weights the optimizer updates (none when the layer is frozen).
    pub fn trainable_weights(&self) -> Vec<Weight> {
        if !self.trainable() {
            return vec![];
        }
        self.weights()
            .into_iter()
            .filter(|w| w.trainable())
            .collect()
    }

    /// The weights the optimizer leaves alone.
    pub fn non_trainable_weights(&self) -> Vec<Weight> {
        if !self.trainable() {
            return self.weights();
        }
        self.weights()
            .into_iter()
            .filter(|w| !w.trainable())
            .collect()
    }

    /// Number of scalars in all weights.
    pub fn count_params(&self) -> usize {
        self.weights().iter().map(Weight::numel).sum()
    }

    /// Copies of the weights' values, in `weights()` order.
    pub fn get_weights(&self) -> Result<Vec<Tensor>> {
        self.weights().iter().map(Weight::numpy).collect()
    }

    /// Sets every weight, in `weights()` order; shapes must match.
    pub fn set_weights(&self, values: &[Tensor]) -> Result<()> {
        let ws = self.weights();
        if ws.len() != values.len() {
            return Err(Error::value(format!(
                "You called `set_weights(weights)` on layer \"{}\" with a weight list of length {}, \
                 but the layer was expecting {} weights.",
                self.name(),
                values.len(),
                ws.len()
            )));
        }
        for (w, v) in ws.iter().zip(values) {
            w.assign(v)?;
        }
        Ok(())
    }

    /// Whether the layer's weights are trained.
    pub fn trainable(&self) -> bool {
        read(&self.0.state).trainable
    }

    /// Freezes (`false`) or unfreezes the layer and, recursively, its sublayers.
    pub fn set_trainable(&self, trainable: bool) {
        {
            let mut st = write(&self.0.state);
            st.trainable = trainable;
            for w in &st.weights {
                w.set_frozen(!trainable);
            }
        }
        for sub in self.sublayers() {
            sub.set_trainable(trainable);
        }
    }

    /// This layer's node in a Keras weights file (see [`VarGroup`]).
    pub fn var_group(&self) -> VarGroup {
        let own = read(&self.0.state).weights.clone();
        read(&self.0.imp).var_group(&self.name(), &own)
    }

    /// Layers inside this one (a model's layers).
    pub fn sublayers(&self) -> Vec<LayerRef> {
        read(&self.0.imp).sublayers()
    }

    /// Whether this layer is a model.
    pub fn is_model(&self) -> bool {
        read(&self.0.imp).is_model()
    }

    /// Whether this is an op node (see [`Layer::is_operation`]).
    pub fn is_operation(&self) -> bool {
        read(&self.0.imp).is_operation()
    }

    /// The nodes (calls) of this layer that still exist, in call order.
    pub fn inbound_nodes(&self) -> Vec<Arc<Node>> {
        read(&self.0.state)
            .nodes
            .iter()
            .filter_map(Weak::upgrade)
            .collect()
    }

    fn only_node(&self, what: &str) -> Result<Arc<Node>> {
        let nodes = self.inbound_nodes();
        match nodes.len() {
            1 => Ok(nodes[0].clone()),
            0 => Err(Error::value(format!("The layer \"{}\" has never been called and thus has no defined {what}.", self.name()))),
            n => Err(Error::value(format!(
                "The layer \"{}\" has multiple inbound nodes ({n}); its {what} is ill-defined. Use the \
                 outputs of a specific call instead.",
                self.name()
            ))),
        }
    }

    /// The output of the layer's single call (Keras's `layer.output`).
    pub fn output(&self) -> Result<KerasTensor> {
        let node = self.only_node("output")?;
        Ok(node.output(0))
    }

    /// The input of the layer's single call (Keras's `layer.input`).
    pub fn input(&self) -> Result<KerasTensor> {
        let node = self.only_node("input")?;
        if node.inputs.is_empty() {
            return Ok(node.output(0));
        }
        Ok(node.inputs[0].clone())
    }

    /// The output shape of the layer's calls, or from its build shapes.
    pub fn output_shape(&self) -> Option<Vec<Shape>> {
        if let Some(n) = self.inbound_nodes().last() {
            return Some(n.output_shapes());
        }
        let shapes = self.build_shapes()?;
        read(&self.0.imp).compute_output_shape(&shapes).ok()
    }
}

impl std::fmt::Debug for LayerRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "<{} name={}, built={}>",
            self.class_name(),
            self.name(),
            self.built()
        )
    }
}

impl<L: Layer> From<L> for LayerRef {
    fn from(l: L) -> Self {
        LayerRef::new(l)
    }
}

/// Builder methods and calls shared by every layer type (in the prelude).
///
/// ```
/// use keras::prelude::*;
/// let inputs = Input::new(&[4]);
/// let out = Dense::new(2).name("head").call(&inputs)?;
/// assert_eq!(out.layer().name(), "head");
/// # Ok::<(), keras::Error>(())
/// ```
pub trait LayerExt: Layer + Sized {
    /// Wraps the layer in a shared handle (to call it several times, or to keep it).
    fn into_layer(self) -> LayerRef {
        LayerRef::new(self)
    }
    /// Calls the layer on one symbolic tensor or several (`&x`, `&[a, b]`: [`CallInputs`]),
    /// returning its single output ([`LayerRef::call`]).
    ///
    /// ```
    /// use keras::prelude::*;
    /// use keras::layers::Concatenate;
    /// let (a, b) = (Input::new([3]), Input::new([5]));
    /// let y = Concatenate::new(-1).call(&[a, b])?;
    /// assert_eq!(y.shape().to_string(), "(None, 8)");
    /// # Ok::<(), keras::Error>(())
    /// ```
    fn call(self, inputs: impl CallInputs) -> Result<KerasTensor> {
        self.into_layer().call(inputs)
    }
    /// Calls the layer on one symbolic tensor or several, returning every output
    /// ([`LayerRef::call_many`]).
    fn call_many(self, inputs: impl CallInputs) -> Result<Vec<KerasTensor>> {
        self.into_layer().call_many(inputs)
    }
    /// Sets the layer's name.
    fn name(mut self, name: &str) -> Self {
        self.args_mut().name = Some(name.to_string());
        self
    }
    /// Sets the shape of one input sample (Keras's `input_shape=`).
    fn input_shape(mut self, dims: impl IntoDims) -> Self {
        self.args_mut().input_shape = Some(dims.into_dims());
        self
    }
    /// Sets whether the weights are trained.
    fn trainable(mut self, trainable: bool) -> Self {
        self.args_mut().trainable = Some(trainable);
        self
    }
    /// Sets the dtype of weights and outputs.
    fn dtype(mut self, dtype: DType) -> Self {
        self.args_mut().dtype = Some(dtype);
        self
    }
}

impl<L: Layer + Sized> LayerExt for L {}

/// Outputs on the device of the first input: a layer that computes on the host (a string
/// lookup, a preprocessing step) hands a model on a GPU its result there. A no-op on the CPU.
fn follow_inputs(xs: &[Tensor], out: Vec<Tensor>) -> Result<Vec<Tensor>> {
    match xs.first().map(Tensor::device) {
        Some(d) if !d.is_cpu() && out.iter().any(|t| !t.device().same_device(d)) => {
            out.iter().map(|t| Ok(t.to_device(d)?)).collect()
        }
        _ => Ok(out),
    }
}

/// A call's dtype handling under a mixed policy: `compute` is the policy's compute dtype
/// (`None`: no policy, the call runs as it is).
struct Mixed {
    compute: Option<DType>,
    in_f32: bool,
}

impl Mixed {
    /// Runs `f` on the inputs cast to the compute dtype (float32 for a layer that computes in
    /// float32) inside Keras's autocast scope, and casts such a layer's outputs back.
    fn run(
        &self,
        xs: &[Tensor],
        f: impl FnOnce(&[Tensor]) -> Result<Vec<Tensor>>,
    ) -> Result<Vec<Tensor>> {
        let Some(compute) = self.compute else {
            return f(xs);
        };
        let inner = if self.in_f32 { DType::F32 } else { compute };
        let cast = |ts: &[Tensor], to: DType| -> Result<Vec<Tensor>> {
            ts.iter()
                .map(|t| {
                    Ok(if t.dtype().is_float() && t.dtype() != to {
                        t.to_dtype(to)?
                    } else {
                        t.clone()
                    })
                })
                .collect()
        };
        let xs = cast(xs, inner)?;
        let _scope = crate::mixed_precision::AutocastScope::new((!self.in_f32).then_some(compute));
        let out = f(&xs)?;
        if self.in_f32 {
            cast(&out, compute)
        } else {
            Ok(out)
        }
    }
}
