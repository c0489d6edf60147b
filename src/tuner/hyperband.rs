//! KerasTuner's `Hyperband`: brackets of successive halving. Each bracket starts many
//! random trials with few epochs, then continues the best of each round (from their saved
//! weights, `tuner/initial_epoch` on) for `factor` times more epochs.

use super::hyperparameters::HyperParameters;
use super::oracle::{OracleCore, Populate, Strategy};
use super::trial::TrialStatus;
use super::tuner::Tuner;
use super::value::HpValue;
use crate::models::Model;
use crate::serialization::Value;
use crate::{Error, Result};
use serde_json::json;

/// One trial of a bracket's round: its id and the trial it continues.
#[derive(Clone, Debug, PartialEq)]
struct RoundEntry {
    past_id: Option<String>,
    id: String,
}

#[derive(Clone, Debug, PartialEq)]
struct Bracket {
    bracket_num: usize,
    rounds: Vec<Vec<RoundEntry>>,
}

/// The Hyperband oracle (KerasTuner's `HyperbandOracle`).
#[derive(Clone, Debug)]
pub struct HyperbandOracle {
    /// The most epochs one model trains (default 100).
    pub max_epochs: usize,
    /// The reduction factor of epochs and models per round (default 3).
    pub factor: usize,
    /// Passes over the whole schedule (default 1).
    pub hyperband_iterations: usize,
    min_epochs: usize,
    current_iteration: usize,
    current_bracket: usize,
    brackets: Vec<Bracket>,
    started: bool,
}

impl Default for HyperbandOracle {
    fn default() -> Self {
        HyperbandOracle {
            max_epochs: 100,
            factor: 3,
            hyperband_iterations: 1,
            min_epochs: 1,
            current_iteration: 0,
            current_bracket: 0,
            brackets: vec![],
            started: false,
        }
    }
}

impl HyperbandOracle {
    /// An oracle for `max_epochs` and `factor` (one iteration).
    pub fn new(max_epochs: usize, factor: usize) -> Self {
        HyperbandOracle {
            max_epochs: max_epochs.max(1),
            factor: factor.max(2),
            ..Default::default()
        }
    }
    fn start(&mut self) {
        if !self.started {
            self.started = true;
            self.current_bracket = self.num_brackets() - 1;
            self.start_new_bracket();
        }
    }
    fn num_brackets(&self) -> usize {
        let mut epochs = self.max_epochs as f64;
        let mut n = 0;
        while epochs >= self.min_epochs as f64 {
            epochs /= self.factor as f64;
            n += 1;
        }
        n
    }
    /// Trials in round `round` of bracket `bracket` (KerasTuner's `_get_size`).
    pub fn size(&self, bracket: usize, round: usize) -> usize {
        let end0 = (1.0 + (self.max_epochs as f64).ln() / (self.factor as f64).ln()).ceil();
        let end = end0 / (bracket as f64 + 1.0);
        (end * (self.factor as f64).powi(bracket as i32 - round as i32)).ceil() as usize
    }
    /// Epochs of round `round` of bracket `bracket` (KerasTuner's `_get_epochs`).
    pub fn epochs(&self, bracket: usize, round: isize) -> usize {
        (self.max_epochs as f64 / (self.factor as f64).powi(bracket as i32 - round as i32)).ceil()
            as usize
    }
    fn start_new_bracket(&mut self) {
        let rounds = (0..=self.current_bracket).map(|_| vec![]).collect();
        self.brackets.push(Bracket {
            bracket_num: self.current_bracket,
            rounds,
        });
    }
    fn increment_bracket(&mut self) {
        if self.current_bracket == 0 {
            self.current_bracket = self.num_brackets() - 1;
            self.current_iteration += 1;
        } else {
            self.current_bracket -= 1;
        }
    }
    fn remove_completed_brackets(&mut self) {
        let done: Vec<bool> = self
            .brackets
            .iter()
            .map(|b| {
                let last = b.rounds.len() - 1;
                b.rounds[last].len() == self.size(b.bracket_num, last)
            })
            .collect();
        let mut i = 0;
        self.brackets.retain(|_| {
            i += 1;
            !done[i - 1]
        });
    }
    fn random_trial(&mut self, oracle: &mut OracleCore, trial_id: &str, b: usize) -> Populate {
        let bracket_num = self.brackets[b].bracket_num;
        match oracle.random_values() {
            Some(mut values) => {
                values.push((
                    "tuner/epochs".into(),
                    HpValue::from(self.epochs(bracket_num, 0)),
                ));
                values.push(("tuner/initial_epoch".into(), HpValue::Int(0)));
                values.push(("tuner/bracket".into(), HpValue::from(self.current_bracket)));
                values.push(("tuner/round".into(), HpValue::Int(0)));
                self.brackets[b].rounds[0].push(RoundEntry {
                    past_id: None,
                    id: trial_id.to_string(),
                });
                Populate::Running(values)
            }
            None if oracle.ongoing.is_some() => Populate::Idle,
            None => Populate::Stopped,
        }
    }
}

impl Strategy for HyperbandOracle {
    fn populate_space(&mut self, oracle: &mut OracleCore, trial_id: &str) -> Result<Populate> {
        self.start();
        self.remove_completed_brackets();
        let max = oracle.objective.direction == "max";
        for b in 0..self.brackets.len() {
            let bracket_num = self.brackets[b].bracket_num;
            if self.brackets[b].rounds[0].len() < self.size(bracket_num, 0) {
                return Ok(self.random_trial(oracle, trial_id, b));
            }
            for round in 1..self.brackets[b].rounds.len() {
                let rounds = &self.brackets[b].rounds;
                let size = self.size(bracket_num, round);
                let past_size = self.size(bracket_num, round - 1);
                let selected: Vec<&String> = rounds[round]
                    .iter()
                    .filter_map(|e| e.past_id.as_ref())
                    .collect();
                let mut candidates: Vec<&super::Trial> = rounds[round - 1]
                    .iter()
                    .filter(|e| !selected.contains(&&e.id))
                    .filter_map(|e| oracle.trials.get(&e.id))
                    .filter(|t| t.status == TrialStatus::Completed)
                    .collect();
                if candidates.len() + size > past_size {
                    candidates.sort_by(|a, b| {
                        let o = a
                            .score
                            .unwrap_or(f64::NAN)
                            .partial_cmp(&b.score.unwrap_or(f64::NAN))
                            .unwrap_or(std::cmp::Ordering::Equal);
                        if max {
                            o.reverse()
                        } else {
                            o
                        }
                    });
                    let best = candidates[0];
                    let best_id = best.trial_id.clone();
                    let mut values: Vec<(String, HpValue)> = best
                        .hyperparameters
                        .values()
                        .iter()
                        .filter(|(k, _)| !k.starts_with("tuner/"))
                        .cloned()
                        .collect();
                    values.push(("tuner/trial_id".into(), HpValue::Str(best_id.clone())));
                    values.push((
                        "tuner/epochs".into(),
                        HpValue::from(self.epochs(bracket_num, round as isize)),
                    ));
                    values.push((
                        "tuner/initial_epoch".into(),
                        HpValue::from(self.epochs(bracket_num, round as isize - 1)),
                    ));
                    values.push(("tuner/bracket".into(), HpValue::from(self.current_bracket)));
                    values.push(("tuner/round".into(), HpValue::from(round)));
                    self.brackets[b].rounds[round].push(RoundEntry {
                        past_id: Some(best_id),
                        id: trial_id.to_string(),
                    });
                    return Ok(Populate::Running(values));
                }
            }
        }
        if self.current_bracket == 0 && self.current_iteration + 1 >= self.hyperband_iterations {
            return Ok(if oracle.ongoing.is_some() {
                Populate::Idle
            } else {
                Populate::Stopped
            });
        }
        self.increment_bracket();
        self.start_new_bracket();
        let last = self.brackets.len() - 1;
        Ok(self.random_trial(oracle, trial_id, last))
    }
    fn get_state(&self) -> serde_json::Map<String, Value> {
        let brackets: Vec<Value> = self
            .brackets
            .iter()
            .map(|b| {
                let rounds: Vec<Value> = b
                    .rounds
                    .iter()
                    .map(|r| {
                        Value::Array(
                            r.iter()
                                .map(|e| json!({"past_id": e.past_id, "id": e.id}))
                                .collect(),
                        )
                    })
                    .collect();
                json!({"bracket_num": b.bracket_num, "rounds": rounds})
            })
            .collect();
        let mut m = serde_json::Map::new();
        m.insert(
            "hyperband_iterations".into(),
            json!(self.hyperband_iterations),
        );
        m.insert("max_epochs".into(), json!(self.max_epochs));
        m.insert("min_epochs".into(), json!(self.min_epochs));
        m.insert("factor".into(), json!(self.factor));
        m.insert("brackets".into(), Value::Array(brackets));
        m.insert("current_bracket".into(), json!(self.current_bracket));
        m.insert("current_iteration".into(), json!(self.current_iteration));
        m
    }
    fn set_state(&mut self, state: &Value) -> Result<()> {
        let n = |k: &str| state.get(k).and_then(Value::as_u64).map(|v| v as usize);
        let bad = || Error::format("oracle.json: bad Hyperband state");
        self.max_epochs = n("max_epochs").ok_or_else(bad)?;
        self.min_epochs = n("min_epochs").unwrap_or(1);
        self.factor = n("factor").ok_or_else(bad)?;
        self.hyperband_iterations = n("hyperband_iterations").unwrap_or(1);
        self.current_bracket = n("current_bracket").ok_or_else(bad)?;
        self.current_iteration = n("current_iteration").unwrap_or(0);
        self.brackets = vec![];
        for b in state
            .get("brackets")
            .and_then(Value::as_array)
            .ok_or_else(bad)?
        {
            let bracket_num = b
                .get("bracket_num")
                .and_then(Value::as_u64)
                .ok_or_else(bad)? as usize;
            let mut rounds = vec![];
            for r in b.get("rounds").and_then(Value::as_array).ok_or_else(bad)? {
                let entries = r
                    .as_array()
                    .ok_or_else(bad)?
                    .iter()
                    .map(|e| RoundEntry {
                        past_id: e.get("past_id").and_then(Value::as_str).map(String::from),
                        id: e
                            .get("id")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                    })
                    .collect();
                rounds.push(entries);
            }
            self.brackets.push(Bracket {
                bracket_num,
                rounds,
            });
        }
        self.started = true;
        Ok(())
    }
    fn max_trials(&self) -> Option<usize> {
        None
    }
}

/// `keras_tuner.Hyperband(hypermodel, objective, max_epochs=100, factor=3,
/// hyperband_iterations=1, seed=None, ...)`. Each trial's `epochs` and `initial_epoch` come
/// from its `tuner/epochs` and `tuner/initial_epoch` values.
pub type Hyperband<'h> = Tuner<'h, HyperbandOracle>;

impl<'h> Tuner<'h, HyperbandOracle> {
    /// A Hyperband search over what `hypermodel` declares.
    pub fn new(hypermodel: impl FnMut(&mut HyperParameters) -> Result<Model> + 'h) -> Self {
        Tuner::with_strategy(hypermodel, HyperbandOracle::default())
    }
    /// The most epochs one model trains (`max_epochs=`, default 100).
    pub fn max_epochs(mut self, n: usize) -> Self {
        self.strategy.max_epochs = n.max(1);
        self
    }
    /// The reduction factor (`factor=`, default 3; at least 2).
    pub fn factor(mut self, n: usize) -> Self {
        self.strategy.factor = n.max(2);
        self
    }
    /// Passes over the schedule (`hyperband_iterations=`, default 1).
    pub fn hyperband_iterations(mut self, n: usize) -> Self {
        self.strategy.hyperband_iterations = n.max(1);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_matches_keras_tuner() {
        // max_epochs=9, factor=3: brackets 2, 1, 0 as KerasTuner's `_get_size` / `_get_epochs`.
        let o = HyperbandOracle {
            max_epochs: 9,
            ..Default::default()
        };
        assert_eq!(o.num_brackets(), 3);
        assert_eq!((o.size(2, 0), o.size(2, 1), o.size(2, 2)), (9, 3, 1));
        assert_eq!((o.epochs(2, 0), o.epochs(2, 1), o.epochs(2, 2)), (1, 3, 9));
        assert_eq!((o.size(1, 0), o.size(1, 1)), (5, 2));
        assert_eq!(o.size(0, 0), 3);
    }
}
