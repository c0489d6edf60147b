//! What the recurrent layers share (`keras/src/layers/rnn/rnn.py`): the sequence options, the
//! output shapes, input dropout and the recurrent dropout mask.

use crate::activations::ActivationArg;
use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, Layer, LayerRef, Shape};
use crate::initializers::{self, InitializerArg};
use crate::layers::regularization::check_rate;
use crate::ops::{self, random, Tensor};
use crate::serialization::{config, json, Cfg, Config};
use crate::{Error, Result};

/// The options of Keras's `RNN` base class.
#[derive(Clone, Debug, Default)]
pub struct RnnOptions {
    /// Return every step's output, not only the last.
    pub return_sequences: bool,
    /// Also return the final states.
    pub return_state: bool,
    /// Process the sequence from its end.
    pub go_backwards: bool,
    /// Fraction of the inputs dropped while training (one mask for all steps).
    pub dropout: f64,
    /// Fraction of the recurrent state dropped while training (one mask for all steps).
    pub recurrent_dropout: f64,
    /// With a mask, the output at padded steps is zeros rather than the carried-over output
    /// (`Bidirectional` turns it on for sequences, as Keras does).
    pub zero_output_for_mask: bool,
}

/// The config keys every recurrent layer reads (the twin of [`RnnOptions::config`]): each
/// layer reads its own beside them (`recurrent_activation`, `unit_forget_bias`, ...).
pub(crate) struct RnnConfig {
    pub units: usize,
    pub activation: ActivationArg,
    pub use_bias: bool,
    pub kernel_initializer: InitializerArg,
    pub recurrent_initializer: InitializerArg,
    pub opts: RnnOptions,
}

impl RnnConfig {
    /// Reads them, with Keras's defaults; stateful and unrolled layers are refused.
    pub(crate) fn read(c: &Cfg) -> Result<Self> {
        if c.bool_or("stateful", false)? || c.bool_or("unroll", false)? {
            return Err(Error::value(format!(
                "{}: stateful and unrolled recurrent layers are not supported",
                c.class
            )));
        }
        Ok(RnnConfig {
            units: c.usize("units")?,
            activation: c.activation("activation", "tanh")?,
            use_bias: c.bool_or("use_bias", true)?,
            kernel_initializer: c.initializer("kernel_initializer", "glorot_uniform")?,
            recurrent_initializer: c.initializer("recurrent_initializer", "orthogonal")?,
            opts: RnnOptions {
                return_sequences: c.bool_or("return_sequences", false)?,
                return_state: c.bool_or("return_state", false)?,
                go_backwards: c.bool_or("go_backwards", false)?,
                dropout: c.f64_or("dropout", 0.0)?,
                recurrent_dropout: c.f64_or("recurrent_dropout", 0.0)?,
                zero_output_for_mask: c.bool_or("zero_output_for_mask", false)?,
            },
        })
    }
}

/// A recurrent layer read from its Keras config: the keys every recurrent layer shares
/// ([`RnnConfig`]) and its own.
pub(crate) trait RecurrentConfig: Recurrent {
    /// The layer from the keys of its config (also the layer inside a `Bidirectional`); the
    /// base keys are the caller's.
    fn read_config(c: &Cfg) -> Result<Self>;

    /// The layer from its config, base keys included.
    fn from_config(c: &Cfg) -> Result<LayerRef> {
        apply_base_config(Self::read_config(c)?, c)
    }
}

impl RnnOptions {
    pub(crate) fn check(&self, units: usize) -> Result<()> {
        if units == 0 {
            return Err(crate::Error::value(
                "Received an invalid value for argument `units`, expected a positive integer, got 0.",
            ));
        }
        check_rate(self.dropout)?;
        check_rate(self.recurrent_dropout)
    }

    /// The config keys every recurrent layer writes (Keras's `RNN` and cell arguments);
    /// each layer adds its own (`recurrent_activation`, `unit_forget_bias`, `reset_after`).
    pub(crate) fn config(
        &self,
        units: usize,
        activation: &ActivationArg,
        use_bias: bool,
        kernel_initializer: &InitializerArg,
        recurrent_initializer: &InitializerArg,
    ) -> Result<Config> {
        Ok(config(json!({
            "units": units,
            "activation": activation.serialize(),
            "use_bias": use_bias,
            "kernel_initializer": kernel_initializer.serialize()?,
            "recurrent_initializer": recurrent_initializer.serialize()?,
            "bias_initializer": initializers::serialize(&initializers::ZEROS),
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "zero_output_for_mask": self.zero_output_for_mask,
        })))
    }

    /// Output shapes: the output, then `n_states` states of `(batch, units)`.
    pub(crate) fn output_shapes(&self, s: &Shape, units: usize, n_states: usize) -> Vec<Shape> {
        let d = &s.0;
        let mut out = vec![if self.return_sequences {
            Shape(vec![d[0], d[1], Some(units)])
        } else {
            Shape(vec![d[0], Some(units)])
        }];
        if self.return_state {
            out.extend((0..n_states).map(|_| Shape(vec![d[0], Some(units)])));
        }
        out
    }

    /// The input as the cell sees it: cast, reversed for `go_backwards`, and with input dropout
    /// while training.
    pub(crate) fn prepare(&self, x: &Tensor, like: &Tensor, training: bool) -> Result<Tensor> {
        let mut x = ops::cast(x, like.dtype())?;
        if self.go_backwards {
            x = ops::reverse(&x, 1)?;
        }
        if training && self.dropout > 0.0 {
            let (n, _, d) = x.dims3()?;
            let m = dropout_mask(n, d, self.dropout, &x)?.unsqueeze(1)?;
            x = x.broadcast_mul(&m)?;
        }
        Ok(x)
    }

    /// The recurrent dropout mask `(batch, units)` while training, if any.
    pub(crate) fn recurrent_mask(
        &self,
        batch: usize,
        units: usize,
        like: &Tensor,
        training: bool,
    ) -> Result<Option<Tensor>> {
        if training && self.recurrent_dropout > 0.0 {
            Ok(Some(dropout_mask(
                batch,
                units,
                self.recurrent_dropout,
                like,
            )?))
        } else {
            Ok(None)
        }
    }

    /// The input mask in processing order (reversed for `go_backwards`).
    pub(crate) fn step_mask(&self, ctx: &CallCtx) -> Result<Option<Tensor>> {
        match ctx.mask(0) {
            Some(m) if self.go_backwards => Ok(Some(ops::reverse(m, 1)?)),
            Some(m) => Ok(Some(m.clone())),
            None => Ok(None),
        }
    }

    /// Output masks as Keras's `RNN.compute_mask`: the input mask on returned sequences.
    pub(crate) fn output_masks(&self, masks: &[Option<Tensor>]) -> Vec<Option<Tensor>> {
        let m = masks.first().cloned().flatten();
        vec![if self.return_sequences { m } else { None }]
    }

    /// The layer's outputs from the sequences and final states.
    pub(crate) fn outputs(&self, sequences: Option<Tensor>, states: Vec<Tensor>) -> Vec<Tensor> {
        let first = match sequences {
            Some(s) if self.return_sequences => s,
            _ => states[0].clone(),
        };
        let mut v = vec![first];
        if self.return_state {
            v.extend(states);
        }
        v
    }
}

fn dropout_mask(rows: usize, cols: usize, rate: f64, like: &Tensor) -> Result<Tensor> {
    let keep = 1.0 - rate;
    let v: Vec<f64> = random::with_rng(|r| {
        (0..rows * cols)
            .map(|_| if r.uniform() < keep { 1.0 / keep } else { 0.0 })
            .collect()
    });
    Ok(ops::cast(&ops::from_vec(v, &[rows, cols])?, like.dtype())?.to_device(like.device())?)
}

/// The builder options every recurrent layer has (`LSTM`, `GRU`, `SimpleRNN`), and what
/// `Bidirectional` needs to make the backward copy. In the prelude.
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::GRU;
/// let outs = GRU::new(8).return_sequences(true).return_state(true).call_many(&[Input::new([None, Some(3)])])?;
/// assert_eq!(outs[0].shape().to_string(), "(None, None, 8)");
/// assert_eq!(outs[1].shape().to_string(), "(None, 8)");
/// # Ok::<(), keras::Error>(())
/// ```
pub trait Recurrent: Layer + Clone + Sized {
    /// The shared options.
    fn rnn_options(&self) -> &RnnOptions;
    /// The shared options, mutably.
    fn rnn_options_mut(&mut self) -> &mut RnnOptions;
    /// Number of units.
    fn units(&self) -> usize;

    /// Return every step's output (default: only the last).
    fn return_sequences(mut self, b: bool) -> Self {
        self.rnn_options_mut().return_sequences = b;
        self
    }
    /// Also return the final states (use `call_many`).
    fn return_state(mut self, b: bool) -> Self {
        self.rnn_options_mut().return_state = b;
        self
    }
    /// Process the sequence backwards; the output sequence is then in processing (reversed)
    /// order, as in Keras.
    fn go_backwards(mut self, b: bool) -> Self {
        self.rnn_options_mut().go_backwards = b;
        self
    }
    /// Dropout on the inputs while training.
    fn dropout(mut self, rate: f64) -> Self {
        self.rnn_options_mut().dropout = rate;
        self
    }
    /// Dropout on the recurrent state while training.
    fn recurrent_dropout(mut self, rate: f64) -> Self {
        self.rnn_options_mut().recurrent_dropout = rate;
        self
    }
}
