//! KerasTuner's `RandomSearch`: every trial draws each hyperparameter at random (one seed
//! per draw, from the oracle's seed on), skipping values already tried.

use super::oracle::{OracleCore, Populate, Strategy};
use super::tuner::Tuner;
use crate::models::Model;
use crate::Result;

/// The random-search oracle (KerasTuner's `RandomSearchOracle`).
#[derive(Clone, Debug)]
pub struct RandomSearchOracle {
    /// The most trials (KerasTuner's default: 10).
    pub max_trials: usize,
}

impl Strategy for RandomSearchOracle {
    fn populate_space(&mut self, oracle: &mut OracleCore, _trial_id: &str) -> Result<Populate> {
        Ok(match oracle.random_values() {
            Some(v) => Populate::Running(v),
            None => Populate::Stopped,
        })
    }
    fn max_trials(&self) -> Option<usize> {
        Some(self.max_trials)
    }
}

/// `keras_tuner.RandomSearch(hypermodel, objective, max_trials=10, seed=None, ...)`.
///
/// ```
/// use keras::prelude::*;
/// use keras::tuner::{HyperParameters, RandomSearch};
/// let dir = std::env::temp_dir().join(format!("kt_doc_rs_{}", std::process::id()));
/// let mut tuner = RandomSearch::new(|hp: &mut HyperParameters| {
///     let units = hp.choice("units", &[2, 4])? as usize;
///     let mut m = Sequential::from_layers([Input::new([3]).into(), Dense::new(units).into(), Dense::new(1).into()])?.into_model();
///     m.compile("adam", "mse", ())?;
///     Ok(m)
/// })
/// .objective("loss")
/// .max_trials(2)
/// .seed(1)
/// .directory(&dir)
/// .overwrite(true);
/// let x = Tensor::ones((8, 3), DType::F32, &Device::Cpu)?;
/// let y = Tensor::ones((8, 1), DType::F32, &Device::Cpu)?;
/// tuner.search(&x, &y, FitArgs { epochs: 1, verbose: 0, ..Default::default() })?;
/// assert_eq!(tuner.oracle()?.trials.len(), 2);
/// let best = tuner.get_best_hyperparameters(1)?;
/// assert!(best[0].contains("units"));
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), keras::Error>(())
/// ```
pub type RandomSearch<'h> = Tuner<'h, RandomSearchOracle>;

impl<'h> Tuner<'h, RandomSearchOracle> {
    /// A random search over what `hypermodel` declares (10 trials).
    pub fn new(hypermodel: impl FnMut(&mut super::HyperParameters) -> Result<Model> + 'h) -> Self {
        Tuner::with_strategy(hypermodel, RandomSearchOracle { max_trials: 10 })
    }
    /// The most trials to run (`max_trials=`).
    pub fn max_trials(mut self, n: usize) -> Self {
        self.strategy.max_trials = n;
        self
    }
}
