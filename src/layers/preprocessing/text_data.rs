//! Strings and integers as the text layers take them: a [`StringArray`] (Keras's string
//! tensor: a shape and its values) made from `&[&str]`, `Vec<String>` or a string tensor of
//! [`crate::ops::strings`], and the conversions `adapt` and the model entry points accept.

use crate::ops::{strings, DType, Device, Tensor};
use crate::trainers::Data;
use crate::{Error, Result};

/// A string tensor as Keras has it: its shape (`dims`, without the bytes axis of the real
/// tensor) and its values in row-major order.
///
/// ```
/// use keras::layers::preprocessing::StringArray;
/// let a = StringArray::from_tensor(&keras::ops::strings::encode(&["the cat", "sat"])?)?;
/// assert_eq!(a.dims(), &[2]);
/// assert_eq!(a.values(), ["the cat", "sat"]);
/// assert_eq!(a.to_tensor()?.dims(), &[2, 7]);
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StringArray {
    dims: Vec<usize>,
    values: Vec<String>,
}

impl StringArray {
    /// An array of shape `dims` holding `values` (row-major); their counts must agree.
    pub fn new(dims: &[usize], values: Vec<String>) -> Result<Self> {
        if dims.iter().product::<usize>() != values.len() {
            return Err(Error::shape(format!(
                "A string array of shape {} needs {} values; received {}",
                crate::engine::tuple(dims),
                dims.iter().product::<usize>(),
                values.len()
            )));
        }
        Ok(StringArray {
            dims: dims.to_vec(),
            values,
        })
    }

    /// A rank-1 array of these strings.
    pub fn from_strs<S: AsRef<str>>(texts: &[S]) -> Self {
        StringArray {
            dims: vec![texts.len()],
            values: texts.iter().map(|s| s.as_ref().to_string()).collect(),
        }
    }

    /// Decodes a string tensor (`u8` bytes on the last axis, as
    /// [`crate::ops::strings::encode`] makes).
    pub fn from_tensor(t: &Tensor) -> Result<Self> {
        let values = strings::decode(t)?;
        let dims = t.dims()[..t.rank() - 1].to_vec();
        Ok(StringArray { dims, values })
    }

    /// The string tensor: zero-padded UTF-8 bytes on one more, trailing axis.
    pub fn to_tensor(&self) -> Result<Tensor> {
        let width = self
            .values
            .iter()
            .map(String::len)
            .max()
            .unwrap_or(0)
            .max(1);
        let mut bytes = vec![0u8; self.values.len() * width];
        for (row, s) in bytes.chunks_mut(width).zip(&self.values) {
            row[..s.len()].copy_from_slice(s.as_bytes());
        }
        let mut dims = self.dims.clone();
        dims.push(width);
        Ok(Tensor::from_vec(bytes, dims, &Device::Cpu)?)
    }

    /// Keras's shape of the array.
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    /// The values, row-major.
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// The shape and values.
    pub fn into_parts(self) -> (Vec<usize>, Vec<String>) {
        (self.dims, self.values)
    }
}

/// What the string layers' `adapt` takes: a list of strings (`&[&str]`, `Vec<String>`, ...),
/// a string tensor of [`crate::ops::strings`], or a [`StringArray`].
pub trait IntoStrings {
    /// The strings, with Keras's shape.
    fn into_strings(self) -> Result<StringArray>;
}

impl IntoStrings for StringArray {
    fn into_strings(self) -> Result<StringArray> {
        Ok(self)
    }
}
impl IntoStrings for &StringArray {
    fn into_strings(self) -> Result<StringArray> {
        Ok(self.clone())
    }
}
impl IntoStrings for &Tensor {
    fn into_strings(self) -> Result<StringArray> {
        StringArray::from_tensor(self)
    }
}
impl IntoStrings for Tensor {
    fn into_strings(self) -> Result<StringArray> {
        StringArray::from_tensor(&self)
    }
}
impl<S: AsRef<str>> IntoStrings for &[S] {
    fn into_strings(self) -> Result<StringArray> {
        Ok(StringArray::from_strs(self))
    }
}
impl<S: AsRef<str>> IntoStrings for &Vec<S> {
    fn into_strings(self) -> Result<StringArray> {
        Ok(StringArray::from_strs(self))
    }
}
impl<S: AsRef<str>> IntoStrings for Vec<S> {
    fn into_strings(self) -> Result<StringArray> {
        Ok(StringArray::from_strs(&self))
    }
}
impl<S: AsRef<str>, const N: usize> IntoStrings for [S; N] {
    fn into_strings(self) -> Result<StringArray> {
        Ok(StringArray::from_strs(&self))
    }
}
impl<S: AsRef<str>, const N: usize> IntoStrings for &[S; N] {
    fn into_strings(self) -> Result<StringArray> {
        Ok(StringArray::from_strs(self))
    }
}

/// What `IntegerLookup::adapt` takes: a list of integers or an integer tensor.
pub trait IntoInts {
    /// The integers (as `int64`) and their shape.
    fn into_ints(self) -> Result<(Vec<usize>, Vec<i64>)>;
}

impl IntoInts for &Tensor {
    fn into_ints(self) -> Result<(Vec<usize>, Vec<i64>)> {
        ints_of(self)
    }
}
impl IntoInts for Tensor {
    fn into_ints(self) -> Result<(Vec<usize>, Vec<i64>)> {
        ints_of(&self)
    }
}
impl IntoInts for &[i64] {
    fn into_ints(self) -> Result<(Vec<usize>, Vec<i64>)> {
        Ok((vec![self.len()], self.to_vec()))
    }
}
impl IntoInts for Vec<i64> {
    fn into_ints(self) -> Result<(Vec<usize>, Vec<i64>)> {
        Ok((vec![self.len()], self))
    }
}
impl IntoInts for &Vec<i64> {
    fn into_ints(self) -> Result<(Vec<usize>, Vec<i64>)> {
        Ok((vec![self.len()], self.clone()))
    }
}
impl<const N: usize> IntoInts for [i64; N] {
    fn into_ints(self) -> Result<(Vec<usize>, Vec<i64>)> {
        Ok((vec![N], self.to_vec()))
    }
}
impl<const N: usize> IntoInts for &[i64; N] {
    fn into_ints(self) -> Result<(Vec<usize>, Vec<i64>)> {
        Ok((vec![N], self.to_vec()))
    }
}

/// An integer tensor's values as `int64` (floats are truncated, as a cast to `int64` does).
pub(crate) fn ints_of(t: &Tensor) -> Result<(Vec<usize>, Vec<i64>)> {
    let v: Vec<i64> = t.to_dtype(DType::I64)?.flatten_all()?.to_vec1()?;
    Ok((t.dims().to_vec(), v))
}

/// A batch of strings as model input: `model.predict(&["great movie", "awful"], ..)`.
///
/// ```
/// use keras::trainers::Data;
/// let x: Data = (&["great movie", "awful"]).into();
/// assert!(matches!(x, Data::One(ref t) if t.dims() == [2, 11]));
/// let owned: Data = vec!["great movie".to_string()].into();
/// assert!(matches!(owned, Data::One(ref t) if t.dims() == [1, 11]));
/// ```
impl From<&[&str]> for Data {
    fn from(texts: &[&str]) -> Self {
        Data::One(string_tensor(texts))
    }
}

impl<const N: usize> From<&[&str; N]> for Data {
    fn from(texts: &[&str; N]) -> Self {
        Data::One(string_tensor(texts))
    }
}

impl From<&[String]> for Data {
    fn from(texts: &[String]) -> Self {
        Data::One(string_tensor(texts))
    }
}

impl From<Vec<&str>> for Data {
    fn from(texts: Vec<&str>) -> Self {
        Data::One(string_tensor(&texts))
    }
}

impl From<Vec<String>> for Data {
    fn from(texts: Vec<String>) -> Self {
        Data::One(string_tensor(&texts))
    }
}

impl From<&Vec<String>> for Data {
    fn from(texts: &Vec<String>) -> Self {
        Data::One(string_tensor(texts))
    }
}

fn string_tensor<S: AsRef<str>>(texts: &[S]) -> Tensor {
    // Encoding a list of strings cannot fail (it allocates one CPU tensor).
    strings::encode(texts).unwrap_or_else(|_| {
        Tensor::zeros((0, 1), DType::U8, &Device::Cpu).expect("an empty tensor")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_round_trip_and_check_counts() {
        let a = StringArray::new(&[2, 1], vec!["a b".into(), "".into()]).unwrap();
        let t = a.to_tensor().unwrap();
        assert_eq!(t.dims(), &[2, 1, 3]);
        assert_eq!(StringArray::from_tensor(&t).unwrap(), a);
        assert!(StringArray::new(&[3], vec!["x".into()]).is_err());
        let (dims, v) = Tensor::new(&[[1i32, 2], [3, 4]], &Device::Cpu)
            .unwrap()
            .into_ints()
            .unwrap();
        assert_eq!((dims, v), (vec![2, 2], vec![1, 2, 3, 4]));
        let d: Data = vec!["x".to_string()].into();
        assert!(matches!(d, Data::One(t) if t.dims() == [1, 1]));
    }
}
