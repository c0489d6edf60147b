//! `Lamb`: Adam with a layer-wise trust ratio.

use super::{Builder, Optimizer, OptimizerBase, Slots};
use crate::engine::Weight;
use crate::ops::{self, Tensor};
use crate::serialization::{json, Cfg, Config};
use crate::Result;

/// LAMB (learning rate 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7), as
/// `keras.optimizers.Lamb`: Adam's step scaled by `|w| / |step|` per weight.
///
/// ```
/// use keras::prelude::*;
/// let opt = Lamb::new().epsilon(1e-6);
/// assert_eq!(opt.get_config()["config"]["epsilon"], 1e-6);
/// ```
#[derive(Debug)]
pub struct Lamb {
    base: OptimizerBase,
    beta_1: f64,
    beta_2: f64,
    epsilon: f64,
}

impl Default for Lamb {
    fn default() -> Self {
        Self::new()
    }
}

impl Lamb {
    /// Keras's defaults.
    pub fn new() -> Self {
        Lamb {
            base: OptimizerBase::new("Lamb", 0.001),
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

fn norm(t: &Tensor) -> Result<f64> {
    Ok(ops::scalar(&t.sqr()?.sum_all()?)?.sqrt())
}

impl Optimizer for Lamb {
    fn class_name(&self) -> &str {
        "Lamb"
    }
    fn base(&self) -> &OptimizerBase {
        &self.base
    }
    fn base_mut(&mut self) -> &mut OptimizerBase {
        &mut self.base
    }
    fn build(&self, b: &mut Builder, weights: &[Weight]) -> Result<()> {
        b.add_optimizer_variables(weights, &["momentum", "velocity"]);
        Ok(())
    }
    fn update_step(&self, s: &mut Slots, g: &Tensor, var: &Tensor, lr: f64) -> Result<Tensor> {
        let step = (s.iterations() + 1) as f64;
        let b1p = super::base::power(var, self.beta_1, step);
        let b2p = super::base::power(var, self.beta_2, step);
        let m = s.get("momentum")?;
        let m = (&m + ((g - &m)? * (1.0 - self.beta_1))?)?;
        let v = s.get("velocity")?;
        let v = (&v + ((g.sqr()? - &v)? * (1.0 - self.beta_2))?)?;
        s.set("momentum", &m)?;
        s.set("velocity", &v)?;
        let m_hat = (m / (1.0 - b1p))?;
        let v_sqrt = ((v / (1.0 - b2p))?.sqrt()? + self.epsilon)?;
        let update = (m_hat / v_sqrt)?;
        let (w_norm, g_norm) = (norm(var)?, norm(&update)?);
        let ratio = if w_norm > 0.0 && g_norm > 0.0 {
            w_norm / g_norm
        } else {
            1.0
        };
        Ok((var - (update * (ratio * lr))?)?)
    }
    fn own_config(&self) -> Config {
        let mut c = Config::new();
        c.insert("beta_1".into(), json!(self.beta_1));
        c.insert("beta_2".into(), json!(self.beta_2));
        c.insert("epsilon".into(), json!(self.epsilon));
        c
    }
}
