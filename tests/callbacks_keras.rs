//! keras-rs's built-in callbacks against Python Keras 3 (tests/fixtures/callbacks.json, written
//! by tests/fixtures/make_callbacks.py): each callback is driven directly, hook by hook, on the
//! scripted per-epoch logs Keras was given, and must do what Keras did: stop at the same epoch
//! with the same `best` / `wait`, restore the same epoch's weights, set the same learning
//! rates, write the same checkpoint file names and the same CSV bytes.
//!
//! Every disagreement of a family is collected and reported together.

use keras::callbacks::{
    CSVLogger, Callback, CallbackContext, EarlyStopping, LearningRateScheduler, Logs,
    ModelCheckpoint, Params, ReduceLROnPlateau, TerminateOnNaN,
};
use keras::prelude::*;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

fn fixture(family: &str) -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/callbacks.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let v: Value = serde_json::from_str(&text).unwrap();
    v[family]
        .as_array()
        .unwrap_or_else(|| panic!("no {family} cases"))
        .clone()
}

/// A log value: a JSON number, or "nan" / "inf" / "-inf".
fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap(),
        Value::String(s) => match s.as_str() {
            "nan" => f64::NAN,
            "inf" => f64::INFINITY,
            "-inf" => f64::NEG_INFINITY,
            _ => panic!("not a number: {s}"),
        },
        _ => panic!("not a number: {v}"),
    }
}

fn opt_num(v: &Value) -> Option<f64> {
    (!v.is_null()).then(|| num(v))
}

/// One epoch's logs, sorted by name as the CallbackList sorts them before every hook.
fn logs_of(v: &Value) -> Logs {
    let mut logs = Logs::default();
    for (k, x) in v.as_object().unwrap() {
        logs.insert(k, num(x));
    }
    logs.sort();
    logs
}

fn epochs_of(case: &Value) -> Vec<Logs> {
    case["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(logs_of)
        .collect()
}

fn args(case: &Value) -> &Map<String, Value> {
    case["args"].as_object().unwrap()
}

/// The fixture's model: Dense(1) on 2 features, sgd, mse, accuracy, after one batch (so the
/// metrics exist and 'auto' mode can find accuracy's direction).
fn model(lr: Option<f64>) -> Sequential {
    let mut m = Sequential::from_layers([Input::new([2]).into(), Dense::new(1).into()]).unwrap();
    m.compile("sgd", "mse", ["accuracy"]).unwrap();
    let x = keras::ops::from_vec(vec![0f32; 4], &[2, 2]).unwrap();
    let y = keras::ops::from_vec(vec![0f32; 2], &[2, 1]).unwrap();
    m.train_on_batch(&x, &y).unwrap();
    assert!(
        m.metrics_names().contains(&"accuracy".to_string()),
        "{:?}",
        m.metrics_names()
    );
    if let Some(lr) = lr {
        m.optimizer().unwrap().set_learning_rate(lr);
    }
    m
}

fn params(epochs: usize) -> Params {
    Params {
        verbose: 0,
        epochs,
        steps: Some(1),
    }
}

/// Every weight set to `v`.
fn mark(m: &Model, v: f32) {
    let ws: Vec<Tensor> = m
        .get_weights()
        .unwrap()
        .iter()
        .map(|w| Tensor::full(v, w.dims(), &Device::Cpu).unwrap())
        .collect();
    m.set_weights(&ws).unwrap();
}

/// The one value all the weights hold.
fn marker(m: &Model) -> f32 {
    let all: Vec<f32> = m
        .get_weights()
        .unwrap()
        .iter()
        .flat_map(|w| keras::ops::to_vec_f32(w).unwrap())
        .collect();
    assert!(
        all.iter().all(|&x| x == all[0]),
        "weights not uniform: {all:?}"
    );
    all[0]
}

fn lr_of(m: &mut Model) -> f64 {
    m.optimizer().unwrap().get_learning_rate() as f32 as f64
}

/// Learning rates are float32 variables: equal as float32, or within 1e-7.
fn same_lr(got: f64, want: f64) -> bool {
    got as f32 == want as f32 || (got - want).abs() <= 1e-7
}

fn same_opt(got: Option<f64>, want: Option<f64>) -> bool {
    match (got, want) {
        (Some(a), Some(b)) => a == b,
        (None, None) => true,
        _ => false,
    }
}

/// A fresh directory for one case.
fn temp_dir(family: &str, name: &str) -> PathBuf {
    let clean: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let d = std::env::temp_dir().join(format!("keras_rs_{family}_{}_{clean}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn report(family: &str, n: usize, failures: Vec<String>) {
    assert!(n > 0, "no {family} cases");
    assert!(
        failures.is_empty(),
        "{} of {n} {family} cases disagree with Keras:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------- EarlyStopping

fn early_stopping(a: &Map<String, Value>) -> EarlyStopping {
    let mut cb = EarlyStopping::new();
    for (k, v) in a {
        cb = match k.as_str() {
            "monitor" => cb.monitor(v.as_str().unwrap()),
            "mode" => cb.mode(v.as_str().unwrap()),
            "min_delta" => cb.min_delta(num(v)),
            "patience" => cb.patience(v.as_u64().unwrap() as usize),
            "baseline" => cb.baseline(num(v)),
            "start_from_epoch" => cb.start_from_epoch(v.as_u64().unwrap() as usize),
            "restore_best_weights" => cb.restore_best_weights(v.as_bool().unwrap()),
            _ => panic!("EarlyStopping argument {k}"),
        };
    }
    cb
}

#[test]
fn early_stopping_matches_keras() {
    let cases = fixture("early_stopping");
    let mut failures = vec![];
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let want = &case["expect"];
        let epochs = epochs_of(case);
        let mut m = model(None);
        let mut cb = early_stopping(args(case));
        let p = params(epochs.len());
        let mut ctx = CallbackContext {
            model: &mut m,
            params: &p,
            validation_data: None,
        };
        cb.on_train_begin(&mut Logs::default(), &mut ctx).unwrap();
        let mut stop_epoch = None;
        let mut error = None;
        for (e, logs) in epochs.iter().enumerate() {
            cb.on_epoch_begin(e, &mut ctx).unwrap();
            mark(ctx.model, e as f32 + 1.0);
            let mut logs = logs.clone();
            if let Err(err) = cb.on_epoch_end(e, &mut logs, &mut ctx) {
                error = Some(err.to_string());
                break;
            }
            if ctx.model.stop_training {
                stop_epoch = Some(e);
                break;
            }
        }
        if let Some(want_err) = want.get("error") {
            let want_err = want_err.as_str().unwrap();
            match &error {
                Some(got) if got.contains(want_err) => {}
                got => failures.push(format!("{name}: error {got:?}, Keras raised {want_err:?}")),
            }
            continue;
        }
        if let Some(err) = error {
            failures.push(format!("{name}: error {err}, Keras ran on"));
            continue;
        }
        mark(ctx.model, -1.0);
        cb.on_train_end(&mut Logs::default(), &mut ctx).unwrap();
        let restored = match marker(ctx.model) {
            -1.0 => None,
            v => Some(v as usize - 1),
        };
        let got = (
            stop_epoch,
            cb.stopped_epoch,
            cb.best,
            cb.best_epoch,
            cb.wait,
            restored,
        );
        let expect = (
            want["stop_epoch"].as_u64().map(|e| e as usize),
            want["stopped_epoch"].as_u64().unwrap() as usize,
            opt_num(&want["best"]),
            want["best_epoch"].as_u64().unwrap() as usize,
            want["wait"].as_u64().unwrap() as usize,
            want["restored_epoch"].as_u64().map(|e| e as usize),
        );
        let same = got.0 == expect.0
            && got.1 == expect.1
            && same_opt(got.2, expect.2)
            && got.3 == expect.3
            && got.4 == expect.4
            && got.5 == expect.5;
        if !same {
            failures.push(format!(
                "{name}: (stop_epoch, stopped_epoch, best, best_epoch, wait, restored_epoch) \
                 {got:?}, Keras {expect:?}"
            ));
        }
    }
    report("EarlyStopping", cases.len(), failures);
}

// ---------------------------------------------------------------- ReduceLROnPlateau

fn reduce_lr(a: &Map<String, Value>) -> ReduceLROnPlateau {
    let mut cb = ReduceLROnPlateau::new();
    for (k, v) in a {
        cb = match k.as_str() {
            "monitor" => cb.monitor(v.as_str().unwrap()),
            "mode" => cb.mode(v.as_str().unwrap()),
            "factor" => cb.factor(num(v)),
            "patience" => cb.patience(v.as_u64().unwrap() as usize),
            "cooldown" => cb.cooldown(v.as_u64().unwrap() as usize),
            "min_lr" => cb.min_lr(num(v)),
            "min_delta" => cb.min_delta(num(v)),
            _ => panic!("ReduceLROnPlateau argument {k}"),
        };
    }
    cb
}

#[test]
fn reduce_lr_on_plateau_matches_keras() {
    let cases = fixture("reduce_lr_on_plateau");
    let mut failures = vec![];
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let want = &case["expect"];
        let epochs = epochs_of(case);
        let mut m = model(opt_num(&case["initial_lr"]));
        let mut cb = reduce_lr(args(case));
        let p = params(epochs.len());
        let mut ctx = CallbackContext {
            model: &mut m,
            params: &p,
            validation_data: None,
        };
        cb.on_train_begin(&mut Logs::default(), &mut ctx).unwrap();
        let (mut lrs, mut logged) = (vec![], vec![]);
        for (e, logs) in epochs.iter().enumerate() {
            cb.on_epoch_begin(e, &mut ctx).unwrap();
            let mut logs = logs.clone();
            cb.on_epoch_end(e, &mut logs, &mut ctx).unwrap();
            lrs.push(lr_of(ctx.model));
            logged.push(logs.get("learning_rate"));
        }
        cb.on_train_end(&mut Logs::default(), &mut ctx).unwrap();
        let want_lrs: Vec<f64> = want["learning_rate"]
            .as_array()
            .unwrap()
            .iter()
            .map(num)
            .collect();
        let want_logged: Vec<Option<f64>> = want["logged_learning_rate"]
            .as_array()
            .unwrap()
            .iter()
            .map(opt_num)
            .collect();
        let lr_ok =
            lrs.len() == want_lrs.len() && lrs.iter().zip(&want_lrs).all(|(&a, &b)| same_lr(a, b));
        let logged_ok = logged.len() == want_logged.len()
            && logged.iter().zip(&want_logged).all(|(a, b)| match (a, b) {
                (Some(a), Some(b)) => same_lr(*a, *b),
                (None, None) => true,
                _ => false,
            });
        if !lr_ok {
            failures.push(format!(
                "{name}: learning rates {lrs:?}, Keras {want_lrs:?}"
            ));
        }
        if !logged_ok {
            failures.push(format!(
                "{name}: logged learning_rate {logged:?}, Keras {want_logged:?}"
            ));
        }
        let got = (cb.best, cb.wait, cb.cooldown_counter);
        let expect = (
            opt_num(&want["best"]),
            want["wait"].as_u64().unwrap() as usize,
            want["cooldown_counter"].as_u64().unwrap() as usize,
        );
        if !(same_opt(got.0, expect.0) && got.1 == expect.1 && got.2 == expect.2) {
            failures.push(format!(
                "{name}: (best, wait, cooldown_counter) {got:?}, Keras {expect:?}"
            ));
        }
    }
    report("ReduceLROnPlateau", cases.len(), failures);
}

// ---------------------------------------------------------------- ModelCheckpoint

fn checkpoint(dir: &Path, a: &Map<String, Value>) -> ModelCheckpoint {
    let mut cb = ModelCheckpoint::new(dir.join(a["filepath"].as_str().unwrap()));
    for (k, v) in a {
        cb = match k.as_str() {
            "filepath" => cb,
            "monitor" => cb.monitor(v.as_str().unwrap()),
            "mode" => cb.mode(v.as_str().unwrap()),
            "save_best_only" => cb.save_best_only(v.as_bool().unwrap()),
            "save_weights_only" => cb.save_weights_only(v.as_bool().unwrap()),
            "initial_value_threshold" => cb.initial_value_threshold(num(v)),
            _ => panic!("ModelCheckpoint argument {k}"),
        };
    }
    cb
}

/// Every file under `dir`, relative to it, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, d: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let mut out = vec![];
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn model_checkpoint_file_names_match_keras() {
    let cases = fixture("model_checkpoint");
    let mut failures = vec![];
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let want = &case["expect"];
        let dir = temp_dir("ckpt", name);
        let epochs = epochs_of(case);
        let mut m = model(None);
        let mut cb = checkpoint(&dir, args(case));
        let p = params(epochs.len());
        let mut ctx = CallbackContext {
            model: &mut m,
            params: &p,
            validation_data: None,
        };
        let run = (|| -> keras::Result<()> {
            cb.on_train_begin(&mut Logs::default(), &mut ctx)?;
            for (e, logs) in epochs.iter().enumerate() {
                cb.on_epoch_begin(e, &mut ctx)?;
                cb.on_epoch_end(e, &mut logs.clone(), &mut ctx)?;
            }
            cb.on_train_end(&mut Logs::default(), &mut ctx)
        })();
        let error = run
            .err()
            .map(|e| e.to_string().replace(&*dir.to_string_lossy(), "<dir>"));
        match (&error, want.get("error").and_then(Value::as_str)) {
            (None, None) => {}
            (Some(got), Some(w)) if got.contains(w) => {}
            (got, w) => failures.push(format!("{name}: error {got:?}, Keras {w:?}")),
        }
        let saved: Vec<String> = cb
            .saved
            .iter()
            .map(|p| p.strip_prefix(&dir).unwrap().to_string_lossy().into_owned())
            .collect();
        let want_saved: Vec<String> = want["saved"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect();
        if saved != want_saved {
            failures.push(format!("{name}: saved {saved:?}, Keras {want_saved:?}"));
        }
        let mut distinct = want_saved.clone();
        distinct.sort();
        distinct.dedup();
        let on_disk = files_under(&dir);
        if on_disk != distinct {
            failures.push(format!(
                "{name}: files on disk {on_disk:?}, Keras {distinct:?}"
            ));
        }
        if !same_opt(cb.best, opt_num(&want["best"])) {
            failures.push(format!(
                "{name}: best {:?}, Keras {:?}",
                cb.best, want["best"]
            ));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    report("ModelCheckpoint", cases.len(), failures);
}

// ---------------------------------------------------------------- CSVLogger

#[test]
fn csv_logger_bytes_match_keras() {
    let cases = fixture("csv_logger");
    let mut failures = vec![];
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let want = case["expect"]["contents"].as_str().unwrap();
        let dir = temp_dir("csv", name);
        let path = dir.join("log.csv");
        let mut m = model(None);
        let run = (|| -> keras::Result<()> {
            for run in case["runs"].as_array().unwrap() {
                let epochs: Vec<Logs> = run.as_array().unwrap().iter().map(logs_of).collect();
                let mut cb = CSVLogger::new(&path);
                for (k, v) in args(case) {
                    cb = match k.as_str() {
                        "separator" => cb.separator(v.as_str().unwrap()),
                        "append" => cb.append(v.as_bool().unwrap()),
                        _ => panic!("CSVLogger argument {k}"),
                    };
                }
                let p = params(epochs.len());
                let mut ctx = CallbackContext {
                    model: &mut m,
                    params: &p,
                    validation_data: None,
                };
                cb.on_train_begin(&mut Logs::default(), &mut ctx)?;
                for (e, logs) in epochs.iter().enumerate() {
                    cb.on_epoch_begin(e, &mut ctx)?;
                    cb.on_epoch_end(e, &mut logs.clone(), &mut ctx)?;
                }
                cb.on_train_end(&mut Logs::default(), &mut ctx)?;
            }
            Ok(())
        })();
        match run {
            Err(e) => failures.push(format!("{name}: {e}")),
            Ok(()) => {
                let got = std::fs::read_to_string(&path).unwrap();
                if got != want {
                    failures.push(format!("{name}: wrote {got:?}, Keras {want:?}"));
                }
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    report("CSVLogger", cases.len(), failures);
}

// ---------------------------------------------------------------- LearningRateScheduler

/// The fixture's schedules, by name (as make_callbacks.py's SCHEDULES).
fn schedule(name: &str) -> LearningRateScheduler {
    match name {
        "halve_on_odd" => {
            LearningRateScheduler::new(|epoch, lr| if epoch % 2 == 1 { lr * 0.5 } else { lr })
        }
        "step" => LearningRateScheduler::new(|epoch, _| if epoch < 2 { 0.1 } else { 0.01 }),
        "exp_decay_after_2" => {
            LearningRateScheduler::new(
                |epoch, lr| if epoch < 2 { lr } else { lr * (-0.1f64).exp() },
            )
        }
        "linear_warmup" => LearningRateScheduler::new(|epoch, _| 0.001 * (epoch as f64 + 1.0)),
        _ => panic!("schedule {name}"),
    }
}

#[test]
fn learning_rate_scheduler_matches_keras() {
    let cases = fixture("learning_rate_scheduler");
    let mut failures = vec![];
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let want = &case["expect"];
        let epochs = case["epochs"].as_u64().unwrap() as usize;
        let mut m = model(opt_num(&case["initial_lr"]));
        let mut cb = schedule(case["schedule"].as_str().unwrap());
        let p = params(epochs);
        let mut ctx = CallbackContext {
            model: &mut m,
            params: &p,
            validation_data: None,
        };
        cb.on_train_begin(&mut Logs::default(), &mut ctx).unwrap();
        let (mut seen, mut lrs, mut logged) = (vec![], vec![], vec![]);
        for e in 0..epochs {
            cb.on_epoch_begin(e, &mut ctx).unwrap();
            seen.push(lr_of(ctx.model));
            let mut logs = Logs::default();
            logs.insert("loss", 1.0);
            cb.on_epoch_end(e, &mut logs, &mut ctx).unwrap();
            lrs.push(lr_of(ctx.model));
            logged.push(logs.get("learning_rate").unwrap_or(f64::NAN));
        }
        cb.on_train_end(&mut Logs::default(), &mut ctx).unwrap();
        for (what, got) in [
            ("learning_rate_in_epoch", &seen),
            ("learning_rate", &lrs),
            ("logged_learning_rate", &logged),
        ] {
            let w: Vec<f64> = want[what].as_array().unwrap().iter().map(num).collect();
            if got.len() != w.len() || !got.iter().zip(&w).all(|(&a, &b)| same_lr(a, b)) {
                failures.push(format!("{name}: {what} {got:?}, Keras {w:?}"));
            }
        }
    }
    report("LearningRateScheduler", cases.len(), failures);
}

// ---------------------------------------------------------------- TerminateOnNaN

#[test]
fn terminate_on_nan_matches_keras() {
    let cases = fixture("terminate_on_nan");
    let mut failures = vec![];
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let want = &case["expect"];
        let mut m = model(None);
        let mut cb = TerminateOnNaN::new();
        for (k, v) in args(case) {
            cb = match k.as_str() {
                "raise_error" => cb.raise_error(v.as_bool().unwrap()),
                _ => panic!("TerminateOnNaN argument {k}"),
            };
        }
        let p = params(1);
        let mut ctx = CallbackContext {
            model: &mut m,
            params: &p,
            validation_data: None,
        };
        cb.on_train_begin(&mut Logs::default(), &mut ctx).unwrap();
        cb.on_epoch_begin(0, &mut ctx).unwrap();
        let (mut stop_batch, mut error) = (None, None);
        for (b, loss) in case["losses"].as_array().unwrap().iter().enumerate() {
            cb.on_train_batch_begin(b, &mut ctx).unwrap();
            let mut logs = Logs::default();
            if let Some(l) = opt_num(loss) {
                logs.insert("loss", l);
            }
            if let Err(e) = cb.on_train_batch_end(b, &mut logs, &mut ctx) {
                error = Some(e.to_string());
                break;
            }
            if ctx.model.stop_training {
                stop_batch = Some(b);
                break;
            }
        }
        let want_stop = want["stop_batch"].as_u64().map(|b| b as usize);
        if stop_batch != want_stop {
            failures.push(format!(
                "{name}: stopped at batch {stop_batch:?}, Keras {want_stop:?}"
            ));
        }
        match (&error, want["error"].as_str()) {
            (None, None) => {}
            (Some(got), Some(w)) if got.contains(w) => {}
            (got, w) => failures.push(format!("{name}: error {got:?}, Keras {w:?}")),
        }
    }
    report("TerminateOnNaN", cases.len(), failures);
}
