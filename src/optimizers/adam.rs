//! `Adam` and `AdamW`.

use super::{Optimizer, OptimizerBase};
use crate::ops::Update;

/// Adam (learning rate 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7).
///
/// ```
/// use keras::prelude::*;
/// let opt = Adam::new().beta_1(0.8).amsgrad(true);
/// assert_eq!(opt.get_learning_rate(), 0.001);
/// ```
#[derive(Debug)]
pub struct Adam {
    base: OptimizerBase,
    beta_1: f64,
    beta_2: f64,
    epsilon: f64,
    amsgrad: bool,
    name: &'static str,
}

impl Default for Adam {
    fn default() -> Self {
        Self::new()
    }
}

impl Adam {
    /// Keras's defaults.
    pub fn new() -> Self {
        Adam {
            base: OptimizerBase::new(0.001),
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            amsgrad: false,
            name: "adam",
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
}

impl Optimizer for Adam {
    fn name(&self) -> &str {
        self.name
    }
    fn base(&self) -> &OptimizerBase {
        &self.base
    }
    fn base_mut(&mut self) -> &mut OptimizerBase {
        &mut self.base
    }
    fn rule(&self, lr: f64, step: u64) -> Update {
        Update::Adam {
            lr,
            beta_1: self.beta_1,
            beta_2: self.beta_2,
            epsilon: self.epsilon,
            amsgrad: self.amsgrad,
            step,
        }
    }
}

/// AdamW: Adam with decoupled weight decay (0.004 by default).
///
/// ```
/// use keras::prelude::*;
/// let opt = AdamW::new().weight_decay(0.01);
/// assert_eq!(opt.base().weight_decay, Some(0.01));
/// ```
pub struct AdamW;

impl AdamW {
    /// Keras's defaults: Adam's, plus `weight_decay = 0.004`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> Adam {
        let mut a = Adam::new();
        a.base.weight_decay = Some(0.004);
        a.name = "adamw";
        a
    }
}
