//! `Adagrad`.

use super::{Builder, Optimizer, OptimizerBase, Slots};
use crate::engine::Weight;
use crate::ops::Tensor;
use crate::serialization::{json, Cfg, Config};
use crate::{Error, Result};

/// Adagrad (learning rate 0.001, initial accumulator 0.1, epsilon 1e-7), as
/// `keras.optimizers.Adagrad`: `acc += g^2; w -= lr * g / sqrt(acc + epsilon)`.
///
/// ```
/// use keras::prelude::*;
/// let opt = Adagrad::new().initial_accumulator_value(0.5).learning_rate(0.1);
/// assert_eq!(opt.get_config()["config"]["initial_accumulator_value"], 0.5);
/// ```
#[derive(Debug)]
pub struct Adagrad {
    base: OptimizerBase,
    initial_accumulator_value: f64,
    epsilon: f64,
}

impl Default for Adagrad {
    fn default() -> Self {
        Self::new()
    }
}

impl Adagrad {
    /// Keras's defaults.
    pub fn new() -> Self {
        Adagrad {
            base: OptimizerBase::new("Adagrad", 0.001),
            initial_accumulator_value: 0.1,
            epsilon: 1e-7,
        }
    }
    /// The accumulators' starting value (>= 0).
    pub fn initial_accumulator_value(mut self, v: f64) -> Self {
        self.initial_accumulator_value = v;
        self
    }
    /// Added inside the square root.
    pub fn epsilon(mut self, v: f64) -> Self {
        self.epsilon = v;
        self
    }

    /// Reads Keras's config.
    pub fn from_config(c: &Cfg) -> Result<Self> {
        let mut o = Self::new()
            .initial_accumulator_value(c.f64_or("initial_accumulator_value", 0.1)?)
            .epsilon(c.f64_or("epsilon", 1e-7)?);
        o.base
            .read_config(c, &["initial_accumulator_value", "epsilon"])?;
        Ok(o)
    }
}

impl Optimizer for Adagrad {
    fn class_name(&self) -> &str {
        "Adagrad"
    }
    fn base(&self) -> &OptimizerBase {
        &self.base
    }
    fn base_mut(&mut self) -> &mut OptimizerBase {
        &mut self.base
    }
    fn check_args(&self) -> Result<()> {
        if self.initial_accumulator_value.is_nan() || self.initial_accumulator_value < 0.0 {
            return Err(Error::value(format!(
                "Adagrad: `initial_accumulator_value` must be >= 0. Received: initial_accumulator_value={}",
                super::base::py_f64(self.initial_accumulator_value)
            )));
        }
        Ok(())
    }
    fn build(&self, b: &mut Builder, weights: &[Weight]) -> Result<()> {
        b.add_optimizer_variables_with(weights, &[("accumulator", self.initial_accumulator_value)]);
        Ok(())
    }
    fn update_step(&self, s: &mut Slots, g: &Tensor, var: &Tensor, lr: f64) -> Result<Tensor> {
        let acc = (s.get("accumulator")? + g.sqr()?)?;
        s.set("accumulator", &acc)?;
        Ok((var - ((g * lr)? / (acc + self.epsilon)?.sqrt()?)?)?)
    }
    fn own_config(&self) -> Config {
        let mut c = Config::new();
        c.insert(
            "initial_accumulator_value".into(),
            json!(self.initial_accumulator_value),
        );
        c.insert("epsilon".into(), json!(self.epsilon));
        c
    }
}
