//! KerasTuner's `Tuner`: builds a model per trial with the model-building function, trains
//! it with `fit`, reports the best epoch's metrics to the oracle, keeps the best epoch's
//! weights, and saves everything under `directory/project_name` so that a search resumes.

use super::display::Display;
use super::hyperparameters::HyperParameters;
use super::objective::{Objective, ObjectiveArg};
use super::oracle::{OracleCore, Strategy};
use super::trial::{write_json, Trial, TrialStatus};
use super::tuner_utils::{average, best_epoch, SaveBestEpoch};
use super::value::py_dict;
use crate::callbacks::Callback;
use crate::models::Model;
use crate::trainers::{Data, FitArgs, ValidationData};
use crate::{Error, Result};
use std::path::{Path, PathBuf};

type BuildFn<'h> = Box<dyn FnMut(&mut HyperParameters) -> Result<Model> + 'h>;

/// A hyperparameter search: a model-building function (which compiles the model it returns,
/// as in KerasTuner) and a [`Strategy`]. Made by [`super::RandomSearch`],
/// [`super::GridSearch`], [`super::Hyperband`] or [`super::BayesianOptimization`]; the options
/// below are common to all.
///
/// The project (`directory/project_name`: `oracle.json`, `tuner0.json`,
/// `trial_<id>/trial.json` and `trial_<id>/checkpoint.weights.h5`) is opened on first use:
/// removed first with `overwrite(true)`, else resumed when it exists (finished trials are
/// not rerun; a trial that was running is run again).
pub struct Tuner<'h, S: Strategy> {
    hypermodel: BuildFn<'h>,
    pub(crate) strategy: S,
    objective: ObjectiveArg,
    seed: Option<u64>,
    directory: PathBuf,
    project_name: String,
    overwrite: bool,
    executions_per_trial: usize,
    max_retries_per_trial: usize,
    max_consecutive_failed_trials: usize,
    core: Option<OracleCore>,
    display: Display,
}

impl<'h, S: Strategy> Tuner<'h, S> {
    pub(crate) fn with_strategy(
        hypermodel: impl FnMut(&mut HyperParameters) -> Result<Model> + 'h,
        strategy: S,
    ) -> Self {
        Tuner {
            hypermodel: Box::new(hypermodel),
            strategy,
            objective: ObjectiveArg::Name("val_loss".into()),
            seed: None,
            directory: PathBuf::from("."),
            project_name: "untitled_project".into(),
            overwrite: false,
            executions_per_trial: 1,
            max_retries_per_trial: 0,
            max_consecutive_failed_trials: 3,
            core: None,
            display: Display::default(),
        }
    }

    /// The metric to optimize: a name (`"val_loss"`, the default here; `"val_accuracy"`) or
    /// an [`Objective`].
    pub fn objective(mut self, objective: impl Into<ObjectiveArg>) -> Self {
        self.objective = objective.into();
        self
    }
    /// The random seed (KerasTuner draws one in 1..=10000 when none is given).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }
    /// Where projects are saved (default `"."`).
    pub fn directory(mut self, directory: impl AsRef<Path>) -> Self {
        self.directory = directory.as_ref().to_path_buf();
        self
    }
    /// The project's folder name (default `"untitled_project"`).
    pub fn project_name(mut self, name: &str) -> Self {
        self.project_name = name.to_string();
        self
    }
    /// Start afresh, removing an existing project (default: resume it).
    pub fn overwrite(mut self, overwrite: bool) -> Self {
        self.overwrite = overwrite;
        self
    }
    /// Models trained per trial, their best-epoch metrics averaged (default 1).
    pub fn executions_per_trial(mut self, n: usize) -> Self {
        self.executions_per_trial = n.max(1);
        self
    }
    /// Reruns of a trial whose build or fit failed (default 0).
    pub fn max_retries_per_trial(mut self, n: usize) -> Self {
        self.max_retries_per_trial = n;
        self
    }
    /// Consecutive failed trials that end the search with an error (default 3).
    pub fn max_consecutive_failed_trials(mut self, n: usize) -> Self {
        self.max_consecutive_failed_trials = n.max(1);
        self
    }

    /// `directory/project_name`.
    pub fn project_dir(&self) -> PathBuf {
        self.directory.join(&self.project_name)
    }

    /// The oracle's state: trials, search space, objective (opens the project).
    pub fn oracle(&mut self) -> Result<&OracleCore> {
        self.ready()?;
        Ok(self.core.as_ref().expect("opened"))
    }

    fn ready(&mut self) -> Result<&mut OracleCore> {
        if self.core.is_none() {
            let core = self.open()?;
            self.core = Some(core);
        }
        Ok(self.core.as_mut().expect("opened"))
    }

    fn open(&mut self) -> Result<OracleCore> {
        let objective = self.objective.resolve()?;
        let mut core = OracleCore::new(objective, self.strategy.max_trials(), self.seed);
        core.max_retries_per_trial = self.max_retries_per_trial;
        core.max_consecutive_failed_trials = self.max_consecutive_failed_trials;
        let dir = self.project_dir();
        if self.overwrite && dir.exists() {
            std::fs::remove_dir_all(&dir)
                .map_err(|e| Error::io(format!("cannot remove {}", dir.display()), e))?;
        }
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
        core.set_project_dir(&dir);
        let tuner_file = dir.join("tuner0.json");
        if !self.overwrite && tuner_file.exists() {
            println!("Reloading Tuner from {}", tuner_file.display());
            core.reload(&mut self.strategy)?;
        } else {
            // KerasTuner's `_populate_initial_space`: one build declares the space.
            let mut hp = core.hyperparameters.clone();
            (self.hypermodel)(&mut hp)?;
            core.update_space(&hp);
            core.save_with(&self.strategy)?;
            write_json(&tuner_file, &serde_json::json!({}))?;
        }
        Ok(core)
    }

    /// Runs the search: trial after trial until the strategy stops or `max_trials` trials
    /// exist, each model trained with `model.fit(x, y, args)` (`epochs`, `validation_split`
    /// or `validation_data` arrays, `callbacks`, ...; Hyperband sets `epochs` and
    /// `initial_epoch` itself). `args.verbose` also sets whether the search prints its
    /// progress.
    pub fn search(&mut self, x: impl Into<Data>, y: impl Into<Data>, args: FitArgs) -> Result<()> {
        self.ready()?;
        let (x, y) = (x.into(), y.into());
        let FitArgs {
            batch_size,
            epochs,
            verbose,
            validation_split,
            validation_data,
            shuffle,
            sample_weight,
            class_weight,
            initial_epoch,
            steps_per_epoch,
            validation_steps,
            validation_batch_size,
            validation_freq,
            mut callbacks,
        } = args;
        let val = match validation_data {
            None => None,
            Some(ValidationData::Arrays { x, y, sample_weight }) => Some((x, y, sample_weight)),
            Some(ValidationData::Source(_)) => {
                return Err(Error::value(
                    "Tuner.search: `validation_data` must be arrays (x, y) here, since every trial reads it again; \
                     a source of batches is read once.",
                ))
            }
        };
        loop {
            let core = self.core.as_mut().expect("opened");
            let Some(mut trial) = core.create_trial(&mut self.strategy)? else {
                break;
            };
            if verbose >= 1 {
                print!("{}", self.display.on_trial_begin(core, &trial));
            }
            let objective = core.objective.clone();
            let checkpoint = core.checkpoint(&trial.trial_id);
            let mut saver = SaveBestEpoch::new(objective.clone(), checkpoint);
            let mut results = vec![];
            let mut steps = vec![];
            let mut outcome: Result<()> = Ok(());
            for _ in 0..self.executions_per_trial {
                let hp = &trial.hyperparameters;
                let (ep, init) = match hp.value("tuner/epochs").and_then(|v| v.as_i64()) {
                    Some(e) => (
                        e as usize,
                        hp.value("tuner/initial_epoch")
                            .and_then(|v| v.as_i64())
                            .unwrap_or(0) as usize,
                    ),
                    None => (epochs, initial_epoch),
                };
                let mut cbs: Vec<&mut dyn Callback> = callbacks
                    .iter_mut()
                    .map(|c| &mut **c as &mut dyn Callback)
                    .collect();
                cbs.push(&mut saver);
                let fit_args = FitArgs {
                    batch_size,
                    epochs: ep,
                    verbose,
                    validation_split,
                    validation_data: val.clone().map(|(x, y, sample_weight)| {
                        ValidationData::Arrays {
                            x,
                            y,
                            sample_weight,
                        }
                    }),
                    shuffle,
                    sample_weight: sample_weight.clone(),
                    class_weight: class_weight.clone(),
                    initial_epoch: init,
                    steps_per_epoch,
                    validation_steps,
                    validation_batch_size,
                    validation_freq,
                    callbacks: cbs,
                };
                let core = self.core.as_ref().expect("opened");
                let run = build_model(&mut self.hypermodel, core, &mut trial.hyperparameters)
                    .and_then(|mut model| model.fit(x.clone(), y.clone(), fit_args))
                    .and_then(|h| best_epoch(&h, &objective));
                match run {
                    Ok((m, step)) => {
                        results.push(m);
                        steps.push(step);
                    }
                    Err(e) => {
                        outcome = Err(e);
                        break;
                    }
                }
            }
            match outcome {
                Ok(()) => {
                    let step = steps.iter().sum::<usize>() / steps.len().max(1);
                    trial.update(&average(&results), step, &objective);
                    trial.status = TrialStatus::Completed;
                }
                Err(e) => {
                    trial.status = TrialStatus::Invalid;
                    trial.message = Some(e.to_string());
                    if verbose >= 1 {
                        println!("Trial {} failed: {e}", trial.trial_id);
                    }
                }
            }
            let id = trial.trial_id.clone();
            let core = self.core.as_mut().expect("opened");
            core.end_trial(trial, &mut self.strategy)?;
            write_json(
                &self.project_dir().join("tuner0.json"),
                &serde_json::json!({}),
            )?;
            let core = self.core.as_ref().expect("opened");
            if verbose >= 1 {
                print!("{}", self.display.on_trial_end(core, &core.trials[&id]));
            }
        }
        Ok(())
    }

    /// The trial's model with its best epoch's weights (KerasTuner's `load_model`).
    pub fn load_model(&mut self, trial: &Trial) -> Result<Model> {
        self.ready()?;
        let core = self.core.as_ref().expect("opened");
        let mut hp = trial.hyperparameters.clone();
        let mut model = (self.hypermodel)(&mut hp)?;
        model.load_weights(core.checkpoint(&trial.trial_id))?;
        Ok(model)
    }

    /// The `n` best trials' models, best first, with the weights of their best epoch.
    pub fn get_best_models(&mut self, n: usize) -> Result<Vec<Model>> {
        let trials: Vec<Trial> = self
            .oracle()?
            .get_best_trials(n)
            .into_iter()
            .cloned()
            .collect();
        trials.iter().map(|t| self.load_model(t)).collect()
    }

    /// The `n` best trials' hyperparameters, best first (build a fresh model with them).
    pub fn get_best_hyperparameters(&mut self, n: usize) -> Result<Vec<HyperParameters>> {
        Ok(self
            .oracle()?
            .get_best_trials(n)
            .into_iter()
            .map(|t| t.hyperparameters.clone())
            .collect())
    }

    /// Trials that `max_trials` still allows (`None` without a limit).
    pub fn remaining_trials(&mut self) -> Result<Option<usize>> {
        Ok(self.oracle()?.remaining_trials())
    }

    /// KerasTuner's `results_summary` text.
    pub fn results_summary_string(&mut self, num_trials: usize) -> Result<String> {
        let dir = self.project_dir();
        let core = self.oracle()?;
        let mut s = format!(
            "Results summary\nResults in {}\nShowing {num_trials} best trials\n{}\n",
            dir.display(),
            core.objective
        );
        for t in core.get_best_trials(num_trials) {
            s.push('\n');
            s.push_str(&t.summary());
        }
        Ok(s)
    }

    /// Prints the `num_trials` best trials (KerasTuner's `results_summary(num_trials=10)`).
    pub fn results_summary(&mut self, num_trials: usize) -> Result<()> {
        print!("{}", self.results_summary_string(num_trials)?);
        Ok(())
    }

    /// KerasTuner's `search_space_summary` text.
    pub fn search_space_summary_string(&mut self) -> Result<String> {
        let core = self.oracle()?;
        let space = core.hyperparameters.space();
        let mut s = format!(
            "Search space summary\nDefault search space size: {}\n",
            space.len()
        );
        for hp in space {
            let pairs = hp.config_pairs();
            s.push_str(&format!("{} ({})\n", hp.name(), hp.class_name()));
            s.push_str(&py_dict(
                pairs
                    .iter()
                    .filter(|(k, _)| *k != "name")
                    .map(|(k, v)| (*k, v)),
            ));
            s.push('\n');
        }
        Ok(s)
    }

    /// Prints the search space (KerasTuner's `search_space_summary()`).
    pub fn search_space_summary(&mut self) -> Result<()> {
        print!("{}", self.search_space_summary_string()?);
        Ok(())
    }

    /// The objective.
    pub fn get_objective(&mut self) -> Result<Objective> {
        Ok(self.oracle()?.objective.clone())
    }
}

/// Builds the trial's model; a Hyperband round that continues a trial starts from that
/// trial's best weights (`tuner/trial_id`).
fn build_model(
    hypermodel: &mut BuildFn,
    core: &OracleCore,
    hp: &mut HyperParameters,
) -> Result<Model> {
    let mut model = hypermodel(hp)?;
    if let Some(prev) = hp.value("tuner/trial_id") {
        model.load_weights(core.checkpoint(&prev.to_string()))?;
    }
    Ok(model)
}
