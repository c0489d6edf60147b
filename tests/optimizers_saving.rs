//! Optimizer state in `.keras` and `.weights.h5` files: Keras 3.15.1's files
//! (tests/fixtures/make_optimizers_saving.py: Nadam with a CosineDecay schedule, AdamW with
//! EMA and gradient accumulation, Adafactor, LossScaleOptimizer) load here with the optimizer itself (class,
//! schedule, every variable, the step counter) and continue training with Keras's numbers;
//! ours round-trip the same way.

mod common;

use common::{assert_close, Fixture};
use keras::layers::*;
use keras::ops::{self, Tensor};
use keras::optimizers::schedules::CosineDecay;
use keras::prelude::*;

fn path(file: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/optimizers_saving")
        .join(file)
}

fn state(m: &mut Model) -> Vec<Tensor> {
    let weights = m.trainable_weights();
    m.optimizer().unwrap().save_own_variables(&weights).unwrap()
}

#[test]
fn keras_files_load_with_their_optimizer_state_and_train_on() {
    for (name, class) in [
        ("nadam_cosine", "Nadam"),
        ("adamw_ema_accumulation", "AdamW"),
        ("adafactor", "Adafactor"),
        ("loss_scale", "LossScaleOptimizer"),
    ] {
        let f = Fixture::load(&format!("optimizers_saving/{name}.npz"));
        let mut m = keras::saving::load_model(path(&format!("{name}.keras")))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let config = m.optimizer().unwrap().get_config();
        assert_eq!(config["class_name"], class, "{name}");
        if name == "nadam_cosine" {
            let lr = &config["config"]["learning_rate"];
            assert_eq!(lr["class_name"], "CosineDecay", "{lr}");
            assert_eq!(lr["config"]["warmup_target"], 0.1, "{lr}");
        }
        let ours = state(&mut m);
        let n = (0..).take_while(|i| f.has(&format!("opt{i}"))).count();
        assert_eq!(ours.len(), n, "{name}: optimizer variables");
        for (i, t) in ours.iter().enumerate() {
            assert_close(
                &format!("{name} optimizer variable {i}"),
                &t.to_dtype(DType::F64).unwrap(),
                &f.get(&format!("opt{i}")).to_dtype(DType::F64).unwrap(),
                1e-7,
            );
        }
        if name == "loss_scale" {
            // Keras's train step multiplies the loss by the optimizer's scale
            // (`optimizer.scale_loss`) before taking gradients; continuing training is checked
            // once the trainer does too.
            assert_eq!(m.optimizer().unwrap().iterations(), 3);
            continue;
        }
        let x = f.get("x").narrow(0, 12, 4).unwrap();
        let y = f.get("y").narrow(0, 12, 4).unwrap();
        m.train_on_batch(x, y).unwrap();
        for (i, w) in m.get_weights().unwrap().iter().enumerate() {
            assert_close(
                &format!("{name} weight {i} after one more step"),
                w,
                &f.get(&format!("after{i}")),
                1e-5,
            );
        }
        let want = ops::scalar(&f.get("iterations_after")).unwrap() as u64;
        assert_eq!(m.optimizer().unwrap().iterations(), want, "{name}");
    }
}

fn model(opt: impl Optimizer + 'static) -> Model {
    let mut m = Sequential::from_layers([
        Input::new([5]).into(),
        Dense::new(4).activation("tanh").into(),
        Dense::new(2).into(),
    ])
    .unwrap();
    m.compile(opt, "mse", ()).unwrap();
    m.into_model()
}

#[test]
fn our_files_keep_nadam_with_a_cosine_schedule() {
    let dir = std::env::temp_dir().join(format!("keras_rs_opt_saving_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = Fixture::load("optimizers_saving/nadam_cosine.npz");
    let (x, y) = (f.get("x"), f.get("y"));
    let make =
        || model(Nadam::new().learning_rate(CosineDecay::new(0.05, 20).unwrap().warmup(0.1, 2)));
    let mut a = make();
    for i in 0..3 {
        a.train_on_batch(
            x.narrow(0, i * 4, 4).unwrap(),
            y.narrow(0, i * 4, 4).unwrap(),
        )
        .unwrap();
    }
    let before = state(&mut a);
    assert_eq!(a.optimizer().unwrap().iterations(), 3);
    // iteration, 2 x 4 weights' (momentum, velocity), u_product; no learning_rate variable.
    assert_eq!(before.len(), 1 + 8 + 1);

    let file = dir.join("nadam.keras");
    a.save(&file).unwrap();
    let mut b = keras::saving::load_model(&file).unwrap();
    assert_eq!(
        b.optimizer().unwrap().get_config(),
        a.optimizer().unwrap().get_config()
    );
    assert_eq!(b.optimizer().unwrap().iterations(), 3);
    let after = state(&mut b);
    assert_eq!(after.len(), before.len());
    for (i, (p, q)) in after.iter().zip(&before).enumerate() {
        assert_close(&format!("variable {i}"), p, q, 0.0);
    }

    let weights_file = dir.join("nadam.weights.h5");
    a.save_weights(&weights_file).unwrap();
    let mut c = make();
    c.load_weights(&weights_file).unwrap();
    assert_eq!(c.optimizer().unwrap().iterations(), 3);
    for (i, (p, q)) in state(&mut c).iter().zip(&before).enumerate() {
        assert_close(&format!("weights file variable {i}"), p, q, 0.0);
    }

    // The three continue identically.
    let (xb, yb) = (x.narrow(0, 12, 4).unwrap(), y.narrow(0, 12, 4).unwrap());
    for m in [&mut a, &mut b, &mut c] {
        m.train_on_batch(&xb, &yb).unwrap();
    }
    let wa = a.get_weights().unwrap();
    for m in [&b, &c] {
        for (p, q) in m.get_weights().unwrap().iter().zip(&wa) {
            assert_close("after one more step", p, q, 0.0);
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}
