//! The transform matrices of the affine image layers, computed in float32 as Keras does
//! (`BaseImagePreprocessingLayer._compute_affine_matrix`, `RandomZoom._get_zoom_matrix`,
//! `RandomTranslation._get_translation_matrix`), and the call that applies them.

use super::base::{affine_options, batch_size, hw, image_axes, seed_json, SeedRng};
use crate::engine::{CallCtx, Shape};
use crate::ops::image::{self, FillMode, Interpolation, Transform};
use crate::ops::{self, DType, Tensor};
use crate::serialization::{config, json, Cfg, Config, Value};
use crate::Result;

/// The arguments `RandomRotation`, `RandomTranslation` and `RandomZoom` share: `fill_mode`,
/// `interpolation`, `fill_value` and the `seed` (its generator).
pub(crate) struct AffineOptions {
    pub fill_mode: String,
    pub interpolation: String,
    pub fill_value: f64,
    pub rng: SeedRng,
}

impl Default for AffineOptions {
    fn default() -> Self {
        AffineOptions {
            fill_mode: "reflect".into(),
            interpolation: "bilinear".into(),
            fill_value: 0.0,
            rng: SeedRng::new(None),
        }
    }
}

impl AffineOptions {
    /// Reads `fill_mode`, `interpolation` and `fill_value` from a config (Keras's defaults
    /// when absent); the seed is the layer's (see `base::apply_seeded_config`).
    pub fn read_config(&mut self, c: &Cfg) -> Result<()> {
        self.fill_mode = c.str_or("fill_mode", "reflect")?.into();
        self.interpolation = c.str_or("interpolation", "bilinear")?.into();
        self.fill_value = c.f64_or("fill_value", 0.0)?;
        Ok(())
    }

    /// Checks `fill_mode` and `interpolation`.
    pub fn check(&self) -> Result<(FillMode, Interpolation)> {
        affine_options(&self.fill_mode, &self.interpolation)
    }

    /// An affine layer's build, once its factors are checked: these options, then an image
    /// input shape.
    pub fn build(&self, layer: &str, s: &[Shape]) -> Result<()> {
        self.check()?;
        image_axes(layer, &s[0]).map(|_| ())
    }

    /// The layer's config: `fields` (an object) with `data_format` and these options.
    pub fn config(&self, fields: Value) -> Config {
        let mut c = config(fields);
        let shared = json!({
            "data_format": "channels_last",
            "fill_mode": self.fill_mode,
            "interpolation": self.interpolation,
            "seed": seed_json(self.rng.seed()),
            "fill_value": self.fill_value,
        });
        c.extend(config(shared));
        c
    }

    /// The call of an affine layer: the images cast to float32 at inference; while
    /// training, `ranges` (the layer's checked factors), then these options are checked and
    /// `draw` gives one transform per image from the ranges, the generator, the number of
    /// images and their height and width.
    pub fn forward<R>(
        &self,
        layer: &str,
        x: &Tensor,
        ctx: &CallCtx,
        ranges: impl FnOnce() -> Result<R>,
        draw: impl FnOnce(R, &SeedRng, usize, usize, usize) -> Vec<Transform>,
    ) -> Result<Vec<Tensor>> {
        let (h, w) = hw(layer, x.dims())?;
        if !ctx.training {
            return Ok(vec![ops::cast(x, DType::F32)?]);
        }
        let r = ranges()?;
        let (fm, ip) = self.check()?;
        let t = draw(r, &self.rng, batch_size(x.dims()), h, w);
        Ok(vec![apply(x, &t, ip, fm, self.fill_value)?])
    }
}

/// The `fill_mode`, `interpolation`, `fill_value` and `seed` builders of a layer with an
/// `affine: AffineOptions` field.
macro_rules! affine_builders {
    () => {
        /// How points outside the image are filled (default `"reflect"`).
        pub fn fill_mode(mut self, mode: &str) -> Self {
            self.affine.fill_mode = mode.into();
            self
        }
        /// `"bilinear"` (default) or `"nearest"`.
        pub fn interpolation(mut self, i: &str) -> Self {
            self.affine.interpolation = i.into();
            self
        }
        /// The value of filled points when `fill_mode` is `"constant"` (default 0).
        pub fn fill_value(mut self, v: f64) -> Self {
            self.affine.fill_value = v;
            self
        }
        /// Draws from the layer's own generator seeded with `seed`.
        pub fn seed(mut self, seed: u64) -> Self {
            self.affine.rng = super::base::SeedRng::new(Some(seed));
            self
        }
    };
}
pub(crate) use affine_builders;

/// A rotation by `angle` degrees about the image centre (`RandomRotation`), for an image of
/// `height` x `width`.
pub(crate) fn rotation(angle: f32, height: usize, width: usize) -> Transform {
    let rad = angle * (std::f64::consts::PI / 180.0) as f32;
    let (w, h) = (width as f32, height as f32);
    let cx = 0.5f32 * (w - 1.0);
    let cy = 0.5f32 * (h - 1.0);
    let (cos, sin) = (rad.cos(), rad.sin());
    let (shear_x, shear_y) = (0f32, 0f32);
    let scale = 1f32;
    let a0 = scale * (cos + shear_x * sin);
    let a1 = scale * (-sin + shear_x * cos);
    let a2 = 0.0 + cx - cx * a0 - cy * a1;
    let b0 = scale * (shear_y * cos + sin);
    let b1 = scale * (shear_y * -sin + cos);
    let b2 = 0.0 + cy - cx * b0 - cy * b1;
    [a0, a1, a2, b0, b1, b2, 0.0, 0.0]
}

/// A zoom by `zx` (width) and `zy` (height) about the image centre (`RandomZoom`).
pub(crate) fn zoom(zx: f32, zy: f32, height: usize, width: usize) -> Transform {
    let x_offset = ((width as f32 - 1.0) / 2.0) * (1.0 - zx);
    let y_offset = ((height as f32 - 1.0) / 2.0) * (1.0 - zy);
    [zx, 0.0, x_offset, 0.0, zy, y_offset, 0.0, 0.0]
}

/// A shift by `(dx, dy)` pixels (`RandomTranslation`).
pub(crate) fn translation(dx: f32, dy: f32) -> Transform {
    [1.0, 0.0, -dx, 0.0, 1.0, -dy, 0.0, 0.0]
}

/// Applies one transform per image to a rank-3 or rank-4 float32 batch.
pub(crate) fn apply(
    x: &Tensor,
    transforms: &[Transform],
    interpolation: Interpolation,
    fill_mode: FillMode,
    fill_value: f64,
) -> Result<Tensor> {
    let x = ops::cast(x, DType::F32)?;
    image::affine_transform(&x, transforms, interpolation, fill_mode, fill_value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zero_rotation_is_the_identity() {
        let t = rotation(0.0, 5, 7);
        assert_eq!(t, [1.0, -0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]);
        let t = rotation(90.0, 5, 5);
        // Output (x, y) reads input (-y + 4, x) about the centre (2, 2), to float32 rounding.
        assert!(
            (t[1] + 1.0).abs() < 1e-6 && (t[2] - 4.0).abs() < 1e-5 && (t[3] - 1.0).abs() < 1e-6
        );
        assert_eq!(
            zoom(1.0, 1.0, 4, 4),
            [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]
        );
        assert_eq!(translation(2.0, -1.0)[2], -2.0);
    }
}
