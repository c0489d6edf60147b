//! `RandomFlip` (`keras/src/layers/preprocessing/image_preprocessing/random_flip.py`).

use super::base::{apply_seeded_config, batch_size, image_axes, same_image_shape};
use super::base::{seed_json, SeedRng};
use crate::engine::{CallCtx, Layer, LayerArgs, LayerRef, Shape, WeightBuilder};
use crate::ops::{self, DType, Tensor};
use crate::serialization::{config, json, Cfg, Config};
use crate::{Error, Result};

/// Flips images at random while training: `mode` `"horizontal"`, `"vertical"` or
/// `"horizontal_and_vertical"` (the default). Each image is flipped with probability 1/2;
/// in `"horizontal_and_vertical"` mode one draw decides both flips, as in Keras. At
/// inference the images pass through (cast to float32).
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::preprocessing::RandomFlip;
/// let y = RandomFlip::new("horizontal").call(&Input::new([8, 8, 3]))?;
/// assert_eq!(y.shape().to_string(), "(None, 8, 8, 3)");
/// # Ok::<(), keras::Error>(())
/// ```
pub struct RandomFlip {
    args: LayerArgs,
    mode: String,
    rng: SeedRng,
}

impl Default for RandomFlip {
    fn default() -> Self {
        Self::new("horizontal_and_vertical")
    }
}

impl RandomFlip {
    /// Flips in `mode`: `"horizontal"`, `"vertical"` or `"horizontal_and_vertical"`.
    pub fn new(mode: &str) -> Self {
        RandomFlip {
            args: LayerArgs::default(),
            mode: mode.into(),
            rng: SeedRng::new(None),
        }
    }
    /// Draws from the layer's own generator seeded with `seed`.
    pub fn seed(mut self, seed: u64) -> Self {
        self.rng = SeedRng::new(Some(seed));
        self
    }
    fn axes(&self) -> Result<(bool, bool)> {
        match self.mode.as_str() {
            "horizontal" => Ok((true, false)),
            "vertical" => Ok((false, true)),
            "horizontal_and_vertical" => Ok((true, true)),
            other => Err(Error::value(format!(
                "RandomFlip layer {name} received an unknown mode argument {other}",
                name = self.args.name.as_deref().unwrap_or("random_flip")
            ))),
        }
    }

    /// Flips the images whose entry of `flips` is true (one entry per image; a rank-3 input
    /// is one image), as Keras's `transform_images` with a given transformation.
    pub fn flip(&self, x: &Tensor, flips: &[bool]) -> Result<Tensor> {
        let (horizontal, vertical) = self.axes()?;
        let x = ops::cast(x, DType::F32)?;
        let batched = x.rank() == 4;
        let xb = if batched { x.clone() } else { x.unsqueeze(0)? };
        if flips.len() != xb.dim(0)? {
            return Err(Error::value(format!(
                "RandomFlip: {} flips for {} images",
                flips.len(),
                xb.dim(0)?
            )));
        }
        let mut rows = Vec::with_capacity(flips.len());
        for (i, &f) in flips.iter().enumerate() {
            let mut img = xb.narrow(0, i, 1)?;
            if f {
                if horizontal {
                    img = ops::reverse(&img, 2)?;
                }
                if vertical {
                    img = ops::reverse(&img, 1)?;
                }
            }
            rows.push(img);
        }
        let y = Tensor::cat(&rows, 0)?;
        Ok(if batched { y } else { y.squeeze(0)? })
    }
}

impl RandomFlip {
    /// A `RandomFlip` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        let l = RandomFlip::new(c.str_or("mode", "horizontal_and_vertical")?);
        apply_seeded_config(l, RandomFlip::seed, c)
    }
}

impl Layer for RandomFlip {
    fn class_name(&self) -> &str {
        "RandomFlip"
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
            "seed": seed_json(self.rng.seed()),
            "mode": self.mode,
        })))
    }
    fn build(&mut self, s: &[Shape], _: &mut WeightBuilder) -> Result<()> {
        self.axes()?;
        image_axes("RandomFlip", &s[0]).map(|_| ())
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        same_image_shape("RandomFlip", s)
    }
    fn forward(&self, inputs: &[Tensor], ctx: &CallCtx) -> Result<Vec<Tensor>> {
        let x = &inputs[0];
        image_axes("RandomFlip", &Shape::known(x.dims()))?;
        if !ctx.training {
            return Ok(vec![ops::cast(x, DType::F32)?]);
        }
        let flips: Vec<bool> = self
            .rng
            .uniform(batch_size(x.dims()), 0.0, 1.0)
            .into_iter()
            .map(|u| u <= 0.5)
            .collect();
        Ok(vec![self.flip(x, &flips)?])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Device;

    #[test]
    fn flips_the_asked_axes() {
        let x = Tensor::arange(0f32, 4.0, &Device::Cpu)
            .unwrap()
            .reshape((2, 2, 1))
            .unwrap();
        let h = RandomFlip::new("horizontal").flip(&x, &[true]).unwrap();
        assert_eq!(ops::to_vec_f32(&h).unwrap(), [1.0, 0.0, 3.0, 2.0]);
        let v = RandomFlip::new("vertical").flip(&x, &[true]).unwrap();
        assert_eq!(ops::to_vec_f32(&v).unwrap(), [2.0, 3.0, 0.0, 1.0]);
        let b = RandomFlip::default().flip(&x, &[false]).unwrap();
        assert_eq!(ops::to_vec_f32(&b).unwrap(), [0.0, 1.0, 2.0, 3.0]);
        assert!(RandomFlip::new("diagonal").flip(&x, &[true]).is_err());
    }
}
