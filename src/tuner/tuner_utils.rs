//! KerasTuner's `tuner_utils`: the callback that keeps a trial's best epoch, and the reading of
//! a History into the metrics of its best epoch.

use super::objective::Objective;
use crate::callbacks::{Callback, CallbackContext, History, Logs};
use crate::{Error, Result};
use std::path::PathBuf;

/// Saves the model's weights whenever the objective improves (KerasTuner's `SaveBestEpoch`);
/// every epoch when the logs lack the objective.
pub(crate) struct SaveBestEpoch {
    objective: Objective,
    filepath: PathBuf,
    best_value: f64,
}

impl SaveBestEpoch {
    pub fn new(objective: Objective, filepath: PathBuf) -> Self {
        let best_value = objective.worst();
        SaveBestEpoch {
            objective,
            filepath,
            best_value,
        }
    }
}

impl Callback for SaveBestEpoch {
    fn on_epoch_end(
        &mut self,
        _epoch: usize,
        logs: &mut Logs,
        ctx: &mut CallbackContext,
    ) -> Result<()> {
        match logs.get(&self.objective.name) {
            None => ctx.model.save_weights(&self.filepath),
            Some(v) if self.objective.better_than(v, self.best_value) => {
                self.best_value = v;
                ctx.model.save_weights(&self.filepath)
            }
            Some(_) => Ok(()),
        }
    }
}

/// The metrics of the History's best epoch and that epoch's index (KerasTuner's
/// `_get_best_value_and_best_epoch_from_history`).
pub(crate) fn best_epoch(
    history: &History,
    objective: &Objective,
) -> Result<(Vec<(String, f64)>, usize)> {
    let n = history
        .history
        .iter()
        .map(|(_, v)| v.len())
        .max()
        .unwrap_or(0);
    let epoch = |i: usize| -> Vec<(String, f64)> {
        history
            .history
            .iter()
            .filter_map(|(k, v)| v.get(i).map(|x| (k.clone(), *x)))
            .collect()
    };
    let value = |m: &[(String, f64)]| {
        m.iter()
            .find(|(k, _)| *k == objective.name)
            .map(|(_, v)| *v)
    };
    let mut best = 0;
    for i in 0..n {
        let m = epoch(i);
        let v = value(&m).ok_or_else(|| missing(objective, &m))?;
        let b = value(&epoch(best)).unwrap_or(f64::NAN);
        if objective.better_than(v, b) {
            best = i;
        }
    }
    let m = epoch(best);
    if value(&m).is_none() {
        return Err(missing(objective, &m));
    }
    Ok((m, best))
}

fn missing(objective: &Objective, found: &[(String, f64)]) -> Error {
    let names: Vec<String> = found.iter().map(|(k, _)| format!("'{k}'")).collect();
    Error::value(format!(
        "Objective value missing in metrics reported to the Oracle, expected: ['{}'], found: dict_keys([{}])",
        objective.name,
        names.join(", ")
    ))
}

/// The mean of each metric over executions (KerasTuner's `average_metrics_dicts`).
pub(crate) fn average(results: &[Vec<(String, f64)>]) -> Vec<(String, f64)> {
    let mut out: Vec<(String, Vec<f64>)> = vec![];
    for r in results {
        for (k, v) in r {
            match out.iter_mut().find(|(n, _)| n == k) {
                Some((_, vs)) => vs.push(*v),
                None => out.push((k.clone(), vec![*v])),
            }
        }
    }
    out.into_iter()
        .map(|(k, vs)| (k, vs.iter().sum::<f64>() / vs.len() as f64))
        .collect()
}
