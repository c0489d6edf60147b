//! Keras 2's whole-model HDF5 files (`model.save("my_model.h5")`), which Keras 3 reads and
//! writes as its legacy format: [`load_h5_model`], [`save_h5_model`], and the Keras 2 <->
//! Keras 3 config translations they use.
//!
//! ```
//! use keras::prelude::*;
//! let mut model = Sequential::from_layers([Input::new(&[4]).into(), Dense::new(2).into()])?;
//! model.compile("adam", "mse", ["mae"])?;
//! let path = std::env::temp_dir().join(format!("doc_legacy_{}.h5", std::process::id()));
//! model.save(&path)?;
//! let loaded = keras::saving::load_model(&path)?;
//! assert_eq!(loaded.count_params(), 10);
//! # std::fs::remove_file(&path).ok();
//! # Ok::<(), keras::Error>(())
//! ```

pub mod h5_model;
pub mod h5_writer;
pub mod keras2_config;
mod keras2_export;
pub mod training_config;

pub use h5_model::{is_h5_path, load_h5_model, save_h5_model};
