//! Mixed precision (`keras::mixed_precision`): float32 variables, half-precision compute,
//! float32 losses, loss scaling for float16; Keras 3's behaviour, on the CPU.

use keras::layers::{BatchNormalization, Conv2D, MaxPooling2D, LSTM};
use keras::mixed_precision::{global_policy, set_global_policy};
use keras::prelude::*;
use std::sync::Mutex;

/// The policy is process-wide: the tests here take turns.
static POLICY: Mutex<()> = Mutex::new(());

/// Runs `f` with `policy` as the global policy, float32 again afterwards.
fn under<T>(policy: &str, f: impl FnOnce() -> T) -> T {
    set_global_policy(policy).unwrap();
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    set_global_policy("float32").unwrap();
    out.unwrap_or_else(|p| std::panic::resume_unwind(p))
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    let a = a
        .to_dtype(DType::F32)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    let b = b
        .to_dtype(DType::F32)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    a.iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn data(n: usize) -> (Tensor, Tensor) {
    keras::utils::set_random_seed(3);
    let x = keras::random::normal(&[n, 12]).unwrap();
    // Two classes split by the sign of the first two features' sum: learnable by an MLP.
    let s = (x.narrow(1, 0, 1).unwrap() + x.narrow(1, 1, 1).unwrap()).unwrap();
    let y = s
        .ge(0.0)
        .unwrap()
        .to_dtype(DType::F32)
        .unwrap()
        .flatten_all()
        .unwrap();
    (x, y)
}

#[test]
fn a_mixed_dense_keeps_float32_weights_and_computes_in_bfloat16() {
    let _g = POLICY.lock().unwrap_or_else(|e| e.into_inner());
    let (dense, plain) = under("mixed_bfloat16", || {
        assert_eq!(global_policy().name(), "mixed_bfloat16");
        let d = Dense::new(6).activation("relu").into_layer();
        // A dtype of its own: no policy.
        let p = Dense::new(6).dtype(DType::F32).into_layer();
        (d, p)
    });
    let x = keras::random::normal(&[5, 12]).unwrap();
    let y = dense.apply(&x).unwrap();
    assert_eq!(y.dtype(), DType::BF16);
    assert_eq!(dense.dtype_policy().unwrap().name(), "mixed_bfloat16");
    assert!(dense.weights().iter().all(|w| w.dtype() == DType::F32));
    // The same math in float32, from the same weights: bfloat16's 8 bits of mantissa.
    let k = dense.weights()[0].numpy().unwrap();
    let b = dense.weights()[1].numpy().unwrap();
    let want = x
        .matmul(&k)
        .unwrap()
        .broadcast_add(&b)
        .unwrap()
        .relu()
        .unwrap();
    let scale = max_abs_diff(&want, &want.zeros_like().unwrap());
    assert!(
        max_abs_diff(&y, &want) <= 0.02 * scale,
        "{} vs scale {scale}",
        max_abs_diff(&y, &want)
    );
    assert_ne!(
        max_abs_diff(&y, &want),
        0.0,
        "no rounding: not computed in bfloat16"
    );
    assert!(plain.dtype_policy().is_none());
    assert_eq!(plain.apply(&x).unwrap().dtype(), DType::F32);
}

#[test]
fn an_mlp_trains_under_mixed_bfloat16() {
    let _g = POLICY.lock().unwrap_or_else(|e| e.into_inner());
    let (x, y) = data(256);
    let mut model = under("mixed_bfloat16", || {
        Sequential::from_layers([
            Input::new([12]).into(),
            Dense::new(32).activation("relu").into(),
            Dense::new(1).activation("sigmoid").into(),
        ])
        .unwrap()
    });
    model
        .compile(
            keras::optimizers::Adam::new().learning_rate(0.01),
            "binary_crossentropy",
            ["accuracy"],
        )
        .unwrap();
    let h = model
        .fit(&x, &y, FitArgs::new().epochs(8).batch_size(32).verbose(0))
        .unwrap();
    let loss = h.history["loss"].clone();
    assert!(loss[7] < 0.6 * loss[0], "loss {loss:?}");
    assert!(
        h.history["accuracy"][7] > 0.85,
        "{:?}",
        h.history["accuracy"]
    );
    assert!(model.weights().iter().all(|w| w.dtype() == DType::F32));
    let p: Tensor = model.predict_on_batch(x.narrow(0, 0, 4).unwrap()).unwrap();
    assert_eq!(p.dtype(), DType::BF16);
}

#[test]
fn a_cnn_with_batch_normalization_trains_under_mixed_bfloat16() {
    let _g = POLICY.lock().unwrap_or_else(|e| e.into_inner());
    keras::utils::set_random_seed(5);
    let x = keras::random::uniform(&[64, 10, 10, 1], 0.0, 1.0).unwrap();
    let y = x
        .mean_keepdim(1)
        .unwrap()
        .mean_keepdim(2)
        .unwrap()
        .flatten_all()
        .unwrap();
    let y = y.ge(0.5).unwrap().to_dtype(DType::F32).unwrap();
    let mut model = under("mixed_bfloat16", || {
        Sequential::from_layers([
            Input::new([10, 10, 1]).into(),
            Conv2D::new(8, 3).activation("relu").into(),
            MaxPooling2D::new(2).into(),
            BatchNormalization::new().into(),
            Flatten::new().into(),
            Dense::new(1).activation("sigmoid").dtype(DType::F32).into(),
        ])
        .unwrap()
    });
    model.compile("adam", "binary_crossentropy", ()).unwrap();
    let before = model
        .evaluate(&x, &y, EvalArgs::quiet())
        .unwrap()
        .get("loss")
        .unwrap();
    model
        .fit(&x, &y, FitArgs::new().epochs(10).batch_size(16).verbose(0))
        .unwrap();
    let after = model
        .evaluate(&x, &y, EvalArgs::quiet())
        .unwrap()
        .get("loss")
        .unwrap();
    assert!(after < before, "{before} -> {after}");
    let bn = model.get_layer("batch_normalization").unwrap();
    let mean = bn
        .weights()
        .iter()
        .find(|w| w.name() == "moving_mean")
        .unwrap()
        .numpy()
        .unwrap();
    assert_eq!(mean.dtype(), DType::F32);
    assert!(
        max_abs_diff(&mean, &mean.zeros_like().unwrap()) > 0.0,
        "moving mean never moved"
    );
    // The last layer's own float32 dtype: a float32 output.
    let p: Tensor = model.predict_on_batch(x.narrow(0, 0, 2).unwrap()).unwrap();
    assert_eq!(p.dtype(), DType::F32);
}

#[test]
fn an_lstm_runs_under_mixed_bfloat16() {
    let _g = POLICY.lock().unwrap_or_else(|e| e.into_inner());
    let lstm = under("mixed_bfloat16", || LSTM::new(4).into_layer());
    let x = keras::random::normal(&[3, 5, 2]).unwrap();
    let y = lstm.apply(&x).unwrap();
    assert_eq!(y.dims(), &[3, 4]);
    assert_eq!(y.dtype(), DType::BF16);
}

#[test]
fn embedding_and_dropout_train_under_mixed_bfloat16() {
    let _g = POLICY.lock().unwrap_or_else(|e| e.into_inner());
    keras::utils::set_random_seed(8);
    let ids = keras::random::randint(&[64, 6], 0, 20).unwrap();
    // The label: whether token 0 .. 9 are the majority.
    let low = ids
        .lt(10i64)
        .unwrap()
        .to_dtype(DType::F32)
        .unwrap()
        .mean_keepdim(1)
        .unwrap();
    let y = low
        .ge(0.5)
        .unwrap()
        .to_dtype(DType::F32)
        .unwrap()
        .flatten_all()
        .unwrap();
    let mut model = under("mixed_bfloat16", || {
        Sequential::from_layers([
            Input::shape([6]).dtype(DType::I64).build().into(),
            keras::layers::Embedding::new(20, 8).into(),
            Dropout::new(0.1).into(),
            keras::layers::GlobalAveragePooling1D::new().into(),
            Dense::new(1).activation("sigmoid").into(),
        ])
        .unwrap()
    });
    model
        .compile(
            keras::optimizers::Adam::new().learning_rate(0.02),
            "binary_crossentropy",
            (),
        )
        .unwrap();
    let h = model
        .fit(
            &ids,
            &y,
            FitArgs::new().epochs(10).batch_size(16).verbose(0),
        )
        .unwrap();
    let loss = &h.history["loss"];
    assert!(loss[9] < 0.8 * loss[0], "{loss:?}");
}

#[test]
fn mixed_float16_compiles_with_loss_scaling() {
    let _g = POLICY.lock().unwrap_or_else(|e| e.into_inner());
    let (x, y) = data(128);
    let mut model = under("mixed_float16", || {
        Sequential::from_layers([
            Input::new([12]).into(),
            Dense::new(16).activation("relu").into(),
            Dense::new(1).activation("sigmoid").into(),
        ])
        .unwrap()
    });
    model.compile("adam", "binary_crossentropy", ()).unwrap();
    assert_eq!(
        model.optimizer().unwrap().class_name(),
        "LossScaleOptimizer"
    );
    let h = model
        .fit(&x, &y, FitArgs::new().epochs(6).batch_size(32).verbose(0))
        .unwrap();
    let loss = &h.history["loss"];
    assert!(
        loss.iter().all(|l| l.is_finite()) && loss[5] < loss[0],
        "{loss:?}"
    );
    // Not wrapped twice.
    let lso = keras::optimizers::LossScaleOptimizer::new(keras::optimizers::SGD::new());
    model.compile(lso, "binary_crossentropy", ()).unwrap();
    assert_eq!(
        model.optimizer().unwrap().class_name(),
        "LossScaleOptimizer"
    );
}

#[test]
fn bad_policy_names_are_keras_errors() {
    let _g = POLICY.lock().unwrap_or_else(|e| e.into_inner());
    let e = set_global_policy("mixed_int8").unwrap_err().to_string();
    assert!(
        e.contains("Cannot convert 'mixed_int8' to a mixed precision DTypePolicy"),
        "{e}"
    );
    assert_eq!(global_policy().name(), "float32");
}

#[test]
fn a_mixed_model_saves_its_policy_and_loads_mixed() {
    let _g = POLICY.lock().unwrap_or_else(|e| e.into_inner());
    let model = under("mixed_bfloat16", || {
        Sequential::from_layers([Input::new([3]).into(), Dense::new(2).name("head").into()])
            .unwrap()
    });
    let dense = model.get_layer("head").unwrap();
    let v = dense.serialize().unwrap();
    assert_eq!(v["config"]["dtype"]["config"]["name"], "mixed_bfloat16");
    let dir = std::env::temp_dir().join(format!("keras_rs_mixed_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("m.keras");
    model.save(&path).unwrap();
    // Loaded under float32: the file's policy, not the global one.
    let back = keras::models::load_model(&path).unwrap();
    let x = keras::random::normal(&[4, 3]).unwrap();
    let a: Tensor = model.predict_on_batch(&x).unwrap();
    let b: Tensor = back.predict_on_batch(&x).unwrap();
    assert_eq!(b.dtype(), DType::BF16);
    assert_eq!(max_abs_diff(&a, &b), 0.0);
    assert!(back.weights().iter().all(|w| w.dtype() == DType::F32));
    std::fs::remove_dir_all(&dir).ok();
}
