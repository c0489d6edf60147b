//! Every learning-rate schedule against Keras 3.15.1 (tests/fixtures/make_optimizers.py):
//! its values at steps 0..=1000 and its config, from Keras's config and from the builders.

mod common;

use common::Fixture;
use keras::optimizers::schedules::{self, *};
use keras::serialization::Value;

fn meta() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/optimizers_keras.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn check_values(name: &str, s: &dyn LearningRateSchedule, f: &Fixture) {
    let want = f.f32(name);
    assert_eq!(want.len(), 1001, "{name}");
    for (step, w) in want.iter().enumerate() {
        let got = s.call(step as u64);
        let w = *w as f64;
        // Relative 1e-6, or 1e-8 absolute for rates below 0.01 (near a cosine's minimum,
        // `1 + cos` cancels and float32 cosines one ulp apart differ by more than 1e-6).
        assert!(
            (got - w).abs() <= 1e-6 * w.abs().max(1e-2),
            "{name} at step {step}: {got} vs Keras {w}"
        );
    }
}

#[test]
fn schedules_match_keras_over_1000_steps() {
    let m = meta();
    let f = Fixture::load("schedules_keras.npz");
    let all = m["schedules"].as_object().unwrap();
    assert_eq!(all.len(), 13);
    for (name, config) in all {
        let s = schedules::deserialize(config).unwrap_or_else(|e| panic!("{name}: {e}"));
        check_values(name, s.as_ref(), &f);
        assert_eq!(&s.get_config(), config, "{name}: config");
    }
}

#[test]
fn builders_match_keras() {
    let m = meta();
    let f = Fixture::load("schedules_keras.npz");
    let built: Vec<(&str, Box<dyn LearningRateSchedule>)> = vec![
        (
            "exponential",
            Box::new(ExponentialDecay::new(0.1, 100, 0.96).unwrap()),
        ),
        (
            "exponential_staircase",
            Box::new(ExponentialDecay::new(0.5, 70, 0.5).unwrap().staircase(true)),
        ),
        (
            "piecewise",
            Box::new(
                PiecewiseConstantDecay::new(&[100.0, 250.0, 600.0], &[1.0, 0.5, 0.1, 0.01])
                    .unwrap(),
            ),
        ),
        (
            "polynomial",
            Box::new(
                PolynomialDecay::new(0.1, 800)
                    .unwrap()
                    .end_learning_rate(0.001)
                    .power(0.5),
            ),
        ),
        (
            "polynomial_cycle",
            Box::new(
                PolynomialDecay::new(0.1, 300)
                    .unwrap()
                    .power(2.0)
                    .cycle(true),
            ),
        ),
        (
            "inverse_time",
            Box::new(InverseTimeDecay::new(0.1, 50, 0.5).unwrap()),
        ),
        (
            "inverse_time_staircase",
            Box::new(InverseTimeDecay::new(0.1, 50, 0.5).unwrap().staircase(true)),
        ),
        (
            "cosine",
            Box::new(CosineDecay::new(0.1, 700).unwrap().alpha(0.1)),
        ),
        (
            "cosine_warmup",
            Box::new(CosineDecay::new(0.0, 600).unwrap().warmup(0.2, 200)),
        ),
        (
            "cosine_warmup_alpha",
            Box::new(
                CosineDecay::new(0.01, 500)
                    .unwrap()
                    .alpha(0.05)
                    .warmup(0.1, 100)
                    .name("warm"),
            ),
        ),
        (
            "cosine_restarts",
            Box::new(CosineDecayRestarts::new(0.1, 100).unwrap()),
        ),
        (
            "cosine_restarts_mul",
            Box::new(
                CosineDecayRestarts::new(0.1, 60)
                    .unwrap()
                    .t_mul(1.0)
                    .m_mul(0.8)
                    .alpha(0.1),
            ),
        ),
        (
            "cosine_restarts_t3",
            Box::new(
                CosineDecayRestarts::new(0.2, 50)
                    .unwrap()
                    .t_mul(3.0)
                    .m_mul(0.5),
            ),
        ),
    ];
    for (name, s) in built {
        check_values(name, s.as_ref(), &f);
        assert_eq!(s.get_config(), m["schedules"][name], "{name}: config");
    }
}

/// An optimizer with a schedule uses the schedule's value at its step counter (the
/// `*_schedule` optimizer cases check the updates themselves).
#[test]
fn optimizers_follow_their_schedule() {
    use keras::prelude::*;
    let opt = SGD::new().learning_rate(PiecewiseConstantDecay::new(&[1.0], &[0.5, 0.1]).unwrap());
    assert_eq!(opt.get_learning_rate(), 0.5);
    let mut opt: Box<dyn Optimizer> = Box::new(opt);
    opt.set_iterations(2);
    assert_eq!(opt.get_learning_rate(), 0.1f32 as f64);
    let c = opt.get_config();
    assert_eq!(
        c["config"]["learning_rate"]["class_name"],
        "PiecewiseConstantDecay"
    );
    let again = keras::optimizers::from_config(&c).unwrap();
    assert_eq!(again.get_config(), c);
}
