//! The mean-style, accuracy, regression, probabilistic, hinge and correlation metrics against
//! Python Keras 3.15.1 (tests/fixtures/make_metrics.py -> metrics.npz / metrics.json): each
//! case is built from Keras's serialized metric, fed three batches (without and with sample
//! weights) and compared after every update; configs, variables, directions and `get`'s
//! aliases too.

mod common;

use common::Fixture;
use keras::metrics::{self, Direction, Metric};
use keras::prelude::*;
use serde_json::{json, Value};

fn fixture_json() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/metrics.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn values(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(a) => a.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect(),
        x => vec![x.as_f64().unwrap_or(f64::NAN)],
    }
}

fn close(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: {got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        let ok = (g.is_nan() && w.is_nan()) || (g - w).abs() <= 1e-6 * (1.0 + w.abs());
        assert!(ok, "{what}: got {got:?}, want {want:?}");
    }
}

/// Feeds the case's three batches; `Err` at the first refused batch.
fn run(
    m: &mut dyn Metric,
    f: &Fixture,
    case: &str,
    weighted: bool,
) -> keras::Result<Vec<Vec<f64>>> {
    let mut out = vec![];
    for i in 0..3 {
        let yt = f.get(&format!("{case}_{i}_yt"));
        let yp_key = format!("{case}_{i}_yp");
        // Mean and Sum take the values as their first argument.
        let yp = if f.has(&yp_key) {
            f.get(&yp_key)
        } else {
            yt.clone()
        };
        let sw = f.get(&format!("{case}_{i}_sw"));
        m.update_state(&yt, &yp, weighted.then_some(&sw))?;
        out.push(m.result_values());
    }
    Ok(out)
}

/// The case's metric from Keras's serialized form; `CosineSimilarity(axis=1)` from its
/// arguments, as Keras's `get_config` does not write the axis.
fn build(case: &str, serialized: &Value) -> Box<dyn Metric> {
    if case == "cosine_axis1" {
        return Box::new(metrics::CosineSimilarity::default().axis(1));
    }
    metrics::deserialize(serialized).unwrap_or_else(|e| panic!("{case}: {e}"))
}

#[test]
fn every_metric_matches_keras_after_three_updates() {
    let f = Fixture::load("metrics.npz");
    let j = fixture_json();
    assert_eq!(j["keras"], "3.15.1");
    let cases = j["cases"].as_object().unwrap();
    assert!(cases.len() >= 45, "{}", cases.len());
    for (case, c) in cases {
        let serialized = c.get("serialized");
        for (key, weighted) in [("plain", false), ("weighted", true)] {
            let Some(ser) = serialized else {
                // Keras refuses these inputs (e.g. SparseCategoricalCrossentropy(axis=1)):
                // the class is built from the same arguments below, and must refuse too.
                continue;
            };
            let mut m = build(case, ser);
            let got = run(m.as_mut(), &f, case, weighted);
            if let Some(err) = c.get(format!("{key}_error")) {
                let e = got.expect_err(&format!("{case} {key}: Keras refused it: {err}"));
                assert!(e.to_string().contains(m.name()), "{case}: {e}");
                continue;
            }
            let got = got.unwrap_or_else(|e| panic!("{case} {key}: {e}"));
            let want = c[key].as_array().unwrap();
            for (i, (g, w)) in got.iter().zip(want).enumerate() {
                close(&format!("{case} {key} update {i}"), g, &values(w));
            }
            if !weighted {
                // Variables: Keras's count and order, and values.
                let vars = m.variables();
                let want_vars = c["variables"].as_array().unwrap();
                assert_eq!(vars.len(), want_vars.len(), "{case}: variables");
                for (v, w) in vars.iter().zip(want_vars) {
                    let got = keras::ops::to_vec_f64(v).unwrap();
                    close(&format!("{case} variable {}", w[0]), &got, &values(&w[1]));
                }
                // A second metric restored from them gives the same result.
                let mut again = build(case, ser);
                again.set_variables(&vars).unwrap();
                close(
                    &format!("{case} restored"),
                    &again.result_values(),
                    &got.last().unwrap().clone(),
                );
                m.reset_state();
                close(
                    &format!("{case} after reset"),
                    &m.result_values(),
                    &values(&c["after_reset"]),
                );
                let dir = match c["direction"].as_str() {
                    Some("up") => Some(Direction::Up),
                    Some("down") => Some(Direction::Down),
                    _ => None,
                };
                assert_eq!(m.direction(), dir, "{case}: direction");
                assert_eq!(&m.get_config(), ser, "{case}: get_config");
            }
        }
    }
}

#[test]
fn inputs_keras_refuses_are_errors() {
    let f = Fixture::load("metrics.npz");
    // SparseCategoricalCrossentropy(axis=1) on labels (batch, steps): Keras's JAX backend
    // refuses it.
    let mut m = metrics::SparseCategoricalCrossentropy::default().axis(1);
    let e = run(&mut m, &f, "scce_axis1", false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("SparseCategoricalCrossentropy metric"), "{e}");
    let j = fixture_json();
    assert!(j["cases"]["scce_axis1"]["plain_error"].is_string());
}

#[test]
fn configs_equal_keras_defaults_and_round_trip() {
    let j = fixture_json();
    for (class, want) in j["defaults"].as_object().unwrap() {
        let m = metrics::deserialize(&json!({"class_name": class, "config": {}}))
            .unwrap_or_else(|e| panic!("{class}: {e}"));
        assert_eq!(&m.get_config(), want, "{class}");
        let again = metrics::deserialize(&m.get_config()).unwrap();
        assert_eq!(again.get_config(), m.get_config(), "{class}");
    }
    // Keras's `metrics.get` names: each gives the class Keras gives, named as asked.
    for (name, class) in j["get"].as_object().unwrap() {
        let class = class.as_str().unwrap();
        match metrics::get(name) {
            Ok(m) => {
                assert_eq!(m.get_config()["class_name"], class, "{name}");
                assert_eq!(m.name(), name);
            }
            Err(e) => {
                assert!(class.starts_with("error"), "{name}: {e}");
                assert!(e.to_string().contains(name), "{e}");
            }
        }
    }
}

#[test]
fn bad_arguments_and_shapes_are_errors() {
    let bad = |v: Value| metrics::deserialize(&v).err().unwrap().to_string();
    let e = bad(json!({"class_name": "TopKCategoricalAccuracy", "config": {"k": 0}}));
    assert!(
        e.contains("'k' should be a positive integer; received 0"),
        "{e}"
    );
    let e = bad(json!({"class_name": "R2Score", "config": {"class_aggregation": "sum"}}));
    assert!(e.contains("class_aggregation"), "{e}");
    let e = bad(json!({"class_name": "BinaryCrossentropy", "config": {"label_smoothing": 2}}));
    assert!(e.contains("label_smoothing"), "{e}");
    let e = bad(json!({"class_name": "MeanSquaredError", "config": {"dtype": "int32"}}));
    assert!(e.contains("dtype"), "{e}");
    let e = bad(json!({"class_name": "MeanSqaredError", "config": {}}));
    assert!(e.contains("'MeanSquaredError'"), "{e}");
    let e = metrics::get("categorical_acuracy")
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("'categorical_accuracy'"), "{e}");
    assert!(metrics::TopKCategoricalAccuracy::default().k(0).is_err());
    assert!(metrics::SparseTopKCategoricalAccuracy::default()
        .k(0)
        .is_err());

    // Labels of the wrong shape: the error names the metric and both shapes.
    let z = |d: &[usize]| Tensor::zeros(d, DType::F32, &Device::Cpu).unwrap();
    for name in [
        "mse",
        "categorical_accuracy",
        "sparse_categorical_accuracy",
        "binary_crossentropy",
        "categorical_crossentropy",
        "sparse_categorical_crossentropy",
        "top_k_categorical_accuracy",
        "sparse_top_k_categorical_accuracy",
        "root_mean_squared_error",
        "pearson_correlation",
        "kl_divergence",
        "hinge",
    ] {
        let mut m = metrics::get(name).unwrap();
        let e = m
            .update_state(&z(&[3, 2]), &z(&[4, 5]), None)
            .err()
            .unwrap_or_else(|| panic!("{name} took mismatched shapes"))
            .to_string();
        assert!(e.contains(&format!("metric '{name}'")), "{name}: {e}");
        assert!(e.contains("(3, 2)") && e.contains("(4, 5)"), "{name}: {e}");
    }
}
