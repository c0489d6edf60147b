//! `Lion`.

use super::{Builder, Optimizer, OptimizerBase, Slots};
use crate::engine::Weight;
use crate::ops::Tensor;
use crate::serialization::{json, Cfg, Config};
use crate::{Error, Result};

/// Lion, the sign of an interpolated momentum (learning rate 0.001, beta_1 0.9,
/// beta_2 0.99), as `keras.optimizers.Lion`.
///
/// ```
/// use keras::prelude::*;
/// let opt = Lion::new().beta_1(0.95);
/// assert_eq!(opt.get_config()["config"]["beta_2"], 0.99);
/// ```
#[derive(Debug)]
pub struct Lion {
    base: OptimizerBase,
    beta_1: f64,
    beta_2: f64,
}

impl Default for Lion {
    fn default() -> Self {
        Self::new()
    }
}

impl Lion {
    /// Keras's defaults.
    pub fn new() -> Self {
        Lion {
            base: OptimizerBase::new("Lion", 0.001),
            beta_1: 0.9,
            beta_2: 0.99,
        }
    }
    /// Interpolation of momentum and gradient for the update's sign, in (0, 1].
    pub fn beta_1(mut self, v: f64) -> Self {
        self.beta_1 = v;
        self
    }
    /// Decay of the momentum.
    pub fn beta_2(mut self, v: f64) -> Self {
        self.beta_2 = v;
        self
    }

    /// Reads Keras's config.
    pub fn from_config(c: &Cfg) -> Result<Self> {
        let mut o = Self::new()
            .beta_1(c.f64_or("beta_1", 0.9)?)
            .beta_2(c.f64_or("beta_2", 0.99)?);
        o.base.read_config(c, &["beta_1", "beta_2"])?;
        Ok(o)
    }
}

impl Optimizer for Lion {
    fn class_name(&self) -> &str {
        "Lion"
    }
    fn base(&self) -> &OptimizerBase {
        &self.base
    }
    fn base_mut(&mut self) -> &mut OptimizerBase {
        &mut self.base
    }
    fn check_args(&self) -> Result<()> {
        if !(self.beta_1 > 0.0 && self.beta_1 <= 1.0) {
            return Err(Error::value(format!(
                "Lion: Argument `beta_1` must be in the [0, 1] range. Otherwise, the optimizer degenerates to SignSGD. Received: beta_1={}.",
                super::base::py_f64(self.beta_1)
            )));
        }
        Ok(())
    }
    fn build(&self, b: &mut Builder, weights: &[Weight]) -> Result<()> {
        b.add_optimizer_variables(weights, &["momentum"]);
        Ok(())
    }
    fn update_step(&self, s: &mut Slots, g: &Tensor, var: &Tensor, lr: f64) -> Result<Tensor> {
        let m = s.get("momentum")?;
        let direction = ((&m * self.beta_1)? + (g * (1.0 - self.beta_1))?)?.sign()?;
        let new_var = (var - (direction * lr)?)?;
        s.set(
            "momentum",
            &((m * self.beta_2)? + (g * (1.0 - self.beta_2))?)?,
        )?;
        Ok(new_var)
    }
    fn own_config(&self) -> Config {
        let mut c = Config::new();
        c.insert("beta_1".into(), json!(self.beta_1));
        c.insert("beta_2".into(), json!(self.beta_2));
        c
    }
}
