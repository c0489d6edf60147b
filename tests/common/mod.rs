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
