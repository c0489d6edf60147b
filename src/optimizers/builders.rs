//! [`OptimizerExt`]: the builder methods every optimizer has (Keras's base-optimizer
//! arguments).

use super::{LearningRate, Optimizer};
use crate::engine::Weight;

/// Builder methods shared by every optimizer (in the prelude).
pub trait OptimizerExt: Optimizer + Sized {
    /// Sets the learning rate: a float or a schedule.
    fn learning_rate(mut self, lr: impl Into<LearningRate>) -> Self {
        self.base_mut().learning_rate = lr.into();
        self
    }
    /// Names the optimizer (Keras's `name=`).
    fn with_name(mut self, name: &str) -> Self {
        self.base_mut().name = name.to_string();
        self
    }
    /// Clips each gradient's L2 norm.
    fn clipnorm(mut self, v: f64) -> Self {
        self.base_mut().clipnorm = Some(v);
        self
    }
    /// Clips each gradient value to `[-v, v]`.
    fn clipvalue(mut self, v: f64) -> Self {
        self.base_mut().clipvalue = Some(v);
        self
    }
    /// Clips the global norm of all gradients.
    fn global_clipnorm(mut self, v: f64) -> Self {
        self.base_mut().global_clipnorm = Some(v);
        self
    }
    /// Decoupled weight decay: `w -= w * v * lr` before each update.
    fn weight_decay(mut self, v: f64) -> Self {
        self.base_mut().weight_decay = Some(v);
        self
    }
    /// Keeps an exponential moving average of the weights (Keras's `use_ema`).
    fn use_ema(mut self, v: bool) -> Self {
        self.base_mut().use_ema = v;
        self
    }
    /// The EMA's momentum (0.99 by default).
    fn ema_momentum(mut self, v: f64) -> Self {
        self.base_mut().ema_momentum = v;
        self
    }
    /// Overwrites the weights with their EMA every `n` updates.
    fn ema_overwrite_frequency(mut self, n: u64) -> Self {
        self.base_mut().ema_overwrite_frequency = Some(n);
        self
    }
    /// Divides the gradients by this factor (the loss having been multiplied by it).
    fn loss_scale_factor(mut self, v: f64) -> Self {
        self.base_mut().loss_scale_factor = Some(v);
        self
    }
    /// Updates every `n` steps with the mean of their gradients.
    fn gradient_accumulation_steps(mut self, n: u64) -> Self {
        self.base_mut().gradient_accumulation_steps = Some(n);
        self
    }
    /// No weight decay for weights whose name contains one of `names` (Keras's
    /// `exclude_from_weight_decay(var_names=...)`).
    fn exclude_from_weight_decay(mut self, names: &[&str]) -> Self {
        let b = self.base_mut();
        b.exclude_from_weight_decay = names.iter().map(|n| n.to_string()).collect();
        self
    }
    /// No weight decay for these weights (Keras's `exclude_from_weight_decay(var_list=...)`).
    fn exclude_weights_from_weight_decay(mut self, weights: &[Weight]) -> Self {
        let b = self.base_mut();
        b.exclude_ids = weights.iter().map(Weight::id).collect();
        self
    }
}

impl<O: Optimizer + Sized> OptimizerExt for O {}
