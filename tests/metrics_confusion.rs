//! The confusion-matrix metrics against Python Keras 3.15.1 (JAX, float32;
//! tests/fixtures/make_metrics_confusion.py -> metrics_confusion.json): TruePositives ...
//! FalseNegatives, Precision, Recall, AUC, the *At* metrics, F1Score / FBetaScore and the
//! IoU family. Each case is made from Keras's serialized config (so `from_config` is
//! exercised), must write that config back, and after three `update_state` calls (without,
//! then with sample weights) must give Keras's result and state variables within 1e-6.

mod common;

use common::assert_close_vec;
use keras::metrics::{self, Metric};
use keras::prelude::*;
use serde_json::{json, Value};

fn fixture() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/metrics_confusion.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn tensor(v: &Value) -> Tensor {
    let shape: Vec<usize> = v["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect();
    let data: Vec<f32> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect();
    Tensor::from_vec(data, shape, &Device::Cpu).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn run(m: &mut dyn Metric, case: &Value, weighted: bool) {
    for b in case["batches"].as_array().unwrap() {
        let w = weighted.then(|| tensor(&b["sample_weight"]));
        m.update_state(&tensor(&b["y_true"]), &tensor(&b["y_pred"]), w.as_ref())
            .unwrap_or_else(|e| panic!("{}: {e}", case["id"]));
    }
}

#[test]
fn every_metric_matches_keras_after_three_updates() {
    let f = fixture();
    let cases = f["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 78);
    let mut classes = std::collections::BTreeSet::new();
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let config = &case["config"];
        classes.insert(config["class_name"].as_str().unwrap().to_string());
        let mut m = metrics::deserialize(config).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(&m.get_config(), config, "{id}: get_config");
        assert_eq!(m.name(), config["config"]["name"], "{id}: name");
        run(m.as_mut(), case, false);
        assert_close_vec(
            &format!("{id} result"),
            &m.result_values(),
            &floats(&case["result"]),
            1e-6,
        );
        m.reset_state();
        run(m.as_mut(), case, true);
        let want = floats(&case["result_weighted"]);
        assert_close_vec(
            &format!("{id} weighted result"),
            &m.result_values(),
            &want,
            1e-6,
        );
        let mean = want.iter().sum::<f64>() / want.len() as f64;
        assert!(
            (m.result() - mean).abs() < 1e-6,
            "{id}: result() is the mean"
        );
        if let Some(vars) = case["variables"].as_array() {
            let got = m.variables();
            assert_eq!(got.len(), vars.len(), "{id}: variable count");
            for (i, (g, w)) in got.iter().zip(vars).enumerate() {
                assert_close_vec(
                    &format!("{id} variable {i}"),
                    &keras::ops::to_vec_f64(g).unwrap(),
                    &floats(w),
                    1e-6,
                );
            }
        }
        // The saved state restores the result in a fresh metric.
        let mut fresh = metrics::deserialize(config).unwrap();
        fresh.set_variables(&m.variables()).unwrap();
        assert_close_vec(
            &format!("{id} restored"),
            &fresh.result_values(),
            &want,
            1e-6,
        );
    }
    assert_eq!(classes.len(), 18, "{classes:?}");
}

#[test]
fn names_resolve_as_keras_metrics_get() {
    for (name, class) in [
        ("precision", "Precision"),
        ("recall", "Recall"),
        ("auc", "AUC"),
        ("true_positives", "TruePositives"),
        ("f1_score", "F1Score"),
        ("f_beta_score", "FBetaScore"),
    ] {
        let m = metrics::get(name).unwrap();
        assert_eq!(m.name(), name);
        assert_eq!(m.get_config()["class_name"], class);
    }
    let e = metrics::deserialize(&json!({"class_name": "Precison", "config": {}}))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("'Precison'") && e.contains("'Precision'"), "{e}");
}

fn error(config: Value) -> String {
    metrics::deserialize(&config).err().unwrap().to_string()
}

/// Keras's wording for bad arguments: errors, never panics.
#[test]
fn bad_arguments_are_errors() {
    let e = error(json!({"class_name": "Precision", "config": {"thresholds": [0.5, 1.5]}}));
    assert_eq!(e, "Threshold values must be in [0, 1]. Received: [1.5]");
    let e = error(json!({"class_name": "TruePositives", "config": {"thresholds": -0.1}}));
    assert!(e.contains("Received: [-0.1]"), "{e}");
    let e = error(json!({"class_name": "AUC", "config": {"num_thresholds": 1}}));
    assert_eq!(
        e,
        "Argument `num_thresholds` must be an integer > 1. Received: num_thresholds=1"
    );
    let e = error(json!({"class_name": "AUC", "config": {"curve": "ROCK"}}));
    assert!(e.contains("Invalid AUC curve value: \"ROCK\""), "{e}");
    let e = error(json!({"class_name": "AUC", "config": {"summation_method": "trapezoid"}}));
    assert!(e.contains("Invalid AUC summation method value"), "{e}");
    let e = error(json!({"class_name": "AUC", "config": {"num_labels": 3}}));
    assert!(
        e.contains("`num_labels` is needed only when `multi_label` is True."),
        "{e}"
    );
    let e = error(json!({"class_name": "PrecisionAtRecall", "config": {"recall": 1.5}}));
    assert_eq!(
        e,
        "Argument `recall` must be in the range [0, 1]. Received: recall=1.5"
    );
    let e = error(json!({"class_name": "SensitivityAtSpecificity",
        "config": {"specificity": 0.5, "num_thresholds": 0}}));
    assert!(e.contains("`num_thresholds` must be an integer > 0"), "{e}");
    let e = error(json!({"class_name": "FBetaScore", "config": {"beta": 0.0}}));
    assert!(e.contains("It should be > 0. Received: beta=0.0"), "{e}");
    let e = error(json!({"class_name": "F1Score", "config": {"average": "mean"}}));
    assert!(e.contains("Received: average=mean"), "{e}");
    let e = error(json!({"class_name": "F1Score", "config": {"threshold": 1.5}}));
    assert!(e.contains("0 < threshold <= 1"), "{e}");
    let e = error(json!({"class_name": "IoU",
        "config": {"num_classes": 3, "target_class_ids": [0, 3]}}));
    assert_eq!(e, "Target class id 3 is out of range, which is [0, 3).");
    let e = error(json!({"class_name": "Recall", "config": {"dtype": "float16"}}));
    assert!(e.contains("'dtype'") && e.contains("float16"), "{e}");
}

/// Labels of the wrong shape: an error naming the metric and both shapes.
#[test]
fn wrong_label_shapes_name_the_metric_and_both_shapes() {
    let dev = Device::Cpu;
    let y3 = Tensor::zeros((4, 3), DType::F32, &dev).unwrap();
    let p2 = Tensor::zeros((4, 2), DType::F32, &dev).unwrap();
    let p1 = Tensor::zeros(4, DType::F32, &dev).unwrap();
    let boxed: Vec<Box<dyn Metric>> = vec![
        Box::new(metrics::Precision::new()),
        Box::new(metrics::Recall::new().top_k(1)),
        Box::new(metrics::AUC::new()),
        Box::new(metrics::TruePositives::new()),
        Box::new(metrics::PrecisionAtRecall::new(0.5).unwrap()),
        Box::new(metrics::F1Score::new()),
        Box::new(metrics::MeanIoU::new(3).unwrap()),
    ];
    for mut m in boxed {
        let name = m.name().to_string();
        let e = m.update_state(&y3, &p2, None).unwrap_err().to_string();
        assert!(e.contains(&format!("metric '{name}'")), "{e}");
        assert!(e.contains("(4, 3)") && e.contains("(4, 2)"), "{e}");
    }
    // Rank-1 predictions where rank 2 is needed.
    let mut ml = metrics::AUC::new().multi_label(true).unwrap();
    let e = ml.update_state(&p1, &p1, None).unwrap_err().to_string();
    assert!(e.contains("must have rank 2") && e.contains("(4,)"), "{e}");
    let mut c = metrics::Precision::new().class_id(1);
    let e = c.update_state(&p1, &p1, None).unwrap_err().to_string();
    assert!(
        e.contains("When class_id is provided") && e.contains("(4,)"),
        "{e}"
    );
    let mut c = metrics::Precision::new().class_id(5);
    let e = c.update_state(&y3, &y3, None).unwrap_err().to_string();
    assert!(e.contains("class_id=5"), "{e}");
    // Sample weights that do not broadcast.
    let mut p = metrics::Precision::new();
    let w = Tensor::ones(3, DType::F32, &dev).unwrap();
    let e = p.update_state(&y3, &y3, Some(&w)).unwrap_err().to_string();
    assert!(e.contains("sample_weight") && e.contains("(4, 3)"), "{e}");
}
