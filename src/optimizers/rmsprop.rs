//! `RMSprop`.

use super::{Optimizer, OptimizerBase};
use crate::ops::Update;

/// RMSprop (learning rate 0.001, rho 0.9, momentum 0, epsilon 1e-7, not centered).
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
            base: OptimizerBase::new(0.001),
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
}

impl Optimizer for RMSprop {
    fn name(&self) -> &str {
        // Keras 3 snake-cases the class name this way (its configs and files say `rm_sprop`).
        "rm_sprop"
    }
    fn base(&self) -> &OptimizerBase {
        &self.base
    }
    fn base_mut(&mut self) -> &mut OptimizerBase {
        &mut self.base
    }
    fn rule(&self, lr: f64, _step: u64) -> Update {
        Update::RmsProp {
            lr,
            rho: self.rho,
            momentum: self.momentum,
            epsilon: self.epsilon,
            centered: self.centered,
        }
    }
}
