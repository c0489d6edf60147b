//! `Conv2DTranspose`: the transpose of a 2D convolution ("deconvolution").

use super::Size2;
use crate::activations::{Act, ActivationArg};
use crate::engine::{CallCtx, InputSpec, Layer, LayerArgs, Shape, Weight, WeightBuilder};
use crate::initializers::{self, InitializerArg};
use crate::ops::{self, ConvOpts, Padding, Tensor};
use crate::{Error, Result};

/// Upsamples by the transpose of a convolution: output `(H - 1) * stride + k` (`valid`) or
/// `H * stride` (`same`) per axis. Kernel `(kh, kw, filters, in)`, as Keras stores it.
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::Conv2DTranspose;
/// let y = Conv2DTranspose::new(16, 3).activation("relu").call(&Input::new([4, 4, 1]))?;
/// assert_eq!(y.shape().to_string(), "(None, 6, 6, 16)");
/// assert_eq!(y.layer().count_params(), 3 * 3 * 16 + 16);
/// # Ok::<(), keras::Error>(())
/// ```
pub struct Conv2DTranspose {
    args: LayerArgs,
    filters: usize,
    kernel_size: Size2,
    strides: Size2,
    padding: String,
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
            filters,
            kernel_size: kernel_size.into(),
            strides: Size2(1, 1),
            padding: "valid".into(),
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
        self.strides = s.into();
        self
    }
    /// `"valid"` or `"same"`.
    pub fn padding(mut self, p: &str) -> Self {
        self.padding = p.into();
        self
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

impl Layer for Conv2DTranspose {
    fn class_name(&self) -> &str {
        "Conv2DTranspose"
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn input_spec(&self) -> Vec<InputSpec> {
        let spec = InputSpec::new().ndim(4);
        vec![match self.in_channels {
            Some(c) => spec.axis(-1, c),
            None => spec,
        }]
    }
    fn build(&mut self, s: &[Shape], w: &mut WeightBuilder) -> Result<()> {
        self.act = self.activation.resolve()?;
        self.pad = Padding::parse(&self.padding)?;
        let c = s[0].dim(-1).ok_or_else(|| {
            Error::value("The channel dimension of the inputs should be defined.")
        })?;
        let shape = [self.kernel_size.0, self.kernel_size.1, self.filters, c];
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
        let d = &s[0].0;
        Ok(vec![Shape(vec![
            d[0],
            self.out_len(d[1], self.kernel_size.0, self.strides.0, pad),
            self.out_len(d[2], self.kernel_size.1, self.strides.1, pad),
            Some(self.filters),
        ])])
    }
    fn forward(&self, inputs: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
        let kernel = self
            .kernel
            .as_ref()
            .ok_or_else(|| Error::runtime("Conv2DTranspose called before build"))?
            .value();
        let x = ops::cast(&inputs[0], kernel.dtype())?;
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
        Ok(vec![ops::conv2d_transpose(
            &x,
            &kernel,
            bias.as_ref(),
            opts,
            (oh, ow),
            self.act,
        )?])
    }
}
