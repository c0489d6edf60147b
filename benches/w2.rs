//! Workload W2 (BENCHMARKS.md): Input 28x28x1 -> Conv2D 32 3x3 relu -> MaxPooling2D 2 ->
//! Conv2D 64 3x3 relu -> MaxPooling2D 2 -> Flatten -> Dense 10 softmax; sparse categorical
//! cross-entropy; Adam; batch 64; random data from a fixed seed; median ms per training step
//! over 50 steps after 5 warm-up steps.
//!
//! `cargo bench --bench w2` (Python Keras: `benches/keras_bench.py w2`).

use keras::layers::{Conv2D, MaxPooling2D};
use keras::prelude::*;
use std::time::Instant;

/// The workload (also run by `examples/gpu_check.rs --bench w2` in one binary for a GPU machine).
pub fn main() -> keras::Result<()> {
    keras::utils::set_random_seed(0);
    let batch = 64;
    let x = keras::random::uniform(&[batch, 28, 28, 1], 0.0, 1.0)?;
    let y = keras::random::randint(&[batch], 0, 10)?;
    let mut model = Sequential::from_layers([
        Input::new([28, 28, 1]).into(),
        Conv2D::new(32, 3).activation("relu").into(),
        MaxPooling2D::new(2).into(),
        Conv2D::new(64, 3).activation("relu").into(),
        MaxPooling2D::new(2).into(),
        Flatten::new().into(),
        Dense::new(10).activation("softmax").into(),
    ])?;
    model.compile("adam", "sparse_categorical_crossentropy", ())?;
    for _ in 0..5 {
        model.train_on_batch(&x, &y)?;
    }
    let mut t = vec![];
    for _ in 0..50 {
        let s = Instant::now();
        model.train_on_batch(&x, &y)?;
        t.push(s.elapsed().as_secs_f64() * 1e3);
    }
    t.sort_by(f64::total_cmp);
    println!(
        "W2 keras-rs: median {:.2} ms/step (train_on_batch, 50 steps after 5 warm-up)",
        t[t.len() / 2]
    );
    Ok(())
}
