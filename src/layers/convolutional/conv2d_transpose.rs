//! `Conv2DTranspose`: the transpose of a 2D convolution ("deconvolution").

use super::Size2;
use crate::activations::{Act, ActivationArg};
use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, InputSpec, Layer, LayerArgs, LayerRef, Shape, Weight, WeightBuilder};
use crate::initializers::{self, InitializerArg};
use crate::layers::data_format::DataFormat;
use crate::ops::{self, ConvOpts, Padding, Tensor};
use crate::serialization::{config, json, Cfg, Config};
use crate::{Error, Result};

/// Upsamples by the transpose of a convolution: output `(H - 1) * stride + k` (`valid`) or
/// `H * stride` (`same`) per axis. Kernel `(kh, kw, filters, in)`, as Keras stores it, for
/// either `data_format` (`channels_first` inputs are moved to `channels_last` once per call and
/// the result moved back).
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::Conv2DTranspose;
/// let y = Conv2DTranspose::new(16, 3).activation("relu").call(&Input::new([4, 4, 1]))?;
/// assert_eq!(y.shape().to_string(), "(None, 6, 6, 16)");
/// assert_eq!(y.layer().count_params(), 3 * 3 * 16 + 16);
/// let y = Conv2DTranspose::new(5, 2).strides(2).data_format("channels_first")
///     .call(&Input::new([3, 4, 6]))?;
/// assert_eq!(y.shape().to_string(), "(None, 5, 8, 12)");
/// # Ok::<(), keras::Error>(())
/// ```
pub struct Conv2DTranspose {
    args: LayerArgs,
    /// 1 for `Conv1DTranspose` (run as a 2D transpose of height 1), 2 otherwise.
    rank: usize,
    filters: usize,
    kernel_size: Size2,
    strides: Size2,
    padding: String,
    data_format: String,
    activation: ActivationArg,
    use_bias: bool,
    kernel_initializer: InitializerArg,
    bias_initializer: InitializerArg,
    act: Act,
    pad: Padding,
    in_channels: Option<usize>,
    kernel: Option<Weight>,
    bias: Option<Weight>,
}

impl Conv2DTranspose {
    /// `filters` outputs, kernel of `kernel_size`.
    pub fn new(filters: usize, kernel_size: impl Into<Size2>) -> Self {
        Conv2DTranspose {
            args: LayerArgs::default(),
            rank: 2,
            filters,
            kernel_size: kernel_size.into(),
            strides: Size2(1, 1),
            padding: "valid".into(),
            data_format: crate::layers::data_format::image_data_format().into(),
            activation: Act::Linear.into(),
            use_bias: true,
            kernel_initializer: initializers::GLOROT_UNIFORM.into(),
            bias_initializer: initializers::ZEROS.into(),
            act: Act::Linear,
            pad: Padding::Valid,
            in_channels: None,
            kernel: None,
            bias: None,
        }
    }
    /// Strides.
    pub fn strides(mut self, s: impl Into<Size2>) -> Self {
        let s = s.into();
        self.strides = if self.rank == 1 { Size2(1, s.0) } else { s };
        self
    }
    /// `"valid"` or `"same"`.
    pub fn padding(mut self, p: &str) -> Self {
        self.padding = p.into();
        self
    }
    /// `"channels_last"` (default) or `"channels_first"`; another value is an error at build.
    pub fn data_format(mut self, f: &str) -> Self {
        self.data_format = f.to_lowercase();
        self
    }
    fn format(&self) -> Result<DataFormat> {
        DataFormat::parse(&self.data_format)
    }
    /// The activation.
    pub fn activation(mut self, a: impl Into<ActivationArg>) -> Self {
        self.activation = a.into();
        self
    }
    /// Whether to add a bias.
    pub fn use_bias(mut self, b: bool) -> Self {
        self.use_bias = b;
        self
    }
    /// Kernel initializer.
    pub fn kernel_initializer(mut self, i: impl Into<InitializerArg>) -> Self {
        self.kernel_initializer = i.into();
        self
    }

    fn out_len(&self, d: Option<usize>, k: usize, s: usize, pad: Padding) -> Option<usize> {
        d.map(|d| match pad {
            Padding::Valid => (d.max(1) - 1) * s + k,
            Padding::Same => d * s,
        })
    }
}

/// The transpose of a 1D convolution over `(batch, steps, channels)`: output steps
/// `(L - 1) * stride + k` (`valid`) or `L * stride` (`same`); kernel `(k, filters, in)` as Keras.
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::Conv1DTranspose;
/// let y = Conv1DTranspose::new(8, 3).strides(2).padding("same").call(&Input::new([10, 4]))?;
/// assert_eq!(y.shape().to_string(), "(None, 20, 8)");
/// assert_eq!(y.layer().count_params(), 3 * 8 * 4 + 8);
/// # Ok::<(), keras::Error>(())
/// ```
pub struct Conv1DTranspose;

impl Conv1DTranspose {
    /// `filters` outputs, a kernel of `kernel_size` steps.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(filters: usize, kernel_size: usize) -> Conv2DTranspose {
        let mut c = Conv2DTranspose::new(filters, (1, kernel_size));
        c.rank = 1;
        c
    }
}

impl Conv2DTranspose {
    /// A `Conv2DTranspose` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        let l = Conv2DTranspose::new(c.usize("filters")?, c.pair("kernel_size", (1, 1))?)
            .strides(c.pair("strides", (1, 1))?);
        l.read_config(c)
    }

    /// The config keys both transposed convolutions share (all but the sizes); the options
    /// keras-rs lacks (`output_padding`, a dilation) are refused.
    fn read_config(self, c: &Cfg) -> Result<LayerRef> {
        if let Some(op) = c.get("output_padding") {
            return Err(Error::value(format!(
                "{}: output_padding is not supported yet; received {op}",
                c.class
            )));
        }
        if c.pair("dilation_rate", (1, 1))? != (1, 1) {
            return Err(Error::value(format!(
                "{}: dilation_rate other than 1 is not supported",
                c.class
            )));
        }
        let l = self
            .padding(c.str_or("padding", "valid")?)
            .data_format(&DataFormat::read(c)?)
            .activation(c.activation("activation", "linear")?)
            .use_bias(c.bool_or("use_bias", true)?)
            .kernel_initializer(c.initializer("kernel_initializer", "glorot_uniform")?);
        apply_base_config(l, c)
    }
}

impl Conv1DTranspose {
    /// A `Conv1DTranspose` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        let l = Conv1DTranspose::new(c.usize("filters")?, c.one("kernel_size", 1)?)
            .strides(c.one("strides", 1)?);
        l.read_config(c)
    }
}

impl Layer for Conv2DTranspose {
    fn class_name(&self) -> &str {
        if self.rank == 1 {
            "Conv1DTranspose"
        } else {
            "Conv2DTranspose"
        }
    }
    fn get_config(&self) -> Result<Config> {
        let r = self.rank;
        Ok(config(json!({
            "filters": self.filters, "kernel_size": self.kernel_size.to_json(r), "strides": self.strides.to_json(r),
            "padding": self.padding, "output_padding": null, "data_format": self.data_format,
            "dilation_rate": Size2(1, 1).to_json(r), "activation": self.activation.serialize(), "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer.serialize()?,
            "bias_initializer": self.bias_initializer.serialize()?,
            "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null,
            "kernel_constraint": null, "bias_constraint": null,
        })))
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn input_spec(&self) -> Vec<InputSpec> {
        let spec = InputSpec::new().ndim(self.rank + 2);
        vec![match self.in_channels {
            Some(c) => spec.axis(self.format().unwrap_or_default().channel_axis(), c),
            None => spec,
        }]
    }
    fn build(&mut self, s: &[Shape], w: &mut WeightBuilder) -> Result<()> {
        let s = &[self.format()?.shape_to_last(&s[0])];
        super::check_positive("kernel_size", self.kernel_size, 2)?;
        super::check_positive("strides", self.strides, 2)?;
        if self.filters == 0 {
            return Err(Error::value(
                "Invalid value for argument `filters`. Expected a strictly positive value. Received filters=0.",
            ));
        }
        self.act = self.activation.resolve()?;
        self.pad = Padding::parse(&self.padding)?;
        let c = s[0].dim(-1).ok_or_else(|| {
            Error::value("The channel dimension of the inputs should be defined.")
        })?;
        let shape = if self.rank == 1 {
            vec![self.kernel_size.1, self.filters, c]
        } else {
            vec![self.kernel_size.0, self.kernel_size.1, self.filters, c]
        };
        self.kernel = Some(w.add(
            "kernel",
            &shape,
            self.kernel_initializer.resolve()?.as_ref(),
            None,
            true,
        )?);
        if self.use_bias {
            self.bias = Some(w.add(
                "bias",
                &[self.filters],
                self.bias_initializer.resolve()?.as_ref(),
                None,
                true,
            )?);
        }
        self.in_channels = Some(c);
        Ok(())
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        let pad = Padding::parse(&self.padding)?;
        let f = self.format()?;
        let d = &f.shape_to_last(&s[0]).0;
        if self.rank == 1 {
            return Ok(vec![f.shape_from_last(&Shape(vec![
                d[0],
                self.out_len(d[1], self.kernel_size.1, self.strides.1, pad),
                Some(self.filters),
            ]))]);
        }
        Ok(vec![f.shape_from_last(&Shape(vec![
            d[0],
            self.out_len(d[1], self.kernel_size.0, self.strides.0, pad),
            self.out_len(d[2], self.kernel_size.1, self.strides.1, pad),
            Some(self.filters),
        ]))])
    }
    fn forward(&self, inputs: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
        let kernel = self
            .kernel
            .as_ref()
            .ok_or_else(|| Error::runtime("Conv2DTranspose called before build"))?
            .value();
        let f = self.format()?;
        let mut x = f.to_last(&ops::cast(&inputs[0], kernel.dtype())?)?;
        let kernel = if self.rank == 1 {
            x = x.unsqueeze(1)?;
            kernel.unsqueeze(0)?
        } else {
            kernel
        };
        let (_, h, w, _) = x.dims4()?;
        let oh = self
            .out_len(Some(h), self.kernel_size.0, self.strides.0, self.pad)
            .unwrap_or(0);
        let ow = self
            .out_len(Some(w), self.kernel_size.1, self.strides.1, self.pad)
            .unwrap_or(0);
        let opts = ConvOpts {
            strides: (self.strides.0, self.strides.1),
            padding: self.pad,
            dilation: (1, 1),
        };
        let bias = self.bias.as_ref().map(Weight::value);
        let y = ops::conv2d_transpose(&x, &kernel, bias.as_ref(), opts, (oh, ow), self.act)?;
        Ok(vec![f.back_from_last(&if self.rank == 1 {
            y.squeeze(1)?
        } else {
            y
        })?])
    }
}
