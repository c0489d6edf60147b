//! `use keras::prelude::*;` brings in what a Keras program uses.
//!
//! ```
//! use keras::prelude::*;
//! let x = Input::new(shape![None, 8]);
//! assert_eq!(x.shape(), &shape![None, None, 8]);
//! ```

pub use crate::activations::Act;
pub use crate::callbacks::{Callback, History, Logs};
pub use crate::data::Dataset;
pub use crate::engine::{CallCtx, LayerArgs, OptionalWeight, Weight, WeightBuilder};
pub use crate::engine::{KerasTensor, Layer, LayerExt, LayerRef, Shape};
pub use crate::layers::{
    Activation, Dense, Dropout, Embedding, Flatten, Input, InputLayer, Lambda, Recurrent, Reshape,
};
pub use crate::models::{Model, Sequential};
pub use crate::ops::{DType, Device, Idx, Tensor};
pub use crate::optimizers::{
    Adadelta, Adafactor, Adagrad, Adam, AdamW, Adamax, Ftrl, Lamb, Lion, LossScaleOptimizer, Muon,
    Nadam, Optimizer, OptimizerExt, RMSprop, SGD,
};
pub use crate::trainers::{BatchArgs, CompileArgs, Data, DataSource, EvalArgs, FitArgs, Sequence};
pub use crate::{shape, Error, Result};
