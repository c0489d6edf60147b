//! `DepthwiseConv2D` and `SeparableConv2D`.

use super::Size2;
use crate::activations::{Act, ActivationArg};
use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, InputSpec, Layer, LayerArgs, LayerRef, Shape, Weight, WeightBuilder};
use crate::initializers;
use crate::layers::data_format::DataFormat;
use crate::ops::{self, ConvOpts, Padding, Tensor};
use crate::serialization::{config, json, Cfg, Config};
use crate::{Error, Result};

/// Options shared by the two layers.
struct Common {
    kernel_size: Size2,
    strides: Size2,
    padding: String,
    data_format: String,
    dilation: Size2,
    depth_multiplier: usize,
    activation: ActivationArg,
    use_bias: bool,
    act: Act,
    pad: Padding,
    in_channels: Option<usize>,
}

impl Common {
    /// The options from a Keras config (the keys both layers share).
    fn from_config(c: &Cfg) -> Result<Self> {
        let mut o = Common::new(c.pair("kernel_size", (1, 1))?.into());
        o.data_format = DataFormat::read(c)?;
        o.strides = c.pair("strides", (1, 1))?.into();
        o.padding = c.str_or("padding", "valid")?.into();
        o.dilation = c.pair("dilation_rate", (1, 1))?.into();
        o.depth_multiplier = c.usize_or("depth_multiplier", 1)?;
        o.activation = c.activation("activation", "linear")?;
        o.use_bias = c.bool_or("use_bias", true)?;
        Ok(o)
    }

    /// The config keys both layers write (their initializers are fixed here).
    fn config(&self) -> Config {
        config(json!({
            "depth_multiplier": self.depth_multiplier, "kernel_size": self.kernel_size.to_json(2),
            "strides": self.strides.to_json(2), "padding": self.padding, "data_format": self.data_format,
            "dilation_rate": self.dilation.to_json(2), "activation": self.activation.serialize(),
            "use_bias": self.use_bias,
            "depthwise_initializer": initializers::serialize(&initializers::GLOROT_UNIFORM),
            "bias_initializer": initializers::serialize(&initializers::ZEROS),
            "depthwise_regularizer": null, "bias_regularizer": null,
            "activity_regularizer": null, "depthwise_constraint": null, "bias_constraint": null,
        }))
    }

    fn new(kernel_size: Size2) -> Self {
        Common {
            kernel_size,
            strides: Size2(1, 1),
            padding: "valid".into(),
            data_format: crate::layers::data_format::image_data_format().into(),
            dilation: Size2(1, 1),
            depth_multiplier: 1,
            activation: Act::Linear.into(),
            use_bias: true,
            act: Act::Linear,
            pad: Padding::Valid,
            in_channels: None,
        }
    }

    fn format(&self) -> Result<DataFormat> {
        DataFormat::parse(&self.data_format)
    }

    fn opts(&self) -> ConvOpts {
        ConvOpts {
            strides: (self.strides.0, self.strides.1),
            padding: self.pad,
            dilation: (self.dilation.0, self.dilation.1),
        }
    }

    fn spec(&self) -> Vec<InputSpec> {
        let s = InputSpec::new().ndim(4);
        vec![match self.in_channels {
            Some(c) => s.axis(self.format().unwrap_or_default().channel_axis(), c),
            None => s,
        }]
    }

    /// Resolves options; returns the input channel count.
    fn prepare(&mut self, s: &Shape) -> Result<usize> {
        let s = &self.format()?.shape_to_last(s);
        super::check_positive("kernel_size", self.kernel_size, 2)?;
        super::check_positive("strides", self.strides, 2)?;
        super::check_positive("dilation_rate", self.dilation, 2)?;
        if self.depth_multiplier == 0 {
            return Err(Error::value(
                "Invalid value for argument `depth_multiplier`. Expected a strictly positive value. \
                 Received depth_multiplier=0.",
            ));
        }
        self.act = self.activation.resolve()?;
        self.pad = Padding::parse(&self.padding)?;
        let c = s.dim(-1).ok_or_else(|| {
            Error::value(format!(
                "The channel dimension of the inputs should be defined. Received input shape {s}"
            ))
        })?;
        self.in_channels = Some(c);
        self.spatial(s)?;
        Ok(c)
    }

    /// The output shape for a `channels_last` input shape `s` with `channels` outputs.
    fn output_shape(
        &self,
        s: &Shape,
        channels: impl Fn(Option<usize>) -> Option<usize>,
    ) -> Result<Shape> {
        let f = self.format()?;
        let s = f.shape_to_last(s);
        let (h, w) = self.spatial(&s)?;
        Ok(f.shape_from_last(&Shape(vec![s.0[0], h, w, channels(s.dim(-1))])))
    }

    fn spatial(&self, s: &Shape) -> Result<(Option<usize>, Option<usize>)> {
        let pad = Padding::parse(&self.padding)?;
        let out = |d: Option<usize>, k: usize, st: usize, dl: usize| -> Result<Option<usize>> {
            match d {
                None => Ok(None),
                Some(d) => pad.out_size(d, k, st, dl).map(|o| Some(o.0)).ok_or_else(|| {
                    Error::shape(format!("Computed output size would be negative. Received `inputs shape={s}`, kernel size {:?}.", self.kernel_size))
                }),
            }
        };
        Ok((
            out(s.0[1], self.kernel_size.0, self.strides.0, self.dilation.0)?,
            out(s.0[2], self.kernel_size.1, self.strides.1, self.dilation.1)?,
        ))
    }
}

macro_rules! common_builders {
    () => {
        /// Strides (an int or a pair).
        pub fn strides(mut self, s: impl Into<Size2>) -> Self {
            self.common.strides = s.into();
            self
        }
        /// `"valid"` or `"same"`.
        pub fn padding(mut self, p: &str) -> Self {
            self.common.padding = p.into();
            self
        }
        /// `"channels_last"` (default) or `"channels_first"` (moved to `channels_last` once per
        /// call and back); another value is an error at build.
        pub fn data_format(mut self, f: &str) -> Self {
            self.common.data_format = f.to_lowercase();
            self
        }
        /// Dilation rate.
        pub fn dilation_rate(mut self, d: impl Into<Size2>) -> Self {
            self.common.dilation = d.into();
            self
        }
        /// Filters per input channel (default 1).
        pub fn depth_multiplier(mut self, m: usize) -> Self {
            self.common.depth_multiplier = m;
            self
        }
        /// The activation.
        pub fn activation(mut self, a: impl Into<ActivationArg>) -> Self {
            self.common.activation = a.into();
            self
        }
        /// Whether to add a bias (default true).
        pub fn use_bias(mut self, b: bool) -> Self {
            self.common.use_bias = b;
            self
        }
    };
}

/// Convolves each input channel with its own filters (`depth_multiplier` of them); output
/// channels `in * depth_multiplier`. Kernel `(kh, kw, in, depth_multiplier)`.
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::DepthwiseConv2D;
/// let y = DepthwiseConv2D::new(3).depth_multiplier(2).call(&Input::new([8, 8, 4]))?;
/// assert_eq!(y.shape().to_string(), "(None, 6, 6, 8)");
/// assert_eq!(y.layer().count_params(), 3 * 3 * 4 * 2 + 8);
/// # Ok::<(), keras::Error>(())
/// ```
pub struct DepthwiseConv2D {
    args: LayerArgs,
    common: Common,
    kernel: Option<Weight>,
    bias: Option<Weight>,
}

impl DepthwiseConv2D {
    /// A depthwise convolution with kernels of `kernel_size`.
    pub fn new(kernel_size: impl Into<Size2>) -> Self {
        DepthwiseConv2D {
            args: LayerArgs::default(),
            common: Common::new(kernel_size.into()),
            kernel: None,
            bias: None,
        }
    }
    common_builders!();
}

impl DepthwiseConv2D {
    /// A `DepthwiseConv2D` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        let mut l = DepthwiseConv2D::new(1);
        l.common = Common::from_config(c)?;
        apply_base_config(l, c)
    }
}

impl Layer for DepthwiseConv2D {
    fn class_name(&self) -> &str {
        "DepthwiseConv2D"
    }
    fn get_config(&self) -> Result<Config> {
        Ok(self.common.config())
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn input_spec(&self) -> Vec<InputSpec> {
        self.common.spec()
    }
    fn build(&mut self, s: &[Shape], w: &mut WeightBuilder) -> Result<()> {
        let c = self.common.prepare(&s[0])?;
        let (k, m) = (self.common.kernel_size, self.common.depth_multiplier);
        self.kernel = Some(w.add(
            "kernel",
            &[k.0, k.1, c, m],
            &initializers::GLOROT_UNIFORM,
            None,
            true,
        )?);
        if self.common.use_bias {
            self.bias = Some(w.add("bias", &[c * m], &initializers::ZEROS, None, true)?);
        }
        Ok(())
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        let m = self.common.depth_multiplier;
        Ok(vec![self
            .common
            .output_shape(&s[0], |c| c.map(|c| c * m))?])
    }
    fn forward(&self, inputs: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
        let k = self
            .kernel
            .as_ref()
            .ok_or_else(|| Error::runtime("DepthwiseConv2D called before build"))?
            .value();
        let f = self.common.format()?;
        let x = f.to_last(&ops::cast(&inputs[0], k.dtype())?)?;
        let mut y = ops::depthwise_conv2d(&x, &k, self.common.opts())?;
        if let Some(b) = &self.bias {
            y = y.broadcast_add(&b.value())?;
        }
        Ok(vec![
            f.back_from_last(&ops::activation(&y, self.common.act)?)?
        ])
    }
}

/// A depthwise convolution followed by a pointwise (1x1) one: Xception's building block.
/// Weights `depthwise_kernel (kh, kw, in, m)`, `pointwise_kernel (1, 1, in * m, filters)`,
/// `bias (filters,)`.
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::SeparableConv2D;
/// let y = SeparableConv2D::new(128, 3).padding("same").use_bias(false).call(&Input::new([16, 16, 64]))?;
/// assert_eq!(y.layer().count_params(), 3 * 3 * 64 + 64 * 128);
/// # Ok::<(), keras::Error>(())
/// ```
pub struct SeparableConv2D {
    args: LayerArgs,
    filters: usize,
    common: Common,
    depthwise: Option<Weight>,
    pointwise: Option<Weight>,
    bias: Option<Weight>,
}

impl SeparableConv2D {
    /// `filters` outputs, depthwise kernels of `kernel_size`.
    pub fn new(filters: usize, kernel_size: impl Into<Size2>) -> Self {
        SeparableConv2D {
            args: LayerArgs::default(),
            filters,
            common: Common::new(kernel_size.into()),
            depthwise: None,
            pointwise: None,
            bias: None,
        }
    }
    common_builders!();
}

impl SeparableConv2D {
    /// A `SeparableConv2D` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        let mut l = SeparableConv2D::new(c.usize("filters")?, 1);
        l.common = Common::from_config(c)?;
        apply_base_config(l, c)
    }
}

impl Layer for SeparableConv2D {
    fn class_name(&self) -> &str {
        "SeparableConv2D"
    }
    fn get_config(&self) -> Result<Config> {
        let mut c = self.common.config();
        c.extend(config(json!({
            "filters": self.filters,
            "pointwise_initializer": initializers::serialize(&initializers::GLOROT_UNIFORM),
            "pointwise_regularizer": null, "pointwise_constraint": null,
        })));
        Ok(c)
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn input_spec(&self) -> Vec<InputSpec> {
        self.common.spec()
    }
    fn build(&mut self, s: &[Shape], w: &mut WeightBuilder) -> Result<()> {
        let c = self.common.prepare(&s[0])?;
        let (k, m) = (self.common.kernel_size, self.common.depth_multiplier);
        self.depthwise = Some(w.add(
            "depthwise_kernel",
            &[k.0, k.1, c, m],
            &initializers::GLOROT_UNIFORM,
            None,
            true,
        )?);
        self.pointwise = Some(w.add(
            "pointwise_kernel",
            &[1, 1, c * m, self.filters],
            &initializers::GLOROT_UNIFORM,
            None,
            true,
        )?);
        if self.common.use_bias {
            self.bias = Some(w.add("bias", &[self.filters], &initializers::ZEROS, None, true)?);
        }
        Ok(())
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        Ok(vec![self
            .common
            .output_shape(&s[0], |_| Some(self.filters))?])
    }
    fn forward(&self, inputs: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
        let (dk, pk) = match (&self.depthwise, &self.pointwise) {
            (Some(d), Some(p)) => (d.value(), p.value()),
            _ => return Err(Error::runtime("SeparableConv2D called before build")),
        };
        let f = self.common.format()?;
        let x = f.to_last(&ops::cast(&inputs[0], dk.dtype())?)?;
        let y = ops::depthwise_conv2d(&x, &dk, self.common.opts())?;
        let bias = self.bias.as_ref().map(Weight::value);
        let one = ConvOpts {
            strides: (1, 1),
            padding: Padding::Valid,
            dilation: (1, 1),
        };
        let y = ops::conv2d(&y, &pk, bias.as_ref(), one, self.common.act, None)?;
        Ok(vec![f.back_from_last(&y)?])
    }
}
