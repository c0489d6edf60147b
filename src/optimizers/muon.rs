//! `Muon`: orthogonalized momentum for matrices, Adam for the rest.

use super::adam::adam_update;
use super::{Builder, Optimizer, OptimizerBase, Slots};
use crate::engine::Weight;
use crate::ops::{self, Tensor};
use crate::serialization::{json, Cfg, Config, Value};
use crate::Result;

/// Muon, as `keras.optimizers.Muon`: 2-D weights take the momentum orthogonalized by
/// Newton-Schulz iterations; other ranks, embeddings (`exclude_embeddings`) and weights whose
/// path contains one of `exclude_layers` take Adam's step (with `adam_lr_ratio`,
/// `adam_weight_decay`).
///
/// ```
/// use keras::prelude::*;
/// let opt = Muon::new().exclude_layers(&["output"]).ns_steps(3);
/// assert_eq!(opt.get_config()["config"]["exclude_layers"][0], "output");
/// ```
#[derive(Debug)]
pub struct Muon {
    base: OptimizerBase,
    adam_beta_1: f64,
    adam_beta_2: f64,
    adam_weight_decay: Option<f64>,
    epsilon: f64,
    exclude_layers: Vec<String>,
    exclude_embeddings: bool,
    muon_a: f64,
    muon_b: f64,
    muon_c: f64,
    adam_lr_ratio: f64,
    momentum: f64,
    ns_steps: usize,
    nesterov: bool,
    rms_rate: Option<f64>,
}

impl Default for Muon {
    fn default() -> Self {
        Self::new()
    }
}

const KEYS: &[&str] = &[
    "adam_beta_1",
    "adam_beta_2",
    "epsilon",
    "exclude_layers",
    "muon_a",
    "muon_b",
    "muon_c",
    "adam_lr_ratio",
    "momentum",
    "ns_steps",
    "nesterov",
    "exclude_embeddings",
    "adam_weight_decay",
    "rms_rate",
];

impl Muon {
    /// Keras's defaults (weight decay 0.004 for both rules).
    pub fn new() -> Self {
        let mut base = OptimizerBase::new("Muon", 0.001);
        base.weight_decay = Some(0.004);
        Muon {
            base,
            adam_beta_1: 0.9,
            adam_beta_2: 0.999,
            adam_weight_decay: Some(0.004),
            epsilon: 1e-7,
            exclude_layers: vec![],
            exclude_embeddings: true,
            muon_a: 3.4445,
            muon_b: -4.7750,
            muon_c: 2.0315,
            adam_lr_ratio: 1.0,
            momentum: 0.95,
            ns_steps: 5,
            nesterov: true,
            rms_rate: Some(0.2),
        }
    }

    /// Adam's first-moment decay.
    pub fn adam_beta_1(mut self, v: f64) -> Self {
        self.adam_beta_1 = v;
        self
    }
    /// Adam's second-moment decay.
    pub fn adam_beta_2(mut self, v: f64) -> Self {
        self.adam_beta_2 = v;
        self
    }
    /// Adam's epsilon.
    pub fn epsilon(mut self, v: f64) -> Self {
        self.epsilon = v;
        self
    }
    /// Use Adam for weights whose path contains "embedding".
    pub fn exclude_embeddings(mut self, v: bool) -> Self {
        self.exclude_embeddings = v;
        self
    }
    /// Newton-Schulz coefficient a.
    pub fn muon_a(mut self, v: f64) -> Self {
        self.muon_a = v;
        self
    }
    /// Newton-Schulz coefficient b.
    pub fn muon_b(mut self, v: f64) -> Self {
        self.muon_b = v;
        self
    }
    /// Newton-Schulz coefficient c.
    pub fn muon_c(mut self, v: f64) -> Self {
        self.muon_c = v;
        self
    }
    /// Adam's learning rate as a fraction of Muon's.
    pub fn adam_lr_ratio(mut self, v: f64) -> Self {
        self.adam_lr_ratio = v;
        self
    }
    /// Muon's momentum.
    pub fn momentum(mut self, v: f64) -> Self {
        self.momentum = v;
        self
    }
    /// Newton-Schulz iterations.
    pub fn ns_steps(mut self, v: usize) -> Self {
        self.ns_steps = v;
        self
    }
    /// Nesterov momentum for Muon's step.
    pub fn nesterov(mut self, v: bool) -> Self {
        self.nesterov = v;
        self
    }
    /// Scale Muon's step by `sqrt(max(rows, cols)) * rms_rate` (`None`: no scaling).
    pub fn rms_rate(mut self, v: Option<f64>) -> Self {
        self.rms_rate = v;
        self
    }
    /// Weight decay of the Adam weights.
    pub fn adam_weight_decay(mut self, v: Option<f64>) -> Self {
        self.adam_weight_decay = v;
        self
    }

    /// Weights whose path contains one of these take Adam's step (Keras searches them as
    /// regular expressions; plain words behave the same).
    pub fn exclude_layers(mut self, names: &[&str]) -> Self {
        self.exclude_layers = names.iter().map(|n| n.to_string()).collect();
        self
    }

    /// Reads Keras's config.
    pub fn from_config(c: &Cfg) -> Result<Self> {
        let d = Self::new();
        let exclude: Vec<String> = match c.get("exclude_layers") {
            None => vec![],
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<_>>()
                .ok_or_else(|| c.bad("exclude_layers", "a list of strings"))?,
            Some(_) => return Err(c.bad("exclude_layers", "a list of strings")),
        };
        let mut o = Muon {
            adam_beta_1: c.f64_or("adam_beta_1", d.adam_beta_1)?,
            adam_beta_2: c.f64_or("adam_beta_2", d.adam_beta_2)?,
            epsilon: c.f64_or("epsilon", d.epsilon)?,
            exclude_layers: exclude,
            exclude_embeddings: c.bool_or("exclude_embeddings", true)?,
            muon_a: c.f64_or("muon_a", d.muon_a)?,
            muon_b: c.f64_or("muon_b", d.muon_b)?,
            muon_c: c.f64_or("muon_c", d.muon_c)?,
            adam_lr_ratio: c.f64_or("adam_lr_ratio", 1.0)?,
            momentum: c.f64_or("momentum", d.momentum)?,
            ns_steps: c.usize_or("ns_steps", 5)?,
            nesterov: c.bool_or("nesterov", true)?,
            rms_rate: if c.map.contains_key("rms_rate") {
                c.opt_f64("rms_rate")?
            } else {
                d.rms_rate
            },
            adam_weight_decay: if c.map.contains_key("adam_weight_decay") {
                c.opt_f64("adam_weight_decay")?
            } else {
                d.adam_weight_decay
            },
            ..d
        };
        o.base.read_config(c, KEYS)?;
        Ok(o)
    }

    /// Whether `w` takes Adam's step (Keras's `_should_use_adamw`).
    pub fn uses_adam(&self, w: &Weight) -> bool {
        let path = w.path();
        w.shape().len() != 2
            || (self.exclude_embeddings && path.to_lowercase().contains("embedding"))
            || self
                .exclude_layers
                .iter()
                .any(|k| path.contains(k.as_str()))
    }

    /// Keras's `zeropower_via_newtonschulz5`: an approximate orthogonalization of `x`.
    fn newton_schulz(&self, x: &Tensor) -> Result<Tensor> {
        let dims = x.dims().to_vec();
        let tall = dims[dims.len() - 2] > dims[dims.len() - 1];
        let mut x = if tall {
            x.t()?.contiguous()?
        } else {
            x.clone()
        };
        let frobenius = ops::scalar(&x.sqr()?.sum_all()?)?.sqrt();
        x = (x / (frobenius + 1e-7))?;
        for _ in 0..self.ns_steps {
            let a = x.matmul(&x.t()?.contiguous()?)?;
            let b = ((&a * self.muon_b)? + (a.matmul(&a)? * self.muon_c)?)?;
            x = ((&x * self.muon_a)? + b.matmul(&x)?)?;
        }
        Ok(if tall { x.t()?.contiguous()? } else { x })
    }
}

impl Optimizer for Muon {
    fn class_name(&self) -> &str {
        "Muon"
    }
    fn base(&self) -> &OptimizerBase {
        &self.base
    }
    fn base_mut(&mut self) -> &mut OptimizerBase {
        &mut self.base
    }
    fn build(&self, b: &mut Builder, weights: &[Weight]) -> Result<()> {
        for w in weights {
            b.add_variable_from_reference(w, "momentum", 0.0);
            if self.uses_adam(w) {
                b.add_variable_from_reference(w, "velocity", 0.0);
            }
        }
        Ok(())
    }
    fn weight_decay_for(&self, w: &Weight) -> Option<f64> {
        if self.uses_adam(w) {
            self.adam_weight_decay
        } else {
            self.base.weight_decay
        }
    }
    fn update_step(&self, s: &mut Slots, g: &Tensor, var: &Tensor, lr: f64) -> Result<Tensor> {
        if s.has("velocity") {
            return adam_update(
                s,
                g,
                var,
                lr * self.adam_lr_ratio,
                self.adam_beta_1,
                self.adam_beta_2,
                self.epsilon,
                false,
            );
        }
        let m = s.get("momentum")?;
        let m = (&m + (g + (&m * (self.momentum - 1.0))?)?)?;
        s.set("momentum", &m)?;
        let g = if self.nesterov {
            (g + (&m * self.momentum)?)?
        } else {
            m
        };
        let mut update = (self.newton_schulz(&g)? * lr)?;
        if let Some(rate) = self.rms_rate {
            let d = update.dims().to_vec();
            update = (update * ((d[0].max(d[1]) as f64).sqrt() * rate))?;
        }
        Ok((var - update)?)
    }
    fn own_config(&self) -> Config {
        let mut c = Config::new();
        c.insert("adam_beta_1".into(), json!(self.adam_beta_1));
        c.insert("adam_beta_2".into(), json!(self.adam_beta_2));
        c.insert("epsilon".into(), json!(self.epsilon));
        c.insert("exclude_layers".into(), json!(self.exclude_layers));
        c.insert("muon_a".into(), json!(self.muon_a));
        c.insert("muon_b".into(), json!(self.muon_b));
        c.insert("muon_c".into(), json!(self.muon_c));
        c.insert("adam_lr_ratio".into(), json!(self.adam_lr_ratio));
        c.insert("momentum".into(), json!(self.momentum));
        c.insert("ns_steps".into(), json!(self.ns_steps));
        c.insert("nesterov".into(), json!(self.nesterov));
        c.insert("exclude_embeddings".into(), json!(self.exclude_embeddings));
        c.insert("adam_weight_decay".into(), json!(self.adam_weight_decay));
        c.insert("rms_rate".into(), json!(self.rms_rate));
        c
    }
}
