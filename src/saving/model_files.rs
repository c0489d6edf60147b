//! What a [`Model`] does with files, as Keras's `Model.save` / `save_weights` /
//! `load_weights`: here, beside the formats, so that `models` needs nothing from `saving`.

use crate::models::Model;
use crate::Result;

impl Model {
    /// Keras's `model.save("m.keras")`: the config, compile config, weights and optimizer
    /// state in Keras 3's `.keras` archive, which Python Keras's `load_model` reads; load it
    /// back with [`crate::saving::load_model`]. Written atomically (temporary file + rename).
    ///
    /// ```no_run
    /// # use keras::prelude::*;
    /// # fn f(model: &mut Model) -> keras::Result<()> {
    /// model.save("model.keras")?;
    /// let restored = keras::models::load_model("model.keras")?;
    /// # Ok(()) }
    /// ```
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        super::save_model(self, path)
    }

    /// Saves the weights (and, when compiled, the optimizer's state) in Keras 3's
    /// `.weights.h5` format, which Python Keras's `load_weights` reads. Written to a temporary
    /// file and renamed, so a crash never leaves a half-written file.
    ///
    /// ```no_run
    /// # use keras::prelude::*;
    /// # fn f(model: &mut Model) -> keras::Result<()> {
    /// model.save_weights("model.weights.h5")?;
    /// model.load_weights("model.weights.h5")?;
    /// # Ok(()) }
    /// ```
    pub fn save_weights(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        super::save_weights(self, path)
    }

    /// Loads weights saved by Python Keras 3 or by [`Model::save_weights`] into this model,
    /// which must have the same architecture (layers matched by position and class, as Keras
    /// does); the optimizer's state too, when compiled.
    pub fn load_weights(&mut self, path: impl AsRef<std::path::Path>) -> Result<()> {
        super::load_weights(self, path, false)
    }

    /// [`Model::load_weights`], leaving variables whose saved shape differs untouched
    /// (Keras's `skip_mismatch=True`).
    pub fn load_weights_skip_mismatch(&mut self, path: impl AsRef<std::path::Path>) -> Result<()> {
        super::load_weights(self, path, true)
    }
}
