//! `Ftrl`: follow the regularized leader.

use super::{Builder, Optimizer, OptimizerBase, Slots};
use crate::engine::Weight;
use crate::ops::Tensor;
use crate::serialization::{json, Cfg, Config};
use crate::{Error, Result};

/// FTRL-proximal (learning rate 0.001, learning-rate power -0.5, initial accumulator 0.1, no
/// regularization), as `keras.optimizers.Ftrl`.
///
/// ```
/// use keras::prelude::*;
/// let opt = Ftrl::new().l1_regularization_strength(0.01).beta(0.5);
/// assert_eq!(opt.get_config()["config"]["beta"], 0.5);
/// ```
#[derive(Debug)]
pub struct Ftrl {
    base: OptimizerBase,
    learning_rate_power: f64,
    initial_accumulator_value: f64,
    l1_regularization_strength: f64,
    l2_regularization_strength: f64,
    l2_shrinkage_regularization_strength: f64,
    beta: f64,
}

impl Default for Ftrl {
    fn default() -> Self {
        Self::new()
    }
}

const KEYS: &[&str] = &[
    "learning_rate_power",
    "initial_accumulator_value",
    "l1_regularization_strength",
    "l2_regularization_strength",
    "l2_shrinkage_regularization_strength",
    "beta",
];

impl Ftrl {
    /// Keras's defaults.
    pub fn new() -> Self {
        Ftrl {
            base: OptimizerBase::new("Ftrl", 0.001),
            learning_rate_power: -0.5,
            initial_accumulator_value: 0.1,
            l1_regularization_strength: 0.0,
            l2_regularization_strength: 0.0,
            l2_shrinkage_regularization_strength: 0.0,
            beta: 0.0,
        }
    }
    /// How the learning rate decreases with the accumulator (<= 0).
    pub fn learning_rate_power(mut self, v: f64) -> Self {
        self.learning_rate_power = v;
        self
    }
    /// The accumulators' starting value (>= 0).
    pub fn initial_accumulator_value(mut self, v: f64) -> Self {
        self.initial_accumulator_value = v;
        self
    }
    /// L1 regularization strength (>= 0).
    pub fn l1_regularization_strength(mut self, v: f64) -> Self {
        self.l1_regularization_strength = v;
        self
    }
    /// L2 regularization strength (>= 0).
    pub fn l2_regularization_strength(mut self, v: f64) -> Self {
        self.l2_regularization_strength = v;
        self
    }
    /// L2 shrinkage strength (>= 0), on the gradient.
    pub fn l2_shrinkage_regularization_strength(mut self, v: f64) -> Self {
        self.l2_shrinkage_regularization_strength = v;
        self
    }
    /// FTRL's beta.
    pub fn beta(mut self, v: f64) -> Self {
        self.beta = v;
        self
    }

    /// Reads Keras's config.
    pub fn from_config(c: &Cfg) -> Result<Self> {
        let mut o = Self::new()
            .learning_rate_power(c.f64_or("learning_rate_power", -0.5)?)
            .initial_accumulator_value(c.f64_or("initial_accumulator_value", 0.1)?)
            .l1_regularization_strength(c.f64_or("l1_regularization_strength", 0.0)?)
            .l2_regularization_strength(c.f64_or("l2_regularization_strength", 0.0)?)
            .l2_shrinkage_regularization_strength(
                c.f64_or("l2_shrinkage_regularization_strength", 0.0)?,
            )
            .beta(c.f64_or("beta", 0.0)?);
        o.base.read_config(c, KEYS)?;
        Ok(o)
    }
}

impl Optimizer for Ftrl {
    fn class_name(&self) -> &str {
        "Ftrl"
    }
    fn base(&self) -> &OptimizerBase {
        &self.base
    }
    fn base_mut(&mut self) -> &mut OptimizerBase {
        &mut self.base
    }
    fn check_args(&self) -> Result<()> {
        let bad = |key: &str, v: f64, want: &str| {
            Err(Error::value(format!(
                "Ftrl: `{key}` needs to be {want}. Received: {key}={}.",
                super::base::py_f64(v)
            )))
        };
        let nonneg = [
            ("initial_accumulator_value", self.initial_accumulator_value),
            (
                "l1_regularization_strength",
                self.l1_regularization_strength,
            ),
            (
                "l2_regularization_strength",
                self.l2_regularization_strength,
            ),
            (
                "l2_shrinkage_regularization_strength",
                self.l2_shrinkage_regularization_strength,
            ),
        ];
        for (key, v) in nonneg {
            if v.is_nan() || v < 0.0 {
                return bad(key, v, "positive or zero");
            }
        }
        if self.learning_rate_power.is_nan() || self.learning_rate_power > 0.0 {
            return bad(
                "learning_rate_power",
                self.learning_rate_power,
                "negative or zero",
            );
        }
        Ok(())
    }
    fn build(&self, b: &mut Builder, weights: &[Weight]) -> Result<()> {
        b.add_optimizer_variables_with(
            weights,
            &[
                ("accumulator", self.initial_accumulator_value),
                ("linear", 0.0),
            ],
        );
        Ok(())
    }
    fn update_step(&self, s: &mut Slots, g: &Tensor, var: &Tensor, lr: f64) -> Result<Tensor> {
        let power = -self.learning_rate_power;
        let l2 = self.l2_regularization_strength + self.beta / (2.0 * lr);
        let grad_to_use = (g + (var * (2.0 * self.l2_shrinkage_regularization_strength))?)?;
        let accum = s.get("accumulator")?;
        let new_accum = (&accum + g.sqr()?)?;
        let new_pow = new_accum.powf(power)?;
        let sigma = ((&new_pow - accum.powf(power)?)? / lr)?;
        let linear = (s.get("linear")? + (grad_to_use - (sigma * var)?)?)?;
        let quadratic = ((new_pow / lr)? + 2.0 * l2)?;
        let l1 = self.l1_regularization_strength;
        let clipped = linear.clamp(-l1, l1)?;
        let new_var = ((clipped - &linear)? / quadratic)?;
        s.set("linear", &linear)?;
        s.set("accumulator", &new_accum)?;
        Ok(new_var)
    }
    fn own_config(&self) -> Config {
        let mut c = Config::new();
        let values = [
            self.learning_rate_power,
            self.initial_accumulator_value,
            self.l1_regularization_strength,
            self.l2_regularization_strength,
            self.l2_shrinkage_regularization_strength,
            self.beta,
        ];
        for (k, v) in KEYS.iter().zip(values) {
            c.insert(k.to_string(), json!(v));
        }
        c
    }
}
