//! `Adadelta`.

use super::{Builder, Optimizer, OptimizerBase, Slots};
use crate::engine::Weight;
use crate::ops::Tensor;
use crate::serialization::{json, Cfg, Config};
use crate::Result;

/// Adadelta (learning rate 0.001, rho 0.95, epsilon 1e-7), as `keras.optimizers.Adadelta`:
/// running averages of squared gradients and squared updates scale each step.
///
/// ```
/// use keras::prelude::*;
/// let opt = Adadelta::new().learning_rate(1.0).rho(0.9);
/// assert_eq!(opt.get_config()["config"]["rho"], 0.9);
/// ```
#[derive(Debug)]
pub struct Adadelta {
    base: OptimizerBase,
    rho: f64,
    epsilon: f64,
}

impl Default for Adadelta {
    fn default() -> Self {
        Self::new()
    }
}

impl Adadelta {
    /// Keras's defaults.
    pub fn new() -> Self {
        Adadelta {
            base: OptimizerBase::new("Adadelta", 0.001),
            rho: 0.95,
            epsilon: 1e-7,
        }
    }
    /// Decay of the running averages.
    pub fn rho(mut self, v: f64) -> Self {
        self.rho = v;
        self
    }
    /// Added inside the square roots.
    pub fn epsilon(mut self, v: f64) -> Self {
        self.epsilon = v;
        self
    }

    /// Reads Keras's config.
    pub fn from_config(c: &Cfg) -> Result<Self> {
        let mut o = Self::new()
            .rho(c.f64_or("rho", 0.95)?)
            .epsilon(c.f64_or("epsilon", 1e-7)?);
        o.base.read_config(c, &["rho", "epsilon"])?;
        Ok(o)
    }
}

impl Optimizer for Adadelta {
    fn class_name(&self) -> &str {
        "Adadelta"
    }
    fn base(&self) -> &OptimizerBase {
        &self.base
    }
    fn base_mut(&mut self) -> &mut OptimizerBase {
        &mut self.base
    }
    fn build(&self, b: &mut Builder, weights: &[Weight]) -> Result<()> {
        b.add_optimizer_variables(weights, &["accumulated_grad", "accumulated_delta_var"]);
        Ok(())
    }
    fn update_step(&self, s: &mut Slots, g: &Tensor, var: &Tensor, lr: f64) -> Result<Tensor> {
        let (rho, eps) = (self.rho, self.epsilon);
        let rms = |x: &Tensor| -> Result<Tensor> { Ok((x + eps)?.sqrt()?) };
        let acc_g = ((s.get("accumulated_grad")? * rho)? + (g.sqr()? * (1.0 - rho))?)?;
        let acc_d = s.get("accumulated_delta_var")?;
        let delta = ((rms(&acc_d)? * g)? / rms(&acc_g)?)?.neg()?;
        let acc_d = ((acc_d * rho)? + (delta.sqr()? * (1.0 - rho))?)?;
        s.set("accumulated_grad", &acc_g)?;
        s.set("accumulated_delta_var", &acc_d)?;
        Ok((var + (delta * lr)?)?)
    }
    fn own_config(&self) -> Config {
        let mut c = Config::new();
        c.insert("rho".into(), json!(self.rho));
        c.insert("epsilon".into(), json!(self.epsilon));
        c
    }
}
