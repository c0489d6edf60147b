//! Ready-made architectures, as `keras.applications`: `Xception` and `ResNet50`, built layer
//! for layer as Keras builds them (same layer names, shapes and parameter counts).
//!
//! No pretrained weights are downloaded (nothing is fetched at run time): `weights` must be
//! `None`; load Keras weights from a file once saving/loading is available.
//!
//! ```no_run
//! use keras::applications::Xception;
//! let base = Xception { include_top: false, ..Default::default() }.build()?;
//! # Ok::<(), keras::Error>(())
//! ```

mod resnet;
mod xception;

pub use resnet::ResNet50;
pub use xception::Xception;

use crate::engine::{KerasTensor, LayerExt};
use crate::layers::{Dense, GlobalAveragePooling2D, GlobalMaxPooling2D, Input};
use crate::{Error, Result};

/// Checks `weights` (only `None` is available) and makes the input.
fn input(
    weights: &Option<String>,
    shape: &Option<Vec<Option<usize>>>,
    default: [usize; 3],
    include_top: bool,
) -> Result<KerasTensor> {
    if let Some(w) = weights {
        return Err(Error::value(format!(
            "Pretrained weights are not downloaded by keras-rs (weights={w:?}); use `weights: None`."
        )));
    }
    let dims = match shape {
        Some(s) => s.clone(),
        None if include_top => default.iter().map(|&d| Some(d)).collect(),
        None => vec![None, None, Some(default[2])],
    };
    if dims.len() != 3 {
        return Err(Error::value(format!(
            "`input_shape` must have 3 dimensions (height, width, channels); received {dims:?}"
        )));
    }
    Ok(Input::new(dims))
}

/// The classifier head, or the optional pooling of a headless model.
fn head(
    x: KerasTensor,
    include_top: bool,
    pooling: Option<&str>,
    classes: usize,
    activation: &str,
) -> Result<KerasTensor> {
    if include_top {
        let x = GlobalAveragePooling2D::new().name("avg_pool").call(&x)?;
        return Dense::new(classes)
            .activation(activation)
            .name("predictions")
            .call(&x);
    }
    match pooling {
        None => Ok(x),
        Some("avg") => GlobalAveragePooling2D::new().call(&x),
        Some("max") => GlobalMaxPooling2D::new().call(&x),
        Some(other) => Err(Error::value(format!(
            "`pooling` must be None, \"avg\" or \"max\"; received {other:?}"
        ))),
    }
}
