//! KerasTuner's `GridSearch`: every combination of values, in order (the last
//! hyperparameter changing fastest, each starting from its default), until the grid is
//! exhausted or `max_trials` is reached. A `Float` without a step and an `Int` with log
//! sampling and no step get ten values, as KerasTuner's.

use super::hyperparameters::HyperParameters;
use super::oracle::{OracleCore, Populate, Strategy};
use super::tuner::Tuner;
use super::value::HpValue;
use crate::models::Model;
use crate::serialization::Value;
use crate::Result;
use serde_json::json;

/// The grid-search oracle (KerasTuner's `GridSearchOracle`).
#[derive(Clone, Debug, Default)]
pub struct GridSearchOracle {
    /// The most trials (`None`: the whole grid).
    pub max_trials: Option<usize>,
    ordered_ids: Vec<String>,
    populate_next: Vec<String>,
}

/// Each hyperparameter's values, its default first.
fn all_values(space: &HyperParameters) -> Vec<(String, Vec<HpValue>)> {
    space
        .space()
        .iter()
        .map(|hp| {
            let d = hp.default_value();
            let mut v = vec![d.clone()];
            v.extend(hp.values().into_iter().filter(|x| *x != d));
            (hp.name().to_string(), v)
        })
        .collect()
}

/// The combination after `values` (KerasTuner's `_get_next_combination`), `None` after the
/// last.
pub(crate) fn next_combination(
    space: &HyperParameters,
    values: &[(String, HpValue)],
) -> Option<Vec<(String, HpValue)>> {
    let all = all_values(space);
    let mut cur: Vec<(String, HpValue)> = all
        .iter()
        .map(|(n, vs)| {
            let v = values.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
            (n.clone(), v.unwrap_or_else(|| vs[0].clone()))
        })
        .collect();
    for i in (0..all.len()).rev() {
        let (_, vs) = &all[i];
        let pos = vs.iter().position(|v| *v == cur[i].1).unwrap_or(0);
        if pos + 1 < vs.len() {
            cur[i].1 = vs[pos + 1].clone();
            return Some(cur);
        }
        cur[i].1 = vs[0].clone();
    }
    None
}

/// Orders two combinations: the first hyperparameter that differs decides, by its position
/// in the default-first list (KerasTuner's `_compare`).
fn compare(
    space: &HyperParameters,
    a: &[(String, HpValue)],
    b: &[(String, HpValue)],
) -> std::cmp::Ordering {
    for (name, vs) in all_values(space) {
        let (Some(x), Some(y)) = (
            a.iter().find(|(k, _)| *k == name).map(|(_, v)| v),
            b.iter().find(|(k, _)| *k == name).map(|(_, v)| v),
        ) else {
            continue;
        };
        if x == y {
            continue;
        }
        let ix = vs.iter().position(|v| v == x);
        let iy = vs.iter().position(|v| v == y);
        return ix.cmp(&iy);
    }
    std::cmp::Ordering::Equal
}

impl Strategy for GridSearchOracle {
    fn populate_space(&mut self, oracle: &mut OracleCore, trial_id: &str) -> Result<Populate> {
        let space = oracle.hyperparameters.clone();
        if oracle.start_order.is_empty() {
            self.ordered_ids.push(trial_id.to_string());
            self.populate_next.push(trial_id.to_string());
            let values = space
                .space()
                .iter()
                .map(|hp| (hp.name().to_string(), hp.default_value()))
                .collect();
            return Ok(Populate::Running(values));
        }
        while !self.populate_next.is_empty() {
            let old = self.populate_next.remove(0);
            let Some(old_trial) = oracle.trials.get(&old) else {
                continue;
            };
            let Some(new) = next_combination(&space, old_trial.hyperparameters.values()) else {
                continue;
            };
            let pos = self.ordered_ids.iter().position(|i| *i == old);
            if let Some(next_id) = pos.and_then(|p| self.ordered_ids.get(p + 1)) {
                let next_vals = oracle.trials[next_id].hyperparameters.values();
                if compare(&space, &new, next_vals) != std::cmp::Ordering::Less {
                    continue;
                }
            }
            let at = pos.map(|p| p + 1).unwrap_or(self.ordered_ids.len());
            self.ordered_ids.insert(at, trial_id.to_string());
            return Ok(Populate::Running(new));
        }
        Ok(if oracle.ongoing.is_some() {
            Populate::Idle
        } else {
            Populate::Stopped
        })
    }
    fn end_trial(&mut self, _oracle: &OracleCore, trial_id: &str) {
        self.populate_next.push(trial_id.to_string());
    }
    fn get_state(&self) -> serde_json::Map<String, Value> {
        let mut m = serde_json::Map::new();
        m.insert("ordered_ids".into(), json!(self.ordered_ids));
        m.insert("populate_next".into(), json!(self.populate_next));
        m
    }
    fn set_state(&mut self, state: &Value) -> Result<()> {
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
        self.ordered_ids = strs("ordered_ids");
        self.populate_next = strs("populate_next");
        Ok(())
    }
    fn max_trials(&self) -> Option<usize> {
        self.max_trials
    }
}

/// `keras_tuner.GridSearch(hypermodel, objective, max_trials=None, ...)`: tries every
/// combination (`Choice("optimizer", ["sgd", "adam"])` x `Choice("lr", [0.01, 0.1])` gives
/// `sgd/0.01`, `sgd/0.1`, `adam/0.01`, `adam/0.1`).
pub type GridSearch<'h> = Tuner<'h, GridSearchOracle>;

impl<'h> Tuner<'h, GridSearchOracle> {
    /// A grid search over what `hypermodel` declares.
    pub fn new(hypermodel: impl FnMut(&mut HyperParameters) -> Result<Model> + 'h) -> Self {
        Tuner::with_strategy(hypermodel, GridSearchOracle::default())
    }
    /// Stops after `n` trials even if the grid is not exhausted.
    pub fn max_trials(mut self, n: usize) -> Self {
        self.strategy.max_trials = Some(n);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odometer_order() {
        let mut hp = HyperParameters::new();
        hp.choice("opt", &["sgd", "adam"]).unwrap();
        hp.choice("lr", &[0.01, 0.1]).unwrap();
        let mut v = hp.values().to_vec();
        let mut seen = vec![v
            .iter()
            .map(|(_, x)| x.to_string())
            .collect::<Vec<_>>()
            .join("/")];
        while let Some(n) = next_combination(&hp, &v) {
            seen.push(
                n.iter()
                    .map(|(_, x)| x.to_string())
                    .collect::<Vec<_>>()
                    .join("/"),
            );
            v = n;
        }
        assert_eq!(seen, ["sgd/0.01", "sgd/0.1", "adam/0.01", "adam/0.1"]);
    }
}
