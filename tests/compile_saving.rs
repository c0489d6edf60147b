//! The compiled objects saved and loaded with the model (Keras's `compile_config`): a `.keras`
//! file compiled in Python with objects (an optimizer with a learning-rate schedule, a loss
//! with options, metric objects beside metric names) and trained two steps loads here with
//! those objects, resumes training with Keras's numbers, and the file we then write holds the
//! same `compile_config` and loads in Keras the same way (`check_compile_saving.py`, run when
//! a Python with Keras is found: `KERAS_PYTHON`, as tests/keras_interop.rs).
//!
//! Fixtures: `tests/fixtures/make_compile_saving.py` (compile_saving/*.keras and
//! compile_saving.json).

mod common;

use common::{keras_python, same_subset};
use keras::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Keras's float32 numbers against ours.
const TOL: f64 = 1e-5;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn json() -> Value {
    let text = std::fs::read_to_string(fixtures().join("compile_saving.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A `(rows, columns)` float32 tensor from nested JSON lists.
fn matrix(v: &Value) -> Tensor {
    let rows = v.as_array().unwrap();
    let cols = rows[0].as_array().unwrap().len();
    let data: Vec<f32> = rows
        .iter()
        .flat_map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
        })
        .collect();
    Tensor::from_vec(data, (rows.len(), cols), &Device::Cpu).unwrap()
}

fn batches(j: &Value) -> Vec<(Tensor, Tensor)> {
    j["batches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (matrix(&b[0]), matrix(&b[1])))
        .collect()
}

/// The `config.json` of a saved `.keras` file.
fn saved_config(path: &Path) -> Value {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("config.json").unwrap(), &mut text).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn assert_logs(what: &str, got: &Logs, want: &Value) {
    let want = want.as_object().unwrap();
    let mut got_keys: Vec<String> = got.to_map().into_keys().collect();
    let mut want_keys: Vec<String> = want.keys().cloned().collect();
    got_keys.sort();
    want_keys.sort();
    assert_eq!(got_keys, want_keys, "{what}: log keys");
    for (k, v) in want {
        let (a, b) = (got.get(k).unwrap(), v.as_f64().unwrap());
        assert!(
            (a - b).abs() <= TOL * (1.0 + b.abs()),
            "{what} {k}: ours {a}, Keras {b}"
        );
    }
}

/// Loads case `name`'s Keras file, checks the objects it compiled with, resumes training
/// with Keras's numbers, saves it, and checks our `compile_config` and a reload.
fn resume(name: &str) {
    let j = json();
    let case = &j["cases"][name];
    let keras_cc = &case["compile_config"];
    let data = batches(&j);
    let path = fixtures().join(format!("compile_saving/{name}.keras"));
    let mut model = keras::saving::load_model(&path).unwrap();
    assert!(model.compiled(), "{name}: compiled from compile_config");
    // The optimizer is the object Keras saved, with its arguments and state.
    let opt = model.optimizer().unwrap();
    assert_eq!(opt.iterations(), 2, "{name}: optimizer iterations restored");
    let mut problems = vec![];
    same_subset(
        &format!("{name}.optimizer"),
        &opt.get_config(),
        &keras_cc["optimizer"],
        &mut problems,
    );
    assert!(problems.is_empty(), "{problems:#?}");
    for (i, (want, (x, y))) in case["resumed"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&data[2..])
        .enumerate()
    {
        let logs = model.train_on_batch(x, y).unwrap();
        assert_logs(&format!("{name} resumed step {i}"), &logs, want);
    }
    let pred: Tensor = model.predict(&data[0].0, Default::default()).unwrap();
    let want = matrix(&case["predictions"]);
    let (p, w) = (
        keras::ops::to_vec_f64(&pred).unwrap(),
        keras::ops::to_vec_f64(&want).unwrap(),
    );
    for (a, b) in p.iter().zip(&w) {
        assert!(
            (a - b).abs() <= TOL,
            "{name} predictions: ours {a}, Keras {b}"
        );
    }

    // What we write: the same objects, as Keras serializes them.
    let dir = std::env::temp_dir().join(format!("keras_cs_{name}_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ours_path = dir.join(format!("{name}.keras"));
    model.save(&ours_path).unwrap();
    let ours = saved_config(&ours_path)["compile_config"].clone();
    let mut problems = vec![];
    for key in [
        "optimizer",
        "loss",
        "loss_weights",
        "metrics",
        "weighted_metrics",
    ] {
        same_subset(
            &format!("{name}.{key}"),
            &ours[key],
            &keras_cc[key],
            &mut problems,
        );
    }
    assert!(problems.is_empty(), "{problems:#?}");
    // Metric objects are written as objects (not their names), names as names.
    for (o, k) in ours["metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .zip(keras_cc["metrics"].as_array().into_iter().flatten())
    {
        assert_eq!(
            o.is_string(),
            k.is_string(),
            "{name}: metric {o} vs Keras {k}"
        );
        assert_eq!(o.get("class_name"), k.get("class_name"));
    }
    // Our file resumes as the model in memory does.
    let mut back = keras::saving::load_model(&ours_path).unwrap();
    for (i, (x, y)) in data[..2].iter().enumerate() {
        let a = model.train_on_batch(x, y).unwrap();
        let b = back.train_on_batch(x, y).unwrap();
        assert_eq!(a.to_map(), b.to_map(), "{name}: our file, step {i}");
    }
    check_in_keras(name, &ours_path, &dir);
    std::fs::remove_dir_all(&dir).ok();
}

/// Our file `path` in Python Keras: `check_compile_saving.py` checks its compiled objects
/// against Keras's own file and trains the steps we trained after saving, with our numbers
/// (written beside the file).
fn check_in_keras(name: &str, path: &Path, dir: &Path) {
    let required = std::env::var("KERAS_RS_REQUIRE_PYTHON").is_ok_and(|v| v == "1");
    let Some(py) = keras_python() else {
        assert!(
            !required,
            "KERAS_RS_REQUIRE_PYTHON=1 but no Python with keras was found"
        );
        eprintln!("skipping the Python Keras half: no python with keras (set KERAS_PYTHON)");
        return;
    };
    // Our numbers for the two steps after saving, from a fresh load of our file.
    let mut model = keras::saving::load_model(path).unwrap();
    let data = batches(&json());
    let logs: Vec<_> = data[..2]
        .iter()
        .map(|(x, y)| model.train_on_batch(x, y).unwrap().to_map())
        .collect();
    let ours = dir.join(format!("{name}.json"));
    std::fs::write(&ours, serde_json::to_string(&logs).unwrap()).unwrap();
    let script = fixtures().join("check_compile_saving.py");
    let out = std::process::Command::new(&py)
        .arg(&script)
        .arg(path)
        .arg(&ours)
        .arg(fixtures().join(format!("compile_saving/{name}.keras")))
        .arg(fixtures().join("compile_saving.json"))
        .env("KERAS_BACKEND", "jax")
        .env("JAX_PLATFORMS", "cpu")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name}: Keras on our file:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Adam, BinaryCrossentropy, `"accuracy"` and a `MeanSquaredError()` object, `"mae"` as a
/// weighted metric.
#[test]
fn adam_and_metric_objects_resume_with_keras_numbers() {
    resume("basic");
}

/// Issue 11's acceptance case: Nadam with a CosineDecay schedule,
/// BinaryFocalCrossentropy(gamma=3), Precision(thresholds=0.3) and AUC(curve="PR").
#[test]
fn nadam_cosine_decay_focal_precision_auc_resume_with_keras_numbers() {
    resume("objects");
}
