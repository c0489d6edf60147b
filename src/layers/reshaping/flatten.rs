//! `Flatten`: one axis per sample.

use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, Layer, LayerArgs, LayerRef, Shape};
use crate::ops::Tensor;
use crate::serialization::{config, json, Cfg, Config};
use crate::Result;

/// Flattens each sample to one axis: `(batch, d1, d2, ...)` becomes `(batch, d1 * d2 * ...)`.
///
/// ```
/// use keras::prelude::*;
/// let y = Flatten::new().call(&Input::new(&[28, 28]))?;
/// assert_eq!(y.shape().to_string(), "(None, 784)");
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Default)]
pub struct Flatten {
    args: LayerArgs,
}

impl Flatten {
    /// A flatten layer.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Flatten {
    /// A `Flatten` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        c.channels_last()?;
        apply_base_config(Flatten::new(), c)
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
        Ok(config(json!({"data_format": "channels_last"})))
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        let batch = s[0].0.first().copied().flatten();
        Ok(vec![Shape(vec![batch, s[0].sample_size()])])
    }
    fn forward(&self, inputs: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
        let x = &inputs[0];
        let n = x.dims().first().copied().unwrap_or(1);
        let rest = x
            .elem_count()
            .checked_div(n)
            .unwrap_or_else(|| x.dims()[1..].iter().product());
        Ok(vec![x.reshape((n, rest))?])
    }
}
