//! `History`: what `fit` returns.

use std::collections::BTreeMap;

/// The parameters of a `fit` run, as Keras's `history.params`.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryParams {
    /// The verbosity.
    pub verbose: u8,
    /// Number of epochs asked for.
    pub epochs: usize,
    /// Batches per epoch.
    pub steps: usize,
}

/// The record of a `fit` run: per-epoch values of every metric (`history`), the run's
/// parameters and the epoch numbers, as Keras's `History` object.
///
/// ```no_run
/// # use keras::prelude::*;
/// # fn f(h: keras::callbacks::History) {
/// println!("{:?}", h.history["loss"]);
/// println!("{}", h); // {'accuracy': [...], 'loss': [...], ...}
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct History {
    /// Values by metric name (`loss`, `accuracy`, `val_loss`, ...), one per epoch.
    pub history: BTreeMap<String, Vec<f64>>,
    /// The run's parameters.
    pub params: HistoryParams,
    /// The epochs run (0-based).
    pub epoch: Vec<usize>,
}

impl History {
    pub(crate) fn new(params: HistoryParams) -> Self {
        History {
            history: BTreeMap::new(),
            params,
            epoch: vec![],
        }
    }

    pub(crate) fn record(&mut self, epoch: usize, logs: &super::Logs) {
        self.epoch.push(epoch);
        for (name, v) in logs.iter() {
            self.history.entry(name.to_string()).or_default().push(v);
        }
    }

    /// The values of one metric.
    pub fn get(&self, name: &str) -> Option<&[f64]> {
        self.history.get(name).map(Vec::as_slice)
    }
}

/// Python's `repr` of a float: the shortest round-trip form, with `.0` on whole numbers.
fn py_float(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let s = format!("{x}");
    if s.contains('.') || s.contains('e') {
        s
    } else {
        format!("{s}.0")
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
