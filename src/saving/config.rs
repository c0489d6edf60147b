//! The old path of the generic config reader, [`crate::serialization`] (re-exported here so
//! code written against `keras::saving::config` still builds). Nothing in the crate reads
//! configs through `saving` any more: each domain reads and writes its own config beside its
//! code (`Cfg::activation` in `activations`, `Cfg::initializer` in `initializers`,
//! `Cfg::regularizer` in `regularizers`, dtypes in `ops`, the base keys in
//! `engine::config`).
//!
//! ```
//! use keras::saving::config::{config, json, Cfg};
//! let map = config(json!({"units": 2}));
//! assert_eq!(Cfg::new("Dense", &map).usize("units")?, 2);
//! # Ok::<(), keras::Error>(())
//! ```

pub use crate::serialization::*;
