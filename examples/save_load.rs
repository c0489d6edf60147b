//! Saving and loading, the Keras way: train a small MNIST model, `model.save("….keras")`,
//! list what the archive holds, load it back with `load_model`, check that the loaded model
//! predicts the same numbers, then resume training where it stopped (the optimizer's state is
//! in the file). The same file opens in Python Keras 3 with `keras.saving.load_model`.
//!
//! ```text
//! cargo run --release --example save_load [-- out_dir]
//! ```

use keras::layers::{Conv2D, MaxPooling2D};
use keras::losses::SparseCategoricalCrossentropy;
use keras::prelude::*;

fn main() -> keras::Result<()> {
    keras::utils::set_random_seed(7);
    let dir = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&dir)
        .map_err(|e| keras::Error::io("cannot create the output folder", e))?;
    let ((x_train, y_train), (x_test, y_test)) = keras::datasets::mnist::load_data()?;
    let x_train = (x_train.narrow(0, 0, 20_000)?.to_dtype(DType::F32)? / 255.0)?;
    let y_train = y_train.narrow(0, 0, 20_000)?;
    let x_test = (x_test.to_dtype(DType::F32)? / 255.0)?;

    let inputs = Input::shape([28, 28]).name("digits").build();
    let x = Reshape::new([28, 28, 1]).call(&inputs)?;
    let x = Conv2D::new(16, 3).activation("relu").call(&x)?;
    let x = MaxPooling2D::new(2).call(&x)?;
    let x = Flatten::new().call(&x)?;
    let x = Dense::new(64).activation("relu").call(&x)?;
    let x = Dropout::new(0.2).call(&x)?;
    let outputs = Dense::new(10).name("logits").call(&x)?;
    let mut model = Model::new(&[inputs], &[outputs])?.name("mnist_small");
    model.compile(
        Adam::new().learning_rate(2e-3),
        SparseCategoricalCrossentropy::new().from_logits(true),
        ["accuracy"],
    )?;
    let args = |epochs, initial_epoch| {
        FitArgs::new()
            .epochs(epochs)
            .initial_epoch(initial_epoch)
            .batch_size(64)
            .verbose(2)
    };
    model.fit(&x_train, &y_train, args(1, 0))?;

    let path = dir.join("mnist_small.keras");
    model.save(&path)?;
    println!("saved {}:", path.display());
    for (name, size) in keras::saving::list_archive(&path)? {
        println!("  {name:<18} {size:>9} bytes");
    }

    let mut restored = keras::models::load_model(&path)?;
    restored.summary();
    let a: Tensor = model.predict(&x_test, EvalArgs::quiet())?;
    let b: Tensor = restored.predict(&x_test, EvalArgs::quiet())?;
    let diff = (a - b)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()?;
    println!("largest prediction difference, original vs loaded: {diff:e}");
    assert!(
        diff == 0.0,
        "the loaded model must predict the same numbers"
    );
    let steps = restored.optimizer().map(|o| o.iterations()).unwrap_or(0);
    println!("optimizer restored at iteration {steps}; resuming training");

    restored.fit(&x_train, &y_train, args(3, 1))?;
    let logs = restored.evaluate(&x_test, &y_test, EvalArgs::quiet())?;
    println!(
        "after resuming: test loss {:.4}, test accuracy {:.4}",
        logs.get("loss").unwrap_or(f64::NAN),
        logs.get("accuracy").unwrap_or(0.0)
    );
    restored.save(&path)?;
    println!(
        "saved again to {} (written to a temporary file, then renamed)",
        path.display()
    );
    Ok(())
}
