//! Numbers from Python Keras 3 (tests/fixtures/make_fixtures.py): activations, Dense,
//! losses, the first three steps of every optimizer, and a whole `fit` run.

mod common;

use common::{assert_close, assert_close_vec, Fixture};
use keras::losses::{self, Loss};
use keras::optimizers::{self, Optimizer, OptimizerExt};
use keras::prelude::*;

#[test]
fn activations_match_keras() {
    let f = Fixture::load("activations.npz");
    let x = f.get("x");
    for (name, _) in keras::activations::NAMES {
        let act = keras::activations::get(name).unwrap();
        let y = keras::activations::apply(act, &x).unwrap();
        assert_close(name, &y, &f.get(name), 1e-5);
    }
}

#[test]
fn dense_matches_keras() {
    let f = Fixture::load("dense.npz");
    let acts = ["relu", "softmax", "tanh", "linear", "gelu"];
    for (i, act) in acts.iter().enumerate() {
        let x = f.get(&format!("x{i}"));
        let k = f.get(&format!("kernel{i}"));
        let layer = Dense::new(k.dims()[1]).activation(*act).into_layer();
        layer
            .build(&[Shape(
                x.dims()
                    .iter()
                    .enumerate()
                    .map(|(j, &d)| if j == 0 { None } else { Some(d) })
                    .collect(),
            )])
            .unwrap();
        layer.set_weights(&[k, f.get(&format!("bias{i}"))]).unwrap();
        let y = layer.apply(&x).unwrap();
        assert_close(&format!("dense {act}"), &y, &f.get(&format!("y{i}")), 1e-5);
    }
}

#[test]
fn losses_match_keras() {
    let f = Fixture::load("losses.npz");
    let check = |name: &str, loss: &dyn Loss, y: &str, p: &str| {
        let v = keras::ops::scalar(&loss.call(&f.get(y), &f.get(p)).unwrap()).unwrap();
        let want = keras::ops::scalar(&f.get(name)).unwrap();
        assert!(
            (v - want).abs() < 1e-5 * (1.0 + want.abs()),
            "{name}: {v} vs {want}"
        );
    };
    check("mse", &losses::MeanSquaredError, "yt_reg", "yp_reg");
    check("mae", &losses::MeanAbsoluteError, "yt_reg", "yp_reg");
    check("huber", &losses::Huber::default(), "yt_reg", "yp_reg");
    check(
        "huber_half",
        &losses::Huber { delta: 0.5 },
        "yt_reg",
        "yp_reg",
    );
    check(
        "bce",
        &losses::BinaryCrossentropy::new(),
        "yt_bin",
        "yp_prob",
    );
    check(
        "bce_logits",
        &losses::BinaryCrossentropy::new().from_logits(true),
        "yt_bin",
        "yp_logit",
    );
    check(
        "cce",
        &losses::CategoricalCrossentropy::new(),
        "onehot",
        "probs",
    );
    check(
        "cce_logits",
        &losses::CategoricalCrossentropy::new().from_logits(true),
        "onehot",
        "logits",
    );
    check(
        "scce",
        &losses::SparseCategoricalCrossentropy::new(),
        "labels",
        "probs",
    );
    check(
        "scce_logits",
        &losses::SparseCategoricalCrossentropy::new().from_logits(true),
        "labels",
        "logits",
    );
    // By name as well.
    check(
        "mse",
        losses::get("mean_squared_error").unwrap().as_ref(),
        "yt_reg",
        "yp_reg",
    );
}

fn optimizer(name: &str) -> Box<dyn Optimizer> {
    match name {
        "sgd" => Box::new(SGD::new()),
        "sgd_momentum" => Box::new(SGD::new().learning_rate(0.1).momentum(0.9)),
        "sgd_nesterov" => Box::new(SGD::new().learning_rate(0.1).momentum(0.9).nesterov(true)),
        "adam" => Box::new(Adam::new()),
        "adam_amsgrad" => Box::new(Adam::new().learning_rate(0.01).amsgrad(true)),
        "adamw" => Box::new(AdamW::new().learning_rate(0.01)),
        "rmsprop" => Box::new(RMSprop::new()),
        "rmsprop_centered" => Box::new(
            RMSprop::new()
                .learning_rate(0.01)
                .momentum(0.5)
                .centered(true),
        ),
        "adam_clipnorm" => Box::new(Adam::new().learning_rate(0.01).clipnorm(0.5)),
        "sgd_clipvalue" => Box::new(SGD::new().learning_rate(0.1).clipvalue(0.3)),
        "rmsprop_global_clipnorm" => {
            Box::new(RMSprop::new().learning_rate(0.01).global_clipnorm(1.0))
        }
        other => optimizers::get(other).unwrap(),
    }
}

#[test]
fn first_three_optimizer_steps_match_keras() {
    let f = Fixture::load("optimizers.npz");
    let names = [
        "sgd",
        "sgd_momentum",
        "sgd_nesterov",
        "adam",
        "adam_amsgrad",
        "adamw",
        "rmsprop",
        "rmsprop_centered",
        "adam_clipnorm",
        "sgd_clipvalue",
        "rmsprop_global_clipnorm",
    ];
    for name in names {
        let mut opt = optimizer(name);
        let layer = Dense::new(4).use_bias(false).into_layer();
        layer.build(&[Shape::batched([3])]).unwrap();
        let w = layer.weights()[0].clone();
        w.assign(&f.get("w0")).unwrap();
        for step in 0..3 {
            opt.apply_gradients(&[(f.get(&format!("g{step}")), w.clone())])
                .unwrap();
            assert_close(
                &format!("{name} step {}", step + 1),
                w.var().as_tensor(),
                &f.get(&format!("{name}_{step}")),
                1e-5,
            );
        }
        assert_eq!(opt.iterations(), 3);
    }
}

/// A whole `fit`: Dense(8, relu, L2) -> Dense(3, softmax), Adam(0.01), batch 8, 3 epochs,
/// no shuffling, validation_split 0.25, from Keras's initial weights.
#[test]
fn fit_history_and_weights_match_keras() {
    let f = Fixture::load("training.npz");
    let mut model = Sequential::from_layers([
        Input::new([6]).into(),
        Dense::new(8)
            .activation("relu")
            .kernel_regularizer(keras::regularizers::L2::new(0.01))
            .into(),
        Dense::new(3).activation("softmax").into(),
    ])
    .unwrap();
    let init: Vec<Tensor> = (0..4).map(|i| f.get(&format!("w_init{i}"))).collect();
    model.set_weights(&init).unwrap();
    model
        .compile(
            Adam::new().learning_rate(0.01),
            "sparse_categorical_crossentropy",
            ["accuracy"],
        )
        .unwrap();
    let h = model
        .fit(
            f.get("x"),
            f.get("y"),
            FitArgs {
                batch_size: 8,
                epochs: 3,
                shuffle: false,
                verbose: 0,
                validation_split: 0.25,
                ..Default::default()
            },
        )
        .unwrap();
    for key in ["loss", "accuracy", "val_loss", "val_accuracy"] {
        let want: Vec<f64> = f
            .f32(&format!("history_{key}"))
            .iter()
            .map(|&v| v as f64)
            .collect();
        assert_close_vec(key, &h.history[key], &want, 1e-5);
    }
    let ws = model.get_weights().unwrap();
    for (i, w) in ws.iter().enumerate() {
        assert_close(
            &format!("final weight {i}"),
            w,
            &f.get(&format!("w_final{i}")),
            1e-5,
        );
    }
    let p: Tensor = model
        .predict(
            f.get("x"),
            EvalArgs {
                verbose: 0,
                ..Default::default()
            },
        )
        .unwrap();
    assert_close("predict", &p, &f.get("predict"), 1e-5);
    let ev = model
        .evaluate(
            f.get("x"),
            f.get("y"),
            EvalArgs {
                verbose: 0,
                ..Default::default()
            },
        )
        .unwrap();
    let want: Vec<f64> = f.f32("evaluate").iter().map(|&v| v as f64).collect();
    assert_close_vec("evaluate", &ev.values(), &want, 1e-5);
    assert_eq!(model.metrics_names(), vec!["loss", "accuracy"]);
}
