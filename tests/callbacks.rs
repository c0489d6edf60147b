//! Callbacks inside `fit` / `evaluate` / `predict`: the loop lends them the model, calls every
//! hook in Keras's order, honours `stop_training` after the batch, records what they add to
//! the logs, and refuses bad arguments before training starts.

use keras::callbacks::{
    CSVLogger, Callback, CallbackContext, EarlyStopping, LambdaCallback, LearningRateScheduler,
    Logs, ModelCheckpoint, ReduceLROnPlateau, TerminateOnNaN,
};
use keras::prelude::*;
use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("keras_rs_cb_{name}_{}", std::process::id()));
    std::fs::remove_dir_all(&d).ok();
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `y = x . w` for a fixed `w`: 64 samples of 4 features.
fn regression(n: usize, seed: u64) -> (Tensor, Tensor) {
    let mut r = keras::ops::random::Rng::new(seed);
    let x: Vec<f32> = (0..n * 4).map(|_| r.normal() as f32).collect();
    let y: Vec<f32> = x
        .chunks(4)
        .map(|c| c[0] - 2.0 * c[1] + 0.5 * c[2] + c[3])
        .collect();
    (
        keras::ops::from_vec(x, &[n, 4]).unwrap(),
        keras::ops::from_vec(y, &[n, 1]).unwrap(),
    )
}

fn model(lr: f64) -> Model {
    keras::utils::set_random_seed(3);
    let mut m = Sequential::from_layers([Input::new([4]).into(), Dense::new(1).into()])
        .unwrap()
        .into_model();
    m.compile(SGD::new().learning_rate(lr), "mse", ["mae"])
        .unwrap();
    m
}

fn quiet<'a>(epochs: usize, callbacks: Vec<&'a mut dyn Callback>) -> FitArgs<'a> {
    FitArgs {
        epochs,
        verbose: 0,
        batch_size: 16,
        shuffle: false,
        callbacks,
        ..Default::default()
    }
}

/// Records every hook it sees.
#[derive(Default)]
struct Recorder(Vec<String>);

impl Callback for Recorder {
    fn set_model(&mut self, _c: &mut CallbackContext) -> keras::Result<()> {
        self.0.push("set_model".into());
        Ok(())
    }
    fn on_train_begin(&mut self, _l: &mut Logs, _c: &mut CallbackContext) -> keras::Result<()> {
        self.0.push("train_begin".into());
        Ok(())
    }
    fn on_train_end(&mut self, _l: &mut Logs, _c: &mut CallbackContext) -> keras::Result<()> {
        self.0.push("train_end".into());
        Ok(())
    }
    fn on_epoch_begin(&mut self, e: usize, _c: &mut CallbackContext) -> keras::Result<()> {
        self.0.push(format!("epoch_begin {e}"));
        Ok(())
    }
    fn on_epoch_end(
        &mut self,
        e: usize,
        l: &mut Logs,
        _c: &mut CallbackContext,
    ) -> keras::Result<()> {
        self.0
            .push(format!("epoch_end {e} {}", l.names().join(",")));
        Ok(())
    }
    fn on_train_batch_begin(&mut self, b: usize, _c: &mut CallbackContext) -> keras::Result<()> {
        self.0.push(format!("train_batch_begin {b}"));
        Ok(())
    }
    fn on_train_batch_end(
        &mut self,
        b: usize,
        _l: &mut Logs,
        _c: &mut CallbackContext,
    ) -> keras::Result<()> {
        self.0.push(format!("train_batch_end {b}"));
        Ok(())
    }
    fn on_test_begin(&mut self, _c: &mut CallbackContext) -> keras::Result<()> {
        self.0.push("test_begin".into());
        Ok(())
    }
    fn on_test_end(&mut self, l: &mut Logs, _c: &mut CallbackContext) -> keras::Result<()> {
        self.0.push(format!("test_end {}", l.names().join(",")));
        Ok(())
    }
    fn on_test_batch_begin(&mut self, b: usize, _c: &mut CallbackContext) -> keras::Result<()> {
        self.0.push(format!("test_batch_begin {b}"));
        Ok(())
    }
    fn on_test_batch_end(
        &mut self,
        b: usize,
        _l: &mut Logs,
        _c: &mut CallbackContext,
    ) -> keras::Result<()> {
        self.0.push(format!("test_batch_end {b}"));
        Ok(())
    }
    fn on_predict_begin(&mut self, _c: &mut CallbackContext) -> keras::Result<()> {
        self.0.push("predict_begin".into());
        Ok(())
    }
    fn on_predict_end(&mut self, _c: &mut CallbackContext) -> keras::Result<()> {
        self.0.push("predict_end".into());
        Ok(())
    }
    fn on_predict_batch_begin(&mut self, b: usize, _c: &mut CallbackContext) -> keras::Result<()> {
        self.0.push(format!("predict_batch_begin {b}"));
        Ok(())
    }
    fn on_predict_batch_end(
        &mut self,
        b: usize,
        out: &[Tensor],
        _c: &mut CallbackContext,
    ) -> keras::Result<()> {
        self.0
            .push(format!("predict_batch_end {b} {:?}", out[0].dims()));
        Ok(())
    }
}

#[test]
fn every_hook_runs_in_keras_order() {
    let (x, y) = regression(40, 1);
    let mut m = model(0.01);
    let mut rec = Recorder::default();
    let mut args = quiet(1, vec![&mut rec]);
    args.batch_size = 32;
    args.validation_split = 0.2; // 32 train samples (1 batch), 8 validation (1 batch)
    m.fit(&x, &y, args).unwrap();
    assert_eq!(
        rec.0,
        [
            "set_model",
            "train_begin",
            "epoch_begin 0",
            "train_batch_begin 0",
            "train_batch_end 0",
            "test_begin",
            "test_batch_begin 0",
            "test_batch_end 0",
            "test_end loss,mae",
            "epoch_end 0 loss,mae,val_loss,val_mae",
            "train_end",
        ]
    );
    rec.0.clear();
    m.evaluate(
        &x,
        &y,
        EvalArgs {
            batch_size: 32,
            verbose: 0,
            callbacks: vec![&mut rec],
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(rec.0[..2], ["set_model", "test_begin"]);
    assert_eq!(rec.0.len(), 1 + 2 + 2 * 2);
    rec.0.clear();
    m.predict::<Tensor>(
        &x,
        EvalArgs {
            batch_size: 32,
            verbose: 0,
            callbacks: vec![&mut rec],
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        rec.0,
        [
            "set_model",
            "predict_begin",
            "predict_batch_begin 0",
            "predict_batch_end 0 [32, 1]",
            "predict_batch_begin 1",
            "predict_batch_end 1 [8, 1]",
            "predict_end",
        ]
    );
}

#[test]
fn stop_training_is_honoured_after_the_current_batch() {
    let (x, y) = regression(64, 2);
    let (vx, vy) = regression(16, 3);
    let mut m = model(0.01);
    let batches = Rc::new(RefCell::new(0));
    let seen = batches.clone();
    let mut stopper = LambdaCallback::new().on_batch_end(move |b, _logs, ctx| {
        *seen.borrow_mut() += 1;
        if b == 1 {
            ctx.model.stop_training = true;
        }
        Ok(())
    });
    let mut args = quiet(5, vec![&mut stopper]);
    args.validation_data = Some((&vx, &vy).into());
    let h = m.fit(&x, &y, args).unwrap();
    assert_eq!(
        *batches.borrow(),
        2,
        "no batch after the one that set stop_training"
    );
    assert_eq!(m.optimizer().unwrap().iterations(), 2);
    // As in Keras, the epoch still ends: validation runs and the History has it.
    assert_eq!(h.epoch, [0]);
    assert_eq!(h.history["val_loss"].len(), 1);
}

#[test]
fn early_stopping_restores_the_best_weights() {
    // Validation targets are the negated training targets: the better the model fits the
    // training data, the worse val_loss gets, so epoch 0 stays the best.
    let (x, y) = regression(64, 4);
    let neg = y.neg().unwrap();
    // BatchNormalization's moving statistics are weights too, and are restored with the rest.
    keras::utils::set_random_seed(3);
    let mut m = Sequential::from_layers([
        Input::new([4]).into(),
        keras::layers::BatchNormalization::new().into(),
        Dense::new(1).into(),
    ])
    .unwrap();
    m.compile(SGD::new().learning_rate(0.05), "mse", ["mae"])
        .unwrap();
    assert_eq!(
        m.get_weights().unwrap().len(),
        6,
        "gamma, beta, moving mean and variance, kernel, bias"
    );
    let first = Rc::new(RefCell::new(vec![]));
    let keep = first.clone();
    let mut snapshot = LambdaCallback::new().on_epoch_end(move |e, _logs, ctx| {
        if e == 0 {
            *keep.borrow_mut() = ctx.model.get_weights()?;
        }
        Ok(())
    });
    let mut stop = EarlyStopping::new().patience(2).restore_best_weights(true);
    let mut args = quiet(20, vec![&mut snapshot, &mut stop]);
    args.validation_data = Some((&x, &neg).into());
    let h = m.fit(&x, &y, args).unwrap();
    let v = &h.history["val_loss"];
    assert!(v[1] > v[0] && v[2] > v[0], "{v:?}");
    assert_eq!(
        h.epoch,
        [0, 1, 2],
        "stops after `patience` epochs without improvement"
    );
    assert_eq!((stop.stopped_epoch, stop.best_epoch, stop.wait), (2, 0, 2));
    assert_eq!(stop.best, Some(v[0]));
    let now = m.get_weights().unwrap();
    for (a, b) in now.iter().zip(first.borrow().iter()) {
        assert_eq!(
            keras::ops::to_vec_f32(a).unwrap(),
            keras::ops::to_vec_f32(b).unwrap(),
            "the weights are epoch 0's again"
        );
    }
    let after = m.evaluate(&x, &neg, EvalArgs::quiet()).unwrap();
    assert!((after.get("loss").unwrap() - v[0]).abs() < 1e-6);
}

#[test]
fn learning_rate_callbacks_add_it_to_the_history() {
    let (x, y) = regression(64, 5);
    let mut m = model(0.08);
    // `max` mode on the loss: never an improvement after the first epoch.
    let mut reduce = ReduceLROnPlateau::new()
        .monitor("loss")
        .mode("max")
        .factor(0.5)
        .patience(1)
        .min_lr(0.012);
    let h = m.fit(&x, &y, quiet(5, vec![&mut reduce])).unwrap();
    let keys: Vec<&String> = h.history.keys().collect();
    assert_eq!(keys, ["loss", "mae", "learning_rate"]);
    let lr: Vec<f64> = h.history["learning_rate"].clone();
    let want = [0.08, 0.08, 0.04, 0.02, 0.012].map(|v: f64| v as f32 as f64);
    assert_eq!(
        lr, want,
        "logged before the reduction of the epoch, clamped at min_lr"
    );

    let mut m = model(0.1);
    let mut sched = LearningRateScheduler::new(|epoch, lr| if epoch == 0 { lr } else { lr * 0.5 });
    let h = m.fit(&x, &y, quiet(3, vec![&mut sched])).unwrap();
    assert_eq!(
        h.history["learning_rate"],
        [0.1f32 as f64, 0.05f32 as f64, 0.025f32 as f64]
    );
    assert!((m.optimizer().unwrap().get_learning_rate() - 0.025).abs() < 1e-9);
}

#[test]
fn model_checkpoint_keeps_the_best_model() {
    let dir = scratch("ckpt");
    let (x, y) = regression(64, 6);
    let (vx, vy) = regression(32, 7);
    let mut m = model(0.02);
    let template = dir.join("w.{epoch:02d}-{val_loss:.3f}.keras");
    let mut every = ModelCheckpoint::new(&template);
    let mut best = ModelCheckpoint::new(dir.join("best.keras")).save_best_only(true);
    // The seeds' `ModelCheckpoint(filepath='my_model.h5', monitor='val_loss',
    // save_best_only=True)`: the whole model in a legacy `.h5` file.
    let mut best_h5 = ModelCheckpoint::new(dir.join("my_model.h5"))
        .monitor("val_loss")
        .save_best_only(true);
    let mut weights = ModelCheckpoint::new(dir.join("w{epoch}.weights.h5"))
        .save_weights_only(true)
        .save_freq(2);
    let mut args = quiet(3, vec![&mut every, &mut best, &mut best_h5, &mut weights]);
    args.validation_data = Some((&vx, &vy).into());
    let h = m.fit(&x, &y, args).unwrap();
    let val = &h.history["val_loss"];
    let names: Vec<String> = every
        .saved
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let want: Vec<String> = val
        .iter()
        .enumerate()
        .map(|(e, v)| format!("w.{:02}-{v:.3}.keras", e + 1))
        .collect();
    assert_eq!(names, want);
    // 4 batches an epoch, one save every 2 batches.
    assert_eq!(weights.saved.len(), 6);
    let min = val.iter().cloned().fold(f64::INFINITY, f64::min);
    assert_eq!(best.best, Some(min));
    assert_eq!(best_h5.best, Some(min));
    let mut from_h5 = keras::models::load_model(dir.join("my_model.h5")).unwrap();
    let ev = from_h5.evaluate(&vx, &vy, EvalArgs::quiet()).unwrap();
    assert!(
        (ev.get("loss").unwrap() - min).abs() < 1e-6,
        ".h5: {ev} vs {min}"
    );
    let mut loaded = keras::models::load_model(dir.join("best.keras")).unwrap();
    let ev = loaded.evaluate(&vx, &vy, EvalArgs::quiet()).unwrap();
    assert!(
        (ev.get("loss").unwrap() - min).abs() < 1e-6,
        "{ev} vs {min}"
    );
    // The checkpoint carries the optimizer state: the iteration count at that epoch.
    let best_epoch = val.iter().position(|&v| v == min).unwrap() as u64;
    assert_eq!(
        loaded.optimizer().unwrap().iterations(),
        4 * (best_epoch + 1)
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn csv_logger_writes_each_epoch() {
    let dir = scratch("csv");
    let (x, y) = regression(32, 8);
    let mut m = model(0.01);
    let path = dir.join("log.csv");
    let mut csv = CSVLogger::new(&path);
    let h = m.fit(&x, &y, quiet(2, vec![&mut csv])).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(lines[0], "epoch,loss,mae,val_loss,val_mae");
    let row: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(row[0], "0");
    assert_eq!(row[1].parse::<f64>().unwrap(), h.history["loss"][0]);
    assert_eq!(row[3], "NA");
    assert_eq!(lines.len(), 4, "header, 2 rows, and the last line end");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn terminate_on_nan_stops_cleanly() {
    let (x, y) = regression(64, 9);
    let mut v = keras::ops::to_vec_f32(&x).unwrap();
    v[20 * 4] = f32::NAN; // batch 1
    let x = keras::ops::from_vec(v, &[64, 4]).unwrap();
    let mut m = model(0.01);
    let before = m.get_weights().unwrap();
    let mut nan = TerminateOnNaN::new();
    let h = m.fit(&x, &y, quiet(3, vec![&mut nan])).unwrap();
    assert_eq!(h.epoch, [0]);
    assert!(h.history["loss"][0].is_nan());
    assert_eq!(
        m.optimizer().unwrap().iterations(),
        1,
        "the NaN batch applied no update"
    );
    assert_ne!(
        keras::ops::to_vec_f32(&m.get_weights().unwrap()[0]).unwrap(),
        keras::ops::to_vec_f32(&before[0]).unwrap()
    );
    let mut raise = TerminateOnNaN::new().raise_error(true);
    let e = model(0.01)
        .fit(&x, &y, quiet(3, vec![&mut raise]))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("NaN or Inf loss encountered at batch 1. Loss value: nan."),
        "{e}"
    );
}

/// Every bad argument is an error naming it, given before the first step, with nothing written.
#[test]
fn bad_arguments_fail_before_training() {
    let dir = scratch("bad");
    let (x, y) = regression(32, 10);
    let check = |cb: &mut dyn Callback, want: &str| {
        let mut m = model(0.01);
        let e = m.fit(&x, &y, quiet(2, vec![cb])).unwrap_err().to_string();
        assert!(e.contains(want), "{e:?} should contain {want:?}");
        assert_eq!(
            m.optimizer().unwrap().iterations(),
            0,
            "{want}: no step was taken"
        );
    };
    check(
        &mut EarlyStopping::new().mode("minimum"),
        "Received: mode=minimum",
    );
    check(
        &mut EarlyStopping::new().mode("minimum"),
        "Expected one of 'auto', 'min', 'max'",
    );
    check(&mut ReduceLROnPlateau::new().factor(1.0), "factor=1");
    check(&mut ReduceLROnPlateau::new().factor(-0.5), "factor=-0.5");
    check(
        &mut ModelCheckpoint::new(dir.join("m.ckpt")),
        "must end in `.keras`",
    );
    check(
        &mut ModelCheckpoint::new(dir.join("m.keras")).save_weights_only(true),
        "`.weights.h5`",
    );
    check(
        &mut ModelCheckpoint::new(dir.join("m.keras")).save_freq("sometimes"),
        "save_freq=sometimes",
    );
    // A directory that cannot be created: a path under a regular file.
    let file = dir.join("plain_file");
    std::fs::write(&file, b"x").unwrap();
    check(
        &mut ModelCheckpoint::new(file.join("sub/m.keras")),
        "plain_file",
    );
    check(&mut CSVLogger::new(file.join("log.csv")), "plain_file");
    check(
        &mut keras::callbacks::BackupAndRestore::new(file.join("backup")),
        "plain_file",
    );

    // A template naming a key the logs do not have fails at the first save, writing nothing.
    let mut m = model(0.01);
    let mut ck = ModelCheckpoint::new(dir.join("m-{val_acc:.2f}.keras"));
    let e = m
        .fit(&x, &y, quiet(2, vec![&mut ck]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("Failed to format this callback filepath") && e.contains("'val_acc'"),
        "{e}"
    );
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left, ["plain_file"], "nothing half-written");

    let mut m = model(0.01);
    for split in [1.0, 1.5, -0.1] {
        let e = m
            .fit(
                &x,
                &y,
                FitArgs {
                    validation_split: split,
                    verbose: 0,
                    ..Default::default()
                },
            )
            .unwrap_err()
            .to_string();
        assert!(e.contains(&format!("validation_split={split}")), "{e}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_missing_monitor_key_warns_and_training_goes_on() {
    let (x, y) = regression(32, 11);
    let mut m = model(0.01);
    // (In `auto` mode an unknown metric is an error, as in Keras: see the next test.)
    let mut stop = EarlyStopping::new()
        .monitor("val_accuracy")
        .mode("max")
        .patience(0);
    let mut reduce = ReduceLROnPlateau::new()
        .monitor("val_accuracy")
        .mode("max")
        .patience(0);
    let h = m
        .fit(&x, &y, quiet(3, vec![&mut stop, &mut reduce]))
        .unwrap();
    assert_eq!(h.epoch, [0, 1, 2]);
    assert_eq!(stop.stopped_epoch, 0);
    assert_eq!(h.history["learning_rate"], [0.01f32 as f64; 3]);
}

#[test]
fn auto_mode_needs_a_known_direction() {
    let (x, y) = regression(32, 12);
    // `mae` goes down, so auto mode is min: the loss falls, no early stop.
    let mut m = model(0.05);
    let mut stop = EarlyStopping::new().monitor("mae").patience(0);
    let h = m.fit(&x, &y, quiet(4, vec![&mut stop])).unwrap();
    assert_eq!(h.epoch.len(), 4);
    // A logs key that is no metric of the model's cannot be given a direction.
    let mut m = model(0.05);
    let mut odd = LambdaCallback::new().on_epoch_end(|_, logs, _| {
        logs.insert("custom", 1.0);
        Ok(())
    });
    let mut stop = EarlyStopping::new().monitor("custom");
    let e = m
        .fit(&x, &y, quiet(2, vec![&mut odd, &mut stop]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("monitor=custom") && e.contains("mode='max'"),
        "{e}"
    );
}

/// The seeds' ActivationLogger, written as there: `set_model` builds a model of every
/// layer's output; `on_batch_end` (Keras's alias of `on_train_batch_end`) counts batches.
#[derive(Default)]
struct ActivationLogger {
    activations_model: Option<Model>,
    batches: usize,
    shapes: Vec<Vec<usize>>,
}

impl Callback for ActivationLogger {
    fn set_model(&mut self, ctx: &mut CallbackContext) -> keras::Result<()> {
        let layer_outputs: Vec<KerasTensor> = ctx
            .model
            .layers()
            .iter()
            .map(|l| l.output())
            .collect::<keras::Result<_>>()?;
        self.activations_model = Some(Model::new(&[ctx.model.input()?], &layer_outputs)?);
        Ok(())
    }
    fn on_batch_end(
        &mut self,
        _b: usize,
        _l: &mut Logs,
        _c: &mut CallbackContext,
    ) -> keras::Result<()> {
        self.batches += 1;
        Ok(())
    }
    fn on_epoch_end(
        &mut self,
        _e: usize,
        _l: &mut Logs,
        ctx: &mut CallbackContext,
    ) -> keras::Result<()> {
        let (x, _) = ctx
            .validation_data
            .ok_or_else(|| keras::Error::runtime("Requires validation_data."))?;
        let sample = x[0].narrow(0, 0, 1)?;
        let model = self.activations_model.as_mut().expect("set_model ran");
        let activations: Vec<Tensor> = model.predict(&sample, EvalArgs::quiet())?;
        self.shapes = activations.iter().map(|a| a.dims().to_vec()).collect();
        Ok(())
    }
}

/// A model with no input shape is built from the first batch before the callbacks see it
/// (Keras's `_symbolic_build`), and that batch still trains: the weights end where those of
/// the same model built beforehand do, from arrays and from a generator read once.
#[test]
fn a_model_without_an_input_is_built_before_the_callbacks_see_it() {
    let (x, y) = regression(40, 11);
    /// How the model is built before `fit`: not at all; by a `predict` of arrays (whose
    /// pass draws from the generator before the build, as `fit`'s does); by `build`.
    enum Before {
        Nothing,
        Predict,
        Build,
    }
    let net = |before: Before| {
        keras::utils::set_random_seed(9);
        let mut m = Sequential::from_layers([
            Dense::new(8).activation("relu").into(),
            Dense::new(1).into(),
        ])
        .unwrap()
        .into_model();
        m.compile(SGD::new().learning_rate(0.05), "mse", ())
            .unwrap();
        match before {
            Before::Nothing => assert!(!m.built()),
            Before::Predict => {
                let two = x.narrow(0, 0, 2).unwrap();
                m.predict::<Tensor>(&two, EvalArgs::quiet()).unwrap();
            }
            Before::Build => m.build((None, 4)).unwrap(),
        }
        m
    };
    let same = |a: &Model, b: &Model| {
        let flat = |m: &Model| -> Vec<Vec<f32>> {
            m.get_weights()
                .unwrap()
                .iter()
                .map(|w| w.flatten_all().unwrap().to_vec1().unwrap())
                .collect()
        };
        flat(a) == flat(b)
    };
    let mut unbuilt = net(Before::Nothing);
    let mut logger = ActivationLogger::default();
    let mut args = quiet(2, vec![&mut logger]);
    args.validation_split = 0.2; // 32 training samples: 2 batches of 16
    unbuilt.fit(&x, &y, args).unwrap();
    assert_eq!(logger.batches, 4);
    assert_eq!(logger.shapes, [vec![1, 8], vec![1, 1]]);
    let mut built = net(Before::Predict);
    let mut args = quiet(2, vec![]);
    args.validation_split = 0.2;
    built.fit(&x, &y, args).unwrap();
    assert!(
        same(&unbuilt, &built),
        "the first batch was lost or served twice"
    );
    // (A model that learns nothing would pass that: this one moved.)
    assert!(!same(&built, &net(Before::Predict)));

    // From a generator of batches, read once: the peeked batch is not lost.
    let batches = |x: &Tensor, y: &Tensor| {
        (0..4)
            .map(|i| {
                (
                    x.narrow(0, 8 * i, 8).unwrap(),
                    y.narrow(0, 8 * i, 8).unwrap(),
                )
            })
            .collect::<Vec<_>>()
    };
    let mut unbuilt = net(Before::Nothing);
    let mut rec = Recorder::default();
    let args = FitArgs::new()
        .epochs(1)
        .verbose(0)
        .callbacks(vec![&mut rec]);
    unbuilt
        .fit_dataset(DataSource::generator(batches(&x, &y).into_iter()), args)
        .unwrap();
    let ends = rec.0.iter().filter(|h| h.starts_with("train_batch_end"));
    assert_eq!(ends.count(), 4);
    let mut built = net(Before::Build);
    let args = FitArgs::new().epochs(1).verbose(0);
    built
        .fit_dataset(DataSource::generator(batches(&x, &y).into_iter()), args)
        .unwrap();
    assert!(
        same(&unbuilt, &built),
        "the generator's first batch was lost"
    );

    // `evaluate`, and `predict` as Keras's JAX trainer does, build before `set_model` too.
    for predict in [false, true] {
        let mut fresh = net(Before::Nothing);
        let mut logger = ActivationLogger::default();
        let ev = EvalArgs {
            verbose: 0,
            callbacks: vec![&mut logger],
            ..Default::default()
        };
        if predict {
            fresh.predict::<Tensor>(&x, ev).unwrap();
        } else {
            fresh.evaluate(&x, &y, ev).unwrap();
        }
        assert!(logger.activations_model.is_some(), "predict: {predict}");
    }
}

/// `BackupAndRestore` on a model with no input shape (built from the first batch before the
/// callbacks start, as Keras's `fit` does; before that we refused it): a `fit` that fails
/// after epoch 1 and is run again resumes at epoch 2 and ends with the weights of a `fit`
/// that never failed, shuffling and dropout included (the peeked pass was drawn before the
/// restore, so the resumed epoch starts a fresh one).
#[test]
fn an_unbuilt_model_resumes_from_its_backup_to_the_uninterrupted_weights() {
    let dir = scratch("backup_unbuilt");
    let (x, y) = regression(64, 13);
    let run = |fail_after: Option<usize>| -> (keras::Result<History>, Vec<Vec<f32>>) {
        keras::utils::set_random_seed(21);
        let mut m = Sequential::from_layers([
            Dense::new(8).activation("relu").into(),
            Dropout::new(0.3).into(),
            Dense::new(1).into(),
        ])
        .unwrap()
        .into_model();
        m.compile("adam", "mse", ()).unwrap();
        let mut backup = keras::callbacks::BackupAndRestore::new(dir.join("backup"));
        let mut fail = LambdaCallback::new().on_epoch_end(move |e, _, _| {
            if Some(e) == fail_after {
                return Err(keras::Error::runtime("interrupted"));
            }
            Ok(())
        });
        let args = FitArgs {
            epochs: 4,
            batch_size: 16,
            verbose: 0,
            callbacks: vec![&mut backup, &mut fail],
            ..Default::default()
        };
        let h = m.fit(&x, &y, args);
        let w = m
            .get_weights()
            .unwrap()
            .iter()
            .map(|w| w.flatten_all().unwrap().to_vec1().unwrap())
            .collect();
        (h, w)
    };
    let (h, whole) = run(None);
    assert_eq!(h.unwrap().history["loss"].len(), 4);
    let (h, _) = run(Some(1));
    assert!(h.is_err());
    let (h, resumed) = run(None);
    // Only epochs 2 and 3 ran again.
    assert_eq!(h.unwrap().history["loss"].len(), 2);
    assert_eq!(resumed, whole);
    std::fs::remove_dir_all(&dir).ok();
}
