//! `MultiHeadAttention` (`keras/src/layers/attention/multi_head_attention.py`).

use crate::engine::config::apply_base_config;
use crate::engine::{CallCtx, InputSpec, Layer, LayerArgs, LayerRef, Shape, Weight, WeightBuilder};
use crate::initializers::{self, InitializerArg};
use crate::ops::{self, Act, DType, Tensor};
use crate::serialization::{config, json, shape_value, Cfg, Config, Value};
use crate::{Error, Result};

/// Multi-head scaled dot-product attention, as in "Attention is all you need": the query,
/// key and value are projected to `num_heads` heads of `key_dim` (`value_dim`) features,
/// attention runs per head, and the heads are projected back to the query's feature size (or
/// `output_shape`). Weights and their order are Keras's: `query`, `key`, `value` kernels
/// `(dim, heads, key_dim)` and biases `(heads, key_dim)`, then `attention_output` kernel
/// `(heads, value_dim, out)` and bias `(out,)`.
///
/// Call it on `[query, value]` or `[query, value, key]`, or on one tensor for self-attention
/// (`call` for the output; `call_many` with `return_attention_scores`). Inputs are
/// `(batch, steps, features)` (attention over the steps, Keras's default `attention_axes`). Where Keras takes `use_causal_mask` and
/// `return_attention_scores` at call time, here they are builder options; with the latter the
/// layer has a second output, the weights `(batch, heads, query steps, key steps)`.
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::MultiHeadAttention;
/// let x = Input::new([10, 16]);
/// let y = MultiHeadAttention::new(2, 8).call(&[x.clone(), x])?;
/// assert_eq!(y.shape().to_string(), "(None, 10, 16)");
/// assert_eq!(y.layer().count_params(), 3 * (16 * 2 * 8 + 2 * 8) + 2 * 8 * 16 + 16);
/// # Ok::<(), keras::Error>(())
/// ```
pub struct MultiHeadAttention {
    args: LayerArgs,
    num_heads: usize,
    key_dim: usize,
    value_dim: Option<usize>,
    dropout: f64,
    use_bias: bool,
    output_shape: Option<usize>,
    kernel_initializer: InitializerArg,
    bias_initializer: InitializerArg,
    use_causal_mask: bool,
    return_attention_scores: bool,
    w: Vec<Option<Weight>>,
}

impl MultiHeadAttention {
    /// `num_heads` heads of `key_dim` features each.
    pub fn new(num_heads: usize, key_dim: usize) -> Self {
        MultiHeadAttention {
            args: LayerArgs::default(),
            num_heads,
            key_dim,
            value_dim: None,
            dropout: 0.0,
            use_bias: true,
            output_shape: None,
            kernel_initializer: initializers::GLOROT_UNIFORM.into(),
            bias_initializer: initializers::ZEROS.into(),
            use_causal_mask: false,
            return_attention_scores: false,
            w: vec![],
        }
    }
    /// Features per head of the value (default `key_dim`).
    pub fn value_dim(mut self, d: usize) -> Self {
        self.value_dim = Some(d);
        self
    }
    /// Dropout on the attention weights while training.
    pub fn dropout(mut self, rate: f64) -> Self {
        self.dropout = rate;
        self
    }
    /// Whether the projections have biases (default true).
    pub fn use_bias(mut self, b: bool) -> Self {
        self.use_bias = b;
        self
    }
    /// Output features (default: the query's).
    pub fn output_shape(mut self, d: usize) -> Self {
        self.output_shape = Some(d);
        self
    }
    /// Kernel initializer of the four projections.
    pub fn kernel_initializer(mut self, i: impl Into<InitializerArg>) -> Self {
        self.kernel_initializer = i.into();
        self
    }
    /// Bias initializer of the four projections.
    pub fn bias_initializer(mut self, i: impl Into<InitializerArg>) -> Self {
        self.bias_initializer = i.into();
        self
    }
    /// Each step attends only to itself and earlier steps (decoders).
    pub fn use_causal_mask(mut self, b: bool) -> Self {
        self.use_causal_mask = b;
        self
    }
    /// Also output the attention weights.
    pub fn return_attention_scores(mut self, b: bool) -> Self {
        self.return_attention_scores = b;
        self
    }

    fn vdim(&self) -> usize {
        self.value_dim.unwrap_or(self.key_dim)
    }

    /// `x (b, t, d)` through a projection `kernel (d, h, k)` + `bias (h, k)` to `(b, h, t, k)`.
    fn project(&self, x: &Tensor, i: usize) -> Result<Tensor> {
        let (b, t, _) = x.dims3()?;
        let k = self.weight(2 * i)?;
        let (d, h, kd) = k.dims3()?;
        let kernel = k.reshape((d, h * kd))?;
        let bias = self.w[2 * i + 1]
            .as_ref()
            .map(|w| w.value().reshape(h * kd))
            .transpose()?;
        let y = ops::dense(
            &ops::cast(x, k.dtype())?,
            &kernel,
            bias.as_ref(),
            Act::Linear,
        )?;
        Ok(y.reshape((b, t, h, kd))?.transpose(1, 2)?.contiguous()?)
    }

    /// Which (query, key) pairs attend, `(batch, 1, tq, tk)`, from the inputs' masks and the
    /// causal mask (Keras's `_compute_attention_mask`).
    fn keep_mask(
        &self,
        ctx: &CallCtx,
        tq: usize,
        tk: usize,
        like: &Tensor,
    ) -> Result<Option<Tensor>> {
        let q_mask = ctx.mask(0);
        let v_mask = if ctx.masks.len() > 1 {
            ctx.mask(1)
        } else {
            q_mask
        };
        let k_mask = if ctx.masks.len() > 2 {
            ctx.mask(2)
        } else {
            None
        };
        let mut keep: Option<Tensor> = None;
        let mut and = |m: Tensor| -> Result<()> {
            keep = Some(match keep.take() {
                None => m,
                Some(k) => k.broadcast_mul(&m)?,
            });
            Ok(())
        };
        if let Some(m) = q_mask {
            and(m.to_dtype(DType::F32)?.unsqueeze(2)?)?;
        }
        for m in [v_mask, k_mask].into_iter().flatten() {
            and(m.to_dtype(DType::F32)?.unsqueeze(1)?)?;
        }
        if self.use_causal_mask {
            and(ops::causal_mask(tq, tk, like)?)?;
        }
        Ok(match keep {
            Some(k) if k.rank() == 3 => Some(k.unsqueeze(1)?),
            other => other,
        })
    }

    fn weight(&self, i: usize) -> Result<Tensor> {
        self.w
            .get(i)
            .and_then(|w| w.as_ref())
            .map(Weight::value)
            .ok_or_else(|| Error::runtime("MultiHeadAttention called before build"))
    }
}

impl MultiHeadAttention {
    /// A `MultiHeadAttention` from its Keras config; the options keras-rs lacks
    /// (`attention_axes` other than the sequence axis, `sliding_window`, `use_gate`, an
    /// `output_shape` of several axes) are refused.
    pub(crate) fn from_config(c: &Cfg) -> Result<LayerRef> {
        // Keras fills in `attention_axes` = [1] (the sequence axis) once built; that is ours.
        if let Some(v) = c.get("attention_axes").filter(|v| **v != json!([1])) {
            return Err(Error::value(format!(
                "MultiHeadAttention: attention_axes is not supported yet; received {v}"
            )));
        }
        if let Some(v) = c.get("sliding_window") {
            return Err(Error::value(format!(
                "MultiHeadAttention: sliding_window is not supported yet; received {v}"
            )));
        }
        if c.bool_or("use_gate", false)? {
            return Err(Error::value(
                "MultiHeadAttention: use_gate is not supported yet",
            ));
        }
        let key_dim = c.usize("key_dim")?;
        let mut l = MultiHeadAttention::new(c.usize("num_heads")?, key_dim)
            .value_dim(c.usize_or("value_dim", key_dim)?)
            .dropout(c.f64_or("dropout", 0.0)?)
            .use_bias(c.bool_or("use_bias", true)?)
            .kernel_initializer(c.initializer("kernel_initializer", "glorot_uniform")?)
            .bias_initializer(c.initializer("bias_initializer", "zeros")?);
        match c.get("output_shape") {
            None => {}
            Some(Value::Array(a)) if a.len() == 1 && a[0].is_u64() => {
                l = l.output_shape(c.one("output_shape", 0)?);
            }
            Some(Value::Number(_)) => l = l.output_shape(c.usize("output_shape")?),
            Some(v) => {
                return Err(Error::value(format!(
                    "MultiHeadAttention: output_shape {v} is not supported"
                )))
            }
        }
        apply_base_config(l, c)
    }
}

impl Layer for MultiHeadAttention {
    fn class_name(&self) -> &str {
        "MultiHeadAttention"
    }
    fn build_config(&self, shapes: &[Shape]) -> Value {
        // Keras builds it from its call arguments `query`, `value` (and `key`).
        let names = ["query_shape", "value_shape", "key_shape"];
        let d: Config = names
            .iter()
            .zip(shapes)
            .map(|(n, s)| (n.to_string(), shape_value(&s.0)))
            .collect();
        json!({ "shapes_dict": d })
    }
    fn call_config(&self, mut inputs: Vec<Value>) -> (Value, Value) {
        // `query` and `value` positionally, `key` by keyword, as Keras writes the node.
        let key = (inputs.len() == 3).then(|| inputs.remove(2));
        let kwargs = match key {
            Some(k) => json!({ "key": k }),
            None => json!({}),
        };
        (Value::Array(inputs), kwargs)
    }
    fn get_config(&self) -> Result<Config> {
        Ok(config(json!({
            "num_heads": self.num_heads, "key_dim": self.key_dim,
            "value_dim": self.value_dim.unwrap_or(self.key_dim), "dropout": self.dropout,
            "use_bias": self.use_bias, "use_gate": false, "output_shape": self.output_shape,
            "attention_axes": null, "sliding_window": null,
            "kernel_initializer": self.kernel_initializer.serialize()?,
            "bias_initializer": self.bias_initializer.serialize()?,
            "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null,
            "kernel_constraint": null, "bias_constraint": null, "seed": null,
        })))
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
        if self.num_heads == 0 || self.key_dim == 0 {
            return Err(Error::value(format!(
                "Received an invalid value for argument `num_heads` / `key_dim`, expected positive integers. Received: num_heads={}, key_dim={}",
                self.num_heads, self.key_dim
            )));
        }
        crate::layers::regularization::check_rate(self.dropout)?;
        if s.is_empty() || s.len() > 3 {
            return Err(Error::value(format!(
                "MultiHeadAttention takes [query, value] or [query, value, key]; received {} inputs",
                s.len()
            )));
        }
        let dim = |i: usize, what: &str| -> Result<usize> {
            s[i.min(s.len() - 1)].dim(-1).ok_or_else(|| {
                Error::value(format!(
                    "MultiHeadAttention: the last axis of the {what} must be defined"
                ))
            })
        };
        let (dq, dv) = (dim(0, "query")?, dim(1, "value")?);
        let dk = if s.len() == 3 { dim(2, "key")? } else { dv };
        let (h, kd, vd) = (self.num_heads, self.key_dim, self.vdim());
        let out = self.output_shape.unwrap_or(dq);
        let kinit = self.kernel_initializer.resolve()?;
        let binit = self.bias_initializer.resolve()?;
        let mut ws = vec![];
        let specs: [(&str, Vec<usize>, Vec<usize>); 4] = [
            ("query", vec![dq, h, kd], vec![h, kd]),
            ("key", vec![dk, h, kd], vec![h, kd]),
            ("value", vec![dv, h, vd], vec![h, vd]),
            ("attention_output", vec![h, vd, out], vec![out]),
        ];
        for (name, kshape, bshape) in specs {
            ws.push(Some(w.add(
                &format!("{name}/kernel"),
                &kshape,
                kinit.as_ref(),
                None,
                true,
            )?));
            ws.push(if self.use_bias {
                Some(w.add(&format!("{name}/bias"), &bshape, binit.as_ref(), None, true)?)
            } else {
                None
            });
        }
        self.w = ws;
        Ok(())
    }
    fn supports_masking(&self) -> bool {
        true
    }
    fn var_group(&self, name: &str, _: &[Weight]) -> crate::engine::VarGroup {
        // Keras keeps the projections on four EinsumDense layers, plus a Softmax and a
        // Dropout without variables.
        use crate::engine::VarGroup;
        let pair = |i: usize, n: &str| {
            let ws: Vec<Weight> = self.w[2 * i..2 * i + 2].iter().flatten().cloned().collect();
            VarGroup::layer(n, &ws)
        };
        VarGroup::empty(name)
            .with_child("_dropout_layer", VarGroup::empty("dropout"))
            .with_child("_softmax", VarGroup::empty("softmax"))
            .with_child("key_dense", pair(1, "key"))
            .with_child("output_dense", pair(3, "attention_output"))
            .with_child("query_dense", pair(0, "query"))
            .with_child("value_dense", pair(2, "value"))
    }
    fn compute_output_shape(&self, s: &[Shape]) -> Result<Vec<Shape>> {
        let q = &s[0].0;
        let out = self.output_shape.or(q[2]);
        let mut v = vec![Shape(vec![q[0], q[1], out])];
        if self.return_attention_scores {
            let tk = s.get(1).unwrap_or(&s[0]).0[1];
            v.push(Shape(vec![q[0], Some(self.num_heads), q[1], tk]));
        }
        Ok(v)
    }
    fn forward(&self, inputs: &[Tensor], ctx: &CallCtx) -> Result<Vec<Tensor>> {
        let query = &inputs[0];
        let value = inputs.get(1).unwrap_or(query);
        let key = inputs.get(2).unwrap_or(value);
        let q = self.project(query, 0)?;
        let k = self.project(key, 1)?;
        let v = self.project(value, 2)?;
        let scale = 1.0 / (self.key_dim as f64).sqrt();
        let dropout = if ctx.training { self.dropout } else { 0.0 };
        let keep = self.keep_mask(ctx, q.dim(2)?, k.dim(2)?, &q)?;
        let (att, weights) = ops::dot_product_attention(&q, &k, &v, scale, keep.as_ref(), dropout)
            .map_err(|e| Error::value(format!("MultiHeadAttention layer \"{}\": {e}", ctx.name)))?;
        // (b, h, tq, vd) -> (b, tq, h * vd) -> output projection.
        let (b, h, tq, vd) = att.dims4()?;
        let att = att
            .transpose(1, 2)?
            .contiguous()?
            .reshape((b, tq, h * vd))?;
        let ok = self.weight(6)?;
        let out = ok.dim(2)?;
        let ob = self.w[7].as_ref().map(Weight::value);
        let y = ops::dense(&att, &ok.reshape((h * vd, out))?, ob.as_ref(), Act::Linear)?;
        let mut v = vec![y];
        if self.return_attention_scores {
            v.push(weights);
        }
        Ok(v)
    }
}
