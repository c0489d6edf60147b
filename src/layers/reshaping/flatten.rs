//! `Flatten`: one axis per sample.

use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, Layer, LayerArgs, LayerRef, Shape};
use crate::layers::data_format::DataFormat;
use crate::ops::Tensor;
use crate::serialization::{config, json, Cfg, Config};
use crate::Result;

/// Flattens each sample to one axis: `(batch, d1, d2, ...)` becomes `(batch, d1 * d2 * ...)`.
///
/// With `data_format("channels_first")` the features are ordered as Keras orders them: the
/// channels axis is moved last first (one transpose), so a `(batch, c, h, w)` input flattens
/// as its `(batch, h, w, c)` form would.
///
/// ```
/// use keras::prelude::*;
/// let y = Flatten::new().call(&Input::new(&[28, 28]))?;
/// assert_eq!(y.shape().to_string(), "(None, 784)");
/// let l = Flatten::new().data_format("channels_first").into_layer();
/// let x = Tensor::new(&[[[1f32, 2.0], [3.0, 4.0]]], &keras::ops::Device::Cpu)?;
/// assert_eq!(l.apply(&x)?.to_vec2::<f32>()?, vec![vec![1.0, 3.0, 2.0, 4.0]]);
/// # Ok::<(), keras::Error>(())
/// ```
pub struct Flatten {
    args: LayerArgs,
    data_format: String,
}

impl Default for Flatten {
    fn default() -> Self {
        Flatten {
            args: LayerArgs::default(),
            data_format: crate::layers::data_format::image_data_format().into(),
        }
    }
}

impl Flatten {
    /// A flatten layer.
    pub fn new() -> Self {
        Self::default()
    }
    /// `"channels_last"` (default) or `"channels_first"`; another value is an error when
    /// the layer is called.
    pub fn data_format(mut self, f: &str) -> Self {
        self.data_format = f.to_lowercase();
        self
    }
}

impl Flatten {
    /// A `Flatten` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        apply_base_config(Flatten::new().data_format(&DataFormat::read(c)?), c)
    }
}

impl Layer for Flatten {
    fn class_name(&self) -> &str {
        "Flatten"
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn get_config(&self) -> Result<Config> {
        Ok(config(json!({"data_format": self.data_format})))
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        DataFormat::parse(&self.data_format)?;
        let batch = s[0].0.first().copied().flatten();
        Ok(vec![Shape(vec![batch, s[0].sample_size()])])
    }
    fn forward(&self, inputs: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
        let f = DataFormat::parse(&self.data_format)?;
        let x = &if inputs[0].rank() > 1 {
            f.to_last(&inputs[0])?
        } else {
            inputs[0].clone()
        };
        let n = x.dims().first().copied().unwrap_or(1);
        let rest = x
            .elem_count()
            .checked_div(n)
            .unwrap_or_else(|| x.dims()[1..].iter().product());
        Ok(vec![x.reshape((n, rest))?])
    }
}
