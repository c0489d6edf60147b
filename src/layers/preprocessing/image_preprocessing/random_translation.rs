//! `RandomTranslation`
//! (`keras/src/layers/preprocessing/image_preprocessing/random_translation.py`).

use super::affine::{self, affine_builders, AffineOptions};
use super::base::{apply_seeded_config, config_factor, same_image_shape, Factor, SeedRng};
use crate::engine::{CallCtx, Layer, LayerArgs, LayerRef, Shape, WeightBuilder};
use crate::ops::Tensor;
use crate::serialization::{json, Cfg, Config};
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
    affine: AffineOptions,
}

impl RandomTranslation {
    /// Shifts drawn from `height_factor` and `width_factor`.
    pub fn new(height_factor: impl Into<Factor>, width_factor: impl Into<Factor>) -> Self {
        RandomTranslation {
            args: LayerArgs::default(),
            height_factor: height_factor.into(),
            width_factor: width_factor.into(),
            affine: AffineOptions::default(),
        }
    }
    affine_builders!();
    fn ranges(&self) -> Result<((f64, f64), (f64, f64))> {
        Ok((
            self.height_factor
                .symmetric_range(false, TRANSLATION_ERROR)?,
            self.width_factor
                .symmetric_range(false, TRANSLATION_ERROR)?,
        ))
    }
}

impl RandomTranslation {
    /// A `RandomTranslation` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        let mut l = RandomTranslation::new(
            config_factor(c, "height_factor")?,
            config_factor(c, "width_factor")?,
        );
        l.affine.read_config(c)?;
        apply_seeded_config(l, RandomTranslation::seed, c)
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
        Ok(self.affine.config(json!({
            "height_factor": self.height_factor.to_json(),
            "width_factor": self.width_factor.to_json(),
        })))
    }
    fn build(&mut self, s: &[Shape], _: &mut WeightBuilder) -> Result<()> {
        self.ranges()?;
        self.affine.build("RandomTranslation", s)
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        same_image_shape("RandomTranslation", s)
    }
    fn forward(&self, inputs: &[Tensor], ctx: &CallCtx) -> Result<Vec<Tensor>> {
        let draw = |((hl, hu), (wl, wu)): ((f64, f64), (f64, f64)), rng: &SeedRng, n, h, w| {
            let f32r = |v: f64| v as f32 as f64;
            // Keras draws the height shifts first, then the widths, each times the image size.
            let dy = rng.uniform(n, f32r(hl), f32r(hu));
            let dx = rng.uniform(n, f32r(wl), f32r(wu));
            dy.iter()
                .zip(&dx)
                .map(|(&dy, &dx)| affine::translation(dx as f32 * w as f32, dy as f32 * h as f32))
                .collect()
        };
        self.affine
            .forward("RandomTranslation", &inputs[0], ctx, || self.ranges(), draw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{context, LayerExt};
    use crate::ops::{self, Device};

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
