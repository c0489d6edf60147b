//! Weight regularizers, as `keras.regularizers`: penalties added to the training loss.
//!
//! ```
//! use keras::prelude::*;
//! let layer = Dense::new(4).kernel_regularizer(keras::regularizers::L2::new(0.01));
//! let _ = layer;
//! let r = keras::regularizers::get("l1_l2")?;
//! # Ok::<(), keras::Error>(())
//! ```

use crate::engine::Penalize;
use crate::ops::Tensor;
use crate::serialization::{Cfg, Value};
use crate::{Error, Result};
use std::sync::Arc;

/// `l1 * sum(|w|) + l2 * sum(w^2)`; Keras's `L1L2` (defaults 0, 0).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct L1L2 {
    /// Factor of the absolute values.
    pub l1: f64,
    /// Factor of the squares.
    pub l2: f64,
}

impl L1L2 {
    /// Both factors.
    pub fn new(l1: f64, l2: f64) -> Self {
        L1L2 { l1, l2 }
    }
}

/// `l1 * sum(|w|)`; Keras's `L1` (default 0.01).
pub struct L1;
impl L1 {
    /// An L1 penalty.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(l1: f64) -> L1L2 {
        L1L2 { l1, l2: 0.0 }
    }
}

/// `l2 * sum(w^2)`; Keras's `L2` (default 0.01).
pub struct L2;
impl L2 {
    /// An L2 penalty.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(l2: f64) -> L1L2 {
        L1L2 { l1: 0.0, l2 }
    }
}

impl Penalize for L1L2 {
    fn penalty(&self, w: &Tensor) -> Result<Tensor> {
        crate::ops::l1_l2_penalty(w, self.l1, self.l2)
    }
    fn get_config(&self) -> Option<serde_json::Value> {
        let (class, config) = match (self.l1, self.l2) {
            (l1, l2) if l2 == 0.0 && l1 != 0.0 => ("L1", serde_json::json!({ "l1": l1 })),
            (l1, l2) if l1 == 0.0 && l2 != 0.0 => ("L2", serde_json::json!({ "l2": l2 })),
            (l1, l2) => ("L1L2", serde_json::json!({ "l1": l1, "l2": l2 })),
        };
        Some(serde_json::json!({
            "module": "keras.regularizers",
            "class_name": class,
            "config": config,
            "registered_name": null,
        }))
    }
}

/// The regularizer a Keras config describes: a name (`"l2"`) or a serialized object
/// (`{"class_name": "L2", "config": {"l2": 0.01}}`).
///
/// ```
/// use keras::regularizers::{from_config, L2};
/// use keras::engine::Penalize;
/// let v = L2::new(0.003).get_config().unwrap();
/// assert_eq!(v["class_name"], "L2");
/// assert_eq!(from_config(&v)?.get_config().unwrap(), v);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn from_config(v: &serde_json::Value) -> Result<Arc<dyn Penalize>> {
    if let Some(name) = v.as_str() {
        return get(name);
    }
    let class = v.get("class_name").and_then(|c| c.as_str()).unwrap_or("");
    let f = |key: &str, default: f64| -> Result<f64> {
        match v.get("config").and_then(|c| c.get(key)) {
            None | Some(serde_json::Value::Null) => Ok(default),
            Some(x) => x.as_f64().ok_or_else(|| {
                Error::value(format!(
                    "{class}: config key '{key}' should be a number; received {x}"
                ))
            }),
        }
    };
    Ok(Arc::new(match class {
        "L1" => L1::new(f("l1", 0.01)?),
        "L2" => L2::new(f("l2", 0.01)?),
        "L1L2" => L1L2::new(f("l1", 0.0)?, f("l2", 0.0)?),
        other => {
            return Err(Error::value(format!(
                "Could not interpret regularizer: {other}. keras-rs knows L1, L2 and L1L2"
            )))
        }
    }))
}

/// A regularizer by Keras name (`l1`, `l2`, `l1_l2`), with Keras's default factors.
pub fn get(name: &str) -> Result<Arc<dyn Penalize>> {
    Ok(Arc::new(match name {
        "l1" | "L1" => L1::new(0.01),
        "l2" | "L2" => L2::new(0.01),
        "l1_l2" | "L1L2" => L1L2::new(0.0, 0.0),
        _ => {
            return Err(Error::value(format!(
                "Could not interpret regularizer identifier: {name}. Valid regularizers are: l1, l2, l1_l2"
            )))
        }
    }))
}

/// A regularizer given by name or by value, for builder methods.
pub struct RegularizerArg(pub(crate) std::result::Result<Arc<dyn Penalize>, String>);

impl RegularizerArg {
    /// The regularizer, or the error for an unknown name.
    pub fn resolve(&self) -> Result<Arc<dyn Penalize>> {
        match &self.0 {
            Ok(r) => Ok(r.clone()),
            Err(n) => get(n),
        }
    }
}

/// A layer's optional regularizer as Keras serializes it (Keras's `regularizers.serialize`):
/// its object, or `null` when there is none. A penalty with no Keras config is an error.
///
/// ```
/// use keras::regularizers::{serialize, RegularizerArg, L2};
/// assert!(serialize(None)?.is_null());
/// assert_eq!(serialize(Some(&RegularizerArg::from(L2::new(0.1))))?["class_name"], "L2");
/// # Ok::<(), keras::Error>(())
/// ```
pub fn serialize(r: Option<&RegularizerArg>) -> Result<Value> {
    match r {
        None => Ok(Value::Null),
        Some(r) => r.resolve()?.get_config().ok_or_else(|| {
            Error::value("this regularizer has no Keras config; only L1, L2 and L1L2 can be saved")
        }),
    }
}

impl Cfg<'_> {
    /// The regularizer at `key` (a name or a serialized object), if present; errors name the
    /// class and the key.
    ///
    /// ```
    /// use keras::serialization::{config, json, Cfg};
    /// let map = config(json!({ "kernel_regularizer": "l2", "bias_regularizer": null }));
    /// let c = Cfg::new("Dense", &map);
    /// assert!(c.regularizer("kernel_regularizer")?.is_some());
    /// assert!(c.regularizer("bias_regularizer")?.is_none());
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn regularizer(&self, key: &str) -> Result<Option<RegularizerArg>> {
        self.get(key)
            .map(|v| {
                from_config(v)
                    .map(|r| RegularizerArg(Ok(r)))
                    .map_err(|e| Error::value(format!("{}: config key '{key}': {e}", self.class)))
            })
            .transpose()
    }
}

impl From<&str> for RegularizerArg {
    fn from(s: &str) -> Self {
        RegularizerArg(get(s).map_err(|_| s.to_string()))
    }
}

impl From<L1L2> for RegularizerArg {
    fn from(r: L1L2) -> Self {
        RegularizerArg(Ok(Arc::new(r)))
    }
}
