//! `TerminateOnNaN`: stop training when the loss becomes NaN or infinite, as Keras 3's
//! `keras/src/callbacks/terminate_on_nan.py`.

use super::{Callback, CallbackContext, Logs};
use crate::{Error, Result};

/// Stops `fit` at the first batch whose loss is NaN or infinite (with `raise_error`, fails
/// instead). Without it, keras-rs's `fit` returns an error at such a batch; with it, `fit`
/// ends normally and returns the History so far. The bad batch never changes the weights.
///
/// ```
/// use keras::callbacks::TerminateOnNaN;
/// let mut nan = TerminateOnNaN::new();
/// ```
#[derive(Default)]
pub struct TerminateOnNaN {
    raise_error: bool,
}

impl TerminateOnNaN {
    /// Stops training quietly (prints one line).
    pub fn new() -> Self {
        Self::default()
    }
    /// Fail with an error instead of stopping.
    pub fn raise_error(mut self, raise_error: bool) -> Self {
        self.raise_error = raise_error;
        self
    }
}

impl Callback for TerminateOnNaN {
    fn on_train_batch_end(
        &mut self,
        batch: usize,
        logs: &mut Logs,
        ctx: &mut CallbackContext,
    ) -> Result<()> {
        if let Some(loss) = logs.get("loss") {
            if !loss.is_finite() {
                if self.raise_error {
                    return Err(Error::runtime(format!(
                        "NaN or Inf loss encountered at batch {batch}. Loss value: {}. \
                         Terminating training immediately.",
                        super::logs::py_float(loss)
                    )));
                }
                println!("Batch {batch}: Invalid loss, terminating training");
                ctx.model.stop_training = true;
            }
        }
        Ok(())
    }
}
