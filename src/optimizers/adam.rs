//! `Adam` and `AdamW` (Adam's rule with decoupled weight decay).

use super::{Builder, Optimizer, OptimizerBase, Slots};
use crate::engine::Weight;
use crate::ops::{Tensor, Update};
use crate::serialization::{json, Cfg, Config};
use crate::{Error, Result};

/// Adam (learning rate 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7), as
/// `keras.optimizers.Adam`.
///
/// ```
/// use keras::prelude::*;
/// let opt = Adam::new().beta_1(0.8).amsgrad(true);
/// assert_eq!(opt.get_learning_rate(), 0.001);
/// assert_eq!(opt.class_name(), "Adam");
/// ```
#[derive(Debug)]
pub struct Adam {
    base: OptimizerBase,
    beta_1: f64,
    beta_2: f64,
    epsilon: f64,
    amsgrad: bool,
    class: &'static str,
}

impl Default for Adam {
    fn default() -> Self {
        Self::new()
    }
}

const KEYS: &[&str] = &["beta_1", "beta_2", "epsilon", "amsgrad"];

impl Adam {
    /// Keras's defaults.
    pub fn new() -> Self {
        Self::of_class("Adam")
    }

    fn of_class(class: &'static str) -> Self {
        Adam {
            base: OptimizerBase::new(class, 0.001),
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            amsgrad: false,
            class,
        }
    }

    /// Decay of the first moment.
    pub fn beta_1(mut self, v: f64) -> Self {
        self.beta_1 = v;
        self
    }
    /// Decay of the second moment.
    pub fn beta_2(mut self, v: f64) -> Self {
        self.beta_2 = v;
        self
    }
    /// Added to the denominator.
    pub fn epsilon(mut self, v: f64) -> Self {
        self.epsilon = v;
        self
    }
    /// Keep the maximum of past second moments.
    pub fn amsgrad(mut self, v: bool) -> Self {
        self.amsgrad = v;
        self
    }

    fn read(mut self, c: &Cfg) -> Result<Self> {
        self = self
            .beta_1(c.f64_or("beta_1", 0.9)?)
            .beta_2(c.f64_or("beta_2", 0.999)?)
            .epsilon(c.f64_or("epsilon", 1e-7)?)
            .amsgrad(c.bool_or("amsgrad", false)?);
        self.base.read_config(c, KEYS)?;
        Ok(self)
    }

    /// Reads Keras's config.
    pub fn from_config(c: &Cfg) -> Result<Self> {
        Self::new().read(c)
    }
}

/// Adam's update of one weight (Keras's `Adam.update_step`), on the weight's `momentum` and
/// `velocity` (and `velocity_hat` with `amsgrad`); also Muon's rule for its Adam weights.
#[allow(clippy::too_many_arguments)]
pub(crate) fn adam_update(
    s: &mut Slots,
    g: &Tensor,
    var: &Tensor,
    lr: f64,
    beta_1: f64,
    beta_2: f64,
    epsilon: f64,
    amsgrad: bool,
) -> Result<Tensor> {
    // The powers in the variable's type, as Keras computes them.
    let step = (s.iterations() + 1) as f64;
    let b1p = super::base::power(var, beta_1, step);
    let b2p = super::base::power(var, beta_2, step);
    let alpha = lr * (1.0 - b2p).sqrt() / (1.0 - b1p);
    let m = s.get("momentum")?;
    let m = (&m + ((g - &m)? * (1.0 - beta_1))?)?;
    let v = s.get("velocity")?;
    let v = (&v + ((g.sqr()? - &v)? * (1.0 - beta_2))?)?;
    s.set("momentum", &m)?;
    s.set("velocity", &v)?;
    let v = if amsgrad {
        let h = s.get("velocity_hat")?.maximum(&v)?;
        s.set("velocity_hat", &h)?;
        h
    } else {
        v
    };
    Ok((var - ((m * alpha)? / (v.sqrt()? + epsilon)?)?)?)
}

impl Optimizer for Adam {
    fn class_name(&self) -> &str {
        self.class
    }
    fn base(&self) -> &OptimizerBase {
        &self.base
    }
    fn base_mut(&mut self) -> &mut OptimizerBase {
        &mut self.base
    }
    fn check_args(&self) -> Result<()> {
        if self.class == "AdamW" && self.base.weight_decay.is_none() {
            return Err(Error::value(
                "AdamW: Argument `weight_decay` must be a float. Received: weight_decay=None",
            ));
        }
        Ok(())
    }
    fn build(&self, b: &mut Builder, weights: &[Weight]) -> Result<()> {
        b.add_optimizer_variables(weights, &["momentum", "velocity"]);
        if self.amsgrad {
            b.add_optimizer_variables(weights, &["velocity_hat"]);
        }
        Ok(())
    }
    fn update_step(&self, s: &mut Slots, g: &Tensor, var: &Tensor, lr: f64) -> Result<Tensor> {
        adam_update(
            s,
            g,
            var,
            lr,
            self.beta_1,
            self.beta_2,
            self.epsilon,
            self.amsgrad,
        )
    }
    fn fused_rule(&self, lr: f64, iterations: u64) -> Option<Update> {
        Some(Update::Adam {
            lr,
            beta_1: self.beta_1,
            beta_2: self.beta_2,
            epsilon: self.epsilon,
            amsgrad: self.amsgrad,
            step: iterations + 1,
        })
    }
    fn own_config(&self) -> Config {
        let mut c = Config::new();
        c.insert("beta_1".into(), json!(self.beta_1));
        c.insert("beta_2".into(), json!(self.beta_2));
        c.insert("epsilon".into(), json!(self.epsilon));
        c.insert("amsgrad".into(), json!(self.amsgrad));
        c
    }
}

/// AdamW: Adam with decoupled weight decay (0.004 by default), as `keras.optimizers.AdamW`.
/// An [`Adam`] of class `AdamW`.
///
/// ```
/// use keras::prelude::*;
/// let opt = AdamW::new().weight_decay(0.01);
/// assert_eq!(opt.base().weight_decay, Some(0.01));
/// assert_eq!(opt.class_name(), "AdamW");
/// ```
pub struct AdamW;

impl AdamW {
    /// Keras's defaults: Adam's, plus `weight_decay = 0.004`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> Adam {
        let mut a = Adam::of_class("AdamW");
        a.base.weight_decay = Some(0.004);
        a
    }

    /// Reads Keras's config.
    pub fn from_config(c: &Cfg) -> Result<Adam> {
        Self::new().read(c)
    }
}
