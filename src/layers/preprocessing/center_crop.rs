//! `CenterCrop` (`keras/src/layers/preprocessing/image_preprocessing/center_crop.py`).

use super::resizing::{build_sized, resize_images, with_size, Aspect};
use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, Layer, LayerArgs, LayerRef, Shape, WeightBuilder};
use crate::ops::image::{self, Interpolation};
use crate::ops::{self, DType, Tensor};
use crate::serialization::{config, json, Cfg, Config};
use crate::Result;

/// Crops the centre `height` x `width` window of each image. When the image is smaller than
/// the window in either dimension it is resized instead, as Keras does (`smart_resize`: the
/// largest centred window of the target's aspect ratio, resized bilinearly). Takes a batch
/// `(b, h, w, c)` or one image `(h, w, c)`; the output is float32.
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::preprocessing::CenterCrop;
/// let x = Tensor::arange(0f32, 16.0, &Device::Cpu)?.reshape((4, 4, 1))?;
/// let y = CenterCrop::new(2, 2).into_layer().apply(&x)?;
/// assert_eq!(y.flatten_all()?.to_vec1::<f32>()?, vec![5.0, 6.0, 9.0, 10.0]);
/// # Ok::<(), keras::Error>(())
/// ```
pub struct CenterCrop {
    args: LayerArgs,
    height: usize,
    width: usize,
}

impl CenterCrop {
    /// Crops to `height` x `width`.
    pub fn new(height: usize, width: usize) -> Self {
        CenterCrop {
            args: LayerArgs::default(),
            height,
            width,
        }
    }
}

/// Keras's `CenterCrop.transform_images` of a rank-3 or rank-4 tensor.
pub(crate) fn center_crop(x: &Tensor, height: usize, width: usize) -> Result<Tensor> {
    let x = ops::cast(x, DType::F32)?;
    let (h, w) = super::image_preprocessing::base::hw("CenterCrop", x.dims())?;
    if h >= height && w >= width {
        return image::crop(&x, (h - height) / 2, (w - width) / 2, height, width);
    }
    resize_images(
        &x,
        height,
        width,
        Interpolation::Bilinear,
        false,
        Aspect::Crop,
    )
}

impl CenterCrop {
    /// A `CenterCrop` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        c.channels_last()?;
        apply_base_config(CenterCrop::new(c.usize("height")?, c.usize("width")?), c)
    }
}

impl Layer for CenterCrop {
    fn class_name(&self) -> &str {
        "CenterCrop"
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
        })))
    }
    fn build(&mut self, s: &[Shape], _: &mut WeightBuilder) -> Result<()> {
        build_sized("CenterCrop", &s[0], self.height, self.width)
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        Ok(vec![with_size(
            "CenterCrop",
            &s[0],
            self.height,
            self.width,
        )?])
    }
    fn forward(&self, inputs: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
        Ok(vec![center_crop(&inputs[0], self.height, self.width)?])
    }
}
