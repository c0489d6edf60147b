//! Every optimizer against Keras 3.15.1 (tests/fixtures/make_optimizers.py, JAX, float32): the
//! first five updates of three variables from fixed gradients (defaults, clipnorm, clipvalue,
//! global_clipnorm, weight decay, EMA with overwrites, gradient accumulation, a schedule, a
//! loss-scale factor, each class's own options, LossScaleOptimizer skipping a non-finite
//! step), the optimizer variables Keras holds afterwards (values and layout), `get_config`
//! (from configs and from the builders), and the argument errors.

mod common;

use common::{assert_close_vec, Fixture};
use keras::engine::Weight;
use keras::ops::{self, Tensor};
use keras::optimizers::{self, schedules::ExponentialDecay, Optimizer};
use keras::prelude::*;
use keras::serialization::Value;

fn meta() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/optimizers_keras.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn variables(m: &Value, f: &Fixture) -> Vec<Weight> {
    m["vars"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let name = v[0].as_str().unwrap();
            Weight::new(name, name, f.get(&format!("init__{name}")), true, None).unwrap()
        })
        .collect()
}

fn flat(ts: &[Tensor]) -> Vec<f64> {
    ts.iter()
        .flat_map(|t| ops::to_vec_f64(&t.to_dtype(DType::F64).unwrap()).unwrap())
        .collect()
}

/// The optimizer a case describes, from Keras's serialized config.
fn from_case(case: &Value) -> Box<dyn Optimizer> {
    optimizers::from_config(&case["config"]).unwrap()
}

fn run_case(name: &str, case: &Value, m: &Value, f: &Fixture, mut opt: Box<dyn Optimizer>) {
    let ws = variables(m, f);
    let prefix = if f.has(&format!("{name}__grad__0__kernel")) {
        format!("{name}__grad")
    } else {
        "grad".to_string()
    };
    let want = f.get(name);
    for step in 0..5 {
        let gv: Vec<(Tensor, Weight)> = ws
            .iter()
            .map(|w| (f.get(&format!("{prefix}__{step}__{}", w.name())), w.clone()))
            .collect();
        opt.apply_gradients(&gv)
            .unwrap_or_else(|e| panic!("{name} step {step}: {e}"));
        let got = flat(&ws.iter().map(|w| w.numpy().unwrap()).collect::<Vec<_>>());
        let row = ops::to_vec_f64(&want.get(step).unwrap()).unwrap();
        assert_close_vec(&format!("{name} after step {}", step + 1), &got, &row, 1e-6);
    }
    assert_eq!(
        opt.iterations(),
        case["iterations"].as_u64().unwrap(),
        "{name}: iterations"
    );
    // The optimizer's variables: Keras's layout (count and shapes) and values.
    let state = opt.save_own_variables(&ws).unwrap();
    let layout = case["variables"].as_array().unwrap();
    assert_eq!(state.len(), layout.len(), "{name}: {layout:?}");
    for (i, (t, v)) in state.iter().zip(layout).enumerate() {
        let shape: Vec<usize> = v[1]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(t.dims(), shape.as_slice(), "{name}: variable {i} {v}");
    }
    assert_close_vec(
        &format!("{name}: optimizer variables"),
        &flat(&state),
        &ops::to_vec_f64(&f.get(&format!("{name}__state"))).unwrap(),
        1e-6,
    );
}

fn with_exclusions(case: &Value, opt: Box<dyn Optimizer>) -> Box<dyn Optimizer> {
    let mut opt = opt;
    if let Some(names) = case["exclude"].as_array() {
        opt.base_mut().exclude_from_weight_decay = names
            .iter()
            .map(|n| n.as_str().unwrap().to_string())
            .collect();
    }
    opt
}

#[test]
fn every_optimizer_takes_keras_five_steps() {
    let m = meta();
    let f = Fixture::load("optimizers_keras.npz");
    let cases = m["cases"].as_object().unwrap();
    assert!(cases.len() > 130, "{} cases", cases.len());
    for (name, case) in cases {
        run_case(name, case, &m, &f, with_exclusions(case, from_case(case)));
    }
}

/// Numbers equal within 1e-6 (relative), everything else exactly; the same keys both ways.
fn same(path: &str, ours: &Value, keras: &Value, problems: &mut Vec<String>) {
    match (ours, keras) {
        (Value::Object(o), Value::Object(k)) => {
            for key in o.keys().chain(k.keys()) {
                match (o.get(key), k.get(key)) {
                    (Some(a), Some(b)) => same(&format!("{path}.{key}"), a, b, problems),
                    (a, b) => problems.push(format!("{path}.{key}: ours {a:?}, Keras {b:?}")),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                same(&format!("{path}[{i}]"), x, y, problems);
            }
        }
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            if (a - b).abs() > 1e-6 * b.abs().max(1e-30) {
                problems.push(format!("{path}: {a} vs Keras {b}"));
            }
        }
        (a, b) if a == b => {}
        (a, b) => problems.push(format!("{path}: {a} vs Keras {b}")),
    }
}

fn assert_same(what: &str, ours: &Value, keras: &Value) {
    let mut problems = vec![];
    same(what, ours, keras, &mut problems);
    assert!(problems.is_empty(), "{what}: {problems:#?}");
}

#[test]
fn configs_round_trip_through_from_config() {
    let m = meta();
    for (name, case) in m["cases"].as_object().unwrap() {
        let ours = from_case(case).get_config();
        assert_same(name, &ours, &case["config"]);
    }
    for (class, config) in m["defaults"].as_object().unwrap() {
        let ours = optimizers::from_config(config).unwrap().get_config();
        assert_same(class, &ours, config);
    }
}

#[test]
fn defaults_and_builders_give_keras_configs() {
    let m = meta();
    // `get` by lower-case name: Keras's defaults.
    for (class, config) in m["defaults"].as_object().unwrap() {
        if class == "LossScaleOptimizer" {
            continue;
        }
        let mut opt = optimizers::get(&class.to_lowercase()).unwrap();
        assert_eq!(opt.class_name(), class);
        opt.base_mut().name = class.to_lowercase();
        assert_same(class, &opt.get_config(), config);
    }
    // Builders, against the same options given to Keras.
    let cases = &m["cases"];
    let named = |mut o: Box<dyn Optimizer>, case: &str| {
        o.base_mut().name = cases[case]["config"]["config"]["name"]
            .as_str()
            .unwrap()
            .to_string();
        o
    };
    let built: Vec<(&str, Box<dyn Optimizer>)> = vec![
        (
            "sgd_nesterov",
            Box::new(
                SGD::new()
                    .learning_rate(0.1)
                    .momentum(0.9)
                    .nesterov(true)
                    .weight_decay(0.05),
            ),
        ),
        (
            "adam_amsgrad",
            Box::new(Adam::new().learning_rate(0.01).amsgrad(true).beta_1(0.8)),
        ),
        (
            "rmsprop_centered",
            Box::new(
                RMSprop::new()
                    .learning_rate(0.01)
                    .momentum(0.5)
                    .centered(true),
            ),
        ),
        (
            "ftrl_reg",
            Box::new(
                Ftrl::new()
                    .learning_rate(0.1)
                    .l1_regularization_strength(0.01)
                    .l2_regularization_strength(0.1)
                    .l2_shrinkage_regularization_strength(0.05)
                    .beta(0.5)
                    .learning_rate_power(-0.7)
                    .initial_accumulator_value(0.2),
            ),
        ),
        (
            "muon_plain",
            Box::new(
                Muon::new()
                    .learning_rate(0.01)
                    .nesterov(false)
                    .rms_rate(None)
                    .ns_steps(3)
                    .adam_lr_ratio(0.5)
                    .momentum(0.8),
            ),
        ),
        (
            "adafactor_absolute",
            Box::new(
                Adafactor::new()
                    .learning_rate(0.01)
                    .relative_step(false)
                    .clip_threshold(0.5)
                    .beta_2_decay(-0.5),
            ),
        ),
        (
            "adam_accumulation_ema_schedule",
            Box::new(
                Adam::new()
                    .learning_rate(ExponentialDecay::new(0.01, 2, 0.5).unwrap())
                    .gradient_accumulation_steps(2)
                    .use_ema(true)
                    .ema_momentum(0.5),
            ),
        ),
        (
            "adamw_weight_decay",
            Box::new(AdamW::new().learning_rate(0.01).weight_decay(0.1)),
        ),
        (
            "nadam_ema",
            Box::new(
                Nadam::new()
                    .learning_rate(0.01)
                    .use_ema(true)
                    .ema_momentum(0.9)
                    .ema_overwrite_frequency(2),
            ),
        ),
        (
            "lion_loss_scale_factor",
            Box::new(Lion::new().learning_rate(0.01).loss_scale_factor(4.0)),
        ),
        (
            "adagrad_global_clipnorm",
            Box::new(Adagrad::new().learning_rate(0.1).global_clipnorm(0.8)),
        ),
        (
            "adadelta_clipvalue",
            Box::new(Adadelta::new().learning_rate(1.0).clipvalue(0.3)),
        ),
        (
            "adamax_clipnorm",
            Box::new(Adamax::new().learning_rate(0.01).clipnorm(0.5)),
        ),
        (
            "lamb_betas",
            Box::new(Lamb::new().learning_rate(0.01).beta_1(0.5).epsilon(1e-3)),
        ),
    ];
    let f = Fixture::load("optimizers_keras.npz");
    for (case, opt) in built {
        let opt = named(opt, case);
        assert_same(case, &opt.get_config(), &cases[case]["config"]);
        // And the builder's optimizer takes Keras's steps too.
        run_case(case, &cases[case], &m, &f, opt);
    }
    let lso = optimizers::LossScaleOptimizer::new(
        SGD::new()
            .learning_rate(0.1)
            .momentum(0.5)
            .with_name("inner_sgd"),
    )
    .initial_scale(8.0)
    .dynamic_growth_steps(2)
    .with_name("lso");
    assert_same(
        "loss_scale",
        &lso.get_config(),
        &cases["loss_scale"]["config"],
    );
    run_case("loss_scale", &cases["loss_scale"], &m, &f, Box::new(lso));
}

#[test]
fn bad_arguments_are_clear_errors() {
    let check = |opt: Box<dyn Optimizer>, want: &str| {
        let e = opt.validate().unwrap_err().to_string();
        assert!(e.contains(want), "{e}\nwanted: {want}");
    };
    check(
        Box::new(SGD::new().learning_rate(-0.1)),
        "SGD: `learning_rate` must be a finite number >= 0. Received: learning_rate=-0.1",
    );
    check(
        Box::new(Adam::new().weight_decay(-1.0)),
        "Adam: `weight_decay` must be >= 0 or None. Received: weight_decay=-1.0",
    );
    check(
        Box::new(Adam::new().use_ema(true).ema_momentum(1.5)),
        "`ema_momentum` must be in the range [0, 1]. Received: ema_momentum=1.5",
    );
    check(
        Box::new(Adam::new().use_ema(true).ema_overwrite_frequency(0)),
        "`ema_overwrite_frequency` must be an integer >= 1 or None",
    );
    check(
        Box::new(Nadam::new().gradient_accumulation_steps(1)),
        "`gradient_accumulation_steps` must be an integer >= 2. Received: gradient_accumulation_steps=1",
    );
    check(
        Box::new(RMSprop::new().clipnorm(1.0).clipvalue(0.5)),
        "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: clipnorm=1.0, clipvalue=0.5, global_clipnorm=None",
    );
    check(
        Box::new(SGD::new().momentum(1.5)),
        "SGD: `momentum` must be a float between [0, 1]. Received: momentum=1.5",
    );
    check(
        Box::new(Lion::new().beta_1(0.0)),
        "Lion: Argument `beta_1` must be in the [0, 1] range",
    );
    check(
        Box::new(Ftrl::new().learning_rate_power(0.5)),
        "Ftrl: `learning_rate_power` needs to be negative or zero. Received: learning_rate_power=0.5.",
    );
    let mut adamw = AdamW::new();
    adamw.base_mut().weight_decay = None;
    check(
        Box::new(adamw),
        "AdamW: Argument `weight_decay` must be a float. Received: weight_decay=None",
    );
    // The errors reach compile and apply_gradients, and configs.
    let mut m = Sequential::from_layers([Input::new([2]).into(), Dense::new(1).into()]).unwrap();
    let e = m
        .compile(SGD::new().learning_rate(-1.0), "mse", ())
        .unwrap_err()
        .to_string();
    assert!(e.contains("learning_rate=-1.0"), "{e}");
    let w = Weight::new(
        "w",
        "w",
        Tensor::new(&[1f32], &Device::Cpu).unwrap(),
        true,
        None,
    )
    .unwrap();
    let g = Tensor::new(&[1f32], &Device::Cpu).unwrap();
    let e = SGD::new()
        .momentum(2.0)
        .apply_gradients(&[(g.clone(), w.clone())])
        .unwrap_err()
        .to_string();
    assert!(e.contains("momentum=2.0"), "{e}");
    let bad_shape = Tensor::new(&[1f32, 2.0], &Device::Cpu).unwrap();
    let e = Adam::new()
        .apply_gradients(&[(bad_shape, w.clone())])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("gradient of shape [2] for variable 'w' of shape [1]"),
        "{e}"
    );
    let e = optimizers::from_config(&serde_json::json!({
        "class_name": "Nadam", "config": {"learning_rate": 0.1, "betta_1": 0.5}}))
    .err()
    .unwrap()
    .to_string();
    assert!(
        e.contains("Nadam: Argument(s) not recognized: {'betta_1': 0.5}"),
        "{e}"
    );
    let e = optimizers::from_config(&serde_json::json!({
        "class_name": "Adamm", "config": {}}))
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("'Adamm'") && e.contains("'Adam'"), "{e}");
    let e = optimizers::from_config(&serde_json::json!({
        "class_name": "SGD", "config": {"momentum": 3.0}}))
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("momentum=3.0"), "{e}");
    let e = optimizers::get("adamw2").err().unwrap().to_string();
    assert!(
        e.contains("Could not interpret optimizer identifier: adamw2. Did you mean 'adamw'")
            && e.contains("rmsprop, sgd"),
        "{e}"
    );
    // A schedule's learning rate is not settable (Keras's TypeError); a float one is.
    let mut opt = Adam::new().learning_rate(ExponentialDecay::new(0.1, 10, 0.5).unwrap());
    let e = opt.try_set_learning_rate(0.5).unwrap_err().to_string();
    assert!(e.contains("hence its learning rate is not settable"), "{e}");
    assert_eq!(opt.get_learning_rate(), 0.1f32 as f64);
    let mut opt = Adam::new();
    opt.try_set_learning_rate(0.5).unwrap();
    assert_eq!(opt.get_learning_rate(), 0.5);
}

#[test]
fn names_are_case_insensitive_and_every_class_is_registered() {
    let names = optimizers::names();
    for class in [
        "Adadelta",
        "Adafactor",
        "Adagrad",
        "Adam",
        "AdamW",
        "Adamax",
        "Ftrl",
        "Lamb",
        "Lion",
        "LossScaleOptimizer",
        "Muon",
        "Nadam",
        "RMSprop",
        "SGD",
    ] {
        assert!(names.iter().any(|n| n == class), "{class} in {names:?}");
    }
    for (name, class) in [("rmsprop", "RMSprop"), ("ADAMW", "AdamW"), ("sgd", "SGD")] {
        assert_eq!(optimizers::get(name).unwrap().class_name(), class);
    }
    // Keras's deserialize accepts a lower-case class name too.
    let o =
        optimizers::from_config(&serde_json::json!({"class_name": "nadam", "config": {}})).unwrap();
    assert_eq!(o.class_name(), "Nadam");
    // Default names are Keras's: snake case, made unique.
    let a = Adam::new();
    let b = Adam::new();
    assert!(
        a.name().starts_with("adam") && a.name() != b.name(),
        "{} {}",
        a.name(),
        b.name()
    );
    assert!(RMSprop::new().name().starts_with("rm_sprop"));
    assert!(AdamW::new().name().starts_with("adam_w"));
}

#[test]
fn ema_finalize_and_loss_scaling() {
    let w = Weight::new(
        "w",
        "w",
        Tensor::new(&[1f32, 2.0], &Device::Cpu).unwrap(),
        true,
        None,
    )
    .unwrap();
    let g = Tensor::new(&[1f32, -1.0], &Device::Cpu).unwrap();
    let mut opt = SGD::new()
        .learning_rate(0.1)
        .use_ema(true)
        .ema_momentum(0.5);
    for _ in 0..3 {
        opt.apply_gradients(&[(g.clone(), w.clone())]).unwrap();
    }
    // Weights 0.9, 0.8, 0.7; averages 0.9, 0.85, 0.775 (the first update copies).
    let avg = opt.variables_for(&w).unwrap()[0].to_vec1::<f32>().unwrap();
    assert!((avg[0] - 0.775).abs() < 1e-6, "{avg:?}");
    opt.finalize_variable_values(std::slice::from_ref(&w))
        .unwrap();
    assert!((w.numpy().unwrap().to_vec1::<f32>().unwrap()[0] - 0.775).abs() < 1e-6);
    // loss_scale_factor: the loss is multiplied, the gradient divided.
    let opt = Adam::new().loss_scale_factor(8.0);
    let loss = opt
        .scale_loss(&Tensor::new(2f32, &Device::Cpu).unwrap())
        .unwrap();
    assert_eq!(loss.to_scalar::<f32>().unwrap(), 16.0);
}
