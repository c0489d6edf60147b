//! `Input` and `InputLayer`: where a functional graph starts.

use crate::engine::config::{layer_object, parse_dtype_policy};
use crate::engine::{CallCtx, IntoDims, KerasTensor, Layer, LayerArgs, LayerRef, Shape};
use crate::ops::{dtype_name, shape_str, DType, Tensor};
use crate::serialization::{config, json, shape_value, Cfg, Config, Value};
use crate::Result;

/// The layer behind an [`Input`]: it holds the shape and dtype, and passes data through.
pub struct InputLayer {
    args: LayerArgs,
    shape: Shape,
    dtype: DType,
    string: bool,
}

impl InputLayer {
    /// An input layer for batches of samples of this shape (batch axis excluded).
    pub fn new(dims: impl IntoDims) -> Self {
        let mut s = vec![None];
        s.extend(dims.into_dims());
        InputLayer {
            args: LayerArgs::default(),
            shape: Shape(s),
            dtype: DType::F32,
            string: false,
        }
    }

    /// Whether it feeds strings (Keras's `dtype="string"`): `(batch, ..., max_bytes)` `u8`
    /// byte tensors, one axis more than its shape.
    pub fn is_string(&self) -> bool {
        self.string
    }

    /// The dtype of the tensors it feeds (`u8` bytes for a string input).
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The full input shape, batch axis first.
    pub fn batch_shape(&self) -> &Shape {
        &self.shape
    }

    /// The input dtype.
    pub fn input_dtype(&self) -> DType {
        self.dtype
    }
}

impl InputLayer {
    /// The input tensor an `InputLayer` config describes (`batch_shape`, or Keras 2's
    /// `shape`; `dtype`, `"string"` included; `name`): the start of a functional graph.
    pub(crate) fn tensor_from_config(c: &Cfg) -> Result<KerasTensor> {
        let shape = match c.get("batch_shape") {
            Some(_) => c.shape("batch_shape")?,
            None => {
                let mut s = vec![None];
                s.extend(c.shape("shape")?);
                s
            }
        };
        let mut b = Input::shape(shape.get(1..).unwrap_or(&[]).to_vec());
        if let Some(n) = shape.first().copied().flatten() {
            b = b.batch_size(n);
        }
        if c.get("dtype").and_then(Value::as_str) == Some("string") {
            b = b.dtype_string();
        } else if let Some(d) = parse_dtype_policy(c.get("dtype"))? {
            b = b.dtype(d);
        }
        if let Some(name) = c.opt_str("name")? {
            b = b.name(name);
        }
        Ok(b.build())
    }

    /// An `InputLayer` from its Keras config (the layer of [`InputLayer::tensor_from_config`]).
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        Ok(Self::tensor_from_config(c)?.layer().clone())
    }
}

impl Layer for InputLayer {
    fn class_name(&self) -> &str {
        "InputLayer"
    }
    fn base_config(&self, base: Config) -> Config {
        // Keras's InputLayer writes its name; its dtype is a plain name among its own keys.
        base.into_iter().filter(|(k, _)| k == "name").collect()
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn get_config(&self) -> Result<Config> {
        Ok(config(json!({"batch_shape": shape_value(&self.shape.0),
            "dtype": if self.string { "string" } else { dtype_name(self.dtype) }, "sparse": false, "ragged": false, "optional": false})))
    }
    fn serialize(&self, handle: &LayerRef) -> Result<Value> {
        // Keras writes no build config for an InputLayer.
        layer_object(self, handle)
    }
    fn compute_output_shape(&self, _: &[Shape]) -> Result<Vec<Shape>> {
        Ok(vec![self.shape.clone()])
    }
    fn compute_output_dtype(&self, _: &[DType], n: usize) -> Vec<DType> {
        vec![self.dtype; n]
    }
    fn forward(&self, inputs: &[Tensor], _ctx: &CallCtx) -> Result<Vec<Tensor>> {
        Ok(inputs.to_vec())
    }
    fn string_output(&self) -> bool {
        self.string
    }
}

/// `keras.Input`: a symbolic input to a functional model.
///
/// ```
/// use keras::prelude::*;
/// let x = Input::new(&[784]);
/// assert_eq!(x.shape().to_string(), "(None, 784)");
/// let text = Input::shape(&[None]).dtype(DType::I32).name("text").build();
/// assert_eq!(text.name(), "text");
/// assert_eq!(text.shape().to_string(), "(None, None)");
/// ```
pub struct Input;

impl Input {
    /// A float32 input for batches of samples of shape `dims`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(dims: impl IntoDims) -> KerasTensor {
        Input::shape(dims).build()
    }

    /// An input to configure (`name`, `dtype`, `batch_size`) before `build`.
    pub fn shape(dims: impl IntoDims) -> InputBuilder {
        InputBuilder {
            dims: dims.into_dims(),
            name: None,
            dtype: DType::F32,
            batch_size: None,
            string: false,
        }
    }

    /// A string input (Keras's `keras.Input(shape=dims, dtype="string")`), for models that
    /// start with `TextVectorization` or `StringLookup`: `&[1]` for one string per sample,
    /// `()` for Keras's `shape=()`. Feed it [`crate::ops::strings::encode`]`(&texts)?` (or
    /// `&texts` itself wherever a [`crate::trainers::Data`] is taken): the real tensor carries
    /// the UTF-8 bytes on one more, trailing axis, which the shape does not count.
    ///
    /// ```
    /// use keras::prelude::*;
    /// let text = Input::string(&[1]);
    /// assert_eq!(text.shape().to_string(), "(None, 1)");
    /// let scalar = Input::string(());
    /// assert_eq!(scalar.shape().to_string(), "(None,)");
    /// ```
    pub fn string(dims: impl IntoDims) -> KerasTensor {
        Input::shape(dims).dtype_string().build()
    }
}

/// No dimensions: Keras's `shape=()` (one scalar per sample).
impl IntoDims for () {
    fn into_dims(self) -> Vec<Option<usize>> {
        vec![]
    }
}

/// Options of an [`Input`].
pub struct InputBuilder {
    dims: Vec<Option<usize>>,
    name: Option<String>,
    dtype: DType,
    batch_size: Option<usize>,
    string: bool,
}

impl InputBuilder {
    /// The input's name (used to pass data by name to `fit` / `predict`).
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }

    /// The dtype (`float32` by default; `int32` for token ids).
    pub fn dtype(mut self, dtype: DType) -> Self {
        self.dtype = dtype;
        self.string = false;
        self
    }

    /// A string input (Keras's `dtype="string"`); see [`Input::string`].
    ///
    /// ```
    /// use keras::prelude::*;
    /// let text = Input::shape(&[1]).dtype_string().name("review").build();
    /// assert!(text.is_string());
    /// ```
    pub fn dtype_string(mut self) -> Self {
        self.dtype = DType::U8;
        self.string = true;
        self
    }

    /// A fixed batch size.
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = Some(n);
        self
    }

    /// The symbolic input tensor.
    pub fn build(self) -> KerasTensor {
        let mut layer = InputLayer::new(self.dims);
        layer.shape.0[0] = self.batch_size;
        layer.dtype = self.dtype;
        layer.string = self.string;
        layer.args.name = self.name;
        let shape = layer.shape.clone();
        let dtype = layer.dtype;
        let lr = LayerRef::new(layer);
        lr.mark_built(std::slice::from_ref(&shape));
        lr.add_node(vec![], vec![shape], vec![dtype]).remove(0)
    }
}

/// A real tensor for a string input of Keras shape `want`: `u8` bytes with one more (trailing)
/// axis than `want`; a `(batch, max_bytes)` tensor from [`crate::ops::strings::encode`] fits an
/// input of shape `(None, 1)` too (the axis of size one is added).
pub(crate) fn prepare_string_input(
    model: &str,
    index: usize,
    x: &Tensor,
    want: &Shape,
) -> Result<Tensor> {
    if x.dtype() != DType::U8 {
        return Err(crate::Error::value(format!(
            "Input {index} of layer \"{model}\" expects strings (a u8 byte tensor such as \
             keras::ops::strings::encode makes); received dtype {} with shape {}",
            dtype_name(x.dtype()),
            shape_str(x.dims())
        )));
    }
    let r = want.rank();
    if x.rank() == r + 1 {
        return Ok(x.clone());
    }
    if x.rank() == r && r >= 1 && want.dims()[r - 1] == Some(1) {
        return Ok(x.unsqueeze(r - 1)?);
    }
    Err(crate::Error::shape(format!(
        "Input {index} of layer \"{model}\" is incompatible with the layer: expected shape={want} \
         (strings, plus a trailing axis of UTF-8 bytes), found shape={}",
        shape_str(x.dims())
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_is_an_input_layer_node() {
        let x = Input::new([3, 4]);
        assert_eq!(x.shape(), &Shape(vec![None, Some(3), Some(4)]));
        assert_eq!(x.layer().class_name(), "InputLayer");
        assert!(x.node().inputs().is_empty());
        assert_eq!(x.layer().count_params(), 0);
        assert_eq!(x.name(), x.layer().name());
    }
}
