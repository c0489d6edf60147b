//! `ReLU`, `LeakyReLU`, `PReLU`, `ELU` and `Softmax` layers.

use crate::activations::Act;
use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, Layer, LayerArgs, LayerRef, Shape, Weight, WeightBuilder};
use crate::initializers;
use crate::ops::{self, Tensor};
use crate::serialization::{config, json, Cfg, Config, Value};
use crate::{Error, Result};

fn same_shape(s: &[Shape]) -> Result<Vec<Shape>> {
    Ok(vec![s[0].clone()])
}

/// Rectified linear unit with Keras's options: `x` above `threshold` (capped at `max_value`),
/// `negative_slope * (x - threshold)` below.
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::ReLU;
/// let r = ReLU::new().max_value(6.0).into_layer();
/// let y = r.apply(&Tensor::new(&[-1f32, 3.0, 9.0], &Device::Cpu)?.unsqueeze(0)?)?;
/// assert_eq!(y.to_vec2::<f32>()?, vec![vec![0.0, 3.0, 6.0]]);
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Default)]
pub struct ReLU {
    args: LayerArgs,
    max_value: Option<f64>,
    negative_slope: f64,
    threshold: f64,
}

impl ReLU {
    /// A plain ReLU.
    pub fn new() -> Self {
        Self::default()
    }
    /// Cap on the output.
    pub fn max_value(mut self, v: f64) -> Self {
        self.max_value = Some(v);
        self
    }
    /// Slope below the threshold.
    pub fn negative_slope(mut self, v: f64) -> Self {
        self.negative_slope = v;
        self
    }
    /// Values below this are scaled by the negative slope.
    pub fn threshold(mut self, v: f64) -> Self {
        self.threshold = v;
        self
    }
}

impl ReLU {
    /// A `ReLU` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        let mut l = ReLU::new()
            .negative_slope(c.f64_or("negative_slope", 0.0)?)
            .threshold(c.f64_or("threshold", 0.0)?);
        if let Some(m) = c.opt_f64("max_value")? {
            l = l.max_value(m);
        }
        apply_base_config(l, c)
    }
}

impl Layer for ReLU {
    fn supports_masking(&self) -> bool {
        true
    }
    fn class_name(&self) -> &str {
        "ReLU"
    }
    fn get_config(&self) -> Result<Config> {
        Ok(config(
            json!({"max_value": self.max_value, "negative_slope": self.negative_slope, "threshold": self.threshold}),
        ))
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn build(&mut self, _: &[Shape], _: &mut WeightBuilder) -> Result<()> {
        if self.max_value.is_some_and(|m| m < 0.0) || self.negative_slope < 0.0 {
            return Err(Error::value(format!(
                "max_value and negative_slope of a ReLU layer cannot be negative. Received: max_value={:?}, negative_slope={}",
                self.max_value, self.negative_slope
            )));
        }
        Ok(())
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        same_shape(s)
    }
    fn forward(&self, inputs: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
        let x = &inputs[0];
        // Fast path: the plain and capped-at-6 ReLUs are fused ops.
        if self.negative_slope == 0.0 && self.threshold == 0.0 {
            match self.max_value {
                None => return Ok(vec![ops::activation(x, Act::Relu)?]),
                Some(6.0) => return Ok(vec![ops::activation(x, Act::Relu6)?]),
                _ => {}
            }
        }
        let shifted = (x - self.threshold)?;
        let pos = x.broadcast_mul(&shifted.ge(0.0)?.to_dtype(x.dtype())?)?;
        let mut y = (pos.clone() + (shifted.minimum(0.0)? * self.negative_slope)?)?;
        if let Some(m) = self.max_value {
            y = y.minimum(m)?;
        }
        Ok(vec![y])
    }
}

/// `x` if positive, `negative_slope * x` otherwise (Keras 3's layer default slope: 0.3).
pub struct LeakyReLU {
    args: LayerArgs,
    negative_slope: f64,
}

impl Default for LeakyReLU {
    fn default() -> Self {
        LeakyReLU {
            args: LayerArgs::default(),
            negative_slope: 0.3,
        }
    }
}

impl LeakyReLU {
    /// Slope 0.3.
    pub fn new() -> Self {
        Self::default()
    }
    /// The slope for negative inputs.
    pub fn negative_slope(mut self, v: f64) -> Self {
        self.negative_slope = v;
        self
    }
}

impl LeakyReLU {
    /// A `LeakyReLU` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        let l = LeakyReLU::new().negative_slope(c.f64_or("negative_slope", 0.3)?);
        apply_base_config(l, c)
    }
}

impl Layer for LeakyReLU {
    fn supports_masking(&self) -> bool {
        true
    }
    fn class_name(&self) -> &str {
        "LeakyReLU"
    }
    fn get_config(&self) -> Result<Config> {
        Ok(config(json!({"negative_slope": self.negative_slope})))
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        same_shape(s)
    }
    fn forward(&self, inputs: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
        Ok(vec![ops::activation(
            &inputs[0],
            Act::LeakyRelu(self.negative_slope),
        )?])
    }
}

/// Exponential linear unit: `x` if positive, `alpha * (exp(x) - 1)` otherwise (alpha 1).
pub struct ELU {
    args: LayerArgs,
    alpha: f64,
}

impl Default for ELU {
    fn default() -> Self {
        ELU {
            args: LayerArgs::default(),
            alpha: 1.0,
        }
    }
}

impl ELU {
    /// Alpha 1.
    pub fn new() -> Self {
        Self::default()
    }
    /// The scale of the negative part.
    pub fn alpha(mut self, a: f64) -> Self {
        self.alpha = a;
        self
    }
}

impl ELU {
    /// An `ELU` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        apply_base_config(ELU::new().alpha(c.f64_or("alpha", 1.0)?), c)
    }
}

impl Layer for ELU {
    fn supports_masking(&self) -> bool {
        true
    }
    fn class_name(&self) -> &str {
        "ELU"
    }
    fn get_config(&self) -> Result<Config> {
        Ok(config(json!({"alpha": self.alpha})))
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        same_shape(s)
    }
    fn forward(&self, inputs: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
        Ok(vec![ops::activation(&inputs[0], Act::Elu(self.alpha))?])
    }
}

/// Softmax over `axis` (default -1).
pub struct Softmax {
    args: LayerArgs,
    axis: isize,
}

impl Default for Softmax {
    fn default() -> Self {
        Softmax {
            args: LayerArgs::default(),
            axis: -1,
        }
    }
}

impl Softmax {
    /// Over the last axis.
    pub fn new() -> Self {
        Self::default()
    }
    /// The axis to normalize.
    pub fn axis(mut self, a: isize) -> Self {
        self.axis = a;
        self
    }
}

impl Softmax {
    /// A `Softmax` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        apply_base_config(Softmax::new().axis(c.isize_or("axis", -1)?), c)
    }
}

impl Layer for Softmax {
    fn supports_masking(&self) -> bool {
        true
    }
    fn class_name(&self) -> &str {
        "Softmax"
    }
    fn get_config(&self) -> Result<Config> {
        Ok(config(json!({"axis": self.axis})))
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        same_shape(s)
    }
    fn forward(&self, inputs: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
        let x = &inputs[0];
        let axis = ops::normalize_axis(self.axis, x.rank())?;
        let last = x.rank() - 1;
        if axis == last {
            return Ok(vec![ops::activation(x, Act::Softmax)?]);
        }
        let t = x.transpose(axis, last)?.contiguous()?;
        Ok(vec![ops::activation(&t, Act::Softmax)?
            .transpose(axis, last)?
            .contiguous()?])
    }
}

/// Parametric ReLU: `x` if positive, `alpha * x` otherwise, with `alpha` learned per feature
/// (shared along `shared_axes`, 1-based as in Keras).
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::PReLU;
/// let y = PReLU::new().shared_axes(&[1, 2]).call(&Input::new([8, 8, 16]))?;
/// assert_eq!(y.layer().count_params(), 16);
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Default)]
pub struct PReLU {
    args: LayerArgs,
    shared_axes: Vec<usize>,
    alpha: Option<Weight>,
}

impl PReLU {
    /// Alpha initialized to zeros, one per feature.
    pub fn new() -> Self {
        Self::default()
    }
    /// Axes (1-based, batch excluded) along which alpha is shared.
    pub fn shared_axes(mut self, axes: &[usize]) -> Self {
        self.shared_axes = axes.to_vec();
        self
    }
}

impl PReLU {
    /// A `PReLU` from its Keras config (`shared_axes`: null, one axis or a list).
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        let axes = match c.get("shared_axes") {
            None => vec![],
            Some(Value::Array(_)) => c.usizes("shared_axes")?,
            Some(_) => vec![c.one("shared_axes", 1)?],
        };
        apply_base_config(PReLU::new().shared_axes(&axes), c)
    }
}

impl Layer for PReLU {
    fn supports_masking(&self) -> bool {
        true
    }
    fn class_name(&self) -> &str {
        "PReLU"
    }
    fn get_config(&self) -> Result<Config> {
        Ok(config(json!({
            "alpha_initializer": initializers::serialize(&initializers::ZEROS), "alpha_regularizer": null, "alpha_constraint": null,
            "shared_axes": if self.shared_axes.is_empty() { Value::Null } else { json!(self.shared_axes) },
        })))
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn build(&mut self, s: &[Shape], w: &mut WeightBuilder) -> Result<()> {
        let mut shape = vec![];
        for (i, d) in s[0].0.iter().enumerate().skip(1) {
            if self.shared_axes.contains(&i) {
                shape.push(1);
            } else {
                shape.push(d.ok_or_else(|| {
                    Error::value(format!(
                        "PReLU: axis {i} of {} must be known (or shared)",
                        s[0]
                    ))
                })?);
            }
        }
        self.alpha = Some(w.add("alpha", &shape, &initializers::ZEROS, None, true)?);
        Ok(())
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        same_shape(s)
    }
    fn forward(&self, inputs: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
        let a = self
            .alpha
            .as_ref()
            .ok_or_else(|| Error::runtime("PReLU called before build"))?
            .value();
        let x = &inputs[0];
        let pos = x.relu()?;
        let neg = x.minimum(0.0)?.broadcast_mul(&a)?;
        Ok(vec![(pos + neg)?])
    }
}
