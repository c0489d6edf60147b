//! Output shapes by running a function: Keras's `compute_output_spec` for code that has no
//! closed-form shape rule (a `Lambda`'s closure, a custom layer's `call`).
//!
//! The function runs twice on zero tensors whose unknown (`None`) dimensions are replaced by a
//! size: 83 on the first run, 89 on the second (the sizes Keras's backends trace with). Every
//! unknown dimension of one run gets the same size, so code that assumes two unknown axes are
//! equal (square images) still runs. An output dimension that differs between the two runs
//! depends on an unknown input dimension and is `None`; one that agrees is known.

use super::shape::Shape;
use crate::ops::{DType, Tensor};
use crate::{Error, Result};

/// The sizes that stand in for unknown dimensions on the two runs.
pub const TRACE_SIZES: [usize; 2] = [83, 89];

/// The output shapes and dtypes of `f` for inputs of these symbolic shapes and dtypes.
///
/// `f` runs on zero tensors (on [`crate::config::device`]), twice when any dimension is unknown; output
/// dimensions that change with the unknown input sizes are `None`.
///
/// ```
/// use keras::engine::trace::infer_output_shapes;
/// use keras::ops::DType;
/// use keras::Shape;
/// let f = |x: &[keras::ops::Tensor]| -> keras::Result<Vec<keras::ops::Tensor>> {
///     Ok(vec![x[0].sum_keepdim(1)?.unsqueeze(2)?])
/// };
/// let out = infer_output_shapes(&f, &[Shape(vec![None, Some(5)])], &[DType::F32])?;
/// assert_eq!(out[0].0.to_string(), "(None, 1, 1)");
/// assert_eq!(out[0].1, DType::F32);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn infer_output_shapes(
    f: &dyn Fn(&[Tensor]) -> Result<Vec<Tensor>>,
    shapes: &[Shape],
    dtypes: &[DType],
) -> Result<Vec<(Shape, DType)>> {
    if shapes.len() != dtypes.len() {
        return Err(Error::value(format!(
            "infer_output_shapes: got {} shapes but {} dtypes",
            shapes.len(),
            dtypes.len()
        )));
    }
    let any_unknown = shapes.iter().any(|s| s.dims().iter().any(Option::is_none));
    let first = run_with(f, shapes, dtypes, TRACE_SIZES[0])?;
    if !any_unknown {
        return Ok(first
            .iter()
            .map(|t| (Shape::known(t.dims()), t.dtype()))
            .collect());
    }
    let second = run_with(f, shapes, dtypes, TRACE_SIZES[1])?;
    if first.len() != second.len() {
        return Err(Error::value(format!(
            "The function returned {} outputs for one input size and {} for another; the number \
             of outputs must not depend on the unknown dimensions",
            first.len(),
            second.len()
        )));
    }
    first
        .iter()
        .zip(&second)
        .map(|(a, b)| {
            if a.rank() != b.rank() {
                return Err(Error::value(format!(
                    "The function's output rank depends on the unknown input dimensions ({:?} vs \
                     {:?}); it must not",
                    a.dims(),
                    b.dims()
                )));
            }
            let dims = a
                .dims()
                .iter()
                .zip(b.dims())
                .map(|(&x, &y)| (x == y).then_some(x))
                .collect();
            Ok((Shape(dims), a.dtype()))
        })
        .collect()
}

/// Runs `f` on zero tensors with every unknown dimension set to `size`.
fn run_with(
    f: &dyn Fn(&[Tensor]) -> Result<Vec<Tensor>>,
    shapes: &[Shape],
    dtypes: &[DType],
    size: usize,
) -> Result<Vec<Tensor>> {
    // Where the weights the function may read are made.
    let device = crate::config::device();
    let inputs = shapes
        .iter()
        .zip(dtypes)
        .map(|(s, &dt)| {
            let dims: Vec<usize> = s.dims().iter().map(|d| d.unwrap_or(size)).collect();
            Ok(Tensor::zeros(dims, dt, &device)?)
        })
        .collect::<Result<Vec<_>>>()?;
    f(&inputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flatten(x: &[Tensor]) -> Result<Vec<Tensor>> {
        Ok(vec![x[0].flatten_from(1)?])
    }

    #[test]
    fn unknown_dims_propagate() {
        let out = infer_output_shapes(
            &flatten,
            &[Shape(vec![None, Some(3), Some(4)])],
            &[DType::F32],
        )
        .unwrap();
        assert_eq!(out[0].0, Shape(vec![None, Some(12)]));
        // A product with an unknown dimension is unknown.
        let out = infer_output_shapes(
            &flatten,
            &[Shape(vec![Some(2), None, Some(4)])],
            &[DType::F64],
        )
        .unwrap();
        assert_eq!(out[0], (Shape(vec![Some(2), None]), DType::F64));
    }

    #[test]
    fn known_shapes_run_once_and_dtypes_follow() {
        let cast = |x: &[Tensor]| -> Result<Vec<Tensor>> {
            Ok(vec![x[0].to_dtype(DType::I64)?, x[1].clone()])
        };
        let out = infer_output_shapes(
            &cast,
            &[Shape::known(&[2, 3]), Shape::known(&[5])],
            &[DType::F32, DType::F32],
        )
        .unwrap();
        assert_eq!(out[0], (Shape::known(&[2, 3]), DType::I64));
        assert_eq!(out[1].0, Shape::known(&[5]));
    }

    #[test]
    fn unknown_dims_share_one_size() {
        // Adding two tensors with different unknown axes works: both are 83 (then 89).
        let add = |x: &[Tensor]| -> Result<Vec<Tensor>> { Ok(vec![(&x[0] + &x[1])?]) };
        let s = Shape(vec![None, Some(2)]);
        let out = infer_output_shapes(&add, &[s.clone(), s], &[DType::F32, DType::F32]).unwrap();
        assert_eq!(out[0].0, Shape(vec![None, Some(2)]));
    }

    #[test]
    fn errors_pass_through() {
        let bad = |x: &[Tensor]| -> Result<Vec<Tensor>> { Ok(vec![x[0].reshape((7, 7))?]) };
        assert!(infer_output_shapes(&bad, &[Shape::known(&[3])], &[DType::F32]).is_err());
        assert!(infer_output_shapes(&bad, &[Shape::known(&[3])], &[]).is_err());
    }
}
