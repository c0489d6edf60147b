//! `RandomRotation` (`keras/src/layers/preprocessing/image_preprocessing/random_rotation.py`).

use super::affine::{self, affine_builders, AffineOptions};
use super::base::{apply_seeded_config, config_factor, same_image_shape, Factor, SeedRng};
use crate::engine::{CallCtx, Layer, LayerArgs, LayerRef, Shape, WeightBuilder};
use crate::ops::Tensor;
use crate::serialization::{json, Cfg, Config};
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
    affine: AffineOptions,
}

impl RandomRotation {
    /// Angles drawn from `factor` (a number or a `(lower, upper)` pair of turns).
    pub fn new(factor: impl Into<Factor>) -> Self {
        RandomRotation {
            args: LayerArgs::default(),
            factor: factor.into(),
            affine: AffineOptions::default(),
        }
    }
    affine_builders!();
    fn range(&self) -> Result<(f64, f64)> {
        self.factor.base_range((-1.0, 1.0))
    }
}

impl RandomRotation {
    /// A `RandomRotation` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        let mut l = RandomRotation::new(config_factor(c, "factor")?);
        l.affine.read_config(c)?;
        apply_seeded_config(l, RandomRotation::seed, c)
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
        Ok(self.affine.config(json!({ "factor": [lo, hi] })))
    }
    fn build(&mut self, s: &[Shape], _: &mut WeightBuilder) -> Result<()> {
        self.range()?;
        self.affine.build("RandomRotation", s)
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        same_image_shape("RandomRotation", s)
    }
    fn forward(&self, inputs: &[Tensor], ctx: &CallCtx) -> Result<Vec<Tensor>> {
        let draw = |(lo, hi): (f64, f64), rng: &SeedRng, n, h, w| {
            let (lo, hi) = ((lo * 360.0) as f32 as f64, (hi * 360.0) as f32 as f64);
            rng.uniform(n, lo, hi)
                .iter()
                .map(|&a| affine::rotation(a as f32, h, w))
                .collect()
        };
        self.affine
            .forward("RandomRotation", &inputs[0], ctx, || self.range(), draw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{context, LayerExt};
    use crate::ops::{self, Device};

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
