//! `UpSampling1D` / `UpSampling2D`: repeat (nearest) or interpolate (bilinear).

use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, InputSpec, Layer, LayerArgs, LayerRef, Shape, WeightBuilder};
use crate::layers::convolutional::Size2;
use crate::layers::data_format::DataFormat;
use crate::ops::{self, Tensor};
use crate::serialization::{config, json, Cfg, Config};
use crate::{Error, Result};

/// Upsampling by integer factors; made by [`UpSampling1D::new`] or [`UpSampling2D::new`].
pub struct UpSampling {
    args: LayerArgs,
    rank: usize,
    size: Size2,
    interpolation: String,
    data_format: String,
}

/// `keras.layers.UpSampling2D`: repeats rows and columns (`nearest`, default) or
/// interpolates (`bilinear`). `data_format("channels_first")` inputs are moved to
/// `channels_last` once per call and back.
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::UpSampling2D;
/// let y = UpSampling2D::new((2, 3)).data_format("channels_first").call(&Input::new([4, 5, 6]))?;
/// assert_eq!(y.shape().to_string(), "(None, 4, 10, 18)");
/// # Ok::<(), keras::Error>(())
/// ```
pub struct UpSampling2D;
impl UpSampling2D {
    /// Upsampling by `size` (an int or `(h, w)`).
    #[allow(clippy::new_ret_no_self)]
    pub fn new(size: impl Into<Size2>) -> UpSampling {
        UpSampling {
            args: LayerArgs::default(),
            rank: 2,
            size: size.into(),
            interpolation: "nearest".into(),
            data_format: crate::layers::data_format::image_data_format().into(),
        }
    }
}

/// `keras.layers.UpSampling1D`: repeats each step `size` times.
pub struct UpSampling1D;
impl UpSampling1D {
    /// Upsampling by `size`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(size: usize) -> UpSampling {
        UpSampling {
            args: LayerArgs::default(),
            rank: 1,
            size: Size2(1, size),
            interpolation: "nearest".into(),
            data_format: "channels_last".into(),
        }
    }
}

impl UpSampling {
    /// `"nearest"` or `"bilinear"` (2D only).
    pub fn interpolation(mut self, i: &str) -> Self {
        self.interpolation = i.to_string();
        self
    }
    /// `"channels_last"` (default) or `"channels_first"` (2D only, as Keras; `UpSampling1D`
    /// has no `data_format`); another value is an error at build.
    pub fn data_format(mut self, f: &str) -> Self {
        self.data_format = f.to_lowercase();
        self
    }
    fn format(&self) -> Result<DataFormat> {
        DataFormat::parse(&self.data_format)
    }
}

/// `(out, in)` matrix of JAX's bilinear resize along one axis (half-pixel centres, edges
/// clamped).
fn bilinear_matrix(n_in: usize, scale: usize) -> Vec<f64> {
    let n_out = n_in * scale;
    let mut m = vec![0.0; n_out * n_in];
    for o in 0..n_out {
        let src = ((o as f64 + 0.5) / scale as f64 - 0.5).clamp(0.0, (n_in - 1) as f64);
        let lo = src.floor() as usize;
        let hi = (lo + 1).min(n_in - 1);
        let t = src - lo as f64;
        m[o * n_in + lo] += 1.0 - t;
        m[o * n_in + hi] += t;
    }
    m
}

impl UpSampling1D {
    /// An `UpSampling1D` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        apply_base_config(UpSampling1D::new(c.one("size", 2)?), c)
    }
}

impl UpSampling2D {
    /// An `UpSampling2D` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        let l = UpSampling2D::new(c.pair("size", (2, 2))?)
            .interpolation(c.str_or("interpolation", "nearest")?)
            .data_format(&DataFormat::read(c)?);
        apply_base_config(l, c)
    }
}

impl Layer for UpSampling {
    fn class_name(&self) -> &str {
        if self.rank == 1 {
            "UpSampling1D"
        } else {
            "UpSampling2D"
        }
    }
    fn get_config(&self) -> Result<Config> {
        Ok(config(if self.rank == 1 {
            json!({ "size": self.size.1 })
        } else {
            json!({
                "size": [self.size.0, self.size.1],
                "data_format": self.data_format,
                "interpolation": self.interpolation,
            })
        }))
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn input_spec(&self) -> Vec<InputSpec> {
        vec![InputSpec::new().ndim(self.rank + 2)]
    }
    fn build(&mut self, _: &[Shape], _: &mut WeightBuilder) -> Result<()> {
        self.format()?;
        match (self.interpolation.as_str(), self.rank) {
            ("nearest", _) | ("bilinear", 2) => Ok(()),
            (other, _) => Err(Error::value(format!(
                "`interpolation` argument should be one of: \"nearest\" or \"bilinear\" (2D only). Received: \"{other}\"."
            ))),
        }
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        let f = self.format()?;
        let d = &f.shape_to_last(&s[0]).0;
        let mut out = d.clone();
        if self.rank == 1 {
            out[1] = d[1].map(|v| v * self.size.1);
        } else {
            out[1] = d[1].map(|v| v * self.size.0);
            out[2] = d[2].map(|v| v * self.size.1);
        }
        Ok(vec![f.shape_from_last(&Shape(out))])
    }
    fn forward(&self, inputs: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
        let f = self.format()?;
        let x = f.to_last(&inputs[0])?;
        let x = if self.rank == 1 { x.unsqueeze(1)? } else { x };
        let (n, h, w, c) = x.dims4()?;
        let (sh, sw) = (self.size.0, self.size.1);
        let y = if self.interpolation == "bilinear" {
            // out = A_h . x . A_w^T, as two matmuls over the spatial axes.
            let ah = ops::cast(
                &ops::from_vec(bilinear_matrix(h, sh), &[h * sh, h])?,
                x.dtype(),
            )?;
            let aw = ops::cast(
                &ops::from_vec(bilinear_matrix(w, sw), &[w * sw, w])?,
                x.dtype(),
            )?;
            // (n, h, w, c) -> (n*w*c, h) @ ah^T -> (n, w, c, H)
            let t = x
                .permute((0, 2, 3, 1))?
                .contiguous()?
                .reshape((n * w * c, h))?
                .matmul(&ah.t()?)?;
            let t = t
                .reshape((n, w, c, h * sh))?
                .permute((0, 3, 2, 1))?
                .contiguous()?; // (n, H, c, w)
            let t = t.reshape((n * h * sh * c, w))?.matmul(&aw.t()?)?; // (n*H*c, W)
            t.reshape((n, h * sh, c, w * sw))?
                .permute((0, 1, 3, 2))?
                .contiguous()?
        } else {
            x.reshape((n, h, 1, w, 1, c))?
                .broadcast_as((n, h, sh, w, sw, c))?
                .contiguous()?
                .reshape((n, h * sh, w * sw, c))?
        };
        Ok(vec![f.back_from_last(&if self.rank == 1 {
            y.squeeze(1)?
        } else {
            y
        })?])
    }
}
