//! `SGD`: gradient descent with optional (Nesterov) momentum.

use super::{Builder, Optimizer, OptimizerBase, Slots};
use crate::engine::Weight;
use crate::ops::{Tensor, Update};
use crate::serialization::{json, Cfg, Config};
use crate::{Error, Result};

/// Stochastic gradient descent (learning rate 0.01, no momentum by default), as
/// `keras.optimizers.SGD`: `m = momentum * m - lr * g; w += m` (Nesterov:
/// `w += momentum * m - lr * g`), or `w -= lr * g` without momentum.
///
/// ```
/// use keras::prelude::*;
/// let opt = SGD::new().momentum(0.9).nesterov(true).learning_rate(0.1);
/// assert_eq!(opt.get_learning_rate(), 0.1);
/// assert_eq!(opt.get_config()["config"]["nesterov"], true);
/// ```
#[derive(Debug)]
pub struct SGD {
    base: OptimizerBase,
    momentum: f64,
    nesterov: bool,
}

impl Default for SGD {
    fn default() -> Self {
        Self::new()
    }
}

impl SGD {
    /// Keras's defaults: learning rate 0.01, momentum 0, no Nesterov.
    pub fn new() -> Self {
        SGD {
            base: OptimizerBase::new("SGD", 0.01),
            momentum: 0.0,
            nesterov: false,
        }
    }

    /// Momentum factor, in [0, 1].
    pub fn momentum(mut self, m: f64) -> Self {
        self.momentum = m;
        self
    }

    /// Nesterov momentum.
    pub fn nesterov(mut self, n: bool) -> Self {
        self.nesterov = n;
        self
    }

    /// Reads Keras's config.
    pub fn from_config(c: &Cfg) -> Result<Self> {
        let mut o = Self::new()
            .momentum(c.f64_or("momentum", 0.0)?)
            .nesterov(c.bool_or("nesterov", false)?);
        o.base.read_config(c, &["momentum", "nesterov"])?;
        Ok(o)
    }
}

impl Optimizer for SGD {
    fn class_name(&self) -> &str {
        "SGD"
    }
    fn base(&self) -> &OptimizerBase {
        &self.base
    }
    fn base_mut(&mut self) -> &mut OptimizerBase {
        &mut self.base
    }
    fn check_args(&self) -> Result<()> {
        if !(0.0..=1.0).contains(&self.momentum) {
            return Err(Error::value(format!(
                "SGD: `momentum` must be a float between [0, 1]. Received: momentum={}",
                super::base::py_f64(self.momentum)
            )));
        }
        Ok(())
    }
    fn build(&self, b: &mut Builder, weights: &[Weight]) -> Result<()> {
        if self.momentum != 0.0 {
            b.add_optimizer_variables(weights, &["momentum"]);
        }
        Ok(())
    }
    fn update_step(&self, s: &mut Slots, g: &Tensor, var: &Tensor, lr: f64) -> Result<Tensor> {
        if self.momentum == 0.0 {
            return Ok((var - (g * lr)?)?);
        }
        let m = ((s.get("momentum")? * self.momentum)? - (g * lr)?)?;
        s.set("momentum", &m)?;
        Ok(if self.nesterov {
            (var + ((&m * self.momentum)? - (g * lr)?)?)?
        } else {
            (var + m)?
        })
    }
    fn fused_rule(&self, lr: f64, _iterations: u64) -> Option<Update> {
        Some(Update::Sgd {
            lr,
            momentum: self.momentum,
            nesterov: self.nesterov,
        })
    }
    fn own_config(&self) -> Config {
        let mut c = Config::new();
        c.insert("momentum".into(), json!(self.momentum));
        c.insert("nesterov".into(), json!(self.nesterov));
        c
    }
}
