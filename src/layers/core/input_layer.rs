//! `Input` and `InputLayer`: where a functional graph starts.

use crate::engine::{CallCtx, IntoDims, KerasTensor, Layer, LayerArgs, LayerRef, Shape};
use crate::ops::{DType, Tensor};
use crate::Result;

/// The layer behind an [`Input`]: it holds the shape and dtype, and passes data through.
pub struct InputLayer {
    args: LayerArgs,
    shape: Shape,
    dtype: DType,
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
        }
    }

    /// The dtype of the tensors it feeds.
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

impl Layer for InputLayer {
    fn class_name(&self) -> &str {
        "InputLayer"
    }
    fn base_config(&self, base: crate::saving::config::Config) -> crate::saving::config::Config {
        // Keras's InputLayer writes its name; its dtype is a plain name among its own keys.
        base.into_iter().filter(|(k, _)| k == "name").collect()
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn get_config(&self) -> Result<crate::saving::config::Config> {
        use crate::saving::config::{config, json};
        Ok(config(
            json!({"batch_shape": crate::saving::config::shape_value(&self.shape.0),
            "dtype": crate::saving::config::dtype_name(self.dtype), "sparse": false, "ragged": false, "optional": false}),
        ))
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
        }
    }
}

/// Options of an [`Input`].
pub struct InputBuilder {
    dims: Vec<Option<usize>>,
    name: Option<String>,
    dtype: DType,
    batch_size: Option<usize>,
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
        layer.args.name = self.name;
        let shape = layer.shape.clone();
        let dtype = layer.dtype;
        let lr = LayerRef::new(layer);
        lr.mark_built(std::slice::from_ref(&shape));
        lr.add_node(vec![], vec![shape], vec![dtype]).remove(0)
    }
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
