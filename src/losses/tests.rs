//! Unit tests of the losses module as a whole: the fused and per-sample paths agree, configs
//! round-trip, names resolve. (Numbers against Keras: tests/losses.rs.)

use super::*;
use crate::ops::{self, Device, Var};
use crate::serialization::json;
use std::sync::Arc;

fn t64(v: &[f64], d: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), d, &Device::Cpu).unwrap()
}

fn seq(n: usize, scale: f64, shift: f64) -> Vec<f64> {
    (0..n)
        .map(|i| (((i * 7919) % 23) as f64 / 23.0 - 0.5) * scale + shift)
        .collect()
}

/// Every loss with a fused op, on inputs it takes: `(loss, y_true, y_pred)`.
fn fused_cases() -> Vec<(Box<dyn Loss>, Tensor, Tensor)> {
    let reg_t = t64(&seq(12, 2.0, 0.3), &[4, 3]);
    let reg_p = t64(
        &seq(12, 3.0, 0.1).iter().rev().cloned().collect::<Vec<_>>(),
        &[4, 3],
    );
    let pos_p = (reg_p.abs().unwrap() + 0.1).unwrap();
    let pos_t = (reg_t.abs().unwrap() + 0.2).unwrap();
    let bin = t64(&[1., 0., 0., 1., 1., 0., 0., 0., 1., 1., 0., 1.], &[4, 3]);
    let prob = ops::activation(&reg_p, ops::Act::Sigmoid).unwrap();
    let labels = t64(&[2., 0., 1., 2.], &[4]);
    let onehot = t64(&[0., 0., 1., 1., 0., 0., 0., 1., 0., 0., 0., 1.], &[4, 3]);
    let sm = ops::activation(&reg_p, ops::Act::Softmax).unwrap();
    vec![
        (Box::new(MeanSquaredError), reg_t.clone(), reg_p.clone()),
        (Box::new(MeanAbsoluteError), reg_t.clone(), reg_p.clone()),
        (Box::new(Huber { delta: 0.4 }), reg_t.clone(), reg_p.clone()),
        (
            Box::new(MeanAbsolutePercentageError),
            pos_t.clone(),
            reg_p.clone(),
        ),
        (
            Box::new(MeanSquaredLogarithmicError),
            pos_t.clone(),
            pos_p.clone(),
        ),
        (Box::new(LogCosh), reg_t.clone(), reg_p.clone()),
        (Box::new(Poisson), pos_t.clone(), pos_p.clone()),
        (Box::new(Hinge), bin.clone(), reg_p.clone()),
        (Box::new(SquaredHinge), bin.clone(), reg_p.clone()),
        (
            Box::new(BinaryCrossentropy::new().label_smoothing(0.2)),
            bin.clone(),
            prob.clone(),
        ),
        (
            Box::new(BinaryCrossentropy::new().from_logits(true).axis(0)),
            bin.clone(),
            reg_p.clone(),
        ),
        (
            Box::new(CategoricalCrossentropy::new().label_smoothing(0.1)),
            onehot.clone(),
            sm.clone(),
        ),
        (
            Box::new(CategoricalCrossentropy::new().from_logits(true)),
            onehot,
            reg_p.clone(),
        ),
        (
            Box::new(SparseCategoricalCrossentropy::new().from_logits(true)),
            labels.clone(),
            reg_p.clone(),
        ),
        (Box::new(SparseCategoricalCrossentropy::new()), labels, sm),
    ]
}

/// The fused mean equals the mean of the per-sample values, and its hand-written backward
/// equals the per-sample path's gradient (unit weights) and finite differences.
#[test]
fn fused_and_per_sample_paths_agree() {
    for (l, y, p) in fused_cases() {
        let name = l.name().to_string();
        let fused = ops::scalar(&l.call(&y, &p).unwrap()).unwrap();
        let mean = ops::scalar(&l.values(&y, &p).unwrap().mean_all().unwrap()).unwrap();
        assert!(
            (fused - mean).abs() < 1e-9 * (1.0 + mean.abs()),
            "{name}: {fused} {mean}"
        );
        let ones = l.values(&y, &p).unwrap().ones_like().unwrap();
        let var = Var::from_tensor(&p).unwrap();
        let g1 = l.call(&y, var.as_tensor()).unwrap().backward().unwrap();
        let g2 = l
            .call_weighted(&y, var.as_tensor(), Some(&ones))
            .unwrap()
            .backward()
            .unwrap();
        let g1 = ops::to_vec_f64(g1.get(var.as_tensor()).unwrap()).unwrap();
        let g2 = ops::to_vec_f64(g2.get(var.as_tensor()).unwrap()).unwrap();
        for (a, b) in g1.iter().zip(&g2) {
            assert!(
                (a - b).abs() < 1e-9 * (1.0 + b.abs()),
                "{name}: {g1:?} {g2:?}"
            );
        }
        crate::testing::check_gradient(std::slice::from_ref(&p), |v| l.call(&y, &v[0]), 1e-6, 1e-5)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn labels_of_rank_one_fit_predictions_of_width_one() {
    let y = test_tensor(&[0., 1., 1.], &[3]);
    let p = test_tensor(&[0.2, 0.7, 0.9], &[3, 1]);
    let l = ops::scalar(&BinaryCrossentropy::new().call(&y, &p).unwrap()).unwrap();
    let want = -((0.8f64).ln() + (0.7f64).ln() + (0.9f64).ln()) / 3.0;
    assert!((l - want).abs() < 1e-6, "{l} {want}");
    let e = MeanSquaredError
        .call(&test_tensor(&[1., 2.], &[2]), &p)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("mean_squared_error") && e.contains("(2, 1)") && e.contains("(3, 1)"),
        "{e}"
    );
}

#[test]
fn reductions_and_names_round_trip_through_configs() {
    let l = MeanSquaredError.reduction(Reduction::Sum);
    let v = l.get_config();
    assert_eq!(v["class_name"], "MeanSquaredError");
    assert_eq!(v["config"]["name"], "mean_squared_error");
    let back = from_config(&v).unwrap().resolve().unwrap();
    assert_eq!(back.get_reduction(), Reduction::Sum);
    assert_eq!(back.get_config(), v);
    // Keras's `None` reduction is null in its configs, and stays null.
    let keras = json!({"module": "keras.losses", "class_name": "Huber",
        "config": {"name": "my_huber", "reduction": null}, "registered_name": null});
    let h = from_config(&keras).unwrap().resolve().unwrap();
    assert_eq!(h.get_reduction(), Reduction::Null);
    assert_eq!(h.name(), "my_huber");
    assert_eq!(h.get_config(), keras);
    // Keras writes no `delta` for Huber; one written by hand is read.
    let half = json!({"class_name": "Huber", "config": {"delta": 0.5}});
    let half = from_config(&half).unwrap().resolve().unwrap();
    let (y, p) = (test_tensor(&[0.], &[1, 1]), test_tensor(&[2.], &[1, 1]));
    assert_eq!(ops::scalar(&half.call(&y, &p).unwrap()).unwrap(), 0.875);
    let bad = json!({"class_name": "Huber", "config": {"reduction": "avg"}});
    assert!(from_config(&bad).is_err());
    let bad = json!({"class_name": "Huber", "config": {"delta": "big"}});
    let e = from_config(&bad).err().unwrap().to_string();
    assert!(e.contains("Huber: config key 'delta'"), "{e}");
    // Objects write their class; names stay names.
    assert_eq!(
        MeanSquaredError.get_config()["class_name"],
        "MeanSquaredError"
    );
    assert_eq!(get("mse").unwrap().get_config(), "mse");
    assert_eq!(
        from_config(&json!("kld"))
            .unwrap()
            .resolve()
            .unwrap()
            .name(),
        "kl_divergence"
    );
    let f = json!({"module": "builtins", "class_name": "function", "config": "mean_absolute_error",
        "registered_name": "function"});
    assert_eq!(
        from_config(&f).unwrap().resolve().unwrap().name(),
        "mean_absolute_error"
    );
    let w = json!({"module": "keras.src.losses.losses", "class_name": "LossFunctionWrapper",
        "config": {"name": "w", "reduction": "sum", "from_logits": true, "fn": {"module": "builtins",
        "class_name": "function", "config": "binary_crossentropy", "registered_name": "function"}},
        "registered_name": "LossFunctionWrapper"});
    let w = from_config(&w).unwrap().resolve().unwrap();
    assert_eq!((w.name(), w.get_reduction()), ("w", Reduction::Sum));
    assert_eq!(w.get_config()["config"]["from_logits"], true);
    let y = test_tensor(&[0., 1.], &[2, 1]);
    let p = test_tensor(&[1., 3.], &[2, 1]);
    let none = MeanAbsoluteError
        .reduction(Reduction::None)
        .call(&y, &p)
        .unwrap();
    assert_eq!(ops::to_vec_f32(&none).unwrap(), vec![1.0, 2.0]);
}

#[test]
fn names_resolve_and_unknown_ones_suggest() {
    for (name, class) in FUNCTIONS {
        let l = get(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        let direct = get(class).unwrap();
        assert_eq!(l.name(), direct.name(), "{name}");
    }
    let e = get("msex").err().unwrap().to_string();
    assert!(e.contains("msex") && e.contains("'mse'"), "{e}");
    let e = get("BinaryFocalCrossentropi").err().unwrap().to_string();
    assert!(e.contains("'BinaryFocalCrossentropy'"), "{e}");
    let e = from_config(&json!({"class_name": "Tverski", "config": {}}))
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("'Tverski' (a loss)") && e.contains("'Tversky'"),
        "{e}"
    );
    // A user class registers like a built-in one.
    crate::saving::object_registration::register::<Arc<dyn Loss>>("HalfMse", |_| {
        Ok(Arc::new(from_fn("half_mse", |t, p| {
            Ok((mean_squared_error(t, p)? * 0.5)?)
        })))
    });
    let l = from_config(&json!({"class_name": "HalfMse", "config": {}}))
        .unwrap()
        .resolve()
        .unwrap();
    let y = test_tensor(&[0., 0.], &[2, 1]);
    let p = test_tensor(&[1., 3.], &[2, 1]);
    assert_eq!(ops::scalar(&l.call(&y, &p).unwrap()).unwrap(), 2.5);
    assert!(names().iter().any(|n| n == "HalfMse"));
}

#[test]
fn ignore_class_and_bad_labels() {
    let p = test_tensor(&[0.5, 0.5, 0.9, 0.1, 0.2, 0.8], &[3, 2]);
    let l = SparseCategoricalCrossentropy::new().ignore_class(Some(-1));
    let y = test_tensor(&[1., -1., 1.], &[3]);
    let v = ops::to_vec_f32(&l.values(&y, &p).unwrap()).unwrap();
    assert_eq!(v[1], 0.0);
    let mean = ops::scalar(&l.call(&y, &p).unwrap()).unwrap();
    let want = -(0.5f64.ln() + 0.8f64.ln()) / 2.0;
    assert!((mean - want).abs() < 1e-6, "{mean} {want}");
    let w = test_tensor(&[1., 1.], &[2]);
    let e = SparseCategoricalCrossentropy::new()
        .call_weighted(
            &test_tensor(&[0., 2.], &[2]),
            &test_tensor(&[0.5; 4], &[2, 2]),
            Some(&w),
        )
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("label value of 2") && e.contains("(2, 2)"),
        "{e}"
    );
    let e = SparseCategoricalCrossentropy::new()
        .call(
            &test_tensor(&[0., 2., 1.], &[3]),
            &test_tensor(&[0.5; 4], &[2, 2]),
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("(3,)") && e.contains("(2, 2)"), "{e}");
}
