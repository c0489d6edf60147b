//! `TimeDistributed`: one layer applied to every time step
//! (`keras/src/layers/rnn/time_distributed.py`).

use crate::engine::config::apply_base_config;
use crate::engine::{
    context, CallCtx, InputSpec, Layer, LayerArgs, LayerRef, Shape, WeightBuilder,
};
use crate::ops::Tensor;
use crate::serialization::registration::deserialize_object;
use crate::serialization::{config, json, Cfg, Config};
use crate::{Error, Result};

/// Applies `layer` to each step of `(batch, steps, ...)` with the same weights, by folding the
/// steps into the batch.
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::TimeDistributed;
/// let y = TimeDistributed::new(Dense::new(8)).call(&Input::new([10, 16]))?;
/// assert_eq!(y.shape().to_string(), "(None, 10, 8)");
/// assert_eq!(y.layer().count_params(), 16 * 8 + 8);
/// # Ok::<(), keras::Error>(())
/// ```
pub struct TimeDistributed {
    args: LayerArgs,
    inner: LayerRef,
}

impl TimeDistributed {
    /// Wraps a layer (a builder, or a `LayerRef` to share one).
    pub fn new(layer: impl Into<LayerRef>) -> Self {
        TimeDistributed {
            args: LayerArgs::default(),
            inner: layer.into(),
        }
    }

    /// The wrapped layer.
    pub fn layer(&self) -> &LayerRef {
        &self.inner
    }

    /// A `TimeDistributed` from its Keras config (`layer`: a serialized layer).
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        let inner = c
            .get("layer")
            .ok_or_else(|| c.bad("layer", "a serialized layer"))?;
        apply_base_config(
            TimeDistributed::new(deserialize_object::<LayerRef>(inner)?),
            c,
        )
    }
}

fn child(s: &Shape) -> Shape {
    let mut d = vec![s.0[0].zip(s.0[1]).map(|(b, t)| b * t)];
    d.extend_from_slice(&s.0[2..]);
    Shape(d)
}

impl Layer for TimeDistributed {
    fn supports_masking(&self) -> bool {
        true
    }
    fn class_name(&self) -> &str {
        "TimeDistributed"
    }
    fn get_config(&self) -> Result<Config> {
        Ok(config(json!({"layer": self.inner.serialize()?})))
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn input_spec(&self) -> Vec<InputSpec> {
        vec![InputSpec::new().min_ndim(3)]
    }
    fn build(&mut self, s: &[Shape], _: &mut WeightBuilder) -> Result<()> {
        if s.len() != 1 {
            return Err(Error::value("TimeDistributed takes exactly one input"));
        }
        let mut c = child(&s[0]);
        c.0[0] = s[0].0[0];
        self.inner.build(&[c])
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        let mut c = child(&s[0]);
        c.0[0] = s[0].0[0];
        let inner = self.inner.with_dyn(|l| l.compute_output_shape(&[c]))?;
        Ok(inner
            .into_iter()
            .map(|o| {
                let mut d = vec![s[0].0[0], s[0].0[1]];
                d.extend_from_slice(&o.0[1..]);
                Shape(d)
            })
            .collect())
    }
    fn forward(&self, inputs: &[Tensor], ctx: &CallCtx) -> Result<Vec<Tensor>> {
        let _t = context::set_training(ctx.training);
        let x = &inputs[0];
        let dims = x.dims();
        let (b, t) = (dims[0], dims[1]);
        let mut folded = vec![b * t];
        folded.extend_from_slice(&dims[2..]);
        let ys = self.inner.apply_many(&[x.reshape(folded)?])?;
        ys.into_iter()
            .map(|y| {
                let mut d = vec![b, t];
                d.extend_from_slice(&y.dims()[1..]);
                Ok(y.reshape(d)?)
            })
            .collect()
    }
    fn var_group(&self, name: &str, _: &[crate::engine::Weight]) -> crate::engine::VarGroup {
        crate::engine::VarGroup::empty(name).with_child("layer", self.inner.var_group())
    }
    fn sublayers(&self) -> Vec<LayerRef> {
        vec![self.inner.clone()]
    }
}
