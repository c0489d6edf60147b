//! KerasTuner's `Display`: what a search prints before and after each trial.

use super::oracle::OracleCore;
use super::trial::Trial;
use super::value::{py_float, HpValue};
use std::collections::BTreeMap;
use std::time::Instant;

/// The search's progress lines (KerasTuner's `oracle._display`).
#[derive(Default)]
pub(crate) struct Display {
    search_start: Option<Instant>,
    trial_start: BTreeMap<String, Instant>,
    trial_number: BTreeMap<String, usize>,
}

impl Display {
    /// `Search: Running Trial #n` and the table of values beside the best so far.
    pub fn on_trial_begin(&mut self, oracle: &OracleCore, trial: &Trial) -> String {
        let now = Instant::now();
        self.trial_start.insert(trial.trial_id.clone(), now);
        self.search_start.get_or_insert(now);
        let n = oracle.trials.len();
        self.trial_number.insert(trial.trial_id.clone(), n);
        format!(
            "\nSearch: Running Trial #{n}\n\n{}\n",
            hyperparameter_table(oracle, trial)
        )
    }

    /// `Trial n Complete [..]`, the score, the best so far and the time spent.
    pub fn on_trial_end(&mut self, oracle: &OracleCore, trial: &Trial) -> String {
        let start = self
            .trial_start
            .get(&trial.trial_id)
            .copied()
            .unwrap_or_else(Instant::now);
        let n = self.trial_number.get(&trial.trial_id).copied().unwrap_or(0);
        let mut s = format!(
            "Trial {n} Complete [{}]\n",
            format_duration(start.elapsed().as_secs_f64())
        );
        let name = &oracle.objective.name;
        if let Some(score) = trial.score {
            s.push_str(&format!("{name}: {}\n", py_float(score)));
        }
        let best = oracle
            .get_best_trials(1)
            .first()
            .and_then(|t| t.score)
            .map(py_float)
            .unwrap_or_else(|| "None".into());
        s.push_str(&format!("\nBest {name} So Far: {best}\n"));
        let total = self
            .search_start
            .map(|t| t.elapsed().as_secs_f64())
            .unwrap_or(0.0);
        s.push_str(&format!("Total elapsed time: {}\n", format_duration(total)));
        s
    }
}

/// `Value |Best Value So Far |Hyperparameter`, columns of 18 characters.
fn hyperparameter_table(oracle: &OracleCore, trial: &Trial) -> String {
    let values = trial.hyperparameters.values();
    if values.is_empty() {
        return "default configuration\n".into();
    }
    let best = oracle
        .get_best_trials(1)
        .first()
        .map(|t| t.hyperparameters.clone());
    let mut s = format!(
        "{:18}|{:18}|{}\n",
        "Value", "Best Value So Far", "Hyperparameter"
    );
    for (name, v) in values {
        let b = match &best {
            None => "?".to_string(),
            Some(hp) => hp
                .value(name)
                .map(HpValue::display_cell)
                .unwrap_or_else(|| "None".into()),
        };
        s.push_str(&format!("{:18}|{:18}|{}\n", v.display_cell(), b, name));
    }
    s
}

/// `00h 00m 02s` (with `1d ` in front past a day).
pub(crate) fn format_duration(secs: f64) -> String {
    let mut s = secs.round() as u64;
    let d = s / 86400;
    s %= 86400;
    let h = s / 3600;
    s %= 3600;
    let m = s / 60;
    s %= 60;
    if d > 0 {
        format!("{d}d {h:02}h {m:02}m {s:02}s")
    } else {
        format!("{h:02}h {m:02}m {s:02}s")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations() {
        assert_eq!(super::format_duration(2.4), "00h 00m 02s");
        assert_eq!(super::format_duration(90061.0), "1d 01h 01m 01s");
    }
}
