//! `LSTM`: long short-term memory over a sequence (`keras/src/layers/rnn/lstm.py`).

use super::base_rnn::{Recurrent, RecurrentConfig, RnnConfig, RnnOptions};
use crate::activations::{Act, ActivationArg};
use crate::engine::{
    CallCtx, Initialize, InputSpec, Layer, LayerArgs, Shape, VarGroup, Weight, WeightBuilder,
};
use crate::initializers::{self, InitializerArg, Orthogonal};
use crate::ops::{self, Cell, DType, Tensor};
use crate::serialization::{json, Cfg, Config};
use crate::{Error, Result};

/// An LSTM over `(batch, steps, features)`, with Keras's defaults (tanh, sigmoid gates,
/// `glorot_uniform` kernel, `orthogonal` recurrent kernel, zero bias with the forget gate's
/// part at one) and weight layout (gates `i, f, c, o`), so Keras weights load unchanged.
///
/// Returns the last hidden state, or every step's (`return_sequences`), followed by the final
/// hidden and cell states with `return_state` (use `call_many`).
#[derive(Clone)]
pub struct LSTM {
    args: LayerArgs,
    units: usize,
    activation: ActivationArg,
    recurrent_activation: ActivationArg,
    use_bias: bool,
    kernel_initializer: InitializerArg,
    recurrent_initializer: InitializerArg,
    unit_forget_bias: bool,
    opts: RnnOptions,
    acts: (Act, Act),
    input_dim: Option<usize>,
    kernel: Option<Weight>,
    recurrent_kernel: Option<Weight>,
    bias: Option<Weight>,
}

/// Zeros, with ones for the forget gate (Keras's `unit_forget_bias`).
struct ForgetBias(usize);

impl Initialize for ForgetBias {
    fn init(&self, shape: &[usize], dtype: DType) -> Result<Tensor> {
        let u = self.0;
        let v: Vec<f64> = (0..4 * u)
            .map(|i| if (u..2 * u).contains(&i) { 1.0 } else { 0.0 })
            .collect();
        ops::cast(&ops::from_vec(v, shape)?, dtype)
    }
    fn class_name(&self) -> String {
        "Zeros".into()
    }
}

impl LSTM {
    /// An LSTM with `units` hidden units.
    pub fn new(units: usize) -> Self {
        LSTM {
            args: LayerArgs::default(),
            units,
            activation: Act::Tanh.into(),
            recurrent_activation: Act::Sigmoid.into(),
            use_bias: true,
            kernel_initializer: initializers::GLOROT_UNIFORM.into(),
            recurrent_initializer: Orthogonal::default().into(),
            unit_forget_bias: true,
            opts: RnnOptions::default(),
            acts: (Act::Tanh, Act::Sigmoid),
            input_dim: None,
            kernel: None,
            recurrent_kernel: None,
            bias: None,
        }
    }
    /// The cell activation (default tanh).
    pub fn activation(mut self, a: impl Into<ActivationArg>) -> Self {
        self.activation = a.into();
        self
    }
    /// The gate activation (default sigmoid).
    pub fn recurrent_activation(mut self, a: impl Into<ActivationArg>) -> Self {
        self.recurrent_activation = a.into();
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
    /// Start the forget gate's bias at one (default true).
    pub fn unit_forget_bias(mut self, b: bool) -> Self {
        self.unit_forget_bias = b;
        self
    }
}

impl Recurrent for LSTM {
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

impl RecurrentConfig for LSTM {
    fn read_config(c: &Cfg) -> Result<LSTM> {
        let r = RnnConfig::read(c)?;
        let mut l = LSTM::new(r.units)
            .recurrent_activation(c.activation("recurrent_activation", "sigmoid")?)
            .unit_forget_bias(c.bool_or("unit_forget_bias", true)?);
        (l.activation, l.use_bias, l.opts) = (r.activation, r.use_bias, r.opts);
        (l.kernel_initializer, l.recurrent_initializer) =
            (r.kernel_initializer, r.recurrent_initializer);
        Ok(l)
    }
}

impl Layer for LSTM {
    fn class_name(&self) -> &str {
        "LSTM"
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn get_config(&self) -> Result<Config> {
        let mut c = self.opts.config(
            self.units,
            &self.activation,
            self.use_bias,
            &self.kernel_initializer,
            &self.recurrent_initializer,
        )?;
        c.insert(
            "recurrent_activation".into(),
            self.recurrent_activation.serialize(),
        );
        c.insert("unit_forget_bias".into(), json!(self.unit_forget_bias));
        Ok(c)
    }
    fn input_spec(&self) -> Vec<InputSpec> {
        vec![super::gru::rnn_input_spec(self.input_dim)]
    }
    fn build(&mut self, s: &[Shape], w: &mut WeightBuilder) -> Result<()> {
        self.opts.check(self.units)?;
        self.acts = (
            self.activation.resolve()?,
            self.recurrent_activation.resolve()?,
        );
        let d = super::gru::feature_dim("LSTM", &s[0])?;
        let u = self.units;
        let (k, r) = super::gru::add_kernels(
            w,
            d,
            u,
            4,
            &self.kernel_initializer,
            &self.recurrent_initializer,
        )?;
        self.kernel = Some(k);
        self.recurrent_kernel = Some(r);
        if self.use_bias {
            let init: Box<dyn Initialize> = if self.unit_forget_bias {
                Box::new(ForgetBias(u))
            } else {
                Box::new(initializers::ZEROS)
            };
            self.bias = Some(w.add("bias", &[4 * u], init.as_ref(), None, true)?);
        }
        self.input_dim = Some(d);
        Ok(())
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        Ok(self.opts.output_shapes(&s[0], self.units, 2))
    }
    fn var_group(&self, name: &str, own: &[Weight]) -> VarGroup {
        // Keras keeps an RNN's weights on its cell (`<layer>/cell/vars`).
        VarGroup::empty(name).with_child("cell", VarGroup::layer("lstm_cell", own))
    }
    fn supports_masking(&self) -> bool {
        true
    }
    fn compute_mask(&self, _: &[Tensor], masks: &[Option<Tensor>]) -> Result<Vec<Option<Tensor>>> {
        Ok(self.opts.output_masks(masks))
    }
    fn forward(&self, inputs: &[Tensor], ctx: &CallCtx) -> Result<Vec<Tensor>> {
        let (k, r) = match (&self.kernel, &self.recurrent_kernel) {
            (Some(k), Some(r)) => (k.value(), r.value()),
            _ => return Err(Error::runtime("LSTM called before build")),
        };
        let x = self.opts.prepare(&inputs[0], &k, ctx.training)?;
        let b = match &self.bias {
            Some(b) => b.value(),
            None => Tensor::zeros(4 * self.units, k.dtype(), k.device())?,
        };
        let rec_mask = self
            .opts
            .recurrent_mask(x.dim(0)?, self.units, &k, ctx.training)?;
        let name_err = |e: Error| Error::value(format!("LSTM layer \"{}\": {e}", ctx.name));
        let steps = self.opts.step_mask(ctx)?;
        let fused_dtype = matches!(k.dtype(), DType::F32 | DType::F64) && x.dtype() == k.dtype();
        if rec_mask.is_none() && steps.is_none() && k.device().is_cpu() && fused_dtype {
            // The fused op: the whole sequence and its backward in a few gemms.
            let out = ops::lstm(&x, &k, &r, &b, self.acts.0, self.acts.1).map_err(name_err)?;
            let seq = self.opts.return_sequences.then_some(out.sequences);
            return Ok(self.opts.outputs(seq, vec![out.h, out.c]));
        }
        let cell = Cell::Lstm {
            act: self.acts.0,
            recurrent_act: self.acts.1,
        };
        let out = ops::recurrent(
            &x,
            cell,
            &k,
            &r,
            Some(&b),
            rec_mask.as_ref(),
            steps.as_ref().map(|m| ops::StepMask {
                mask: m,
                zero_output: self.opts.zero_output_for_mask,
            }),
            self.opts.return_sequences,
        )
        .map_err(name_err)?;
        Ok(self.opts.outputs(out.sequences, out.states))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::LayerExt;
    use crate::layers::Input;
    use crate::layers::Recurrent;

    #[test]
    fn shapes_params_and_errors() {
        let y = LSTM::new(16)
            .return_sequences(true)
            .call(Input::new([None, Some(128)]))
            .unwrap();
        assert_eq!(y.shape().to_string(), "(None, None, 16)");
        assert_eq!(y.layer().count_params(), 4 * 16 * (128 + 16 + 1));
        let outs = LSTM::new(4)
            .return_state(true)
            .call_many(&[Input::new([7, 3])])
            .unwrap();
        assert_eq!(outs.len(), 3);
        assert_eq!(outs[2].shape().to_string(), "(None, 4)");
        let e = LSTM::new(4)
            .name("lstm_in")
            .call(Input::new([3]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("\"lstm_in\"") && e.contains("expected ndim=3, found ndim=2"),
            "{e}"
        );
        let b = LSTM::new(3).into_layer();
        b.build(&[Shape(vec![None, Some(5), Some(2)])]).unwrap();
        let bias = b.get_weights().unwrap()[2].to_vec1::<f32>().unwrap();
        assert_eq!(bias, vec![0., 0., 0., 1., 1., 1., 0., 0., 0., 0., 0., 0.]);
    }
}
