//! A convolutional network on MNIST (the shipped copy): Conv2D / BatchNormalization /
//! MaxPooling2D twice, then Dense; 3 epochs reach about 99% test accuracy.
//!
//! `cargo run --release --example mnist_cnn`

use keras::layers::{BatchNormalization, Conv2D, MaxPooling2D};
use keras::prelude::*;

fn main() -> keras::Result<()> {
    keras::utils::set_random_seed(42);
    let ((x_train, y_train), (x_test, y_test)) = keras::datasets::mnist::load_data()?;
    let x_train = (x_train.to_dtype(DType::F32)? / 255.0)?.unsqueeze(3)?;
    let x_test = (x_test.to_dtype(DType::F32)? / 255.0)?.unsqueeze(3)?;

    let mut model = Sequential::from_layers([
        Input::new([28, 28, 1]).into(),
        Conv2D::new(32, 3).activation("relu").into(),
        BatchNormalization::new().into(),
        MaxPooling2D::new(2).into(),
        Conv2D::new(64, 3).activation("relu").into(),
        BatchNormalization::new().into(),
        MaxPooling2D::new(2).into(),
        Flatten::new().into(),
        Dropout::new(0.25).into(),
        Dense::new(10).activation("softmax").into(),
    ])?;
    model.summary();
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])?;
    let start = std::time::Instant::now();
    let history = model.fit(&x_train, &y_train, FitArgs::new().epochs(3).batch_size(64))?;
    println!("History: {history}");
    println!("training time: {:.1}s", start.elapsed().as_secs_f64());
    let logs = model.evaluate(&x_test, &y_test, EvalArgs::quiet())?;
    let acc = logs.get("accuracy").unwrap_or(0.0);
    println!(
        "test loss: {:.4}, test accuracy: {acc:.4}",
        logs.get("loss").unwrap_or(f64::NAN)
    );
    if acc < 0.985 {
        return Err(keras::Error::runtime(format!(
            "test accuracy {acc:.4} is below 0.985"
        )));
    }
    Ok(())
}
