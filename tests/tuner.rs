//! `keras::tuner` against KerasTuner: its random draws, search-space text, hyperparameter
//! maths and Hyperband schedule (tests/fixtures/tuner.json, from make_tuner.py), and searches
//! on a small regression whose best setting is known (the largest learning rate trains
//! furthest in three epochs), stopped and resumed; plus `models::ensemble`.

mod common;

use keras::prelude::*;
use keras::tuner::{
    BayesianOptimization, Choice, Float, GridSearch, HpValue, HyperParameter, HyperParameters,
    Hyperband, Objective, OracleCore, RandomSearch, TrialStatus,
};
use serde_json::Value;
use std::path::PathBuf;

fn fixture() -> Value {
    let p = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tuner.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("keras_rs_tuner_{}_{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn same(what: &str, got: &HpValue, want: &Value) {
    let ok = match (got, want) {
        (HpValue::Str(s), Value::String(w)) => s == w,
        (HpValue::Bool(b), Value::Bool(w)) => b == w,
        (g, w) if g.is_number() => {
            let (g, w) = (g.as_f64().unwrap(), w.as_f64().unwrap());
            (g - w).abs() <= 1e-12 * w.abs().max(1.0)
        }
        _ => false,
    };
    assert!(ok, "{what}: got {got:?}, KerasTuner {want}");
}

#[test]
fn random_draws_match_keras_tuner() {
    let f = fixture();
    let space = HyperParameters::from_config(&f["space_config"]).unwrap();
    let mut core = OracleCore::new(Objective::infer("val_loss").unwrap(), Some(10), Some(42));
    core.hyperparameters = space;
    for (i, want) in f["random_values_seed42"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let got = core.random_values().unwrap();
        let want = want.as_object().unwrap();
        assert_eq!(got.len(), want.len());
        for (name, v) in &got {
            same(&format!("draw {i} {name}"), v, &want[name]);
        }
    }
}

#[test]
fn hyperparameter_maths_match_keras_tuner() {
    let f = fixture();
    let space = HyperParameters::from_config(&f["space_config"]).unwrap();
    let probs: Vec<f64> = f["probs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_f64().unwrap())
        .collect();
    for m in f["maths"].as_array().unwrap() {
        let name = m["name"].as_str().unwrap();
        let hp: &HyperParameter = space.hyperparameter(name).unwrap();
        for (i, &p) in probs.iter().enumerate() {
            let v = hp.prob_to_value(p);
            same(
                &format!("{name} prob_to_value({p})"),
                &v,
                &m["prob_to_value"][i],
            );
            let back = HpValue::Float(hp.value_to_prob(&v));
            same(
                &format!("{name} value_to_prob"),
                &back,
                &m["value_to_prob"][i],
            );
        }
        let mut values = hp.values();
        if values.iter().all(HpValue::is_number) {
            values.sort_by(|a, b| a.as_f64().partial_cmp(&b.as_f64()).unwrap());
        }
        let want = m["values"].as_array().unwrap();
        if !values.iter().all(HpValue::is_number) {
            // KerasTuner's sorted copy, by type then value.
            let mut v: Vec<String> = values
                .iter()
                .map(|x| x.to_string().to_lowercase())
                .collect();
            let mut w: Vec<String> = want
                .iter()
                .map(|x| x.to_string().trim_matches('"').to_lowercase())
                .collect();
            v.sort();
            w.sort();
            assert_eq!(v, w, "{name} values");
            continue;
        }
        assert_eq!(values.len(), want.len(), "{name} values");
        for (g, w) in values.iter().zip(want) {
            same(&format!("{name} values"), g, w);
        }
    }
}

#[test]
fn log_sampling_and_seeded_reproducibility() {
    // Log sampling: the median of evenly spread probabilities is the geometric mean.
    let lr = Float::new("lr", 1e-4, 1e-2).sampling("log");
    assert!((lr.prob_to_value(0.5) - 1e-3).abs() < 1e-15);
    let n = 1000;
    let below = (0..n)
        .filter(|i| lr.prob_to_value((*i as f64 + 0.5) / n as f64) < 1e-3)
        .count();
    assert_eq!(below, n / 2);
    // Same seed, same draws; another seed, others.
    let draws = |seed| {
        let mut core = OracleCore::new(Objective::infer("loss").unwrap(), None, Some(seed));
        core.hyperparameters.register(lr.clone()).unwrap();
        core.hyperparameters
            .register(Choice::new("units", &[8, 16, 32]))
            .unwrap();
        (0..5)
            .map(|_| core.random_values().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(draws(7), draws(7));
    assert_ne!(draws(7), draws(8));
}

#[test]
fn search_space_summary_text_matches_keras_tuner() {
    let f = fixture();
    let config = f["space_config"].clone();
    let dir = tmp("space");
    let mut tuner = RandomSearch::new(move |hp: &mut HyperParameters| {
        for h in HyperParameters::from_config(&config).unwrap().space() {
            hp.register(h.clone())?;
        }
        tiny_model(0.01)
    })
    .directory(&dir)
    .overwrite(true);
    assert_eq!(
        tuner.search_space_summary_string().unwrap(),
        f["search_space_summary"].as_str().unwrap()
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn hyperband_schedule_matches_keras_tuner() {
    let f = fixture();
    for (key, want) in f["hyperband"].as_object().unwrap() {
        let (m, fa) = key.split_once('_').unwrap();
        let o = keras::tuner::HyperbandOracle::new(m.parse().unwrap(), fa.parse().unwrap());
        let n = want["brackets"].as_u64().unwrap() as usize;
        for b in 0..n {
            for r in 0..=b {
                assert_eq!(
                    o.size(b, r) as u64,
                    want["sizes"][b][r].as_u64().unwrap(),
                    "{key} size {b} {r}"
                );
                assert_eq!(
                    o.epochs(b, r as isize) as u64,
                    want["epochs"][b][r].as_u64().unwrap(),
                    "{key} epochs {b} {r}"
                );
            }
        }
    }
}

/// y = 3 x0 - 2 x1 + 1 on 64 points: 48 to train, 16 to validate.
fn data() -> (Tensor, Tensor) {
    let n = 64;
    let xs: Vec<f32> = (0..2 * n)
        .map(|i| (((i * 37 + 11) % 101) as f32 / 50.0) - 1.0)
        .collect();
    let ys: Vec<f32> = (0..n)
        .map(|i| 3.0 * xs[2 * i] - 2.0 * xs[2 * i + 1] + 1.0)
        .collect();
    (
        Tensor::from_vec(xs, (n, 2), &Device::Cpu).unwrap(),
        Tensor::from_vec(ys, (n, 1), &Device::Cpu).unwrap(),
    )
}

fn tiny_model(lr: f64) -> keras::Result<Model> {
    let mut m = Sequential::from_layers([
        Input::new([2]).into(),
        Dense::new(1).kernel_initializer("zeros").into(),
    ])?
    .into_model();
    m.compile(SGD::new().learning_rate(lr), "mse", ())?;
    Ok(m)
}

fn build(hp: &mut HyperParameters) -> keras::Result<Model> {
    let lr = hp.float_with(Float::new("lr", 1e-4, 0.3).sampling("log"))?;
    tiny_model(lr)
}

fn fit_args(epochs: usize) -> FitArgs<'static> {
    FitArgs {
        epochs,
        batch_size: 8,
        validation_split: 0.25,
        shuffle: false,
        verbose: 0,
        ..Default::default()
    }
}

fn lr_of(hp: &HyperParameters) -> f64 {
    hp.get("lr").unwrap().as_f64().unwrap()
}

#[test]
fn random_search_finds_the_best_rate_and_keeps_its_best_epoch() {
    keras::utils::set_random_seed(1);
    let dir = tmp("random");
    let (x, y) = data();
    let mut tuner = RandomSearch::new(build)
        .objective("val_loss")
        .max_trials(5)
        .seed(3)
        .directory(&dir)
        .project_name("p")
        .overwrite(true);
    tuner.search(&x, &y, fit_args(3)).unwrap();
    let oracle = tuner.oracle().unwrap();
    assert_eq!(oracle.trials.len(), 5);
    assert!(oracle
        .trials
        .values()
        .all(|t| t.status == TrialStatus::Completed));
    let max_lr = oracle
        .trials
        .values()
        .map(|t| lr_of(&t.hyperparameters))
        .fold(0.0, f64::max);
    let best = tuner.get_best_hyperparameters(1).unwrap();
    assert_eq!(lr_of(&best[0]), max_lr);
    assert!(
        max_lr > 1e-2,
        "the draws of seed 3 reach a rate that fits: {max_lr}"
    );
    // The best model comes back with the weights of its best epoch: its validation loss is
    // the trial's score.
    let score = tuner.oracle().unwrap().get_best_trials(1)[0].score.unwrap();
    let mut model = tuner.get_best_models(1).unwrap().remove(0);
    let (xv, yv) = (x.narrow(0, 48, 16).unwrap(), y.narrow(0, 48, 16).unwrap());
    let logs = model
        .evaluate(
            &xv,
            &yv,
            EvalArgs {
                verbose: 0,
                ..Default::default()
            },
        )
        .unwrap();
    let loss = logs.get("loss").unwrap();
    assert!(
        (loss - score).abs() < 1e-4 * score.max(1.0),
        "{loss} vs {score}"
    );
    for f in [
        "oracle.json",
        "tuner0.json",
        "trial_0/trial.json",
        "trial_0/checkpoint.weights.h5",
    ] {
        assert!(dir.join("p").join(f).exists(), "{f}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn results_summary_text() {
    let dir = tmp("summary");
    let (x, y) = data();
    let mut tuner = RandomSearch::new(build)
        .objective("val_loss")
        .max_trials(2)
        .seed(5)
        .directory(&dir)
        .overwrite(true);
    tuner.search(&x, &y, fit_args(1)).unwrap();
    let text = tuner.results_summary_string(1).unwrap();
    let best = tuner.oracle().unwrap().get_best_trials(1)[0].clone();
    let want = format!(
        "Results summary\nResults in {}\nShowing 1 best trials\nObjective(name=\"val_loss\", direction=\"min\")\n\n\
         Trial {} summary\nHyperparameters:\nlr: {}\nScore: {}\n",
        dir.join("untitled_project").display(),
        best.trial_id,
        keras::tuner::py_float(lr_of(&best.hyperparameters)),
        keras::tuner::py_float(best.score.unwrap()),
    );
    assert_eq!(text, want);
    assert!(text.contains("Trial 0 summary") || text.contains("Trial 1 summary"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_stopped_search_resumes_without_rerunning_finished_trials() {
    let dir = tmp("resume");
    let (x, y) = data();
    let builds = std::cell::Cell::new(0);
    let counting = |hp: &mut HyperParameters| {
        builds.set(builds.get() + 1);
        build(hp)
    };
    let mut first = RandomSearch::new(counting)
        .max_trials(2)
        .seed(11)
        .directory(&dir)
        .overwrite(true);
    first.search(&x, &y, fit_args(1)).unwrap();
    assert_eq!(
        builds.get(),
        1 + 2,
        "one build declares the space, then one per trial"
    );
    let scores: Vec<Option<f64>> = first
        .oracle()
        .unwrap()
        .trials
        .values()
        .map(|t| t.score)
        .collect();
    drop(first);

    builds.set(0);
    let mut second = RandomSearch::new(counting)
        .max_trials(4)
        .seed(11)
        .directory(&dir);
    second.search(&x, &y, fit_args(1)).unwrap();
    assert_eq!(builds.get(), 2, "only the two new trials are built");
    let oracle = second.oracle().unwrap();
    assert_eq!(oracle.trials.len(), 4);
    let old: Vec<Option<f64>> = ["0", "1"]
        .iter()
        .map(|id| oracle.trials[*id].score)
        .collect();
    assert_eq!(old, scores);
    // The resumed oracle continues the seed sequence: no values repeat.
    let lrs: std::collections::BTreeSet<String> = oracle
        .trials
        .values()
        .map(|t| lr_of(&t.hyperparameters).to_string())
        .collect();
    assert_eq!(lrs.len(), 4);
    // Nothing left: a third run builds nothing.
    builds.set(0);
    let mut third = RandomSearch::new(counting).max_trials(4).directory(&dir);
    third.search(&x, &y, fit_args(1)).unwrap();
    assert_eq!(builds.get(), 0);
    std::fs::remove_dir_all(&dir).ok();
}

fn build_grid(hp: &mut HyperParameters) -> keras::Result<Model> {
    let lr = hp.choice("lr", &[1e-4, 0.1])?;
    let units = hp.choice("units", &[1usize, 4, 8])?;
    let mut m = Sequential::from_layers([
        Input::new([2]).into(),
        Dense::new(units).into(),
        Dense::new(1).into(),
    ])?
    .into_model();
    m.compile(SGD::new().learning_rate(lr), "mse", ())?;
    Ok(m)
}

#[test]
fn grid_search_covers_the_grid_in_order() {
    let dir = tmp("grid");
    let (x, y) = data();
    let mut tuner = GridSearch::new(build_grid)
        .objective("val_loss")
        .directory(&dir)
        .overwrite(true);
    tuner.search(&x, &y, fit_args(3)).unwrap();
    let oracle = tuner.oracle().unwrap();
    let seen: Vec<String> = oracle
        .start_order
        .iter()
        .map(|id| {
            let hp = &oracle.trials[id].hyperparameters;
            format!("{}/{}", hp.get("lr").unwrap(), hp.get("units").unwrap())
        })
        .collect();
    assert_eq!(
        seen,
        ["0.0001/1", "0.0001/4", "0.0001/8", "0.1/1", "0.1/4", "0.1/8"]
    );
    let best = tuner.get_best_hyperparameters(1).unwrap();
    assert_eq!(best[0].get("lr").unwrap(), HpValue::Float(0.1));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn hyperband_runs_its_brackets_and_continues_the_best() {
    let dir = tmp("hyperband");
    let (x, y) = data();
    let mut tuner = Hyperband::new(build_grid)
        .objective("val_loss")
        .max_epochs(3)
        .factor(3)
        .seed(2)
        .directory(&dir)
        .overwrite(true);
    tuner.search(&x, &y, fit_args(100)).unwrap();
    let oracle = tuner.oracle().unwrap();
    // max_epochs=3, factor=3: bracket 1 (3 trials of 1 epoch, the best continued to 3), then
    // bracket 0 (2 trials of 3 epochs).
    assert_eq!(oracle.trials.len(), 6);
    assert!(oracle.trials.contains_key("0000"));
    let t3 = &oracle.trials["0003"].hyperparameters;
    assert_eq!(t3.get("tuner/epochs").unwrap(), HpValue::Int(3));
    assert_eq!(t3.get("tuner/initial_epoch").unwrap(), HpValue::Int(1));
    let from = t3.get("tuner/trial_id").unwrap().to_string();
    let round0: Vec<&str> = vec!["0000", "0001", "0002"];
    assert!(round0.contains(&from.as_str()));
    let best_round0 = round0
        .iter()
        .min_by(|a, b| {
            oracle.trials[**a]
                .score
                .partial_cmp(&oracle.trials[**b].score)
                .unwrap()
        })
        .unwrap();
    assert_eq!(&from, best_round0, "the best of round 0 is continued");
    let t4 = &oracle.trials["0004"].hyperparameters;
    assert_eq!(t4.get("tuner/epochs").unwrap(), HpValue::Int(3));
    assert_eq!(t4.get("tuner/initial_epoch").unwrap(), HpValue::Int(0));
    let best = tuner.get_best_hyperparameters(1).unwrap();
    assert_eq!(best[0].get("lr").unwrap(), HpValue::Float(0.1));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bayesian_optimization_moves_to_the_best_rate() {
    let dir = tmp("bayes");
    let (x, y) = data();
    let mut tuner = BayesianOptimization::new(build)
        .objective("val_loss")
        .max_trials(6)
        .num_initial_points(3)
        .seed(4)
        .directory(&dir)
        .overwrite(true);
    tuner.search(&x, &y, fit_args(3)).unwrap();
    let oracle = tuner.oracle().unwrap();
    assert_eq!(oracle.trials.len(), 6);
    let lr = |id: &str| lr_of(&oracle.trials[id].hyperparameters);
    let initial_best = ["0", "1", "2"].iter().map(|id| lr(id)).fold(0.0, f64::max);
    let proposed_best = ["3", "4", "5"].iter().map(|id| lr(id)).fold(0.0, f64::max);
    assert!(
        proposed_best > initial_best,
        "the process proposes a larger rate: {initial_best} -> {proposed_best}"
    );
    let best = tuner.get_best_hyperparameters(1).unwrap();
    assert!(lr_of(&best[0]) > 1e-2, "{}", lr_of(&best[0]));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_missing_objective_fails_the_search_after_three_trials() {
    let dir = tmp("missing");
    let (x, y) = data();
    let mut tuner = RandomSearch::new(build)
        .objective("val_loss")
        .max_trials(5)
        .directory(&dir)
        .overwrite(true);
    let no_val = FitArgs {
        epochs: 1,
        verbose: 0,
        ..Default::default()
    };
    let e = tuner.search(&x, &y, no_val).unwrap_err().to_string();
    assert!(
        e.starts_with("Number of consecutive failures exceeded the limit of 3."),
        "{e}"
    );
    assert!(e.contains("Objective value missing in metrics reported to the Oracle, expected: ['val_loss'], found: dict_keys(['loss'])"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

fn member(units: usize, seed: u64) -> Model {
    keras::utils::set_random_seed(seed);
    Sequential::from_layers([
        Input::new([3]).into(),
        Dense::new(units).activation("tanh").into(),
        Dense::new(2).into(),
    ])
    .unwrap()
    .into_model()
}

#[test]
fn ensembles_average_and_weigh_their_members_and_save() {
    let (a, b) = (member(4, 1), member(6, 2));
    let x = Tensor::from_vec(
        (0..15).map(|i| i as f32 / 7.0 - 1.0).collect::<Vec<f32>>(),
        (5, 3),
        &Device::Cpu,
    )
    .unwrap();
    let quiet = || EvalArgs {
        verbose: 0,
        ..Default::default()
    };
    let pa = a.apply(std::slice::from_ref(&x)).unwrap().remove(0);
    let pb = b.apply(std::slice::from_ref(&x)).unwrap().remove(0);
    let mut avg = keras::models::ensemble(&[a, b], None).unwrap();
    let got: Tensor = avg.predict(&x, quiet()).unwrap();
    let want = ((&pa + &pb).unwrap() / 2.0).unwrap();
    let diff = (got.clone() - &want)
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    assert!(diff < 1e-6, "{diff}");

    let path = std::env::temp_dir().join(format!("keras_rs_ensemble_{}.keras", std::process::id()));
    avg.save(&path).unwrap();
    let mut back = keras::models::load_model(&path).unwrap();
    let again: Tensor = back.predict(&x, quiet()).unwrap();
    let diff = (again - &got)
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    assert!(diff < 1e-6, "{diff}");
    std::fs::remove_file(&path).ok();

    let (c, d) = (member(4, 3), member(6, 4));
    let (pc, pd) = (
        c.apply(std::slice::from_ref(&x)).unwrap().remove(0),
        d.apply(std::slice::from_ref(&x)).unwrap().remove(0),
    );
    let mut weighted = keras::models::ensemble(&[c, d], Some(&[0.25, 0.75])).unwrap();
    let got: Tensor = weighted.predict(&x, quiet()).unwrap();
    let want = ((pc * 0.25).unwrap() + (pd * 0.75).unwrap()).unwrap();
    let diff = (got - want)
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    assert!(diff < 1e-6, "{diff}");
    let e = keras::models::ensemble(&[member(2, 5)], Some(&[0.5, 0.5]))
        .err()
        .unwrap()
        .to_string();
    assert_eq!(
        e,
        "ensemble: expected one weight per model (1 models). Received: weights=[0.5, 0.5]"
    );
}

/// The ensembles' `.keras` files open in Python Keras with the same predictions (skipped
/// without a Python that imports keras, unless `KERAS_RS_REQUIRE_PYTHON=1`).
#[test]
fn ensemble_files_load_in_python_keras() {
    let required = std::env::var("KERAS_RS_REQUIRE_PYTHON").is_ok_and(|v| v == "1");
    let Some(py) = common::keras_python() else {
        assert!(
            !required,
            "KERAS_RS_REQUIRE_PYTHON=1 but no Python with keras was found"
        );
        eprintln!("skipped: no Python with keras");
        return;
    };
    let dir = tmp("ensemble_interop");
    std::fs::create_dir_all(&dir).unwrap();
    let x = Tensor::from_vec(
        (0..12).map(|i| i as f32 / 5.0 - 1.0).collect::<Vec<f32>>(),
        (4, 3),
        &Device::Cpu,
    )
    .unwrap();
    keras::utils::write_npy(dir.join("x.npy"), &x).unwrap();
    let quiet = || EvalArgs {
        verbose: 0,
        ..Default::default()
    };
    for (name, weights) in [("avg", None), ("weighted", Some(&[0.3, 0.7][..]))] {
        let mut m = keras::models::ensemble(&[member(3, 7), member(5, 8)], weights).unwrap();
        let y: Tensor = m.predict(&x, quiet()).unwrap();
        m.save(dir.join(format!("{name}.keras"))).unwrap();
        keras::utils::write_npy(dir.join(format!("{name}.npy")), &y).unwrap();
    }
    let script = r#"
import sys, os, numpy as np, keras
d = sys.argv[1]
x = np.load(os.path.join(d, "x.npy"))
for name in ["avg", "weighted"]:
    m = keras.saving.load_model(os.path.join(d, name + ".keras"))
    got = m.predict(x, verbose=0)
    want = np.load(os.path.join(d, name + ".npy"))
    assert np.allclose(got, want, atol=1e-5), (name, got, want)
    print(name, "ok", [l.__class__.__name__ for l in m.layers])
"#;
    let out = std::process::Command::new(&py)
        .args(["-c", script])
        .arg(&dir)
        .env("KERAS_BACKEND", "jax")
        .env("JAX_PLATFORMS", "cpu")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("avg ok") && text.contains("weighted ok"),
        "{text}"
    );
    assert!(text.contains("Rescaling") && text.contains("Add"), "{text}");
    std::fs::remove_dir_all(&dir).ok();
}

/// A project written here reloads in Python KerasTuner (`keras_tuner.RandomSearch` with the
/// same directory): it reads our `oracle.json` and `trial.json` files, ranks the trials as we
/// do and loads the best checkpoint. Skipped unless the Keras Python also imports
/// `keras_tuner`.
#[test]
fn projects_reload_in_python_keras_tuner() {
    let Some(py) = common::keras_python().filter(|p| {
        std::process::Command::new(p)
            .args(["-c", "import keras_tuner"])
            .env("KERAS_BACKEND", "jax")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    }) else {
        eprintln!("skipped: no Python with keras and keras_tuner");
        return;
    };
    let dir = tmp("kt_reload");
    let (x, y) = data();
    let mut tuner = RandomSearch::new(build)
        .objective("val_loss")
        .max_trials(3)
        .seed(9)
        .directory(&dir)
        .project_name("p")
        .overwrite(true);
    tuner.search(&x, &y, fit_args(2)).unwrap();
    let best = tuner.oracle().unwrap().get_best_trials(1)[0].clone();
    let script = r#"
import sys, keras, keras_tuner as kt
def build(hp):
    lr = hp.Float("lr", 1e-4, 0.3, sampling="log")
    m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    m.compile(keras.optimizers.SGD(lr), "mse")
    return m
t = kt.RandomSearch(build, objective="val_loss", max_trials=3, directory=sys.argv[1], project_name="p")
best = t.oracle.get_best_trials(1)[0]
print("best", best.trial_id, repr(best.score), repr(best.hyperparameters.values["lr"]))
print("weights", len(t.get_best_models(1)[0].get_weights()))
"#;
    let out = std::process::Command::new(&py)
        .args(["-c", script])
        .arg(&dir)
        .env("KERAS_BACKEND", "jax")
        .env("JAX_PLATFORMS", "cpu")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    let want = format!(
        "best {} {} {}",
        best.trial_id,
        keras::tuner::py_float(best.score.unwrap()),
        keras::tuner::py_float(lr_of(&best.hyperparameters))
    );
    assert!(text.contains(&want), "want {want:?} in {text}");
    assert!(text.contains("weights 2"), "{text}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Counts the `fit` runs it sees.
struct CountFits(usize);
impl Callback for CountFits {
    fn on_train_begin(
        &mut self,
        _logs: &mut Logs,
        _ctx: &mut keras::callbacks::CallbackContext,
    ) -> keras::Result<()> {
        self.0 += 1;
        Ok(())
    }
}

#[test]
fn callbacks_see_every_execution_and_executions_are_averaged() {
    let dir = tmp("executions");
    let (x, y) = data();
    let builds = std::cell::Cell::new(0);
    let counting = |hp: &mut HyperParameters| {
        builds.set(builds.get() + 1);
        build(hp)
    };
    let mut tuner = RandomSearch::new(counting)
        .max_trials(2)
        .executions_per_trial(2)
        .seed(13)
        .directory(&dir)
        .overwrite(true);
    let mut count = CountFits(0);
    let args = FitArgs {
        callbacks: vec![&mut count],
        ..fit_args(2)
    };
    tuner.search(&x, &y, args).unwrap();
    assert_eq!(count.0, 4, "2 trials x 2 executions");
    assert_eq!(builds.get(), 1 + 4);
    // The tiny model trains the same way twice, so the mean of the two executions is each.
    let oracle = tuner.oracle().unwrap();
    for t in oracle.trials.values() {
        let (_, h) = t.metrics.iter().find(|(n, _)| n == "val_loss").unwrap();
        assert_eq!(h.observations.len(), 1);
        assert_eq!(Some(h.observations[0].0), t.score);
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bayesian_optimization_with_expected_improvement() {
    let dir = tmp("bayes_ei");
    let (x, y) = data();
    let mut tuner = BayesianOptimization::new(build)
        .objective("val_loss")
        .max_trials(6)
        .num_initial_points(3)
        .acquisition("ei")
        .seed(4)
        .directory(&dir)
        .overwrite(true);
    tuner.search(&x, &y, fit_args(3)).unwrap();
    let best = tuner.get_best_hyperparameters(1).unwrap();
    assert!(lr_of(&best[0]) > 0.1, "{}", lr_of(&best[0]));
    let bad_dir = tmp("bayes_bad");
    let bad = BayesianOptimization::new(build)
        .max_trials(6)
        .num_initial_points(1)
        .acquisition("pi")
        .directory(&bad_dir)
        .overwrite(true)
        .search(&x, &y, fit_args(1));
    let e = bad.err().unwrap().to_string();
    assert_eq!(
        e,
        "BayesianOptimization: unknown acquisition 'pi'. Expected 'ucb' or 'ei'."
    );
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_dir_all(&bad_dir).ok();
}
