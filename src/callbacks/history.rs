//! `History`: the callback that records every epoch's logs; `fit` returns it.

use super::logs::py_float;
use super::{Callback, CallbackContext, Logs, Params};
use crate::Result;

/// `history.history`: each metric's per-epoch values, keys in the order they first arrived
/// (`loss`, metrics, `val_` values, then what callbacks added, such as `learning_rate`), as
/// Keras's dict.
///
/// ```
/// use keras::callbacks::HistoryDict;
/// let mut h = HistoryDict::default();
/// h.push("loss", 0.5);
/// h.push("val_loss", 0.6);
/// assert_eq!(h["val_loss"], [0.6]);
/// assert_eq!(h.keys().collect::<Vec<_>>(), ["loss", "val_loss"]);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HistoryDict(Vec<(String, Vec<f64>)>);

impl HistoryDict {
    /// Appends `value` to `key`'s list (a new key goes last).
    pub fn push(&mut self, key: &str, value: f64) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => v.push(value),
            None => self.0.push((key.to_string(), vec![value])),
        }
    }
    /// The values of `key`.
    pub fn get(&self, key: &str) -> Option<&Vec<f64>> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    /// Whether `key` was recorded.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
    /// The keys, in arrival order.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }
    /// Keys and values, in arrival order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Vec<f64>)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
    /// Number of keys.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::ops::Index<&str> for HistoryDict {
    type Output = Vec<f64>;
    fn index(&self, key: &str) -> &Vec<f64> {
        self.get(key)
            .unwrap_or_else(|| panic!("KeyError: '{key}' is not in the History"))
    }
}

impl std::ops::Index<&String> for HistoryDict {
    type Output = Vec<f64>;
    fn index(&self, key: &String) -> &Vec<f64> {
        &self[key.as_str()]
    }
}

/// The record of a `fit` run: per-epoch values of every metric (`history`), the run's
/// parameters and the epoch numbers, as Keras's `History` object. Values are the logs' (in
/// `fit`, the float32 numbers the loop computed, widened to `f64`: Python's
/// `float(np.float32(x))`, so printing gives Keras's digits).
///
/// ```no_run
/// # use keras::prelude::*;
/// # fn f(h: keras::callbacks::History) {
/// println!("{:?}", h.history["loss"]);
/// println!("{}", h); // {'loss': [...], 'accuracy': [...], 'val_loss': [...], ...}
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct History {
    /// Values by metric name (`loss`, `accuracy`, `val_loss`, ...), one per epoch.
    pub history: HistoryDict,
    /// The run's parameters.
    pub params: Params,
    /// The epochs run (0-based).
    pub epoch: Vec<usize>,
}

impl Default for History {
    fn default() -> Self {
        History::new(Params {
            verbose: 1,
            epochs: 1,
            steps: None,
        })
    }
}

impl History {
    /// An empty History for a run with these parameters.
    pub fn new(params: Params) -> Self {
        History {
            history: HistoryDict::default(),
            params,
            epoch: vec![],
        }
    }

    /// The values of one metric.
    pub fn get(&self, name: &str) -> Option<&[f64]> {
        self.history.get(name).map(Vec::as_slice)
    }
}

impl Callback for History {
    fn on_train_begin(&mut self, _logs: &mut Logs, ctx: &mut CallbackContext) -> Result<()> {
        self.epoch.clear();
        self.params = ctx.params.clone();
        Ok(())
    }

    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        _ctx: &mut CallbackContext,
    ) -> Result<()> {
        self.epoch.push(epoch);
        for (name, v) in logs.iter() {
            // The loop's logs are float32 values already, as Keras's are.
            self.history.push(name, v);
        }
        Ok(())
    }
}

impl std::fmt::Display for History {
    /// Python's `repr` of `history.history`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .history
            .iter()
            .map(|(k, v)| {
                format!(
                    "'{k}': [{}]",
                    v.iter()
                        .map(|&x| py_float(x))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
            .collect();
        write!(f, "{{{}}}", parts.join(", "))
    }
}
