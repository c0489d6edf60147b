//! The seeds' Dense residual block with a projection: two Dense layers on the main path, a
//! Dense projection of the input on the shortcut, added. Trained on a random regression task.
//!
//! `cargo run --release --example residual_dense`

use keras::layers;
use keras::prelude::*;

fn main() -> keras::Result<()> {
    keras::utils::set_random_seed(3);
    let inputs = Input::new([64]);
    // Main path.
    let x = Dense::new(64).activation("relu").call(&inputs)?;
    let x = Dense::new(64).activation("relu").call(&x)?;
    // Residual connection (a projection, needed when the sizes differ).
    let residual = Dense::new(64).call(&inputs)?;
    let outputs = layers::add(&[x, residual])?;
    let out = Dense::new(1).call(&outputs)?;
    let mut model = Model::new(&[inputs], &[out])?;
    model.summary();

    let x = keras::random::normal(&[2048, 64])?;
    let y = (x.narrow(1, 0, 1)? * 2.0 + x.narrow(1, 1, 1)?.sqr()?)?;
    model.compile("adam", "mse", ["mae"])?;
    let h = model.fit(&x, &y, FitArgs::new().epochs(5).validation_split(0.2))?;
    println!("{h}");
    Ok(())
}
