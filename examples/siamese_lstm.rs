//! The seeds' siamese LSTM: one LSTM layer shared by a left and a right sequence (one set of
//! weights, two nodes), outputs concatenated, a sigmoid on top. Trained briefly on random
//! sequences labelled by whether their first features agree in sign.
//!
//! `cargo run --release --example siamese_lstm`

use keras::layers::{concatenate, LSTM};
use keras::prelude::*;

fn main() -> keras::Result<()> {
    keras::utils::set_random_seed(4);
    let lstm = LSTM::new(32).into_layer();
    let left_input = Input::new([None, Some(128)]);
    let left_output = lstm.call(&left_input)?;
    let right_input = Input::new([None, Some(128)]);
    let right_output = lstm.call(&right_input)?;
    let merged = concatenate(&[left_output, right_output])?;
    let predictions = Dense::new(1).activation("sigmoid").call(&merged)?;
    let mut model = Model::new(&[left_input, right_input], &[predictions])?;
    model.summary();
    assert_eq!(
        lstm.weights().len(),
        3,
        "one set of weights for both inputs"
    );

    let (n, steps) = (512, 10);
    let left_data = keras::random::normal(&[n, steps, 128])?;
    let right_data = keras::random::normal(&[n, steps, 128])?;
    let a = keras::ops::to_vec_f32(&left_data.narrow(1, 0, 1)?.narrow(2, 0, 1)?)?;
    let b = keras::ops::to_vec_f32(&right_data.narrow(1, 0, 1)?.narrow(2, 0, 1)?)?;
    let targets = keras::ops::from_vec(
        a.iter()
            .zip(&b)
            .map(|(x, y)| ((x * y) > 0.0) as i32 as f32)
            .collect(),
        &[n, 1],
    )?;
    model.compile("rmsprop", "binary_crossentropy", ["acc"])?;
    let h = model.fit(
        vec![left_data, right_data],
        &targets,
        FitArgs::new().epochs(5).batch_size(64),
    )?;
    println!("{h}");
    Ok(())
}
