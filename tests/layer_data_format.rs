//! The Keras 3 layer arguments the tutorials pass (issue 12, item 8), against Keras's numbers
//! (tests/fixtures/make_data_format_fixtures.py): `data_format="channels_first"` on convolution,
//! pooling and reshaping layers, BatchNormalization on any axis (training and inference, moving
//! statistics), Layer- / GroupNormalization on axis 1, a channels_first `.keras` model, and
//! `Embedding(input_length=...)`.

mod common;

use common::{assert_close, same_subset, Fixture};
use keras::engine::{context, LayerRef, Shape};
use keras::layers::{BatchNormalization, Conv2D, MaxPooling2D};
use keras::prelude::*;
use keras::saving::object_registration::deserialize;
use keras::serialization::{config, json, Value};

fn fixture_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn cases() -> serde_json::Map<String, Value> {
    let text = std::fs::read_to_string(fixture_dir().join("data_format.json")).unwrap();
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_object()
        .unwrap()
        .clone()
}

fn shape(v: &Value) -> Shape {
    Shape(
        v.as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().map(|d| d as usize))
            .collect(),
    )
}

/// Keras's layer rebuilt from its config, built for the case's input and given its weights.
fn layer_of(name: &str, case: &Value, f: &Fixture) -> LayerRef {
    let cfg = case["config"].as_object().unwrap();
    let class = case["class_name"].as_str().unwrap();
    let layer = deserialize::<LayerRef>(class, cfg).unwrap_or_else(|e| panic!("{name}: {e}"));
    layer
        .build(&[shape(&case["input_shape"])])
        .unwrap_or_else(|e| panic!("{name}: build: {e}"));
    let n = case["weights"].as_u64().unwrap() as usize;
    let ws: Vec<_> = (0..n).map(|j| f.get(&format!("{name}.w{j}"))).collect();
    layer
        .set_weights(&ws)
        .unwrap_or_else(|e| panic!("{name}: set_weights: {e}"));
    layer
}

#[test]
fn outputs_match_keras() {
    let f = Fixture::load("data_format.npz");
    for (name, case) in cases() {
        let layer = layer_of(&name, &case, &f);
        let x = f.get(&format!("{name}.x"));
        let y = layer.apply(&x).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_close(&name, &y, &f.get(&format!("{name}.y")), 1e-5);
    }
}

#[test]
fn batch_normalization_training_matches_keras_on_any_axis() {
    let f = Fixture::load("data_format.npz");
    let mut seen = 0;
    for (name, case) in cases() {
        if case["training"] != json!(true) {
            continue;
        }
        seen += 1;
        let layer = layer_of(&name, &case, &f);
        let x = f.get(&format!("{name}.x"));
        let y = {
            let _t = context::set_training(true);
            layer.apply(&x).unwrap()
        };
        assert_close(
            &format!("{name} training"),
            &y,
            &f.get(&format!("{name}.y_train")),
            1e-5,
        );
        for (j, w) in layer.get_weights().unwrap().iter().enumerate() {
            let want = f.get(&format!("{name}.after{j}"));
            assert_close(&format!("{name} weight {j} after"), w, &want, 1e-5);
        }
    }
    assert_eq!(seen, 4);
}

#[test]
fn output_shapes_match_keras() {
    for (name, case) in cases() {
        let cfg = case["config"].as_object().unwrap();
        let layer = deserialize::<LayerRef>(case["class_name"].as_str().unwrap(), cfg).unwrap();
        let input = shape(&case["input_shape"]);
        let want = shape(&case["output_shape"]);
        let before = layer
            .with_dyn(|l| l.compute_output_shape(std::slice::from_ref(&input)))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(before[0], want, "{name}: compute_output_shape");
        // Called on a symbolic input, as a functional model would.
        let x = Input::new(input.0[1..].iter().map(|d| d.unwrap()).collect::<Vec<_>>());
        let y = layer.call(&x).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(y.shape(), &want, "{name}: symbolic call");
    }
}

#[test]
fn configs_round_trip_with_keras_values() {
    let mut problems = vec![];
    for (name, case) in cases() {
        let class = case["class_name"].as_str().unwrap();
        let input = [shape(&case["input_shape"])];
        // Keras's configs were taken from built layers (LayerNormalization's axis is a list then).
        let layer = deserialize::<LayerRef>(class, case["config"].as_object().unwrap()).unwrap();
        layer.build(&input).unwrap();
        let ours = Value::Object(layer.with_dyn(|l| l.get_config()).unwrap());
        same_subset(&name, &ours, &case["config"], &mut problems);
        if case["config"].get("data_format").is_some() {
            assert_eq!(ours["data_format"], json!("channels_first"), "{name}");
        }
        let again = deserialize::<LayerRef>(class, ours.as_object().unwrap()).unwrap();
        again.build(&input).unwrap();
        let back = Value::Object(again.with_dyn(|l| l.get_config()).unwrap());
        assert_eq!(back, ours, "{name}: our config read back");
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn channels_first_keras_model_loads_and_predicts() {
    let m = keras::saving::load_model(fixture_dir().join("data_format_model.keras")).unwrap();
    let f = Fixture::load("data_format_model.npz");
    let y = m.apply(&[f.get("x")]).unwrap().remove(0);
    assert_close("channels_first model", &y, &f.get("y"), 1e-5);
    // Saved here and read back: data_format and the BatchNormalization axis survive.
    let dir = std::env::temp_dir().join(format!("keras_rs_data_format_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("cf.keras");
    m.save(&file).unwrap();
    let back = keras::saving::load_model(&file).unwrap();
    let y2 = back.apply(&[f.get("x")]).unwrap().remove(0);
    assert_close("channels_first model saved here", &y2, &f.get("y"), 1e-5);
    check_in_keras(&file);
    std::fs::remove_dir_all(&dir).ok();
}

/// Our saved channels_first model in Python Keras (when one is found): it loads and predicts
/// Keras's own numbers.
fn check_in_keras(file: &std::path::Path) {
    let required = std::env::var("KERAS_RS_REQUIRE_PYTHON").is_ok_and(|v| v == "1");
    let Some(py) = common::keras_python() else {
        assert!(
            !required,
            "KERAS_RS_REQUIRE_PYTHON=1 but no Python with keras was found"
        );
        eprintln!("skipping the Python Keras half: no python with keras (set KERAS_PYTHON)");
        return;
    };
    let script = "import sys, numpy as np, keras\n\
        m = keras.saving.load_model(sys.argv[1])\n\
        f = np.load(sys.argv[2])\n\
        d = float(np.abs(np.asarray(m(f['x'])) - f['y']).max())\n\
        assert d < 1e-5, d\n\
        assert m.layers[1].data_format == 'channels_first' and m.layers[2].axis == 1\n";
    let out = std::process::Command::new(&py)
        .args(["-c", script])
        .arg(file)
        .arg(fixture_dir().join("data_format_model.npz"))
        .env("KERAS_BACKEND", "jax")
        .env("JAX_PLATFORMS", "cpu")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "Keras could not use our channels_first model: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn builders_take_data_format_and_refuse_others() {
    let y = Conv2D::new(8, 3)
        .data_format("channels_first")
        .call(Input::new([3, 32, 32]))
        .unwrap();
    let y = BatchNormalization::new().axis(1).call(&y).unwrap();
    let y = MaxPooling2D::new(2)
        .data_format("channels_first")
        .call(&y)
        .unwrap();
    assert_eq!(y.shape().to_string(), "(None, 8, 15, 15)");
    let y = Flatten::new()
        .data_format("channels_first")
        .call(&y)
        .unwrap();
    assert_eq!(y.shape().to_string(), "(None, 1800)");

    let e = Conv2D::new(8, 3)
        .data_format("NCHW")
        .call(Input::new([3, 32, 32]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. \
             Received: data_format=nchw"
        ),
        "{e}"
    );
    let c = config(json!({"pool_size": [2, 2], "data_format": "channels_middle"}));
    let e = deserialize::<LayerRef>("MaxPooling2D", &c)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("Received: data_format=channels_middle"), "{e}");
    // Keras's Cropping1D has no data_format.
    let c = config(json!({"cropping": [1, 1], "data_format": "channels_first"}));
    assert!(deserialize::<LayerRef>("Cropping1D", &c).is_err());
    // A channels_first layer checks the channels on axis 1 once built.
    let conv = Conv2D::new(2, 1).data_format("channels_first").into_layer();
    conv.build(&[Shape(vec![None, Some(3), Some(4), Some(4)])])
        .unwrap();
    let e = conv
        .apply(&keras::random::normal(&[1, 4, 4, 3]).unwrap())
        .unwrap_err()
        .to_string();
    assert!(e.contains("axis 1"), "{e}");
}

#[test]
fn batch_normalization_axis_out_of_bounds_is_keras_error() {
    let e = BatchNormalization::new()
        .axis(3)
        .call(Input::new([4, 5]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("Axis 3 is out of bounds for input shape (None, 4, 5). Received: axis=3"),
        "{e}"
    );
}

#[test]
fn embedding_accepts_input_length_as_keras_3() {
    let e = Embedding::new(50, 4)
        .input_length(7)
        .call(Input::new([7]))
        .unwrap();
    assert_eq!(e.shape().to_string(), "(None, 7, 4)");
    // A Keras 2 config with input_length loads; ours does not write it (nor does Keras 3).
    let c = config(json!({"input_dim": 50, "output_dim": 4, "input_length": 7}));
    let l = deserialize::<LayerRef>("Embedding", &c).unwrap();
    let ours = l.with_dyn(|l| l.get_config()).unwrap();
    assert!(!ours.contains_key("input_length"));
}
