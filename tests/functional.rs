//! The functional API, following the scenarios of Keras's `functional_test.py`: multi-input and
//! multi-output flows, named inputs, nested models, shared layers, disconnected graphs, layer
//! reuse, a Sequential inside a functional model; and numbers from Python Keras.

#![allow(clippy::cloned_ref_to_slice_refs)]

mod common;

use common::{assert_close, assert_close_vec, Fixture};
use keras::layers::{self, Embedding};
use keras::prelude::*;
use keras::trainers::Network;

fn zeros(dims: &[usize]) -> Tensor {
    Tensor::zeros(dims, DType::F32, &Device::Cpu).unwrap()
}

fn randn(dims: &[usize], seed: u64) -> Tensor {
    let mut r = keras::ops::random::Rng::new(seed);
    let n: usize = dims.iter().product();
    keras::ops::from_vec((0..n).map(|_| r.normal() as f32).collect(), dims).unwrap()
}

fn quiet(epochs: usize) -> FitArgs<'static> {
    FitArgs {
        epochs,
        verbose: 0,
        ..Default::default()
    }
}

/// Keras's two_tower model of tests/fixtures/make_fixtures.py, built here the same way.
fn two_tower() -> Model {
    let a = Input::shape([6]).name("left").build();
    let b = Input::shape([6]).name("right").build();
    let shared = Dense::new(5).activation("tanh").name("shared").into_layer();
    let (ha, hb) = (shared.call(&a).unwrap(), shared.call(&b).unwrap());
    let inner = Sequential::from_layers([
        Input::new([5]).into(),
        Dense::new(4).activation("relu").name("inner_dense").into(),
    ])
    .unwrap()
    .name("inner");
    let ia = inner.call(&ha).unwrap();
    let m = layers::concatenate(&[ia, hb]).unwrap();
    let proj = Dense::new(9).name("proj").call(&m).unwrap();
    let m2 = layers::add(&[proj, m]).unwrap();
    let out1 = Dense::new(3)
        .activation("softmax")
        .name("cls")
        .call(&m2)
        .unwrap();
    let sq = layers::multiply(&[m2.clone(), m2]).unwrap();
    let out2 = Dense::new(1).name("reg").call(&sq).unwrap();
    Model::new(&[a, b], &[out1, out2])
        .unwrap()
        .name("two_tower")
}

#[test]
fn forward_and_training_match_keras() {
    let f = Fixture::load("functional.npz");
    let mut m = two_tower();
    let n = keras::ops::scalar(&f.get("n_weights")).unwrap() as usize;
    let w: Vec<Tensor> = (0..n).map(|i| f.get(&format!("w{i}"))).collect();
    m.set_weights(&w).unwrap();
    let p: Vec<Tensor> = m
        .predict(
            vec![f.get("x_left"), f.get("x_right")],
            EvalArgs {
                verbose: 0,
                ..Default::default()
            },
        )
        .unwrap();
    assert_close("cls", &p[0], &f.get("pred_cls"), 1e-5);
    assert_close("reg", &p[1], &f.get("pred_reg"), 1e-5);

    m.compile_with(
        CompileArgs::new(
            SGD::new().learning_rate(0.05),
            [("cls", "sparse_categorical_crossentropy"), ("reg", "mse")],
        )
        .loss_weights([("cls", 1.0), ("reg", 0.5)])
        .metrics([("cls", &["accuracy"][..])]),
    )
    .unwrap();
    let x: Data = vec![("left", f.get("x_left")), ("right", f.get("x_right"))].into();
    let y: Data = vec![("cls", f.get("y_cls")), ("reg", f.get("y_reg"))].into();
    let h = m
        .fit(
            x,
            y,
            FitArgs {
                batch_size: 4,
                epochs: 2,
                shuffle: false,
                verbose: 0,
                ..Default::default()
            },
        )
        .unwrap();
    let keys: Vec<&String> = h.history.keys().collect();
    assert_eq!(keys, vec!["cls_accuracy", "cls_loss", "loss", "reg_loss"]);
    for key in ["loss", "cls_loss", "reg_loss", "cls_accuracy"] {
        let want: Vec<f64> = f
            .f32(&format!("history_{key}"))
            .iter()
            .map(|&v| v as f64)
            .collect();
        assert_close_vec(key, &h.history[key], &want, 1e-5);
    }
    for (i, w) in m.get_weights().unwrap().iter().enumerate() {
        assert_close(
            &format!("final weight {i}"),
            w,
            &f.get(&format!("w_final{i}")),
            1e-5,
        );
    }
    assert_eq!(
        m.metrics_names(),
        vec!["loss", "cls_loss", "reg_loss", "cls_accuracy"]
    );
}

#[test]
fn basic_flow_multi_input_and_multi_output() {
    let a = Input::shape([3]).name("input_a").build();
    let b = Input::shape([3]).name("input_b").build();
    let x = layers::add(&[
        Dense::new(5).call(&a).unwrap(),
        Dense::new(5).call(&b).unwrap(),
    ])
    .unwrap();
    let o1 = Dense::new(2).name("o1").call(&x).unwrap();
    let o2 = Dense::new(4).name("o2").call(&x).unwrap();
    let mut m = Model::new(&[a, b], &[o1, o2]).unwrap();
    assert_eq!(m.inputs().len(), 2);
    assert_eq!(m.outputs().len(), 2);
    assert_eq!(
        m.count_params(),
        2 * (3 * 5 + 5) + (5 * 2 + 2) + (5 * 4 + 4)
    );
    let out: Vec<Tensor> = m
        .predict(
            vec![zeros(&[7, 3]), zeros(&[7, 3])],
            EvalArgs {
                verbose: 0,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!((out[0].dims(), out[1].dims()), (&[7, 2][..], &[7, 4][..]));
    m.compile("adam", "mse", ()).unwrap();
    let before = m.get_weights().unwrap();
    let h = m
        .fit(
            vec![randn(&[16, 3], 1), randn(&[16, 3], 2)],
            vec![randn(&[16, 2], 3), randn(&[16, 4], 4)],
            quiet(2),
        )
        .unwrap();
    assert!(h.history.contains_key("o1_loss") && h.history.contains_key("o2_loss"));
    assert_ne!(
        keras::ops::to_vec_f32(&before[0]).unwrap(),
        keras::ops::to_vec_f32(&m.get_weights().unwrap()[0]).unwrap()
    );
}

#[test]
fn named_inputs_and_targets_by_map() {
    let a = Input::shape([2]).name("text").build();
    let b = Input::shape([4]).name("question").build();
    let x = layers::concatenate(&[a.clone(), b.clone()]).unwrap();
    let out = Dense::new(1).name("answer").call(&x).unwrap();
    let mut m = Model::new(&[a, b], &[out]).unwrap();
    m.compile("sgd", "mse", ()).unwrap();
    let x = || -> Data { vec![("question", zeros(&[5, 4])), ("text", zeros(&[5, 2]))].into() };
    m.fit(x(), vec![("answer", zeros(&[5, 1]))], quiet(1))
        .unwrap();
    assert_eq!(
        m.predict::<Tensor>(
            x(),
            EvalArgs {
                verbose: 0,
                ..Default::default()
            }
        )
        .unwrap()
        .dims(),
        &[5, 1]
    );
    let e = m
        .fit(
            vec![("txt", zeros(&[5, 2])), ("question", zeros(&[5, 4]))],
            zeros(&[5, 1]),
            quiet(1),
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("'txt'") && e.contains("text"), "{e}");
    let e = m
        .fit(zeros(&[5, 2]), zeros(&[5, 1]), quiet(1))
        .unwrap_err()
        .to_string();
    assert!(e.contains("2 inputs"), "{e}");
    let e = m
        .fit(vec![zeros(&[5, 2])], zeros(&[5, 1]), quiet(1))
        .unwrap_err()
        .to_string();
    assert!(e.contains("Expected 2 arrays"), "{e}");
}

#[test]
fn nested_and_deeply_nested_models_share_weights() {
    let i1 = Input::new([4]);
    let inner = Model::new(&[i1.clone()], &[Dense::new(3).call(&i1).unwrap()]).unwrap();
    let i2 = Input::new([4]);
    let middle = Model::new(
        &[i2.clone()],
        &[Dense::new(2).call(inner.call(&i2).unwrap()).unwrap()],
    )
    .unwrap();
    let i3 = Input::new([4]);
    let mut outer = Model::new(&[i3.clone()], &[middle.call(&i3).unwrap()]).unwrap();
    assert_eq!(outer.count_params(), (4 * 3 + 3) + (3 * 2 + 2));
    assert_eq!(outer.weights().len(), 4);
    assert_eq!(outer.layers()[1].class_name(), "Functional");
    // Training the outer model moves the inner model's weights: they are the same variables.
    let before = inner.get_weights().unwrap();
    outer.compile("sgd", "mse", ()).unwrap();
    outer
        .fit(randn(&[8, 4], 1), randn(&[8, 2], 2), quiet(1))
        .unwrap();
    assert_ne!(
        keras::ops::to_vec_f32(&before[0]).unwrap(),
        keras::ops::to_vec_f32(&inner.get_weights().unwrap()[0]).unwrap()
    );
    // Nested outputs equal running the inner models by hand.
    let x = randn(&[3, 4], 5);
    let direct = middle.apply(&[x.clone()]).unwrap().remove(0);
    let via: Tensor = outer
        .predict(
            &x,
            EvalArgs {
                verbose: 0,
                ..Default::default()
            },
        )
        .unwrap();
    assert_close("nested", &via, &direct, 1e-6);
}

#[test]
fn sequential_inside_functional() {
    keras::utils::set_random_seed(6);
    let seq = Sequential::from_layers([
        Dense::new(6).activation("relu").input_shape([5]).into(),
        Dense::new(2).into(),
    ])
    .unwrap();
    let inp = Input::new([5]);
    let y = seq.call(&inp).unwrap();
    let out = Dense::new(1).call(&y).unwrap();
    let mut m = Model::new(&[inp], &[out]).unwrap();
    assert_eq!(m.count_params(), (5 * 6 + 6) + (6 * 2 + 2) + 3);
    assert_eq!(m.layers()[1].class_name(), "Sequential");
    m.compile("adam", "mse", ["mae"]).unwrap();
    let h = m
        .fit(randn(&[32, 5], 1), randn(&[32, 1], 2), quiet(3))
        .unwrap();
    assert!(h.history["loss"][2] < h.history["loss"][0]);
}

#[test]
fn shared_layer_uses_one_set_of_weights_and_sums_gradients() {
    let emb = Embedding::new(20, 4).into_layer();
    let a = Input::shape([3]).dtype(DType::I32).build();
    let b = Input::shape([3]).dtype(DType::I32).build();
    let (ea, eb) = (emb.call(&a).unwrap(), emb.call(&b).unwrap());
    assert_eq!(emb.inbound_nodes().len(), 2);
    assert!(emb
        .output()
        .unwrap_err()
        .to_string()
        .contains("multiple inbound nodes"));
    let x = layers::concatenate(&[
        Flatten::new().call(&ea).unwrap(),
        Flatten::new().call(&eb).unwrap(),
    ])
    .unwrap();
    let out = Dense::new(1).call(&x).unwrap();
    let mut m = Model::new(&[a, b], &[out]).unwrap();
    assert_eq!(m.count_params(), 20 * 4 + 24 + 1);
    assert_eq!(m.weights().len(), 3);
    // With ids only in the left input the right path contributes nothing: rows seen by both
    // inputs get the sum of both gradients. Compare one step against the two single-path ones.
    m.compile(SGD::new().learning_rate(1.0), "mse", ()).unwrap();
    let ids = keras::ops::from_vec(vec![1i32, 2, 3], &[1, 3]).unwrap();
    let t0 = m.get_weights().unwrap();
    m.train_on_batch(vec![ids.clone(), ids.clone()], zeros(&[1, 1]))
        .unwrap();
    let moved = (m.get_weights().unwrap()[0].clone() - &t0[0]).unwrap();
    let rows = moved.to_vec2::<f32>().unwrap();
    assert!(rows[0].iter().all(|&v| v == 0.0), "row 0 is not used");
    assert!(
        rows[1].iter().any(|&v| v != 0.0),
        "row 1 is used by both inputs"
    );
}

#[test]
fn graph_errors() {
    let a = Input::new([3]);
    let b = Input::new([3]);
    let y = Dense::new(2)
        .call(layers::add(&[a.clone(), b]).unwrap())
        .unwrap();
    let e = Model::new(&[a.clone()], &[y.clone()])
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.starts_with(
            "Graph disconnected: cannot find parent for KerasTensor <KerasTensor shape=(None, 3)"
        ),
        "{e}"
    );
    let c = Input::new([3]);
    let e = Model::new(&[a.clone(), c], &[Dense::new(1).call(&a).unwrap()])
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("not connected to any output"), "{e}");
    let d1 = Dense::new(2).name("dup").call(&a).unwrap();
    let d2 = Dense::new(2).name("dup").call(&d1).unwrap();
    let e = Model::new(&[a.clone()], &[d2]).err().unwrap().to_string();
    assert_eq!(
        e,
        "The name \"dup\" is used 2 times in the model. All operation names should be unique."
    );
    let e = layers::add(&[Input::new([3]), Input::new([4])])
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "Inputs have incompatible shapes. Received shapes (3,) and (4,)"
    );
    // A layer built for 3 features rejects 5 when called again.
    let dense = Dense::new(2).into_layer();
    dense.call(&a).unwrap();
    let e = dense.call(Input::new([5])).unwrap_err().to_string();
    assert!(
        e.contains("expected axis -1 of input shape to have value 3"),
        "{e}"
    );
}

#[test]
fn intermediate_outputs_model_shares_weights() {
    let inp = Input::new([4]);
    let h = Dense::new(3).activation("relu").call(&inp).unwrap();
    let out = Dense::new(2).call(&h).unwrap();
    let mut m = Model::new(&[inp], &[out]).unwrap();
    let outs: Vec<KerasTensor> = m
        .layers()
        .iter()
        .skip(1)
        .map(|l| l.output().unwrap())
        .collect();
    let mut act = Model::new(&[m.input().unwrap()], &outs).unwrap();
    assert_eq!(act.count_params(), m.count_params());
    let x = randn(&[2, 4], 3);
    let all: Vec<Tensor> = act
        .predict(
            &x,
            EvalArgs {
                verbose: 0,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(all.len(), 2);
    assert_close(
        "last",
        &all[1],
        &m.predict(
            &x,
            EvalArgs {
                verbose: 0,
                ..Default::default()
            },
        )
        .unwrap(),
        1e-7,
    );
    assert_eq!(
        m.get_layer(&m.layers()[1].name()).unwrap().name(),
        m.layers()[1].name()
    );
    assert!(m.get_layer("nope").is_err());
}

/// Finite differences through a graph with a shared layer and a nested model (float64).
#[test]
fn gradients_through_shared_layer_and_nested_model() {
    let f64in = |n| Input::shape([n]).dtype(DType::F64).build();
    let i = f64in(3);
    let inner = Model::new(
        &[i.clone()],
        &[Dense::new(3)
            .activation("tanh")
            .dtype(DType::F64)
            .call(&i)
            .unwrap()],
    )
    .unwrap();
    let shared = Dense::new(3)
        .activation("sigmoid")
        .dtype(DType::F64)
        .into_layer();
    let a = f64in(3);
    let b = f64in(3);
    let left = inner.call(shared.call(&a).unwrap()).unwrap();
    let right = shared.call(&b).unwrap();
    let out = Dense::new(1)
        .dtype(DType::F64)
        .call(layers::multiply(&[left, right]).unwrap())
        .unwrap();
    let m = Model::new(&[a, b], &[out]).unwrap();
    let xa = randn(&[4, 3], 1).to_dtype(DType::F64).unwrap();
    let xb = randn(&[4, 3], 2).to_dtype(DType::F64).unwrap();
    let loss = |m: &Model| -> f64 {
        let y = Network::forward(m.layer(), &[xa.clone(), xb.clone()], false)
            .unwrap()
            .remove(0);
        keras::ops::scalar(&y.sqr().unwrap().sum_all().unwrap()).unwrap()
    };
    let weights = m.trainable_weights();
    let grads = {
        let _sinks = keras::ops::enable_sinks();
        weights.iter().for_each(|w| w.sink().clear());
        let y = Network::forward(m.layer(), &[xa.clone(), xb.clone()], true)
            .unwrap()
            .remove(0);
        let g = y.sqr().unwrap().sum_all().unwrap().backward().unwrap();
        keras::engine::gradients(&g, &weights).unwrap()
    };
    assert_eq!(grads.len(), weights.len());
    for (g, w) in &grads {
        let base = keras::ops::to_vec_f64(&w.numpy().unwrap()).unwrap();
        let analytic = keras::ops::to_vec_f64(g).unwrap();
        for (k, a) in analytic.iter().enumerate() {
            let eps = 1e-6;
            let mut v = base.clone();
            v[k] += eps;
            w.assign(&keras::ops::from_vec(v.clone(), &w.shape()).unwrap())
                .unwrap();
            let up = loss(&m);
            v[k] -= 2.0 * eps;
            w.assign(&keras::ops::from_vec(v, &w.shape()).unwrap())
                .unwrap();
            let down = loss(&m);
            w.assign(&keras::ops::from_vec(base.clone(), &w.shape()).unwrap())
                .unwrap();
            let num = (up - down) / (2.0 * eps);
            assert!(
                (a - num).abs() < 1e-6 * (1.0 + num.abs()),
                "{}[{k}]: {a} vs {num}",
                w.path()
            );
        }
    }
}

/// The seeds' headline model (main_input -> Embedding -> LSTM, an auxiliary output on the
/// LSTM, `aux_input` concatenated, three Dense, `main_output`), small: compiled with one
/// loss for both outputs and `loss_weights=[1., 0.2]` as a list, fit on lists; then, by
/// name, with maps of losses, loss weights, inputs and targets. The total loss is
/// `main_output_loss + 0.2 * aux_output_loss`, and both spellings train alike.
#[test]
fn the_seeds_headline_model_with_one_loss_and_loss_weights_by_list_or_name() {
    let build = || {
        keras::utils::set_random_seed(17);
        let main_input = Input::shape([10])
            .dtype(DType::I32)
            .name("main_input")
            .build();
        let x = Embedding::new(50, 8)
            .input_length(10)
            .call(&main_input)
            .unwrap();
        let lstm_out = layers::LSTM::new(4).call(&x).unwrap();
        let auxiliary_output = Dense::new(1)
            .activation("sigmoid")
            .name("aux_output")
            .call(&lstm_out)
            .unwrap();
        let auxiliary_input = Input::shape([5]).name("aux_input").build();
        let mut x = layers::concatenate(&[lstm_out, auxiliary_input.clone()]).unwrap();
        for _ in 0..3 {
            x = Dense::new(8).activation("relu").call(&x).unwrap();
        }
        let main_output = Dense::new(1)
            .activation("sigmoid")
            .name("main_output")
            .call(&x)
            .unwrap();
        Model::new(
            &[main_input, auxiliary_input],
            &[main_output, auxiliary_output],
        )
        .unwrap()
    };
    let n = 32;
    let mut r = keras::ops::random::Rng::new(4);
    let tokens: Vec<i32> = (0..n * 10).map(|_| 1 + r.below(49) as i32).collect();
    let headline_data = Tensor::from_vec(tokens, (n, 10), &Device::Cpu).unwrap();
    let additional_data = randn(&[n, 5], 5);
    let labels_v: Vec<f32> = (0..n).map(|i| (i % 3 == 0) as u8 as f32).collect();
    let labels = Tensor::from_vec(labels_v, (n, 1), &Device::Cpu).unwrap();

    let mut by_list = build();
    by_list
        .compile_with(
            CompileArgs::new("rmsprop", "binary_crossentropy").loss_weights(vec![1.0, 0.2]),
        )
        .unwrap();
    let args = || FitArgs {
        batch_size: 8,
        epochs: 3,
        shuffle: false,
        verbose: 0,
        ..Default::default()
    };
    let h1 = by_list
        .fit(
            vec![headline_data.clone(), additional_data.clone()],
            vec![labels.clone(), labels.clone()],
            args(),
        )
        .unwrap();
    let h = &h1.history;
    let keys: Vec<&String> = h.keys().collect();
    assert_eq!(keys, ["aux_output_loss", "loss", "main_output_loss"]);
    for e in 0..3 {
        let want = h["main_output_loss"][e] + 0.2 * h["aux_output_loss"][e];
        assert!(
            (h["loss"][e] - want).abs() < 1e-5,
            "epoch {e}: loss {} vs main + 0.2 aux {want}",
            h["loss"][e]
        );
    }
    assert!(h["loss"][2] < h["loss"][0], "{h:?}");

    let mut by_name = build();
    by_name
        .compile_with(
            CompileArgs::new(
                "rmsprop",
                [
                    ("main_output", "binary_crossentropy"),
                    ("aux_output", "binary_crossentropy"),
                ],
            )
            .loss_weights([("main_output", 1.0), ("aux_output", 0.2)]),
        )
        .unwrap();
    let x: Data = vec![
        ("main_input", headline_data),
        ("aux_input", additional_data),
    ]
    .into();
    let y: Data = vec![("main_output", labels.clone()), ("aux_output", labels)].into();
    let h2 = by_name.fit(x, y, args()).unwrap();
    for key in ["loss", "main_output_loss", "aux_output_loss"] {
        assert_close_vec(key, &h2.history[key], &h1.history[key], 1e-6);
    }
}
