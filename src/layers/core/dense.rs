//! `Dense`: `activation(inputs @ kernel + bias)`.

use crate::activations::{Act, ActivationArg};
use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, InputSpec, Layer, LayerArgs, LayerRef, Shape, Weight, WeightBuilder};
use crate::initializers::{self, InitializerArg};
use crate::layers::layer_config::KernelConfig;
use crate::ops::{self, Tensor};
use crate::regularizers::{self, RegularizerArg};
use crate::serialization::{config, json, Cfg, Config};
use crate::{Error, Result};

/// The regular densely-connected layer, applied to the last axis of its input.
///
/// Defaults as Keras: no activation, a bias, `glorot_uniform` kernel, `zeros` bias.
///
/// ```
/// use keras::prelude::*;
/// let inputs = Input::new(&[784]);
/// let x = Dense::new(64).activation("relu").call(&inputs)?;
/// assert_eq!(x.layer().count_params(), 784 * 64 + 64);
/// # Ok::<(), keras::Error>(())
/// ```
pub struct Dense {
    args: LayerArgs,
    units: usize,
    activation: ActivationArg,
    use_bias: bool,
    kernel_initializer: InitializerArg,
    bias_initializer: InitializerArg,
    kernel_regularizer: Option<RegularizerArg>,
    bias_regularizer: Option<RegularizerArg>,
    // Built state.
    act: Act,
    input_dim: Option<usize>,
    kernel: Option<Weight>,
    bias: Option<Weight>,
}

impl Dense {
    /// A dense layer with `units` outputs.
    pub fn new(units: usize) -> Self {
        Dense {
            args: LayerArgs::default(),
            units,
            activation: Act::Linear.into(),
            use_bias: true,
            kernel_initializer: initializers::GLOROT_UNIFORM.into(),
            bias_initializer: initializers::ZEROS.into(),
            kernel_regularizer: None,
            bias_regularizer: None,
            act: Act::Linear,
            input_dim: None,
            kernel: None,
            bias: None,
        }
    }

    /// The activation, by name (`"relu"`) or value (`Act::Relu`).
    pub fn activation(mut self, a: impl Into<ActivationArg>) -> Self {
        self.activation = a.into();
        self
    }

    /// Whether to add a bias (default true).
    pub fn use_bias(mut self, b: bool) -> Self {
        self.use_bias = b;
        self
    }

    /// The kernel initializer, by name or value (default `glorot_uniform`).
    pub fn kernel_initializer(mut self, i: impl Into<InitializerArg>) -> Self {
        self.kernel_initializer = i.into();
        self
    }

    /// The bias initializer, by name or value (default `zeros`).
    pub fn bias_initializer(mut self, i: impl Into<InitializerArg>) -> Self {
        self.bias_initializer = i.into();
        self
    }

    /// A penalty on the kernel, added to the loss.
    pub fn kernel_regularizer(mut self, r: impl Into<RegularizerArg>) -> Self {
        self.kernel_regularizer = Some(r.into());
        self
    }

    /// A penalty on the bias, added to the loss.
    pub fn bias_regularizer(mut self, r: impl Into<RegularizerArg>) -> Self {
        self.bias_regularizer = Some(r.into());
        self
    }

    /// A `Dense` from its Keras config (base keys included).
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        let k = KernelConfig::read(c)?;
        let mut l = Dense::new(c.usize("units")?);
        (l.activation, l.use_bias) = (k.activation, k.use_bias);
        (l.kernel_initializer, l.bias_initializer) = (k.kernel_initializer, k.bias_initializer);
        (l.kernel_regularizer, l.bias_regularizer) = (k.kernel_regularizer, k.bias_regularizer);
        apply_base_config(l, c)
    }

    /// Number of output units.
    pub fn units(&self) -> usize {
        self.units
    }

    /// The kernel, once built.
    pub fn kernel(&self) -> Option<&Weight> {
        self.kernel.as_ref()
    }

    /// The bias, once built (and if used).
    pub fn bias(&self) -> Option<&Weight> {
        self.bias.as_ref()
    }
}

impl Layer for Dense {
    fn supports_masking(&self) -> bool {
        true
    }
    fn class_name(&self) -> &str {
        "Dense"
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn get_config(&self) -> Result<Config> {
        let v = json!({
            "units": self.units,
            "activation": self.activation.serialize(),
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer.serialize()?,
            "bias_initializer": self.bias_initializer.serialize()?,
            "kernel_regularizer": regularizers::serialize(self.kernel_regularizer.as_ref())?,
            "bias_regularizer": regularizers::serialize(self.bias_regularizer.as_ref())?,
            "kernel_constraint": null,
            "bias_constraint": null,
        });
        Ok(config(v))
    }

    fn input_spec(&self) -> Vec<InputSpec> {
        let spec = InputSpec::new().min_ndim(2);
        vec![match self.input_dim {
            Some(d) => spec.axis(-1, d),
            None => spec,
        }]
    }

    fn build(&mut self, input_shapes: &[Shape], w: &mut WeightBuilder) -> Result<()> {
        if self.units == 0 {
            return Err(Error::value(format!(
                "Received an invalid value for `units`, expected a positive integer. Received: units={}",
                self.units
            )));
        }
        self.act = self.activation.resolve()?;
        let input_dim = input_shapes[0].dim(-1).ok_or_else(|| {
            Error::value(format!(
                "The last dimension of the inputs to a Dense layer should be defined. Found None. \
                 Full input shape received: {}",
                input_shapes[0]
            ))
        })?;
        let kr = self
            .kernel_regularizer
            .as_ref()
            .map(|r| r.resolve())
            .transpose()?;
        let kernel = w.add(
            "kernel",
            &[input_dim, self.units],
            self.kernel_initializer.resolve()?.as_ref(),
            kr,
            true,
        )?;
        self.kernel = Some(kernel);
        if self.use_bias {
            let br = self
                .bias_regularizer
                .as_ref()
                .map(|r| r.resolve())
                .transpose()?;
            self.bias = Some(w.add(
                "bias",
                &[self.units],
                self.bias_initializer.resolve()?.as_ref(),
                br,
                true,
            )?);
        }
        self.input_dim = Some(input_dim);
        Ok(())
    }

    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        let mut out = s[0].clone();
        if let Some(last) = out.0.last_mut() {
            *last = Some(self.units);
        }
        Ok(vec![out])
    }

    fn forward(&self, inputs: &[Tensor], _ctx: &CallCtx) -> Result<Vec<Tensor>> {
        let kw = self
            .kernel
            .as_ref()
            .ok_or_else(|| Error::runtime("Dense called before build"))?;
        let kernel = kw.value();
        let x = if inputs[0].dtype() == kernel.dtype() {
            inputs[0].clone()
        } else {
            ops::cast(&inputs[0], kernel.dtype())?
        };
        let bias = self.bias.as_ref().map(Weight::value);
        // Gradients of trainable weights go to their sinks during a training step.
        let sinks = match &self.bias {
            Some(b) if kw.trainable() && b.trainable() => Some((kw.sink(), b.sink())),
            _ => None,
        };
        Ok(vec![ops::dense_with_sinks(
            &x,
            &kernel,
            bias.as_ref(),
            self.act,
            sinks,
        )?])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::LayerExt;
    use crate::layers::Input;

    #[test]
    fn shapes_and_params() {
        for (dims, units) in [(vec![784usize], 64usize), (vec![5, 7], 3)] {
            let x = Input::new(dims.clone());
            let y = Dense::new(units).call(&x).unwrap();
            let mut want = vec![None];
            want.extend(dims[..dims.len() - 1].iter().map(|&d| Some(d)));
            want.push(Some(units));
            assert_eq!(y.shape(), &Shape(want));
            assert_eq!(
                y.layer().count_params(),
                dims.last().unwrap() * units + units
            );
            assert_eq!(y.layer().trainable_weights().len(), 2);
        }
        let nb = Dense::new(4).use_bias(false).call(Input::new([3])).unwrap();
        assert_eq!(nb.layer().count_params(), 12);
    }

    #[test]
    fn wrong_last_axis_names_layer_and_shapes() {
        let d = Dense::new(4).name("probe").into_layer();
        d.call(Input::new([64])).unwrap();
        let e = d.call(Input::new([63])).unwrap_err().to_string();
        assert_eq!(
            e,
            "Input 0 of layer \"probe\" is incompatible with the layer: expected axis -1 of input shape \
             to have value 64, but received input with shape (None, 63)"
        );
        let e = Dense::new(2)
            .activation("relux")
            .call(Input::new([3]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("relux"));
        let e = Dense::new(2)
            .call(Input::new([None]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("should be defined"), "{e}");
    }

    #[test]
    fn eager_call_matches_formula() {
        let d = Dense::new(2).activation("relu").into_layer();
        let x = Tensor::new(&[[1f32, 2.0, 3.0]], &crate::ops::Device::Cpu).unwrap();
        let y = d.apply(&x).unwrap();
        let w = d.get_weights().unwrap();
        let k = w[0].to_vec2::<f32>().unwrap();
        #[allow(clippy::needless_range_loop)]
        for j in 0..2 {
            let z: f32 = (0..3).map(|i| [1.0, 2.0, 3.0][i] * k[i][j]).sum();
            assert!((y.to_vec2::<f32>().unwrap()[0][j] - z.max(0.0)).abs() < 1e-6);
        }
    }
}
