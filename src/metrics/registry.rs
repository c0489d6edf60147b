//! The metric registry (Keras's `keras.metrics.ALL_OBJECTS_DICT` and `metrics.get`): every
//! built-in class under its class name, its snake-case name (`mean_squared_error`) and
//! Keras's short aliases (`mse`, `mae`, `mape`, `msle`, `bce`); user classes register the same
//! way with [`register`](crate::saving::object_registration::register).
//!
//! ```
//! use keras::metrics::{self, Metric};
//! let m = metrics::get("mse")?;
//! assert_eq!(m.name(), "mse");
//! let e = metrics::get("mean_sqared_error").err().unwrap().to_string();
//! assert!(e.contains("'mean_squared_error'"), "{e}");
//! # Ok::<(), keras::Error>(())
//! ```

use super::*;
use crate::saving::object_registration::{closest, get_registered, registered_names};
use crate::saving::object_registration::{Builtins, Registrable};
use crate::serialization::{Cfg, Config, Value};

/// A registry constructor from a metric's own `from_config` (`boxed(Precision::from_config)`).
pub fn boxed<M: Metric + 'static>(
    f: fn(&Cfg) -> Result<M>,
) -> impl Fn(&Cfg) -> Result<Box<dyn Metric>> + Send + Sync + 'static {
    move |c| Ok(Box::new(f(c)?) as Box<dyn Metric>)
}

impl Registrable for Box<dyn Metric> {
    const KIND: &'static str = "metric";
    fn register_builtins(r: &mut Builtins<Self>) {
        r.alias(&["Mean", "mean"], boxed(Mean::from_config));
        r.alias(&["Sum", "sum"], boxed(Sum::from_config));
        r.alias(
            &["MeanMetricWrapper", "mean_metric_wrapper"],
            boxed(MeanMetricWrapper::from_config),
        );
        r.alias(&["Accuracy", "accuracy"], boxed(Accuracy::from_config));
        r.alias(
            &["BinaryAccuracy", "binary_accuracy"],
            boxed(BinaryAccuracy::from_config),
        );
        r.alias(
            &["CategoricalAccuracy", "categorical_accuracy"],
            boxed(CategoricalAccuracy::from_config),
        );
        r.alias(
            &["SparseCategoricalAccuracy", "sparse_categorical_accuracy"],
            boxed(SparseCategoricalAccuracy::from_config),
        );
        r.alias(
            &["TopKCategoricalAccuracy", "top_k_categorical_accuracy"],
            boxed(TopKCategoricalAccuracy::from_config),
        );
        r.alias(
            &[
                "SparseTopKCategoricalAccuracy",
                "sparse_top_k_categorical_accuracy",
            ],
            boxed(SparseTopKCategoricalAccuracy::from_config),
        );
        r.alias(
            &["MeanSquaredError", "mean_squared_error", "mse", "MSE"],
            boxed(MeanSquaredError::from_config),
        );
        r.alias(
            &["MeanAbsoluteError", "mean_absolute_error", "mae", "MAE"],
            boxed(MeanAbsoluteError::from_config),
        );
        r.alias(
            &[
                "MeanAbsolutePercentageError",
                "mean_absolute_percentage_error",
                "mape",
                "MAPE",
            ],
            boxed(MeanAbsolutePercentageError::from_config),
        );
        r.alias(
            &[
                "MeanSquaredLogarithmicError",
                "mean_squared_logarithmic_error",
                "msle",
                "MSLE",
            ],
            boxed(MeanSquaredLogarithmicError::from_config),
        );
        r.alias(
            &["RootMeanSquaredError", "root_mean_squared_error"],
            boxed(RootMeanSquaredError::from_config),
        );
        r.alias(
            &["CosineSimilarity", "cosine_similarity"],
            boxed(CosineSimilarity::from_config),
        );
        r.alias(
            &["LogCoshError", "log_cosh_error"],
            boxed(LogCoshError::from_config),
        );
        r.alias(&["R2Score", "r2_score"], boxed(R2Score::from_config));
        r.alias(
            &["PearsonCorrelation", "pearson_correlation"],
            boxed(PearsonCorrelation::from_config),
        );
        r.alias(
            &["ConcordanceCorrelation", "concordance_correlation"],
            boxed(ConcordanceCorrelation::from_config),
        );
        r.alias(
            &["KLDivergence", "kl_divergence"],
            boxed(KLDivergence::from_config),
        );
        r.alias(&["Poisson", "poisson"], boxed(Poisson::from_config));
        r.alias(&["Hinge", "hinge"], boxed(Hinge::from_config));
        r.alias(
            &["SquaredHinge", "squared_hinge"],
            boxed(SquaredHinge::from_config),
        );
        r.alias(
            &["CategoricalHinge", "categorical_hinge"],
            boxed(CategoricalHinge::from_config),
        );
        r.alias(
            &["BinaryCrossentropy", "binary_crossentropy", "bce", "BCE"],
            boxed(BinaryCrossentropy::from_config),
        );
        r.alias(
            &["CategoricalCrossentropy", "categorical_crossentropy"],
            boxed(CategoricalCrossentropy::from_config),
        );
        r.alias(
            &[
                "SparseCategoricalCrossentropy",
                "sparse_categorical_crossentropy",
            ],
            boxed(SparseCategoricalCrossentropy::from_config),
        );
        r.alias(
            &["TruePositives", "true_positives"],
            boxed(TruePositives::from_config),
        );
        r.alias(
            &["FalsePositives", "false_positives"],
            boxed(FalsePositives::from_config),
        );
        r.alias(
            &["TrueNegatives", "true_negatives"],
            boxed(TrueNegatives::from_config),
        );
        r.alias(
            &["FalseNegatives", "false_negatives"],
            boxed(FalseNegatives::from_config),
        );
        r.alias(&["Precision", "precision"], boxed(Precision::from_config));
        r.alias(&["Recall", "recall"], boxed(Recall::from_config));
        r.alias(&["AUC", "auc"], boxed(AUC::from_config));
        r.alias(
            &["PrecisionAtRecall", "precision_at_recall"],
            boxed(PrecisionAtRecall::from_config),
        );
        r.alias(
            &["RecallAtPrecision", "recall_at_precision"],
            boxed(RecallAtPrecision::from_config),
        );
        r.alias(
            &["SensitivityAtSpecificity", "sensitivity_at_specificity"],
            boxed(SensitivityAtSpecificity::from_config),
        );
        r.alias(
            &["SpecificityAtSensitivity", "specificity_at_sensitivity"],
            boxed(SpecificityAtSensitivity::from_config),
        );
        r.alias(&["F1Score", "f1_score"], boxed(F1Score::from_config));
        r.alias(
            &["FBetaScore", "f_beta_score"],
            boxed(FBetaScore::from_config),
        );
        r.alias(&["IoU", "io_u"], boxed(IoU::from_config));
        r.alias(&["MeanIoU", "mean_io_u"], boxed(MeanIoU::from_config));
        r.alias(&["BinaryIoU", "binary_io_u"], boxed(BinaryIoU::from_config));
        r.alias(
            &["OneHotIoU", "one_hot_io_u"],
            boxed(OneHotIoU::from_config),
        );
        r.alias(
            &["OneHotMeanIoU", "one_hot_mean_io_u"],
            boxed(OneHotMeanIoU::from_config),
        );
    }
}

/// A metric by Keras name (Keras's `metrics.get`): a class name (`MeanSquaredError`), its
/// snake-case name (`mean_squared_error`), an alias (`mse`) or a registered user class; the
/// metric is named `name`, as `compile` names it. `"accuracy"` / `"acc"` in `compile` depend
/// on the shapes: see [`resolve_accuracy`]. An unknown name is an error naming the closest
/// registered names.
pub fn get(name: &str) -> Result<Box<dyn Metric>> {
    let Some(make) = get_registered::<Box<dyn Metric>>(name) else {
        // `acc` / `accuracy` are resolved by `compile` from the shapes, not registered.
        let mut names = registered_names::<Box<dyn Metric>>();
        names.extend(["acc".to_string(), "accuracy".to_string()]);
        let near = closest(name, &names, 3);
        let hint = if near.is_empty() {
            String::new()
        } else {
            let q: Vec<String> = near.iter().map(|n| format!("'{n}'")).collect();
            format!(" Did you mean {}?", q.join(", "))
        };
        return Err(Error::value(format!(
            "Could not interpret metric identifier: {name}.{hint}"
        )));
    };
    let mut config = Config::new();
    config.insert("name".into(), Value::String(name.to_string()));
    make(&Cfg::new(name, &config))
}

/// The metric a serialized Keras metric describes: `{module, class_name, config}` (as
/// [`Metric::get_config`] writes it), or a name as [`get`] takes it.
pub fn deserialize(v: &Value) -> Result<Box<dyn Metric>> {
    match v {
        Value::String(s) => get(s),
        _ => crate::saving::object_registration::deserialize_object::<Box<dyn Metric>>(v),
    }
}
