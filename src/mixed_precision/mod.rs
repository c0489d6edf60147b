//! `keras.mixed_precision`: dtype policies. A layer made under `mixed_bfloat16` or
//! `mixed_float16` keeps float32 variables and computes in the half type: its floating inputs
//! are cast on the way in and its weights are read in the compute dtype (Keras's autocast
//! scope), while losses compute in float32. `compile` wraps the optimizer of a
//! `mixed_float16` model in a [`crate::optimizers::LossScaleOptimizer`], as Keras does.
//!
//! ```
//! use keras::prelude::*;
//! keras::mixed_precision::set_global_policy("mixed_bfloat16")?;
//! let dense = Dense::new(4).into_layer();
//! keras::mixed_precision::set_global_policy("float32")?;
//! let y = dense.apply(&Tensor::ones((2, 3), DType::F32, &Device::Cpu)?)?;
//! assert_eq!(y.dtype(), DType::BF16);
//! assert_eq!(dense.weights()[0].dtype(), DType::F32);
//! # Ok::<(), keras::Error>(())
//! ```

mod policy;

pub(crate) use policy::AutocastScope;
pub use policy::{autocast_dtype, global_policy, set_global_policy, DTypePolicy};
