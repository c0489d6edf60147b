//! Symbolic shapes: a dimension is a size or `None` (unknown, like Keras's batch axis).

use std::fmt;

/// A shape whose dimensions may be unknown (`None`), batch axis first.
///
/// Displays as Keras prints a shape tuple: `(None, 64)`, `(32,)`.
///
/// ```
/// use keras::Shape;
/// let s = Shape::batched(&[28, 28]);
/// assert_eq!(s.to_string(), "(None, 28, 28)");
/// assert_eq!(Shape::known(&[32]).to_string(), "(32,)");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct Shape(pub Vec<Option<usize>>);

impl Shape {
    /// A shape of known dimensions.
    pub fn known(dims: &[usize]) -> Self {
        Shape(dims.iter().map(|&d| Some(d)).collect())
    }

    /// `(None, dims...)`: a batch of samples of shape `dims`.
    pub fn batched(dims: &[usize]) -> Self {
        let mut v = vec![None];
        v.extend(dims.iter().map(|&d| Some(d)));
        Shape(v)
    }

    /// Number of dimensions.
    pub fn rank(&self) -> usize {
        self.0.len()
    }

    /// The dimensions.
    pub fn dims(&self) -> &[Option<usize>] {
        &self.0
    }

    /// The dimension at `axis`; negative counts from the end.
    pub fn dim(&self, axis: isize) -> Option<usize> {
        let i = if axis < 0 {
            self.0.len() as isize + axis
        } else {
            axis
        };
        usize::try_from(i)
            .ok()
            .and_then(|i| self.0.get(i).copied().flatten())
    }

    /// All dimensions, if every one is known.
    pub fn to_known(&self) -> Option<Vec<usize>> {
        self.0.iter().copied().collect()
    }

    /// The shape without its first (batch) axis.
    pub fn without_batch(&self) -> Shape {
        Shape(self.0.iter().skip(1).copied().collect())
    }

    /// Whether a concrete shape fits this one (same rank, equal where this one is known).
    pub fn accepts(&self, dims: &[usize]) -> bool {
        self.0.len() == dims.len()
            && self
                .0
                .iter()
                .zip(dims)
                .all(|(a, &b)| a.is_none_or(|a| a == b))
    }

    /// Number of elements per sample (product of the non-batch dimensions), if known.
    pub fn sample_size(&self) -> Option<usize> {
        self.0
            .iter()
            .skip(1)
            .try_fold(1usize, |acc, d| d.map(|d| acc * d))
    }

    /// The summary's form: `(None, 64)`, with no trailing comma for one dimension.
    pub fn summary_string(&self) -> String {
        format!(
            "({})",
            self.0
                .iter()
                .map(|d| fmt_dim(*d))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

fn fmt_dim(d: Option<usize>) -> String {
    d.map_or("None".to_string(), |d| d.to_string())
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [d] => write!(f, "({},)", fmt_dim(*d)),
            ds => write!(
                f,
                "({})",
                ds.iter()
                    .map(|d| fmt_dim(*d))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// Formats concrete dims as a Python tuple: `(32, 63)`, `(5,)` ([`crate::ops::shape_str`]).
pub fn tuple(dims: &[usize]) -> String {
    crate::ops::shape_str(dims)
}

/// Things that describe a shape: `&[usize]`, `[usize; N]`, `Vec<usize>`, or the same with
/// `Option<usize>` for unknown dimensions.
pub trait IntoDims {
    /// The dimensions, `None` for unknown.
    fn into_dims(self) -> Vec<Option<usize>>;
}

impl IntoDims for &[usize] {
    fn into_dims(self) -> Vec<Option<usize>> {
        self.iter().map(|&d| Some(d)).collect()
    }
}
impl<const N: usize> IntoDims for [usize; N] {
    fn into_dims(self) -> Vec<Option<usize>> {
        self.iter().map(|&d| Some(d)).collect()
    }
}
impl<const N: usize> IntoDims for &[usize; N] {
    fn into_dims(self) -> Vec<Option<usize>> {
        self.iter().map(|&d| Some(d)).collect()
    }
}
impl IntoDims for Vec<usize> {
    fn into_dims(self) -> Vec<Option<usize>> {
        self.into_iter().map(Some).collect()
    }
}
impl IntoDims for &[Option<usize>] {
    fn into_dims(self) -> Vec<Option<usize>> {
        self.to_vec()
    }
}
impl<const N: usize> IntoDims for [Option<usize>; N] {
    fn into_dims(self) -> Vec<Option<usize>> {
        self.to_vec()
    }
}
impl<const N: usize> IntoDims for &[Option<usize>; N] {
    fn into_dims(self) -> Vec<Option<usize>> {
        self.to_vec()
    }
}
impl IntoDims for Vec<Option<usize>> {
    fn into_dims(self) -> Vec<Option<usize>> {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_like_python() {
        assert_eq!(Shape::batched(&[64]).to_string(), "(None, 64)");
        assert_eq!(Shape::known(&[5]).to_string(), "(5,)");
        assert_eq!(Shape::known(&[5]).summary_string(), "(5)");
        assert_eq!(Shape(vec![]).to_string(), "()");
    }

    #[test]
    fn accepts_and_dims() {
        let s = Shape(vec![None, Some(3)]);
        assert!(s.accepts(&[10, 3]));
        assert!(!s.accepts(&[10, 4]));
        assert!(!s.accepts(&[3]));
        assert_eq!(s.dim(-1), Some(3));
        assert_eq!(s.dim(0), None);
        assert_eq!(s.sample_size(), Some(3));
    }
}
