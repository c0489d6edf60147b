//! KerasTuner's `BayesianOptimization`: random trials first (`num_initial_points`, default
//! three per hyperparameter), then a Gaussian process fitted to the scores proposes the
//! point minimizing the lower confidence bound `mu - beta * sigma` (KerasTuner's "upper
//! confidence bound" on the minimized score), from 50 random starts refined by a bounded
//! pattern search (KerasTuner runs L-BFGS-B).

use super::gaussian_process::GaussianProcess;
use super::hyperparameter::HyperParameter;
use super::hyperparameters::HyperParameters;
use super::oracle::{OracleCore, Populate, Strategy};
use super::trial::TrialStatus;
use super::tuner::Tuner;
use super::value::HpValue;
use crate::models::Model;
use crate::serialization::Value;
use crate::utils::RandomState;
use crate::Result;
use serde_json::json;

/// The Bayesian-optimization oracle (KerasTuner's `BayesianOptimizationOracle`).
pub struct BayesianOptimizationOracle {
    /// The most trials (default 10).
    pub max_trials: usize,
    /// Random trials before the process is used (default: 3 per hyperparameter, at least 3).
    pub num_initial_points: Option<usize>,
    /// Noise added to the kernel's diagonal (default 1e-4).
    pub alpha: f64,
    /// Exploration weight of sigma (default 2.6).
    pub beta: f64,
    /// `"ucb"` (KerasTuner's: minimize `mu - beta * sigma`) or `"ei"` (maximize the expected
    /// improvement over the best score).
    pub acquisition: String,
    rng: Option<RandomState>,
}

impl Default for BayesianOptimizationOracle {
    fn default() -> Self {
        BayesianOptimizationOracle {
            max_trials: 10,
            num_initial_points: None,
            alpha: 1e-4,
            beta: 2.6,
            acquisition: "ucb".into(),
            rng: None,
        }
    }
}

fn uniform(rng: &mut RandomState) -> f64 {
    let a = (rng.next_u32() >> 5) as f64;
    let b = (rng.next_u32() >> 6) as f64;
    (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
}

fn nonfixed(space: &HyperParameters) -> Vec<HyperParameter> {
    space
        .space()
        .iter()
        .filter(|h| !matches!(h, HyperParameter::Fixed(_)))
        .cloned()
        .collect()
}

/// The complementary error function (Numerical Recipes' `erfcc`, relative error < 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// The expected improvement below `best` of a normal with mean `mu` and deviation `sigma`.
pub(crate) fn expected_improvement(best: f64, mu: f64, sigma: f64) -> f64 {
    if sigma <= 1e-12 {
        return (best - mu).max(0.0);
    }
    let z = (best - mu) / sigma;
    let cdf = 0.5 * erfc(-z / std::f64::consts::SQRT_2);
    let pdf = (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
    (best - mu) * cdf + sigma * pdf
}

/// Minimizes `f` over `[0, 1]^d` from `x0` by a bounded pattern search.
fn pattern_search(f: &dyn Fn(&[f64]) -> f64, x0: Vec<f64>) -> (Vec<f64>, f64) {
    let mut x = x0;
    let mut fx = f(&x);
    let mut step = 0.1;
    let mut evals = 0;
    while step > 1e-4 && evals < 2000 {
        let mut improved = false;
        for i in 0..x.len() {
            for dir in [1.0, -1.0] {
                let mut y = x.clone();
                y[i] = (y[i] + dir * step).clamp(0.0, 1.0);
                let fy = f(&y);
                evals += 1;
                if fy < fx {
                    x = y;
                    fx = fy;
                    improved = true;
                }
            }
        }
        if !improved {
            step /= 2.0;
        }
    }
    (x, fx)
}

impl Strategy for BayesianOptimizationOracle {
    fn populate_space(&mut self, oracle: &mut OracleCore, _trial_id: &str) -> Result<Populate> {
        let completed = oracle
            .trials
            .values()
            .filter(|t| t.status == TrialStatus::Completed)
            .count();
        let dims = oracle.hyperparameters.space().len();
        let initial = self.num_initial_points.unwrap_or((3 * dims).max(3));
        let random = |oracle: &mut OracleCore| match oracle.random_values() {
            Some(v) => Populate::Running(v),
            None => Populate::Stopped,
        };
        let space = nonfixed(&oracle.hyperparameters);
        if completed < initial || space.is_empty() {
            return Ok(random(oracle));
        }
        // KerasTuner's `_vectorize_trials`: each value as its cumulative probability.
        let max = oracle.objective.direction == "max";
        let (mut xs, mut ys) = (vec![], vec![]);
        for t in oracle.trials.values() {
            if t.status != TrialStatus::Completed {
                continue;
            }
            let v: Vec<f64> = space
                .iter()
                .map(|hp| {
                    let val = t
                        .hyperparameters
                        .value(hp.name())
                        .cloned()
                        .unwrap_or_else(|| hp.default_value());
                    hp.value_to_prob(&val)
                })
                .collect();
            let s = t.score.unwrap_or(0.0);
            let s = if s.is_finite() { s } else { 0.0 };
            xs.push(v);
            ys.push(if max { -s } else { s });
        }
        let gp = GaussianProcess::fit(&xs, &ys, self.alpha)?;
        let beta = self.beta;
        let best_y = ys.iter().cloned().fold(f64::INFINITY, f64::min);
        let ei = match self.acquisition.as_str() {
            "ucb" => false,
            "ei" => true,
            other => {
                return Err(crate::Error::value(format!(
                    "BayesianOptimization: unknown acquisition '{other}'. Expected 'ucb' or 'ei'."
                )))
            }
        };
        let lcb = |p: &[f64]| {
            let (m, s) = gp.predict(p);
            if ei {
                -expected_improvement(best_y, m, s)
            } else {
                m - beta * s
            }
        };
        let seed = oracle.seed;
        let rng = self
            .rng
            .get_or_insert_with(|| RandomState::new(seed as u32));
        let mut best: Option<(Vec<f64>, f64)> = None;
        for _ in 0..50 {
            let x0: Vec<f64> = (0..space.len()).map(|_| uniform(rng)).collect();
            let (x, fx) = pattern_search(&lcb, x0);
            if best.as_ref().is_none_or(|(_, b)| fx < *b) {
                best = Some((x, fx));
            }
        }
        let Some((x, _)) = best else {
            return Ok(random(oracle));
        };
        // KerasTuner's `_vector_to_values`.
        let mut it = x.into_iter();
        let values: Vec<(String, HpValue)> = oracle
            .hyperparameters
            .space()
            .iter()
            .map(|hp| {
                let v = match hp {
                    HyperParameter::Fixed(f) => f.value.clone(),
                    _ => hp.prob_to_value(it.next().unwrap_or(0.5).min(1.0 - 1e-12)),
                };
                (hp.name().to_string(), v)
            })
            .collect();
        if oracle.tried(&values) {
            // The process proposed a point already tried: explore at random instead.
            return Ok(random(oracle));
        }
        Ok(Populate::Running(values))
    }
    fn get_state(&self) -> serde_json::Map<String, Value> {
        let mut m = serde_json::Map::new();
        m.insert("num_initial_points".into(), json!(self.num_initial_points));
        m.insert("alpha".into(), json!(self.alpha));
        m.insert("beta".into(), json!(self.beta));
        m
    }
    fn set_state(&mut self, state: &Value) -> Result<()> {
        if let Some(n) = state.get("num_initial_points").and_then(Value::as_u64) {
            self.num_initial_points = Some(n as usize);
        }
        if let Some(a) = state.get("alpha").and_then(Value::as_f64) {
            self.alpha = a;
        }
        if let Some(b) = state.get("beta").and_then(Value::as_f64) {
            self.beta = b;
        }
        Ok(())
    }
    fn max_trials(&self) -> Option<usize> {
        Some(self.max_trials)
    }
}

/// `keras_tuner.BayesianOptimization(hypermodel, objective, max_trials=10,
/// num_initial_points=None, alpha=1e-4, beta=2.6, seed=None, ...)`.
pub type BayesianOptimization<'h> = Tuner<'h, BayesianOptimizationOracle>;

impl<'h> Tuner<'h, BayesianOptimizationOracle> {
    /// A Bayesian optimization over what `hypermodel` declares.
    pub fn new(hypermodel: impl FnMut(&mut HyperParameters) -> Result<Model> + 'h) -> Self {
        Tuner::with_strategy(hypermodel, BayesianOptimizationOracle::default())
    }
    /// The most trials (`max_trials=`, default 10).
    pub fn max_trials(mut self, n: usize) -> Self {
        self.strategy.max_trials = n;
        self
    }
    /// Random trials before the process is used (`num_initial_points=`).
    pub fn num_initial_points(mut self, n: usize) -> Self {
        self.strategy.num_initial_points = Some(n);
        self
    }
    /// Noise on the kernel's diagonal (`alpha=`, default 1e-4).
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.strategy.alpha = alpha;
        self
    }
    /// Exploration weight (`beta=`, default 2.6).
    pub fn beta(mut self, beta: f64) -> Self {
        self.strategy.beta = beta;
        self
    }
    /// `"ucb"` (the default, KerasTuner's only one) or `"ei"` (expected improvement).
    pub fn acquisition(mut self, name: &str) -> Self {
        self.strategy.acquisition = name.to_lowercase();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_improvement_values() {
        // sigma = 1, mu = best: sigma * pdf(0) = 0.3989...
        assert!((expected_improvement(0.0, 0.0, 1.0) - 0.398_942_28).abs() < 1e-6);
        // A mean 1 below the best: 1 * cdf(1) + pdf(1) = 0.8413447 + 0.2419707.
        assert!((expected_improvement(0.0, -1.0, 1.0) - 1.083_315_4).abs() < 1e-6);
        assert_eq!(expected_improvement(0.0, 1.0, 0.0), 0.0);
        assert!((erfc(0.5) - 0.479_500_122).abs() < 1e-7);
    }
}
