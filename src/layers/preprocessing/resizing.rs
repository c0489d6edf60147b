//! `Resizing` (`keras/src/layers/preprocessing/image_preprocessing/resizing.py`) and the
//! resize Keras-JAX's `keras.ops.image.resize` does (with its aspect-ratio crop and pad).

use super::image_preprocessing::base::image_axes;
use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, Layer, LayerArgs, LayerRef, Shape, WeightBuilder};
use crate::ops::image::{self, Interpolation};
use crate::ops::{self, DType, Tensor};
use crate::serialization::{config, json, Cfg, Config};
use crate::{Error, Result};

/// How [`resize_images`] fits the image's aspect ratio to the target's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Aspect {
    /// Stretch.
    Stretch,
    /// Crop the largest centred window of the target's aspect ratio first.
    Crop,
    /// Pad to the target's aspect ratio with this value first.
    Pad(f64),
}

/// The centred crop window `(top, left, height, width)` of the target's aspect ratio
/// (Keras's `crop_to_aspect_ratio` / `smart_resize` arithmetic).
pub(crate) fn aspect_crop_box(
    h: usize,
    w: usize,
    th: usize,
    tw: usize,
) -> (usize, usize, usize, usize) {
    let ch = ((w * th) as f64 / tw as f64) as usize;
    let ch = ch.min(h).max(1);
    let cw = ((h * tw) as f64 / th as f64) as usize;
    let cw = cw.min(w).max(1);
    let top = ((h - ch) as f64 / 2.0) as usize;
    let left = ((w - cw) as f64 / 2.0) as usize;
    (top, left, ch, cw)
}

/// Pads `x` (float32, rank 3 or 4) on both sides of `axis` with `n` rows of `value`.
fn pad_axis(x: &Tensor, axis: usize, n: usize, value: f64) -> Result<Tensor> {
    let mut dims = x.dims().to_vec();
    dims[axis] = n;
    let fill = (Tensor::ones(dims, DType::F32, x.device())? * value)?;
    Ok(Tensor::cat(&[&fill, x, &fill], axis)?)
}

/// Keras-JAX's `keras.ops.image.resize` of a rank-3 or rank-4 `channels_last` tensor to
/// `(height, width)`. Integer images are resized as floats, then rounded and clipped back to
/// their dtype, as Keras's `Resizing` does; float images come back float32.
pub(crate) fn resize_images(
    x: &Tensor,
    height: usize,
    width: usize,
    interpolation: Interpolation,
    antialias: bool,
    aspect: Aspect,
) -> Result<Tensor> {
    let in_dtype = x.dtype();
    let mut img = ops::cast(x, DType::F32)?;
    let r = img.rank();
    if r != 3 && r != 4 {
        return Err(Error::value(format!(
            "Invalid images rank: expected rank 3 (single image) or rank 4 (batch of images). \
             Received input with shape: images.shape={:?}",
            x.dims()
        )));
    }
    let (ha, wa) = (r - 3, r - 2);
    let (h, w) = (img.dim(ha)?, img.dim(wa)?);
    match aspect {
        Aspect::Stretch => {}
        Aspect::Crop => {
            let (top, left, ch, cw) = aspect_crop_box(h, w, height, width);
            img = image::crop(&img, top, left, ch, cw)?;
        }
        Aspect::Pad(value) => {
            let ph = (((w * height) as f64 / width as f64) as usize).max(h);
            let pw = (((h * width) as f64 / height as f64) as usize).max(w);
            let hstart = ((ph - h) as f64 / 2.0) as usize;
            let wstart = ((pw - w) as f64 / 2.0) as usize;
            if hstart > 0 {
                img = pad_axis(&img, ha, hstart, value)?;
            } else if wstart > 0 {
                img = pad_axis(&img, wa, wstart, value)?;
            }
        }
    }
    let y = image::resize(&img, height, width, interpolation, antialias)?;
    if in_dtype.is_float() {
        Ok(y)
    } else {
        image::saturate_cast(&y, in_dtype)
    }
}

/// Resizes images to `(height, width)`: `interpolation` `"bilinear"` (default), `"nearest"`,
/// `"bicubic"`, `"lanczos3"` or `"lanczos5"`; `crop_to_aspect_ratio` crops the largest
/// centred window of the target's aspect ratio first, `pad_to_aspect_ratio` pads with
/// `fill_value` instead; `antialias` filters when downsampling. Takes a batch `(b, h, w, c)`
/// or one image `(h, w, c)`; integer images stay integers (rounded), as in Keras.
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::preprocessing::Resizing;
/// let y = Resizing::new(64, 48).crop_to_aspect_ratio(true).call(&Input::new([100, 120, 3]))?;
/// assert_eq!(y.shape().to_string(), "(None, 64, 48, 3)");
/// # Ok::<(), keras::Error>(())
/// ```
pub struct Resizing {
    args: LayerArgs,
    height: usize,
    width: usize,
    interpolation: String,
    crop_to_aspect_ratio: bool,
    pad_to_aspect_ratio: bool,
    fill_mode: String,
    fill_value: f64,
    antialias: bool,
}

impl Resizing {
    /// Resizes to `height` x `width`.
    pub fn new(height: usize, width: usize) -> Self {
        Resizing {
            args: LayerArgs::default(),
            height,
            width,
            interpolation: "bilinear".into(),
            crop_to_aspect_ratio: false,
            pad_to_aspect_ratio: false,
            fill_mode: "constant".into(),
            fill_value: 0.0,
            antialias: false,
        }
    }
    /// The interpolation (default `"bilinear"`).
    pub fn interpolation(mut self, i: &str) -> Self {
        self.interpolation = i.into();
        self
    }
    /// Crop to the target's aspect ratio before resizing.
    pub fn crop_to_aspect_ratio(mut self, on: bool) -> Self {
        self.crop_to_aspect_ratio = on;
        self
    }
    /// Pad to the target's aspect ratio (with `fill_value`) before resizing.
    pub fn pad_to_aspect_ratio(mut self, on: bool) -> Self {
        self.pad_to_aspect_ratio = on;
        self
    }
    /// How padding is filled: only `"constant"`, as in Keras.
    pub fn fill_mode(mut self, mode: &str) -> Self {
        self.fill_mode = mode.into();
        self
    }
    /// The padding value (default 0).
    pub fn fill_value(mut self, v: f64) -> Self {
        self.fill_value = v;
        self
    }
    /// Filter when downsampling (default off).
    pub fn antialias(mut self, on: bool) -> Self {
        self.antialias = on;
        self
    }
    fn options(&self) -> Result<(Interpolation, Aspect)> {
        let ip = Interpolation::parse(&self.interpolation)?;
        if self.fill_mode != "constant" {
            return Err(Error::value(format!(
                "Invalid value for argument `fill_mode`. Only `'constant'` is supported. \
                 Received: fill_mode={}",
                self.fill_mode
            )));
        }
        check_size("Resizing", self.height, self.width)?;
        let aspect = match (self.crop_to_aspect_ratio, self.pad_to_aspect_ratio) {
            (true, true) => {
                return Err(Error::value(
                    "Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be `True`.",
                ))
            }
            (true, false) => Aspect::Crop,
            (false, true) => Aspect::Pad(self.fill_value),
            _ => Aspect::Stretch,
        };
        Ok((ip, aspect))
    }
}

/// Refuses a zero `height` or `width` (the target size of `layer`).
pub(crate) fn check_size(layer: &str, height: usize, width: usize) -> Result<()> {
    if height == 0 || width == 0 {
        return Err(Error::value(format!(
            "{layer}: `height` and `width` must be positive. Received: height={height}, \
             width={width}"
        )));
    }
    Ok(())
}

/// A cropping layer's build: a positive target size, an image input shape.
pub(crate) fn build_sized(layer: &str, s: &Shape, height: usize, width: usize) -> Result<()> {
    check_size(layer, height, width)?;
    with_size(layer, s, height, width).map(|_| ())
}

/// The image shape `s` with its height and width set to `(h, w)`.
pub(crate) fn with_size(layer: &str, s: &Shape, h: usize, w: usize) -> Result<Shape> {
    let (ha, wa) = image_axes(layer, s)?;
    let mut d = s.0.clone();
    d[ha] = Some(h);
    d[wa] = Some(w);
    Ok(Shape(d))
}

impl Resizing {
    /// A `Resizing` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        c.channels_last()?;
        let l = Resizing::new(c.usize("height")?, c.usize("width")?)
            .interpolation(c.str_or("interpolation", "bilinear")?)
            .crop_to_aspect_ratio(c.bool_or("crop_to_aspect_ratio", false)?)
            .pad_to_aspect_ratio(c.bool_or("pad_to_aspect_ratio", false)?)
            .fill_mode(c.str_or("fill_mode", "constant")?)
            .fill_value(c.f64_or("fill_value", 0.0)?)
            .antialias(c.bool_or("antialias", false)?);
        apply_base_config(l, c)
    }
}

impl Layer for Resizing {
    fn class_name(&self) -> &str {
        "Resizing"
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
            "interpolation": self.interpolation,
            "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
            "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "antialias": self.antialias,
        })))
    }
    fn build(&mut self, s: &[Shape], _: &mut WeightBuilder) -> Result<()> {
        self.options()?;
        image_axes("Resizing", &s[0]).map(|_| ())
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        Ok(vec![with_size("Resizing", &s[0], self.height, self.width)?])
    }
    fn compute_output_dtype(&self, input_dtypes: &[DType], n: usize) -> Vec<DType> {
        let d = match input_dtypes.first() {
            Some(d) if !d.is_float() => *d,
            _ => DType::F32,
        };
        vec![d; n]
    }
    fn forward(&self, inputs: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
        let (ip, aspect) = self.options()?;
        Ok(vec![resize_images(
            &inputs[0],
            self.height,
            self.width,
            ip,
            self.antialias,
            aspect,
        )?])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::LayerExt;
    use crate::ops::Device;

    #[test]
    fn crop_box_follows_keras() {
        assert_eq!(aspect_crop_box(5, 7, 4, 4), (0, 1, 5, 5));
        assert_eq!(aspect_crop_box(5, 7, 6, 3), (0, 2, 5, 2));
        assert_eq!(aspect_crop_box(10, 4, 1, 2), (4, 0, 2, 4));
    }

    #[test]
    fn bad_options_are_refused() {
        let x = Tensor::zeros((1, 4, 4, 1), DType::F32, &Device::Cpu).unwrap();
        let e = Resizing::new(2, 2)
            .interpolation("area")
            .into_layer()
            .apply(&x)
            .unwrap_err();
        assert!(e.to_string().contains("interpolation=area"), "{e}");
        let e = Resizing::new(2, 2)
            .crop_to_aspect_ratio(true)
            .pad_to_aspect_ratio(true)
            .into_layer()
            .apply(&x)
            .unwrap_err();
        assert!(e.to_string().contains("Only one of"), "{e}");
        let e = Resizing::new(2, 2)
            .fill_mode("reflect")
            .into_layer()
            .apply(&x)
            .unwrap_err();
        assert!(e.to_string().contains("fill_mode=reflect"), "{e}");
    }
}
