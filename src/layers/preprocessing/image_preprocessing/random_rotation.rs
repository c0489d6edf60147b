//! `RandomRotation` (`keras/src/layers/preprocessing/image_preprocessing/random_rotation.py`).

use super::affine;
use super::base::{affine_options, batch_size, hw, image_axes, seed_json, Factor, SeedRng};
use crate::engine::{CallCtx, Layer, LayerArgs, Shape, WeightBuilder};
use crate::ops::{self, DType, Tensor};
use crate::saving::config::{config, json, Config};
use crate::Result;

/// Rotates each image by a random angle while training: `factor` is a fraction of a full
/// turn, a number `f` meaning angles in `[-f * 360, f * 360]` degrees, a pair `(lower,
/// upper)` meaning `[lower * 360, upper * 360]`. Points outside the input are filled by
/// `fill_mode` (`"reflect"`, `"wrap"`, `"constant"` with `fill_value`, `"nearest"`), pixels
/// computed by `interpolation` (`"bilinear"` or `"nearest"`). At inference the images pass
/// through (cast to float32).
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::preprocessing::RandomRotation;
/// let y = RandomRotation::new(0.1).fill_mode("constant").call(&Input::new([32, 32, 3]))?;
/// assert_eq!(y.shape().to_string(), "(None, 32, 32, 3)");
/// # Ok::<(), keras::Error>(())
/// ```
pub struct RandomRotation {
    args: LayerArgs,
    factor: Factor,
    fill_mode: String,
    interpolation: String,
    fill_value: f64,
    rng: SeedRng,
}

impl RandomRotation {
    /// Angles drawn from `factor` (a number or a `(lower, upper)` pair of turns).
    pub fn new(factor: impl Into<Factor>) -> Self {
        RandomRotation {
            args: LayerArgs::default(),
            factor: factor.into(),
            fill_mode: "reflect".into(),
            interpolation: "bilinear".into(),
            fill_value: 0.0,
            rng: SeedRng::new(None),
        }
    }
    /// How points outside the image are filled (default `"reflect"`).
    pub fn fill_mode(mut self, mode: &str) -> Self {
        self.fill_mode = mode.into();
        self
    }
    /// `"bilinear"` (default) or `"nearest"`.
    pub fn interpolation(mut self, i: &str) -> Self {
        self.interpolation = i.into();
        self
    }
    /// The value of filled points when `fill_mode` is `"constant"` (default 0).
    pub fn fill_value(mut self, v: f64) -> Self {
        self.fill_value = v;
        self
    }
    /// Draws from the layer's own generator seeded with `seed`.
    pub fn seed(mut self, seed: u64) -> Self {
        self.rng = SeedRng::new(Some(seed));
        self
    }
    fn range(&self) -> Result<(f64, f64)> {
        self.factor.base_range((-1.0, 1.0))
    }
}

impl Layer for RandomRotation {
    fn class_name(&self) -> &str {
        "RandomRotation"
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn get_config(&self) -> Result<Config> {
        let (lo, hi) = self.range()?;
        Ok(config(json!({
            "data_format": "channels_last",
            "factor": [lo, hi],
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "interpolation": self.interpolation,
            "seed": seed_json(self.rng.seed()),
        })))
    }
    fn build(&mut self, s: &[Shape], _: &mut WeightBuilder) -> Result<()> {
        self.range()?;
        affine_options(&self.fill_mode, &self.interpolation)?;
        image_axes("RandomRotation", &s[0]).map(|_| ())
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        image_axes("RandomRotation", &s[0])?;
        Ok(vec![s[0].clone()])
    }
    fn forward(&self, inputs: &[Tensor], ctx: &CallCtx) -> Result<Vec<Tensor>> {
        let x = &inputs[0];
        let (h, w) = hw("RandomRotation", x.dims())?;
        if !ctx.training {
            return Ok(vec![ops::cast(x, DType::F32)?]);
        }
        let (lo, hi) = self.range()?;
        let (fm, ip) = affine_options(&self.fill_mode, &self.interpolation)?;
        let (lo, hi) = ((lo * 360.0) as f32 as f64, (hi * 360.0) as f32 as f64);
        let angles = self.rng.uniform(batch_size(x.dims()), lo, hi);
        let t: Vec<_> = angles
            .iter()
            .map(|&a| affine::rotation(a as f32, h, w))
            .collect();
        Ok(vec![affine::apply(x, &t, ip, fm, self.fill_value)?])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{context, LayerExt};
    use crate::ops::Device;

    #[test]
    fn identity_at_inference_and_bad_options_refused() {
        let x = Tensor::rand(0f32, 1.0, (2, 4, 4, 1), &Device::Cpu).unwrap();
        let r = RandomRotation::new(0.5).into_layer();
        assert_eq!(
            ops::to_vec_f32(&r.apply(&x).unwrap()).unwrap(),
            ops::to_vec_f32(&x).unwrap()
        );
        let _t = context::set_training(true);
        assert_ne!(
            ops::to_vec_f32(&r.apply(&x).unwrap()).unwrap(),
            ops::to_vec_f32(&x).unwrap()
        );
        let e = RandomRotation::new(0.1)
            .fill_mode("mirror")
            .into_layer()
            .apply(&x)
            .unwrap_err();
        assert!(e.to_string().contains("Unknown `fill_mode` mirror"), "{e}");
        let e = RandomRotation::new(2.0).into_layer().apply(&x).unwrap_err();
        assert!(e.to_string().contains("factor=2.0"), "{e}");
    }
}
