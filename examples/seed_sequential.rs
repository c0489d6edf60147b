//! The seeds' Sequential models, with the summaries Keras prints for them.
//!
//! ```text
//! cargo run --release --example seed_sequential
//! ```
//!
//! - 64 -> Dense 32 relu -> Dense 32 relu -> Dense 10 softmax (Total params: 3,466), built with
//!   `add` and the first layer's `input_shape`, then the same network with the functional API;
//! - 784 -> Dense 64 -> Dense 32 -> Dense 10 (Total params: 52,650), from a list of layers.
//!
//! - 784 -> Dense 64 -> Dropout 0.5 -> Dense 32 -> BatchNormalization -> Dense 10 (52,778
//!   parameters, 64 of them non-trainable: the moving statistics).

use keras::layers::BatchNormalization;
use keras::prelude::*;

fn main() -> keras::Result<()> {
    // seed 000: Sequential built layer by layer.
    let mut seq_model = Sequential::new();
    seq_model.add(Dense::new(32).activation("relu").input_shape([64]))?;
    seq_model.add(Dense::new(32).activation("relu"))?;
    seq_model.add(Dense::new(10).activation("softmax"))?;
    seq_model.summary();
    check(seq_model.count_params(), 3_466)?;

    // seed 000: the same network with the functional API.
    let input_tensor = Input::new([64]);
    let x = Dense::new(32).activation("relu").call(&input_tensor)?;
    let x = Dense::new(32).activation("relu").call(&x)?;
    let output_tensor = Dense::new(10).activation("softmax").call(&x)?;
    let model = Model::new(&[input_tensor], &[output_tensor])?;
    model.summary();
    check(model.count_params(), 3_466)?;

    // seed 004: Sequential from a list of layers.
    let model = Sequential::from_layers([
        Dense::new(64).activation("relu").input_shape([784]).into(),
        Dense::new(32).activation("relu").into(),
        Dense::new(10).activation("softmax").into(),
    ])?;
    model.summary();
    check(model.count_params(), 52_650)?;

    // seed 004: with Dropout and BatchNormalization.
    let mut model = Sequential::new();
    model.add(Dense::new(64).activation("relu").input_shape([784]))?;
    model.add(Dropout::new(0.5))?;
    model.add(Dense::new(32).activation("relu"))?;
    model.add(BatchNormalization::new())?;
    model.add(Dense::new(10).activation("softmax"))?;
    model.summary();
    check(model.count_params(), 52_778)?;
    check(
        model
            .non_trainable_weights()
            .iter()
            .map(|w| w.numel())
            .sum(),
        64,
    )?;

    // seed 001: add, then pop.
    let mut model = Sequential::new();
    model.add(Flatten::new().input_shape([28, 28]))?;
    model.add(Dense::new(128).activation("relu"))?;
    model.add(Dense::new(10))?;
    let popped = model.pop()?;
    println!(
        "popped {} ({}); {} layers left",
        popped.name(),
        popped.class_name(),
        model.layers().len()
    );
    model.summary();
    check(model.count_params(), 100_480)?;
    Ok(())
}

fn check(got: usize, want: usize) -> keras::Result<()> {
    if got != want {
        return Err(keras::Error::runtime(format!(
            "expected {want} parameters, got {got}"
        )));
    }
    Ok(())
}
