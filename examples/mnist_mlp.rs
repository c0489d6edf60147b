//! The README's first command: a multilayer perceptron on MNIST, as in the Keras quickstart.
//!
//! Flatten 28x28 -> Dense 128 relu -> Dropout 0.2 -> Dense 10, trained for 5 epochs with Adam
//! on the MNIST copy shipped in `data/`, then evaluated on the test set.
//!
//! ```text
//! cargo run --release --example mnist_mlp
//! ```

use keras::losses::SparseCategoricalCrossentropy;
use keras::prelude::*;

fn main() -> keras::Result<()> {
    keras::utils::set_random_seed(1337);
    let ((x_train, y_train), (x_test, y_test)) = keras::datasets::mnist::load_data()?;
    let x_train = (x_train.to_dtype(DType::F32)? / 255.0)?;
    let x_test = (x_test.to_dtype(DType::F32)? / 255.0)?;

    let mut model = Sequential::from_layers([
        Flatten::new().input_shape([28, 28]).into(),
        Dense::new(128).activation("relu").into(),
        Dropout::new(0.2).into(),
        Dense::new(10).into(),
    ])?;
    model.summary();

    model.compile(
        "adam",
        SparseCategoricalCrossentropy::new().from_logits(true),
        ["accuracy"],
    )?;
    let start = std::time::Instant::now();
    let history = model.fit(&x_train, &y_train, FitArgs::new().epochs(5))?;
    let secs = start.elapsed().as_secs_f64();
    println!("History: {history}");
    println!("params: {:?}, epoch: {:?}", history.params, history.epoch);
    println!("training time: {secs:.1}s ({:.2}s per epoch)", secs / 5.0);

    let logs = model.evaluate(&x_test, &y_test, EvalArgs::quiet())?;
    let acc = logs.get("accuracy").unwrap_or(0.0);
    println!(
        "test loss: {:.4}, test accuracy: {:.4}",
        logs.get("loss").unwrap_or(f64::NAN),
        acc
    );
    if acc < 0.97 {
        return Err(keras::Error::runtime(format!(
            "test accuracy {acc:.4} is below 0.97"
        )));
    }
    Ok(())
}
