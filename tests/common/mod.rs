//! Helpers shared by the integration tests.
#![allow(dead_code)]

use keras::ops::{self, npy, Tensor};

/// Every array of a fixture written by `tests/fixtures/make_fixtures.py`.
pub struct Fixture(Vec<(String, Tensor)>);

impl Fixture {
    pub fn load(name: &str) -> Fixture {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        Fixture(npy::read_npz(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
    }

    pub fn get(&self, name: &str) -> Tensor {
        npy::get(&self.0, name).unwrap().clone()
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n == name)
    }

    pub fn f32(&self, name: &str) -> Vec<f32> {
        ops::to_vec_f32(&self.get(name)).unwrap()
    }
}

/// Asserts two tensors have the same shape and values within `tol` (absolute + relative).
pub fn assert_close(what: &str, got: &Tensor, want: &Tensor, tol: f64) {
    assert_eq!(got.dims(), want.dims(), "{what}: shape");
    let g = ops::to_vec_f64(got).unwrap();
    let w = ops::to_vec_f64(want).unwrap();
    for (i, (a, b)) in g.iter().zip(&w).enumerate() {
        assert!(
            (a - b).abs() <= tol * (1.0 + b.abs()),
            "{what}[{i}]: got {a}, want {b}"
        );
    }
}

/// Asserts two slices agree within `tol`.
pub fn assert_close_vec(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert!(
            (a - b).abs() <= tol * (1.0 + b.abs()),
            "{what}[{i}]: got {a}, want {b}"
        );
    }
}

pub fn summary_fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/summaries")
        .join(format!("{name}.txt"));
    std::fs::read_to_string(path).unwrap()
}

/// A Python that imports Keras: `KERAS_PYTHON` (a venv with `keras` and `jax[cpu]`, as CI
/// makes) or `python3`; `None` when neither can (the Python half of a test is then skipped).
pub fn keras_python() -> Option<String> {
    let candidates = [std::env::var("KERAS_PYTHON").ok(), Some("python3".into())];
    candidates.into_iter().flatten().find(|p| {
        std::process::Command::new(p)
            .args(["-c", "import keras"])
            .env("KERAS_BACKEND", "jax")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    })
}

/// Collects in `problems` every key of `ours` whose value differs from Keras's (numbers
/// within 1e-6 relative, lists item by item); Keras may have more keys.
pub fn same_subset(
    path: &str,
    ours: &serde_json::Value,
    keras: &serde_json::Value,
    problems: &mut Vec<String>,
) {
    use serde_json::Value;
    match (ours, keras) {
        (Value::Object(o), Value::Object(k)) => {
            for (key, ov) in o {
                match k.get(key) {
                    Some(kv) => same_subset(&format!("{path}.{key}"), ov, kv, problems),
                    None => problems.push(format!("{path}.{key}: Keras has no such key")),
                }
            }
        }
        (Value::Array(o), Value::Array(k)) if o.len() == k.len() => {
            for (i, (ov, kv)) in o.iter().zip(k).enumerate() {
                same_subset(&format!("{path}[{i}]"), ov, kv, problems);
            }
        }
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            if (a - b).abs() > 1e-6 * (1.0 + b.abs()) {
                problems.push(format!("{path}: {a} vs Keras {b}"));
            }
        }
        (a, b) if a == b => {}
        (a, b) => problems.push(format!("{path}: {a} vs Keras {b}")),
    }
}
