//! A custom layer in about ten lines (Keras's `Linear`: `#[keras::layer]`, `add_weight` with an
//! initializer by name, the output shape found by running `forward`) that trains, saves and
//! loads by its `get_config` and one registration line; and a subclassed model that lists no
//! layers, whose weights, summary (against Keras's text) and training come from the layers its
//! `call` applied.
//!
//! Layer names come from global counters: every test holds `SERIAL`.

mod common;

use common::summary_fixture;
use keras::engine::config::apply_base_config;
use keras::models::Subclass;
use keras::prelude::*;
use keras::saving::object_registration::register;
use keras::serialization::{config, json, Config};
use keras::utils::clear_session;
use std::sync::Mutex;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

// ---- Keras's `Linear`, the Rust twin ------------------------------------------------------

#[derive(Default)]
struct Linear {
    args: LayerArgs,
    units: usize,
    w: Option<Weight>,
}

#[keras::layer]
impl Layer for Linear {
    fn build(&mut self, s: &[Shape], w: &mut WeightBuilder) -> keras::Result<()> {
        self.w = Some(w.add_weight("w", (s[0].dim(-1), self.units), "random_normal")?);
        Ok(())
    }
    fn forward(&self, x: &[Tensor], _: &CallCtx) -> keras::Result<Vec<Tensor>> {
        Ok(vec![x[0].broadcast_matmul(&self.w.value()?)?])
    }
    fn get_config(&self) -> keras::Result<Config> {
        Ok(config(json!({ "units": self.units })))
    }
}

fn linear(units: usize) -> Linear {
    Linear {
        units,
        ..Default::default()
    }
}

fn register_linear() {
    register::<LayerRef>("Linear", |c| {
        apply_base_config(linear(c.usize_or("units", 32)?), c)
    });
}

// ---- the seeds' MyModel, without `layers()` -----------------------------------------------

struct MyModel {
    dense1: LayerRef,
    dense2: LayerRef,
    output_layer: LayerRef,
}

impl MyModel {
    fn new(hidden_units: usize) -> Self {
        MyModel {
            dense1: Dense::new(hidden_units).activation("relu").into_layer(),
            dense2: Dense::new(hidden_units).activation("relu").into_layer(),
            output_layer: Dense::new(10).activation("softmax").into_layer(),
        }
    }
}

impl Subclass for MyModel {
    fn call(&self, x: &[Tensor], _training: bool) -> keras::Result<Vec<Tensor>> {
        let x = self.dense1.apply(&x[0])?;
        let x = self.dense2.apply(&x)?;
        Ok(vec![self.output_layer.apply(&x)?])
    }
}

/// Lists one layer by hand: the list wins over what `call` applied.
struct Listed(MyModel);

impl Subclass for Listed {
    fn call(&self, x: &[Tensor], training: bool) -> keras::Result<Vec<Tensor>> {
        self.0.call(x, training)
    }
    fn layers(&self) -> Vec<LayerRef> {
        vec![self.0.output_layer.clone()]
    }
}

fn regression_data(n: usize, d: usize) -> (Tensor, Tensor) {
    let x = Tensor::randn(0f32, 1.0, (n, d), &Device::Cpu).unwrap();
    let v = Tensor::new(&[[0.5f32], [-1.0], [2.0]], &Device::Cpu).unwrap();
    let y = x.matmul(&v).unwrap();
    (x, y)
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
}

#[test]
fn linear_output_shape_is_inferred_as_keras_does() {
    let _s = serial();
    clear_session();
    let inp = Input::new((None, 3));
    let x = linear(4).call(&inp).unwrap();
    assert_eq!(x.shape().to_string(), "(None, None, 4)");
    let out = linear(2).call(&x).unwrap();
    let model = Model::new(&[inp], &[out]).unwrap();
    let want = summary_fixture("custom_linear");
    let got = model.summary_with_width(76);
    assert_eq!(got, want, "\n{got}\nexpected:\n{want}");
    // The class name is the type's, the weight is random_normal (Keras's stddev 0.05).
    let l = &model.layers()[1];
    assert_eq!((l.class_name(), l.name().as_str()), ("Linear", "linear"));
    let w = l.weights()[0].numpy().unwrap().flatten_all().unwrap();
    let max = w.abs().unwrap().max(0).unwrap().to_scalar::<f32>().unwrap();
    assert!(max > 0.0 && max < 0.5, "{max}");
}

#[test]
fn add_weight_refuses_unknown_dims_and_unknown_initializers() {
    let _s = serial();
    #[derive(Default)]
    struct Bad {
        args: LayerArgs,
        init: &'static str,
        dims: Vec<Option<usize>>,
    }
    #[keras::layer]
    impl Layer for Bad {
        fn build(&mut self, _: &[Shape], w: &mut WeightBuilder) -> keras::Result<()> {
            w.add_weight("k", self.dims.clone(), self.init).map(|_| ())
        }
        fn forward(&self, x: &[Tensor], _: &CallCtx) -> keras::Result<Vec<Tensor>> {
            Ok(x.to_vec())
        }
    }
    let x = [Shape::batched([2])];
    let l = Bad {
        init: "zeros",
        dims: vec![None, Some(2)],
        ..Default::default()
    }
    .name("bad");
    let e = l.into_layer().build(&x).unwrap_err().to_string();
    assert!(
        e.contains("fully-defined") && e.contains("shape=(None, 2)") && e.contains("'bad/k'"),
        "{e}"
    );
    let l = Bad {
        init: "glorot_unifrom",
        dims: vec![Some(2)],
        ..Default::default()
    };
    let e = l.into_layer().build(&x).unwrap_err().to_string();
    assert!(e.contains("glorot_unifrom"), "{e}");
    // Keras's default initializer is glorot_uniform for float weights.
    let l = Bad {
        init: "glorot_uniform",
        dims: vec![Some(2), Some(2)],
        ..Default::default()
    };
    let l = l.into_layer();
    l.build(&x).unwrap();
    assert_eq!(l.weights()[0].shape(), vec![2, 2]);
}

#[test]
fn linear_trains_saves_and_loads_with_its_registration() {
    let _s = serial();
    clear_session();
    keras::utils::set_random_seed(3);
    let (x, y) = regression_data(64, 3);
    let inp = Input::new([3]);
    let out = linear(1).call(linear(4).call(&inp).unwrap()).unwrap();
    let mut model = Model::new(&[inp], &[out]).unwrap();
    model
        .compile(Adam::new().learning_rate(0.05), "mse", ())
        .unwrap();
    let h = model
        .fit(
            &x,
            &y,
            FitArgs {
                epochs: 20,
                batch_size: 16,
                verbose: 0,
                ..Default::default()
            },
        )
        .unwrap();
    let loss = &h.history["loss"];
    assert!(loss[loss.len() - 1] < 0.1 * loss[0], "{loss:?}");
    assert_eq!(model.trainable_weights().len(), 2);

    let dir = std::env::temp_dir().join(format!("keras_rs_custom_api_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("linear.keras");
    model.save(&file).unwrap();
    let json = keras::saving::to_json(&model).unwrap();
    assert!(
        json.contains(r#""class_name":"Linear""#) && json.contains(r#""units":4"#),
        "{json}"
    );
    register_linear();
    let loaded = keras::saving::load_model(&file).unwrap();
    assert_eq!(loaded.layers()[1].class_name(), "Linear");
    let a: Tensor = model.predict_on_batch(vec![x.clone()]).unwrap();
    let b: Tensor = loaded.predict_on_batch(vec![x]).unwrap();
    assert_eq!(max_abs_diff(&a, &b), 0.0);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn subclassed_model_finds_its_layers() {
    let _s = serial();
    clear_session();
    let model = Model::subclass(MyModel::new(64));
    model.build((None, 784)).unwrap();
    assert_eq!(model.count_params(), 55_050);
    let names: Vec<String> = model.layers().iter().map(|l| l.name()).collect();
    assert_eq!(names, ["dense", "dense_1", "dense_2"]);
    let paths: Vec<String> = model
        .weights()
        .iter()
        .map(|w| w.path().to_string())
        .collect();
    assert_eq!(
        paths,
        [
            "dense/kernel",
            "dense/bias",
            "dense_1/kernel",
            "dense_1/bias",
            "dense_2/kernel",
            "dense_2/bias"
        ]
    );
    assert_eq!(model.trainable_weights().len(), 6);
    let want = summary_fixture("subclassed_symbolic");
    let got = model.summary_with_width(76);
    assert_eq!(got, want, "\n{got}\nexpected:\n{want}");

    // A known batch size stays known, as Keras's eager call shows it.
    clear_session();
    let model = Model::subclass(MyModel::new(64));
    model.build((1, 784)).unwrap();
    assert_eq!(model.summary_with_width(76), summary_fixture("subclassed"));

    // A hand-written list wins.
    let listed = Model::subclass(Listed(MyModel::new(8)));
    listed.build((None, 4)).unwrap();
    assert_eq!(listed.layers().len(), 1);
    assert_eq!(listed.count_params(), 8 * 10 + 10);
}

#[test]
fn subclassed_model_without_layers_trains_and_round_trips_weights() {
    let _s = serial();
    keras::utils::set_random_seed(5);
    let n = 128;
    let x = Tensor::randn(0f32, 1.0, (n, 6), &Device::Cpu).unwrap();
    // Class = which of the first three features is largest.
    let y = x
        .narrow(1, 0, 3)
        .unwrap()
        .argmax(1)
        .unwrap()
        .to_dtype(DType::F32)
        .unwrap();
    let mut model = Model::subclass(MyModel::new(16));
    model
        .compile(
            Adam::new().learning_rate(0.01),
            "sparse_categorical_crossentropy",
            ["accuracy"],
        )
        .unwrap();
    let h = model
        .fit(
            &x,
            &y,
            FitArgs {
                epochs: 15,
                batch_size: 32,
                verbose: 0,
                ..Default::default()
            },
        )
        .unwrap();
    let loss = &h.history["loss"];
    assert!(loss[loss.len() - 1] < 0.3 * loss[0], "{loss:?}");
    assert_eq!(model.layers().len(), 3);
    assert_eq!(model.trainable_weights().len(), 6);

    let dir = std::env::temp_dir().join(format!("keras_rs_subclass_api_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("my_model.weights.h5");
    model.save_weights(&file).unwrap();
    let mut fresh = Model::subclass(MyModel::new(16));
    fresh.build((None, 6)).unwrap();
    fresh.load_weights(&file).unwrap();
    let a: Tensor = model.predict_on_batch(vec![x.clone()]).unwrap();
    let b: Tensor = fresh.predict_on_batch(vec![x]).unwrap();
    assert_eq!(max_abs_diff(&a, &b), 0.0);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_attribute_keeps_written_methods_and_takes_another_args_field() {
    let _s = serial();
    #[derive(Default)]
    struct Renamed {
        base: LayerArgs,
    }
    #[keras::layer(args = base)]
    impl Layer for Renamed {
        fn class_name(&self) -> &str {
            "Shifted"
        }
        fn compute_output_shape(&self, _: &[Shape]) -> keras::Result<Vec<Shape>> {
            Ok(vec![Shape::new((None, 7))])
        }
        fn forward(&self, x: &[Tensor], _: &CallCtx) -> keras::Result<Vec<Tensor>> {
            Ok(vec![x[0].affine(1.0, 1.0)?])
        }
    }
    let l = Renamed::default().name("r").into_layer();
    assert_eq!((l.class_name(), l.name().as_str()), ("Shifted", "r"));
    // Its own compute_output_shape is used, not the traced one.
    let y = l.call(Input::new([3])).unwrap();
    assert_eq!(y.shape().to_string(), "(None, 7)");
    let x = Tensor::zeros((1, 3), DType::F32, &Device::Cpu).unwrap();
    assert_eq!(
        l.apply(&x).unwrap().to_vec2::<f32>().unwrap(),
        vec![vec![1f32; 3]]
    );
    l.with_dyn(|d| assert_eq!(d.args().name.as_deref(), Some("r")));
}

fn fixture_json(name: &str) -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/custom_layer_api")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn matrix(v: &serde_json::Value) -> Tensor {
    let rows: Vec<Vec<f32>> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect()
        })
        .collect();
    Tensor::new(rows, &Device::Cpu).unwrap()
}

#[test]
fn keras_file_with_the_custom_layer_loads_and_ours_loads_in_keras() {
    let _s = serial();
    // Keras saved it as `my_package>Linear`; our registration under the class name finds it.
    register_linear();
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/custom_layer_api/linear.keras");
    let model = keras::saving::load_model(&file).unwrap();
    let fx = fixture_json("linear.json");
    let (x, want) = (matrix(&fx["x"]), matrix(&fx["y"]));
    let got: Tensor = model.predict_on_batch(vec![x.clone()]).unwrap();
    assert!(max_abs_diff(&got, &want) < 1e-6, "{got} vs Keras {want}");
    let units: Vec<usize> = model.layers()[1..]
        .iter()
        .map(|l| l.with(|l: &Linear| l.units).unwrap())
        .collect();
    assert_eq!(units, [4, 2]);

    // Ours, saved again, in Keras (when a Python with Keras is at hand).
    let Some(py) = common::keras_python() else {
        eprintln!("no Python with Keras: skipping the Keras half");
        return;
    };
    let dir = std::env::temp_dir().join(format!("keras_rs_custom_py_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ours = dir.join("ours.keras");
    model.save(&ours).unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/check_custom_layer_api.py");
    let mut child = std::process::Command::new(py)
        .arg(script)
        .arg(&ours)
        .env("KERAS_BACKEND", "jax")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(fx["x"].to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let keras: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(keras["classes"], json!(["InputLayer", "Linear", "Linear"]));
    assert_eq!(keras["units"], json!([null, 4, 2]));
    assert!(max_abs_diff(&matrix(&keras["y"]), &want) < 1e-6, "{keras}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_custom_layer_is_written_as_keras_writes_a_custom_class() {
    let _s = serial();
    let v = linear(3).name("lin").into_layer().serialize().unwrap();
    assert_eq!(v["class_name"], "Linear");
    assert_eq!(v["registered_name"], "Linear");
    assert_eq!(v["module"], "custom_layer_api");
    assert_eq!(v["config"]["units"], 3);
    // Built-in layers keep Keras's module and no registered name.
    let d = Dense::new(2).into_layer().serialize().unwrap();
    assert_eq!(d["module"], "keras.layers");
    assert!(d["registered_name"].is_null(), "{d}");
}
