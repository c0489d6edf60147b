//! `RandomCrop` (`keras/src/layers/preprocessing/image_preprocessing/random_crop.py`).

use super::base::{apply_seeded_config, hw, seed_json, SeedRng};
use crate::engine::{CallCtx, Layer, LayerArgs, LayerRef, Shape, WeightBuilder};
use crate::layers::preprocessing::resizing::{
    aspect_crop_box, build_sized, resize_images, with_size, Aspect,
};
use crate::ops::image::{self, Interpolation};
use crate::ops::{self, DType, Tensor};
use crate::serialization::{config, json, Cfg, Config};
use crate::Result;

/// Crops a random `height` x `width` window while training (one window for the whole batch,
/// as in Keras). An image not larger than the window in both dimensions gets the centred
/// window of the target's aspect ratio, resized to `(height, width)`.
///
/// At inference Keras 3 returns the images unchanged (cast to float32), whatever their
/// size, and so does this layer: the symbolic output shape is `(height, width)`, so a model
/// that needs that size at inference should crop with [`crate::layers::preprocessing::CenterCrop`].
///
/// Without a `seed`, the config records a random one (Keras's `make_default_seed`) while the
/// draws come from the global generator.
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::preprocessing::RandomCrop;
/// let y = RandomCrop::new(24, 24).seed(1).call(&Input::new([32, 32, 3]))?;
/// assert_eq!(y.shape().to_string(), "(None, 24, 24, 3)");
/// # Ok::<(), keras::Error>(())
/// ```
pub struct RandomCrop {
    args: LayerArgs,
    height: usize,
    width: usize,
    config_seed: u64,
    rng: SeedRng,
}

impl RandomCrop {
    /// Crops to `height` x `width`.
    pub fn new(height: usize, width: usize) -> Self {
        let config_seed = crate::ops::random::with_rng(|r| 1 + r.below(1_000_000_000) as u64);
        RandomCrop {
            args: LayerArgs::default(),
            height,
            width,
            config_seed,
            rng: SeedRng::new(None),
        }
    }
    /// Draws from the layer's own generator seeded with `seed`.
    pub fn seed(mut self, seed: u64) -> Self {
        self.config_seed = seed;
        self.rng = SeedRng::new(Some(seed));
        self
    }

    /// Crops at rows `top..` and columns `left..` (resizing when the window leaves the
    /// image), as Keras's `transform_images` with a given `(h_start, w_start)`.
    pub fn crop_at(&self, x: &Tensor, top: usize, left: usize) -> Result<Tensor> {
        let x = ops::cast(x, DType::F32)?;
        let y = image::crop(&x, top, left, self.height, self.width)?;
        let (h, w) = hw("RandomCrop", y.dims())?;
        if h != self.height || w != self.width {
            return resize_images(
                &y,
                self.height,
                self.width,
                Interpolation::Bilinear,
                false,
                Aspect::Stretch,
            );
        }
        Ok(y)
    }
}

impl RandomCrop {
    /// A `RandomCrop` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        let l = RandomCrop::new(c.usize("height")?, c.usize("width")?);
        apply_seeded_config(l, RandomCrop::seed, c)
    }
}

impl Layer for RandomCrop {
    fn class_name(&self) -> &str {
        "RandomCrop"
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
            "height": self.height,
            "width": self.width,
            "seed": seed_json(Some(self.config_seed)),
        })))
    }
    fn build(&mut self, s: &[Shape], _: &mut WeightBuilder) -> Result<()> {
        build_sized("RandomCrop", &s[0], self.height, self.width)
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        Ok(vec![with_size(
            "RandomCrop",
            &s[0],
            self.height,
            self.width,
        )?])
    }
    fn forward(&self, inputs: &[Tensor], ctx: &CallCtx) -> Result<Vec<Tensor>> {
        let x = &inputs[0];
        let (h, w) = hw("RandomCrop", x.dims())?;
        if !ctx.training {
            return Ok(vec![ops::cast(x, DType::F32)?]);
        }
        let (top, left) = if h > self.height && w > self.width {
            let u = self.rng.uniform(2, 0.0, 1.0);
            let pick = |u: f64, n: usize| ((u * (n + 1) as f64) as usize).min(n);
            (pick(u[0], h - self.height), pick(u[1], w - self.width))
        } else {
            let (top, left, _, _) = aspect_crop_box(h, w, self.height, self.width);
            (top, left)
        };
        Ok(vec![self.crop_at(x, top, left)?])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{context, LayerExt};
    use crate::ops::Device;

    #[test]
    fn windows_stay_inside_and_inference_passes_through() {
        let x = Tensor::arange(0f32, 36.0, &Device::Cpu)
            .unwrap()
            .reshape((1, 6, 6, 1))
            .unwrap();
        let l = RandomCrop::new(2, 2).seed(4).into_layer();
        assert_eq!(l.apply(&x).unwrap().dims(), &[1, 6, 6, 1]);
        let _t = context::set_training(true);
        let mut tops = std::collections::HashSet::new();
        for _ in 0..200 {
            let v = ops::to_vec_f32(&l.apply(&x).unwrap()).unwrap();
            let (r, c) = ((v[0] as usize) / 6, (v[0] as usize) % 6);
            assert!(r <= 4 && c <= 4);
            assert_eq!(v, [v[0], v[0] + 1.0, v[0] + 6.0, v[0] + 7.0]);
            tops.insert((r, c));
        }
        assert_eq!(tops.len(), 25, "every window position is drawn");
    }
}
