//! Optimizers, as `keras.optimizers`: `SGD`, `Adam`, `AdamW`, `RMSprop`, with Keras 3's
//! defaults and update rules. Each variable is updated in place in one pass over its buffer.
//!
//! ```
//! use keras::prelude::*;
//! let mut opt = Adam::new().learning_rate(0.01).clipnorm(1.0);
//! assert_eq!(opt.get_learning_rate(), 0.01);
//! opt.set_learning_rate(0.001);
//! let opt2 = keras::optimizers::get("rmsprop")?;
//! assert_eq!(opt2.get_learning_rate(), 0.001);
//! # Ok::<(), keras::Error>(())
//! ```

mod adam;
mod rmsprop;
mod sgd;

pub use adam::{Adam, AdamW};
pub use rmsprop::RMSprop;
pub use sgd::SGD;

use crate::engine::Weight;
use crate::ops::{self, Slot, Tensor, Update, UpdateArgs};
use crate::{Error, Result};
use std::collections::HashMap;

/// Settings every optimizer has (Keras's base-optimizer arguments) and its state.
#[derive(Debug, Default)]
pub struct OptimizerBase {
    /// Learning rate.
    pub learning_rate: f64,
    /// Clip each gradient's L2 norm to this.
    pub clipnorm: Option<f64>,
    /// Clip each gradient value to `[-v, v]`.
    pub clipvalue: Option<f64>,
    /// Clip the global L2 norm of all gradients to this.
    pub global_clipnorm: Option<f64>,
    /// Decoupled weight decay (`w -= w * weight_decay * lr`).
    pub weight_decay: Option<f64>,
    /// Number of steps taken.
    pub iterations: u64,
    slots: HashMap<u64, Slot>,
}

impl OptimizerBase {
    fn new(learning_rate: f64) -> Self {
        OptimizerBase {
            learning_rate,
            ..Default::default()
        }
    }
}

/// An optimizer. Implementors provide their state and their update rule; `apply_gradients`
/// does the rest (clipping, weight decay, one in-place pass per variable).
pub trait Optimizer: Send {
    /// Keras's name (`adam`, `sgd`, ...).
    fn name(&self) -> &str;
    /// The shared settings and state.
    fn base(&self) -> &OptimizerBase;
    /// The shared settings and state, mutable.
    fn base_mut(&mut self) -> &mut OptimizerBase;
    /// The update rule for the next step (`iterations + 1`), learning rate resolved.
    fn rule(&self, learning_rate: f64, step: u64) -> Update;

    /// The current learning rate.
    fn get_learning_rate(&self) -> f64 {
        self.base().learning_rate
    }

    /// Changes the learning rate (as callbacks such as `ReduceLROnPlateau` do).
    fn set_learning_rate(&mut self, lr: f64) {
        self.base_mut().learning_rate = lr;
    }

    /// Steps taken so far.
    fn iterations(&self) -> u64 {
        self.base().iterations
    }

    /// Applies one step: updates every weight from its gradient, in place.
    fn apply_gradients(&mut self, grads_and_vars: &[(Tensor, Weight)]) -> Result<()> {
        let base = self.base();
        let step = base.iterations + 1;
        let update = self.rule(base.learning_rate, step);
        let mut args = UpdateArgs {
            grad_scale: None,
            clipnorm: base.clipnorm,
            clipvalue: base.clipvalue,
            weight_decay: base.weight_decay,
        };
        if let Some(c) = base.global_clipnorm.filter(|c| *c > 0.0) {
            let mut sq = 0.0;
            for (g, _) in grads_and_vars {
                sq += ops::to_vec_f64(&g.sqr()?.sum_all()?)?[0];
            }
            let norm = sq.sqrt();
            // Keras: clip_norm * min(1/norm, 1/clip_norm); NaN/inf norms give NaN.
            args.grad_scale = Some(if norm.is_finite() {
                c * (1.0 / norm).min(1.0 / c)
            } else {
                f64::NAN
            });
        }
        let base = self.base_mut();
        for (g, w) in grads_and_vars {
            let slot = base.slots.entry(w.id()).or_default();
            ops::update_in_place(w.var(), g, &update, &args, slot)?;
        }
        base.iterations = step;
        Ok(())
    }

    /// The optimizer's state tensors for a weight (momentums, velocities), if it has any.
    fn variables_for(&self, w: &Weight) -> Result<Vec<Tensor>> {
        match self.base().slots.get(&w.id()) {
            Some(s) => s.tensors(w.var().as_tensor()),
            None => Ok(vec![]),
        }
    }

    /// Replaces the optimizer's state tensors for a weight (when loading a saved optimizer).
    fn set_variables_for(&mut self, w: &Weight, values: &[Tensor]) -> Result<()> {
        let like = w.var().as_tensor().clone();
        self.base_mut()
            .slots
            .entry(w.id())
            .or_default()
            .set_tensors(values, &like)
    }

    /// Sets the step counter (when loading a saved optimizer).
    fn set_iterations(&mut self, n: u64) {
        self.base_mut().iterations = n;
    }

    /// How Keras 3 orders this optimizer's variables after `iterations` and `learning_rate`:
    /// groups of state buffers (indices into a weight's slot) created by one
    /// `add_optimizer_variables` call, interleaved per weight within a group. Adam:
    /// `[[m, v]]` (+ `[[v_hat]]`); RMSprop: `[[velocity], [momentum], [average_gradient]]` as
    /// configured; SGD: `[[momentum]]` with momentum.
    fn keras_state_layout(&self) -> Vec<Vec<usize>> {
        match self.rule(self.get_learning_rate(), 1) {
            Update::Adam { amsgrad, .. } => {
                let mut v = vec![vec![0, 1]];
                if amsgrad {
                    v.push(vec![2]);
                }
                v
            }
            Update::Sgd { momentum, .. } => {
                if momentum != 0.0 {
                    vec![vec![0]]
                } else {
                    vec![]
                }
            }
            Update::RmsProp {
                momentum, centered, ..
            } => {
                let mut v = vec![vec![0]];
                let mut next = 1;
                if momentum > 0.0 {
                    v.push(vec![next]);
                    next += 1;
                }
                if centered {
                    v.push(vec![next]);
                }
                v
            }
        }
    }

    /// Keras's serialized optimizer: `{module, class_name, config}` with its arguments.
    fn get_config(&self) -> serde_json::Value {
        use serde_json::json;
        let b = self.base();
        let mut c = json!({
            "name": self.name(),
            "learning_rate": b.learning_rate,
            "weight_decay": b.weight_decay,
            "clipnorm": b.clipnorm,
            "global_clipnorm": b.global_clipnorm,
            "clipvalue": b.clipvalue,
        });
        let class = match self.rule(b.learning_rate, 1) {
            Update::Adam {
                beta_1,
                beta_2,
                epsilon,
                amsgrad,
                ..
            } => {
                c["beta_1"] = json!(beta_1);
                c["beta_2"] = json!(beta_2);
                c["epsilon"] = json!(epsilon);
                c["amsgrad"] = json!(amsgrad);
                if self.name() == "adamw" {
                    "AdamW"
                } else {
                    "Adam"
                }
            }
            Update::Sgd {
                momentum, nesterov, ..
            } => {
                c["momentum"] = json!(momentum);
                c["nesterov"] = json!(nesterov);
                "SGD"
            }
            Update::RmsProp {
                rho,
                momentum,
                epsilon,
                centered,
                ..
            } => {
                c["rho"] = json!(rho);
                c["momentum"] = json!(momentum);
                c["epsilon"] = json!(epsilon);
                c["centered"] = json!(centered);
                "RMSprop"
            }
        };
        crate::saving::config::object("keras.optimizers", class, c)
    }

    /// Number of scalars of optimizer state and their size in bytes (for `summary`).
    fn state_size(&self) -> (usize, f64) {
        // Keras counts an `iteration` (int32) and a `learning_rate` (float32) variable, plus
        // every slot buffer.
        let mut n = 0usize;
        let mut bytes = 0f64;
        for s in self.base().slots.values() {
            let (c, b) = s.size();
            n += c;
            bytes += b;
        }
        if self.base().slots.is_empty() {
            (0, 0.0)
        } else {
            (n + 2, bytes + 8.0)
        }
    }
}

/// Builder methods shared by every optimizer (in the prelude).
pub trait OptimizerExt: Optimizer + Sized {
    /// Sets the learning rate.
    fn learning_rate(mut self, lr: f64) -> Self {
        self.base_mut().learning_rate = lr;
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
    /// Decoupled weight decay.
    fn weight_decay(mut self, v: f64) -> Self {
        self.base_mut().weight_decay = Some(v);
        self
    }
}

impl<O: Optimizer + Sized> OptimizerExt for O {}

/// Every name [`get`] knows.
pub const NAMES: &[&str] = &["adam", "adamw", "rmsprop", "sgd"];

/// The optimizer a Keras config describes (`{class_name, config}`, as in a `.keras` file's
/// `compile_config`), or a name.
pub fn from_config(v: &serde_json::Value) -> Result<Box<dyn Optimizer>> {
    if let Some(name) = v.as_str() {
        return get(name);
    }
    let class = v.get("class_name").and_then(|c| c.as_str()).unwrap_or("");
    let empty = serde_json::Map::new();
    let cfg = v
        .get("config")
        .and_then(|c| c.as_object())
        .unwrap_or(&empty);
    let c = crate::saving::config::Cfg::new(class, cfg);
    let mut opt: Box<dyn Optimizer> = match class {
        "Adam" | "AdamW" => {
            let a = if class == "AdamW" { AdamW::new() } else { Adam::new() };
            Box::new(
                a.beta_1(c.f64_or("beta_1", 0.9)?)
                    .beta_2(c.f64_or("beta_2", 0.999)?)
                    .epsilon(c.f64_or("epsilon", 1e-7)?)
                    .amsgrad(c.bool_or("amsgrad", false)?),
            )
        }
        "SGD" => Box::new(
            SGD::new()
                .momentum(c.f64_or("momentum", 0.0)?)
                .nesterov(c.bool_or("nesterov", false)?),
        ),
        "RMSprop" => Box::new(
            RMSprop::new()
                .rho(c.f64_or("rho", 0.9)?)
                .momentum(c.f64_or("momentum", 0.0)?)
                .epsilon(c.f64_or("epsilon", 1e-7)?)
                .centered(c.bool_or("centered", false)?),
        ),
        other => {
            return Err(Error::value(format!(
                "Could not interpret optimizer identifier: {other}. keras-rs has Adam, AdamW, SGD and RMSprop"
            )))
        }
    };
    let b = opt.base_mut();
    if let Some(lr) = cfg.get("learning_rate").and_then(|v| v.as_f64()) {
        b.learning_rate = lr;
    }
    b.weight_decay = c.opt_f64("weight_decay")?.or(b.weight_decay);
    b.clipnorm = c.opt_f64("clipnorm")?;
    b.global_clipnorm = c.opt_f64("global_clipnorm")?;
    b.clipvalue = c.opt_f64("clipvalue")?;
    Ok(opt)
}

/// An optimizer by Keras name, with Keras's defaults.
pub fn get(name: &str) -> Result<Box<dyn Optimizer>> {
    Ok(match name.to_lowercase().as_str() {
        "sgd" => Box::new(SGD::new()),
        "adam" => Box::new(Adam::new()),
        "adamw" => Box::new(AdamW::new()),
        "rmsprop" => Box::new(RMSprop::new()),
        _ => {
            return Err(Error::value(format!(
                "Could not interpret optimizer identifier: {name}. Valid optimizers are: {}",
                NAMES.join(", ")
            )))
        }
    })
}

/// An optimizer given by name or value (for `compile`).
pub enum OptimizerArg {
    /// By Keras name.
    Name(String),
    /// An optimizer object.
    Value(Box<dyn Optimizer>),
}

impl OptimizerArg {
    /// The optimizer, or the error for an unknown name.
    pub fn resolve(self) -> Result<Box<dyn Optimizer>> {
        match self {
            OptimizerArg::Name(n) => get(&n),
            OptimizerArg::Value(o) => Ok(o),
        }
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
