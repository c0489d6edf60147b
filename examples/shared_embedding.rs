//! The seeds' shared layer: one Embedding layer used on two inputs, so both branches learn one
//! table; then an LSTM per branch, as in the seeds.
//!
//! `cargo run --release --example shared_embedding`

use keras::layers::{self, Embedding, LSTM};
use keras::prelude::*;

fn main() -> keras::Result<()> {
    keras::utils::set_random_seed(4);
    let shared_embedding = Embedding::new(1000, 64).into_layer();
    let input_a = Input::shape([10]).dtype(DType::I32).name("input_a").build();
    let input_b = Input::shape([10]).dtype(DType::I32).name("input_b").build();
    // Both inputs go through the same layer: one set of weights, two nodes.
    let embedded_a = shared_embedding.call(&input_a)?;
    let embedded_b = shared_embedding.call(&input_b)?;
    let x_a = LSTM::new(32).call(&embedded_a)?;
    let x_b = LSTM::new(32).call(&embedded_b)?;
    let merged = layers::concatenate(&[x_a, x_b])?;
    let outputs = Dense::new(1).activation("sigmoid").call(&merged)?;
    let mut model = Model::new(&[input_a, input_b], &[outputs])?;
    model.summary();
    println!(
        "the embedding has {} nodes and {} weight",
        shared_embedding.inbound_nodes().len(),
        shared_embedding.weights().len()
    );

    // Same-or-different pairs: label 1 when both sequences start with the same token.
    let a = keras::random::randint(&[1024, 10], 0, 1000)?;
    let b = keras::random::randint(&[1024, 10], 0, 1000)?;
    let same: Vec<f32> = keras::ops::to_vec_f32(&a.narrow(1, 0, 1)?)?
        .iter()
        .zip(keras::ops::to_vec_f32(&b.narrow(1, 0, 1)?)?)
        .map(|(x, y)| ((x % 2.0) == (y % 2.0)) as i32 as f32)
        .collect();
    let y = keras::ops::from_vec(same, &[1024, 1])?;
    model.compile("adam", "binary_crossentropy", ["accuracy"])?;
    let h = model.fit(vec![a, b], &y, FitArgs::new().epochs(5))?;
    println!("{h}");
    Ok(())
}
