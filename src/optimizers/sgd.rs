//! `SGD`: gradient descent with optional (Nesterov) momentum.

use super::{Optimizer, OptimizerBase};
use crate::ops::Update;

/// Stochastic gradient descent (learning rate 0.01, no momentum by default).
///
/// ```
/// use keras::prelude::*;
/// let opt = SGD::new().momentum(0.9).nesterov(true).learning_rate(0.1);
/// assert_eq!(opt.get_learning_rate(), 0.1);
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
            base: OptimizerBase::new(0.01),
            momentum: 0.0,
            nesterov: false,
        }
    }

    /// Momentum factor.
    pub fn momentum(mut self, m: f64) -> Self {
        self.momentum = m;
        self
    }

    /// Nesterov momentum.
    pub fn nesterov(mut self, n: bool) -> Self {
        self.nesterov = n;
        self
    }
}

impl Optimizer for SGD {
    fn name(&self) -> &str {
        "sgd"
    }
    fn base(&self) -> &OptimizerBase {
        &self.base
    }
    fn base_mut(&mut self) -> &mut OptimizerBase {
        &mut self.base
    }
    fn rule(&self, lr: f64, _step: u64) -> Update {
        Update::Sgd {
            lr,
            momentum: self.momentum,
            nesterov: self.nesterov,
        }
    }
}
