//! Optimizers, as `keras.optimizers`: [`SGD`], [`Adam`], [`AdamW`], [`RMSprop`], [`Adagrad`],
//! [`Adadelta`], [`Adamax`], [`Nadam`], [`Ftrl`], [`Lion`], [`Lamb`], [`Adafactor`], [`Muon`]
//! and [`LossScaleOptimizer`], with Keras 3's defaults and update rules, and learning-rate
//! [`schedules`].
//!
//! Shaped as Keras 3's `BaseOptimizer`: an optimizer's `build` declares its variables per
//! weight (`momentum`, `velocity`, ...; that order is the saved optimizer-state layout), its
//! `update_step` is the rule written with tensor ops (any device), and the shared part
//! ([`OptimizerBase`], [`Optimizer::apply_gradients`]) does loss-scale unscaling, gradient
//! accumulation, clipping, weight decay, the EMA of the weights and the step counter. SGD,
//! Adam / AdamW and RMSprop also have a fused CPU pass (`crate::ops::update_in_place`), used
//! for CPU weights.
//!
//! ```
//! use keras::prelude::*;
//! use keras::optimizers::schedules::CosineDecay;
//! let mut opt = Adam::new().learning_rate(0.01).clipnorm(1.0);
//! assert_eq!(opt.get_learning_rate(), 0.01);
//! opt.set_learning_rate(0.001);
//! let opt2 = keras::optimizers::get("nadam")?;
//! assert_eq!(opt2.get_learning_rate(), 0.001);
//! let scheduled = Nadam::new().learning_rate(CosineDecay::new(0.1, 1000)?);
//! assert_eq!(scheduled.get_learning_rate(), 0.1f32 as f64);
//! # Ok::<(), keras::Error>(())
//! ```

mod adadelta;
mod adafactor;
mod adagrad;
mod adam;
mod adamax;
mod apply;
mod base;
mod builders;
mod ftrl;
mod lamb;
mod layout;
mod lion;
mod loss_scale_optimizer;
mod muon;
mod nadam;
mod registry;
mod rmsprop;
pub mod schedules;
mod sgd;
mod state;

pub use adadelta::Adadelta;
pub use adafactor::Adafactor;
pub use adagrad::Adagrad;
pub use adam::{Adam, AdamW};
pub use adamax::Adamax;
pub use base::{LearningRate, OptimizerBase, BASE_KEYS};
pub use builders::OptimizerExt;
pub use ftrl::Ftrl;
pub use lamb::Lamb;
pub use lion::Lion;
pub use loss_scale_optimizer::LossScaleOptimizer;
pub use muon::Muon;
pub use nadam::Nadam;
pub use registry::{from_config, get, names, OptimizerArg};
pub use rmsprop::RMSprop;
pub use sgd::SGD;
pub use state::{Builder, Slots, VariableSpec};

use crate::engine::Weight;
use crate::ops::{Tensor, Update};
use crate::serialization::{object, Config, Value};
use crate::{Error, Result};
pub use schedules::LearningRateSchedule;

/// An optimizer (Keras's `Optimizer`). An implementor gives its settings ([`OptimizerBase`]),
/// its variables ([`Optimizer::build`]), its rule ([`Optimizer::update_step`]) and its own
/// config keys; everything else is provided.
///
/// A user optimizer, registered so its configs load:
///
/// ```
/// use keras::prelude::*;
/// use keras::optimizers::{Builder, OptimizerBase, Slots};
/// use keras::serialization::{json, Config};
///
/// /// Gradient descent with a velocity that halves every step.
/// struct Halving { base: OptimizerBase }
/// impl Optimizer for Halving {
///     fn class_name(&self) -> &str { "Halving" }
///     fn base(&self) -> &OptimizerBase { &self.base }
///     fn base_mut(&mut self) -> &mut OptimizerBase { &mut self.base }
///     fn build(&self, b: &mut Builder, weights: &[keras::engine::Weight]) -> keras::Result<()> {
///         b.add_optimizer_variables(weights, &["velocity"]);
///         Ok(())
///     }
///     fn update_step(&self, s: &mut Slots, g: &Tensor, var: &Tensor, lr: f64) -> keras::Result<Tensor> {
///         let v = ((s.get("velocity")? * 0.5)? + (g * lr)?)?;
///         s.set("velocity", &v)?;
///         Ok((var - v)?)
///     }
///     fn own_config(&self) -> Config { Config::new() }
/// }
///
/// let dense = Dense::new(1).use_bias(false).into_layer();
/// dense.build(&[Shape::batched(&[1])])?;
/// let w = dense.weights()[0].clone();
/// w.assign(&Tensor::new(&[[1f32]], &Device::Cpu)?)?;
/// let mut opt = Halving { base: OptimizerBase::new("Halving", 0.1) };
/// for _ in 0..2 {
///     opt.apply_gradients(&[(Tensor::new(&[[1f32]], &Device::Cpu)?, w.clone())])?;
/// }
/// // 1 - 0.1 - (0.05 + 0.1)
/// assert!((w.numpy()?.to_vec2::<f32>()?[0][0] - 0.75).abs() < 1e-6);
/// assert_eq!(opt.variables_for(&w)?.len(), 1);
/// # Ok::<(), keras::Error>(())
/// ```
pub trait Optimizer: Send {
    /// Keras's class name (`Adam`, `SGD`, ...), as configs name it.
    fn class_name(&self) -> &str;
    /// The shared settings and state.
    fn base(&self) -> &OptimizerBase;
    /// The shared settings and state, mutable.
    fn base_mut(&mut self) -> &mut OptimizerBase;
    /// Declares the optimizer variables of `weights` (Keras's `build`), in Keras's order.
    fn build(&self, b: &mut Builder, weights: &[Weight]) -> Result<()>;
    /// The rule for one weight (Keras's `update_step`): its variables are in `slots`, the
    /// gradient already unscaled, accumulated and clipped, `variable` already decayed.
    /// Returns the new value of the weight.
    fn update_step(
        &self,
        slots: &mut Slots,
        gradient: &Tensor,
        variable: &Tensor,
        learning_rate: f64,
    ) -> Result<Tensor>;
    /// The class's own `get_config` keys (besides the base ones).
    fn own_config(&self) -> Config;

    /// The optimizer's name (`adam`, `adam_1`, ..., or the one it was given).
    fn name(&self) -> &str {
        &self.base().name
    }

    /// The class's own argument checks (Keras's constructor errors); none by default.
    fn check_args(&self) -> Result<()> {
        Ok(())
    }

    /// Every argument check, the base's and the class's (done before each step and when
    /// compiling).
    fn validate(&self) -> Result<()> {
        self.base().validate(self.class_name())?;
        self.check_args()
    }

    /// The fused CPU rule for the next update, if the class has one (`iterations`: updates
    /// applied so far).
    fn fused_rule(&self, _learning_rate: f64, _iterations: u64) -> Option<Update> {
        None
    }

    /// Runs once per update before the weights' `update_step`s, on the optimizer's shared
    /// variables (Nadam's `u_product`; Keras's `_backend_update_step`).
    fn begin_update(&self, _shared: &mut Slots) -> Result<()> {
        Ok(())
    }

    /// The weight decay for `w` (Muon's differs for its Adam weights).
    fn weight_decay_for(&self, _w: &Weight) -> Option<f64> {
        self.base().weight_decay
    }

    /// The current learning rate (a schedule's value at the step counter).
    fn get_learning_rate(&self) -> f64 {
        self.base().current_learning_rate()
    }

    /// Changes a float learning rate (as callbacks such as `ReduceLROnPlateau` do); an
    /// optimizer with a schedule keeps it and warns (see
    /// [`Optimizer::try_set_learning_rate`]).
    fn set_learning_rate(&mut self, lr: f64) {
        if let Err(e) = self.try_set_learning_rate(lr) {
            eprintln!("WARNING: {e}");
        }
    }

    /// Changes a float learning rate; an optimizer created with a schedule refuses, as Keras.
    fn try_set_learning_rate(&mut self, lr: f64) -> Result<()> {
        match &mut self.base_mut().learning_rate {
            LearningRate::Value(v) => {
                *v = lr;
                Ok(())
            }
            LearningRate::Schedule(_) => Err(Error::value(
                "This optimizer was created with a `LearningRateSchedule` object as its \
                 `learning_rate` constructor argument, hence its learning rate is not settable. \
                 If you need the learning rate to be settable, you should instantiate the \
                 optimizer with a float `learning_rate` argument.",
            )),
        }
    }

    /// Keras's `optimizer.iterations`: updates applied so far.
    fn iterations(&self) -> u64 {
        self.base().keras_iterations()
    }

    /// Sets the step counter (Keras's `_iterations`, counting accumulation steps), as
    /// loading a saved optimizer does.
    fn set_iterations(&mut self, n: u64) {
        self.base_mut().iterations = n;
    }

    /// Applies one step: updates every weight from its gradient (Keras's `apply_gradients`).
    fn apply_gradients(&mut self, grads_and_vars: &[(Tensor, Weight)]) -> Result<()> {
        apply::apply_gradients(self, grads_and_vars)
    }

    /// Multiplies the loss by `loss_scale_factor` before gradients are taken (Keras's
    /// `scale_loss`; the step divides the gradients by it again).
    fn scale_loss(&self, loss: &Tensor) -> Result<Tensor> {
        Ok(match self.base().loss_scale_factor {
            Some(s) => (loss * s)?,
            None => loss.clone(),
        })
    }

    /// With EMA, overwrites the weights with their moving averages (Keras's
    /// `finalize_variable_values`, run at the end of `fit`).
    fn finalize_variable_values(&mut self, weights: &[Weight]) -> Result<()> {
        if !self.base().use_ema {
            return Ok(());
        }
        let state = &self.base().state;
        for w in weights {
            let avg = state
                .weights
                .get(&w.id())
                .and_then(|ws| ws.base.iter().find(|(n, _)| n == "average"));
            if let Some((_, a)) = avg {
                w.var().set(&a.tensor()?.to_dtype(w.dtype())?)?;
            }
        }
        Ok(())
    }

    /// The optimizer variables of one weight (EMA average, accumulator, then the rule's),
    /// in declaration order; none before the weight's first step.
    fn variables_for(&self, w: &Weight) -> Result<Vec<Tensor>> {
        match self.base().state.weights.get(&w.id()) {
            Some(ws) => ws
                .base
                .iter()
                .chain(&ws.own)
                .map(|(_, s)| s.tensor())
                .collect(),
            None => Ok(vec![]),
        }
    }

    /// Replaces the optimizer variables of one weight (the order of
    /// [`Optimizer::variables_for`]), building them first if needed.
    fn set_variables_for(&mut self, w: &Weight, values: &[Tensor]) -> Result<()> {
        apply::build_new(self, std::slice::from_ref(w))?;
        let ws = self
            .base_mut()
            .state
            .weights
            .get_mut(&w.id())
            .ok_or_else(|| Error::value("optimizer not built"))?;
        let n = ws.base.len() + ws.own.len();
        if values.len() != n {
            return Err(Error::value(format!(
                "'{}' has {n} optimizer variables; received {}",
                w.path(),
                values.len()
            )));
        }
        for ((_, s), v) in ws.base.iter_mut().chain(ws.own.iter_mut()).zip(values) {
            s.set(v)?;
        }
        Ok(())
    }

    /// Keras's `optimizer.variables` for `weights` (the model's trainable weights): the step
    /// counter, the learning rate when a float, then every declared variable in order (their
    /// initial values for weights not updated yet). What `.keras` / `.weights.h5` files
    /// hold under `optimizer/vars`.
    fn save_own_variables(&self, weights: &[Weight]) -> Result<Vec<Tensor>> {
        layout::variables(self, weights)
    }

    /// Sets every variable from values in [`Optimizer::save_own_variables`]'s order; a file
    /// with a different number is skipped with Keras's warning.
    fn load_own_variables(&mut self, weights: &[Weight], values: &[Tensor]) -> Result<()> {
        layout::set_variables(self, weights, values)
    }

    /// The optimizer a wrapper wraps (`LossScaleOptimizer`'s `inner_optimizer`).
    fn inner_optimizer(&self) -> Option<&dyn Optimizer> {
        None
    }

    /// Keras's serialized optimizer: `{module, class_name, config, registered_name}`.
    fn get_config(&self) -> Value {
        let mut c = self.base().config();
        c.extend(self.own_config());
        object("keras.optimizers", self.class_name(), Value::Object(c))
    }

    /// Number of scalars of optimizer state and their size in bytes (for `summary`): the
    /// step counter, a float learning rate and every variable, once built.
    fn state_size(&self) -> (usize, f64) {
        let base = self.base();
        if !base.is_built() {
            return (0, 0.0);
        }
        let (n, bytes) = base.state.size();
        let lr = usize::from(matches!(base.learning_rate, LearningRate::Value(_)));
        (n + 1 + lr, bytes + 4.0 * (1 + lr) as f64)
    }
}
