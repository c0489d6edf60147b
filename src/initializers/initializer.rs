//! The initializer trait (Keras's `keras/src/initializers/initializer.py`), the
//! name-or-value argument layers take, and both directions of their config: an initializer
//! serializes itself ([`InitializerArg::serialize`]) and a config reads one
//! ([`Cfg::initializer`]).
//!
//! ```
//! use keras::initializers::InitializerArg;
//! use keras::serialization::{config, json, Cfg};
//! let v = InitializerArg::from("he_normal").serialize()?;
//! assert_eq!(v["class_name"], "HeNormal");
//! let map = config(json!({ "kernel_initializer": v }));
//! let back = Cfg::new("Dense", &map).initializer("kernel_initializer", "zeros")?;
//! assert_eq!(back.resolve()?.class_name(), "HeNormal");
//! # Ok::<(), keras::Error>(())
//! ```

use crate::ops::{DType, Tensor};
use crate::serialization::{Cfg, Value};
use crate::{Error, Result};
use std::sync::Arc;

/// Makes the initial value of a weight (implemented by the initializers of this module, or by
/// a program's own type).
pub trait Initialize: Send + Sync {
    /// A tensor of `shape` and `dtype` on the CPU.
    fn init(&self, shape: &[usize], dtype: DType) -> Result<Tensor>;
    /// The Keras class name, e.g. `GlorotUniform` (for summaries and configs).
    fn class_name(&self) -> String;
    /// Its Keras config (`{"mean": 0.0, "stddev": 0.05, "seed": null}`); empty by default.
    fn config(&self) -> serde_json::Map<String, serde_json::Value> {
        serde_json::Map::new()
    }
}

/// An initializer given by name or by value, for builder methods.
#[derive(Clone)]
pub struct InitializerArg(pub(crate) std::result::Result<Arc<dyn Initialize>, String>);

impl InitializerArg {
    /// The initializer, or the error for an unknown name.
    pub fn resolve(&self) -> Result<Arc<dyn Initialize>> {
        match &self.0 {
            Ok(i) => Ok(i.clone()),
            Err(n) => super::get(n),
        }
    }

    /// The initializer as Keras serializes it (`{module, class_name, config, ...}`); an
    /// unknown name is the error [`InitializerArg::resolve`] gives.
    ///
    /// ```
    /// let v = keras::initializers::InitializerArg::from("zeros").serialize()?;
    /// assert_eq!(v["class_name"], "Zeros");
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn serialize(&self) -> Result<Value> {
        Ok(super::serialize(self.resolve()?.as_ref()))
    }
}

impl From<&str> for InitializerArg {
    fn from(s: &str) -> Self {
        InitializerArg(super::get(s).map_err(|_| s.to_string()))
    }
}

impl<I: Initialize + 'static> From<I> for InitializerArg {
    fn from(i: I) -> Self {
        InitializerArg(Ok(Arc::new(i)))
    }
}

impl Cfg<'_> {
    /// The initializer at `key` (a name or a serialized object), or `default` (a name) when
    /// absent; errors name the class and the key.
    ///
    /// ```
    /// use keras::serialization::{config, json, Cfg};
    /// let map = config(json!({ "kernel_initializer": "nope" }));
    /// let e = Cfg::new("Dense", &map).initializer("kernel_initializer", "zeros").err().unwrap();
    /// assert!(e.to_string().contains("Dense: config key 'kernel_initializer'"), "{e}");
    /// ```
    pub fn initializer(&self, key: &str, default: &str) -> Result<InitializerArg> {
        let init = match self.get(key) {
            None => super::get(default),
            Some(v) => super::from_config(v),
        }
        .map_err(|e| Error::value(format!("{}: config key '{key}': {e}", self.class)))?;
        Ok(InitializerArg(Ok(init)))
    }
}
