//! Whole-model legacy HDF5 files (`model.save("my_model.h5")`): files written by Keras 3's
//! legacy writer, by tf_keras (Keras 2) and in Keras 2.4's form without `module` keys
//! (tests/fixtures/make_legacy_h5_models.py) load here with their layers, weights and compile
//! configuration and predict Keras's numbers; our `save("x.h5")` round-trips here and, when
//! Python Keras is found (`KERAS_PYTHON`, required with `KERAS_RS_REQUIRE_PYTHON=1`), loads in
//! Keras 3 (and in tf_keras, when that Python has it) with the same predictions. Corrupt
//! files and unknown classes are errors that name them.

mod common;

use common::{assert_close, Fixture};
use keras::layers::*;
use keras::prelude::*;
use std::path::{Path, PathBuf};

fn path(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/legacy_h5")
        .join(file)
}

fn fixture(name: &str) -> Fixture {
    Fixture::load(&format!("legacy_h5/{name}.npz"))
}

fn inputs(f: &Fixture) -> Vec<Tensor> {
    (0..)
        .map(|i| format!("x{i}"))
        .take_while(|k| f.has(k))
        .map(|k| f.get(&k))
        .collect()
}

fn classes(m: &Model) -> Vec<String> {
    m.layers()
        .iter()
        .map(|l| l.class_name().to_string())
        .collect()
}

fn predict(m: &Model, xs: &[Tensor]) -> Tensor {
    m.predict_on_batch(xs.to_vec()).unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("keras_rs_legacy_h5_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

const CNN: &[&str] = &["Conv2D", "MaxPooling2D", "Flatten", "Dropout", "Dense"];
/// A nested functional encoder and a nested Sequential decoder.
const NESTED: &[&str] = &["InputLayer", "Functional", "Sequential"];
const TWO: &[&str] = &[
    "InputLayer",
    "InputLayer",
    "Dense",
    "Dense",
    "Concatenate",
    "Dense",
];

#[test]
fn keras_and_tf_keras_files_load_with_layers_weights_and_compile_config() {
    for prefix in ["keras3", "tfkeras", "keras2"] {
        // The keras2_ files are tf_keras's with their objects rewritten as Keras 2.4 wrote them.
        let npz = if prefix == "keras2" {
            "tfkeras"
        } else {
            prefix
        };
        for (name, want, lr, opt_class) in [
            ("mnist_cnn", CNN, 0.01, "Adam"),
            ("two_input", TWO, 0.005, "RMSprop"),
            ("nested", NESTED, 0.1, "SGD"),
        ] {
            let what = format!("{prefix}_{name}");
            let f = fixture(&format!("{npz}_{name}"));
            let mut m = keras::saving::load_model(path(&format!("{what}.h5")))
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(classes(&m), want, "{what}");
            assert_close(&what, &predict(&m, &inputs(&f)), &f.get("y"), 1e-5);
            assert!(m.compiled(), "{what}: compiled from training_config");
            let opt = m.optimizer().unwrap();
            let class = opt.get_config()["class_name"].as_str().unwrap().to_string();
            assert_eq!(class, opt_class, "{what}");
            assert!((opt.get_learning_rate() - lr).abs() < 1e-8, "{what}");
            // Keras 3's optimizer_weights restore; tf_keras's layout is skipped, as in Keras.
            let iterations = opt.iterations();
            assert_eq!(iterations, u64::from(prefix == "keras3"), "{what}");
            let m2 = keras::saving::load_model_uncompiled(path(&format!("{what}.h5"))).unwrap();
            assert!(!m2.compiled(), "{what}");
        }
    }
}

/// tests/fixtures/saving's models as Keras 3's legacy writer saved them (make_legacy_h5.py,
/// without optimizer): an MLP with BatchNormalization, a residual CNN, a two-input LSTM with
/// embeddings and an autoencoder of nested models.
const SAVING_ZOO: &[&str] = &[
    "seq_mlp",
    "residual_cnn",
    "two_input_lstm",
    "nested_autoencoder",
];

fn zoo_path(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/saving")
        .join(file)
}

#[test]
fn keras3_legacy_files_of_the_saving_models_load() {
    for name in SAVING_ZOO {
        let f = Fixture::load(&format!("saving/{name}.npz"));
        let m = keras::saving::load_model(zoo_path(&format!("{name}.legacy.h5")))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!m.compiled(), "{name}: saved without training_config");
        assert_close(name, &predict(&m, &inputs(&f)), &f.get("pred0"), 1e-5);
        // Ours, of the same model, loads back with the same numbers.
        let p = tmp(&format!("zoo_{name}.h5"));
        m.save(&p).unwrap();
        let back = keras::saving::load_model(&p).unwrap();
        assert_eq!(classes(&back), classes(&m), "{name}");
        assert_close(name, &predict(&back, &inputs(&f)), &f.get("pred0"), 1e-5);
    }
    // The layer zoo (make_saving_zoo.py: wrappers, attention, separable and transposed
    // convolutions, normalizations, RNNs), compiled, through our .h5 and back.
    let f = Fixture::load("saving/zoo.npz");
    let m = keras::saving::load_model(zoo_path("zoo.keras")).unwrap();
    let p = tmp("zoo.h5");
    m.save(&p).unwrap();
    let back = keras::saving::load_model(&p).unwrap();
    assert_eq!(classes(&back), classes(&m));
    assert!(back.compiled());
    assert_close("zoo", &predict(&back, &inputs(&f)), &f.get("pred0"), 1e-5);
}

#[test]
fn loaded_two_input_models_continue_training_as_keras_does() {
    for prefix in ["keras3", "tfkeras", "keras2"] {
        let f = fixture(&format!("{prefix}_two_input"));
        let mut m = keras::saving::load_model(path(&format!("{prefix}_two_input.h5"))).unwrap();
        let xs = inputs(&f);
        let logs = m.train_on_batch(xs.clone(), f.get("t")).unwrap();
        // The compiled metrics: "accuracy" and a MeanSquaredError object named "mse".
        for name in ["loss", "accuracy", "mse"] {
            assert!(logs.get(name).is_some(), "{prefix}: {:?}", logs.names());
        }
        assert_close(
            &format!("{prefix} after train_on_batch"),
            &predict(&m, &xs),
            &f.get("y_after"),
            1e-5,
        );
    }
}

fn read_tree(p: &Path) -> keras::saving::h5::Group {
    keras::saving::h5::Group::from_bytes(std::fs::read(p).unwrap()).unwrap()
}

#[test]
fn our_h5_files_round_trip_with_keras_attributes() {
    // A model built here, trained a step, saved as .h5 and loaded back.
    let a = Input::shape([4]).name("a").build();
    let b = Input::shape([3]).name("b").build();
    let x = Dense::new(5)
        .activation("relu")
        .name("da")
        .call(&a)
        .unwrap();
    let y = Dense::new(5)
        .activation("tanh")
        .name("db")
        .call(&b)
        .unwrap();
    let c = concatenate(&[x, y]).unwrap();
    let c = BatchNormalization::new().call(&c).unwrap();
    let out = Dense::new(1).activation("sigmoid").call(&c).unwrap();
    let mut m = Model::new(&[a, b], &[out]).unwrap().name("ours");
    m.compile(
        Adam::new().learning_rate(0.02),
        "binary_crossentropy",
        ["accuracy"],
    )
    .unwrap();
    let f = fixture("keras3_two_input");
    let xs = inputs(&f);
    m.train_on_batch(xs.clone(), f.get("t")).unwrap();
    let p = tmp("ours.h5");
    m.save(&p).unwrap();
    let root = read_tree(&p);
    for key in [
        "model_config",
        "training_config",
        "keras_version",
        "backend",
    ] {
        assert!(root.attrs.contains_key(key), "root attribute {key}");
    }
    let config: serde_json::Value = serde_json::from_str(&root.attrs["model_config"]).unwrap();
    assert_eq!(config["class_name"], "Functional");
    assert_eq!(
        config["config"]["layers"][0]["config"]["batch_input_shape"],
        serde_json::json!([null, 4])
    );
    let mw = root.get("model_weights").unwrap();
    assert_eq!(
        mw.strings("layer_names"),
        m.layers().iter().map(|l| l.name()).collect::<Vec<_>>()
    );
    assert!(mw.attrs.contains_key("backend") && mw.attrs.contains_key("keras_version"));
    assert_eq!(
        mw.get("da").unwrap().strings("weight_names"),
        ["da/kernel", "da/bias"]
    );
    assert!(mw.get("a").unwrap().strings("weight_names").is_empty());
    let ow = root.get("optimizer_weights").unwrap();
    assert_eq!(ow.strings("weight_names").len(), 2 + 2 * 8);

    let mut back = keras::saving::load_model(&p).unwrap();
    assert_eq!(classes(&back), classes(&m));
    assert_close("round trip", &predict(&back, &xs), &predict(&m, &xs), 1e-6);
    assert_eq!(back.optimizer().unwrap().iterations(), 1);
    // The restored optimizer state continues training as the original does.
    m.train_on_batch(xs.clone(), f.get("t")).unwrap();
    back.train_on_batch(xs.clone(), f.get("t")).unwrap();
    assert_close("resumed", &predict(&back, &xs), &predict(&m, &xs), 1e-6);

    // A Keras fixture re-saved by us loads back with the same numbers; an uncompiled model
    // saves without training_config.
    let f = fixture("keras3_mnist_cnn");
    let cnn = keras::saving::load_model_uncompiled(path("keras3_mnist_cnn.h5")).unwrap();
    let p = tmp("cnn.h5");
    cnn.save(&p).unwrap();
    assert!(!read_tree(&p).attrs.contains_key("training_config"));
    let back = keras::saving::load_model(&p).unwrap();
    assert_eq!(classes(&back), CNN);
    assert_close(
        "cnn round trip",
        &predict(&back, &inputs(&f)),
        &f.get("y"),
        1e-5,
    );
}

#[test]
fn a_model_config_over_64_kib_is_written_and_read() {
    // HDF5 keeps a large attribute out of the object header (dense storage); Keras 2 files of
    // big models have model_config attributes of hundreds of KiB.
    let mut layers: Vec<keras::engine::LayerRef> = vec![Input::new([4]).into()];
    for _ in 0..150 {
        layers.push(Dense::new(2).into());
    }
    let m = Sequential::from_layers(layers).unwrap().into_model();
    let p = tmp("big.h5");
    m.save(&p).unwrap();
    let root = read_tree(&p);
    assert!(root.attrs["model_config"].len() > 64 << 10);
    assert_eq!(
        root.get("model_weights")
            .unwrap()
            .strings("layer_names")
            .len(),
        150
    );
    let back = keras::saving::load_model(&p).unwrap();
    assert_eq!(back.count_params(), m.count_params());
    if let Some(py) = python() {
        let out = std::process::Command::new(py)
            .arg("-c")
            .arg("import h5py, json, sys; f = h5py.File(sys.argv[1]); print(len(json.loads(f.attrs['model_config'])['config']['layers']), len(f['model_weights'].attrs['layer_names']))")
            .arg(&p)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "151 150",
            "{out:?}"
        );
    }
}

fn assert_err_names(r: keras::Result<Model>, needles: &[&str]) {
    let e = match r {
        Ok(_) => panic!("expected an error naming {needles:?}"),
        Err(e) => e.to_string(),
    };
    for n in needles {
        assert!(e.contains(n), "error {e:?} should name {n:?}");
    }
}

/// Rewrites a fixture's `model_config` attribute.
fn with_model_config(src: &str, dst: &str, edit: impl Fn(&mut serde_json::Value)) -> PathBuf {
    let mut root = read_tree(&path(src));
    let mut v: serde_json::Value = serde_json::from_str(&root.attrs["model_config"]).unwrap();
    edit(&mut v);
    root.attrs.insert("model_config".into(), v.to_string());
    let p = tmp(dst);
    std::fs::write(
        &p,
        keras::saving::legacy::h5_writer::to_bytes(&root).unwrap(),
    )
    .unwrap();
    p
}

#[test]
fn corrupt_files_and_unknown_classes_are_errors_that_name_them() {
    let bytes = std::fs::read(path("tfkeras_two_input.h5")).unwrap();
    // Truncated at several points, and with bytes overwritten: errors, never panics.
    for cut in [0, 8, 100, 1000, bytes.len() / 2, bytes.len() - 1] {
        let p = tmp(&format!("cut_{cut}.h5"));
        std::fs::write(&p, &bytes[..cut]).unwrap();
        assert_err_names(keras::saving::load_model(&p), &[&format!("cut_{cut}.h5")]);
    }
    for at in (0..bytes.len()).step_by(997) {
        let mut b = bytes.clone();
        for x in b.iter_mut().skip(at).take(16) {
            *x = !*x;
        }
        let p = tmp("flipped.h5");
        std::fs::write(&p, &b).unwrap();
        let _ = keras::saving::load_model(&p);
    }
    // Keras's split name lists (layer_names0, layer_names1, ...) of models with many layers.
    let mut root = read_tree(&path("keras3_two_input.h5"));
    let mw = root.groups.get_mut("model_weights").unwrap();
    let names = mw.lists.remove("layer_names").unwrap();
    mw.lists.insert("layer_names0".into(), names[..2].to_vec());
    mw.lists.insert("layer_names1".into(), names[2..].to_vec());
    let p = tmp("chunked.h5");
    std::fs::write(
        &p,
        keras::saving::legacy::h5_writer::to_bytes(&root).unwrap(),
    )
    .unwrap();
    let f = fixture("keras3_two_input");
    let m = keras::saving::load_model(&p).unwrap();
    assert_close("chunked", &predict(&m, &inputs(&f)), &f.get("y"), 1e-5);
    // An unknown Keras 2 layer class, by name.
    let p = with_model_config("tfkeras_mnist_cnn.h5", "unknown.h5", |v| {
        v["config"]["layers"][2]["class_name"] = "FancyPooling2D".into();
    });
    assert_err_names(
        keras::saving::load_model(&p),
        &["FancyPooling2D", "unknown.h5"],
    );
    // A Lambda layer (Python bytecode) names the layer.
    let p = with_model_config("keras2_two_input.h5", "lambda.h5", |v| {
        v["config"]["layers"][4]["class_name"] = "Lambda".into();
        v["config"]["layers"][4]["config"]["function"] =
            serde_json::json!(["4wEAAA==", null, null]);
    });
    assert_err_names(keras::saving::load_model(&p), &["Lambda", "\"cat\""]);
    // Invalid JSON, a missing model_config, a missing model_weights group.
    let mut root = read_tree(&path("keras3_two_input.h5"));
    root.attrs.insert("model_config".into(), "{not json".into());
    let p = tmp("bad_json.h5");
    std::fs::write(
        &p,
        keras::saving::legacy::h5_writer::to_bytes(&root).unwrap(),
    )
    .unwrap();
    assert_err_names(keras::saving::load_model(&p), &["model_config", "JSON"]);
    root.attrs.remove("model_config");
    std::fs::write(
        &p,
        keras::saving::legacy::h5_writer::to_bytes(&root).unwrap(),
    )
    .unwrap();
    assert_err_names(keras::saving::load_model(&p), &["No model config found"]);
    let mut root = read_tree(&path("keras3_two_input.h5"));
    root.groups.remove("model_weights");
    std::fs::write(
        &p,
        keras::saving::legacy::h5_writer::to_bytes(&root).unwrap(),
    )
    .unwrap();
    assert_err_names(keras::saving::load_model(&p), &["model_weights"]);
    // A weights file is not a model file.
    let mut m = Sequential::from_layers([Input::new([3]).into(), Dense::new(2).into()])
        .unwrap()
        .into_model();
    m.compile("sgd", "mse", ()).unwrap();
    let w = tmp("w.weights.h5");
    m.save_weights(&w).unwrap();
    assert_err_names(keras::saving::load_model(&w), &["No model config found"]);
}

fn python() -> Option<String> {
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

/// Loads each `(h5, npz)` in Python (`mode`: `check` with Keras 3, `check_tf_keras` with
/// tf_keras), one process for all: each file's predictions' largest difference from the npz,
/// its layer classes, whether it is compiled and its learning rate.
fn python_check(py: &str, mode: &str, files: &[(PathBuf, PathBuf)]) -> Vec<serde_json::Value> {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/make_legacy_h5_models.py");
    let mut cmd = std::process::Command::new(py);
    cmd.arg(&script).arg(mode).env("KERAS_BACKEND", "jax");
    for (h5, npz) in files {
        cmd.arg(h5).arg(npz);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{mode}: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{mode}: {e}: {l}")))
        .collect();
    assert_eq!(lines.len(), files.len(), "{mode}: {stdout}");
    lines
}

/// One of our files for Python to load, with what it must find there.
struct Case {
    name: String,
    h5: PathBuf,
    npz: PathBuf,
    layers: Vec<String>,
    /// The learning rate, for a compiled model.
    lr: Option<f64>,
    /// Keras 3 only: a model that nests models (tf_keras numbers their nodes differently
    /// from Keras 3's legacy loader, and our files follow Keras 3's), or whose layers tf_keras
    /// lacks or calls differently (attention's query and value).
    keras3_only: bool,
}

#[test]
fn our_h5_files_load_in_python_keras() {
    let Some(py) = python() else {
        let required = std::env::var("KERAS_RS_REQUIRE_PYTHON").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "KERAS_RS_REQUIRE_PYTHON=1 but no Python with keras was found"
        );
        eprintln!("skipping the Python Keras half: no python with keras (set KERAS_PYTHON)");
        return;
    };
    let tf_keras = std::process::Command::new(&py)
        .args(["-c", "import tf_keras"])
        .output()
        .is_ok_and(|o| o.status.success());
    let mut cases: Vec<Case> = vec![];
    // The saving models (nested models, LSTMs, BatchNormalization), saved by us.
    for name in SAVING_ZOO {
        let m = keras::saving::load_model(zoo_path(&format!("{name}.legacy.h5"))).unwrap();
        let h5 = tmp(&format!("ours_zoo_{name}.h5"));
        m.save(&h5).unwrap();
        let npz = zoo_path(&format!("{name}.npz"));
        cases.push(Case {
            name: name.to_string(),
            h5,
            npz,
            layers: classes(&m),
            lr: None,
            keras3_only: *name == "nested_autoencoder",
        });
    }
    // The layer zoo, compiled with Adam(0.01, amsgrad=True).
    let m = keras::saving::load_model(zoo_path("zoo.keras")).unwrap();
    let h5 = tmp("ours_zoo.h5");
    m.save(&h5).unwrap();
    let lr = 0.01;
    cases.push(Case {
        name: "zoo".into(),
        h5,
        npz: zoo_path("zoo.npz"),
        layers: classes(&m),
        lr: Some(lr),
        keras3_only: true,
    });
    // Keras's files, loaded here and saved by us.
    for (name, want, lr) in [
        ("mnist_cnn", CNN, 0.01),
        ("two_input", TWO, 0.005),
        ("nested", NESTED, 0.1),
    ] {
        let m = keras::saving::load_model(path(&format!("keras3_{name}.h5"))).unwrap();
        let h5 = tmp(&format!("ours_{name}.h5"));
        m.save(&h5).unwrap();
        let npz = path(&format!("keras3_{name}.npz"));
        cases.push(Case {
            name: name.into(),
            h5,
            npz,
            layers: want.iter().map(|s| s.to_string()).collect(),
            lr: Some(lr),
            keras3_only: name == "nested",
        });
    }
    let mut modes = vec!["check"];
    if tf_keras {
        modes.push("check_tf_keras");
    }
    for mode in modes {
        let run: Vec<&Case> = cases
            .iter()
            .filter(|c| mode == "check" || !c.keras3_only)
            .collect();
        let files: Vec<(PathBuf, PathBuf)> =
            run.iter().map(|c| (c.h5.clone(), c.npz.clone())).collect();
        for (c, r) in run.iter().zip(python_check(&py, mode, &files)) {
            let name = &c.name;
            assert!(r["max_diff"].as_f64().unwrap() < 1e-5, "{mode} {name}: {r}");
            let layers: Vec<String> = r["layers"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            assert_eq!(layers, c.layers, "{mode} {name}");
            assert_eq!(r["compiled"], c.lr.is_some(), "{mode} {name}: {r}");
            if let Some(lr) = c.lr {
                let got = r["learning_rate"].as_f64().unwrap();
                assert!((got - lr).abs() < 1e-8, "{mode} {name}: {r}");
            }
        }
    }
}
