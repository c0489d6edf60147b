//! `GaussianNoise` and `GaussianDropout`: noise that is only there while training.

use super::spatial_dropout::check_rate;
use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, Layer, LayerArgs, LayerRef, Shape, WeightBuilder};
use crate::ops::{self, random, Tensor};
use crate::serialization::{config, json, Cfg, Config};
use crate::Result;

/// Normal noise of the input's shape with this mean and standard deviation.
fn noise_like(x: &Tensor, mean: f64, stddev: f64) -> Result<Tensor> {
    let n = x.elem_count();
    let v: Vec<f64> = random::with_rng(|r| (0..n).map(|_| mean + stddev * r.normal()).collect());
    Ok(ops::cast(&ops::from_vec(v, x.dims())?, x.dtype())?.to_device(x.device())?)
}

/// Adds zero-mean normal noise with standard deviation `stddev` while training.
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::GaussianNoise;
/// let g = GaussianNoise::new(0.1).into_layer();
/// let x = Tensor::zeros((2, 3), DType::F32, &Device::Cpu)?;
/// assert_eq!(g.apply(&x)?.to_vec2::<f32>()?, x.to_vec2::<f32>()?); // inference: identity
/// # Ok::<(), keras::Error>(())
/// ```
pub struct GaussianNoise {
    args: LayerArgs,
    stddev: f64,
}

impl GaussianNoise {
    /// Noise with this standard deviation.
    pub fn new(stddev: f64) -> Self {
        GaussianNoise {
            args: LayerArgs::default(),
            stddev,
        }
    }
}

impl GaussianNoise {
    /// A `GaussianNoise` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        apply_base_config(GaussianNoise::new(c.f64_or("stddev", 0.0)?), c)
    }
}

impl Layer for GaussianNoise {
    fn supports_masking(&self) -> bool {
        true
    }
    fn class_name(&self) -> &str {
        "GaussianNoise"
    }
    fn get_config(&self) -> Result<Config> {
        Ok(config(json!({"stddev": self.stddev, "seed": null})))
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn build(&mut self, _: &[Shape], _: &mut WeightBuilder) -> Result<()> {
        if self.stddev < 0.0 || self.stddev.is_nan() {
            return Err(crate::Error::value(format!(
                "Invalid value received for argument `stddev`. Expected a float value >= 0. Received: stddev={}",
                self.stddev
            )));
        }
        Ok(())
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        Ok(vec![s[0].clone()])
    }
    fn forward(&self, inputs: &[Tensor], ctx: &CallCtx) -> Result<Vec<Tensor>> {
        let x = &inputs[0];
        if !ctx.training || self.stddev == 0.0 {
            return Ok(vec![x.clone()]);
        }
        Ok(vec![(x + noise_like(x, 0.0, self.stddev)?)?])
    }
}

/// Multiplies inputs by normal noise with mean 1 and standard deviation
/// `sqrt(rate / (1 - rate))` while training.
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::GaussianDropout;
/// let y = GaussianDropout::new(0.2).call(&Input::new([4]))?;
/// assert_eq!(y.shape().to_string(), "(None, 4)");
/// # Ok::<(), keras::Error>(())
/// ```
pub struct GaussianDropout {
    args: LayerArgs,
    rate: f64,
}

impl GaussianDropout {
    /// Drop-probability-equivalent `rate`, in `[0, 1)`.
    pub fn new(rate: f64) -> Self {
        GaussianDropout {
            args: LayerArgs::default(),
            rate,
        }
    }
}

impl GaussianDropout {
    /// A `GaussianDropout` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        apply_base_config(GaussianDropout::new(c.f64_or("rate", 0.0)?), c)
    }
}

impl Layer for GaussianDropout {
    fn supports_masking(&self) -> bool {
        true
    }
    fn class_name(&self) -> &str {
        "GaussianDropout"
    }
    fn get_config(&self) -> Result<Config> {
        Ok(config(json!({"rate": self.rate, "seed": null})))
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn build(&mut self, _: &[Shape], _: &mut WeightBuilder) -> Result<()> {
        check_rate(self.rate)
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        Ok(vec![s[0].clone()])
    }
    fn forward(&self, inputs: &[Tensor], ctx: &CallCtx) -> Result<Vec<Tensor>> {
        let x = &inputs[0];
        if !ctx.training || self.rate == 0.0 {
            return Ok(vec![x.clone()]);
        }
        let std = (self.rate / (1.0 - self.rate)).sqrt();
        Ok(vec![ops::mul_mask(x, &noise_like(x, 1.0, std)?)?])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{context, LayerExt};
    use crate::ops::{DType, Device};

    fn mean_std(v: &[f32]) -> (f64, f64) {
        let n = v.len() as f64;
        let m = v.iter().map(|&a| a as f64).sum::<f64>() / n;
        let s = (v.iter().map(|&a| (a as f64 - m).powi(2)).sum::<f64>() / n).sqrt();
        (m, s)
    }

    #[test]
    fn noise_has_the_asked_statistics_in_training_only() {
        let x = Tensor::ones((100, 100), DType::F32, &Device::Cpu).unwrap();
        let g = GaussianNoise::new(0.5).into_layer();
        let d = GaussianDropout::new(0.2).into_layer();
        assert_eq!(
            ops::to_vec_f32(&g.apply(&x).unwrap()).unwrap(),
            vec![1.0; 10_000]
        );
        let _t = context::set_training(true);
        let (m, s) = mean_std(&ops::to_vec_f32(&g.apply(&x).unwrap()).unwrap());
        assert!((m - 1.0).abs() < 0.03 && (s - 0.5).abs() < 0.03, "{m} {s}");
        let (m, s) = mean_std(&ops::to_vec_f32(&d.apply(&x).unwrap()).unwrap());
        assert!((m - 1.0).abs() < 0.03 && (s - 0.5).abs() < 0.03, "{m} {s}");
        let e = GaussianDropout::new(1.0)
            .into_layer()
            .apply(&x)
            .unwrap_err();
        assert!(e.to_string().contains("rate=1"), "{e}");
    }
}
