//! What a layer can be called on: one symbolic tensor, or several (Keras's `layer(x)` and
//! `layer([a, b])`).

use super::node::KerasTensor;

/// The inputs of a layer call: one [`KerasTensor`] (`&x`, `x`) or several (`&[a, b]`,
/// `[&a, &b]`, `&vec`, a slice).
///
/// [`LayerExt::call`](crate::engine::LayerExt::call) and
/// [`LayerRef::call`](crate::engine::LayerRef::call) take any of them and return the single
/// output; `call_many` takes the same and returns every output.
///
/// ```
/// use keras::prelude::*;
/// use keras::layers::Concatenate;
/// let (a, b) = (Input::new([3]), Input::new([5]));
/// let y = Concatenate::new(-1).call(&[a.clone(), b.clone()])?;
/// assert_eq!(y.shape().to_string(), "(None, 8)");
/// let z = Concatenate::new(-1).call([&a, &b])?;
/// assert_eq!(z.shape(), y.shape());
/// let h = Dense::new(4).call(&a)?;
/// assert_eq!(h.shape().to_string(), "(None, 4)");
/// # Ok::<(), keras::Error>(())
/// ```
pub trait CallInputs {
    /// The input tensors, in call order.
    fn into_inputs(self) -> Vec<KerasTensor>;
}

impl CallInputs for &KerasTensor {
    fn into_inputs(self) -> Vec<KerasTensor> {
        vec![self.clone()]
    }
}
impl CallInputs for KerasTensor {
    fn into_inputs(self) -> Vec<KerasTensor> {
        vec![self]
    }
}
impl CallInputs for &[KerasTensor] {
    fn into_inputs(self) -> Vec<KerasTensor> {
        self.to_vec()
    }
}
impl<const N: usize> CallInputs for &[KerasTensor; N] {
    fn into_inputs(self) -> Vec<KerasTensor> {
        self.to_vec()
    }
}
impl<const N: usize> CallInputs for [KerasTensor; N] {
    fn into_inputs(self) -> Vec<KerasTensor> {
        self.into()
    }
}
impl CallInputs for Vec<KerasTensor> {
    fn into_inputs(self) -> Vec<KerasTensor> {
        self
    }
}
impl CallInputs for &Vec<KerasTensor> {
    fn into_inputs(self) -> Vec<KerasTensor> {
        self.clone()
    }
}
impl CallInputs for &[&KerasTensor] {
    fn into_inputs(self) -> Vec<KerasTensor> {
        self.iter().map(|&x| x.clone()).collect()
    }
}
impl<const N: usize> CallInputs for [&KerasTensor; N] {
    fn into_inputs(self) -> Vec<KerasTensor> {
        self.iter().map(|&x| x.clone()).collect()
    }
}
impl<const N: usize> CallInputs for &[&KerasTensor; N] {
    fn into_inputs(self) -> Vec<KerasTensor> {
        self.iter().map(|&x| x.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::Input;

    #[test]
    fn every_form_gives_the_tensors_in_order() {
        let (a, b) = (Input::new([2]), Input::new([3]));
        let names =
            |v: Vec<KerasTensor>| v.iter().map(|t| t.name().to_string()).collect::<Vec<_>>();
        let want = vec![a.name().to_string(), b.name().to_string()];
        assert_eq!(names((&[a.clone(), b.clone()]).into_inputs()), want);
        assert_eq!(names([&a, &b].into_inputs()), want);
        assert_eq!(names(vec![a.clone(), b.clone()].into_inputs()), want);
        assert_eq!(names((&vec![a.clone(), b.clone()]).into_inputs()), want);
        assert_eq!(names([a.clone(), b.clone()][..].into_inputs()), want);
        assert_eq!(names((&a).into_inputs()), vec![a.name().to_string()]);
    }
}
