//! Models: functional graphs, `Sequential`, and what every model can do.
//!
//! ```
//! use keras::prelude::*;
//! let model = Sequential::from_layers([
//!     Input::new(&[64]).into(),
//!     Dense::new(32).activation("relu").into(),
//!     Dense::new(32).activation("relu").into(),
//!     Dense::new(10).activation("softmax").into(),
//! ])?;
//! assert!(model.summary_string().contains("Total params: 3,466 (13.54 KB)"));
//! # Ok::<(), keras::Error>(())
//! ```

mod config;
mod ensemble;
pub(crate) mod functional;
mod functional_config;
mod model;
pub(crate) mod sequential;
mod sequential_config;
pub(crate) mod subclass;
mod summary;

// Keras's `keras.models.load_model`, the one name of this module that `saving` defines.
pub use crate::saving::load_model;
pub use config::{model_from_config, model_from_json};
pub use ensemble::ensemble;
pub use functional::Functional;
pub use model::Model;
pub use sequential::{Sequential, SequentialNet};
pub use subclass::Subclass;
pub use summary::thousands;
