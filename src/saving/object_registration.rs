//! Keras's `keras.saving.object_registration`: the one registry of the classes a config can
//! name, keyed by kind and class name. It lives beside the leaf config reader, in
//! [`crate::serialization::registration`], so modules below `saving` use it too; this is the
//! same module under Keras's path.
//!
//! ```
//! use keras::engine::LayerRef;
//! use keras::saving::object_registration::registered_names;
//! assert!(registered_names::<LayerRef>().contains(&"Dense".to_string()));
//! ```

pub use crate::serialization::registration::*;
