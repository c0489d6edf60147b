//! Weights (Keras "variables"): a candle `Var` with a name, a trainable flag and an optional
//! regularizer, shared by handle between the layer, its model and the optimizer.

use super::shape::{IntoDims, Shape};
use crate::initializers::{Initialize, InitializerArg};
use crate::ops::{DType, Device, Tensor, Var};
use crate::{Error, Result};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// A weight penalty that joins the loss (implemented by `keras::regularizers`).
pub trait Penalize: Send + Sync + std::fmt::Debug {
    /// The penalty for the weight's current value: a scalar tensor with gradient.
    fn penalty(&self, w: &Tensor) -> Result<Tensor>;
    /// Keras's serialized form (`{"class_name": "L2", "config": {"l2": 0.01}, ...}`), or
    /// `None` for a penalty Keras cannot rebuild.
    fn get_config(&self) -> Option<serde_json::Value> {
        None
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// Weight values this thread may still create (set while a file is loaded: a config can
    /// not ask for more weights than the file holds values for).
    static BUDGET: std::cell::Cell<Option<u64>> = const { std::cell::Cell::new(None) };
}

/// Runs `f` with at most `values` weight values creatable on this thread (Keras files: the
/// weights file's size bounds them), so a corrupted or hostile config cannot make us allocate
/// without bound.
pub(crate) fn with_weight_budget<T>(values: u64, f: impl FnOnce() -> T) -> T {
    let before = BUDGET.with(|b| b.replace(Some(values)));
    let out = f();
    BUDGET.with(|b| b.set(before));
    out
}

fn take_budget(layer: &str, name: &str, shape: &[usize]) -> Result<()> {
    let n = shape
        .iter()
        .try_fold(1u64, |a, &d| a.checked_mul(d as u64))
        .unwrap_or(u64::MAX);
    BUDGET.with(|b| match b.get() {
        Some(left) if n > left => Err(Error::value(format!(
            "weight '{layer}/{name}' of shape {shape:?} is larger than the weights the file holds; \
             the model config does not match its weights"
        ))),
        Some(left) => {
            b.set(Some(left - n));
            Ok(())
        }
        None => Ok(()),
    })
}

/// A layer's weight. Cloning gives another handle to the same variable.
///
/// ```
/// use keras::prelude::*;
/// let dense = Dense::new(3).into_layer();
/// dense.build(&[Shape::batched(&[4])])?;
/// let w = &dense.weights()[0];
/// assert_eq!(w.path(), format!("{}/kernel", dense.name()));
/// assert_eq!(w.shape(), vec![4, 3]);
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone)]
pub struct Weight(Arc<Inner>);

struct Inner {
    id: u64,
    name: String,
    path: String,
    /// Replaced as a whole when the weight moves to another device.
    var: RwLock<Var>,
    trainable: bool,
    frozen: AtomicBool,
    regularizer: Option<Arc<dyn Penalize>>,
    sink: crate::ops::GradSink,
}

impl std::fmt::Debug for Weight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "<Weight path={} shape={:?} trainable={}>",
            self.0.path,
            self.shape(),
            self.trainable()
        )
    }
}

impl Weight {
    /// A new weight holding `value`. `path` is `layer_name/name`.
    pub fn new(
        name: &str,
        path: &str,
        value: Tensor,
        trainable: bool,
        regularizer: Option<Arc<dyn Penalize>>,
    ) -> Result<Self> {
        Ok(Weight(Arc::new(Inner {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            name: name.to_string(),
            path: path.to_string(),
            var: RwLock::new(Var::from_tensor(&value.contiguous()?)?),
            trainable,
            frozen: AtomicBool::new(false),
            regularizer,
            sink: Default::default(),
        })))
    }

    /// A unique id, stable for the weight's life (the optimizer keys its state by it).
    pub fn id(&self) -> u64 {
        self.0.id
    }

    /// The short name, e.g. `kernel`.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// The full path, e.g. `dense/kernel`.
    pub fn path(&self) -> &str {
        &self.0.path
    }

    /// Dimensions of the value.
    pub fn shape(&self) -> Vec<usize> {
        self.var().dims().to_vec()
    }

    /// Number of scalars.
    pub fn numel(&self) -> usize {
        self.var().elem_count()
    }

    /// Element type.
    pub fn dtype(&self) -> DType {
        self.var().dtype()
    }

    /// Whether the optimizer updates this weight (its own flag and its layer's).
    pub fn trainable(&self) -> bool {
        self.0.trainable && !self.0.frozen.load(Ordering::Relaxed)
    }

    /// Whether the weight was created trainable (a layer's `moving_mean` was not), whatever
    /// its layer's current `trainable` flag.
    pub fn created_trainable(&self) -> bool {
        self.0.trainable
    }

    pub(crate) fn set_frozen(&self, frozen: bool) {
        self.0.frozen.store(frozen, Ordering::Relaxed);
    }

    /// The value for use in a forward pass: tracked for gradients when trainable.
    pub fn value(&self) -> Tensor {
        let v = if self.trainable() {
            self.var().as_tensor().clone()
        } else {
            self.var().as_detached_tensor()
        };
        // Inside a mixed-precision layer's call, float variables are read in its compute
        // dtype (Keras's autocast scope); the cast has a gradient back to the variable.
        match crate::mixed_precision::autocast_dtype() {
            Some(d) if v.dtype().is_float() && v.dtype() != d => v.to_dtype(d).unwrap_or(v),
            _ => v,
        }
    }

    /// The underlying variable (another handle to it: a weight moved with
    /// [`Weight::to_device`] has a new one).
    pub fn var(&self) -> Var {
        self.0.var.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Moves the value to `device` (nothing happens when it is there). Handles to the weight
    /// see the move; tensors taken from it before keep the old device.
    ///
    /// ```
    /// use keras::prelude::*;
    /// let dense = Dense::new(3).into_layer();
    /// dense.build(&[Shape::batched(&[4])])?;
    /// let w = &dense.weights()[0];
    /// w.to_device(&Device::Cpu)?;
    /// assert!(w.device().is_cpu());
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn to_device(&self, device: &Device) -> Result<()> {
        let mut var = self.0.var.write().unwrap_or_else(|e| e.into_inner());
        if var.device().same_device(device) {
            return Ok(());
        }
        let moved = var.as_detached_tensor().to_device(device)?;
        *var = Var::from_tensor(&moved)?;
        Ok(())
    }

    /// A copy of the current value, detached from any graph.
    pub fn numpy(&self) -> Result<Tensor> {
        Ok(self.var().as_detached_tensor().copy()?)
    }

    /// Overwrites the value; the shape must match.
    pub fn assign(&self, value: &Tensor) -> Result<()> {
        if value.dims() != self.var().dims() {
            return Err(Error::shape(format!(
                "cannot assign a value of shape {} to weight '{}' of shape {}",
                super::shape::tuple(value.dims()),
                self.0.path,
                super::shape::tuple(self.var().dims())
            )));
        }
        let v = value.to_dtype(self.dtype())?.to_device(&self.device())?;
        self.var().set(&v)?;
        Ok(())
    }

    /// Whether the weight has a regularizer.
    pub fn has_regularizer(&self) -> bool {
        self.0.regularizer.is_some()
    }

    /// The regularization penalty of the current value, if the weight has a regularizer.
    pub fn penalty(&self) -> Result<Option<Tensor>> {
        match &self.0.regularizer {
            Some(r) => Ok(Some(r.penalty(&self.value())?)),
            None => Ok(None),
        }
    }

    /// Where fused ops put this weight's gradient during a training step (see
    /// [`crate::ops::enable_sinks`]).
    pub fn sink(&self) -> &crate::ops::GradSink {
        &self.0.sink
    }

    /// The device holding the value.
    pub fn device(&self) -> Device {
        self.var().device().clone()
    }

    /// Whether two handles name the same weight.
    pub fn same(&self, other: &Weight) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// The device of the first weight, or [`crate::config::device`] when there is none.
pub fn device_of(weights: &[Weight]) -> Device {
    weights
        .first()
        .map(|w| w.device())
        .unwrap_or_else(crate::config::device)
}

/// Creates a layer's weights during `build`, naming them `layer/name`, on the device
/// [`crate::config::device`] names when the layer is built (initializers compute on the host,
/// so a seed gives the same values on every device).
pub struct WeightBuilder {
    layer: String,
    dtype: DType,
    device: Device,
    pub(crate) weights: Vec<Weight>,
}

impl WeightBuilder {
    pub(crate) fn new(layer: &str, dtype: DType) -> Self {
        WeightBuilder {
            layer: layer.to_string(),
            dtype,
            device: crate::config::device(),
            weights: vec![],
        }
    }

    /// The device the weights go to.
    ///
    /// ```
    /// # use keras::prelude::*;
    /// # use keras::engine::{CallCtx, Layer, LayerArgs, WeightBuilder};
    /// # #[derive(Default)] struct K { args: LayerArgs }
    /// # #[keras::layer]
    /// # impl Layer for K {
    /// fn build(&mut self, _: &[Shape], w: &mut WeightBuilder) -> keras::Result<()> {
    ///     assert!(w.device().is_cpu());
    ///     Ok(())
    /// }
    /// # fn forward(&self, x: &[Tensor], _: &CallCtx) -> keras::Result<Vec<Tensor>> { Ok(x.to_vec()) }
    /// # }
    /// # K::default().into_layer().build(&[Shape::batched([2])])?;
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Adds a weight initialized by `init`; Keras's `add_weight`.
    pub fn add(
        &mut self,
        name: &str,
        shape: &[usize],
        init: &dyn Initialize,
        regularizer: Option<Arc<dyn Penalize>>,
        trainable: bool,
    ) -> Result<Weight> {
        take_budget(&self.layer, name, shape)?;
        let value = init.init(shape, self.dtype)?.to_device(&self.device)?;
        if value.dims() != shape {
            return Err(Error::shape(format!(
                "initializer {} made shape {:?} for weight '{}/{name}' of shape {shape:?}",
                init.class_name(),
                value.dims(),
                self.layer
            )));
        }
        let w = Weight::new(
            name,
            &format!("{}/{name}", self.layer),
            value,
            trainable,
            regularizer,
        )?;
        self.weights.push(w.clone());
        Ok(w)
    }

    /// Adds a trainable weight of `shape` with the initial values of `initializer`, a Keras
    /// name (`"glorot_uniform"`, `"zeros"`, `"random_normal"`, ...) or an initializer value;
    /// Keras's `self.add_weight(shape=..., initializer=..., name=...)`. Use
    /// [`WeightBuilder::default_initializer`] for Keras's default. Every dimension must be
    /// known.
    ///
    /// ```
    /// use keras::prelude::*;
    /// use keras::engine::{CallCtx, Layer, LayerArgs, Weight, WeightBuilder};
    /// #[derive(Default)]
    /// struct Scale { args: LayerArgs, w: Option<Weight> }
    /// #[keras::layer]
    /// impl Layer for Scale {
    ///     fn build(&mut self, s: &[Shape], w: &mut WeightBuilder) -> keras::Result<()> {
    ///         self.w = Some(w.add_weight("scale", [s[0].dim(-1)], "ones")?);
    ///         Ok(())
    ///     }
    ///     fn forward(&self, x: &[Tensor], _: &CallCtx) -> keras::Result<Vec<Tensor>> {
    ///         Ok(vec![x[0].broadcast_mul(&self.w.value()?)?])
    ///     }
    /// }
    /// let layer = Scale::default().into_layer();
    /// let y = layer.apply(&Tensor::new(&[[1f32, 2.0]], &Device::Cpu)?)?;
    /// assert_eq!(y.to_vec2::<f32>()?, vec![vec![1.0, 2.0]]);
    /// assert_eq!(layer.weights()[0].path(), "scale/scale");
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn add_weight(
        &mut self,
        name: &str,
        shape: impl IntoDims,
        initializer: impl Into<InitializerArg>,
    ) -> Result<Weight> {
        let dims = shape.into_dims();
        let Some(known) = dims.iter().copied().collect::<Option<Vec<usize>>>() else {
            return Err(Error::value(format!(
                "Shapes used to initialize variables must be fully-defined (no `None` \
                 dimensions). Received: shape={} for variable path='{}/{name}'",
                Shape(dims),
                self.layer
            )));
        };
        let init = initializer.into().resolve()?;
        self.add(name, &known, init.as_ref(), None, true)
    }

    /// Keras's default initializer for a weight of this layer's dtype: `"glorot_uniform"` for
    /// floating-point weights, `"zeros"` otherwise.
    ///
    /// ```
    /// # use keras::prelude::*;
    /// # use keras::engine::{CallCtx, Layer, LayerArgs, WeightBuilder};
    /// # #[derive(Default)] struct K { args: LayerArgs }
    /// # #[keras::layer]
    /// # impl Layer for K {
    /// fn build(&mut self, _: &[Shape], w: &mut WeightBuilder) -> keras::Result<()> {
    ///     assert_eq!(w.default_initializer(), "glorot_uniform");
    ///     w.add_weight("kernel", [2, 3], w.default_initializer())?;
    ///     Ok(())
    /// }
    /// # fn forward(&self, x: &[Tensor], _: &CallCtx) -> keras::Result<Vec<Tensor>> { Ok(x.to_vec()) }
    /// # }
    /// # K::default().into_layer().build(&[Shape::batched([2])])?;
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn default_initializer(&self) -> &'static str {
        if self.dtype.is_float() {
            "glorot_uniform"
        } else {
            "zeros"
        }
    }

    /// The name of the layer being built.
    pub fn layer_name(&self) -> &str {
        &self.layer
    }
}

/// The value of a weight a layer creates in `build` and keeps as `Option<Weight>`: an error,
/// not a panic, when the layer runs before it is built.
///
/// ```
/// use keras::engine::{OptionalWeight, Weight};
/// let w: Option<Weight> = None;
/// let e = w.value().unwrap_err().to_string();
/// assert!(e.contains("before the layer was built"), "{e}");
/// ```
pub trait OptionalWeight {
    /// The weight's [`Weight::value`].
    fn value(&self) -> Result<Tensor>;
}

impl OptionalWeight for Option<Weight> {
    fn value(&self) -> Result<Tensor> {
        self.as_ref().map(Weight::value).ok_or_else(|| {
            Error::value("A weight was used before the layer was built (its `build` creates it)")
        })
    }
}

/// The gradient of each weight after `loss.backward()`: from the weight's sink (fused ops
/// during a training step) plus candle's gradient store. Weights without a gradient are left
/// out, as Keras skips variables with no gradient.
pub fn gradients(
    grads: &candle_core::backprop::GradStore,
    weights: &[Weight],
) -> Result<Vec<(Tensor, Weight)>> {
    let mut out = Vec::with_capacity(weights.len());
    for w in weights {
        let g = match (w.sink().take(), grads.get(w.var().as_tensor())) {
            (Some(a), Some(b)) => Some((a + b)?),
            (a, b) => a.or_else(|| b.cloned()),
        };
        if let Some(g) = g {
            out.push((g, w.clone()));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::engine::{
        CallCtx, Layer, LayerArgs, LayerExt, OptionalWeight, Weight, WeightBuilder,
    };
    use crate::ops::{DType, Device, Tensor};
    use crate::{Result, Shape};

    /// `#[keras::layer]` inside the crate itself (`extern crate self as keras`).
    #[derive(Default)]
    struct Bias {
        args: LayerArgs,
        b: Option<Weight>,
    }

    #[crate::layer]
    impl Layer for Bias {
        fn build(&mut self, s: &[Shape], w: &mut WeightBuilder) -> Result<()> {
            let init = w.default_initializer();
            assert_eq!(init, "glorot_uniform");
            self.b = Some(w.add_weight("b", [s[0].dim(-1)], "ones")?);
            Ok(())
        }
        fn forward(&self, x: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
            Ok(vec![x[0].broadcast_add(&self.b.value()?)?])
        }
    }

    #[test]
    fn add_weight_by_name_in_a_layer_made_with_the_attribute() {
        let l = Bias::default().into_layer();
        assert_eq!(l.class_name(), "Bias");
        let x = Tensor::zeros((2, 3), DType::F32, &Device::Cpu).unwrap();
        let y = l.apply(&x).unwrap();
        assert_eq!(y.to_vec2::<f32>().unwrap(), vec![vec![1f32; 3]; 2]);
        let w = &l.weights()[0];
        assert_eq!((w.name(), w.shape(), w.trainable()), ("b", vec![3], true));
        // Integer weights default to zeros.
        let wb = WeightBuilder::new("int_layer", DType::I64);
        assert_eq!(wb.default_initializer(), "zeros");
    }
}
