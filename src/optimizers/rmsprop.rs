//! `RMSprop`.

use super::{Builder, Optimizer, OptimizerBase, Slots};
use crate::engine::Weight;
use crate::ops::{Tensor, Update};
use crate::serialization::{json, Cfg, Config};
use crate::Result;

/// RMSprop (learning rate 0.001, rho 0.9, momentum 0, epsilon 1e-7, not centered), as
/// `keras.optimizers.RMSprop`.
///
/// ```
/// use keras::prelude::*;
/// let opt = RMSprop::new().rho(0.95).momentum(0.5).centered(true);
/// assert_eq!(opt.get_learning_rate(), 0.001);
/// ```
#[derive(Debug)]
pub struct RMSprop {
    base: OptimizerBase,
    rho: f64,
    momentum: f64,
    epsilon: f64,
    centered: bool,
}

impl Default for RMSprop {
    fn default() -> Self {
        Self::new()
    }
}

impl RMSprop {
    /// Keras's defaults.
    pub fn new() -> Self {
        RMSprop {
            base: OptimizerBase::new("RMSprop", 0.001),
            rho: 0.9,
            momentum: 0.0,
            epsilon: 1e-7,
            centered: false,
        }
    }
    /// Decay of the mean square.
    pub fn rho(mut self, v: f64) -> Self {
        self.rho = v;
        self
    }
    /// Momentum.
    pub fn momentum(mut self, v: f64) -> Self {
        self.momentum = v;
        self
    }
    /// Added inside the square root.
    pub fn epsilon(mut self, v: f64) -> Self {
        self.epsilon = v;
        self
    }
    /// Normalize by the variance instead of the second moment.
    pub fn centered(mut self, v: bool) -> Self {
        self.centered = v;
        self
    }

    /// Reads Keras's config.
    pub fn from_config(c: &Cfg) -> Result<Self> {
        let mut o = Self::new()
            .rho(c.f64_or("rho", 0.9)?)
            .momentum(c.f64_or("momentum", 0.0)?)
            .epsilon(c.f64_or("epsilon", 1e-7)?)
            .centered(c.bool_or("centered", false)?);
        o.base
            .read_config(c, &["rho", "momentum", "epsilon", "centered"])?;
        Ok(o)
    }
}

impl Optimizer for RMSprop {
    fn class_name(&self) -> &str {
        "RMSprop"
    }
    fn base(&self) -> &OptimizerBase {
        &self.base
    }
    fn base_mut(&mut self) -> &mut OptimizerBase {
        &mut self.base
    }
    fn build(&self, b: &mut Builder, weights: &[Weight]) -> Result<()> {
        b.add_optimizer_variables(weights, &["velocity"]);
        if self.momentum > 0.0 {
            b.add_optimizer_variables(weights, &["momentum"]);
        }
        if self.centered {
            b.add_optimizer_variables(weights, &["average_gradient"]);
        }
        Ok(())
    }
    fn update_step(&self, s: &mut Slots, g: &Tensor, var: &Tensor, lr: f64) -> Result<Tensor> {
        let rho = self.rho;
        let velocity = ((s.get("velocity")? * rho)? + (g.sqr()? * (1.0 - rho))?)?;
        s.set("velocity", &velocity)?;
        let denominator = if self.centered {
            let avg = ((s.get("average_gradient")? * rho)? + (g * (1.0 - rho))?)?;
            s.set("average_gradient", &avg)?;
            ((velocity - avg.sqr()?)? + self.epsilon)?
        } else {
            (velocity + self.epsilon)?
        };
        let increment = ((g * lr)? / denominator.sqrt()?)?;
        if self.momentum > 0.0 {
            let m = ((s.get("momentum")? * self.momentum)? + increment)?;
            s.set("momentum", &m)?;
            Ok((var - m)?)
        } else {
            Ok((var - increment)?)
        }
    }
    fn fused_rule(&self, lr: f64, _iterations: u64) -> Option<Update> {
        Some(Update::RmsProp {
            lr,
            rho: self.rho,
            momentum: self.momentum,
            epsilon: self.epsilon,
            centered: self.centered,
        })
    }
    fn own_config(&self) -> Config {
        let mut c = Config::new();
        c.insert("rho".into(), json!(self.rho));
        c.insert("momentum".into(), json!(self.momentum));
        c.insert("epsilon".into(), json!(self.epsilon));
        c.insert("centered".into(), json!(self.centered));
        c
    }
}
