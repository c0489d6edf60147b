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
mod ftrl;
mod lamb;
mod lion;
mod loss_scale_optimizer;
mod muon;
mod nadam;
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
pub use ftrl::Ftrl;
pub use lamb::Lamb;
pub use lion::Lion;
pub use loss_scale_optimizer::LossScaleOptimizer;
pub use muon::Muon;
pub use nadam::Nadam;
pub use rmsprop::RMSprop;
pub use sgd::SGD;
pub use state::{Builder, Slots, VariableSpec};

use crate::engine::Weight;
use crate::ops::{Tensor, Update};
use crate::saving::object_registration::{
    closest, deserialize, deserialize_object, registered_names, Builtins, Registrable,
};
use crate::serialization::{object, Cfg, Config, Value};
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
        apply::variables(self, weights)
    }

    /// Sets every variable from values in [`Optimizer::save_own_variables`]'s order; a file
    /// with a different number is skipped with Keras's warning.
    fn load_own_variables(&mut self, weights: &[Weight], values: &[Tensor]) -> Result<()> {
        apply::set_variables(self, weights, values)
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

impl Registrable for Box<dyn Optimizer> {
    const KIND: &'static str = "optimizer";
    fn register_builtins(r: &mut Builtins<Self>) {
        r.add("Adadelta", boxed(Adadelta::from_config));
        r.add("Adafactor", boxed(Adafactor::from_config));
        r.add("Adagrad", boxed(Adagrad::from_config));
        r.add("Adam", boxed(Adam::from_config));
        r.add("AdamW", boxed(AdamW::from_config));
        r.add("Adamax", boxed(Adamax::from_config));
        r.add("Ftrl", boxed(Ftrl::from_config));
        r.add("Lamb", boxed(Lamb::from_config));
        r.add("Lion", boxed(Lion::from_config));
        r.add("LossScaleOptimizer", boxed(LossScaleOptimizer::from_config));
        r.add("Muon", boxed(Muon::from_config));
        r.add("Nadam", boxed(Nadam::from_config));
        r.add("RMSprop", boxed(RMSprop::from_config));
        r.add("SGD", boxed(SGD::from_config));
    }
}

fn boxed<O: Optimizer + 'static>(
    f: fn(&Cfg) -> Result<O>,
) -> impl Fn(&Cfg) -> Result<Box<dyn Optimizer>> {
    move |c| {
        let o = f(c)?;
        o.validate()?;
        Ok(Box::new(o))
    }
}

/// The registered class a name means, case-insensitively (Keras's `optimizers.get` and
/// `deserialize` accept `"adam"` for `Adam`).
fn resolve_class(name: &str) -> Option<String> {
    let names = registered_names::<Box<dyn Optimizer>>();
    if names.iter().any(|n| n == name) {
        return Some(name.to_string());
    }
    names.into_iter().find(|n| n.eq_ignore_ascii_case(name))
}

/// The optimizer a Keras config describes (`{class_name, config}`, as in a `.keras` file's
/// `compile_config`; built-in or registered class), or a name.
///
/// ```
/// use keras::serialization::json;
/// let opt = keras::optimizers::from_config(&json!({
///     "class_name": "SGD", "config": {"learning_rate": 0.1, "momentum": 0.9}}))?;
/// assert_eq!(opt.get_config()["config"]["momentum"], 0.9);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn from_config(v: &Value) -> Result<Box<dyn Optimizer>> {
    if let Some(name) = v.as_str() {
        return get(name);
    }
    let class = v.get("class_name").and_then(Value::as_str).unwrap_or("");
    let registered = v.get("registered_name").and_then(Value::as_str);
    match resolve_class(class) {
        Some(c) if c != class && registered.is_none() => {
            let mut v = v.clone();
            v["class_name"] = Value::String(c);
            deserialize_object::<Box<dyn Optimizer>>(&v)
        }
        _ => deserialize_object::<Box<dyn Optimizer>>(v),
    }
}

/// An optimizer by name (case-insensitive class name: `"adam"`, `"rmsprop"`, `"nadam"`), with
/// Keras's defaults (Keras's `optimizers.get`).
///
/// ```
/// let opt = keras::optimizers::get("Adafactor")?;
/// assert_eq!(opt.class_name(), "Adafactor");
/// let e = keras::optimizers::get("nadm").err().unwrap().to_string();
/// assert!(e.contains("Did you mean 'nadam'") && e.contains("rmsprop, sgd"), "{e}");
/// # Ok::<(), keras::Error>(())
/// ```
pub fn get(name: &str) -> Result<Box<dyn Optimizer>> {
    match resolve_class(name) {
        Some(class) => deserialize::<Box<dyn Optimizer>>(&class, &Config::new()),
        None => {
            let valid: Vec<String> = names().iter().map(|n| n.to_lowercase()).collect();
            let near = closest(name, &valid, 3);
            let hint = if near.is_empty() {
                String::new()
            } else {
                let q: Vec<String> = near.iter().map(|n| format!("'{n}'")).collect();
                format!(" Did you mean {}?", q.join(", "))
            };
            Err(Error::value(format!(
                "Could not interpret optimizer identifier: {name}.{hint} Valid optimizers are: {}",
                valid.join(", ")
            )))
        }
    }
}

/// Every optimizer class name [`get`] and [`from_config`] know (built-in and registered).
pub fn names() -> Vec<String> {
    registered_names::<Box<dyn Optimizer>>()
}

/// An optimizer given by name or value (for `compile`).
pub enum OptimizerArg {
    /// By Keras name.
    Name(String),
    /// An optimizer object.
    Value(Box<dyn Optimizer>),
}

impl OptimizerArg {
    /// The optimizer (its arguments checked), or the error for an unknown name or a bad
    /// argument.
    pub fn resolve(self) -> Result<Box<dyn Optimizer>> {
        let o = match self {
            OptimizerArg::Name(n) => get(&n)?,
            OptimizerArg::Value(o) => o,
        };
        o.validate()?;
        Ok(o)
    }
}

impl From<&str> for OptimizerArg {
    fn from(s: &str) -> Self {
        OptimizerArg::Name(s.to_string())
    }
}

impl<O: Optimizer + 'static> From<O> for OptimizerArg {
    fn from(o: O) -> Self {
        OptimizerArg::Value(Box::new(o))
    }
}

impl From<Box<dyn Optimizer>> for OptimizerArg {
    fn from(o: Box<dyn Optimizer>) -> Self {
        OptimizerArg::Value(o)
    }
}
