//! `Attention`: dot-product (Luong-style) attention (`keras/src/layers/attention/attention.py`).

use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, InputSpec, Layer, LayerArgs, LayerRef, Shape, Weight, WeightBuilder};
use crate::initializers::ONES;
use crate::ops::{self, Act, DType, Tensor};
use crate::serialization::{config, json, Cfg, Config};
use crate::{Error, Result};

/// Dot-product attention of `query (batch, tq, dim)` over `value (batch, tv, dim)` (and an
/// optional `key`, default the value): `softmax(scores) @ value`, with scores `query @ keyᵀ`
/// ("dot") or `Σ tanh(query + key)` ("concat"). `use_scale` learns a scalar that multiplies
/// the scores (Keras's defaults: no scale, "dot"). Call with `call(&[query, value])`.
/// Where Keras takes `use_causal_mask` and `return_attention_scores` at call time, here they
/// are builder options; with the latter the weights `(batch, tq, tv)` are a second output.
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::Attention;
/// let (q, v) = (Input::new([4, 8]), Input::new([6, 8]));
/// let y = Attention::new().call(&[q, v])?;
/// assert_eq!(y.shape().to_string(), "(None, 4, 8)");
/// # Ok::<(), keras::Error>(())
/// ```
pub struct Attention {
    args: LayerArgs,
    use_scale: bool,
    score_mode: String,
    dropout: f64,
    use_causal_mask: bool,
    return_attention_scores: bool,
    scale: Option<Weight>,
    concat_score_weight: Option<Weight>,
}

impl Default for Attention {
    fn default() -> Self {
        Attention {
            args: LayerArgs::default(),
            use_scale: false,
            score_mode: "dot".into(),
            dropout: 0.0,
            use_causal_mask: false,
            return_attention_scores: false,
            scale: None,
            concat_score_weight: None,
        }
    }
}

impl Attention {
    /// Unscaled dot-product attention.
    pub fn new() -> Self {
        Self::default()
    }
    /// Learn a scalar scale for the scores.
    pub fn use_scale(mut self, b: bool) -> Self {
        self.use_scale = b;
        self
    }
    /// "dot" or "concat".
    pub fn score_mode(mut self, m: &str) -> Self {
        self.score_mode = m.to_string();
        self
    }
    /// Dropout on the attention weights while training.
    pub fn dropout(mut self, rate: f64) -> Self {
        self.dropout = rate;
        self
    }
    /// Each query step attends only to value steps at or before it.
    pub fn use_causal_mask(mut self, b: bool) -> Self {
        self.use_causal_mask = b;
        self
    }
    /// Also output the attention weights.
    pub fn return_attention_scores(mut self, b: bool) -> Self {
        self.return_attention_scores = b;
        self
    }
}

impl Attention {
    /// An `Attention` from its Keras config.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        let l = Attention::new()
            .use_scale(c.bool_or("use_scale", false)?)
            .score_mode(c.str_or("score_mode", "dot")?)
            .dropout(c.f64_or("dropout", 0.0)?);
        apply_base_config(l, c)
    }
}

impl Layer for Attention {
    fn class_name(&self) -> &str {
        "Attention"
    }
    fn get_config(&self) -> Result<Config> {
        Ok(config(
            json!({"use_scale": self.use_scale, "score_mode": self.score_mode, "dropout": self.dropout, "seed": null}),
        ))
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn input_spec(&self) -> Vec<InputSpec> {
        vec![InputSpec::new().ndim(3); 3]
    }
    fn build(&mut self, s: &[Shape], w: &mut WeightBuilder) -> Result<()> {
        if !["dot", "concat"].contains(&self.score_mode.as_str()) {
            return Err(Error::value(format!(
                "Invalid value for argument score_mode. Expected one of {{'dot', 'concat'}}. Received: score_mode={}",
                self.score_mode
            )));
        }
        if s.len() < 2 || s.len() > 3 {
            return Err(Error::value(format!(
                "Attention layer must be called on a list of inputs, namely [query, value] or [query, value, key]. Received: {} inputs.",
                s.len()
            )));
        }
        crate::layers::regularization::check_rate(self.dropout)?;
        if self.use_scale {
            self.scale = Some(w.add("scale", &[], &ONES, None, true)?);
        }
        if self.score_mode == "concat" {
            self.concat_score_weight =
                Some(w.add("concat_score_weight", &[], &ONES, None, true)?);
        }
        Ok(())
    }
    fn supports_masking(&self) -> bool {
        true
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        let q = &s[0].0;
        let v = &s[1].0;
        let mut out = vec![Shape(vec![q[0], q[1], v[2]])];
        if self.return_attention_scores {
            out.push(Shape(vec![q[0], q[1], v[1]]));
        }
        Ok(out)
    }
    fn forward(&self, inputs: &[Tensor], ctx: &CallCtx) -> Result<Vec<Tensor>> {
        let (q, v) = (&inputs[0], &inputs[1]);
        let k = inputs.get(2).unwrap_or(v);
        let scale = self.scale.as_ref().map(Weight::value);
        let mut scores = if self.score_mode == "dot" {
            let s = q.contiguous()?.matmul(&k.transpose(1, 2)?.contiguous()?)?;
            match &scale {
                Some(c) => s.broadcast_mul(c)?,
                None => s,
            }
        } else {
            // Σ_d tanh(scale * (q[:, i, d] + k[:, j, d])) * concat_score_weight
            let mut sum = q.unsqueeze(2)?.broadcast_add(&k.unsqueeze(1)?)?;
            if let Some(c) = &scale {
                sum = sum.broadcast_mul(c)?;
            }
            let t = ops::activation(&sum, Act::Tanh)?.sum(3)?;
            let c = self.concat_score_weight.as_ref().map(Weight::value);
            match c {
                Some(c) => t.broadcast_mul(&c)?,
                None => t,
            }
        };
        // Value steps that are padding, and later steps under the causal mask, get no weight.
        let mut keep = match ctx.mask(1) {
            Some(m) => Some(m.to_dtype(DType::F32)?.unsqueeze(1)?),
            None => None,
        };
        if self.use_causal_mask {
            let c = ops::causal_mask(scores.dim(1)?, scores.dim(2)?, &scores)?;
            keep = Some(match keep {
                Some(k) => k.broadcast_mul(&c)?,
                None => c,
            });
        }
        if let Some(k) = &keep {
            scores = ops::mask_scores(&scores, k)?;
        }
        let weights = ops::activation(&scores, Act::Softmax)?;
        let used = if ctx.training && self.dropout > 0.0 {
            ops::dropout(&weights, self.dropout)?
        } else {
            weights.clone()
        };
        let mut y = used.matmul(&v.contiguous()?)?;
        if let Some(m) = ctx.mask(0) {
            y = y.broadcast_mul(&ops::cast(m, y.dtype())?.unsqueeze(2)?)?;
        }
        let mut out = vec![y];
        if self.return_attention_scores {
            out.push(weights);
        }
        Ok(out)
    }
}
