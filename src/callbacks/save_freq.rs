//! `save_freq` / `update_freq`: `"epoch"`, `"batch"` or every N batches.

use crate::{Error, Result};

/// How often a callback saves (or logs): once per epoch, or every N batches.
///
/// ```
/// use keras::callbacks::SaveFreq;
/// assert_eq!(SaveFreq::from("epoch"), SaveFreq::Epoch);
/// assert_eq!(SaveFreq::from(100), SaveFreq::Batches(100));
/// assert_eq!(SaveFreq::from("batch"), SaveFreq::Batches(1));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SaveFreq {
    /// At the end of every epoch.
    Epoch,
    /// After every N training batches.
    Batches(usize),
    /// A value that is neither (reported when training starts).
    Invalid(String),
}

impl From<&str> for SaveFreq {
    fn from(s: &str) -> Self {
        match s {
            "epoch" => SaveFreq::Epoch,
            "batch" => SaveFreq::Batches(1),
            _ => SaveFreq::Invalid(s.to_string()),
        }
    }
}

impl From<usize> for SaveFreq {
    fn from(n: usize) -> Self {
        SaveFreq::Batches(n)
    }
}

impl SaveFreq {
    /// Refuses an unknown string or 0 batches; `arg` names the argument in the error.
    pub(crate) fn check(&self, who: &str, arg: &str) -> Result<()> {
        match self {
            SaveFreq::Invalid(s) => Err(Error::value(format!(
                "{who}: unrecognized {arg}: {s}. Expected {arg} are 'epoch' or integer values. \
                 Received: {arg}={s}"
            ))),
            SaveFreq::Batches(0) => Err(Error::value(format!(
                "{who}: {arg} must be a positive number of batches. Received: {arg}=0"
            ))),
            _ => Ok(()),
        }
    }
}

/// Counts batches towards the next save, as Keras's `_should_save_on_batch`.
#[derive(Clone, Debug, Default)]
pub(crate) struct BatchCounter {
    since_last: usize,
    last_batch: Option<usize>,
}

impl BatchCounter {
    /// Whether batch `batch` (0-based within its epoch) completes `every` batches.
    pub fn tick(&mut self, batch: usize, every: usize) -> bool {
        let add = match self.last_batch {
            Some(last) if batch > last => batch - last,
            _ => batch + 1,
        };
        self.since_last += add;
        self.last_batch = Some(batch);
        if self.since_last >= every {
            self.since_last = 0;
            return true;
        }
        false
    }
}
