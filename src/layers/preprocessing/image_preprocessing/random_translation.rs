//! `RandomTranslation`
//! (`keras/src/layers/preprocessing/image_preprocessing/random_translation.py`).

use super::affine;
use super::base::{affine_options, batch_size, hw, image_axes, seed_json, Factor, SeedRng};
use crate::engine::{CallCtx, Layer, LayerArgs, Shape, WeightBuilder};
use crate::ops::{self, DType, Tensor};
use crate::saving::config::{config, json, Config};
use crate::Result;

const TRANSLATION_ERROR: &str = "The `factor` argument should be a number (or a list of two \
                                 numbers) in the range [-1.0, 1.0]. ";

/// Shifts each image by a random offset while training: `height_factor` and `width_factor`
/// are fractions of the height and width, a number `f` drawing the shift from `[-f, f]`, a
/// pair `(lower, upper)` from `[lower, upper]` (positive: down / right). Fill and
/// interpolation as [`super::RandomRotation`]. At inference the images pass through (cast to
/// float32).
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::preprocessing::RandomTranslation;
/// let y = RandomTranslation::new(0.1, (-0.2, 0.2)).call(&Input::new([16, 16, 3]))?;
/// assert_eq!(y.shape().to_string(), "(None, 16, 16, 3)");
/// # Ok::<(), keras::Error>(())
/// ```
pub struct RandomTranslation {
    args: LayerArgs,
    height_factor: Factor,
    width_factor: Factor,
    fill_mode: String,
    interpolation: String,
    fill_value: f64,
    rng: SeedRng,
}

impl RandomTranslation {
    /// Shifts drawn from `height_factor` and `width_factor`.
    pub fn new(height_factor: impl Into<Factor>, width_factor: impl Into<Factor>) -> Self {
        RandomTranslation {
            args: LayerArgs::default(),
            height_factor: height_factor.into(),
            width_factor: width_factor.into(),
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
    fn ranges(&self) -> Result<((f64, f64), (f64, f64))> {
        Ok((
            self.height_factor
                .symmetric_range(false, TRANSLATION_ERROR)?,
            self.width_factor
                .symmetric_range(false, TRANSLATION_ERROR)?,
        ))
    }
}

impl Layer for RandomTranslation {
    fn class_name(&self) -> &str {
        "RandomTranslation"
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn get_config(&self) -> Result<Config> {
        Ok(config(json!({
            "data_format": "channels_last",
            "height_factor": self.height_factor.to_json(),
            "width_factor": self.width_factor.to_json(),
            "fill_mode": self.fill_mode,
            "interpolation": self.interpolation,
            "seed": seed_json(self.rng.seed()),
            "fill_value": self.fill_value,
        })))
    }
    fn build(&mut self, s: &[Shape], _: &mut WeightBuilder) -> Result<()> {
        self.ranges()?;
        affine_options(&self.fill_mode, &self.interpolation)?;
        image_axes("RandomTranslation", &s[0]).map(|_| ())
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        image_axes("RandomTranslation", &s[0])?;
        Ok(vec![s[0].clone()])
    }
    fn forward(&self, inputs: &[Tensor], ctx: &CallCtx) -> Result<Vec<Tensor>> {
        let x = &inputs[0];
        let (h, w) = hw("RandomTranslation", x.dims())?;
        if !ctx.training {
            return Ok(vec![ops::cast(x, DType::F32)?]);
        }
        let ((hl, hu), (wl, wu)) = self.ranges()?;
        let (fm, ip) = affine_options(&self.fill_mode, &self.interpolation)?;
        let n = batch_size(x.dims());
        let f32r = |v: f64| v as f32 as f64;
        // Keras draws the height shifts first, then the widths, each times the image size.
        let dy = self.rng.uniform(n, f32r(hl), f32r(hu));
        let dx = self.rng.uniform(n, f32r(wl), f32r(wu));
        let t: Vec<_> = dy
            .iter()
            .zip(&dx)
            .map(|(&dy, &dx)| affine::translation(dx as f32 * w as f32, dy as f32 * h as f32))
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
    fn a_whole_pixel_shift_moves_the_image() {
        let x = Tensor::arange(0f32, 16.0, &Device::Cpu)
            .unwrap()
            .reshape((1, 4, 4, 1))
            .unwrap();
        // One pixel right (0.25 of the width), constant fill.
        let l = RandomTranslation::new(0.0, (0.25, 0.25))
            .fill_mode("constant")
            .into_layer();
        let _t = context::set_training(true);
        let y = ops::to_vec_f32(&l.apply(&x).unwrap()).unwrap();
        assert_eq!(&y[..4], &[0.0, 0.0, 1.0, 2.0]);
        let e = RandomTranslation::new(1.5, 0.0)
            .into_layer()
            .apply(&x)
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("[-1.0, 1.0]. Received: input_number=1.5"),
            "{e}"
        );
    }
}
