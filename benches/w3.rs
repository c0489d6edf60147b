//! Workload W3 (BENCHMARKS.md): int Input of length 100 -> Embedding 10000x64 -> LSTM 32 ->
//! Dense 1 sigmoid; binary cross-entropy; RMSprop 1e-3; batch 128; random data from a fixed
//! seed; median ms per training step over 20 steps after 3 warm-up steps.
//!
//! `cargo bench --bench w3` (Python Keras: `benches/keras_bench.py w3`).

use keras::layers::{Embedding, LSTM};
use keras::prelude::*;
use std::time::Instant;

/// The workload (also run by `examples/gpu_check.rs --bench w3` in one binary for a GPU machine).
pub fn main() -> keras::Result<()> {
    keras::utils::set_random_seed(0);
    let x = keras::random::randint(&[128, 100], 0, 10000)?.to_dtype(DType::I32)?;
    let y = keras::random::randint(&[128, 1], 0, 2)?.to_dtype(DType::F32)?;
    let mut model = Sequential::from_layers([
        Input::shape([100]).dtype(DType::I32).build().into(),
        Embedding::new(10000, 64).into(),
        LSTM::new(32).into(),
        Dense::new(1).activation("sigmoid").into(),
    ])?;
    model.compile(
        RMSprop::new().learning_rate(1e-3),
        "binary_crossentropy",
        (),
    )?;
    for _ in 0..3 {
        model.train_on_batch(&x, &y)?;
    }
    let mut t = vec![];
    for _ in 0..20 {
        let s = Instant::now();
        model.train_on_batch(&x, &y)?;
        t.push(s.elapsed().as_secs_f64() * 1e3);
    }
    t.sort_by(f64::total_cmp);
    println!(
        "W3 keras-rs: median {:.2} ms/step (train_on_batch, 20 steps after 3 warm-up)",
        t[t.len() / 2]
    );
    Ok(())
}
