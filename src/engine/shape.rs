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
    /// A shape from anything that describes one: a tuple, array, slice or `Vec` of sizes and
    /// `None`s ([`IntoDims`]).
    ///
    /// ```
    /// use keras::Shape;
    /// assert_eq!(Shape::new((None, 64)).to_string(), "(None, 64)");
    /// assert_eq!(Shape::new([2, 3]), Shape::known(&[2, 3]));
    /// ```
    pub fn new(dims: impl IntoDims) -> Self {
        Shape(dims.into_dims())
    }

    /// A shape of known dimensions.
    pub fn known(dims: &[usize]) -> Self {
        Shape(dims.iter().map(|&d| Some(d)).collect())
    }

    /// `(None, dims...)`: a batch of samples of shape `dims` (any [`IntoDims`]:
    /// `&[28, 28]`, `(None, 8)`).
    ///
    /// ```
    /// use keras::Shape;
    /// assert_eq!(Shape::batched((None, 8)).to_string(), "(None, None, 8)");
    /// ```
    pub fn batched(dims: impl IntoDims) -> Self {
        let mut v = vec![None];
        v.extend(dims.into_dims());
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

/// One dimension of a shape literal: a size (`128`, `128usize`), or unknown (`None`).
///
/// Integer literals are `i32` by default, so a tuple such as `(None, 128)` needs no suffix
/// or annotation. A negative integer is an unknown dimension (`None`), as Keras's `-1` is in
/// `Reshape((4, -1))`; [`Dim::signed`] keeps the number itself for `Reshape`'s check.
///
/// ```
/// use keras::engine::Dim;
/// assert_eq!(Dim::into_dim(128), Some(128));
/// assert_eq!(Dim::into_dim(None), None);
/// assert_eq!(Some(3usize).into_dim(), Some(3));
/// assert_eq!(Dim::into_dim(-1), None);
/// assert_eq!(Dim::signed(-1), -1);
/// ```
pub trait Dim {
    /// The dimension, `None` for unknown.
    fn into_dim(self) -> Option<usize>;
    /// The dimension as Keras writes a reshape target: the size, `-1` for unknown (a negative
    /// integer is returned as given).
    fn signed(self) -> i64
    where
        Self: Sized,
    {
        self.into_dim().map_or(-1, |d| d as i64)
    }
}

impl Dim for usize {
    fn into_dim(self) -> Option<usize> {
        Some(self)
    }
}
impl Dim for Option<usize> {
    fn into_dim(self) -> Option<usize> {
        self
    }
}
impl Dim for i32 {
    fn into_dim(self) -> Option<usize> {
        usize::try_from(self).ok()
    }
    fn signed(self) -> i64 {
        self.into()
    }
}
impl Dim for i64 {
    fn into_dim(self) -> Option<usize> {
        usize::try_from(self).ok()
    }
    fn signed(self) -> i64 {
        self
    }
}
/// Things that describe a shape: a tuple as Keras writes one (`(None, 128)`, `(28, 28)`,
/// `(128,)`, up to six dimensions, mixing sizes and `None`), [`shape!`](crate::shape),
/// a [`Shape`], or an array, slice or `Vec` of [`Dim`]s (`[784]`, `&[None, Some(3)]`,
/// `vec![4, -1]`).
///
/// ```
/// use keras::prelude::*;
/// assert_eq!(Input::new((None, 128)).shape().to_string(), "(None, None, 128)");
/// assert_eq!(Input::new((28, 28)).shape().to_string(), "(None, 28, 28)");
/// assert_eq!(Input::new((784,)).shape().to_string(), "(None, 784)");
/// assert_eq!(Input::new([784]).shape().to_string(), "(None, 784)");
/// assert_eq!(Input::new(&[None, Some(3)]).shape().to_string(), "(None, None, 3)");
/// assert_eq!(Input::new(keras::shape![None, 128]).shape().to_string(), "(None, None, 128)");
/// ```
pub trait IntoDims {
    /// The dimensions, `None` for unknown.
    fn into_dims(self) -> Vec<Option<usize>>;
    /// The dimensions as a reshape target: sizes, `-1` for unknown; negative integers are
    /// kept as given (for the layer's own check).
    fn into_signed_dims(self) -> Vec<i64>
    where
        Self: Sized,
    {
        self.into_dims()
            .into_iter()
            .map(|d| d.map_or(-1, |d| d as i64))
            .collect()
    }
}

impl<D: Dim + Copy> IntoDims for &[D] {
    fn into_dims(self) -> Vec<Option<usize>> {
        self.iter().map(|&d| d.into_dim()).collect()
    }
    fn into_signed_dims(self) -> Vec<i64> {
        self.iter().map(|&d| d.signed()).collect()
    }
}
impl<D: Dim + Copy, const N: usize> IntoDims for [D; N] {
    fn into_dims(self) -> Vec<Option<usize>> {
        self.as_slice().into_dims()
    }
    fn into_signed_dims(self) -> Vec<i64> {
        self.as_slice().into_signed_dims()
    }
}
impl<D: Dim + Copy, const N: usize> IntoDims for &[D; N] {
    fn into_dims(self) -> Vec<Option<usize>> {
        self.as_slice().into_dims()
    }
    fn into_signed_dims(self) -> Vec<i64> {
        self.as_slice().into_signed_dims()
    }
}
impl<D: Dim + Copy> IntoDims for Vec<D> {
    fn into_dims(self) -> Vec<Option<usize>> {
        self.as_slice().into_dims()
    }
    fn into_signed_dims(self) -> Vec<i64> {
        self.as_slice().into_signed_dims()
    }
}
impl<D: Dim + Copy> IntoDims for &Vec<D> {
    fn into_dims(self) -> Vec<Option<usize>> {
        self.as_slice().into_dims()
    }
    fn into_signed_dims(self) -> Vec<i64> {
        self.as_slice().into_signed_dims()
    }
}
impl IntoDims for Shape {
    fn into_dims(self) -> Vec<Option<usize>> {
        self.0
    }
}
impl IntoDims for &Shape {
    fn into_dims(self) -> Vec<Option<usize>> {
        self.0.clone()
    }
}

// One impl per tuple arity (1 to 6): Rust has no generic over tuple lengths, so a small
// macro writes them, as the standard library does for its tuple impls.
macro_rules! tuple_dims {
    ($($t:ident . $i:tt),+) => {
        /// A shape tuple, as Keras writes one: `(None, 128)`, `(28, 28)`, `(128,)`.
        impl<$($t: Dim),+> IntoDims for ($($t,)+) {
            fn into_dims(self) -> Vec<Option<usize>> {
                vec![$(self.$i.into_dim()),+]
            }
            fn into_signed_dims(self) -> Vec<i64> {
                vec![$(self.$i.signed()),+]
            }
        }
    };
}
tuple_dims!(A.0);
tuple_dims!(A.0, B.1);
tuple_dims!(A.0, B.1, C.2);
tuple_dims!(A.0, B.1, C.2, D.3);
tuple_dims!(A.0, B.1, C.2, D.3, E.4);
tuple_dims!(A.0, B.1, C.2, D.3, E.4, F.5);

/// A shape literal as Keras writes one, `shape![None, 128]`: a [`Shape`] whose entries are
/// sizes or `None` (any [`Dim`]; a negative integer is `None`).
///
/// ```
/// use keras::{shape, Shape};
/// let s: Shape = shape![None, 128];
/// assert_eq!(s, Shape(vec![None, Some(128)]));
/// assert_eq!(s.to_string(), "(None, 128)");
/// assert_eq!(shape![5].to_string(), "(5,)");
/// assert_eq!(shape![].rank(), 0);
/// ```
#[macro_export]
macro_rules! shape {
    ($($d:expr),* $(,)?) => {
        $crate::Shape(::std::vec![$($crate::engine::Dim::into_dim($d)),*])
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_like_python() {
        assert_eq!(Shape::batched([64]).to_string(), "(None, 64)");
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
