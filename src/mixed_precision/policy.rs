//! `DTypePolicy` (Keras's `keras/src/dtype_policies/dtype_policy.py`): a compute dtype and a
//! variable dtype, by name; the process-wide policy new layers take; and the autocast scope
//! a mixed layer's call runs in.

use crate::ops::{dtype_from_name, dtype_name, DType};
use crate::{Error, Result};
use std::cell::Cell;
use std::sync::RwLock;

/// A dtype policy: the dtype a layer computes in and the dtype of its variables.
///
/// ```
/// use keras::mixed_precision::DTypePolicy;
/// use keras::DType;
/// let p = DTypePolicy::new("mixed_float16")?;
/// assert_eq!((p.compute_dtype(), p.variable_dtype()), (DType::F16, DType::F32));
/// assert!(DTypePolicy::new("int32").is_err());
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DTypePolicy {
    name: String,
    compute: DType,
    variable: DType,
}

impl DTypePolicy {
    /// `"mixed_float16"`, `"mixed_bfloat16"`, or a float dtype (`"float32"`, `"bfloat16"`,
    /// ...) for both; anything else is Keras's error.
    pub fn new(name: &str) -> Result<DTypePolicy> {
        let (compute, variable) = match name {
            "mixed_float16" => (DType::F16, DType::F32),
            "mixed_bfloat16" => (DType::BF16, DType::F32),
            _ => match dtype_from_name(name) {
                Ok(d) if matches!(d, DType::F16 | DType::BF16 | DType::F32 | DType::F64) => (d, d),
                _ => {
                    return Err(Error::value(format!(
                        "Cannot convert '{name}' to a mixed precision DTypePolicy. Valid \
                         policies include 'mixed_float16', 'mixed_bfloat16', and the name of \
                         any float dtype such as 'float32'."
                    )))
                }
            },
        };
        Ok(DTypePolicy {
            name: name.to_string(),
            compute,
            variable,
        })
    }

    /// The policy's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The dtype layers compute in.
    pub fn compute_dtype(&self) -> DType {
        self.compute
    }

    /// The dtype of layers' variables.
    pub fn variable_dtype(&self) -> DType {
        self.variable
    }

    /// Whether compute and variables differ (a `mixed_*` policy).
    pub fn is_mixed(&self) -> bool {
        self.compute != self.variable
    }
}

impl std::fmt::Display for DTypePolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<DTypePolicy \"{}\">", self.name)
    }
}

static GLOBAL: RwLock<Option<DTypePolicy>> = RwLock::new(None);

/// The policy layers made from now on take when given no `dtype` (Keras's
/// `keras.mixed_precision.set_global_policy`, `keras.config.set_dtype_policy`).
///
/// ```
/// keras::mixed_precision::set_global_policy("mixed_float16")?;
/// assert_eq!(keras::mixed_precision::global_policy().name(), "mixed_float16");
/// keras::mixed_precision::set_global_policy("float32")?;
/// assert!(keras::mixed_precision::set_global_policy("mixed_int8").is_err());
/// # Ok::<(), keras::Error>(())
/// ```
pub fn set_global_policy(name: &str) -> Result<()> {
    let p = DTypePolicy::new(name)?;
    *GLOBAL.write().unwrap_or_else(|e| e.into_inner()) = Some(p);
    Ok(())
}

/// The process-wide policy (`float32` unless [`set_global_policy`] changed it).
pub fn global_policy() -> DTypePolicy {
    GLOBAL
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .unwrap_or_else(|| DTypePolicy {
            name: dtype_name(DType::F32).to_string(),
            compute: DType::F32,
            variable: DType::F32,
        })
}

thread_local! {
    static AUTOCAST: Cell<Option<DType>> = const { Cell::new(None) };
}

/// The dtype float variables are read in on this thread now: a mixed layer's compute dtype
/// during its call, otherwise `None`.
pub fn autocast_dtype() -> Option<DType> {
    AUTOCAST.with(Cell::get)
}

/// Sets [`autocast_dtype`] until dropped (Keras's `AutocastScope`); `None` turns it off (a
/// layer that computes in its variables' dtype inside a mixed one).
pub(crate) struct AutocastScope(Option<DType>);

impl AutocastScope {
    pub(crate) fn new(dtype: Option<DType>) -> AutocastScope {
        AutocastScope(AUTOCAST.with(|a| a.replace(dtype)))
    }
}

impl Drop for AutocastScope {
    fn drop(&mut self) {
        AUTOCAST.with(|a| a.set(self.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_as_keras_does() {
        let p = DTypePolicy::new("mixed_bfloat16").unwrap();
        assert!(p.is_mixed());
        assert_eq!(p.to_string(), "<DTypePolicy \"mixed_bfloat16\">");
        let f = DTypePolicy::new("float64").unwrap();
        assert_eq!(
            (f.compute_dtype(), f.variable_dtype()),
            (DType::F64, DType::F64)
        );
        let e = DTypePolicy::new("mixed_int8").unwrap_err().to_string();
        assert!(
            e.starts_with("Cannot convert 'mixed_int8' to a mixed precision"),
            "{e}"
        );
    }

    #[test]
    fn autocast_scopes_nest() {
        assert_eq!(autocast_dtype(), None);
        {
            let _a = AutocastScope::new(Some(DType::BF16));
            assert_eq!(autocast_dtype(), Some(DType::BF16));
            {
                let _b = AutocastScope::new(None);
                assert_eq!(autocast_dtype(), None);
            }
            assert_eq!(autocast_dtype(), Some(DType::BF16));
        }
        assert_eq!(autocast_dtype(), None);
    }
}
