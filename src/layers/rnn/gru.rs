//! `GRU`: gated recurrent unit (`keras/src/layers/rnn/gru.py`).

use super::base_rnn::{Recurrent, RecurrentConfig, RnnConfig, RnnOptions};
use crate::activations::{Act, ActivationArg};
use crate::engine::{CallCtx, InputSpec, Layer, LayerArgs, Shape, VarGroup, Weight, WeightBuilder};
use crate::initializers::{self, InitializerArg, Orthogonal};
use crate::ops::{self, Cell, Tensor};
use crate::serialization::{json, Cfg, Config};
use crate::{Error, Result};

/// A GRU over `(batch, steps, features)` with Keras 3's defaults (tanh, sigmoid gates,
/// `reset_after = true`, `glorot_uniform` / `orthogonal` / zeros initializers) and weight
/// layout: kernel `(features, 3u)` and recurrent kernel `(u, 3u)` with gates `z, r, h`, bias
/// `(2, 3u)` (input and recurrent rows; `(3u,)` without `reset_after`).
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::GRU;
/// let y = GRU::new(16).call(&Input::new([None, Some(8)]))?;
/// assert_eq!(y.shape().to_string(), "(None, 16)");
/// assert_eq!(y.layer().count_params(), 3 * 16 * (8 + 16 + 2));
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone)]
pub struct GRU {
    args: LayerArgs,
    units: usize,
    activation: ActivationArg,
    recurrent_activation: ActivationArg,
    use_bias: bool,
    reset_after: bool,
    kernel_initializer: InitializerArg,
    recurrent_initializer: InitializerArg,
    opts: RnnOptions,
    cell: Option<Cell>,
    input_dim: Option<usize>,
    kernel: Option<Weight>,
    recurrent_kernel: Option<Weight>,
    bias: Option<Weight>,
}

impl GRU {
    /// A GRU with `units` hidden units.
    pub fn new(units: usize) -> Self {
        GRU {
            args: LayerArgs::default(),
            units,
            activation: Act::Tanh.into(),
            recurrent_activation: Act::Sigmoid.into(),
            use_bias: true,
            reset_after: true,
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
    /// The candidate activation (default tanh).
    pub fn activation(mut self, a: impl Into<ActivationArg>) -> Self {
        self.activation = a.into();
        self
    }
    /// The gate activation (default sigmoid).
    pub fn recurrent_activation(mut self, a: impl Into<ActivationArg>) -> Self {
        self.recurrent_activation = a.into();
        self
    }
    /// Whether to use biases.
    pub fn use_bias(mut self, b: bool) -> Self {
        self.use_bias = b;
        self
    }
    /// Apply the reset gate after the recurrent matmul (Keras 3's default, true) or before.
    pub fn reset_after(mut self, b: bool) -> Self {
        self.reset_after = b;
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

impl Recurrent for GRU {
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

impl RecurrentConfig for GRU {
    fn read_config(c: &Cfg) -> Result<GRU> {
        let r = RnnConfig::read(c)?;
        let mut l = GRU::new(r.units)
            .recurrent_activation(c.activation("recurrent_activation", "sigmoid")?)
            .reset_after(c.bool_or("reset_after", true)?);
        (l.activation, l.use_bias, l.opts) = (r.activation, r.use_bias, r.opts);
        (l.kernel_initializer, l.recurrent_initializer) =
            (r.kernel_initializer, r.recurrent_initializer);
        Ok(l)
    }
}

impl Layer for GRU {
    fn class_name(&self) -> &str {
        "GRU"
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
        c.insert("reset_after".into(), json!(self.reset_after));
        Ok(c)
    }
    fn input_spec(&self) -> Vec<InputSpec> {
        vec![rnn_input_spec(self.input_dim)]
    }
    fn build(&mut self, s: &[Shape], w: &mut WeightBuilder) -> Result<()> {
        self.opts.check(self.units)?;
        self.cell = Some(Cell::Gru {
            act: self.activation.resolve()?,
            recurrent_act: self.recurrent_activation.resolve()?,
            reset_after: self.reset_after,
        });
        let d = feature_dim("GRU", &s[0])?;
        let u = self.units;
        let (k, r) = add_kernels(
            w,
            d,
            u,
            3,
            &self.kernel_initializer,
            &self.recurrent_initializer,
        )?;
        self.kernel = Some(k);
        self.recurrent_kernel = Some(r);
        if self.use_bias {
            let shape: &[usize] = if self.reset_after {
                &[2, 3 * u]
            } else {
                &[3 * u]
            };
            self.bias = Some(w.add("bias", shape, &initializers::ZEROS, None, true)?);
        }
        self.input_dim = Some(d);
        Ok(())
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        Ok(self.opts.output_shapes(&s[0], self.units, 1))
    }
    fn var_group(&self, name: &str, own: &[Weight]) -> VarGroup {
        // Keras keeps an RNN's weights on its cell (`<layer>/cell/vars`).
        VarGroup::empty(name).with_child("cell", VarGroup::layer("gru_cell", own))
    }
    fn supports_masking(&self) -> bool {
        true
    }
    fn compute_mask(&self, _: &[Tensor], masks: &[Option<Tensor>]) -> Result<Vec<Option<Tensor>>> {
        Ok(self.opts.output_masks(masks))
    }
    fn forward(&self, inputs: &[Tensor], ctx: &CallCtx) -> Result<Vec<Tensor>> {
        run_cell(
            "GRU",
            ctx,
            &self.opts,
            self.cell,
            &inputs[0],
            [&self.kernel, &self.recurrent_kernel, &self.bias],
            self.units,
        )
    }
}

/// A 3D input spec, with the feature size once built.
pub(crate) fn rnn_input_spec(input_dim: Option<usize>) -> InputSpec {
    let spec = InputSpec::new().ndim(3);
    match input_dim {
        Some(d) => spec.axis(-1, d),
        None => spec,
    }
}

/// The defined last axis of a recurrent layer's input.
pub(crate) fn feature_dim(class: &str, s: &Shape) -> Result<usize> {
    s.dim(-1).ok_or_else(|| {
        Error::value(format!(
            "{class}: the feature dimension of the input must be defined; received {s}"
        ))
    })
}

/// `kernel (d, g*u)` and `recurrent_kernel (u, g*u)`.
pub(crate) fn add_kernels(
    w: &mut WeightBuilder,
    d: usize,
    units: usize,
    gates: usize,
    kernel_init: &InitializerArg,
    recurrent_init: &InitializerArg,
) -> Result<(Weight, Weight)> {
    let cols = gates * units;
    let k = w.add(
        "kernel",
        &[d, cols],
        kernel_init.resolve()?.as_ref(),
        None,
        true,
    )?;
    let r = w.add(
        "recurrent_kernel",
        &[units, cols],
        recurrent_init.resolve()?.as_ref(),
        None,
        true,
    )?;
    Ok((k, r))
}

/// Runs a composed recurrent cell with the layer's options (dropout, direction, outputs).
pub(crate) fn run_cell(
    class: &str,
    ctx: &CallCtx,
    opts: &RnnOptions,
    cell: Option<Cell>,
    x: &Tensor,
    weights: [&Option<Weight>; 3],
    units: usize,
) -> Result<Vec<Tensor>> {
    let (Some(cell), Some(k), Some(r)) = (cell, weights[0], weights[1]) else {
        return Err(Error::runtime(format!("{class} called before build")));
    };
    let (k, r) = (k.value(), r.value());
    let b = weights[2].as_ref().map(Weight::value);
    let x = opts.prepare(x, &k, ctx.training)?;
    let mask = opts.recurrent_mask(x.dim(0)?, units, &k, ctx.training)?;
    let steps = opts.step_mask(ctx)?;
    let step_mask = steps.as_ref().map(|m| ops::StepMask {
        mask: m,
        zero_output: opts.zero_output_for_mask,
    });
    let out = ops::recurrent(
        &x,
        cell,
        &k,
        &r,
        b.as_ref(),
        mask.as_ref(),
        step_mask,
        opts.return_sequences,
    )
    .map_err(|e| Error::value(format!("{class} layer \"{}\": {e}", ctx.name)))?;
    Ok(opts.outputs(out.sequences, out.states))
}
