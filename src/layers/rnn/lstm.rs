//! `LSTM`: long short-term memory over a sequence (`keras/src/layers/rnn/lstm.py`).

use crate::activations::{Act, ActivationArg};
use crate::engine::{
    CallCtx, Initialize, InputSpec, Layer, LayerArgs, Shape, Weight, WeightBuilder,
};
use crate::initializers::{self, InitializerArg, Orthogonal};
use crate::ops::{self, DType, Tensor};
use crate::{Error, Result};

/// An LSTM over `(batch, steps, features)`, with Keras's defaults (tanh, sigmoid gates,
/// `glorot_uniform` kernel, `orthogonal` recurrent kernel, zero bias with the forget gate's
/// part at one) and weight layout (gates `i, f, c, o`), so Keras weights load unchanged.
///
/// Returns the last hidden state, or every step's (`return_sequences`), followed by the final
/// hidden and cell states with `return_state` (use `call_many`).
pub struct LSTM {
    args: LayerArgs,
    units: usize,
    activation: ActivationArg,
    recurrent_activation: ActivationArg,
    use_bias: bool,
    kernel_initializer: InitializerArg,
    recurrent_initializer: InitializerArg,
    unit_forget_bias: bool,
    return_sequences: bool,
    return_state: bool,
    go_backwards: bool,
    dropout: f64,
    recurrent_dropout: f64,
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
            return_sequences: false,
            return_state: false,
            go_backwards: false,
            dropout: 0.0,
            recurrent_dropout: 0.0,
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
    /// Return every step's hidden state.
    pub fn return_sequences(mut self, b: bool) -> Self {
        self.return_sequences = b;
        self
    }
    /// Also return the final hidden and cell states.
    pub fn return_state(mut self, b: bool) -> Self {
        self.return_state = b;
        self
    }
    /// Process the sequence backwards (the output sequence is then in reverse order, as in
    /// Keras).
    pub fn go_backwards(mut self, b: bool) -> Self {
        self.go_backwards = b;
        self
    }
    /// Dropout on the inputs (not supported yet: an error if non-zero).
    pub fn dropout(mut self, r: f64) -> Self {
        self.dropout = r;
        self
    }
    /// Dropout on the recurrent state (not supported yet: an error if non-zero).
    pub fn recurrent_dropout(mut self, r: f64) -> Self {
        self.recurrent_dropout = r;
        self
    }
    /// Number of units.
    pub fn units(&self) -> usize {
        self.units
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
    fn input_spec(&self) -> Vec<InputSpec> {
        let spec = InputSpec::new().ndim(3);
        vec![match self.input_dim {
            Some(d) => spec.axis(-1, d),
            None => spec,
        }]
    }
    fn build(&mut self, s: &[Shape], w: &mut WeightBuilder) -> Result<()> {
        if self.dropout != 0.0 || self.recurrent_dropout != 0.0 {
            return Err(Error::value("LSTM: `dropout` and `recurrent_dropout` are not supported yet; use a Dropout layer before the LSTM"));
        }
        if self.units == 0 {
            return Err(Error::value("Received an invalid value for argument `units`, expected a positive integer, got 0."));
        }
        self.acts = (
            self.activation.resolve()?,
            self.recurrent_activation.resolve()?,
        );
        let d = s[0].dim(-1).ok_or_else(|| {
            Error::value(format!(
                "LSTM: the feature dimension of the input must be defined; received {}",
                s[0]
            ))
        })?;
        let u = self.units;
        self.kernel = Some(w.add(
            "kernel",
            &[d, 4 * u],
            self.kernel_initializer.resolve()?.as_ref(),
            None,
            true,
        )?);
        self.recurrent_kernel = Some(w.add(
            "recurrent_kernel",
            &[u, 4 * u],
            self.recurrent_initializer.resolve()?.as_ref(),
            None,
            true,
        )?);
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
        let d = &s[0].0;
        let u = Some(self.units);
        let mut out = vec![if self.return_sequences {
            Shape(vec![d[0], d[1], u])
        } else {
            Shape(vec![d[0], u])
        }];
        if self.return_state {
            out.push(Shape(vec![d[0], u]));
            out.push(Shape(vec![d[0], u]));
        }
        Ok(out)
    }
    fn forward(&self, inputs: &[Tensor], ctx: &CallCtx) -> Result<Vec<Tensor>> {
        let (k, r) = match (&self.kernel, &self.recurrent_kernel) {
            (Some(k), Some(r)) => (k.value(), r.value()),
            _ => return Err(Error::runtime("LSTM called before build")),
        };
        let mut x = ops::cast(&inputs[0], k.dtype())?;
        if self.go_backwards {
            x = ops::reverse(&x, 1)?;
        }
        let b = match &self.bias {
            Some(b) => b.value(),
            None => Tensor::zeros(4 * self.units, k.dtype(), k.device())?,
        };
        let out = ops::lstm(&x, &k, &r, &b, self.acts.0, self.acts.1)
            .map_err(|e| Error::value(format!("LSTM layer \"{}\": {e}", ctx.name)))?;
        let first = if self.return_sequences {
            out.sequences
        } else {
            out.h.clone()
        };
        let mut v = vec![first];
        if self.return_state {
            v.push(out.h);
            v.push(out.c);
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::LayerExt;
    use crate::layers::Input;

    #[test]
    fn shapes_params_and_errors() {
        let y = LSTM::new(16)
            .return_sequences(true)
            .call(&Input::new([None, Some(128)]))
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
            .call(&Input::new([3]))
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
