//! `ActivityRegularization`: adds a penalty on its input to the model's loss.

use crate::engine::config::apply_base_config;
use crate::engine::{context, CallCtx, Layer, LayerArgs, LayerRef, Shape};
use crate::ops::{self, Tensor};
use crate::serialization::{config, json, Cfg, Config};
use crate::Result;

/// Passes its input through unchanged and adds `(l1 * sum|x| + l2 * sum x²) / batch_size` to
/// the loss of the training or evaluation step that runs it (Keras's activity regularizer).
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::ActivityRegularization;
/// let y = ActivityRegularization::new(0.0, 0.01).call(&Input::new([4]))?;
/// assert_eq!(y.shape().to_string(), "(None, 4)");
/// # Ok::<(), keras::Error>(())
/// ```
pub struct ActivityRegularization {
    args: LayerArgs,
    l1: f64,
    l2: f64,
}

impl ActivityRegularization {
    /// Penalty factors (Keras's defaults are 0 and 0).
    pub fn new(l1: f64, l2: f64) -> Self {
        ActivityRegularization {
            args: LayerArgs::default(),
            l1,
            l2,
        }
    }
}

impl ActivityRegularization {
    /// An `ActivityRegularization` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        let l = ActivityRegularization::new(c.f64_or("l1", 0.0)?, c.f64_or("l2", 0.0)?);
        apply_base_config(l, c)
    }
}

impl Layer for ActivityRegularization {
    fn supports_masking(&self) -> bool {
        true
    }
    fn class_name(&self) -> &str {
        "ActivityRegularization"
    }
    fn get_config(&self) -> Result<Config> {
        Ok(config(json!({"l1": self.l1, "l2": self.l2})))
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        Ok(vec![s[0].clone()])
    }
    fn forward(&self, inputs: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
        let x = &inputs[0];
        if self.l1 != 0.0 || self.l2 != 0.0 {
            let batch = x.dims().first().copied().unwrap_or(1).max(1) as f64;
            let penalty = (ops::l1_l2_penalty(x, self.l1, self.l2)? / batch)?;
            context::add_loss(penalty);
        }
        Ok(vec![x.clone()])
    }
}
