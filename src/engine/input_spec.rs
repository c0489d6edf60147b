//! What a layer accepts as input, checked on every call with Keras's error wording.

use super::shape::Shape;
use crate::{Error, Result};

/// Constraints on one input of a layer (Keras's `InputSpec`).
///
/// ```
/// use keras::engine::InputSpec;
/// use keras::Shape;
/// let spec = InputSpec::new().min_ndim(2).axis(-1, 64);
/// let err = spec.check("dense", 0, &Shape::known(&[32, 63])).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "Input 0 of layer \"dense\" is incompatible with the layer: expected axis -1 of input \
///      shape to have value 64, but received input with shape (32, 63)"
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InputSpec {
    /// Exact rank.
    pub ndim: Option<usize>,
    /// Minimum rank.
    pub min_ndim: Option<usize>,
    /// Maximum rank.
    pub max_ndim: Option<usize>,
    /// Required sizes of given axes (negative counts from the end).
    pub axes: Vec<(isize, usize)>,
}

impl InputSpec {
    /// No constraints.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requires exactly `n` dimensions.
    pub fn ndim(mut self, n: usize) -> Self {
        self.ndim = Some(n);
        self
    }

    /// Requires at least `n` dimensions.
    pub fn min_ndim(mut self, n: usize) -> Self {
        self.min_ndim = Some(n);
        self
    }

    /// Requires at most `n` dimensions.
    pub fn max_ndim(mut self, n: usize) -> Self {
        self.max_ndim = Some(n);
        self
    }

    /// Requires `axis` to have size `value`.
    pub fn axis(mut self, axis: isize, value: usize) -> Self {
        self.axes.push((axis, value));
        self
    }

    /// Checks `shape` (symbolic or concrete) against the spec.
    pub fn check(&self, layer: &str, index: usize, shape: &Shape) -> Result<()> {
        let head = format!("Input {index} of layer \"{layer}\" is incompatible with the layer");
        let nd = shape.rank();
        if let Some(n) = self.ndim {
            if nd != n {
                return Err(Error::shape(format!(
                    "{head}: expected ndim={n}, found ndim={nd}. Full shape received: {shape}"
                )));
            }
        }
        if let Some(n) = self.min_ndim {
            if nd < n {
                return Err(Error::shape(format!(
                    "{head}: expected min_ndim={n}, found ndim={nd}. Full shape received: {shape}"
                )));
            }
        }
        if let Some(n) = self.max_ndim {
            if nd > n {
                return Err(Error::shape(format!(
                    "{head}: expected max_ndim={n}, found ndim={nd}. Full shape received: {shape}"
                )));
            }
        }
        for &(axis, value) in &self.axes {
            let i = if axis < 0 { nd as isize + axis } else { axis };
            let got = usize::try_from(i)
                .ok()
                .and_then(|i| shape.0.get(i).copied());
            match got {
                Some(Some(v)) if v != value => {
                    return Err(Error::shape(format!(
                        "{head}: expected axis {axis} of input shape to have value {value}, but \
                         received input with shape {shape}"
                    )))
                }
                None => {
                    return Err(Error::shape(format!(
                        "{head}: expected axis {axis} of input shape to have value {value}, but \
                         received input with shape {shape}"
                    )))
                }
                _ => {}
            }
        }
        Ok(())
    }
}
