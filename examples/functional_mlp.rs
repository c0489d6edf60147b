//! The seeds' functional MLP: Input 784 -> Dense 64 relu -> Dense 64 relu -> Dense 10 softmax,
//! trained briefly on MNIST (a slice of it), with RMSprop and one-hot labels.
//!
//! `cargo run --release --example functional_mlp`

use keras::prelude::*;

fn main() -> keras::Result<()> {
    keras::utils::set_random_seed(7);
    let inputs = Input::new([784]);
    let x = Dense::new(64).activation("relu").call(&inputs)?;
    let x = Dense::new(64).activation("relu").call(&x)?;
    let predictions = Dense::new(10).activation("softmax").call(&x)?;
    let mut model = Model::new(&[inputs], &[predictions])?;
    model.summary();
    assert_eq!(model.count_params(), 55_050);

    let ((x_train, y_train), (x_test, y_test)) = keras::datasets::mnist::load_data()?;
    let n = 12_000;
    let data = (x_train
        .narrow(0, 0, n)?
        .reshape((n, 784))?
        .to_dtype(DType::F32)?
        / 255.0)?;
    let labels = keras::utils::to_categorical(&y_train.narrow(0, 0, n)?, Some(10))?;
    model.compile("rmsprop", "categorical_crossentropy", ["accuracy"])?;
    let history = model.fit(&data, &labels, FitArgs::new().batch_size(32).epochs(5))?;
    println!("{history}");

    let x_test = (x_test.reshape((10_000, 784))?.to_dtype(DType::F32)? / 255.0)?;
    let y_test = keras::utils::to_categorical(&y_test, Some(10))?;
    let logs = model.evaluate(&x_test, &y_test, EvalArgs::quiet())?;
    println!("test: {logs}");
    Ok(())
}
