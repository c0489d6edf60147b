//! KerasTuner's `Oracle`: the bookkeeping every search shares (trials, their order, the
//! values tried so far, retries, `oracle.json`), and the [`Strategy`] trait through which
//! random search, grid search, Hyperband and Bayesian optimization propose values.

use super::hyperparameters::HyperParameters;
use super::objective::Objective;
use super::trial::{read_json, write_json, Trial, TrialStatus};
use super::value::HpValue;
use crate::serialization::Value;
use crate::utils::RandomState;
use crate::{Error, Result};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What a strategy proposes for the next trial.
#[derive(Clone, Debug, PartialEq)]
pub enum Populate {
    /// Run a trial with these values.
    Running(Vec<(String, HpValue)>),
    /// Wait for running trials.
    Idle,
    /// The search is over.
    Stopped,
}

/// How a tuner picks the values of its next trial (KerasTuner's `Oracle` subclasses:
/// `populate_space`, and their extra `get_state` / `set_state`).
pub trait Strategy {
    /// The values for trial `trial_id`.
    fn populate_space(&mut self, oracle: &mut OracleCore, trial_id: &str) -> Result<Populate>;
    /// Called after a trial ended.
    fn end_trial(&mut self, _oracle: &OracleCore, _trial_id: &str) {}
    /// The strategy's own state, saved in `oracle.json` beside the common one.
    fn get_state(&self) -> serde_json::Map<String, Value> {
        serde_json::Map::new()
    }
    /// Restores [`Strategy::get_state`].
    fn set_state(&mut self, _state: &Value) -> Result<()> {
        Ok(())
    }
    /// The `max_trials` the strategy imposes (`None` for Hyperband, which stops by itself).
    fn max_trials(&self) -> Option<usize>;
}

/// The state every oracle shares (KerasTuner's `Oracle` attributes).
pub struct OracleCore {
    /// What the search optimizes.
    pub objective: Objective,
    /// The most trials to run (`None`: until the strategy stops).
    pub max_trials: Option<usize>,
    /// The search space (grown as the model-building function declares hyperparameters).
    pub hyperparameters: HyperParameters,
    /// The trials by id.
    pub trials: BTreeMap<String, Trial>,
    /// Trial ids in the order they started.
    pub start_order: Vec<String>,
    /// Trial ids in the order they ended.
    pub end_order: Vec<String>,
    /// The seed (KerasTuner draws one in 1..=10000 when none is given).
    pub seed: u64,
    /// The next seed a random sample uses.
    pub seed_state: u64,
    /// Retries of a trial that raised, before it is marked failed.
    pub max_retries_per_trial: usize,
    /// Consecutive failed trials that stop the search.
    pub max_consecutive_failed_trials: usize,
    pub(crate) ongoing: Option<String>,
    run_times: BTreeMap<String, usize>,
    retry_queue: Vec<String>,
    tried_so_far: BTreeSet<String>,
    id_to_hash: BTreeMap<String, String>,
    pub(crate) project_dir: PathBuf,
}

impl OracleCore {
    /// The state of a new search; `seed` 0 or `None` draws one.
    pub fn new(objective: Objective, max_trials: Option<usize>, seed: Option<u64>) -> Self {
        let seed = seed
            .filter(|s| *s != 0)
            .unwrap_or_else(|| crate::utils::draw_seed() % 10000 + 1);
        OracleCore {
            objective,
            max_trials,
            hyperparameters: HyperParameters::new(),
            trials: BTreeMap::new(),
            start_order: vec![],
            end_order: vec![],
            seed,
            seed_state: seed,
            max_retries_per_trial: 0,
            max_consecutive_failed_trials: 3,
            ongoing: None,
            run_times: BTreeMap::new(),
            retry_queue: vec![],
            tried_so_far: BTreeSet::new(),
            id_to_hash: BTreeMap::new(),
            project_dir: PathBuf::from("."),
        }
    }

    /// Python's `random.Random(seed).random()`, as KerasTuner's `hp.random_sample(seed)`.
    pub fn python_random(seed: u64) -> f64 {
        let mut r = RandomState::python(seed);
        let a = (r.next_u32() >> 5) as f64;
        let b = (r.next_u32() >> 6) as f64;
        (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }

    /// Random values for every hyperparameter, unseen before (KerasTuner's `_random_values`:
    /// one seed per draw, `None` after 20 collisions with values already tried).
    pub fn random_values(&mut self) -> Option<Vec<(String, HpValue)>> {
        let mut collisions = 0;
        loop {
            let values: Vec<(String, HpValue)> = self
                .hyperparameters
                .space()
                .iter()
                .map(|hp| {
                    let v = hp.prob_to_value(Self::python_random(self.seed_state));
                    self.seed_state += 1;
                    (hp.name().to_string(), v)
                })
                .collect();
            if self.tried_so_far.contains(&values_hash(&values)) {
                collisions += 1;
                if collisions > 20 {
                    return None;
                }
                continue;
            }
            return Some(values);
        }
    }

    /// Whether these values were tried already.
    pub fn tried(&self, values: &[(String, HpValue)]) -> bool {
        self.tried_so_far.contains(&values_hash(values))
    }

    /// The completed trials, best first; then the others (KerasTuner's `get_best_trials`).
    pub fn get_best_trials(&self, n: usize) -> Vec<&Trial> {
        let mut done: Vec<&Trial> = self
            .trials
            .values()
            .filter(|t| t.status == TrialStatus::Completed)
            .collect();
        let max = self.objective.direction == "max";
        done.sort_by(|a, b| {
            let (x, y) = (a.score.unwrap_or(f64::NAN), b.score.unwrap_or(f64::NAN));
            let o = x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal);
            if max {
                o.reverse()
            } else {
                o
            }
        });
        if done.len() < n {
            done.extend(
                self.trials
                    .values()
                    .filter(|t| t.status != TrialStatus::Completed),
            );
        }
        done.truncate(n);
        done
    }

    /// `max_trials` minus the trials created so far.
    pub fn remaining_trials(&self) -> Option<usize> {
        self.max_trials.map(|m| m.saturating_sub(self.trials.len()))
    }

    /// Adds hyperparameters a build declared (KerasTuner's `update_space`).
    pub fn update_space(&mut self, hp: &HyperParameters) {
        self.hyperparameters.merge(hp.space());
    }

    /// The next trial, or `None` when the search is over (KerasTuner's `create_trial`).
    pub(crate) fn create_trial(&mut self, strategy: &mut dyn Strategy) -> Result<Option<Trial>> {
        if let Some(id) = self.retry_queue.pop() {
            let t = self
                .trials
                .get_mut(&id)
                .ok_or_else(|| Error::runtime("lost trial"))?;
            t.status = TrialStatus::Running;
            self.ongoing = Some(id.clone());
            let t = t.clone();
            self.save_with(strategy)?;
            return Ok(Some(t));
        }
        let width = match self.max_trials {
            Some(m) => m.to_string().len(),
            None => 4, // len(str(None)), as KerasTuner
        };
        let trial_id = format!("{:0width$}", self.trials.len());
        let pop = if self.max_trials.is_some_and(|m| self.trials.len() >= m) {
            Populate::Stopped
        } else {
            strategy.populate_space(self, &trial_id)?
        };
        let values = match pop {
            Populate::Running(v) => v,
            Populate::Idle | Populate::Stopped => return Ok(None),
        };
        let mut trial = Trial::new(&trial_id, self.hyperparameters.with_values(values));
        self.record_values(&mut trial);
        self.ongoing = Some(trial_id.clone());
        self.trials.insert(trial_id.clone(), trial.clone());
        self.start_order.push(trial_id);
        self.save_trial(&trial)?;
        self.save_with(strategy)?;
        Ok(Some(trial))
    }

    /// Ends `trial`: scores it, records it, queues a retry or checks the failures
    /// (KerasTuner's `end_trial`).
    pub(crate) fn end_trial(
        &mut self,
        mut trial: Trial,
        strategy: &mut dyn Strategy,
    ) -> Result<()> {
        self.update_space(&trial.hyperparameters);
        if trial.status == TrialStatus::Completed {
            match trial.best(&self.objective.name, &self.objective) {
                Some((score, step)) => {
                    trial.score = Some(score);
                    trial.best_step = Some(step);
                }
                None => trial.status = TrialStatus::Invalid,
            }
        }
        self.record_values(&mut trial);
        let id = trial.trial_id.clone();
        *self.run_times.entry(id.clone()).or_insert(0) += 1;
        let retry = trial.status == TrialStatus::Invalid
            && self.run_times[&id] < self.max_retries_per_trial + 1;
        if trial.status == TrialStatus::Invalid && !retry {
            trial.status = TrialStatus::Failed;
        }
        self.trials.insert(id.clone(), trial.clone());
        self.ongoing = None;
        if retry {
            self.retry_queue.push(id.clone());
        } else {
            self.end_order.push(id.clone());
        }
        self.save_trial(&trial)?;
        strategy.end_trial(self, &id);
        self.save_with(strategy)?;
        if !retry {
            self.check_consecutive_failures()?;
        }
        Ok(())
    }

    fn check_consecutive_failures(&self) -> Result<()> {
        let mut n = 0;
        for id in &self.end_order {
            let t = &self.trials[id];
            if t.status == TrialStatus::Failed {
                n += 1;
            } else {
                n = 0;
            }
            if n == self.max_consecutive_failed_trials {
                return Err(Error::runtime(format!(
                    "Number of consecutive failures exceeded the limit of {}.\n{}",
                    self.max_consecutive_failed_trials,
                    t.message.clone().unwrap_or_default()
                )));
            }
        }
        Ok(())
    }

    fn record_values(&mut self, trial: &mut Trial) {
        trial.hyperparameters.ensure_active_values();
        let h = values_hash(trial.hyperparameters.values());
        self.tried_so_far.insert(h.clone());
        if let Some(old) = self.id_to_hash.insert(trial.trial_id.clone(), h.clone()) {
            if old != h {
                self.tried_so_far.remove(&old);
            }
        }
    }

    fn trial_dir(&self, id: &str) -> PathBuf {
        self.project_dir.join(format!("trial_{id}"))
    }

    /// `trial_<id>/trial.json`.
    pub(crate) fn save_trial(&self, trial: &Trial) -> Result<()> {
        trial.save(&self.trial_dir(&trial.trial_id).join("trial.json"))
    }

    /// The checkpoint of a trial's best epoch.
    pub(crate) fn checkpoint(&self, id: &str) -> PathBuf {
        self.trial_dir(id).join("checkpoint.weights.h5")
    }

    fn oracle_file(&self) -> PathBuf {
        self.project_dir.join("oracle.json")
    }

    fn state(&self) -> serde_json::Map<String, Value> {
        let ongoing: serde_json::Map<String, Value> = self
            .ongoing
            .iter()
            .map(|id| ("tuner0".to_string(), json!(id)))
            .collect();
        let m = json!({
            "ongoing_trials": ongoing,
            "hyperparameters": self.hyperparameters.get_config(),
            "start_order": self.start_order,
            "end_order": self.end_order,
            "run_times": self.run_times,
            "retry_queue": self.retry_queue,
            "seed": self.seed,
            "seed_state": self.seed_state,
            "tried_so_far": self.tried_so_far,
            "id_to_hash": self.id_to_hash,
            "display": {"search_start": null, "trial_start": {}, "trial_number": {}},
        });
        match m {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    /// Writes `oracle.json` with the strategy's state.
    pub(crate) fn save_with(&self, strategy: &dyn Strategy) -> Result<()> {
        let mut state = self.state();
        state.extend(strategy.get_state());
        write_json(&self.oracle_file(), &Value::Object(state))
    }

    /// Reads the trials and `oracle.json` of `project_dir` (KerasTuner's `reload`); a trial
    /// that was running is queued to run again.
    pub(crate) fn reload(&mut self, strategy: &mut dyn Strategy) -> Result<()> {
        let dir = &self.project_dir;
        let entries = std::fs::read_dir(dir)
            .map_err(|e| Error::io(format!("cannot read {}", dir.display()), e))?;
        for e in entries.flatten() {
            let p = e.path().join("trial.json");
            if e.file_name().to_string_lossy().starts_with("trial_") && p.exists() {
                let t = Trial::load(&p)?;
                self.trials.insert(t.trial_id.clone(), t);
            }
        }
        let state = read_json(&self.oracle_file()).map_err(|e| {
            Error::runtime(format!(
                "Error reloading `Oracle` from existing project. If you did not mean to reload from an existing project, \
                 change the `project_name` or pass `overwrite=True` when creating the `Tuner`. Found existing project at: {} ({e})",
                dir.display()
            ))
        })?;
        let strs = |k: &str| -> Vec<String> {
            state
                .get(k)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default()
        };
        if let Some(h) = state.get("hyperparameters") {
            self.hyperparameters = HyperParameters::from_config(h)?;
        }
        self.start_order = strs("start_order");
        self.end_order = strs("end_order");
        self.retry_queue = strs("retry_queue");
        self.tried_so_far = strs("tried_so_far").into_iter().collect();
        if let Some(s) = state.get("seed").and_then(Value::as_u64) {
            self.seed = s;
        }
        if let Some(s) = state.get("seed_state").and_then(Value::as_u64) {
            self.seed_state = s;
        }
        let map = |k: &str| {
            state
                .get(k)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        self.run_times = map("run_times")
            .into_iter()
            .filter_map(|(k, v)| Some((k, v.as_u64()? as usize)))
            .collect();
        self.id_to_hash = map("id_to_hash")
            .into_iter()
            .filter_map(|(k, v)| Some((k, v.as_str()?.to_string())))
            .collect();
        for (_, id) in map("ongoing_trials") {
            if let Some(id) = id.as_str() {
                self.retry_queue.push(id.to_string());
            }
        }
        self.ongoing = None;
        strategy.set_state(&state)
    }

    pub(crate) fn set_project_dir(&mut self, dir: &Path) {
        self.project_dir = dir.to_path_buf();
    }
}

/// KerasTuner's `_compute_values_hash`: the sorted `name=value` pairs, `tuner/` entries left
/// out (as Hyperband's override does).
pub(crate) fn values_hash(values: &[(String, HpValue)]) -> String {
    let mut v: Vec<&(String, HpValue)> = values
        .iter()
        .filter(|(k, _)| !k.starts_with("tuner/"))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_random_matches_cpython() {
        // random.Random(42).random() and random.Random(1).random() in CPython.
        assert_eq!(OracleCore::python_random(42), 0.6394267984578837);
        assert_eq!(OracleCore::python_random(1), 0.13436424411240122);
    }
}
