//! `SimpleRNN`: a fully connected recurrence (`keras/src/layers/rnn/simple_rnn.py`).

use super::base_rnn::{Recurrent, RecurrentConfig, RnnConfig, RnnOptions};
use super::gru::{add_kernels, feature_dim, rnn_input_spec, run_cell};
use crate::activations::{Act, ActivationArg};
use crate::engine::{CallCtx, InputSpec, Layer, LayerArgs, Shape, VarGroup, Weight, WeightBuilder};
use crate::initializers::{self, InitializerArg, Orthogonal};
use crate::ops::{Cell, Tensor};
use crate::serialization::{Cfg, Config};
use crate::Result;

/// `h_t = activation(x_t W + b + h_{t-1} U)` over `(batch, steps, features)`, with Keras's
/// defaults (tanh; `glorot_uniform`, `orthogonal` and zeros initializers).
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::SimpleRNN;
/// let y = SimpleRNN::new(4).return_sequences(true).call(&Input::new([10, 8]))?;
/// assert_eq!(y.shape().to_string(), "(None, 10, 4)");
/// assert_eq!(y.layer().count_params(), 4 * (8 + 4 + 1));
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone)]
pub struct SimpleRNN {
    args: LayerArgs,
    units: usize,
    activation: ActivationArg,
    use_bias: bool,
    kernel_initializer: InitializerArg,
    recurrent_initializer: InitializerArg,
    opts: RnnOptions,
    cell: Option<Cell>,
    input_dim: Option<usize>,
    kernel: Option<Weight>,
    recurrent_kernel: Option<Weight>,
    bias: Option<Weight>,
}

impl SimpleRNN {
    /// A recurrence with `units` hidden units.
    pub fn new(units: usize) -> Self {
        SimpleRNN {
            args: LayerArgs::default(),
            units,
            activation: Act::Tanh.into(),
            use_bias: true,
            kernel_initializer: initializers::GLOROT_UNIFORM.into(),
            recurrent_initializer: Orthogonal::default().into(),
            opts: RnnOptions::default(),
            cell: None,
            input_dim: None,
            kernel: None,
            recurrent_kernel: None,
            bias: None,
        }
    }
    /// The activation (default tanh).
    pub fn activation(mut self, a: impl Into<ActivationArg>) -> Self {
        self.activation = a.into();
        self
    }
    /// Whether to use a bias.
    pub fn use_bias(mut self, b: bool) -> Self {
        self.use_bias = b;
        self
    }
    /// Kernel initializer.
    pub fn kernel_initializer(mut self, i: impl Into<InitializerArg>) -> Self {
        self.kernel_initializer = i.into();
        self
    }
    /// Recurrent kernel initializer.
    pub fn recurrent_initializer(mut self, i: impl Into<InitializerArg>) -> Self {
        self.recurrent_initializer = i.into();
        self
    }
}

impl Recurrent for SimpleRNN {
    fn rnn_options(&self) -> &RnnOptions {
        &self.opts
    }
    fn rnn_options_mut(&mut self) -> &mut RnnOptions {
        &mut self.opts
    }
    fn units(&self) -> usize {
        self.units
    }
}

impl RecurrentConfig for SimpleRNN {
    fn read_config(c: &Cfg) -> Result<SimpleRNN> {
        let r = RnnConfig::read(c)?;
        let mut l = SimpleRNN::new(r.units);
        (l.activation, l.use_bias, l.opts) = (r.activation, r.use_bias, r.opts);
        (l.kernel_initializer, l.recurrent_initializer) =
            (r.kernel_initializer, r.recurrent_initializer);
        Ok(l)
    }
}

impl Layer for SimpleRNN {
    fn class_name(&self) -> &str {
        "SimpleRNN"
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn get_config(&self) -> Result<Config> {
        let c = self.opts.config(
            self.units,
            &self.activation,
            self.use_bias,
            &self.kernel_initializer,
            &self.recurrent_initializer,
        )?;
        Ok(c)
    }
    fn input_spec(&self) -> Vec<InputSpec> {
        vec![rnn_input_spec(self.input_dim)]
    }
    fn build(&mut self, s: &[Shape], w: &mut WeightBuilder) -> Result<()> {
        self.opts.check(self.units)?;
        self.cell = Some(Cell::Simple {
            act: self.activation.resolve()?,
        });
        let d = feature_dim("SimpleRNN", &s[0])?;
        let (k, r) = add_kernels(
            w,
            d,
            self.units,
            1,
            &self.kernel_initializer,
            &self.recurrent_initializer,
        )?;
        self.kernel = Some(k);
        self.recurrent_kernel = Some(r);
        if self.use_bias {
            self.bias = Some(w.add("bias", &[self.units], &initializers::ZEROS, None, true)?);
        }
        self.input_dim = Some(d);
        Ok(())
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        Ok(self.opts.output_shapes(&s[0], self.units, 1))
    }
    fn var_group(&self, name: &str, own: &[Weight]) -> VarGroup {
        // Keras keeps an RNN's weights on its cell (`<layer>/cell/vars`).
        VarGroup::empty(name).with_child("cell", VarGroup::layer("simple_rnn_cell", own))
    }
    fn supports_masking(&self) -> bool {
        true
    }
    fn compute_mask(&self, _: &[Tensor], masks: &[Option<Tensor>]) -> Result<Vec<Option<Tensor>>> {
        Ok(self.opts.output_masks(masks))
    }
    fn forward(&self, inputs: &[Tensor], ctx: &CallCtx) -> Result<Vec<Tensor>> {
        run_cell(
            "SimpleRNN",
            ctx,
            &self.opts,
            self.cell,
            &inputs[0],
            [&self.kernel, &self.recurrent_kernel, &self.bias],
            self.units,
        )
    }
}
