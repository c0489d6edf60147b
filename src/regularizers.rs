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
