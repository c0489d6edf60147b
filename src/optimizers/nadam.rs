//! `Nadam`: Adam with Nesterov momentum.

use super::{Builder, Optimizer, OptimizerBase, Slots};
use crate::engine::Weight;
use crate::ops::{self, DType, Tensor};
use crate::serialization::{json, Cfg, Config};
use crate::Result;

/// Nadam (learning rate 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7), as
/// `keras.optimizers.Nadam`, with its momentum schedule's running product (`u_product`, a
/// variable of the whole optimizer).
///
/// ```
/// use keras::prelude::*;
/// let opt = Nadam::new().beta_1(0.95).learning_rate(0.002);
/// assert_eq!(opt.get_config()["class_name"], "Nadam");
/// ```
#[derive(Debug)]
pub struct Nadam {
    base: OptimizerBase,
    beta_1: f64,
    beta_2: f64,
    epsilon: f64,
}

impl Default for Nadam {
    fn default() -> Self {
        Self::new()
    }
}

impl Nadam {
    /// Keras's defaults.
    pub fn new() -> Self {
        Nadam {
            base: OptimizerBase::new("Nadam", 0.001),
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

    /// `beta_1 * (1 - 0.5 * 0.96^step)`, in float32 as Keras.
    fn u(&self, step: u64) -> f64 {
        let b1 = self.beta_1 as f32;
        (b1 * (1.0 - 0.5 * 0.96f32.powf(step as f32))) as f64
    }
}

impl Optimizer for Nadam {
    fn class_name(&self) -> &str {
        "Nadam"
    }
    fn base(&self) -> &OptimizerBase {
        &self.base
    }
    fn base_mut(&mut self) -> &mut OptimizerBase {
        &mut self.base
    }
    fn build(&self, b: &mut Builder, weights: &[Weight]) -> Result<()> {
        b.add_optimizer_variables(weights, &["momentum", "velocity"]);
        let dtype = weights.first().map_or(DType::F32, |w| w.dtype());
        b.add_variable(None, "u_product", &[], dtype, 1.0);
        Ok(())
    }
    fn begin_update(&self, s: &mut Slots) -> Result<()> {
        let u = s.shared("u_product")?;
        let next = (u * self.u(s.iterations() + 1))?;
        s.set_shared("u_product", &next)
    }
    fn update_step(&self, s: &mut Slots, g: &Tensor, var: &Tensor, lr: f64) -> Result<Tensor> {
        let t = s.iterations() + 1;
        let (u_t, u_t_1) = (self.u(t), self.u(t + 1));
        let u_product_t = ops::scalar(&s.shared("u_product")?)?;
        let u_product_t_1 = u_product_t * u_t_1;
        let b2p = super::base::power(var, self.beta_2, t as f64);
        let m = s.get("momentum")?;
        let m = (&m + ((g - &m)? * (1.0 - self.beta_1))?)?;
        let v = s.get("velocity")?;
        let v = (&v + ((g.sqr()? - &v)? * (1.0 - self.beta_2))?)?;
        s.set("momentum", &m)?;
        s.set("velocity", &v)?;
        let m_hat =
            ((m * (u_t_1 / (1.0 - u_product_t_1)))? + (g * ((1.0 - u_t) / (1.0 - u_product_t)))?)?;
        let v_hat = (v / (1.0 - b2p))?;
        Ok((var - ((m_hat * lr)? / (v_hat.sqrt()? + self.epsilon)?)?)?)
    }
    fn own_config(&self) -> Config {
        let mut c = Config::new();
        c.insert("beta_1".into(), json!(self.beta_1));
        c.insert("beta_2".into(), json!(self.beta_2));
        c.insert("epsilon".into(), json!(self.epsilon));
        c
    }
}
