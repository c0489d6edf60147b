//! Python's operators on symbolic tensors: `+ - * /` between [`KerasTensor`]s (owned or
//! borrowed) and with `f64` numbers on either side (no `f32`: a literal `2.0` would be
//! ambiguous), unary `-`, and the method
//! `x.slice(..)` (Python's `x[...]`).
//!
//! Each operator records one node of Keras's op class (`Add`, `Subtract`, `Multiply`,
//! `TrueDivide`, `Negative`), as `x * 2 + 1` does in Keras. An operator cannot return a
//! `Result`: when the shapes do not broadcast the node is still recorded and Keras's error
//! ("Cannot broadcast shape, ...") is raised when the model is run or saved
//! ([`super::op_layer::deferred_error`] reads it earlier). Use [`crate::ops::add`] and friends
//! for the error at once.
//!
//! ```
//! use keras::prelude::*;
//! let x = Input::new(&[4]);
//! let y = &x * 2.0 + 1.0;
//! assert_eq!(y.layer().class_name(), "Add");
//! assert_eq!(y.shape().to_string(), "(None, 4)");
//! let z = 1.0 - -&y / &x;
//! assert_eq!(z.layer().class_name(), "Subtract");
//! # Ok::<(), keras::Error>(())
//! ```

use super::node::KerasTensor;
use super::op_layer::apply_or_defer;
use crate::ops::numpy::{binary_op, unary_op, NUMPY};
use crate::ops::operation::Slot;
use crate::ops::Tensor;
use crate::serialization::Config;
use crate::Result;
use std::ops::{Add, Div, Mul, Neg, Sub};

type BinFn = fn(&Tensor, &Tensor) -> candle_core::Result<Tensor>;

fn tensors(class: &str, a: &KerasTensor, b: &KerasTensor, f: BinFn) -> KerasTensor {
    apply_or_defer(binary_op(class, [Slot::Tensor, Slot::Tensor], f), &[a, b])
}

fn tensor_scalar(class: &str, a: &KerasTensor, b: f64, f: BinFn) -> KerasTensor {
    apply_or_defer(binary_op(class, [Slot::Tensor, Slot::Scalar(b)], f), &[a])
}

fn scalar_tensor(class: &str, a: f64, b: &KerasTensor, f: BinFn) -> KerasTensor {
    apply_or_defer(binary_op(class, [Slot::Scalar(a), Slot::Tensor], f), &[b])
}

// One operator (`$tr::$m`, Keras class `$class`) for every pairing of owned / borrowed
// tensors and numbers: a trait impl per type pair, which no generic impl can express here.
macro_rules! operator {
    ($tr:ident, $m:ident, $class:expr, $f:path) => {
        impl $tr<&KerasTensor> for &KerasTensor {
            type Output = KerasTensor;
            fn $m(self, rhs: &KerasTensor) -> KerasTensor {
                tensors($class, self, rhs, $f)
            }
        }
        impl $tr<KerasTensor> for &KerasTensor {
            type Output = KerasTensor;
            fn $m(self, rhs: KerasTensor) -> KerasTensor {
                tensors($class, self, &rhs, $f)
            }
        }
        impl $tr<&KerasTensor> for KerasTensor {
            type Output = KerasTensor;
            fn $m(self, rhs: &KerasTensor) -> KerasTensor {
                tensors($class, &self, rhs, $f)
            }
        }
        impl $tr<KerasTensor> for KerasTensor {
            type Output = KerasTensor;
            fn $m(self, rhs: KerasTensor) -> KerasTensor {
                tensors($class, &self, &rhs, $f)
            }
        }
        operator!(@scalar $tr, $m, $class, $f, f64);
    };
    (@scalar $tr:ident, $m:ident, $class:expr, $f:path, $t:ty) => {
        impl $tr<$t> for &KerasTensor {
            type Output = KerasTensor;
            fn $m(self, rhs: $t) -> KerasTensor {
                tensor_scalar($class, self, rhs as f64, $f)
            }
        }
        impl $tr<$t> for KerasTensor {
            type Output = KerasTensor;
            fn $m(self, rhs: $t) -> KerasTensor {
                tensor_scalar($class, &self, rhs as f64, $f)
            }
        }
        impl $tr<&KerasTensor> for $t {
            type Output = KerasTensor;
            fn $m(self, rhs: &KerasTensor) -> KerasTensor {
                scalar_tensor($class, self as f64, rhs, $f)
            }
        }
        impl $tr<KerasTensor> for $t {
            type Output = KerasTensor;
            fn $m(self, rhs: KerasTensor) -> KerasTensor {
                scalar_tensor($class, self as f64, &rhs, $f)
            }
        }
    };
}

operator!(Add, add, "Add", Tensor::broadcast_add);
operator!(Sub, sub, "Subtract", Tensor::broadcast_sub);
operator!(Mul, mul, "Multiply", Tensor::broadcast_mul);
operator!(Div, div, "TrueDivide", Tensor::broadcast_div);

fn negative(x: &KerasTensor) -> KerasTensor {
    apply_or_defer(
        unary_op(NUMPY, "Negative", Config::new(), Tensor::neg),
        &[x],
    )
}

impl Neg for &KerasTensor {
    type Output = KerasTensor;
    fn neg(self) -> KerasTensor {
        negative(self)
    }
}

impl Neg for KerasTensor {
    type Output = KerasTensor;
    fn neg(self) -> KerasTensor {
        negative(&self)
    }
}

impl KerasTensor {
    /// Python's `x[key]` (Keras's `GetItem` op): `x.slice((.., 0))` is `x[:, 0]`,
    /// `x.slice((Idx::Ellipsis, 1..3))` is `x[..., 1:3]` (any [`crate::ops::IntoKey`]).
    ///
    /// ```
    /// use keras::prelude::*;
    /// use keras::ops::Idx;
    /// let x = Input::new(&[3, 4]);
    /// assert_eq!(x.slice((.., 0))?.shape().to_string(), "(None, 4)");
    /// assert_eq!(x.slice((Idx::Ellipsis, 1..3))?.shape().to_string(), "(None, 3, 2)");
    /// assert_eq!(x.slice(&[Idx::all(), Idx::NewAxis])?.shape().to_string(), "(None, 1, 3, 4)");
    /// # Ok::<(), keras::Error>(())
    /// ```
    pub fn slice(&self, key: impl crate::ops::IntoKey) -> Result<KerasTensor> {
        crate::ops::get_item(self, key)
    }
}

#[cfg(test)]
mod tests {
    use crate::layers::Input;

    #[test]
    fn operators_record_kerass_classes() {
        let x = Input::new([2]);
        let y = Input::new([2]);
        let classes: Vec<String> = [
            &x + &y,
            &x - 1.0,
            2.0 * &x,
            x.clone() / y.clone(),
            -x.clone(),
            3.0 / x.clone(),
        ]
        .iter()
        .map(|t| t.layer().class_name().to_string())
        .collect();
        assert_eq!(
            classes,
            [
                "Add",
                "Subtract",
                "Multiply",
                "TrueDivide",
                "Negative",
                "TrueDivide"
            ]
        );
        let v = (3.0 / x.clone()).layer().serialize().unwrap();
        assert_eq!(v["class_name"], "TrueDivide");
    }
}
