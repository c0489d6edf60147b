//! `Masking`: marks steps whose features all equal `mask_value` as padding.

use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, Layer, LayerArgs, LayerRef, Shape};
use crate::ops::{DType, Tensor};
use crate::serialization::{config, json, Cfg, Config};
use crate::Result;

/// Masks the steps of `(batch, steps, features)` whose features all equal `mask_value`
/// (default 0): they are zeroed, and layers downstream that support masks (recurrent layers,
/// `GlobalAveragePooling1D`, attention) skip them.
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::{Masking, LSTM};
/// let x = Input::new([None, Some(3)]);
/// let h = LSTM::new(4).call(&Masking::new().call(&x)?)?;
/// assert_eq!(h.shape().to_string(), "(None, 4)");
/// # Ok::<(), keras::Error>(())
/// ```
pub struct Masking {
    args: LayerArgs,
    mask_value: f64,
}

impl Default for Masking {
    fn default() -> Self {
        Masking {
            args: LayerArgs::default(),
            mask_value: 0.0,
        }
    }
}

impl Masking {
    /// Masks steps that are all zeros.
    pub fn new() -> Self {
        Self::default()
    }
    /// The padding value.
    pub fn mask_value(mut self, v: f64) -> Self {
        self.mask_value = v;
        self
    }
    fn keep(&self, x: &Tensor) -> Result<Tensor> {
        let differs = x.ne(self.mask_value)?.to_dtype(DType::F32)?;
        Ok(differs.max(x.rank() - 1)?)
    }
}

impl Masking {
    /// A `Masking` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        apply_base_config(Masking::new().mask_value(c.f64_or("mask_value", 0.0)?), c)
    }
}

impl Layer for Masking {
    fn class_name(&self) -> &str {
        "Masking"
    }
    fn get_config(&self) -> Result<Config> {
        Ok(config(json!({"mask_value": self.mask_value})))
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn supports_masking(&self) -> bool {
        true
    }
    fn compute_mask(&self, inputs: &[Tensor], _: &[Option<Tensor>]) -> Result<Vec<Option<Tensor>>> {
        Ok(vec![Some(self.keep(&inputs[0])?)])
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        Ok(vec![s[0].clone()])
    }
    fn forward(&self, inputs: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
        let x = &inputs[0];
        let keep = self.keep(x)?.to_dtype(x.dtype())?.unsqueeze(x.rank() - 1)?;
        Ok(vec![x.broadcast_mul(&keep)?])
    }
}
