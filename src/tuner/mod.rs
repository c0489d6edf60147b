//! Hyperparameter search in KerasTuner's shape (`keras_tuner`): a model-building function
//! declares its hyperparameters through [`HyperParameters`] and returns a compiled model; a
//! tuner ([`RandomSearch`], [`GridSearch`], [`Hyperband`], [`BayesianOptimization`]) runs
//! trials, keeps each trial's best epoch, and saves the project so that a search resumes.
//!
//! ```no_run
//! use keras::prelude::*;
//! use keras::tuner::{Float, HyperParameters, RandomSearch};
//!
//! fn build(hp: &mut HyperParameters) -> keras::Result<Model> {
//!     let units = hp.choice("units", &[32, 64, 128])?;
//!     let lr = hp.float_with(Float::new("learning_rate", 1e-4, 1e-2).sampling("log"))?;
//!     let mut model = Sequential::from_layers([
//!         Input::new([784]).into(),
//!         Dense::new(units).activation("relu").into(),
//!         Dense::new(10).activation("softmax").into(),
//!     ])?
//!     .into_model();
//!     model.compile(keras::optimizers::Adam::new().learning_rate(lr), "sparse_categorical_crossentropy", ["accuracy"])?;
//!     Ok(model)
//! }
//! # fn main() -> keras::Result<()> {
//! # let (x, y) = (Tensor::zeros((8, 784), DType::F32, &Device::Cpu)?, Tensor::zeros(8, DType::F32, &Device::Cpu)?);
//! let mut tuner = RandomSearch::new(build)
//!     .objective("val_accuracy")
//!     .max_trials(5)
//!     .directory("my_dir")
//!     .project_name("helloworld");
//! tuner.search_space_summary()?;
//! tuner.search(&x, &y, FitArgs { epochs: 2, validation_split: 0.2, ..Default::default() })?;
//! tuner.results_summary(10)?;
//! let best = tuner.get_best_models(1)?;
//! # Ok(()) }
//! ```

mod bayesian;
mod display;
mod gaussian_process;
mod grid_search;
mod hp_types;
mod hyperband;
mod hyperparameter;
mod hyperparameters;
mod objective;
mod oracle;
mod random_search;
mod trial;
#[allow(clippy::module_inception)]
mod tuner;
mod tuner_utils;
mod value;

pub use bayesian::{BayesianOptimization, BayesianOptimizationOracle};
pub use gaussian_process::{cholesky, matern52, GaussianProcess};
pub use grid_search::{GridSearch, GridSearchOracle};
pub use hp_types::{Boolean, Choice, Fixed, Float, Int};
pub use hyperband::{Hyperband, HyperbandOracle};
pub use hyperparameter::HyperParameter;
pub use hyperparameters::HyperParameters;
pub use objective::{Objective, ObjectiveArg};
pub use oracle::{OracleCore, Populate, Strategy};
pub use random_search::{RandomSearch, RandomSearchOracle};
pub use trial::{MetricHistory, Trial, TrialStatus};
pub use tuner::Tuner;
pub use value::{py_float, HpValue};
