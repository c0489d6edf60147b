//! `RandomContrast` (`keras/src/layers/preprocessing/image_preprocessing/random_contrast.py`).

use super::base::{apply_seeded_config, batch_size, config_factor, image_axes};
use super::base::{same_image_shape, seed_json, Factor, SeedRng};
use crate::engine::{CallCtx, Layer, LayerArgs, LayerRef, Shape, WeightBuilder};
use crate::ops::{self, DType, Tensor};
use crate::serialization::{config, json, Cfg, Config};
use crate::{Error, Result};

/// Scales each image's contrast by a random factor while training: each channel's pixels
/// move away from (or towards) their mean, `(x - mean) * c + mean`, and are clipped to
/// `value_range` (default `(0, 255)`). `factor` in `[0, 1]`: a pair `(lower, upper)` draws
/// `c` from `[1 - lower, 1 + upper]`; a number `f` is Keras's `(0, f)`, i.e. `c` in
/// `[1, 1 + f]`. At inference the images pass through.
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::preprocessing::RandomContrast;
/// let y = RandomContrast::new(0.2).value_range(0.0, 1.0).call(&Input::new([8, 8, 3]))?;
/// assert_eq!(y.shape().to_string(), "(None, 8, 8, 3)");
/// # Ok::<(), keras::Error>(())
/// ```
pub struct RandomContrast {
    args: LayerArgs,
    factor: Factor,
    value_range: (f64, f64),
    rng: SeedRng,
}

impl RandomContrast {
    /// Contrast factors drawn from `factor` (a number or a `(lower, upper)` pair in `[0, 1]`).
    pub fn new(factor: impl Into<Factor>) -> Self {
        RandomContrast {
            args: LayerArgs::default(),
            factor: factor.into(),
            value_range: (0.0, 255.0),
            rng: SeedRng::new(None),
        }
    }
    /// The range pixel values are clipped to (default `(0, 255)`).
    pub fn value_range(mut self, low: f64, high: f64) -> Self {
        self.value_range = (low, high);
        self
    }
    /// Draws from the layer's own generator seeded with `seed`.
    pub fn seed(mut self, seed: u64) -> Self {
        self.rng = SeedRng::new(Some(seed));
        self
    }
    fn range(&self) -> Result<(f64, f64)> {
        self.factor.base_range((0.0, 1.0))
    }

    /// Adjusts the contrast of each image by its factor (one per image; a rank-3 input is
    /// one image) and clips to the value range: Keras's `transform_images` with a given
    /// `contrast_factor`.
    pub fn adjust(&self, x: &Tensor, factors: &[f32]) -> Result<Tensor> {
        let img = crate::ops::image::Images::read(&ops::cast(x, DType::F32)?, "RandomContrast")?;
        if factors.len() != img.b {
            return Err(Error::value(format!(
                "RandomContrast: {} contrast factors for {} images",
                factors.len(),
                img.b
            )));
        }
        let (h, w, c) = (img.h, img.w, img.c);
        let (lo, hi) = (self.value_range.0 as f32, self.value_range.1 as f32);
        let mut out = img.data.clone();
        for (bi, &f) in factors.iter().enumerate() {
            let base = bi * h * w * c;
            for ch in 0..c {
                // The mean over the height, then over the width (Keras's two means).
                let mut mean = 0f32;
                for col in 0..w {
                    let mut s = 0f32;
                    for row in 0..h {
                        s += img.data[base + (row * w + col) * c + ch];
                    }
                    mean += s / h as f32;
                }
                mean /= w as f32;
                for p in 0..h * w {
                    let i = base + p * c + ch;
                    out[i] = ((img.data[i] - mean) * f + mean).clamp(lo, hi);
                }
            }
        }
        crate::ops::image::Images { data: out, ..img }.tensor(x)
    }
}

impl RandomContrast {
    /// A `RandomContrast` from its Keras config (`value_range`: two numbers).
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        let mut l = RandomContrast::new(config_factor(c, "factor")?);
        if c.get("value_range").is_some() {
            match config_factor(c, "value_range")? {
                Factor::Range(lo, hi) => l = l.value_range(lo, hi),
                Factor::Symmetric(_) => return Err(c.bad("value_range", "two numbers")),
            }
        }
        apply_seeded_config(l, RandomContrast::seed, c)
    }
}

impl Layer for RandomContrast {
    fn class_name(&self) -> &str {
        "RandomContrast"
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
            "value_range": [self.value_range.0, self.value_range.1],
            "seed": seed_json(self.rng.seed()),
        })))
    }
    fn build(&mut self, s: &[Shape], _: &mut WeightBuilder) -> Result<()> {
        self.range()?;
        image_axes("RandomContrast", &s[0]).map(|_| ())
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        same_image_shape("RandomContrast", s)
    }
    fn forward(&self, inputs: &[Tensor], ctx: &CallCtx) -> Result<Vec<Tensor>> {
        let x = &inputs[0];
        image_axes("RandomContrast", &Shape::known(x.dims()))?;
        if !ctx.training {
            return Ok(vec![ops::cast(x, DType::F32)?]);
        }
        let (lo, hi) = self.range()?;
        let f: Vec<f32> = self
            .rng
            .uniform(
                batch_size(x.dims()),
                (1.0 - lo) as f32 as f64,
                (1.0 + hi) as f32 as f64,
            )
            .into_iter()
            .map(|v| v as f32)
            .collect();
        Ok(vec![self.adjust(x, &f)?])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Device;

    #[test]
    fn contrast_scales_about_the_mean_and_clips() {
        let x = Tensor::new(&[[[0f32], [10.0]], [[20.0], [30.0]]], &Device::Cpu).unwrap();
        let y = RandomContrast::new(0.5)
            .value_range(0.0, 32.0)
            .adjust(&x, &[2.0])
            .unwrap();
        assert_eq!(ops::to_vec_f32(&y).unwrap(), [0.0, 5.0, 25.0, 32.0]);
        let c = RandomContrast::new(0.2).get_config().unwrap();
        assert_eq!(c["factor"], json!([0.0, 0.2]));
    }
}
