//! `Bidirectional`: one recurrent layer forwards and a copy backwards
//! (`keras/src/layers/rnn/bidirectional.py`).

use super::base_rnn::{Recurrent, RecurrentConfig};
use super::{SimpleRNN, GRU, LSTM};
use crate::engine::config::apply_base_config;
use crate::engine::WeightBuilder;
use crate::engine::{context, naming, CallCtx, Layer, LayerArgs, LayerExt, LayerRef, Shape};
use crate::ops::{self, Merge, Tensor};
use crate::serialization::{config, json, Cfg, Config, Value};
use crate::{Error, Result};

/// Runs a recurrent layer over the sequence forwards and a copy of it backwards, then merges
/// the two outputs (`merge_mode`: "concat" by default, "sum", "mul", "ave", or `None` for both
/// outputs separately). The copies are named `forward_<name>` and `backward_<name>`, as in
/// Keras; the weights are the forward layer's followed by the backward layer's.
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::{Bidirectional, LSTM};
/// let y = Bidirectional::new(LSTM::new(8).return_sequences(true)).call(&Input::new([None, Some(5)]))?;
/// assert_eq!(y.shape().to_string(), "(None, None, 16)");
/// assert_eq!(y.layer().count_params(), 2 * 4 * 8 * (5 + 8 + 1));
/// # Ok::<(), keras::Error>(())
/// ```
pub struct Bidirectional {
    args: LayerArgs,
    forward: LayerRef,
    backward: LayerRef,
    merge_mode: Option<String>,
    return_sequences: bool,
    return_state: bool,
}

impl Bidirectional {
    /// Wraps `layer`; the backward copy is the same layer with `go_backwards` flipped.
    pub fn new<L: Recurrent>(layer: L) -> Self {
        let base = layer
            .args()
            .name
            .clone()
            .unwrap_or_else(|| naming::unique_name(&naming::to_snake_case(layer.class_name())));
        let mut backward = layer.clone();
        let go_back = !layer.rnn_options().go_backwards;
        backward.rnn_options_mut().go_backwards = go_back;
        Self::pair(layer, backward, &base)
    }

    /// Wraps `layer` with an explicit backward layer (`backward_layer=`); it must have
    /// `go_backwards(true)` and the same `return_sequences` / `return_state`.
    pub fn with_backward<F: Recurrent, B: Recurrent>(layer: F, backward: B) -> Result<Self> {
        let (f, b) = (layer.rnn_options(), backward.rnn_options());
        if f.return_sequences != b.return_sequences || f.return_state != b.return_state {
            return Err(Error::value(
                "Forward layer and backward layer should have the same `return_sequences` and `return_state` values.",
            ));
        }
        if f.go_backwards == b.go_backwards {
            return Err(Error::value(
                "Forward layer and backward layer should have different `go_backwards` value.",
            ));
        }
        let base = layer
            .args()
            .name
            .clone()
            .unwrap_or_else(|| naming::unique_name(&naming::to_snake_case(layer.class_name())));
        Ok(Self::pair(layer, backward, &base))
    }

    fn pair<F: Recurrent, B: Recurrent>(mut fwd: F, mut bwd: B, base: &str) -> Self {
        let opts = fwd.rnn_options().clone();
        // Padded steps give zeros in both directions' sequences, as Keras forces.
        fwd.rnn_options_mut().zero_output_for_mask = opts.return_sequences;
        bwd.rnn_options_mut().zero_output_for_mask = opts.return_sequences;
        fwd.args_mut().name = Some(format!("forward_{}", base.trim_start_matches("forward_")));
        if bwd.args().name.is_none() || bwd.args().name.as_deref() == Some(base) {
            bwd.args_mut().name =
                Some(format!("backward_{}", base.trim_start_matches("backward_")));
        }
        Bidirectional {
            args: LayerArgs::default(),
            forward: LayerRef::new(fwd),
            backward: LayerRef::new(bwd),
            merge_mode: Some("concat".into()),
            return_sequences: opts.return_sequences,
            return_state: opts.return_state,
        }
    }

    /// How to combine the two directions: "concat", "sum", "mul", "ave", or `None`.
    pub fn merge_mode<'a>(mut self, mode: impl Into<Option<&'a str>>) -> Self {
        self.merge_mode = mode.into().map(str::to_string);
        self
    }

    /// The forward layer.
    pub fn forward_layer(&self) -> &LayerRef {
        &self.forward
    }

    /// The backward layer.
    pub fn backward_layer(&self) -> &LayerRef {
        &self.backward
    }

    fn merge(&self, f: Tensor, b: Tensor) -> Result<Vec<Tensor>> {
        let how = match self.merge_mode.as_deref() {
            None => return Ok(vec![f, b]),
            Some("concat") => return Ok(vec![ops::concatenate(&[f, b], -1)?]),
            Some("sum") => Merge::Add,
            Some("mul") => Merge::Multiply,
            Some("ave") => Merge::Average,
            Some(m) => unreachable!("merge mode {m} checked in build"),
        };
        Ok(vec![ops::elementwise(&[f, b], how)?])
    }
}

impl Bidirectional {
    /// A `Bidirectional` from its Keras config: `layer` (and `backward_layer`) are serialized
    /// `LSTM`, `GRU` or `SimpleRNN` layers; `merge_mode` absent is Keras's default "concat",
    /// null returns the two directions apart.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        let (class, fwd) =
            inner_config(c, "layer")?.ok_or_else(|| c.bad("layer", "a serialized layer"))?;
        let bwd = inner_config(c, "backward_layer")?;
        let merge = match c.map.get("merge_mode") {
            None => Some("concat"),
            Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.as_str()),
            Some(_) => return Err(c.bad("merge_mode", "a string or null")),
        };
        let l = match class {
            "LSTM" => wrap(LSTM::read_config, class, fwd, bwd)?,
            "GRU" => wrap(GRU::read_config, class, fwd, bwd)?,
            "SimpleRNN" => wrap(SimpleRNN::read_config, class, fwd, bwd)?,
            other => {
                return Err(Error::value(format!(
                "Bidirectional: cannot wrap a {other} layer; LSTM, GRU and SimpleRNN can be loaded"
            )))
            }
        };
        apply_base_config(l.merge_mode(merge), c)
    }
}

/// The `{class_name, config}` of the serialized layer at `key`, if present.
fn inner_config<'a>(c: &Cfg<'a>, key: &str) -> Result<Option<(&'a str, &'a Config)>> {
    let Some(v) = c.get(key) else { return Ok(None) };
    let class = v.get("class_name").and_then(Value::as_str);
    let config = v.get("config").and_then(Value::as_object);
    match (class, config) {
        (Some(class), Some(config)) => Ok(Some((class, config))),
        _ => Err(c.bad(key, "a serialized layer with a class_name and a config")),
    }
}

/// The wrapper of the recurrent layers `read` makes from `fwd` (and `bwd`), each named as its
/// config says.
fn wrap<R: Recurrent>(
    read: fn(&Cfg) -> Result<R>,
    class: &str,
    fwd: &Config,
    bwd: Option<(&str, &Config)>,
) -> Result<Bidirectional> {
    let make = |class: &str, config: &Config| -> Result<R> {
        let c = Cfg::new(class, config);
        let l = read(&c)?;
        Ok(match c.opt_str("name")? {
            Some(n) => l.name(n),
            None => l,
        })
    };
    let f = make(class, fwd)?;
    match bwd {
        Some((bclass, b)) if bclass == class => Bidirectional::with_backward(f, make(bclass, b)?),
        Some((bclass, _)) => Err(Error::value(format!(
            "Bidirectional: a {class} forward layer with a {bclass} backward layer is not supported"
        ))),
        None => Ok(Bidirectional::new(f)),
    }
}

impl Layer for Bidirectional {
    fn class_name(&self) -> &str {
        "Bidirectional"
    }
    fn get_config(&self) -> Result<Config> {
        Ok(config(json!({
            "merge_mode": self.merge_mode,
            "layer": self.forward.serialize()?,
            "backward_layer": self.backward.serialize()?,
        })))
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn build(&mut self, s: &[Shape], _: &mut WeightBuilder) -> Result<()> {
        if let Some(m) = &self.merge_mode {
            if !["sum", "mul", "ave", "concat"].contains(&m.as_str()) {
                return Err(Error::value(format!(
                    "Invalid merge mode. Received: {m}. Merge mode should be one of {{\"sum\", \"mul\", \"ave\", \"concat\", None}}"
                )));
            }
        }
        self.forward.build(s)?;
        self.backward.build(s)
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        let f = self.forward.with_dyn(|l| l.compute_output_shape(s))?;
        let mut out = match self.merge_mode.as_deref() {
            Some("concat") => {
                let mut d = f[0].0.clone();
                let last = d.len() - 1;
                d[last] = d[last].map(|v| 2 * v);
                vec![Shape(d)]
            }
            None => vec![f[0].clone(), f[0].clone()],
            _ => vec![f[0].clone()],
        };
        if self.return_state {
            let states = &f[1..];
            out.extend(states.iter().cloned());
            out.extend(states.iter().cloned());
        }
        Ok(out)
    }
    fn forward(&self, inputs: &[Tensor], ctx: &CallCtx) -> Result<Vec<Tensor>> {
        let _t = context::set_training(ctx.training);
        let mut f = self.forward.apply_masked(inputs, ctx.masks)?.0;
        let mut b = self.backward.apply_masked(inputs, ctx.masks)?.0;
        let (f_states, b_states) = (f.split_off(1), b.split_off(1));
        let (f, mut b) = (f.remove(0), b.remove(0));
        if self.return_sequences {
            b = ops::reverse(&b, 1)?;
        }
        let mut out = self.merge(f, b)?;
        if self.return_state {
            out.extend(f_states);
            out.extend(b_states);
        }
        Ok(out)
    }
    fn supports_masking(&self) -> bool {
        true
    }
    fn compute_mask(&self, _: &[Tensor], masks: &[Option<Tensor>]) -> Result<Vec<Option<Tensor>>> {
        let m = masks
            .first()
            .cloned()
            .flatten()
            .filter(|_| self.return_sequences);
        Ok(match self.merge_mode {
            None => vec![m.clone(), m],
            Some(_) => vec![m],
        })
    }
    fn var_group(&self, name: &str, _: &[crate::engine::Weight]) -> crate::engine::VarGroup {
        crate::engine::VarGroup::empty(name)
            .with_child("backward_layer", self.backward.var_group())
            .with_child("forward_layer", self.forward.var_group())
    }
    fn sublayers(&self) -> Vec<LayerRef> {
        vec![self.forward.clone(), self.backward.clone()]
    }
}
