//! `Activation`: applies an activation function.

use crate::activations::{Act, ActivationArg};
use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, Layer, LayerArgs, LayerRef, Shape, WeightBuilder};
use crate::ops::{self, DType, Tensor};
use crate::serialization::{config, json, Cfg, Config};
use crate::{Error, Result};

/// Applies an activation function to its input.
///
/// ```
/// use keras::prelude::*;
/// let y = Activation::new("softmax").into_layer().apply(&Tensor::new(&[[0f32, 0.0]], &Device::Cpu)?)?;
/// assert_eq!(y.to_vec2::<f32>()?, vec![vec![0.5, 0.5]]);
/// # Ok::<(), keras::Error>(())
/// ```
pub struct Activation {
    args: LayerArgs,
    activation: ActivationArg,
    act: Act,
}

impl Activation {
    /// The layer for an activation given by name or value.
    pub fn new(a: impl Into<ActivationArg>) -> Self {
        Activation {
            args: LayerArgs::default(),
            activation: a.into(),
            act: Act::Linear,
        }
    }
}

impl Activation {
    /// An `Activation` from its Keras config (which must name the activation).
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        if c.get("activation").is_none() {
            return Err(Error::value("Activation: config needs an `activation`"));
        }
        apply_base_config(Activation::new(c.activation("activation", "linear")?), c)
    }
}

impl Layer for Activation {
    fn supports_masking(&self) -> bool {
        true
    }
    fn class_name(&self) -> &str {
        "Activation"
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn get_config(&self) -> Result<Config> {
        Ok(config(json!({"activation": self.activation.serialize()})))
    }
    fn build(&mut self, _: &[Shape], _: &mut WeightBuilder) -> Result<()> {
        self.act = self.activation.resolve()?;
        Ok(())
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        Ok(vec![s[0].clone()])
    }
    fn forward(&self, inputs: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
        let x = if inputs[0].dtype().is_float() {
            inputs[0].clone()
        } else {
            ops::cast(&inputs[0], DType::F32)?
        };
        Ok(vec![ops::activation(&x, self.act)?])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::LayerExt;
    use crate::layers::Input;

    #[test]
    fn keeps_shape_has_no_params() {
        let y = Activation::new("tanh").call(Input::new([3, 5])).unwrap();
        assert_eq!(y.shape().to_string(), "(None, 3, 5)");
        assert_eq!(y.layer().count_params(), 0);
        assert!(Activation::new("nope").call(Input::new([3])).is_err());
    }
}
