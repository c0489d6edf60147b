//! Keras 3 files (tests/fixtures/make_saving.py) load here and predict Keras's numbers; the
//! restored optimizer state continues training as Keras does; our files round-trip.

mod common;

use common::{assert_close, Fixture};
use keras::layers::*;
use keras::prelude::*;
use keras::trainers::CompileArgs;

fn fixture(name: &str) -> Fixture {
    Fixture::load(&format!("saving/{name}.npz"))
}

fn path(file: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/saving")
        .join(file)
}

fn inputs(f: &Fixture) -> Vec<Tensor> {
    (0..)
        .map(|i| format!("x{i}"))
        .take_while(|k| f.has(k))
        .map(|k| f.get(&k))
        .collect()
}

fn targets(f: &Fixture) -> Vec<Tensor> {
    (0..)
        .map(|i| format!("y{i}"))
        .take_while(|k| f.has(k))
        .map(|k| f.get(&k))
        .collect()
}

fn seq_mlp() -> Model {
    let mut m = Sequential::from_layers([
        Input::new([20]).into(),
        Dense::new(16).activation("relu").into(),
        Dropout::new(0.2).into(),
        Dense::new(8).activation("relu").into(),
        BatchNormalization::new().into(),
        Dense::new(4).activation("softmax").into(),
    ])
    .unwrap();
    m.compile(
        Adam::new().learning_rate(0.01),
        "sparse_categorical_crossentropy",
        ["accuracy"],
    )
    .unwrap();
    m.into_model()
}

fn residual_cnn() -> Model {
    let inp = Input::shape([8, 8, 3]).name("img").build();
    let x = Conv2D::new(8, 3)
        .padding("same")
        .activation("relu")
        .call(&inp)
        .unwrap();
    let y = Conv2D::new(8, 3)
        .padding("same")
        .activation("relu")
        .call(&x)
        .unwrap();
    let y = Conv2D::new(8, 3).padding("same").call(&y).unwrap();
    let z = add(&[x, y]).unwrap();
    let z = MaxPooling2D::new(2).call(&z).unwrap();
    let p = Conv2D::new(4, 1).strides(2).call(&z).unwrap();
    let z = GlobalAveragePooling2D::new().call(&p).unwrap();
    let out = Dense::new(3).activation("softmax").call(&z).unwrap();
    let mut m = Model::new(&[inp], &[out]).unwrap();
    m.compile(
        RMSprop::new().learning_rate(0.001),
        "sparse_categorical_crossentropy",
        ["accuracy"],
    )
    .unwrap();
    m
}

fn two_input_lstm() -> Model {
    let text = Input::shape([None]).dtype(DType::I32).name("text").build();
    let question = Input::shape([None])
        .dtype(DType::I32)
        .name("question")
        .build();
    let a = LSTM::new(8)
        .call(Embedding::new(50, 6).call(&text).unwrap())
        .unwrap();
    let b = LSTM::new(4)
        .call(Embedding::new(50, 6).call(&question).unwrap())
        .unwrap();
    let out = Dense::new(5)
        .activation("softmax")
        .call(concatenate(&[a, b]).unwrap())
        .unwrap();
    let mut m = Model::new(&[text, question], &[out]).unwrap();
    m.compile(
        Adam::new().learning_rate(0.005),
        "sparse_categorical_crossentropy",
        ["accuracy"],
    )
    .unwrap();
    m
}

fn multi_output() -> Model {
    let inp = Input::shape([10]).name("posts").build();
    let x = Dense::new(16).activation("relu").call(&inp).unwrap();
    let age = Dense::new(1).name("age").call(&x).unwrap();
    let income = Dense::new(3)
        .activation("softmax")
        .name("income")
        .call(&x)
        .unwrap();
    let gender = Dense::new(1)
        .activation("sigmoid")
        .name("gender")
        .call(&x)
        .unwrap();
    let mut m = Model::new(&[inp], &[age, income, gender]).unwrap();
    m.compile_with(
        CompileArgs::new(
            SGD::new().learning_rate(0.01).momentum(0.9),
            [
                "mse",
                "sparse_categorical_crossentropy",
                "binary_crossentropy",
            ],
        )
        .loss_weights(vec![0.25, 1.0, 10.0]),
    )
    .unwrap();
    m
}

fn nested_autoencoder() -> Model {
    let enc_in = Input::shape([12]).name("original_img").build();
    let h = Dense::new(8).activation("relu").call(&enc_in).unwrap();
    let encoder = Model::new(
        &[enc_in],
        &[Dense::new(4).activation("relu").call(&h).unwrap()],
    )
    .unwrap()
    .name("encoder");
    let dec_in = Input::shape([4]).name("encoded_img").build();
    let h = Dense::new(8).activation("relu").call(&dec_in).unwrap();
    let decoder = Model::new(
        &[dec_in],
        &[Dense::new(12).activation("sigmoid").call(&h).unwrap()],
    )
    .unwrap()
    .name("decoder");
    let img = Input::shape([12]).name("img").build();
    let out = decoder.call(encoder.call(&img).unwrap()).unwrap();
    let mut m = Model::new(&[img], &[out]).unwrap();
    m.compile("adam", "mse", ()).unwrap();
    m
}

type Build = fn() -> Model;

const MODELS: [(&str, Build, bool); 5] = [
    // (name, builder, deterministic training step: no dropout)
    ("seq_mlp", seq_mlp, false),
    ("residual_cnn", residual_cnn, true),
    ("two_input_lstm", two_input_lstm, true),
    ("multi_output", multi_output, true),
    ("nested_autoencoder", nested_autoencoder, true),
];

fn check_predictions(what: &str, m: &Model, f: &Fixture, key: &str, tol: f64) {
    let preds: Vec<Tensor> = m.predict_on_batch(inputs(f)).unwrap();
    for (i, p) in preds.iter().enumerate() {
        assert_close(
            &format!("{what} {key}{i}"),
            p,
            &f.get(&format!("{key}{i}")),
            tol,
        );
    }
}

#[test]
fn keras_weights_files_load_and_training_continues() {
    for (name, build, deterministic) in MODELS {
        let f = fixture(name);
        let mut m = build();
        m.load_weights(path(&format!("{name}.weights.h5")))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        check_predictions(name, &m, &f, "pred", 1e-5);
        let steps = if name == "seq_mlp" { 8 } else { 4 };
        assert_eq!(
            m.optimizer().unwrap().iterations(),
            steps,
            "{name}: restored iterations"
        );
        let xb: Vec<Tensor> = inputs(&f)
            .iter()
            .map(|x| x.narrow(0, 0, 16).unwrap())
            .collect();
        let yb: Vec<Tensor> = targets(&f)
            .iter()
            .map(|y| y.narrow(0, 0, 16).unwrap())
            .collect();
        let logs = m.train_on_batch(xb, yb).unwrap();
        if deterministic {
            let want = keras::ops::scalar(&f.get("step_loss")).unwrap();
            let got = logs.get("loss").unwrap();
            assert!(
                (got - want).abs() < 1e-4 * (1.0 + want.abs()),
                "{name}: step loss {got} vs {want}"
            );
            check_predictions(name, &m, &f, "after", 1e-4);
        }
    }
}

#[test]
fn our_weights_files_round_trip_with_optimizer_state() {
    let dir = std::env::temp_dir().join(format!("keras_rs_saving_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, build, deterministic) in MODELS {
        if !deterministic {
            continue;
        }
        let f = fixture(name);
        let mut a = build();
        a.load_weights(path(&format!("{name}.weights.h5"))).unwrap();
        let file = dir.join(format!("{name}.weights.h5"));
        a.save_weights(&file).unwrap();
        let mut b = build();
        b.load_weights(&file).unwrap();
        check_predictions(name, &b, &f, "pred", 1e-6);
        let xb: Vec<Tensor> = inputs(&f)
            .iter()
            .map(|x| x.narrow(0, 0, 16).unwrap())
            .collect();
        let yb: Vec<Tensor> = targets(&f)
            .iter()
            .map(|y| y.narrow(0, 0, 16).unwrap())
            .collect();
        b.train_on_batch(xb, yb).unwrap();
        check_predictions(name, &b, &f, "after", 1e-4);
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn wrong_files_are_errors() {
    let mut m = residual_cnn();
    let e = m
        .load_weights(path("seq_mlp.weights.h5"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("expected") && e.contains("variables"), "{e}");
    let e = m.load_weights(path("seq_mlp.npz")).unwrap_err().to_string();
    assert!(e.contains("not an HDF5 file"), "{e}");
    let e = m.save_weights("/tmp/x.h5").unwrap_err().to_string();
    assert!(e.contains("must end in `.weights.h5`"), "{e}");
}

/// One more `train_on_batch` on the fixture's first 16 samples; checks Keras's loss and
/// predictions after it (for models whose step is deterministic).
fn continue_training(name: &str, m: &mut Model, f: &Fixture, deterministic: bool) {
    let xb: Vec<Tensor> = inputs(f)
        .iter()
        .map(|x| x.narrow(0, 0, 16).unwrap())
        .collect();
    let yb: Vec<Tensor> = targets(f)
        .iter()
        .map(|y| y.narrow(0, 0, 16).unwrap())
        .collect();
    let logs = m.train_on_batch(xb, yb).unwrap();
    if deterministic {
        let want = keras::ops::scalar(&f.get("step_loss")).unwrap();
        let got = logs.get("loss").unwrap();
        assert!(
            (got - want).abs() < 1e-4 * (1.0 + want.abs()),
            "{name}: step loss {got} vs {want}"
        );
        check_predictions(name, m, f, "after", 1e-4);
    }
}

#[test]
fn keras_model_files_load_compiled_and_training_continues() {
    let names = [
        ("seq_mlp", "seq_mlp", 8),
        ("residual_cnn", "residual_cnn", 4),
        ("two_input_lstm", "qa", 4),
        ("multi_output", "heads", 4),
        ("nested_autoencoder", "autoencoder", 4),
    ];
    for ((name, build, deterministic), (_, model_name, steps)) in MODELS.into_iter().zip(names) {
        let f = fixture(name);
        let mut m = keras::saving::load_model(path(&format!("{name}.keras")))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(m.get_name(), model_name);
        assert!(m.compiled(), "{name}: compile_config restored");
        assert_eq!(m.count_params(), build().count_params(), "{name}");
        check_predictions(name, &m, &f, "pred", 1e-5);
        assert_eq!(m.optimizer().unwrap().iterations(), steps, "{name}");
        continue_training(name, &mut m, &f, deterministic);
    }
}

#[test]
fn our_model_files_round_trip() {
    let dir = std::env::temp_dir().join(format!("keras_rs_keras_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, _, deterministic) in MODELS {
        let f = fixture(name);
        let mut a = keras::saving::load_model(path(&format!("{name}.keras"))).unwrap();
        // Train first: the compile config (metrics included) must survive a used model.
        let batch = |f: &Fixture, key: &str| -> Vec<Tensor> {
            let all = if key == "x" { inputs(f) } else { targets(f) };
            all.iter().map(|t| t.narrow(0, 16, 8).unwrap()).collect()
        };
        let keys_a: Vec<String> = a
            .train_on_batch(batch(&f, "x"), batch(&f, "y"))
            .unwrap()
            .names();
        let before: Vec<Tensor> = a.predict_on_batch(inputs(&f)).unwrap();
        let file = dir.join(format!("{name}.keras"));
        a.save(&file).unwrap();
        let listed: Vec<String> = keras::saving::list_archive(&file)
            .unwrap()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(listed, ["metadata.json", "config.json", "model.weights.h5"]);
        let mut b = keras::saving::load_model(&file).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(b.get_name(), a.get_name());
        assert_eq!(b.summary_string(), a.summary_string(), "{name}");
        for (p, q) in b
            .predict_on_batch::<Vec<Tensor>>(inputs(&f))
            .unwrap()
            .iter()
            .zip(&before)
        {
            assert_close(name, p, q, 1e-6);
        }
        let keys_b: Vec<String> = b
            .train_on_batch(batch(&f, "x"), batch(&f, "y"))
            .unwrap()
            .names();
        assert_eq!(keys_b, keys_a, "{name}: metrics after loading");
        let _ = deterministic;
        // The config round-trips through JSON too.
        let json = keras::saving::to_json(&a).unwrap();
        let c = keras::saving::model_from_json(&json).unwrap();
        assert_eq!(keras::saving::to_json(&c).unwrap(), json, "{name}");
        // Uncompiled loading ignores the optimizer.
        let u = keras::saving::load_model_uncompiled(&file).unwrap();
        assert!(!u.compiled());
        for (p, q) in u
            .predict_on_batch::<Vec<Tensor>>(inputs(&f))
            .unwrap()
            .iter()
            .zip(&before)
        {
            assert_close(name, p, q, 1e-6);
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn keras2_legacy_h5_weights_load() {
    // tests/fixtures/make_legacy_h5.py: whole-model files (model_weights/...) and
    // weights-only files (layer groups at the root), both in Keras 2's layout.
    for (name, build, _) in MODELS {
        if name == "multi_output" {
            continue;
        }
        let f = fixture(name);
        let mut files = vec![
            format!("{name}.legacy.h5"),
            format!("{name}.legacy_weights.h5"),
        ];
        if name == "two_input_lstm" {
            // Keras 2's own spelling: byte-string lists, `kernel:0` names.
            files.push(format!("{name}.keras2_weights.h5"));
        }
        for file in files {
            let mut m = build();
            m.load_weights(path(&file))
                .unwrap_or_else(|e| panic!("{file}: {e}"));
            check_predictions(&file, &m, &f, "pred", 1e-5);
        }
    }
    // A file of another model is refused before any weight changes.
    let mut m = seq_mlp();
    let before = m.get_weights().unwrap();
    let e = m
        .load_weights(path("residual_cnn.legacy.h5"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("Layer count mismatch"), "{e}");
    let e = m
        .load_weights(path("nested_autoencoder.legacy.h5"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("mismatch"), "{e}");
    for (a, b) in m.get_weights().unwrap().iter().zip(&before) {
        assert_close("unchanged", a, b, 0.0);
    }
}

#[test]
fn keras_model_of_the_wider_layer_set_loads_and_trains_on() {
    // tests/fixtures/make_saving_zoo.py: Bidirectional, TimeDistributed, MultiHeadAttention,
    // separable / depthwise / transposed convolutions, GroupNormalization, PReLU, padding,
    // cropping, up-sampling, RepeatVector, Permute, an L2 regularizer, AMSGrad state.
    let f = fixture("zoo");
    let mut m = keras::saving::load_model(path("zoo.keras")).unwrap();
    assert_eq!(m.get_name(), "zoo");
    check_predictions("zoo", &m, &f, "pred", 1e-5);
    continue_training("zoo", &mut m, &f, true);
}

#[test]
fn safetensors_weights_round_trip_with_readable_keys() {
    let dir = std::env::temp_dir().join(format!("keras_rs_st_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, build, _) in MODELS {
        let f = fixture(name);
        let a = keras::saving::load_model(path(&format!("{name}.keras"))).unwrap();
        let file = dir.join(format!("{name}.safetensors"));
        keras::saving::save_safetensors(&a, &file).unwrap();
        let mut b = build();
        b.load_weights(&file)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        check_predictions(name, &b, &f, "pred", 1e-6);
        // Every weight is there under a readable key, once.
        let tensors = candle_core::safetensors::load(&file, &candle_core::Device::Cpu).unwrap();
        assert_eq!(tensors.len(), a.weights().len(), "{name}");
    }
    let keys = |f: &str| -> Vec<String> {
        let t = candle_core::safetensors::load(dir.join(f), &candle_core::Device::Cpu).unwrap();
        t.into_keys().collect()
    };
    let keys_nested = keys("nested_autoencoder.safetensors");
    assert!(
        keys_nested.contains(&"functional/dense/kernel".to_string()),
        "{keys_nested:?}"
    );
    let keys_lstm = keys("two_input_lstm.safetensors");
    assert!(
        keys_lstm.iter().any(|k| k == "lstm/cell/recurrent_kernel"),
        "{keys_lstm:?}"
    );
    // Another model's file: refused, naming the tensor, before anything changes.
    let mut m = seq_mlp();
    let before = m.get_weights().unwrap();
    let e = m
        .load_weights(dir.join("residual_cnn.safetensors"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(
            "tensor \"dense/kernel\" has shape [4, 3]; the model's weight has shape [20, 16]"
        ),
        "{e}"
    );
    for (a, b) in m.get_weights().unwrap().iter().zip(&before) {
        assert_close("unchanged", a, b, 0.0);
    }
    std::fs::remove_dir_all(&dir).ok();
}
