//! What every optimizer shares (Keras's `BaseOptimizer` arguments): the learning rate (a float
//! or a [`LearningRateSchedule`]), clipping, weight decay, EMA, gradient accumulation, loss
//! scaling, the step counter, their checks and their part of `get_config`.

use super::schedules::LearningRateSchedule;
use super::state::State;
use crate::engine::naming;
use crate::engine::Weight;
use crate::saving::object_registration::deserialize_object;
use crate::serialization::{json, Cfg, Config, Value};
use crate::{Error, Result};
use std::collections::HashSet;

/// An optimizer's learning rate: a float, or a schedule of the step counter.
///
/// ```
/// use keras::optimizers::{LearningRate, schedules::ExponentialDecay};
/// let lr: LearningRate = 0.01.into();
/// assert_eq!(lr.at(100), 0.01);
/// let lr: LearningRate = ExponentialDecay::new(0.1, 10.0, 0.5)?.into();
/// assert!((lr.at(10) - 0.05).abs() < 1e-7);
/// # Ok::<(), keras::Error>(())
/// ```
pub enum LearningRate {
    /// A constant (Keras keeps it in a float32 `learning_rate` variable).
    Value(f64),
    /// A schedule, called with the step counter.
    Schedule(Box<dyn LearningRateSchedule>),
}

impl LearningRate {
    /// The rate at step `step`.
    pub fn at(&self, step: u64) -> f64 {
        match self {
            LearningRate::Value(v) => *v,
            LearningRate::Schedule(s) => s.call(step),
        }
    }

    /// Keras's `get_config` value: the float (as its float32 variable holds it) or the
    /// serialized schedule.
    pub fn to_config(&self) -> Value {
        match self {
            LearningRate::Value(v) => json!(*v as f32 as f64),
            LearningRate::Schedule(s) => s.get_config(),
        }
    }

    /// The rate a config holds: a number or a serialized schedule.
    pub fn from_config(v: &Value) -> Result<LearningRate> {
        match v {
            Value::Number(n) => Ok(LearningRate::Value(n.as_f64().unwrap_or(f64::NAN))),
            Value::Object(_) => Ok(LearningRate::Schedule(deserialize_object::<
                Box<dyn LearningRateSchedule>,
            >(v)?)),
            other => Err(Error::value(format!(
                "Argument `learning_rate` should be float, or an instance of LearningRateSchedule. Received instead: learning_rate={other}"
            ))),
        }
    }
}

impl std::fmt::Debug for LearningRate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LearningRate::Value(v) => write!(f, "{v}"),
            LearningRate::Schedule(s) => write!(f, "{}", s.get_config()),
        }
    }
}

impl From<f64> for LearningRate {
    fn from(v: f64) -> Self {
        LearningRate::Value(v)
    }
}

impl From<Box<dyn LearningRateSchedule>> for LearningRate {
    fn from(s: Box<dyn LearningRateSchedule>) -> Self {
        LearningRate::Schedule(s)
    }
}

impl<S: LearningRateSchedule + 'static> From<S> for LearningRate {
    fn from(s: S) -> Self {
        LearningRate::Schedule(Box::new(s))
    }
}

/// Settings every optimizer has (Keras's base-optimizer arguments) and its state.
pub struct OptimizerBase {
    /// The optimizer's name (Keras's: the snake-cased class name, made unique).
    pub name: String,
    /// Learning rate: a float or a schedule.
    pub learning_rate: LearningRate,
    /// Decoupled weight decay: `w -= w * weight_decay * lr` before each update.
    pub weight_decay: Option<f64>,
    /// Clip each gradient's L2 norm to this.
    pub clipnorm: Option<f64>,
    /// Clip each gradient value to `[-v, v]`.
    pub clipvalue: Option<f64>,
    /// Clip the global L2 norm of all gradients to this.
    pub global_clipnorm: Option<f64>,
    /// Keep an exponential moving average of the weights.
    pub use_ema: bool,
    /// `average = ema_momentum * average + (1 - ema_momentum) * weight`.
    pub ema_momentum: f64,
    /// Overwrite the weights with their average every this many updates.
    pub ema_overwrite_frequency: Option<u64>,
    /// Gradients are divided by this (the loss having been multiplied by it).
    pub loss_scale_factor: Option<f64>,
    /// Update every this many steps with the mean of their gradients.
    pub gradient_accumulation_steps: Option<u64>,
    /// Steps taken (Keras's `optimizer._iterations`, counting accumulation steps).
    pub iterations: u64,
    /// Weights whose name contains one of these get no weight decay (Keras's
    /// `exclude_from_weight_decay(var_names=...)`, as substrings).
    pub exclude_from_weight_decay: Vec<String>,
    pub(crate) exclude_ids: HashSet<u64>,
    pub(crate) use_fused: bool,
    pub(crate) state: State,
}

impl std::fmt::Debug for OptimizerBase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OptimizerBase")
            .field("name", &self.name)
            .field("learning_rate", &self.learning_rate)
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

/// Python's rendering of an optional number in messages (`None`, `0.5`).
pub(crate) fn py(v: Option<f64>) -> String {
    v.map(py_f64).unwrap_or_else(|| "None".into())
}

/// Python's rendering of a float (`1.0`, not `1`).
pub(crate) fn py_f64(v: f64) -> String {
    if v.fract() == 0.0 && v.is_finite() && v.abs() < 1e16 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

/// The keys of the base optimizer's config, in Keras's order.
pub const BASE_KEYS: &[&str] = &[
    "name",
    "learning_rate",
    "weight_decay",
    "clipnorm",
    "global_clipnorm",
    "clipvalue",
    "use_ema",
    "ema_momentum",
    "ema_overwrite_frequency",
    "loss_scale_factor",
    "gradient_accumulation_steps",
];

impl OptimizerBase {
    /// Keras's defaults for class `class_name` with this learning rate; the name is the
    /// snake-cased class name, made unique (`adam`, `adam_1`, ...).
    pub fn new(class_name: &str, learning_rate: f64) -> Self {
        OptimizerBase {
            name: naming::unique_name(&naming::to_snake_case(class_name)),
            learning_rate: LearningRate::Value(learning_rate),
            weight_decay: None,
            clipnorm: None,
            clipvalue: None,
            global_clipnorm: None,
            use_ema: false,
            ema_momentum: 0.99,
            ema_overwrite_frequency: None,
            loss_scale_factor: None,
            gradient_accumulation_steps: None,
            iterations: 0,
            exclude_from_weight_decay: vec![],
            exclude_ids: HashSet::new(),
            use_fused: true,
            state: State::default(),
        }
    }

    /// The learning rate for the next step (a schedule's value at the step counter).
    pub fn current_learning_rate(&self) -> f64 {
        self.learning_rate.at(self.iterations)
    }

    /// Keras's `optimizer.iterations`: updates applied (steps divided by
    /// `gradient_accumulation_steps` when accumulating).
    pub fn keras_iterations(&self) -> u64 {
        match self.gradient_accumulation_steps {
            Some(n) if n > 0 => self.iterations / n,
            _ => self.iterations,
        }
    }

    /// Whether any weight has been built on (variables created).
    pub fn is_built(&self) -> bool {
        !self.state.order.is_empty()
    }

    /// Keras's argument checks (and a negative learning rate or weight decay), naming the
    /// class.
    pub fn validate(&self, class: &str) -> Result<()> {
        let bad = |m: String| Err(Error::value(format!("{class}: {m}")));
        if let LearningRate::Value(lr) = self.learning_rate {
            if !lr.is_finite() || lr < 0.0 {
                return bad(format!(
                    "`learning_rate` must be a finite number >= 0. Received: learning_rate={}",
                    py_f64(lr)
                ));
            }
        }
        if let Some(wd) = self.weight_decay {
            if wd.is_nan() || wd < 0.0 {
                return bad(format!(
                    "`weight_decay` must be >= 0 or None. Received: weight_decay={}",
                    py_f64(wd)
                ));
            }
        }
        if let Some(n) = self.gradient_accumulation_steps {
            if n < 2 {
                return bad(format!(
                    "`gradient_accumulation_steps` must be an integer >= 2. Received: gradient_accumulation_steps={n}"
                ));
            }
        }
        if self.use_ema {
            if !(0.0..=1.0).contains(&self.ema_momentum) {
                return bad(format!(
                    "`ema_momentum` must be in the range [0, 1]. Received: ema_momentum={}",
                    py_f64(self.ema_momentum)
                ));
            }
            if self.ema_overwrite_frequency == Some(0) {
                return bad("`ema_overwrite_frequency` must be an integer >= 1 or None. Received: ema_overwrite_frequency=0".into());
            }
        }
        let clips = [self.clipnorm, self.clipvalue, self.global_clipnorm];
        if clips.iter().filter(|c| c.is_some()).count() > 1 {
            return bad(format!(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: clipnorm={}, clipvalue={}, global_clipnorm={}",
                py(self.clipnorm),
                py(self.clipvalue),
                py(self.global_clipnorm)
            ));
        }
        Ok(())
    }

    /// The base part of Keras's `get_config`.
    pub fn config(&self) -> Config {
        let opt = |v: Option<f64>| v.map(|v| json!(v)).unwrap_or(Value::Null);
        let int = |v: Option<u64>| v.map(|v| json!(v)).unwrap_or(Value::Null);
        let mut c = Config::new();
        c.insert("name".into(), json!(self.name));
        c.insert("learning_rate".into(), self.learning_rate.to_config());
        c.insert("weight_decay".into(), opt(self.weight_decay));
        c.insert("clipnorm".into(), opt(self.clipnorm));
        c.insert("global_clipnorm".into(), opt(self.global_clipnorm));
        c.insert("clipvalue".into(), opt(self.clipvalue));
        c.insert("use_ema".into(), json!(self.use_ema));
        c.insert("ema_momentum".into(), json!(self.ema_momentum));
        c.insert(
            "ema_overwrite_frequency".into(),
            int(self.ema_overwrite_frequency),
        );
        c.insert("loss_scale_factor".into(), opt(self.loss_scale_factor));
        c.insert(
            "gradient_accumulation_steps".into(),
            int(self.gradient_accumulation_steps),
        );
        c
    }

    /// Reads the base keys of a config (Keras's `BaseOptimizer.__init__` arguments); any key
    /// that is neither one of them nor in `own_keys` is refused, as Keras refuses unknown
    /// arguments (`decay` is ignored with a warning, as in Keras).
    pub fn read_config(&mut self, c: &Cfg, own_keys: &[&str]) -> Result<()> {
        let unknown: Vec<String> = c
            .map
            .iter()
            .filter(|(k, _)| {
                !BASE_KEYS.contains(&k.as_str()) && !own_keys.contains(&k.as_str()) && *k != "decay"
            })
            .map(|(k, v)| format!("'{k}': {v}"))
            .collect();
        if !unknown.is_empty() {
            return Err(Error::value(format!(
                "{}: Argument(s) not recognized: {{{}}}",
                c.class,
                unknown.join(", ")
            )));
        }
        if c.get("decay").is_some() {
            eprintln!("WARNING: Argument `decay` is no longer supported and will be ignored.");
        }
        if let Some(name) = c.opt_str("name")? {
            self.name = name.to_string();
        }
        if let Some(v) = c.get("learning_rate") {
            self.learning_rate = LearningRate::from_config(v)?;
        }
        // Absent keys keep the class's defaults (AdamW's and Muon's weight decay is 0.004).
        let has = |k: &str| c.map.contains_key(k);
        if has("weight_decay") {
            self.weight_decay = c.opt_f64("weight_decay")?;
        }
        if has("clipnorm") {
            self.clipnorm = c.opt_f64("clipnorm")?;
        }
        if has("global_clipnorm") {
            self.global_clipnorm = c.opt_f64("global_clipnorm")?;
        }
        if has("clipvalue") {
            self.clipvalue = c.opt_f64("clipvalue")?;
        }
        self.use_ema = c.bool_or("use_ema", self.use_ema)?;
        self.ema_momentum = c.f64_or("ema_momentum", self.ema_momentum)?;
        if has("ema_overwrite_frequency") {
            self.ema_overwrite_frequency =
                c.opt_usize("ema_overwrite_frequency")?.map(|v| v as u64);
        }
        if has("loss_scale_factor") {
            self.loss_scale_factor = c.opt_f64("loss_scale_factor")?;
        }
        if has("gradient_accumulation_steps") {
            self.gradient_accumulation_steps = c
                .opt_usize("gradient_accumulation_steps")?
                .map(|v| v as u64);
        }
        Ok(())
    }

    /// Whether weight decay applies to `w` (not excluded by name or by weight).
    pub fn uses_weight_decay(&self, w: &Weight) -> bool {
        !self.exclude_ids.contains(&w.id())
            && !self
                .exclude_from_weight_decay
                .iter()
                .any(|n| w.name().contains(n.as_str()))
    }
}

/// `base ^ exp` in the variable's float type, as Keras computes its step-dependent scalars
/// (`ops.power(ops.cast(beta_1, variable.dtype), local_step)`).
pub(crate) fn power(var: &crate::ops::Tensor, base: f64, exp: f64) -> f64 {
    if var.dtype() == crate::ops::DType::F64 {
        base.powf(exp)
    } else {
        (base as f32).powf(exp as f32) as f64
    }
}
