//! Hyperparameter search and a model ensemble on MNIST, as the functional-API chapter
//! recommends: KerasTuner's `RandomSearch` over the hidden units, the dropout rate and a
//! log-scaled learning rate (a small budget: 5,000 training images, 2 epochs, 6 trials), the
//! results summary, then an ensemble of the three best models against the best one alone on
//! the 10,000 test images.
//!
//! ```text
//! cargo run --release --example tuner
//! ```

use keras::prelude::*;
use keras::tuner::{Float, HyperParameters, Int, RandomSearch};

fn build_model(hp: &mut HyperParameters) -> keras::Result<Model> {
    let units = hp.int_with(Int::new("units", 32, 256).step(32))? as usize;
    let dropout = hp.float_with(Float::new("dropout", 0.0, 0.5).step(0.1))?;
    let lr = hp.float_with(Float::new("learning_rate", 1e-4, 1e-2).sampling("log"))?;
    let mut model = Sequential::from_layers([
        Input::new([784]).into(),
        Dense::new(units).activation("relu").into(),
        Dropout::new(dropout).into(),
        Dense::new(10).activation("softmax").into(),
    ])?
    .into_model();
    model.compile(
        Adam::new().learning_rate(lr),
        "sparse_categorical_crossentropy",
        ["accuracy"],
    )?;
    Ok(model)
}

fn accuracy(model: &mut Model, x: &Tensor, y: &Tensor) -> keras::Result<f64> {
    let quiet = EvalArgs::quiet();
    Ok(model
        .evaluate(x, y, quiet)?
        .get("accuracy")
        .unwrap_or(f64::NAN))
}

fn main() -> keras::Result<()> {
    keras::utils::set_random_seed(7);
    let ((x_train, y_train), (x_test, y_test)) = keras::datasets::mnist::load_data()?;
    let flat = |x: &Tensor, n: usize| -> keras::Result<Tensor> {
        Ok((x.narrow(0, 0, n)?.reshape((n, 784))?.to_dtype(DType::F32)? / 255.0)?)
    };
    let (x_train, y_train) = (flat(&x_train, 5000)?, y_train.narrow(0, 0, 5000)?);
    let (x_test, y_test) = (flat(&x_test, 10000)?, y_test);

    let directory = std::env::temp_dir().join("keras_rs_tuner_example");
    let mut tuner = RandomSearch::new(build_model)
        .objective("val_accuracy")
        .max_trials(6)
        .seed(1)
        .directory(&directory)
        .project_name("mnist")
        .overwrite(true);
    tuner.search_space_summary()?;
    let start = std::time::Instant::now();
    tuner.search(
        &x_train,
        &y_train,
        FitArgs::new().epochs(2).validation_split(0.2).verbose(1),
    )?;
    println!("search time: {:.1}s\n", start.elapsed().as_secs_f64());
    tuner.results_summary(3)?;

    let mut best = tuner.get_best_models(3)?;
    let mut singles = vec![];
    for m in best.iter_mut() {
        singles.push(accuracy(m, &x_test, &y_test)?);
    }
    let mut ensemble = keras::models::ensemble(&best, None)?;
    ensemble.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])?;
    let ens = accuracy(&mut ensemble, &x_test, &y_test)?;
    println!();
    for (i, a) in singles.iter().enumerate() {
        println!(
            "model {} (trial rank {}): test accuracy {a:.4}",
            i + 1,
            i + 1
        );
    }
    println!("ensemble of the 3 best: test accuracy {ens:.4}");
    println!(
        "the ensemble {} the best single model on the test set ({ens:.4} vs {:.4})",
        if ens > singles[0] {
            "beats"
        } else {
            "does not beat"
        },
        singles[0]
    );
    let path = directory.join("ensemble.keras");
    ensemble.save(&path)?;
    println!("saved {}", path.display());
    Ok(())
}
