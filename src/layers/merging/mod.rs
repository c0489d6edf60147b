//! Merging layers: combine several tensors into one, as `keras.layers.Add`, `Concatenate`, ...
//!
//! Each class has Keras's lowercase function beside it, taking the inputs as Keras's take a
//! list (`&[a, b]`, `[&a, &b]`, a `Vec`: any [`CallInputs`]) and returning the one output:
//! `layers.add([a, b])` is `layers::add(&[a, b])?`, `layers.concatenate([a, b])` is
//! `layers::concatenate(&[a, b])?` (axis -1, Keras's default; [`concatenate_axis`] for
//! another). Keras's `**kwargs` (a `name`, `normalize=True`) are the class's builder methods:
//! `Concatenate::new(1).name("merged").call(&[a, b])?`.
//!
//! ```
//! use keras::prelude::*;
//! use keras::layers;
//! let a = Input::new((32,));
//! let b = Input::new((32,));
//! let s = layers::add(&[a.clone(), b.clone()])?;
//! let c = layers::concatenate(&[a, b])?;
//! assert_eq!(s.shape().to_string(), "(None, 32)");
//! assert_eq!(c.shape().to_string(), "(None, 64)");
//! # Ok::<(), keras::Error>(())
//! ```

mod base_merge;
mod concatenate;
mod dot;

pub use base_merge::{Add, Average, ElementwiseMerge, Maximum, Minimum, Multiply, Subtract};
pub use concatenate::Concatenate;
pub use dot::Dot;

use crate::engine::{CallInputs, KerasTensor, LayerExt};
use crate::Result;

/// `keras.layers.add(inputs)`: the sum of the inputs.
///
/// ```
/// use keras::prelude::*;
/// let (a, b) = (Input::new([4]), Input::new([4]));
/// assert_eq!(keras::layers::add([&a, &b])?.layer().class_name(), "Add");
/// # Ok::<(), keras::Error>(())
/// ```
pub fn add(inputs: impl CallInputs) -> Result<KerasTensor> {
    Add::new().call(inputs)
}
/// `keras.layers.subtract(inputs)`: the first input minus the second.
///
/// ```
/// use keras::prelude::*;
/// let (a, b) = (Input::new([4]), Input::new([4]));
/// assert_eq!(keras::layers::subtract([&a, &b])?.layer().class_name(), "Subtract");
/// # Ok::<(), keras::Error>(())
/// ```
pub fn subtract(inputs: impl CallInputs) -> Result<KerasTensor> {
    Subtract::new().call(inputs)
}
/// `keras.layers.multiply(inputs)`: the elementwise product.
///
/// ```
/// use keras::prelude::*;
/// let (a, b) = (Input::new([4]), Input::new([4]));
/// assert_eq!(keras::layers::multiply([&a, &b])?.layer().class_name(), "Multiply");
/// # Ok::<(), keras::Error>(())
/// ```
pub fn multiply(inputs: impl CallInputs) -> Result<KerasTensor> {
    Multiply::new().call(inputs)
}
/// `keras.layers.average(inputs)`: the elementwise mean.
///
/// ```
/// use keras::prelude::*;
/// let (a, b) = (Input::new([4]), Input::new([4]));
/// assert_eq!(keras::layers::average([&a, &b])?.layer().class_name(), "Average");
/// # Ok::<(), keras::Error>(())
/// ```
pub fn average(inputs: impl CallInputs) -> Result<KerasTensor> {
    Average::new().call(inputs)
}
/// `keras.layers.maximum(inputs)`: the elementwise maximum.
///
/// ```
/// use keras::prelude::*;
/// let (a, b) = (Input::new([4]), Input::new([4]));
/// assert_eq!(keras::layers::maximum([&a, &b])?.layer().class_name(), "Maximum");
/// # Ok::<(), keras::Error>(())
/// ```
pub fn maximum(inputs: impl CallInputs) -> Result<KerasTensor> {
    Maximum::new().call(inputs)
}
/// `keras.layers.minimum(inputs)`: the elementwise minimum.
///
/// ```
/// use keras::prelude::*;
/// let (a, b) = (Input::new([4]), Input::new([4]));
/// assert_eq!(keras::layers::minimum([&a, &b])?.layer().class_name(), "Minimum");
/// # Ok::<(), keras::Error>(())
/// ```
pub fn minimum(inputs: impl CallInputs) -> Result<KerasTensor> {
    Minimum::new().call(inputs)
}
/// `keras.layers.concatenate(inputs)`: joins the inputs along the last axis (Keras's
/// default `axis=-1`; [`concatenate_axis`] for another).
///
/// ```
/// use keras::prelude::*;
/// let (a, b) = (Input::new((None, 3)), Input::new((None, 5)));
/// assert_eq!(keras::layers::concatenate(&[a, b])?.shape().to_string(), "(None, None, 8)");
/// # Ok::<(), keras::Error>(())
/// ```
pub fn concatenate(inputs: impl CallInputs) -> Result<KerasTensor> {
    concatenate_axis(inputs, -1)
}
/// `keras.layers.concatenate(inputs, axis=axis)`: joins the inputs along `axis`.
///
/// ```
/// use keras::prelude::*;
/// let (a, b) = (Input::new((2, 3)), Input::new((4, 3)));
/// assert_eq!(keras::layers::concatenate_axis(&[a, b], 1)?.shape().to_string(), "(None, 6, 3)");
/// # Ok::<(), keras::Error>(())
/// ```
pub fn concatenate_axis(inputs: impl CallInputs, axis: isize) -> Result<KerasTensor> {
    Concatenate::new(axis).call(inputs)
}
/// `keras.layers.dot(inputs, axes=axes)`: the batched dot product over `axes`
/// (`Dot::new(axes).normalize(true).call(..)` for Keras's `normalize=True`).
///
/// ```
/// use keras::prelude::*;
/// let (a, b) = (Input::new([8]), Input::new([8]));
/// assert_eq!(keras::layers::dot(&[a, b], 1)?.shape().to_string(), "(None, 1)");
/// # Ok::<(), keras::Error>(())
/// ```
pub fn dot(inputs: impl CallInputs, axes: isize) -> Result<KerasTensor> {
    Dot::new(axes).call(inputs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::Input;

    #[test]
    fn functions_make_one_node_of_their_class() {
        let (a, b) = (Input::new([4]), Input::new([4]));
        type Merge = fn(&[KerasTensor; 2]) -> Result<KerasTensor>;
        let cases: [(Merge, &str); 8] = [
            (|x| add(x), "Add"),
            (|x| subtract(x), "Subtract"),
            (|x| multiply(x), "Multiply"),
            (|x| average(x), "Average"),
            (|x| maximum(x), "Maximum"),
            (|x| minimum(x), "Minimum"),
            (|x| concatenate(x), "Concatenate"),
            (|x| dot(x, -1), "Dot"),
        ];
        for (f, class) in cases {
            let y = f(&[a.clone(), b.clone()]).unwrap();
            assert_eq!(y.layer().class_name(), class);
            assert_eq!(y.node().inputs().len(), 2);
        }
        let c = concatenate(&[a.clone(), b.clone()]).unwrap();
        assert_eq!(c.shape().to_string(), "(None, 8)");
        let e = subtract(&[a.clone(), b.clone(), a])
            .unwrap_err()
            .to_string();
        assert!(e.contains("exactly 2 inputs"), "{e}");
    }
}
