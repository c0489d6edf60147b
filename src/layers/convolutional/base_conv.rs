//! `Conv1D` and `Conv2D` (`keras/src/layers/convolutional/base_conv.py`).

use super::Size2;
use crate::activations::{Act, ActivationArg};
use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, InputSpec, Layer, LayerArgs, LayerRef, Shape, Weight, WeightBuilder};
use crate::initializers::{self, InitializerArg};
use crate::layers::data_format::DataFormat;
use crate::layers::layer_config::KernelConfig;
use crate::layers::pooling::Pooling;
use crate::ops::{self, ConvOpts, DType, Padding, Tensor};
use crate::regularizers::{self, RegularizerArg};
use crate::serialization::{config, json, Cfg, Config};
use crate::{Error, Result};

/// A convolution over 1 or 2 spatial axes: made by [`Conv1D::new`] or [`Conv2D::new`].
///
/// Defaults as Keras: strides 1, `valid` padding, dilation 1, groups 1, no activation, a bias,
/// `glorot_uniform` kernel, `zeros` bias. The kernel is `(kh, kw, in / groups, filters)`
/// (`(k, in / groups, filters)` for 1D), as Keras stores it, whatever the `data_format`.
///
/// `data_format("channels_first")` takes `(batch, channels, ...)`: the input is moved to
/// `channels_last` once per call, convolved, and the result moved back (one transpose each way).
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::Conv2D;
/// let y = Conv2D::new(4, 3).data_format("channels_first").call(&Input::new([2, 9, 8]))?;
/// assert_eq!(y.shape().to_string(), "(None, 4, 7, 6)");
/// assert_eq!(y.layer().count_params(), 3 * 3 * 2 * 4 + 4);
/// # Ok::<(), keras::Error>(())
/// ```
pub struct BaseConv {
    args: LayerArgs,
    rank: usize,
    filters: usize,
    kernel_size: Size2,
    strides: Size2,
    padding: String,
    data_format: String,
    dilation: Size2,
    groups: usize,
    activation: ActivationArg,
    use_bias: bool,
    kernel_initializer: InitializerArg,
    bias_initializer: InitializerArg,
    kernel_regularizer: Option<RegularizerArg>,
    bias_regularizer: Option<RegularizerArg>,
    // Built state.
    act: Act,
    pad: Padding,
    in_channels: Option<usize>,
    kernel: Option<Weight>,
    bias: Option<Weight>,
}

/// `keras.layers.Conv2D`: 2D convolution over `(batch, height, width, channels)`.
pub struct Conv2D;
impl Conv2D {
    /// `filters` outputs, kernel of `kernel_size` (an int or `(h, w)`).
    #[allow(clippy::new_ret_no_self)]
    pub fn new(filters: usize, kernel_size: impl Into<Size2>) -> BaseConv {
        BaseConv::new(2, filters, kernel_size.into())
    }
}

/// `keras.layers.Conv1D`: 1D convolution over `(batch, steps, channels)`.
pub struct Conv1D;
impl Conv1D {
    /// `filters` outputs, kernel of `kernel_size` steps.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(filters: usize, kernel_size: usize) -> BaseConv {
        BaseConv::new(1, filters, Size2(1, kernel_size))
    }
}

impl Conv2D {
    /// A `Conv2D` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        let l = Conv2D::new(c.usize("filters")?, c.pair("kernel_size", (1, 1))?)
            .strides(c.pair("strides", (1, 1))?)
            .dilation_rate(c.pair("dilation_rate", (1, 1))?);
        l.read_config(c)
    }
}

impl Conv1D {
    /// A `Conv1D` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        let l = Conv1D::new(c.usize("filters")?, c.one("kernel_size", 1)?)
            .strides(c.one("strides", 1)?)
            .dilation_rate(c.one("dilation_rate", 1)?);
        l.read_config(c)
    }
}

impl BaseConv {
    /// The config keys `Conv1D` and `Conv2D` share (all but the sizes), then the base keys.
    fn read_config(self, c: &Cfg) -> Result<LayerRef> {
        let k = KernelConfig::read(c)?;
        let mut l = self
            .data_format(&DataFormat::read(c)?)
            .padding(c.str_or("padding", "valid")?)
            .groups(c.usize_or("groups", 1)?);
        (l.activation, l.use_bias) = (k.activation, k.use_bias);
        (l.kernel_initializer, l.bias_initializer) = (k.kernel_initializer, k.bias_initializer);
        (l.kernel_regularizer, l.bias_regularizer) = (k.kernel_regularizer, k.bias_regularizer);
        apply_base_config(l, c)
    }

    fn new(rank: usize, filters: usize, kernel_size: Size2) -> Self {
        BaseConv {
            args: LayerArgs::default(),
            rank,
            filters,
            kernel_size,
            strides: Size2(1, 1),
            padding: "valid".into(),
            data_format: crate::layers::data_format::image_data_format().into(),
            dilation: Size2(1, 1),
            groups: 1,
            activation: Act::Linear.into(),
            use_bias: true,
            kernel_initializer: initializers::GLOROT_UNIFORM.into(),
            bias_initializer: initializers::ZEROS.into(),
            kernel_regularizer: None,
            bias_regularizer: None,
            act: Act::Linear,
            pad: Padding::Valid,
            in_channels: None,
            kernel: None,
            bias: None,
        }
    }

    /// Spatial (height, width) pair for a 1D or 2D setting given as `Size2`.
    fn axes(&self, s: Size2) -> Size2 {
        if self.rank == 1 {
            Size2(1, s.1)
        } else {
            s
        }
    }

    /// Strides (an int or a pair).
    pub fn strides(mut self, s: impl Into<Size2>) -> Self {
        let s = s.into();
        self.strides = if self.rank == 1 { Size2(1, s.0) } else { s };
        self
    }
    /// `"valid"` or `"same"`.
    pub fn padding(mut self, p: &str) -> Self {
        self.padding = p.to_string();
        self
    }
    /// `"channels_last"` (default: `(batch, ..., channels)`) or `"channels_first"`
    /// (`(batch, channels, ...)`); any other value is an error when the layer is built.
    pub fn data_format(mut self, f: &str) -> Self {
        self.data_format = f.to_lowercase();
        self
    }
    fn format(&self) -> Result<DataFormat> {
        DataFormat::parse(&self.data_format)
    }
    /// Dilation rate (an int or a pair).
    pub fn dilation_rate(mut self, d: impl Into<Size2>) -> Self {
        let d = d.into();
        self.dilation = if self.rank == 1 { Size2(1, d.0) } else { d };
        self
    }
    /// Number of channel groups (input and output channels split into that many independent
    /// convolutions).
    pub fn groups(mut self, g: usize) -> Self {
        self.groups = g;
        self
    }
    /// The activation, by name or value.
    pub fn activation(mut self, a: impl Into<ActivationArg>) -> Self {
        self.activation = a.into();
        self
    }
    /// Whether to add a bias (default true).
    pub fn use_bias(mut self, b: bool) -> Self {
        self.use_bias = b;
        self
    }
    /// Kernel initializer (default `glorot_uniform`).
    pub fn kernel_initializer(mut self, i: impl Into<InitializerArg>) -> Self {
        self.kernel_initializer = i.into();
        self
    }
    /// Bias initializer (default `zeros`).
    pub fn bias_initializer(mut self, i: impl Into<InitializerArg>) -> Self {
        self.bias_initializer = i.into();
        self
    }
    /// A penalty on the kernel.
    pub fn kernel_regularizer(mut self, r: impl Into<RegularizerArg>) -> Self {
        self.kernel_regularizer = Some(r.into());
        self
    }
    /// A penalty on the bias.
    pub fn bias_regularizer(mut self, r: impl Into<RegularizerArg>) -> Self {
        self.bias_regularizer = Some(r.into());
        self
    }
    /// Number of output channels.
    pub fn filters(&self) -> usize {
        self.filters
    }

    /// Output spatial sizes for input spatial sizes.
    fn out_spatial(&self, dims: &[Option<usize>], pad: Padding) -> Result<Vec<Option<usize>>> {
        let ks = [self.kernel_size.0, self.kernel_size.1];
        let ss = [self.strides.0, self.strides.1];
        let ds = [self.dilation.0, self.dilation.1];
        let off = 2 - dims.len();
        dims.iter()
            .enumerate()
            .map(|(i, d)| match d {
                None => Ok(None),
                Some(d) => pad
                    .out_size(*d, ks[i + off], ss[i + off], ds[i + off])
                    .map(|(o, _, _)| Some(o))
                    .ok_or_else(|| {
                        Error::shape(format!(
                            "Computed output size would be negative. Received `inputs` spatial size {:?}, \
                             kernel size {:?}, `dilation_rate`={:?}, padding \"valid\".",
                            dims,
                            &ks[off..],
                            &ds[off..]
                        ))
                    }),
            })
            .collect()
    }
}

impl Layer for BaseConv {
    fn class_name(&self) -> &str {
        if self.rank == 1 {
            "Conv1D"
        } else {
            "Conv2D"
        }
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn get_config(&self) -> Result<Config> {
        let r = self.rank;
        let v = json!({"filters": self.filters, "kernel_size": self.kernel_size.to_json(r), "strides": self.strides.to_json(r),
            "padding": self.padding, "data_format": self.data_format, "dilation_rate": self.dilation.to_json(r),
            "groups": self.groups, "activation": self.activation.serialize(), "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer.serialize()?,
            "bias_initializer": self.bias_initializer.serialize()?,
            "kernel_regularizer": regularizers::serialize(self.kernel_regularizer.as_ref())?,
            "bias_regularizer": regularizers::serialize(self.bias_regularizer.as_ref())?,
            "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null});
        Ok(config(v))
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
        self.kernel_size = self.axes(self.kernel_size);
        super::check_positive("kernel_size", self.kernel_size, self.rank)?;
        super::check_positive("strides", self.strides, self.rank)?;
        super::check_positive("dilation_rate", self.dilation, self.rank)?;
        self.act = self.activation.resolve()?;
        self.pad = Padding::parse(&self.padding)?;
        if self.filters == 0 || self.groups == 0 || !self.filters.is_multiple_of(self.groups) {
            return Err(Error::value(format!(
                "The number of filters must be a positive multiple of the number of groups. Received: \
                 groups={}, filters={}",
                self.groups, self.filters
            )));
        }
        let c = s[0].dim(-1).ok_or_else(|| {
            Error::value(format!(
                "The channel dimension of the inputs should be defined. Received input shape {}",
                s[0]
            ))
        })?;
        if c % self.groups != 0 {
            return Err(Error::value(format!(
                "The number of input channels must be evenly divisible by the number of groups. Received \
                 groups={}, but the input has {c} channels (full input shape is {})",
                self.groups, s[0]
            )));
        }
        self.out_spatial(&s[0].0[1..s[0].rank() - 1], self.pad)?;
        let shape: Vec<usize> = if self.rank == 1 {
            vec![self.kernel_size.1, c / self.groups, self.filters]
        } else {
            vec![
                self.kernel_size.0,
                self.kernel_size.1,
                c / self.groups,
                self.filters,
            ]
        };
        let kr = self
            .kernel_regularizer
            .as_ref()
            .map(|r| r.resolve())
            .transpose()?;
        self.kernel = Some(w.add(
            "kernel",
            &shape,
            self.kernel_initializer.resolve()?.as_ref(),
            kr,
            true,
        )?);
        if self.use_bias {
            let br = self
                .bias_regularizer
                .as_ref()
                .map(|r| r.resolve())
                .transpose()?;
            self.bias = Some(w.add(
                "bias",
                &[self.filters],
                self.bias_initializer.resolve()?.as_ref(),
                br,
                true,
            )?);
        }
        self.in_channels = Some(c);
        Ok(())
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        let pad = Padding::parse(&self.padding)?;
        let f = self.format()?;
        let s = f.shape_to_last(&s[0]);
        let r = s.rank();
        let mut out = vec![s.0[0]];
        out.extend(self.out_spatial(&s.0[1..r - 1], pad)?);
        out.push(Some(self.filters));
        Ok(vec![f.shape_from_last(&Shape(out))])
    }
    fn forward(&self, inputs: &[Tensor], _ctx: &CallCtx) -> Result<Vec<Tensor>> {
        let (x, kernel, opts, f) = self.conv_inputs(&inputs[0])?;
        let bias = self.bias.as_ref().map(Weight::value);
        let y = if self.groups == 1 {
            ops::conv2d(&x, &kernel, bias.as_ref(), opts, self.act, self.sinks())?
        } else {
            // Each group convolves its slice of channels; outputs are concatenated.
            let (cg, fg) = (x.dims()[3] / self.groups, self.filters / self.groups);
            let parts = (0..self.groups)
                .map(|g| {
                    let xg = x.narrow(3, g * cg, cg)?;
                    let kg = kernel.narrow(3, g * fg, fg)?;
                    ops::conv2d(&xg, &kg, None, opts, Act::Linear, None)
                })
                .collect::<Result<Vec<_>>>()?;
            let mut y = ops::concatenate(&parts, 3)?;
            if let Some(b) = &bias {
                y = y.broadcast_add(b)?;
            }
            ops::activation(&y, self.act)?
        };
        self.conv_output(y, f)
    }

    /// A max or average pooling of the same rank and data format after an ungrouped
    /// convolution.
    fn fuses_with(&self, next: &dyn Layer) -> bool {
        let any: &dyn std::any::Any = next;
        any.downcast_ref::<Pooling>().is_some_and(|p| {
            let (rank, format, _) = p.fusable();
            rank == self.rank && format == self.data_format && self.groups == 1
        })
    }

    /// A max or average pooling of the same rank and data format after an ungrouped
    /// convolution on the CPU is computed in the convolution's pass: [`ops::conv2d_pool`]
    /// where no gradient is taken (the convolution's output never reaches memory),
    /// [`ops::conv2d_pool_train`] elsewhere (for activations whose gradient follows from
    /// their output).
    fn forward_fused(
        &self,
        inputs: &[Tensor],
        next: &dyn Layer,
        _ctx: &CallCtx,
    ) -> Option<Result<Vec<Tensor>>> {
        let any: &dyn std::any::Any = next;
        let (_, _, pool) = any.downcast_ref::<Pooling>()?.fusable();
        let infer = crate::engine::context::inference();
        if !self.fuses_with(next)
            || !inputs[0].device().is_cpu()
            || !matches!(
                self.kernel.as_ref()?.value().dtype(),
                DType::F32 | DType::F64
            )
            || !(infer || self.act.grad_from_output())
        {
            return None;
        }
        Some((|| {
            let (x, kernel, opts, f) = self.conv_inputs(&inputs[0])?;
            let (b, act) = (self.bias.as_ref().map(Weight::value), self.act);
            let y = if infer {
                ops::conv2d_pool(&x, &kernel, b.as_ref(), opts, act, pool)?
            } else {
                ops::conv2d_pool_train(&x, &kernel, b.as_ref(), opts, act, pool, self.sinks())?
            };
            self.conv_output(y, f)
        })())
    }
}

impl BaseConv {
    /// The input in NHWC (height 1 for a 1D convolution), the kernel as 2D, the options.
    fn conv_inputs(&self, input: &Tensor) -> Result<(Tensor, Tensor, ConvOpts, DataFormat)> {
        let kw = self
            .kernel
            .as_ref()
            .ok_or_else(|| Error::runtime("Conv called before build"))?;
        let mut kernel = kw.value();
        let f = self.format()?;
        let mut x = f.to_last(&ops::cast(input, kernel.dtype())?)?;
        if self.rank == 1 {
            x = x.unsqueeze(1)?;
            kernel = kernel.unsqueeze(0)?;
        }
        let opts = ConvOpts {
            strides: (self.strides.0, self.strides.1),
            padding: self.pad,
            dilation: (self.dilation.0, self.dilation.1),
        };
        Ok((x, kernel, opts, f))
    }

    /// Where the fused op puts the weights' gradients (trainable weights only).
    fn sinks(&self) -> Option<(&ops::GradSink, Option<&ops::GradSink>)> {
        let kw = self.kernel.as_ref()?;
        kw.trainable().then(|| {
            (
                kw.sink(),
                self.bias
                    .as_ref()
                    .filter(|b| b.trainable())
                    .map(Weight::sink),
            )
        })
    }

    /// An NHWC result back in the layer's rank and data format.
    fn conv_output(&self, y: Tensor, f: DataFormat) -> Result<Vec<Tensor>> {
        Ok(vec![f.back_from_last(&if self.rank == 1 {
            y.squeeze(1)?
        } else {
            y
        })?])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::LayerExt;
    use crate::layers::Input;

    #[test]
    fn shapes_and_params() {
        let y = Conv2D::new(128, 3)
            .strides(2)
            .padding("same")
            .call(Input::new([9, 8, 16]))
            .unwrap();
        assert_eq!(y.shape().to_string(), "(None, 5, 4, 128)");
        assert_eq!(y.layer().count_params(), 3 * 3 * 16 * 128 + 128);
        let y = Conv1D::new(32, 7)
            .activation("relu")
            .call(Input::new([500, 128]))
            .unwrap();
        assert_eq!(y.shape().to_string(), "(None, 494, 32)");
        assert_eq!(y.layer().count_params(), 7 * 128 * 32 + 32);
        let y = Conv2D::new(8, (3, 2))
            .groups(2)
            .dilation_rate(2)
            .call(Input::new([10, 10, 4]))
            .unwrap();
        assert_eq!(y.shape().to_string(), "(None, 6, 8, 8)");
        assert_eq!(y.layer().count_params(), 3 * 2 * 2 * 8 + 8);
        let y = Conv1D::new(4, 3).call(Input::new([None, Some(5)])).unwrap();
        assert_eq!(y.shape().to_string(), "(None, None, 4)");
    }

    #[test]
    fn bad_inputs_are_errors() {
        let e = Conv2D::new(8, 3)
            .call(Input::new([5, 5]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected ndim=4, found ndim=3"), "{e}");
        let e = Conv2D::new(8, 5)
            .call(Input::new([3, 3, 1]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("Computed output size would be negative"), "{e}");
        let e = Conv2D::new(8, 3)
            .padding("full")
            .call(Input::new([5, 5, 1]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("padding=full"), "{e}");
    }

    #[test]
    fn grouped_equals_two_separate_convolutions() {
        let l = Conv2D::new(4, 2).groups(2).use_bias(false).into_layer();
        let x = crate::random::normal(&[2, 4, 4, 6]).unwrap();
        let y = l.apply(&x).unwrap();
        let k = l.get_weights().unwrap().remove(0);
        let o = ConvOpts {
            strides: (1, 1),
            padding: Padding::Valid,
            dilation: (1, 1),
        };
        for g in 0..2 {
            let yg = ops::conv2d(
                &x.narrow(3, g * 3, 3).unwrap(),
                &k.narrow(3, g * 2, 2).unwrap(),
                None,
                o,
                Act::Linear,
                None,
            )
            .unwrap();
            let d = (y.narrow(3, g * 2, 2).unwrap() - yg)
                .unwrap()
                .abs()
                .unwrap()
                .max_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap();
            assert!(d < 1e-6);
        }
    }
}
