//! Every loss against Keras 3.15.1 (tests/fixtures/make_losses.py, JAX, float32): its config,
//! its value for each reduction with and without sample weights, its gradient with respect
//! to y_pred (JAX's, and finite differences), and its errors for inputs that do not fit.

use keras::losses::{self, Loss, Reduction};
use keras::ops::{self, Device, Tensor, Var};
use serde_json::Value;
use std::sync::Arc;

fn fixture() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/losses.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn num(v: &Value) -> f64 {
    match v {
        Value::String(s) if s == "nan" => f64::NAN,
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        v => v.as_f64().unwrap(),
    }
}

fn dims(v: &Value) -> Vec<usize> {
    v["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect()
}

fn data(v: &Value) -> Vec<f64> {
    v["data"].as_array().unwrap().iter().map(num).collect()
}

fn tensor(v: &Value) -> Tensor {
    let d: Vec<f32> = data(v).iter().map(|&x| x as f32).collect();
    Tensor::from_vec(d, dims(v), &Device::Cpu).unwrap()
}

/// `|got - want| <= tol * max(1, |want|)` for every value, shapes equal.
fn assert_near(what: &str, got: &Tensor, want: &Value, tol: f64) {
    assert_eq!(got.dims(), dims(want).as_slice(), "{what}: shape");
    let g = ops::to_vec_f64(got).unwrap();
    for (i, (a, b)) in g.iter().zip(data(want)).enumerate() {
        assert!(
            (a - b).abs() <= tol * b.abs().max(1.0) || (a.is_nan() && b.is_nan()),
            "{what}[{i}]: got {a}, want {b}"
        );
    }
}

fn with_reduction(config: &Value, r: &Value) -> Value {
    let mut c = config.clone();
    c["config"]["reduction"] = r.clone();
    c
}

/// The loss of a case with reduction `r`: from Keras's config, or built where Keras's config
/// leaves an option out (Huber's `delta`).
fn case_loss(id: &str, config: &Value, r: &Value) -> Arc<dyn Loss> {
    if id == "huber_half" {
        let r = Reduction::from_config(Some(r)).unwrap();
        return Arc::new(losses::Huber { delta: 0.5 }.reduction(r));
    }
    from_keras(&with_reduction(config, r))
}

fn from_keras(config: &Value) -> Arc<dyn Loss> {
    losses::from_config(config)
        .unwrap_or_else(|e| panic!("{config}: {e}"))
        .resolve()
        .unwrap()
}

struct Case<'a> {
    id: &'a str,
    c: &'a Value,
    y_true: Tensor,
    y_pred: Tensor,
}

fn cases(f: &Value) -> Vec<Case<'_>> {
    f["cases"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(id, c)| Case {
            id,
            c,
            y_true: tensor(&f["inputs"][c["y_true"].as_str().unwrap()]),
            y_pred: tensor(&f["inputs"][c["y_pred"].as_str().unwrap()]),
        })
        .collect()
}

#[test]
fn configs_equal_keras_and_round_trip() {
    let f = fixture();
    for case in cases(&f) {
        for key in ["config", "config_null"] {
            let keras = &case.c[key];
            let ours = from_keras(keras).get_config();
            assert_eq!(&ours, keras, "{}: {key}", case.id);
            let again = from_keras(&ours).get_config();
            assert_eq!(&again, keras, "{}: {key} twice", case.id);
        }
    }
}

#[test]
fn values_equal_keras_for_every_reduction_and_weight() {
    let f = fixture();
    let w = |k: &str| tensor(&f["weights"][k]);
    for case in cases(&f) {
        let values = &case.c["values"];
        let mut reductions: Vec<(Value, &Value)> = values
            .as_object()
            .unwrap()
            .iter()
            .map(|(r, v)| (Value::String(r.clone()), v))
            .collect();
        // Keras's `None` reduces as "none".
        reductions.push((Value::Null, &values["none"]));
        for (r, row) in reductions {
            let loss = case_loss(case.id, &case.c["config"], &r);
            for (key, weight) in [
                ("unweighted", None),
                ("w1", Some(w("w1"))),
                ("w2", Some(w("w2"))),
            ] {
                let what = format!("{} reduction={r} {key}", case.id);
                let got = loss.call_weighted(&case.y_true, &case.y_pred, weight.as_ref());
                match (&row[key]["error"], got) {
                    (Value::Null, Ok(v)) => assert_near(&what, &v, &row[key], 1e-6),
                    (Value::Null, Err(e)) => panic!("{what}: {e}"),
                    (_, Ok(v)) => panic!("{what}: Keras refused, we gave {v}"),
                    (_, Err(_)) => {}
                }
            }
        }
    }
}

#[test]
fn gradients_equal_jax_and_finite_differences() {
    let f = fixture();
    let w1 = tensor(&f["weights"]["w1"]);
    for case in cases(&f) {
        let loss = case_loss(case.id, &case.c["config"], &"sum_over_batch_size".into());
        let mut paths: Vec<(&str, Option<&Tensor>)> = vec![("grad", None)];
        if !case.c["grad_w1"].is_null() {
            paths.push(("grad_w1", Some(&w1)));
        }
        for (key, weight) in paths {
            let what = format!("{} {key}", case.id);
            let var = Var::from_tensor(&case.y_pred).unwrap();
            let l = loss
                .call_weighted(&case.y_true, var.as_tensor(), weight)
                .unwrap();
            let grads = l.backward().unwrap();
            let g = grads.get(var.as_tensor()).unwrap();
            assert_near(&what, g, &case.c[key], 1e-5);
            // Finite differences in float64.
            let p64 = case.y_pred.to_dtype(keras::ops::DType::F64).unwrap();
            let t64 = case.y_true.to_dtype(keras::ops::DType::F64).unwrap();
            let w64 = weight.map(|w| w.to_dtype(keras::ops::DType::F64).unwrap());
            keras::testing::check_gradient(
                &[p64],
                |v| loss.call_weighted(&t64, &v[0], w64.as_ref()),
                1e-6,
                1e-5,
            )
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        }
    }
}

/// The same losses made with the builders write Keras's configs.
#[test]
fn builders_write_keras_configs() {
    use losses::*;
    let f = fixture();
    let built: Vec<(&str, Box<dyn Loss>)> = vec![
        ("mse", Box::new(MeanSquaredError)),
        ("mae", Box::new(MeanAbsoluteError)),
        ("mape", Box::new(MeanAbsolutePercentageError)),
        ("msle", Box::new(MeanSquaredLogarithmicError)),
        ("huber_half", Box::new(Huber { delta: 0.5 })),
        ("log_cosh", Box::new(LogCosh)),
        ("cosine", Box::new(CosineSimilarity::new())),
        ("hinge", Box::new(Hinge)),
        ("squared_hinge", Box::new(SquaredHinge)),
        ("categorical_hinge", Box::new(CategoricalHinge)),
        ("kld", Box::new(KLDivergence)),
        ("poisson", Box::new(Poisson)),
        (
            "bce_logits_ls",
            Box::new(
                BinaryCrossentropy::new()
                    .from_logits(true)
                    .label_smoothing(0.1),
            ),
        ),
        ("bce_axis0", Box::new(BinaryCrossentropy::new().axis(0))),
        (
            "bfce_balanced",
            Box::new(
                BinaryFocalCrossentropy::new()
                    .apply_class_balancing(true)
                    .alpha(0.4)
                    .gamma(3.0),
            ),
        ),
        (
            "cce_axis1",
            Box::new(CategoricalCrossentropy::new().from_logits(true).axis(1)),
        ),
        (
            "cfce_logits_ls",
            Box::new(
                CategoricalFocalCrossentropy::new()
                    .from_logits(true)
                    .label_smoothing(0.1)
                    .alpha(0.5)
                    .gamma(1.5),
            ),
        ),
        (
            "scce_ignore",
            Box::new(
                SparseCategoricalCrossentropy::new()
                    .from_logits(true)
                    .ignore_class(Some(-1)),
            ),
        ),
        (
            "gce_q",
            Box::new(CategoricalGeneralizedCrossEntropy::new().q(0.7).unwrap()),
        ),
        ("dice_axes", Box::new(Dice::new().axis([1, 2, 3]))),
        (
            "tversky_ab",
            Box::new(Tversky::new().alpha(0.3).beta(0.7).axis([1, 2, 3])),
        ),
        (
            "circle_opts",
            Box::new(
                Circle::new()
                    .gamma(32.0)
                    .margin(0.25)
                    .remove_diagonal(false),
            ),
        ),
        ("ctc", Box::new(CTC)),
    ];
    for (id, loss) in built {
        let case = &f["cases"][id];
        assert_eq!(loss.get_config(), case["config"], "{id}");
        let null = Reduced::new(
            BinaryCrossentropy::new()
                .from_logits(true)
                .label_smoothing(0.1),
            Reduction::Null,
        );
        if id == "bce_logits_ls" {
            assert_eq!(null.get_config(), case["config_null"]);
        }
    }
}

/// Inputs that do not fit are refused with the loss's name and both shapes, never a panic.
#[test]
fn misfit_inputs_name_the_loss_and_both_shapes() {
    let f = fixture();
    for case in cases(&f) {
        let loss = case_loss(case.id, &case.c["config"], &"sum_over_batch_size".into());
        // One row fewer of predictions.
        let n = case.y_pred.dims()[0];
        let p = case.y_pred.narrow(0, 0, n - 1).unwrap();
        let e = match loss.call(&case.y_true, &p) {
            Err(e) => e.to_string(),
            Ok(v) => panic!(
                "{}: accepted {:?} for {:?}: {v}",
                case.id,
                case.y_true.dims(),
                p.dims()
            ),
        };
        let shape = |d: &[usize]| keras::engine::tuple(d);
        assert!(
            e.contains(loss.name())
                && e.contains(&shape(case.y_true.dims()))
                && e.contains(&shape(p.dims())),
            "{}: {e}",
            case.id
        );
    }
    // Labels outside the classes.
    let p = Tensor::new(&[[0.5f32, 0.5], [0.2, 0.8]], &Device::Cpu).unwrap();
    let y = Tensor::new(&[0f32, 2.0], &Device::Cpu).unwrap();
    for l in [
        losses::get("sparse_categorical_crossentropy").unwrap(),
        losses::get("CategoricalGeneralizedCrossEntropy").unwrap(),
    ] {
        let e = l.call(&y, &p).unwrap_err().to_string();
        assert!(
            e.contains("label value of 2") && e.contains("(2, 2)"),
            "{e}"
        );
    }
    let e = losses::ctc(&Tensor::new(&[1f32, 2.0], &Device::Cpu).unwrap(), &p)
        .unwrap_err()
        .to_string();
    assert!(e.contains("y_true.shape=(2,)"), "{e}");
    let cfg = serde_json::json!({"class_name": "CategoricalGeneralizedCrossEntropy",
        "config": {"q": 1.5}});
    let e = losses::from_config(&cfg).err().unwrap().to_string();
    assert!(e.contains("q=1.5"), "{e}");
}

/// A closure loss compiles and trains like a built-in one.
#[test]
fn closure_loss_trains_in_compile() {
    use keras::prelude::*;
    let l = losses::from_fn("my_mse", losses::mean_squared_error);
    let x = Tensor::new(&[[1f32, 2.0], [3.0, 4.0], [0.5, -1.0]], &Device::Cpu).unwrap();
    let y = Tensor::new(&[[1f32], [2.0], [0.0]], &Device::Cpu).unwrap();
    let mut a = Sequential::from_layers([Dense::new(1).input_shape([2]).into()]).unwrap();
    let mut b = Sequential::from_layers([Dense::new(1).input_shape([2]).into()]).unwrap();
    b.set_weights(&a.get_weights().unwrap()).unwrap();
    a.compile("sgd", l, ["mae"]).unwrap();
    b.compile("sgd", "mse", ["mae"]).unwrap();
    for _ in 0..3 {
        let la = a.train_on_batch(&x, &y).unwrap().get("loss").unwrap();
        let lb = b.train_on_batch(&x, &y).unwrap().get("loss").unwrap();
        assert!((la - lb).abs() < 1e-6 * lb.abs().max(1.0), "{la} {lb}");
    }
}
