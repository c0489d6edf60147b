//! Issue 12's model-level friction: one `predict` for one or several outputs, `evaluate`'s
//! list in Keras's order, readable errors (Debug, the call path through nested models), and
//! `fit`'s input checks (`validation_split` range, strided tensors).

use keras::data::Dataset;
use keras::prelude::*;
use keras::trainers::ValidationData;
use serde_json::Value;

fn quiet(epochs: usize) -> FitArgs<'static> {
    FitArgs {
        epochs,
        verbose: 0,
        ..Default::default()
    }
}

fn randn(shape: &[usize], seed: u64) -> Tensor {
    keras::utils::set_random_seed(seed);
    keras::random::normal(shape).unwrap()
}

/// A model with two heads: (5, 1) and (5, 2) predictions for five samples.
fn two_heads() -> Model {
    let x = Input::new([3]);
    let h = Dense::new(4).call(&x).unwrap();
    let a = Dense::new(1).call(&h).unwrap();
    let b = Dense::new(2).call(&h).unwrap();
    Model::new(&[x], &[a, b]).unwrap().name("two_heads")
}

#[test]
fn one_predict_for_one_and_several_outputs() {
    let x = randn(&[5, 3], 1);
    let mut m = two_heads();
    let [a, b]: [Tensor; 2] = m.predict(&x, EvalArgs::quiet()).unwrap();
    assert_eq!((a.dims(), b.dims()), (&[5, 1][..], &[5, 2][..]));
    let all: Vec<Tensor> = m.predict(&x, EvalArgs::quiet()).unwrap();
    assert_eq!(all.len(), 2);
    // The same numbers through every entry point.
    let on_batch: Vec<Tensor> = m.predict_on_batch(&x).unwrap();
    let ds = Dataset::from_tensor_slices(x.clone())
        .unwrap()
        .batch(2)
        .unwrap();
    let [da, db]: [Tensor; 2] = m.predict_dataset(&ds, EvalArgs::quiet()).unwrap();
    for (got, want) in [(&on_batch[0], &a), (&on_batch[1], &b), (&da, &a), (&db, &b)] {
        let d = (got - want).unwrap().abs().unwrap().max_all().unwrap();
        assert!(d.to_scalar::<f32>().unwrap() < 1e-6);
    }
    // A type that does not fit names the model and its output count.
    let e = m
        .predict::<Tensor>(&x, EvalArgs::quiet())
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "Model \"two_heads\" has 2 outputs, but its predictions were asked for as a Tensor \
         (which fits 1 output). Receive them as [Tensor; 2] or Vec<Tensor>."
    );
    let e = m
        .predict_on_batch::<[Tensor; 3]>(&x)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("Model \"two_heads\" has 2 outputs"), "{e}");

    let mut one = Sequential::from_layers([Input::new([3]).into(), Dense::new(2).into()])
        .unwrap()
        .name("one_head");
    let y: Tensor = one.predict(&x, EvalArgs::quiet()).unwrap();
    assert_eq!(y.dims(), &[5, 2]);
    let [y1]: [Tensor; 1] = one.predict(&x, EvalArgs::quiet()).unwrap();
    assert_eq!(y1.to_vec2::<f32>().unwrap(), y.to_vec2::<f32>().unwrap());
    let e = one
        .predict::<[Tensor; 2]>(&x, EvalArgs::quiet())
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("Model \"one_head\" has 1 output, but")
            && e.ends_with("Receive them as Tensor."),
        "{e}"
    );
}

/// A nested JSON list as a tensor of that shape.
fn tensor(v: &Value) -> Tensor {
    fn walk(v: &Value, depth: usize, shape: &mut Vec<usize>, out: &mut Vec<f32>) {
        match v {
            Value::Array(items) => {
                if shape.len() == depth {
                    shape.push(items.len());
                }
                for i in items {
                    walk(i, depth + 1, shape, out);
                }
            }
            n => out.push(n.as_f64().unwrap() as f32),
        }
    }
    let (mut shape, mut out) = (vec![], vec![]);
    walk(v, 0, &mut shape, &mut out);
    Tensor::from_vec(out, shape, &Device::Cpu).unwrap()
}

#[test]
fn evaluate_lists_values_in_keras_order_for_two_outputs() {
    let f: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/evaluate_order.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let x = Input::shape([3]).name("features").build();
    let h = Dense::new(4)
        .activation("relu")
        .name("hidden")
        .call(&x)
        .unwrap();
    let price = Dense::new(1).name("price").call(&h).unwrap();
    let kind = Dense::new(3)
        .activation("softmax")
        .name("kind")
        .call(&h)
        .unwrap();
    let mut m = Model::new(&[x], &[price, kind]).unwrap();
    m.compile_with(
        CompileArgs::new(
            "sgd",
            [
                ("price", "mse"),
                ("kind", "sparse_categorical_crossentropy"),
            ],
        )
        .loss_weights([("price", 0.5), ("kind", 2.0)])
        .metrics([("price", &["mae"][..]), ("kind", &["accuracy"][..])]),
    )
    .unwrap();
    let weights: Vec<Tensor> = f["weights"]
        .as_array()
        .unwrap()
        .iter()
        .map(tensor)
        .collect();
    m.set_weights(&weights).unwrap();
    let kinds: Vec<i64> = f["y_kind"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    let y_kind = Tensor::new(kinds, &Device::Cpu).unwrap();
    let logs = m
        .evaluate(
            tensor(&f["x"]),
            vec![tensor(&f["y_price"]), y_kind],
            EvalArgs {
                batch_size: 4,
                ..EvalArgs::quiet()
            },
        )
        .unwrap();
    // Keras: loss, the per-output losses, then the rest sorted by name.
    let want_names: Vec<String> = vec![
        "loss",
        "price_loss",
        "kind_loss",
        "kind_accuracy",
        "price_mae",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(logs.names(), want_names);
    let want: Vec<f64> = f["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let got = logs.values();
    assert_eq!(got.len(), want.len());
    for ((g, w), name) in got.iter().zip(&want).zip(&want_names) {
        assert!((g - w).abs() < 1e-5, "{name}: {g} vs Keras's {w}");
        assert_eq!(logs.get(name), Some(*g));
        assert!(
            (f["dict"][name].as_f64().unwrap() - g).abs() < 1e-5,
            "{name}"
        );
    }
}

#[test]
fn a_failing_main_prints_the_message_with_the_call_path() {
    // What `fn main() -> keras::Result<()>` prints after `Error: ` is the Debug form.
    let ids = Input::shape([2]).dtype(DType::I64).build();
    let codes = Embedding::new(5, 2).name("emb").call(&ids).unwrap();
    let encoder = Model::new(&[ids], &[codes]).unwrap().name("encoder");
    let outer_in = Input::shape([2]).dtype(DType::I64).build();
    let out = encoder.call(&outer_in).unwrap();
    let mut auto = Model::new(&[outer_in], &[out]).unwrap().name("autoencoder");
    let bad = Tensor::new(&[[1i64, 7]], &Device::Cpu).unwrap();
    let e = auto.predict::<Tensor>(&bad, EvalArgs::quiet()).unwrap_err();
    let debug = format!("{e:?}");
    assert_eq!(debug, e.to_string(), "Debug is the message");
    let mut lines = debug.lines();
    assert_eq!(
        lines.next().unwrap(),
        "Exception encountered when calling Functional.call() of model \"encoder\" in model \
         \"autoencoder\"."
    );
    assert_eq!(lines.next().unwrap(), "");
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("Embedding layer \"emb\": index 7 is out of range"),
        "{debug}"
    );
    assert!(
        debug.ends_with(
            "Arguments received by Functional.call():\n  • inputs=Tensor(shape=(1, 2), dtype=int64)"
        ),
        "{debug}"
    );
    assert_eq!(debug.matches("Exception encountered").count(), 1, "{debug}");

    // An input of the wrong width: the message Keras gives, inside the model's report.
    let mut m =
        Sequential::from_layers([Input::new([4]).into(), Dense::new(2).name("dense").into()])
            .unwrap()
            .name("seq");
    let e = m
        .predict::<Tensor>(
            Tensor::zeros((3, 5), DType::F32, &Device::Cpu).unwrap(),
            EvalArgs::quiet(),
        )
        .unwrap_err();
    let debug = format!("{e:?}");
    assert!(
        debug.starts_with("Exception encountered when calling Sequential.call() of model \"seq\"."),
        "{debug}"
    );
    assert!(
        debug.contains(
            "Input 0 of layer \"dense\" is incompatible with the layer: expected axis -1 of input \
             shape to have value 4, but received input with shape (3, 5)"
        ),
        "{debug}"
    );
}

fn regression() -> Sequential {
    keras::utils::set_random_seed(3);
    let mut m = Sequential::from_layers([
        Input::new([3]).into(),
        Dense::new(4).activation("tanh").into(),
        Dense::new(1).into(),
    ])
    .unwrap();
    m.compile("sgd", "mse", ["mae"]).unwrap();
    m
}

#[test]
fn validation_split_outside_zero_one_is_an_error() {
    let (x, y) = (randn(&[10, 3], 1), randn(&[10, 1], 2));
    for bad in [-0.1, 1.0, 1.5] {
        let e = regression()
            .fit(
                &x,
                &y,
                FitArgs {
                    validation_split: bad,
                    ..quiet(1)
                },
            )
            .unwrap_err()
            .to_string();
        let want =
            format!("`validation_split` must be in [0, 1). Received: validation_split={bad}");
        assert_eq!(e, want);
        // The same check for a dataset (which refuses any split > 0 besides).
        let ds = Dataset::from_tensor_slices((x.clone(), y.clone()))
            .unwrap()
            .batch(5)
            .unwrap();
        let e = regression()
            .fit_dataset(
                &ds,
                FitArgs {
                    validation_split: bad,
                    ..quiet(1)
                },
            )
            .unwrap_err()
            .to_string();
        assert_eq!(e, want);
    }
}

fn history(x: &Tensor, y: &Tensor, w: &Tensor, val: (&Tensor, &Tensor)) -> Vec<Vec<f64>> {
    let mut m = regression();
    let h = m
        .fit(
            x,
            y,
            FitArgs {
                batch_size: 4,
                shuffle: true,
                sample_weight: Some(w.into()),
                validation_data: Some(ValidationData::Arrays {
                    x: val.0.into(),
                    y: val.1.into(),
                    sample_weight: None,
                }),
                ..quiet(3)
            },
        )
        .unwrap();
    let mut out: Vec<Vec<f64>> = h.history.iter().map(|(_, v)| v.clone()).collect();
    let e = m.evaluate(x, y, EvalArgs::quiet()).unwrap();
    out.push(e.values());
    let p: Tensor = m.predict(x, EvalArgs::quiet()).unwrap();
    out.push(
        p.flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()
            .iter()
            .map(|&v| v as f64)
            .collect(),
    );
    out
}

#[test]
fn fit_takes_strided_tensors_as_their_contiguous_copies() {
    // A transpose, a column slice and a row slice of bigger arrays: strided views.
    let xt = randn(&[3, 12], 4).t().unwrap();
    let wide = randn(&[12, 5], 5);
    let y = wide.narrow(1, 2, 1).unwrap();
    let w = randn(&[24], 6).abs().unwrap().narrow(0, 6, 12).unwrap();
    let vx = randn(&[3, 8], 7).t().unwrap().narrow(0, 2, 4).unwrap();
    let vy = randn(&[4, 3], 8).narrow(1, 1, 1).unwrap();
    assert!(!xt.is_contiguous() && !y.is_contiguous() && !vx.is_contiguous());
    let dense = |t: &Tensor| t.contiguous().unwrap().copy().unwrap();
    let strided = history(&xt, &y, &w, (&vx, &vy));
    let copies = history(
        &dense(&xt),
        &dense(&y),
        &dense(&w),
        (&dense(&vx), &dense(&vy)),
    );
    assert_eq!(strided, copies);
    assert_eq!(strided[0].len(), 3);

    // A Dataset of strided slices trains like one of copies.
    let fit_ds = |x: Tensor, y: Tensor| {
        let mut m = regression();
        keras::utils::set_random_seed(9);
        let ds = Dataset::from_tensor_slices((x, y))
            .unwrap()
            .shuffle(12)
            .unwrap()
            .batch(4)
            .unwrap();
        let h = m.fit_dataset(&ds, quiet(2)).unwrap();
        h.history["loss"].clone()
    };
    assert_eq!(fit_ds(xt.clone(), y.clone()), fit_ds(dense(&xt), dense(&y)));
}

#[test]
fn class_weight_on_a_strided_target_equals_its_copy() {
    let x = randn(&[16, 3], 11).t().unwrap().t().unwrap();
    // Class ids in the second column of a (16, 2) array: a strided view.
    let ids: Vec<u32> = (0..32).map(|i| (i * 7 % 3) as u32).collect();
    let y = Tensor::from_vec(ids, (16, 2), &Device::Cpu)
        .unwrap()
        .narrow(1, 1, 1)
        .unwrap();
    assert!(!y.is_contiguous());
    let run = |y: &Tensor| {
        keras::utils::set_random_seed(5);
        let mut m = Sequential::from_layers([
            Input::new([3]).into(),
            Dense::new(3).activation("softmax").into(),
        ])
        .unwrap();
        m.compile("sgd", "sparse_categorical_crossentropy", ["accuracy"])
            .unwrap();
        let h = m
            .fit(
                &x,
                y,
                FitArgs {
                    batch_size: 5,
                    shuffle: true,
                    class_weight: Some([(0, 2.0), (2, 0.5)].into_iter().collect()),
                    ..quiet(2)
                },
            )
            .unwrap();
        h.history["loss"].clone()
    };
    assert_eq!(run(&y), run(&y.contiguous().unwrap().copy().unwrap()));
}
