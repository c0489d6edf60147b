//! `Dropout`: zeroes a fraction of its inputs while training.

use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, Layer, LayerArgs, LayerRef, Shape, WeightBuilder};
use crate::ops::{self, random, Tensor};
use crate::serialization::{config, json, Cfg, Config};
use crate::{Error, Result};

/// Sets inputs to 0 with probability `rate` during training and scales the rest by
/// `1 / (1 - rate)`; passes inputs through at inference.
///
/// ```
/// use keras::prelude::*;
/// let d = Dropout::new(0.5).into_layer();
/// let x = Tensor::ones((4, 100), DType::F32, &Device::Cpu)?;
/// assert_eq!(d.apply(&x)?.to_vec2::<f32>()?, x.to_vec2::<f32>()?); // inference: identity
/// # Ok::<(), keras::Error>(())
/// ```
pub struct Dropout {
    args: LayerArgs,
    rate: f64,
}

impl Dropout {
    /// Dropout with this rate, in `[0, 1)`.
    pub fn new(rate: f64) -> Self {
        Dropout {
            args: LayerArgs::default(),
            rate,
        }
    }

    /// The drop probability.
    pub fn rate(&self) -> f64 {
        self.rate
    }
}

impl Dropout {
    /// A `Dropout` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        apply_base_config(Dropout::new(c.f64_or("rate", 0.0)?), c)
    }
}

impl Layer for Dropout {
    fn supports_masking(&self) -> bool {
        true
    }
    fn class_name(&self) -> &str {
        "Dropout"
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn get_config(&self) -> Result<Config> {
        Ok(config(
            json!({"rate": self.rate, "noise_shape": null, "seed": null}),
        ))
    }
    fn build(&mut self, _: &[Shape], _: &mut WeightBuilder) -> Result<()> {
        if !(0.0..1.0).contains(&self.rate) {
            return Err(Error::value(format!(
                "Invalid value received for argument `rate`. Expected a float value between 0 and 1. \
                 Received: rate={}",
                self.rate
            )));
        }
        Ok(())
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        Ok(vec![s[0].clone()])
    }
    fn forward(&self, inputs: &[Tensor], ctx: &CallCtx) -> Result<Vec<Tensor>> {
        let x = &inputs[0];
        if !ctx.training || self.rate == 0.0 {
            return Ok(vec![x.clone()]);
        }
        let keep = 1.0 - self.rate;
        let scale = 1.0 / keep;
        let mut rng = random::fork();
        let mask: Vec<f32> = (0..x.elem_count())
            .map(|_| {
                if rng.uniform() < keep {
                    scale as f32
                } else {
                    0.0
                }
            })
            .collect();
        let mask = ops::cast(&ops::from_vec(mask, x.dims())?, x.dtype())?.to_device(x.device())?;
        Ok(vec![ops::mul_mask(x, &mask)?])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{context, LayerExt};
    use crate::ops::{DType, Device};

    #[test]
    fn training_drops_about_rate_and_keeps_the_mean() {
        let d = Dropout::new(0.3).into_layer();
        let x = Tensor::ones((200, 100), DType::F32, &Device::Cpu).unwrap();
        let _g = context::set_training(true);
        let y = ops::to_vec_f32(&d.apply(&x).unwrap()).unwrap();
        let zeros = y.iter().filter(|&&v| v == 0.0).count() as f64 / y.len() as f64;
        assert!((zeros - 0.3).abs() < 0.02, "{zeros}");
        let mean = y.iter().sum::<f32>() / y.len() as f32;
        assert!((mean - 1.0).abs() < 0.03, "{mean}");
    }

    #[test]
    fn bad_rate_is_an_error() {
        let e = Dropout::new(1.5)
            .call(crate::layers::Input::new([3]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("rate=1.5"), "{e}");
    }
}
