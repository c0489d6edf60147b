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

pub(crate) mod functional;
mod model;
pub(crate) mod sequential;
pub(crate) mod subclass;
mod summary;

pub use crate::saving::{load_model, model_from_json};
pub use functional::Functional;
pub use model::Model;
pub use sequential::{Sequential, SequentialNet};
pub use subclass::Subclass;
pub use summary::thousands;
