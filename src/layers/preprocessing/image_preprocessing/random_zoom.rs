//! `RandomZoom` (`keras/src/layers/preprocessing/image_preprocessing/random_zoom.py`).

use super::affine::{self, affine_builders, AffineOptions};
use super::base::{apply_seeded_config, config_factor, same_image_shape, Factor, SeedRng};
use crate::engine::{CallCtx, Layer, LayerArgs, LayerRef, Shape, WeightBuilder};
use crate::ops::Tensor;
use crate::serialization::{json, Cfg, Config, Value};
use crate::Result;

const ZOOM_ERROR: &str = "The `height_factor` and `width_factor` arguments should be a number \
                          (or a list of two numbers) in the range (-1.0, 1.0]. ";

/// The height's zoom range, and the width's when it has its own.
type ZoomRanges = ((f64, f64), Option<(f64, f64)>);

/// Zooms each image in or out by a random amount while training. `height_factor` is a
/// fraction of the height: a number `f` draws the zoom from `[1 - f, 1 + f]`, a pair
/// `(lower, upper)` from `[1 + lower, 1 + upper]` (a positive value zooms *out*, as in
/// Keras). `width_factor` likewise; without it the width keeps the image's aspect ratio
/// (the same zoom as the height). Fill and interpolation as [`super::RandomRotation`]. At
/// inference the images pass through (cast to float32).
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::preprocessing::RandomZoom;
/// let y = RandomZoom::new(0.2).width_factor((-0.1, 0.3)).call(&Input::new([16, 16, 3]))?;
/// assert_eq!(y.shape().to_string(), "(None, 16, 16, 3)");
/// # Ok::<(), keras::Error>(())
/// ```
pub struct RandomZoom {
    args: LayerArgs,
    height_factor: Factor,
    width_factor: Option<Factor>,
    affine: AffineOptions,
}

impl RandomZoom {
    /// Zooms drawn from `height_factor` (a number or a `(lower, upper)` pair).
    pub fn new(height_factor: impl Into<Factor>) -> Self {
        RandomZoom {
            args: LayerArgs::default(),
            height_factor: height_factor.into(),
            width_factor: None,
            affine: AffineOptions::default(),
        }
    }
    /// A separate range for the width's zoom.
    pub fn width_factor(mut self, f: impl Into<Factor>) -> Self {
        self.width_factor = Some(f.into());
        self
    }
    affine_builders!();
    fn ranges(&self) -> Result<ZoomRanges> {
        let h = self.height_factor.symmetric_range(true, ZOOM_ERROR)?;
        let w = self
            .width_factor
            .map(|f| f.symmetric_range(true, ZOOM_ERROR))
            .transpose()?;
        Ok((h, w))
    }
}

impl RandomZoom {
    /// A `RandomZoom` from its Keras config (no `width_factor`: the height's).
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        let mut l = RandomZoom::new(config_factor(c, "height_factor")?);
        if c.get("width_factor").is_some() {
            l = l.width_factor(config_factor(c, "width_factor")?);
        }
        l.affine.read_config(c)?;
        apply_seeded_config(l, RandomZoom::seed, c)
    }
}

impl Layer for RandomZoom {
    fn class_name(&self) -> &str {
        "RandomZoom"
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
            "width_factor": self.width_factor.map(Factor::to_json).unwrap_or(Value::Null),
        })))
    }
    fn build(&mut self, s: &[Shape], _: &mut WeightBuilder) -> Result<()> {
        self.ranges()?;
        self.affine.build("RandomZoom", s)
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        same_image_shape("RandomZoom", s)
    }
    fn forward(&self, inputs: &[Tensor], ctx: &CallCtx) -> Result<Vec<Tensor>> {
        let draw = |((hl, hu), wr): ZoomRanges, rng: &SeedRng, n, h, w| {
            let f32r = |v: f64| v as f32 as f64;
            let hz = rng.uniform(n, f32r(1.0 + hl), f32r(1.0 + hu));
            let wz = match wr {
                Some((wl, wu)) => rng.uniform(n, f32r(1.0 + wl), f32r(1.0 + wu)),
                None => hz.clone(),
            };
            hz.iter()
                .zip(&wz)
                .map(|(&zy, &zx)| affine::zoom(zx as f32, zy as f32, h, w))
                .collect()
        };
        self.affine
            .forward("RandomZoom", &inputs[0], ctx, || self.ranges(), draw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::LayerExt;
    use crate::ops::{DType, Device};

    #[test]
    fn factors_out_of_range_are_refused() {
        let x = Tensor::zeros((1, 4, 4, 1), DType::F32, &Device::Cpu).unwrap();
        let e = RandomZoom::new(-1.0).into_layer().apply(&x).unwrap_err();
        assert!(
            e.to_string()
                .contains("(-1.0, 1.0]. Received: input_number=-1.0"),
            "{e}"
        );
        let c = RandomZoom::new((0.1, 0.2)).get_config().unwrap();
        assert_eq!(c["height_factor"], json!([0.1, 0.2]));
        assert_eq!(c["width_factor"], Value::Null);
    }
}
