//! The training loop's behaviour: loss goes down, seeds repeat, validation, evaluation and
//! prediction, and clear errors for bad input.

use keras::prelude::*;
use keras::utils::set_random_seed;

/// A learnable problem: the class is the arg-max of the first three features.
fn toy(n: usize, seed: u64) -> (Tensor, Tensor) {
    let mut rng = keras::ops::random::Rng::new(seed);
    let x: Vec<f32> = (0..n * 8).map(|_| rng.normal() as f32).collect();
    let y: Vec<u32> = x
        .chunks(8)
        .map(|r| (0..3).max_by(|&a, &b| r[a].total_cmp(&r[b])).unwrap() as u32)
        .collect();
    (
        keras::ops::from_vec(x, &[n, 8]).unwrap(),
        keras::ops::from_vec(y, &[n]).unwrap(),
    )
}

fn classifier() -> Sequential {
    Sequential::from_layers([
        Input::new([8]).into(),
        Dense::new(16).activation("relu").into(),
        Dropout::new(0.1).into(),
        Dense::new(3).activation("softmax").into(),
    ])
    .unwrap()
}

fn quiet(epochs: usize) -> FitArgs<'static> {
    FitArgs {
        epochs,
        verbose: 0,
        ..Default::default()
    }
}

#[test]
fn training_lowers_the_loss_and_learns() {
    set_random_seed(3);
    let (x, y) = toy(512, 1);
    let mut m = classifier();
    m.compile(
        Adam::new().learning_rate(0.01),
        "sparse_categorical_crossentropy",
        ["accuracy"],
    )
    .unwrap();
    let h = m.fit(&x, &y, quiet(8)).unwrap();
    let loss = &h.history["loss"];
    assert!(loss[7] < loss[0] * 0.5, "{loss:?}");
    assert!(
        h.history["accuracy"][7] > 0.85,
        "{:?}",
        h.history["accuracy"]
    );
    assert_eq!(h.epoch, (0..8).collect::<Vec<_>>());
    assert_eq!(h.params.steps, Some(16));
    let keys: Vec<&String> = h.history.keys().collect();
    assert_eq!(keys, vec!["accuracy", "loss"]);
}

#[test]
fn every_optimizer_and_loss_trains() {
    let (x, y) = toy(256, 2);
    let yh = keras::utils::to_categorical(&y, Some(3)).unwrap();
    for opt_name in ["sgd", "adam", "adamw", "rmsprop"] {
        for (loss, target, last) in [
            ("sparse_categorical_crossentropy", &y, "softmax"),
            ("categorical_crossentropy", &yh, "softmax"),
            ("mse", &yh, "sigmoid"),
            ("mae", &yh, "sigmoid"),
            ("huber", &yh, "sigmoid"),
            ("binary_crossentropy", &yh, "sigmoid"),
        ] {
            set_random_seed(5);
            let mut m = Sequential::from_layers([
                Input::new([8]).into(),
                Dense::new(3).activation(last).into(),
            ])
            .unwrap();
            let opt: Box<dyn Optimizer> = match opt_name {
                "sgd" => Box::new(SGD::new().learning_rate(0.1)),
                other => keras::optimizers::get(other).unwrap(),
            };
            m.compile(opt, loss, ["accuracy"]).unwrap();
            let h = m
                .fit(
                    &x,
                    target,
                    FitArgs {
                        epochs: 3,
                        verbose: 0,
                        batch_size: 16,
                        ..Default::default()
                    },
                )
                .unwrap();
            let l = &h.history["loss"];
            assert!(l[2] < l[0], "{opt_name} {loss}: {l:?}");
        }
    }
}

#[test]
fn one_seed_gives_identical_runs() {
    let run = || {
        set_random_seed(11);
        let (x, y) = toy(200, 4);
        let mut m = classifier();
        m.compile("adam", "sparse_categorical_crossentropy", ["acc"])
            .unwrap();
        let h = m
            .fit(
                &x,
                &y,
                FitArgs {
                    epochs: 3,
                    verbose: 0,
                    validation_split: 0.2,
                    ..Default::default()
                },
            )
            .unwrap();
        (
            h.history,
            keras::ops::to_vec_f32(&m.get_weights().unwrap()[0]).unwrap(),
        )
    };
    let (h1, w1) = run();
    let (h2, w2) = run();
    assert_eq!(h1, h2);
    assert_eq!(w1, w2);
    assert!(h1.contains_key("val_acc") && h1.contains_key("acc"));
}

#[test]
fn validation_split_uses_the_last_samples() {
    set_random_seed(2);
    let (x, y) = toy(100, 6);
    let mut m = classifier();
    m.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
        .unwrap();
    let h = m
        .fit(
            &x,
            &y,
            FitArgs {
                epochs: 1,
                verbose: 0,
                validation_split: 0.3,
                ..Default::default()
            },
        )
        .unwrap();
    // The validation numbers are those of evaluate() on the last 30 samples.
    let ev = m
        .evaluate(
            x.narrow(0, 70, 30).unwrap(),
            y.narrow(0, 70, 30).unwrap(),
            EvalArgs {
                verbose: 0,
                ..Default::default()
            },
        )
        .unwrap();
    assert!((h.history["val_loss"][0] - ev.get("loss").unwrap()).abs() < 1e-6);
    assert!((h.history["val_accuracy"][0] - ev.get("accuracy").unwrap()).abs() < 1e-9);
    assert_eq!(
        h.params.steps,
        Some(3),
        "70 training samples in batches of 32"
    );
}

#[test]
fn validation_data_is_evaluated_each_epoch() {
    let (x, y) = toy(64, 7);
    let (vx, vy) = toy(32, 8);
    let mut m = classifier();
    m.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
        .unwrap();
    let h = m
        .fit(
            &x,
            &y,
            FitArgs {
                epochs: 2,
                verbose: 0,
                validation_data: Some((&vx, &vy).into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(h.history["val_loss"].len(), 2);
}

#[test]
fn evaluate_predict_and_single_batch_calls() {
    set_random_seed(9);
    let (x, y) = toy(100, 3);
    let y = keras::utils::to_categorical(&y, Some(3)).unwrap();
    let mut m = classifier();
    m.compile("adam", "categorical_crossentropy", ["accuracy", "mse"])
        .unwrap();
    let ev = m
        .evaluate(
            &x,
            &y,
            EvalArgs {
                batch_size: 7,
                verbose: 0,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(ev.names(), vec!["loss", "accuracy", "mse"]);
    assert_eq!(ev.values().len(), 3);
    assert_eq!(ev.to_map().len(), 3);
    let p: Tensor = m
        .predict(
            &x,
            EvalArgs {
                batch_size: 7,
                verbose: 0,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(p.dims(), &[100, 3]);
    // Batched prediction equals one big batch, and rows sum to one.
    let q: Tensor = m.predict_on_batch(&x).unwrap();
    let d = (p.clone() - q)
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    assert!(d < 1e-6);
    let sums = p.sum(1).unwrap().to_vec1::<f32>().unwrap();
    assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-5));
    let before = m.test_on_batch(&x, &y).unwrap().get("loss").unwrap();
    for _ in 0..20 {
        m.train_on_batch(&x, &y).unwrap();
    }
    let after = m.test_on_batch(&x, &y).unwrap().get("loss").unwrap();
    assert!(after < before, "{before} -> {after}");
}

#[test]
fn regularization_joins_the_loss() {
    let x = Tensor::ones((4, 3), DType::F32, &Device::Cpu).unwrap();
    let y = Tensor::zeros((4, 2), DType::F32, &Device::Cpu).unwrap();
    let build = |l1: f64| {
        let mut m = Sequential::from_layers([
            Input::new([3]).into(),
            Dense::new(2)
                .kernel_initializer("ones")
                .kernel_regularizer(keras::regularizers::L1L2::new(l1, 0.0))
                .into(),
        ])
        .unwrap();
        m.compile("sgd", "mse", ()).unwrap();
        m
    };
    let plain = build(0.0)
        .test_on_batch(&x, &y)
        .unwrap()
        .get("loss")
        .unwrap();
    let reg = build(0.5)
        .test_on_batch(&x, &y)
        .unwrap()
        .get("loss")
        .unwrap();
    assert!((plain - 9.0).abs() < 1e-5, "{plain}");
    assert!((reg - (9.0 + 0.5 * 6.0)).abs() < 1e-5, "{reg}");
}

#[test]
fn wrong_feature_count_names_layer_axis_and_shape() {
    let mut m = Sequential::from_layers([
        Input::new([64]).into(),
        Dense::new(32).name("hidden").into(),
        Dense::new(10).into(),
    ])
    .unwrap();
    m.compile("adam", "mse", ()).unwrap();
    let x = Tensor::zeros((100, 63), DType::F32, &Device::Cpu).unwrap();
    let y = Tensor::zeros((100, 10), DType::F32, &Device::Cpu).unwrap();
    let e = m.fit(&x, &y, quiet(1)).unwrap_err().to_string();
    // Keras 3's call report: the model it was called in, the inner layer's message, the
    // arguments the model received.
    let name = m.get_name();
    assert_eq!(
        e,
        format!(
            "Exception encountered when calling Sequential.call() of model \"{name}\".\n\n\
             Input 0 of layer \"hidden\" is incompatible with the layer: expected axis -1 of input \
             shape to have value 64, but received input with shape (32, 63)\n\n\
             Arguments received by Sequential.call():\n  • inputs=Tensor(shape=(32, 63), dtype=float32)"
        )
    );
    let e = m
        .predict::<Tensor>(&x, EvalArgs::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("expected axis -1 of input shape to have value 64"),
        "{e}"
    );
    let e = m
        .fit(
            Tensor::zeros((4, 2, 64), DType::F32, &Device::Cpu).unwrap(),
            Tensor::zeros((4, 10), DType::F32, &Device::Cpu).unwrap(),
            quiet(1),
        )
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("expected shape=(None, 64), found shape=(4, 2, 64)"),
        "{e}"
    );
}

#[test]
fn bad_data_and_calls_are_clear_errors() {
    let mut m = classifier();
    let (x, y) = toy(100, 1);
    let e = m.fit(&x, &y, quiet(1)).unwrap_err().to_string();
    assert_eq!(e, "You must call `compile()` before using the model.");
    assert!(m.evaluate(&x, &y, EvalArgs::default()).is_err());

    let e = m.compile("adamx", "mse", ()).unwrap_err().to_string();
    assert!(e.contains("adamx") && e.contains("rmsprop"), "{e}");
    let e = m.compile("adam", "msex", ()).unwrap_err().to_string();
    assert!(
        e.contains("msex") && e.contains("categorical_crossentropy"),
        "{e}"
    );
    let e = m.compile("adam", "mse", ["accx"]).unwrap_err().to_string();
    assert!(e.contains("accx") && e.contains("'acc'"), "{e}");
    let e = Dense::new(3)
        .activation("reluu")
        .call(Input::new([2]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("reluu") && e.contains("softmax"), "{e}");

    m.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
        .unwrap();
    let e = m
        .fit(&x, y.narrow(0, 0, 90).unwrap(), quiet(1))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("Data cardinality is ambiguous")
            && e.contains("'x' sizes: 100")
            && e.contains("'y' sizes: 90"),
        "{e}"
    );
    let e = m
        .fit(
            x.narrow(0, 0, 0).unwrap(),
            y.narrow(0, 0, 0).unwrap(),
            quiet(1),
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("empty"), "{e}");
    let bad_labels = Tensor::new(&[5u32; 100], &Device::Cpu).unwrap();
    let e = m.fit(&x, &bad_labels, quiet(1)).unwrap_err().to_string();
    assert!(
        e.contains("label value of 5") && e.contains("[0, 3)"),
        "{e}"
    );
}

#[test]
fn nan_loss_is_reported_at_its_batch() {
    let (x, y) = toy(64, 5);
    // Sample 40 (batch 2 of 8-sample batches, without shuffling) is NaN.
    let mut v = keras::ops::to_vec_f32(&x).unwrap();
    v[40 * 8] = f32::NAN;
    let x = keras::ops::from_vec(v, &[64, 8]).unwrap();
    let mut m = classifier();
    m.compile("adam", "sparse_categorical_crossentropy", ())
        .unwrap();
    let e = m
        .fit(
            &x,
            &y,
            FitArgs {
                batch_size: 8,
                shuffle: false,
                verbose: 0,
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(matches!(e, Error::NonFinite(_)));
    assert!(
        e.to_string()
            .starts_with("Batch 5 of epoch 1: invalid loss NaN"),
        "{e}"
    );
}

#[test]
fn learning_rate_is_readable_and_settable() {
    let mut m = classifier();
    m.compile(
        SGD::new().learning_rate(0.05),
        "sparse_categorical_crossentropy",
        (),
    )
    .unwrap();
    let opt = m.optimizer().unwrap();
    assert_eq!(opt.get_learning_rate(), 0.05);
    opt.set_learning_rate(0.0);
    let (x, y) = toy(32, 1);
    let before = m.get_weights().unwrap();
    m.fit(&x, &y, quiet(1)).unwrap();
    let after = m.get_weights().unwrap();
    assert_eq!(
        keras::ops::to_vec_f32(&before[0]).unwrap(),
        keras::ops::to_vec_f32(&after[0]).unwrap()
    );
    assert_eq!(m.optimizer().unwrap().iterations(), 1);
}

#[test]
fn mnist_ships_with_the_repository() {
    let ((xt, yt), (xe, ye)) = keras::datasets::mnist::load_data().unwrap();
    assert_eq!(
        (xt.dims(), yt.dims(), xe.dims(), ye.dims()),
        (
            &[60000, 28, 28][..],
            &[60000][..],
            &[10000, 28, 28][..],
            &[10000][..]
        )
    );
    assert_eq!(xt.dtype(), DType::U8);
    let labels = keras::ops::to_vec_f32(&yt.narrow(0, 0, 10).unwrap()).unwrap();
    assert_eq!(
        labels,
        vec![5.0, 0.0, 4.0, 1.0, 9.0, 2.0, 1.0, 3.0, 1.0, 4.0],
        "the classic first ten labels"
    );
}
