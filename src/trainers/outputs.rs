//! What `predict` returns: the type the caller asks for, as `collect` and `parse` do.
//!
//! Keras's `model.predict(x)` returns one array for a single-output model and a list for a
//! model with several outputs. Here the binding picks: `let y: Tensor = model.predict(..)?`
//! for one output, `let [a, b]: [Tensor; 2] = model.predict(..)?` or
//! `let ys: Vec<Tensor> = model.predict(..)?` for several. A type that does not fit the
//! model's outputs is an error naming the model and its output count.

use crate::ops::Tensor;
use crate::{Error, Result};

/// A type `predict` can return: built from the model's outputs, in output order.
///
/// Implemented for [`Tensor`] (exactly one output), `Vec<Tensor>` (any number) and
/// `[Tensor; N]` (exactly `N`).
///
/// ```
/// use keras::prelude::*;
/// use keras::trainers::FromOutputs;
/// let t = Tensor::zeros((2, 1), DType::F32, &Device::Cpu)?;
/// let one = Tensor::from_outputs("m", vec![t.clone()])?;
/// assert_eq!(one.dims(), &[2, 1]);
/// let [a, b] = <[Tensor; 2]>::from_outputs("m", vec![t.clone(), t.clone()])?;
/// assert_eq!((a.dims(), b.dims()), (&[2, 1][..], &[2, 1][..]));
/// let err = Tensor::from_outputs("m", vec![t.clone(), t]).unwrap_err();
/// assert!(err.to_string().contains("Model \"m\" has 2 outputs"));
/// # Ok::<(), keras::Error>(())
/// ```
pub trait FromOutputs: Sized {
    /// The value for `outputs`, the predictions of the model called `model`.
    fn from_outputs(model: &str, outputs: Vec<Tensor>) -> Result<Self>;
}

impl FromOutputs for Tensor {
    fn from_outputs(model: &str, mut outputs: Vec<Tensor>) -> Result<Self> {
        if outputs.len() != 1 {
            return Err(count_error(model, outputs.len(), "a Tensor", "1 output"));
        }
        Ok(outputs.remove(0))
    }
}

impl FromOutputs for Vec<Tensor> {
    fn from_outputs(_model: &str, outputs: Vec<Tensor>) -> Result<Self> {
        Ok(outputs)
    }
}

impl<const N: usize> FromOutputs for [Tensor; N] {
    fn from_outputs(model: &str, outputs: Vec<Tensor>) -> Result<Self> {
        let n = outputs.len();
        outputs.try_into().map_err(|_| {
            count_error(
                model,
                n,
                &format!("[Tensor; {N}]"),
                &format!("{N} output{}", if N == 1 { "" } else { "s" }),
            )
        })
    }
}

fn count_error(model: &str, n: usize, asked: &str, fits: &str) -> Error {
    let plural = if n == 1 { "" } else { "s" };
    let instead = if n == 1 {
        "Tensor".to_string()
    } else {
        format!("[Tensor; {n}] or Vec<Tensor>")
    };
    Error::value(format!(
        "Model \"{model}\" has {n} output{plural}, but its predictions were asked for as \
         {asked} (which fits {fits}). Receive them as {instead}."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{DType, Device};

    fn t() -> Tensor {
        Tensor::zeros((3, 2), DType::F32, &Device::Cpu).unwrap()
    }

    #[test]
    fn each_type_takes_the_outputs_that_fit() {
        assert_eq!(
            Tensor::from_outputs("m", vec![t()]).unwrap().dims(),
            &[3, 2]
        );
        assert_eq!(
            Vec::<Tensor>::from_outputs("m", vec![t(); 3])
                .unwrap()
                .len(),
            3
        );
        let [a, b, c] = <[Tensor; 3]>::from_outputs("m", vec![t(); 3]).unwrap();
        assert_eq!([a.dims(), b.dims(), c.dims()], [&[3, 2]; 3]);
    }

    #[test]
    fn a_type_that_does_not_fit_names_model_and_count() {
        let e = Tensor::from_outputs("two_heads", vec![t(), t()])
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "Model \"two_heads\" has 2 outputs, but its predictions were asked for as a Tensor \
             (which fits 1 output). Receive them as [Tensor; 2] or Vec<Tensor>."
        );
        let e = <[Tensor; 2]>::from_outputs("one", vec![t()])
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "Model \"one\" has 1 output, but its predictions were asked for as [Tensor; 2] \
             (which fits 2 outputs). Receive them as Tensor."
        );
    }
}
