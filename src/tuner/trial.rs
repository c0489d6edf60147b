//! KerasTuner's `Trial`: one set of hyperparameter values, its status, the metrics reported
//! for it and its score; saved as `trial_<id>/trial.json` in KerasTuner's layout.

use super::hyperparameters::HyperParameters;
use super::value::py_float;
use crate::serialization::Value;
use crate::{Error, Result};
use serde_json::json;
use std::path::Path;

/// Where a trial stands (KerasTuner's `TrialStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrialStatus {
    /// Being run.
    Running,
    /// The oracle waits for running trials before it can propose one.
    Idle,
    /// Crashed or infeasible; may be retried.
    Invalid,
    /// Stopped (nothing left to search).
    Stopped,
    /// Finished normally.
    Completed,
    /// Failed for good.
    Failed,
}

impl TrialStatus {
    /// KerasTuner's string (`"COMPLETED"`, ...).
    pub fn as_str(&self) -> &'static str {
        match self {
            TrialStatus::Running => "RUNNING",
            TrialStatus::Idle => "IDLE",
            TrialStatus::Invalid => "INVALID",
            TrialStatus::Stopped => "STOPPED",
            TrialStatus::Completed => "COMPLETED",
            TrialStatus::Failed => "FAILED",
        }
    }
    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "RUNNING" => TrialStatus::Running,
            "IDLE" => TrialStatus::Idle,
            "INVALID" => TrialStatus::Invalid,
            "STOPPED" => TrialStatus::Stopped,
            "COMPLETED" => TrialStatus::Completed,
            "FAILED" => TrialStatus::Failed,
            other => return Err(Error::format(format!("unknown trial status: {other}"))),
        })
    }
}

/// The values reported for one metric: `(value, step)` pairs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetricHistory {
    /// `"min"`, `"max"` or unknown.
    pub direction: Option<String>,
    /// `(value, step)` in the order reported.
    pub observations: Vec<(f64, usize)>,
}

/// One trial of a search.
///
/// ```
/// use keras::tuner::{HyperParameters, Trial};
/// let mut hp = HyperParameters::new();
/// hp.int("units", 16, 64)?;
/// let mut t = Trial::new("03", hp);
/// t.score = Some(0.97);
/// assert_eq!(t.summary(), "Trial 03 summary\nHyperparameters:\nunits: 16\nScore: 0.97\n");
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Trial {
    /// The id (`"00"`, `"01"`, ..., zero-padded to the width of `max_trials`).
    pub trial_id: String,
    /// The search space and this trial's values.
    pub hyperparameters: HyperParameters,
    /// The metrics reported, by name.
    pub metrics: Vec<(String, MetricHistory)>,
    /// The objective's best value.
    pub score: Option<f64>,
    /// The epoch of the best value.
    pub best_step: Option<usize>,
    /// Where it stands.
    pub status: TrialStatus,
    /// The error of a failed trial.
    pub message: Option<String>,
}

impl Trial {
    /// A running trial.
    pub fn new(trial_id: &str, hyperparameters: HyperParameters) -> Self {
        Trial {
            trial_id: trial_id.to_string(),
            hyperparameters,
            metrics: vec![],
            score: None,
            best_step: None,
            status: TrialStatus::Running,
            message: None,
        }
    }

    /// Records `metrics` at `step` (KerasTuner's `oracle.update_trial`).
    pub fn update(&mut self, metrics: &[(String, f64)], step: usize, objective: &super::Objective) {
        for (name, value) in metrics {
            let i = match self.metrics.iter().position(|(n, _)| n == name) {
                Some(i) => i,
                None => {
                    // KerasTuner's `MetricsTracker.register`: the objective's direction,
                    // else inferred from the name, else "min".
                    let direction = if name == &objective.name {
                        objective.direction.clone()
                    } else {
                        super::Objective::infer(name)
                            .map(|o| o.direction)
                            .unwrap_or_else(|_| "min".into())
                    };
                    let direction = Some(direction);
                    self.metrics.push((
                        name.clone(),
                        MetricHistory {
                            direction,
                            observations: vec![],
                        },
                    ));
                    self.metrics.len() - 1
                }
            };
            self.metrics[i].1.observations.push((*value, step));
        }
    }

    /// The best value reported for `name` and its step.
    pub fn best(&self, name: &str, objective: &super::Objective) -> Option<(f64, usize)> {
        let (_, h) = self.metrics.iter().find(|(n, _)| n == name)?;
        let mut best: Option<(f64, usize)> = None;
        for &(v, s) in &h.observations {
            if v.is_nan() {
                continue;
            }
            if best.is_none_or(|(b, _)| objective.better_than(v, b)) {
                best = Some((v, s));
            }
        }
        best
    }

    /// KerasTuner's `trial.summary()` text.
    pub fn summary(&self) -> String {
        let mut s = format!("Trial {} summary\nHyperparameters:\n", self.trial_id);
        if self.hyperparameters.values().is_empty() {
            s.push_str("default configuration\n");
        }
        for (name, v) in self.hyperparameters.values() {
            s.push_str(&format!("{name}: {v}\n"));
        }
        if let Some(score) = self.score {
            s.push_str(&format!("Score: {}\n", py_float(score)));
        }
        if let Some(m) = &self.message {
            s.push_str(m);
            s.push('\n');
        }
        s
    }

    /// KerasTuner's `trial.get_state()`, the content of `trial.json`.
    pub fn get_state(&self) -> Value {
        let metrics: serde_json::Map<String, Value> = self
            .metrics
            .iter()
            .map(|(n, h)| {
                let obs: Vec<Value> = h
                    .observations
                    .iter()
                    .map(|(v, s)| json!({"value": [v], "step": s}))
                    .collect();
                (
                    n.clone(),
                    json!({"direction": h.direction, "observations": obs}),
                )
            })
            .collect();
        json!({
            "trial_id": self.trial_id,
            "hyperparameters": self.hyperparameters.get_config(),
            "metrics": {"metrics": metrics},
            "score": self.score,
            "best_step": self.best_step,
            "status": self.status.as_str(),
            "message": self.message,
        })
    }

    /// Reads [`Trial::get_state`]'s form.
    pub fn from_state(v: &Value) -> Result<Trial> {
        let bad = |what: &str| Error::format(format!("trial.json: missing or bad `{what}`"));
        let trial_id = v
            .get("trial_id")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("trial_id"))?;
        let hyperparameters = HyperParameters::from_config(
            v.get("hyperparameters")
                .ok_or_else(|| bad("hyperparameters"))?,
        )?;
        let mut metrics = vec![];
        if let Some(Value::Object(m)) = v.pointer("/metrics/metrics") {
            for (name, h) in m {
                let direction = h.get("direction").and_then(Value::as_str).map(String::from);
                let mut observations = vec![];
                for o in h
                    .get("observations")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let vals: Vec<f64> = match o.get("value") {
                        Some(Value::Array(a)) => a.iter().filter_map(Value::as_f64).collect(),
                        Some(x) => x.as_f64().into_iter().collect(),
                        None => vec![],
                    };
                    let mean = vals.iter().sum::<f64>() / vals.len().max(1) as f64;
                    let step = o.get("step").and_then(Value::as_f64).unwrap_or(0.0) as usize;
                    observations.push((mean, step));
                }
                metrics.push((
                    name.clone(),
                    MetricHistory {
                        direction,
                        observations,
                    },
                ));
            }
        }
        Ok(Trial {
            trial_id: trial_id.to_string(),
            hyperparameters,
            metrics,
            score: v.get("score").and_then(Value::as_f64),
            best_step: v
                .get("best_step")
                .and_then(Value::as_f64)
                .map(|s| s as usize),
            status: TrialStatus::parse(
                v.get("status")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("status"))?,
            )?,
            message: v.get("message").and_then(Value::as_str).map(String::from),
        })
    }

    /// Writes `trial.json` atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        write_json(path, &self.get_state())
    }

    /// Reads a `trial.json`.
    pub fn load(path: &Path) -> Result<Trial> {
        Trial::from_state(&read_json(path)?)
    }
}

/// Writes pretty JSON through a temporary file renamed over `path`.
pub(crate) fn write_json(path: &Path, v: &Value) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    }
    let text = serde_json::to_string_pretty(v).map_err(|e| Error::format(e.to_string()))?;
    crate::ops::npy::write_atomic(path, |f| {
        use std::io::Write;
        f.write_all(text.as_bytes())
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
    })
}

/// Reads a JSON file.
pub(crate) fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    serde_json::from_str(&text).map_err(|e| Error::format(format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tuner::Objective;

    #[test]
    fn state_round_trip() {
        let mut hp = HyperParameters::new();
        hp.int("units", 16, 64).unwrap();
        let mut t = Trial::new("1", hp);
        let obj = Objective::infer("val_loss").unwrap();
        t.update(&[("val_loss".into(), 0.5), ("loss".into(), 0.4)], 2, &obj);
        t.score = Some(0.5);
        t.best_step = Some(2);
        t.status = TrialStatus::Completed;
        let back = Trial::from_state(&t.get_state()).unwrap();
        assert_eq!(back.best("val_loss", &obj), Some((0.5, 2)));
        assert_eq!(back.score, t.score);
        assert_eq!(back.status, TrialStatus::Completed);
        assert_eq!(back.hyperparameters, t.hyperparameters);
    }
}
