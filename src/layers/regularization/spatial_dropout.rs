//! `SpatialDropout1D` / `SpatialDropout2D`: drop whole feature maps while training.

use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, InputSpec, Layer, LayerArgs, LayerRef, Shape, WeightBuilder};
use crate::ops::{self, random, DType, Tensor};
use crate::serialization::{config, json, Cfg, Config};
use crate::{Error, Result};

/// Checks a dropout rate as Keras does.
pub(crate) fn check_rate(rate: f64) -> Result<()> {
    if !(0.0..1.0).contains(&rate) {
        return Err(Error::value(format!(
            "Invalid value received for argument `rate`. Expected a float value between 0 and 1. \
             Received: rate={rate}"
        )));
    }
    Ok(())
}

/// Dropout of whole channels: one keep/drop draw per (sample, channel), shared along the
/// steps (1D, input `(batch, steps, channels)`) or rows and columns (2D, `(batch, h, w, c)`).
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::SpatialDropout1D;
/// let d = SpatialDropout1D::new(0.5).into_layer();
/// let x = Tensor::ones((2, 10, 8), DType::F32, &Device::Cpu)?;
/// let _training = keras::engine::context::set_training(true);
/// let y = d.apply(&x)?.to_vec3::<f32>()?;
/// // A channel is all zeros or all 2.0 along the steps.
/// assert!(y[0].iter().all(|step| step[3] == y[0][0][3]));
/// # Ok::<(), keras::Error>(())
/// ```
pub struct SpatialDropout {
    args: LayerArgs,
    rate: f64,
    rank: usize,
}

/// Spatial dropout over `(batch, steps, channels)`.
pub struct SpatialDropout1D;
/// Spatial dropout over `(batch, height, width, channels)`.
pub struct SpatialDropout2D;

impl SpatialDropout1D {
    /// Drops each channel of each sample with probability `rate`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(rate: f64) -> SpatialDropout {
        SpatialDropout {
            args: LayerArgs::default(),
            rate,
            rank: 3,
        }
    }
}

impl SpatialDropout2D {
    /// Drops each channel of each sample with probability `rate`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(rate: f64) -> SpatialDropout {
        SpatialDropout {
            args: LayerArgs::default(),
            rate,
            rank: 4,
        }
    }
}

impl SpatialDropout1D {
    /// A `SpatialDropout1D` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        apply_base_config(SpatialDropout1D::new(c.f64_or("rate", 0.0)?), c)
    }
}

impl SpatialDropout2D {
    /// A `SpatialDropout2D` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        c.channels_last()?;
        apply_base_config(SpatialDropout2D::new(c.f64_or("rate", 0.0)?), c)
    }
}

impl Layer for SpatialDropout {
    fn supports_masking(&self) -> bool {
        true
    }
    fn base_config(&self, mut base: Config) -> Config {
        // Keras's SpatialDropout takes no `trainable` and writes its dtype as a name.
        base.remove("trainable");
        let dtype = self.args.dtype.unwrap_or(DType::F32);
        base.insert("dtype".into(), ops::dtype_name(dtype).into());
        base
    }
    fn class_name(&self) -> &str {
        if self.rank == 3 {
            "SpatialDropout1D"
        } else {
            "SpatialDropout2D"
        }
    }
    fn get_config(&self) -> Result<Config> {
        let mut v = json!({"rate": self.rate, "seed": null});
        if self.rank == 4 {
            v["data_format"] = json!("channels_last");
        }
        Ok(config(v))
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn input_spec(&self) -> Vec<InputSpec> {
        vec![InputSpec::new().ndim(self.rank)]
    }
    fn build(&mut self, _: &[Shape], _: &mut WeightBuilder) -> Result<()> {
        check_rate(self.rate)
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        Ok(vec![s[0].clone()])
    }
    fn forward(&self, inputs: &[Tensor], ctx: &CallCtx) -> Result<Vec<Tensor>> {
        let x = &inputs[0];
        if !ctx.training || self.rate == 0.0 {
            return Ok(vec![x.clone()]);
        }
        let d = x.dims();
        let mut noise_shape = vec![1; d.len()];
        noise_shape[0] = d[0];
        noise_shape[d.len() - 1] = d[d.len() - 1];
        let keep = 1.0 - self.rate;
        let n: usize = noise_shape.iter().product();
        let mask: Vec<f64> = random::with_rng(|r| {
            (0..n)
                .map(|_| if r.uniform() < keep { 1.0 / keep } else { 0.0 })
                .collect()
        });
        let mask =
            ops::cast(&ops::from_vec(mask, &noise_shape)?, x.dtype())?.to_device(x.device())?;
        Ok(vec![x.broadcast_mul(&mask)?])
    }
}
