//! Sample weights, class weights, loss reductions and weighted metrics against Python Keras
//! 3.15.1 (tests/fixtures/make_sample_weights.py -> sample_weights.npz / .json).

mod common;

use common::{assert_close, Fixture};
use keras::losses::{self, Loss, Reduction};
use keras::metrics::{self, Metric};
use keras::prelude::*;
use keras::trainers::BatchArgs;
use serde_json::Value;
use std::collections::HashMap;

fn json() -> Value {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sample_weights.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn loss(name: &str, r: Reduction) -> Box<dyn Loss> {
    let scce = losses::SparseCategoricalCrossentropy::new();
    match name {
        "mse" | "mse_seq" => Box::new(losses::MeanSquaredError.reduction(r)),
        "mae" => Box::new(losses::MeanAbsoluteError.reduction(r)),
        "huber" => Box::new(losses::Huber::default().reduction(r)),
        "huber_half" => Box::new(losses::Huber { delta: 0.5 }.reduction(r)),
        "bce" => Box::new(losses::BinaryCrossentropy::new().reduction(r)),
        "bce_logits" => Box::new(
            losses::BinaryCrossentropy::new()
                .from_logits(true)
                .reduction(r),
        ),
        "cce" => Box::new(losses::CategoricalCrossentropy::new().reduction(r)),
        "cce_logits" => Box::new(
            losses::CategoricalCrossentropy::new()
                .from_logits(true)
                .reduction(r),
        ),
        "scce" => Box::new(scce.reduction(r)),
        "scce_logits" | "scce_seq" => Box::new(scce.from_logits(true).reduction(r)),
        other => panic!("unknown loss {other}"),
    }
}

/// Every built-in loss, with no weights and weights of shape (batch,), (batch, 1), some
/// zero, and on sequences (batch, steps), (batch, steps, 1), (batch, 1); every reduction.
#[test]
fn losses_match_keras_for_every_weight_shape_and_reduction() {
    let f = Fixture::load("sample_weights.npz");
    let j = json();
    let cases = j["losses"].as_array().unwrap();
    assert_eq!(cases.len(), 210);
    for c in cases {
        let key = c["key"].as_str().unwrap();
        let r = Reduction::parse(c["reduction"].as_str().unwrap()).unwrap();
        let l = loss(c["loss"].as_str().unwrap(), r);
        let yt = f.get(c["y_true"].as_str().unwrap());
        let yp = f.get(c["y_pred"].as_str().unwrap());
        let w = c["weight"].as_str().map(|k| f.get(&format!("sw_{k}")));
        let got = l.call_weighted(&yt, &yp, w.as_ref()).unwrap();
        assert_close(key, &got, &f.get(key), 1e-6);
        // The unweighted entry point gives the same as no weights.
        if w.is_none() {
            assert_close(key, &l.call(&yt, &yp).unwrap(), &f.get(key), 1e-6);
        }
    }
}

#[test]
fn batch_weights_on_a_sequence_loss_fail_as_keras() {
    let f = Fixture::load("sample_weights.npz");
    let want = json()["errors"]["seq_batch_weight"]
        .as_str()
        .unwrap()
        .to_string();
    let l = losses::SparseCategoricalCrossentropy::new().from_logits(true);
    let ones = Tensor::ones(4, DType::F32, &Device::Cpu).unwrap();
    let e = l
        .call_weighted(&f.get("slab_t"), &f.get("scat_z"), Some(&ones))
        .unwrap_err()
        .to_string();
    assert!(e.contains(&want), "{e} / {want}");
}

fn metric(class: &str) -> Box<dyn Metric> {
    match class {
        "BinaryAccuracy" => Box::new(metrics::BinaryAccuracy::default()),
        "CategoricalAccuracy" => Box::new(metrics::CategoricalAccuracy::default()),
        "SparseCategoricalAccuracy" => Box::new(metrics::SparseCategoricalAccuracy::default()),
        "MeanAbsoluteError" => Box::new(metrics::MeanAbsoluteError::default()),
        "MeanSquaredError" => Box::new(metrics::MeanSquaredError::default()),
        other => panic!("unknown metric {other}"),
    }
}

#[test]
fn weighted_metrics_match_keras() {
    let f = Fixture::load("sample_weights.npz");
    for m in json()["metrics"].as_array().unwrap() {
        let name = m["name"].as_str().unwrap();
        let mut metric = metric(m["class"].as_str().unwrap());
        for (b, want) in m["batches"]
            .as_array()
            .unwrap()
            .iter()
            .zip(m["results"].as_array().unwrap())
        {
            let k = |i: usize| f.get(b[i].as_str().unwrap());
            metric.update_state(&k(0), &k(1), Some(&k(2))).unwrap();
            let (got, want) = (metric.result(), want.as_f64().unwrap());
            assert!((got - want).abs() < 1e-6, "{name}: got {got}, want {want}");
        }
    }
}

/// The logs equal Keras's: the same names, values within 1e-6.
fn assert_logs(what: &str, got: &Logs, want: &Value) {
    let want = want.as_object().unwrap();
    let mut names: Vec<String> = want.keys().cloned().collect();
    names.sort();
    let mut got_names = got.names();
    got_names.sort();
    assert_eq!(got_names, names, "{what}: names");
    for (k, v) in want {
        let (g, w) = (got.get(k).unwrap(), v.as_f64().unwrap());
        assert!(
            (g - w).abs() <= 1e-6 * (1.0 + w.abs()),
            "{what} {k}: got {g}, want {w}"
        );
    }
}

fn assert_weights(what: &str, model: &Model, f: &Fixture, run: &str) {
    for (i, w) in model.get_weights().unwrap().iter().enumerate() {
        assert_close(
            &format!("{what} weight {i}"),
            w,
            &f.get(&format!("{run}__final{i}")),
            1e-5,
        );
    }
}

fn row(t: &Tensor, i: usize) -> Tensor {
    t.get(i).unwrap()
}

fn classifier(f: &Fixture, reduction: Reduction) -> Sequential {
    let mut m = Sequential::from_layers([
        Input::new([4]).into(),
        Dense::new(6).activation("relu").into(),
        Dense::new(3).into(),
    ])
    .unwrap();
    let init: Vec<Tensor> = (0..4).map(|i| f.get(&format!("clf__init{i}"))).collect();
    m.set_weights(&init).unwrap();
    let loss = losses::SparseCategoricalCrossentropy::new()
        .from_logits(true)
        .reduction(reduction);
    m.compile_with(
        CompileArgs::new(SGD::new().learning_rate(0.1), loss)
            .metrics(["accuracy"])
            .weighted_metrics(["accuracy", "sparse_categorical_accuracy"]),
    )
    .unwrap();
    m
}

/// Three SGD steps of `train_on_batch` with sample weights ((batch,) and (batch, 1)), with
/// class weights, and with the `sum` / `mean_with_sample_weight` reductions; then a weighted
/// `test_on_batch`. Logs per step and final weights equal Keras's.
#[test]
fn classifier_train_on_batch_matches_keras() {
    let f = Fixture::load("sample_weights.npz");
    let j = json();
    let cw: HashMap<usize, f64> = j["class_weight"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.parse().unwrap(), v.as_f64().unwrap()))
        .collect();
    let (x, y) = (f.get("clf_x"), f.get("clf_y"));
    for run in ["clf_sw", "clf_swc", "clf_cw", "clf_sum", "clf_mws"] {
        let r = &j["runs"][run];
        let reduction = Reduction::parse(r["reduction"].as_str().unwrap()).unwrap();
        let mut model = classifier(&f, reduction);
        for s in 0..3 {
            let args = match r["weighting"].as_str().unwrap() {
                "cw" => BatchArgs::default().class_weight(cw.clone()),
                "sw" => BatchArgs::default().sample_weight(row(&f.get("clf_sw"), s)),
                _ => BatchArgs::default().sample_weight(row(&f.get("clf_swc"), s)),
            };
            let logs = model
                .train_on_batch_with(row(&x, s), row(&y, s), args)
                .unwrap();
            assert_logs(&format!("{run} step {s}"), &logs, &r["steps"][s]);
        }
        let all_x = x.reshape((24, 4)).unwrap();
        let all_y = y.reshape(24).unwrap();
        let sw = f.get("clf_sw").reshape(24).unwrap();
        let test = model
            .test_on_batch_with(&all_x, &all_y, BatchArgs::default().sample_weight(&sw))
            .unwrap();
        assert_logs(&format!("{run} test"), &test, &r["test"]);
        assert_weights(run, &model, &f, run);
    }
}

/// Two outputs with loss weights: one sample-weight array per output, and one array for
/// both (Keras repeats it).
#[test]
fn two_outputs_weighted_per_output_and_shared() {
    let f = Fixture::load("sample_weights.npz");
    let j = json();
    for run in ["two_each", "two_one"] {
        let input = Input::shape([3]).build();
        let h = Dense::new(4).activation("tanh").call(&input).unwrap();
        let a = Dense::new(1).name("a").call(&h).unwrap();
        let b = Dense::new(2).name("b").call(&h).unwrap();
        let mut model = Model::new(&[input], &[a, b]).unwrap();
        let init: Vec<Tensor> = (0..6).map(|i| f.get(&format!("two__init{i}"))).collect();
        model.set_weights(&init).unwrap();
        model
            .compile_with(
                CompileArgs::new(SGD::new().learning_rate(0.05), [("a", "mse"), ("b", "mae")])
                    .loss_weights([("a", 0.5), ("b", 2.0)])
                    .metrics([("a", &["mae"][..])])
                    .weighted_metrics([("a", &["mae"][..]), ("b", &["mse"][..])]),
            )
            .unwrap();
        for s in 0..2 {
            let x = row(&f.get("two_x"), s);
            let ys = vec![row(&f.get("two_ya"), s), row(&f.get("two_yb"), s)];
            let wa = row(&f.get("two_wa"), s);
            let args = if run == "two_each" {
                BatchArgs::default().sample_weight(vec![wa, row(&f.get("two_wb"), s)])
            } else {
                BatchArgs::default().sample_weight(wa)
            };
            let logs = model.train_on_batch_with(&x, ys, args).unwrap();
            assert_logs(
                &format!("{run} step {s}"),
                &logs,
                &j["runs"][run]["steps"][s],
            );
        }
        assert_weights(run, &model, &f, run);
    }
}

/// A sequence output trained with temporal `(batch, steps)` weights.
#[test]
fn temporal_weights_on_a_sequence_output() {
    let f = Fixture::load("sample_weights.npz");
    let j = json();
    let mut model =
        Sequential::from_layers([Input::new([3, 2]).into(), Dense::new(5).into()]).unwrap();
    model
        .set_weights(&[f.get("seq__init0"), f.get("seq__init1")])
        .unwrap();
    model
        .compile_with(
            CompileArgs::new(
                SGD::new().learning_rate(0.1),
                losses::SparseCategoricalCrossentropy::new().from_logits(true),
            )
            .weighted_metrics(["accuracy"]),
        )
        .unwrap();
    let (x, y, sw) = (f.get("seq_x"), f.get("seq_y"), f.get("seq_sw"));
    for s in 0..2 {
        let logs = model
            .train_on_batch_with(
                row(&x, s),
                row(&y, s),
                BatchArgs::default().sample_weight(row(&sw, s)),
            )
            .unwrap();
        assert_logs(
            &format!("seq step {s}"),
            &logs,
            &j["runs"]["seq"]["steps"][s],
        );
    }
    let test = model
        .test_on_batch_with(
            row(&x, 0),
            row(&y, 0),
            BatchArgs::default().sample_weight(row(&sw, 0)),
        )
        .unwrap();
    assert_logs("seq test", &test, &j["runs"]["seq"]["test"]);
    assert_weights("seq", &model, &f, "seq");
}

/// `compile_config` writes the weighted metrics and the loss's reduction as Keras does, and
/// a saved model compiles back with them.
#[test]
fn weighted_metrics_and_reductions_survive_saving() {
    let f = Fixture::load("sample_weights.npz");
    let j = json();
    let mut model = classifier(&f, Reduction::Sum);
    let x = row(&f.get("clf_x"), 0);
    let y = row(&f.get("clf_y"), 0);
    let w = row(&f.get("clf_sw"), 0);
    let before = model
        .test_on_batch_with(&x, &y, BatchArgs::default().sample_weight(&w))
        .unwrap();
    let dir = std::env::temp_dir().join(format!("keras_sw_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("m.keras");
    model.save(&path).unwrap();
    let zip = std::fs::File::open(&path).unwrap();
    let mut zip = zip::ZipArchive::new(zip).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("config.json").unwrap(), &mut text).unwrap();
    let config: Value = serde_json::from_str(&text).unwrap();
    let keras = &j["runs"]["clf_sum"]["compile_config"];
    let ours = &config["compile_config"];
    assert_eq!(ours["weighted_metrics"], keras["weighted_metrics"]);
    assert_eq!(ours["metrics"], keras["metrics"]);
    for k in ["class_name", "module"] {
        assert_eq!(ours["loss"][k], keras["loss"][k]);
    }
    for (k, v) in keras["loss"]["config"].as_object().unwrap() {
        assert_eq!(&ours["loss"]["config"][k], v, "loss config {k}");
    }
    let mut back = keras::saving::load_model(&path).unwrap();
    let after = back
        .test_on_batch_with(&x, &y, BatchArgs::default().sample_weight(&w))
        .unwrap();
    assert_eq!(before.to_map(), after.to_map());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_weighting_arguments_are_refused() {
    let f = Fixture::load("sample_weights.npz");
    let mut model = classifier(&f, Reduction::default());
    let x = row(&f.get("clf_x"), 0);
    let y = row(&f.get("clf_y"), 0);
    let w = row(&f.get("clf_sw"), 0);
    let both = BatchArgs::default()
        .sample_weight(&w)
        .class_weight(HashMap::from([(0, 2.0)]));
    let e = model.train_on_batch_with(&x, &y, both).unwrap_err();
    assert!(
        e.to_string()
            .contains("cannot be specified at the same time"),
        "{e}"
    );
    let short = w.narrow(0, 0, 5).unwrap();
    let e = model
        .train_on_batch_with(&x, &y, BatchArgs::default().sample_weight(&short))
        .unwrap_err();
    assert!(e.to_string().contains("'sample_weight' sizes: 5"), "{e}");
    let cw = BatchArgs::default().class_weight(HashMap::from([(0, 2.0)]));
    assert!(model.test_on_batch_with(&x, &y, cw).is_err());
    let two = BatchArgs::default().sample_weight(vec![w.clone(), w.clone()]);
    let e = model.train_on_batch_with(&x, &y, two).unwrap_err();
    assert!(e.to_string().contains("`sample_weight`"), "{e}");
}

/// `fit` (2 epochs, batches of 8 over 20 samples, no shuffling) with sample weights, class
/// weights, a validation split of weighted arrays, and weighted validation data; then a
/// weighted `evaluate`. Epoch logs, evaluation and final weights equal Keras's.
#[test]
fn fit_and_evaluate_with_weights_match_keras() {
    let f = Fixture::load("sample_weights.npz");
    let j = json();
    let cw: HashMap<usize, f64> = j["class_weight"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.parse().unwrap(), v.as_f64().unwrap()))
        .collect();
    for run in ["fit_sw", "fit_cw", "fit_sw_split", "fit_sw_val"] {
        let mut model = classifier(&f, Reduction::default());
        // The classifier's compile, with only `accuracy` weighted (as the fixture's fit runs).
        model
            .compile_with(
                CompileArgs::new(
                    SGD::new().learning_rate(0.1),
                    losses::SparseCategoricalCrossentropy::new().from_logits(true),
                )
                .metrics(["accuracy"])
                .weighted_metrics(["accuracy"]),
            )
            .unwrap();
        let mut args = FitArgs {
            batch_size: 8,
            epochs: 2,
            shuffle: false,
            verbose: 0,
            ..Default::default()
        };
        match run {
            "fit_cw" => args.class_weight = Some(cw.clone()),
            "fit_sw_split" => {
                args.sample_weight = Some(f.get("fit_sw").into());
                args.validation_split = 0.25;
            }
            "fit_sw_val" => {
                args.sample_weight = Some(f.get("fit_sw").into());
                args.validation_data =
                    Some((f.get("fit_xv"), f.get("fit_yv"), f.get("fit_swv")).into());
            }
            _ => args.sample_weight = Some(f.get("fit_sw").into()),
        }
        let h = model.fit(f.get("fit_x"), f.get("fit_y"), args).unwrap();
        let want = j["fit"][run]["history"].as_object().unwrap();
        let mut keys: Vec<&String> = h.history.keys().collect();
        keys.sort();
        let mut want_keys: Vec<&String> = want.keys().collect();
        want_keys.sort();
        assert_eq!(keys, want_keys, "{run}: history keys");
        for (k, vs) in want {
            let w: Vec<f64> = vs
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            common::assert_close_vec(&format!("{run} {k}"), &h.history[k], &w, 1e-6);
        }
        let ev = model
            .evaluate(
                f.get("fit_x"),
                f.get("fit_y"),
                EvalArgs {
                    batch_size: 8,
                    verbose: 0,
                    sample_weight: Some(f.get("fit_sw").into()),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_logs(&format!("{run} evaluate"), &ev, &j["fit"][run]["evaluate"]);
        assert_weights(run, &model, &f, run);
    }
}
