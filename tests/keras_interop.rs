//! The reverse direction of tests/saving.rs: files written here open in Python Keras 3 with the
//! same predictions, and the optimizer state we save continues training there exactly as it
//! does here. The Rust side writes models (Keras's fixtures trained further here, and models
//! built here from other layers) with inputs and our numbers; `tests/fixtures/check_rust_files.py`
//! loads them in Keras and compares.
//!
//! Python is found through `KERAS_PYTHON` (a venv with `keras` and `jax[cpu]`, as `.ci/run`
//! makes) or `python3`; with neither able to import keras the Python half is skipped, unless
//! `KERAS_RS_REQUIRE_PYTHON=1` (CI) makes that a failure.

mod common;

use common::Fixture;
use keras::layers::*;
use keras::prelude::*;
use keras::trainers::CompileArgs;
use std::path::{Path, PathBuf};

fn fixture_path(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/saving")
        .join(file)
}

fn keyed(f: &Fixture, key: &str) -> Vec<Tensor> {
    (0..)
        .map(|i| format!("{key}{i}"))
        .take_while(|k| f.has(k))
        .map(|k| f.get(&k))
        .collect()
}

/// Random test data: normal floats, or class ids below `classes` (as f32 / i64).
fn normal(shape: &[usize], seed: u64) -> Tensor {
    keras::utils::set_random_seed(seed);
    Tensor::randn(0f32, 1.0, shape, &Device::Cpu).unwrap()
}

fn classes(n: usize, k: usize, seed: u64) -> Tensor {
    let v: Vec<i64> = (0..n as u64)
        .map(|i| ((i * 7 + seed * 13) % k as u64) as i64)
        .collect();
    Tensor::from_vec(v, n, &Device::Cpu).unwrap()
}

/// A CNN + GRU + SimpleRNN `Sequential`, built here.
fn rust_sequence() -> (Model, Vec<Tensor>, Vec<Tensor>) {
    let mut m = Sequential::from_layers([
        Input::new([12, 3]).into(),
        Conv1D::new(8, 3).padding("same").activation("relu").into(),
        MaxPooling1D::new(2).into(),
        GRU::new(6).return_sequences(true).into(),
        SimpleRNN::new(5).into(),
        Dense::new(3).activation("softmax").into(),
    ])
    .unwrap()
    .into_model()
    .name("rust_sequence");
    m.compile(
        Adam::new().learning_rate(0.01),
        "sparse_categorical_crossentropy",
        ["accuracy"],
    )
    .unwrap();
    (m, vec![normal(&[48, 12, 3], 1)], vec![classes(48, 3, 1)])
}

/// A two-input, two-output functional model with normalization, reshaping and merges.
fn rust_functional() -> (Model, Vec<Tensor>, Vec<Tensor>) {
    let a_in = Input::shape([6, 4]).name("series").build();
    let b_in = Input::shape([5]).name("meta").build();
    let a = LayerNormalization::new().call(&a_in).unwrap();
    let a = Flatten::new().call(&a).unwrap();
    let a = Dense::new(8).activation("tanh").call(&a).unwrap();
    let b = Dense::new(8).call(&b_in).unwrap();
    let x = add(&[a.clone(), b.clone()]).unwrap();
    let x = Activation::new("relu").call(&x).unwrap();
    let x = concatenate(&[x, a]).unwrap();
    let x = Reshape::new([4, 4]).call(&x).unwrap();
    let x = GlobalAveragePooling1D::new().call(&x).unwrap();
    let score = Dense::new(1).name("score").call(&x).unwrap();
    let cls = Dense::new(3)
        .activation("softmax")
        .name("cls")
        .call(&x)
        .unwrap();
    let mut m = Model::new(&[a_in, b_in], &[score, cls])
        .unwrap()
        .name("rust_functional");
    m.compile_with(
        CompileArgs::new(
            SGD::new().learning_rate(0.05).momentum(0.9).nesterov(true),
            ["mse", "sparse_categorical_crossentropy"],
        )
        .loss_weights(vec![0.5, 1.0]),
    )
    .unwrap();
    let x = vec![normal(&[40, 6, 4], 2), normal(&[40, 5], 3)];
    let y = vec![normal(&[40, 1], 4), classes(40, 3, 2)];
    (m, x, y)
}

/// Conv2D, BatchNormalization and pooling, built here.
fn rust_cnn() -> (Model, Vec<Tensor>, Vec<Tensor>) {
    let inp = Input::shape([8, 8, 2]).name("pixels").build();
    let x = Conv2D::new(4, 3)
        .padding("same")
        .activation("relu")
        .call(&inp)
        .unwrap();
    let x = BatchNormalization::new().call(&x).unwrap();
    let x = AveragePooling2D::new(2).call(&x).unwrap();
    let x = Conv2D::new(6, 2).dilation_rate(1).call(&x).unwrap();
    let x = GlobalMaxPooling2D::new().call(&x).unwrap();
    let out = Dense::new(2).activation("softmax").call(&x).unwrap();
    let mut m = Model::new(&[inp], &[out]).unwrap().name("rust_cnn");
    m.compile(
        RMSprop::new().learning_rate(0.01).centered(true),
        "sparse_categorical_crossentropy",
        ["accuracy"],
    )
    .unwrap();
    (m, vec![normal(&[32, 8, 8, 2], 5)], vec![classes(32, 2, 5)])
}

/// Wrappers, attention, transposed / separable convolutions, reshaping and activation layers,
/// and regularizers in the config: the layers beyond the seed models.
fn rust_zoo() -> (Model, Vec<Tensor>, Vec<Tensor>) {
    let seq_in = Input::shape([6, 4]).name("tokens").build();
    let s = Bidirectional::new(LSTM::new(3).return_sequences(true))
        .merge_mode("sum")
        .call(&seq_in)
        .unwrap();
    let s = TimeDistributed::new(Dense::new(4).activation("tanh"))
        .call(&s)
        .unwrap();
    let s = MultiHeadAttention::new(2, 2)
        .call_many(&[s.clone(), s.clone()])
        .unwrap()
        .remove(0);
    let s = LayerNormalization::new().call(&s).unwrap();
    let s = Bidirectional::new(GRU::new(2)).call(&s).unwrap();
    let img_in = Input::shape([4, 4, 2]).name("image").build();
    let i = SeparableConv2D::new(4, 3)
        .padding("same")
        .call(&img_in)
        .unwrap();
    let i = LeakyReLU::new().negative_slope(0.1).call(&i).unwrap();
    let i = Conv2DTranspose::new(3, 2).strides(2).call(&i).unwrap();
    let i = GroupNormalization::new().groups(3).call(&i).unwrap();
    let i = ZeroPadding2D::new(1).call(&i).unwrap();
    let i = DepthwiseConv2D::new(3).call(&i).unwrap();
    let i = PReLU::new().call(&i).unwrap();
    let i = UpSampling2D::new(2).call(&i).unwrap();
    let i = Cropping2D::new(2).call(&i).unwrap();
    let i = GlobalMaxPooling2D::new().call(&i).unwrap();
    let x = concatenate(&[s, i]).unwrap();
    let x = Dense::new(6)
        .activation("elu")
        .kernel_regularizer(keras::regularizers::L2::new(0.01))
        .call(&x)
        .unwrap();
    let x = RepeatVector::new(2).call(&x).unwrap();
    let x = Permute::new(&[2, 1]).call(&x).unwrap();
    let x = Flatten::new().call(&x).unwrap();
    let out = Dense::new(3).activation("softmax").call(&x).unwrap();
    let mut m = Model::new(&[seq_in, img_in], &[out])
        .unwrap()
        .name("rust_zoo");
    m.compile(
        Adam::new().learning_rate(0.01).amsgrad(true),
        "sparse_categorical_crossentropy",
        ["accuracy"],
    )
    .unwrap();
    let x = vec![normal(&[32, 6, 4], 6), normal(&[32, 4, 4, 2], 7)];
    (m, x, vec![classes(32, 3, 6)])
}

/// Writes `<name>.keras`, `<name>.weights.h5`, `<name>.json` and `<name>.npz` (inputs,
/// targets, our predictions, and after one more training step our loss and predictions).
fn export(dir: &Path, name: &str, m: &mut Model, x: &[Tensor], y: &[Tensor], deterministic: bool) {
    m.fit(
        x.to_vec(),
        y.to_vec(),
        FitArgs {
            epochs: 2,
            batch_size: 16,
            verbose: 0,
            shuffle: false,
            ..Default::default()
        },
    )
    .unwrap();
    m.save(dir.join(format!("{name}.keras"))).unwrap();
    m.save_weights(dir.join(format!("{name}.weights.h5")))
        .unwrap();
    std::fs::write(
        dir.join(format!("{name}.json")),
        keras::saving::to_json(m).unwrap(),
    )
    .unwrap();
    let pred: Vec<Tensor> = m.predict_on_batch(x.to_vec()).unwrap();
    let mut arrays: Vec<(String, Tensor)> = vec![];
    for (key, ts) in [("x", x), ("y", y), ("pred", &pred)] {
        for (i, t) in ts.iter().enumerate() {
            arrays.push((format!("{key}{i}"), t.clone()));
        }
    }
    let iterations = m.optimizer().unwrap().iterations();
    arrays.push((
        "iterations".into(),
        Tensor::new(iterations as i64, &Device::Cpu).unwrap(),
    ));
    if deterministic {
        let xb: Vec<Tensor> = x.iter().map(|t| t.narrow(0, 0, 16).unwrap()).collect();
        let yb: Vec<Tensor> = y.iter().map(|t| t.narrow(0, 0, 16).unwrap()).collect();
        let loss = m.train_on_batch(xb, yb).unwrap().get("loss").unwrap();
        arrays.push(("step_loss".into(), Tensor::new(loss, &Device::Cpu).unwrap()));
        for (i, t) in m
            .predict_on_batch::<Vec<Tensor>>(x.to_vec())
            .unwrap()
            .iter()
            .enumerate()
        {
            arrays.push((format!("after{i}"), t.clone()));
        }
    }
    let refs: Vec<(&str, &Tensor)> = arrays.iter().map(|(k, t)| (k.as_str(), t)).collect();
    keras::ops::npy::write_npz(dir.join(format!("{name}.npz")), &refs).unwrap();
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

#[test]
fn files_we_save_load_in_python_keras() {
    let dir = std::env::temp_dir().join(format!("keras_rs_interop_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Keras's fixtures, trained further here (new weights and optimizer state).
    for (name, deterministic) in [
        ("seq_mlp", false),
        ("residual_cnn", true),
        ("two_input_lstm", true),
        ("multi_output", true),
        ("nested_autoencoder", true),
    ] {
        let f = Fixture::load(&format!("saving/{name}.npz"));
        let mut m = keras::saving::load_model(fixture_path(&format!("{name}.keras"))).unwrap();
        export(
            &dir,
            name,
            &mut m,
            &keyed(&f, "x"),
            &keyed(&f, "y"),
            deterministic,
        );
    }
    for (name, make) in [
        ("rust_sequence", rust_sequence as fn() -> _),
        ("rust_functional", rust_functional),
        ("rust_cnn", rust_cnn),
        ("rust_zoo", rust_zoo),
    ] {
        let (mut m, x, y) = make();
        export(&dir, name, &mut m, &x, &y, true);
        // Our own loader agrees with what we saved.
        let back = keras::saving::load_model(dir.join(format!("{name}.keras"))).unwrap();
        assert_eq!(back.summary_string(), m.summary_string());
    }
    let required = std::env::var("KERAS_RS_REQUIRE_PYTHON").is_ok_and(|v| v == "1");
    let Some(py) = python() else {
        assert!(
            !required,
            "KERAS_RS_REQUIRE_PYTHON=1 but no Python with keras was found"
        );
        eprintln!("skipping the Python Keras half: no python with keras (set KERAS_PYTHON)");
        return;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/check_rust_files.py");
    let out = std::process::Command::new(&py)
        .arg(&script)
        .arg(&dir)
        .env("KERAS_BACKEND", "jax")
        .env("JAX_PLATFORMS", "cpu")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{text}");
    assert!(
        out.status.success(),
        "Python Keras rejected our files:\n{text}"
    );
    assert!(text.contains("checked 9 models"), "{text}");
    std::fs::remove_dir_all(&dir).ok();
}
