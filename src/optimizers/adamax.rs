//! `Adamax`.

use super::{Builder, Optimizer, OptimizerBase, Slots};
use crate::engine::Weight;
use crate::ops::Tensor;
use crate::serialization::{json, Cfg, Config};
use crate::Result;

/// Adamax, Adam with the infinity norm (learning rate 0.001, beta_1 0.9, beta_2 0.999,
/// epsilon 1e-7), as `keras.optimizers.Adamax`.
///
/// ```
/// use keras::prelude::*;
/// let opt = Adamax::new().beta_2(0.99);
/// assert_eq!(opt.get_config()["config"]["beta_2"], 0.99);
/// ```
#[derive(Debug)]
pub struct Adamax {
    base: OptimizerBase,
    beta_1: f64,
    beta_2: f64,
    epsilon: f64,
}

impl Default for Adamax {
    fn default() -> Self {
        Self::new()
    }
}

impl Adamax {
    /// Keras's defaults.
    pub fn new() -> Self {
        Adamax {
            base: OptimizerBase::new("Adamax", 0.001),
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
        }
    }
    /// Decay of the first moment.
    pub fn beta_1(mut self, v: f64) -> Self {
        self.beta_1 = v;
        self
    }
    /// Decay of the infinity norm.
    pub fn beta_2(mut self, v: f64) -> Self {
        self.beta_2 = v;
        self
    }
    /// Added to the norm.
    pub fn epsilon(mut self, v: f64) -> Self {
        self.epsilon = v;
        self
    }

    /// Reads Keras's config.
    pub fn from_config(c: &Cfg) -> Result<Self> {
        let mut o = Self::new()
            .beta_1(c.f64_or("beta_1", 0.9)?)
            .beta_2(c.f64_or("beta_2", 0.999)?)
            .epsilon(c.f64_or("epsilon", 1e-7)?);
        o.base.read_config(c, &["beta_1", "beta_2", "epsilon"])?;
        Ok(o)
    }
}

impl Optimizer for Adamax {
    fn class_name(&self) -> &str {
        "Adamax"
    }
    fn base(&self) -> &OptimizerBase {
        &self.base
    }
    fn base_mut(&mut self) -> &mut OptimizerBase {
        &mut self.base
    }
    fn build(&self, b: &mut Builder, weights: &[Weight]) -> Result<()> {
        b.add_optimizer_variables(weights, &["momentum", "norm"]);
        Ok(())
    }
    fn update_step(&self, s: &mut Slots, g: &Tensor, var: &Tensor, lr: f64) -> Result<Tensor> {
        let step = (s.iterations() + 1) as f64;
        let b1p = super::base::power(var, self.beta_1, step);
        let m = s.get("momentum")?;
        let m = (&m + ((g - &m)? * (1.0 - self.beta_1))?)?;
        let u = (s.get("norm")? * self.beta_2)?.maximum(&g.abs()?)?;
        s.set("momentum", &m)?;
        s.set("norm", &u)?;
        Ok((var - ((m * lr)? / ((u + self.epsilon)? * (1.0 - b1p))?)?)?)
    }
    fn own_config(&self) -> Config {
        let mut c = Config::new();
        c.insert("beta_1".into(), json!(self.beta_1));
        c.insert("beta_2".into(), json!(self.beta_2));
        c.insert("epsilon".into(), json!(self.epsilon));
        c
    }
}
