//! Data given to `fit` / `evaluate` / `predict`: one array, a list (one per model input or
//! output, in order) or a map keyed by input / output name; batching and splitting.

use crate::ops::Tensor;
use crate::{Error, Result};
use std::collections::HashMap;

/// Model inputs or targets: one tensor, a list in order, or a map by name.
///
/// ```
/// use keras::prelude::*;
/// use keras::trainers::Data;
/// let a = Tensor::zeros((4, 2), DType::F32, &Device::Cpu)?;
/// let one: Data = (&a).into();
/// let list: Data = vec![a.clone(), a.clone()].into();
/// let named: Data = vec![("text", a.clone()), ("question", a)].into();
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Debug)]
pub enum Data {
    /// A single array.
    One(Tensor),
    /// One array per input (or output), in order.
    List(Vec<Tensor>),
    /// Arrays by input (or output) name.
    Named(Vec<(String, Tensor)>),
}

impl From<Tensor> for Data {
    fn from(t: Tensor) -> Self {
        Data::One(t)
    }
}
impl From<&Tensor> for Data {
    fn from(t: &Tensor) -> Self {
        Data::One(t.clone())
    }
}
impl From<Vec<Tensor>> for Data {
    fn from(v: Vec<Tensor>) -> Self {
        Data::List(v)
    }
}
impl From<&[Tensor]> for Data {
    fn from(v: &[Tensor]) -> Self {
        Data::List(v.to_vec())
    }
}
impl<const N: usize> From<[Tensor; N]> for Data {
    fn from(v: [Tensor; N]) -> Self {
        Data::List(v.to_vec())
    }
}
impl From<Vec<(&str, Tensor)>> for Data {
    fn from(v: Vec<(&str, Tensor)>) -> Self {
        Data::Named(v.into_iter().map(|(k, t)| (k.to_string(), t)).collect())
    }
}
impl<const N: usize> From<[(&str, Tensor); N]> for Data {
    fn from(v: [(&str, Tensor); N]) -> Self {
        Data::Named(v.into_iter().map(|(k, t)| (k.to_string(), t)).collect())
    }
}
impl From<crate::data::TensorMap> for Data {
    fn from(m: crate::data::TensorMap) -> Self {
        Data::Named(m.into_vec())
    }
}
impl From<&crate::data::TensorMap> for Data {
    fn from(m: &crate::data::TensorMap) -> Self {
        Data::Named(m.clone().into_vec())
    }
}
impl From<HashMap<String, Tensor>> for Data {
    fn from(m: HashMap<String, Tensor>) -> Self {
        Data::Named(m.into_iter().collect())
    }
}

impl Data {
    /// The same arrays on `device` (each moved only if it is elsewhere).
    ///
    /// ```
    /// use keras::prelude::*;
    /// use keras::trainers::Data;
    /// let d = Data::from(Tensor::zeros((2, 3), DType::F32, &Device::Cpu)?);
    /// assert!(matches!(d.to_device(&Device::Cpu)?, Data::One(t) if t.device().is_cpu()));
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn to_device(&self, device: &crate::ops::Device) -> Result<Data> {
        let mv = |t: &Tensor| -> Result<Tensor> { Ok(t.to_device(device)?) };
        Ok(match self {
            Data::One(t) => Data::One(mv(t)?),
            Data::List(v) => Data::List(v.iter().map(mv).collect::<Result<_>>()?),
            Data::Named(v) => Data::Named(
                v.iter()
                    .map(|(n, t)| Ok((n.clone(), mv(t)?)))
                    .collect::<Result<_>>()?,
            ),
        })
    }

    /// The structure, for error messages (tensors as [`crate::data::Structure`] describes
    /// them): `Tensor[f32; 32, 2]`, `[Tensor[f32; 32, 2], Tensor[f32; 32, 5]]`,
    /// `{text: Tensor[u8; 32, 40], question: Tensor[u8; 32, 12]}`.
    pub fn describe(&self) -> String {
        use crate::data::describe_tensor;
        match self {
            Data::One(t) => describe_tensor(t),
            Data::List(v) => format!(
                "[{}]",
                v.iter().map(describe_tensor).collect::<Vec<_>>().join(", ")
            ),
            Data::Named(m) => format!(
                "{{{}}}",
                m.iter()
                    .map(|(k, t)| format!("{k}: {}", describe_tensor(t)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// The arrays in the order of `names` (the model's inputs or outputs). `what` is `x` or `y`.
    pub(crate) fn resolve(self, names: &[String], what: &str) -> Result<Vec<Tensor>> {
        // The structure is described only on failure: this runs for every batch.
        self.resolve_inner(names, what)
            .map_err(|e| Error::value(format!("{e} Received: {what}={}", self.describe())))
    }

    /// The tensors in the model's order (handles: no data is copied).
    fn resolve_inner(&self, names: &[String], what: &str) -> Result<Vec<Tensor>> {
        match self {
            Data::One(t) => {
                if names.len() > 1 {
                    return Err(Error::value(format!(
                        "The model has {} {} ({}), but `{what}` is a single array. Pass a list or a map.",
                        names.len(),
                        if what == "x" { "inputs" } else { "outputs" },
                        names.join(", ")
                    )));
                }
                Ok(vec![t.clone()])
            }
            Data::List(v) => {
                if !names.is_empty() && v.len() != names.len() {
                    return Err(Error::value(format!(
                        "Expected {} arrays in `{what}` (for {}), but received {}.",
                        names.len(),
                        names.join(", "),
                        v.len()
                    )));
                }
                Ok(v.clone())
            }
            Data::Named(m) => {
                for (k, _) in m {
                    if !names.contains(k) {
                        return Err(Error::value(format!(
                            "The key '{k}' of `{what}` does not name any {} of the model. Expected keys: {:?}",
                            if what == "x" { "input" } else { "output" },
                            names
                        )));
                    }
                }
                names
                    .iter()
                    .map(|n| {
                        m.iter()
                            .find(|(k, _)| k == n)
                            .map(|(_, t)| t.clone())
                            .ok_or_else(|| {
                                Error::value(format!(
                                    "`{what}` has no array for '{n}'. Expected keys: {names:?}"
                                ))
                            })
                    })
                    .collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{DType, Device};

    fn t(n: usize) -> Tensor {
        Tensor::arange(0f32, n as f32, &Device::Cpu)
            .unwrap()
            .reshape((n, 1))
            .unwrap()
    }

    #[test]
    fn names() {
        let names = vec!["a".to_string(), "b".to_string()];
        let d: Data = vec![("b", t(2)), ("a", t(3))].into();
        let v = d.resolve(&names, "x").unwrap();
        assert_eq!(v[0].dims(), &[3, 1]);
        let d: Data = vec![("c", t(2))].into();
        assert!(d
            .resolve(&names, "x")
            .unwrap_err()
            .to_string()
            .contains("'c'"));
        let one: Data = Tensor::zeros((2, 2), DType::F32, &Device::Cpu)
            .unwrap()
            .into();
        assert!(one.resolve(&names, "x").is_err());
    }
}
