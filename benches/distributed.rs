//! Data-parallel scaling (BENCHMARKS.md, issue 15): W1 (MLP, global batch 128) and W2 (small
//! CNN, global batch 64) trained with `fit` in a job of 1 or 2 processes, samples per second
//! of the job (an epoch of 100 global batches after a warm-up epoch), and the time of one
//! all-reduce of the model's gradients against the step time.
//!
//! ```text
//! cargo build --release --features mpi --bench distributed
//! mpirun -np 1 target/release/deps/distributed-<hash>
//! mpirun -np 2 --oversubscribe target/release/deps/distributed-<hash>
//! ```

use keras::distribution::{group, initialize, set_distribution, DataParallel};
use keras::layers::{BatchNormalization, Conv2D, MaxPooling2D};
use keras::prelude::*;
use std::time::Instant;

fn run(name: &str, mut model: Model, x: Tensor, y: Tensor, batch: usize) -> keras::Result<()> {
    let g = group();
    model.compile("adam", "sparse_categorical_crossentropy", ())?;
    let args = || {
        FitArgs::new()
            .epochs(1)
            .batch_size(batch)
            .shuffle(false)
            .verbose(0)
    };
    model.fit(&x, &y, args())?; // warm-up
    let t = Instant::now();
    model.fit(&x, &y, args())?;
    let secs = t.elapsed().as_secs_f64();
    let steps = x.dims()[0] / batch;
    // One all-reduce of as many floats as the model has parameters.
    let mut buf = vec![0.5f32; model.count_params()];
    for _ in 0..5 {
        g.all_reduce_sum(&mut buf)?;
    }
    let reps = 50;
    let t = Instant::now();
    for _ in 0..reps {
        g.all_reduce_sum(&mut buf)?;
    }
    let reduce_ms = t.elapsed().as_secs_f64() * 1e3 / reps as f64;
    if g.rank() == 0 {
        println!(
            "{name} keras-rs, {} process(es): {:.0} samples/s, {:.3} ms/step, all-reduce of {} floats {:.3} ms",
            g.size(),
            x.dims()[0] as f64 / secs,
            secs * 1e3 / steps as f64,
            model.count_params(),
            reduce_ms
        );
    }
    Ok(())
}

fn main() -> keras::Result<()> {
    let _job = initialize(None, None, None)?;
    set_distribution(Some(DataParallel::new(None)?));
    keras::utils::set_random_seed(0);
    let x = keras::random::uniform(&[128 * 100, 784], 0.0, 1.0)?;
    let y = keras::random::randint(&[128 * 100], 0, 10)?;
    let w1 = Sequential::from_layers([
        Input::new([784]).into(),
        Dense::new(256).activation("relu").into(),
        Dense::new(128).activation("relu").into(),
        Dense::new(10).activation("softmax").into(),
    ])?;
    run("W1", w1.into_model(), x, y, 128)?;
    let x = keras::random::uniform(&[64 * 100, 28, 28, 1], 0.0, 1.0)?;
    let y = keras::random::randint(&[64 * 100], 0, 10)?;
    run("W2", w2(None)?, x.clone(), y.clone(), 64)?;
    // W2 with a BatchNormalization after each convolution, each process's own statistics
    // and then the global batch's (two all-reduces per layer and step).
    run("W2+BN", w2(Some(false))?, x.clone(), y.clone(), 64)?;
    run("W2+BN synchronized", w2(Some(true))?, x, y, 64)
}

/// W2's CNN; `bn`: a BatchNormalization after each convolution, synchronized or not.
fn w2(bn: Option<bool>) -> keras::Result<Model> {
    let mut layers: Vec<LayerRef> = vec![Input::new([28, 28, 1]).into()];
    for filters in [32, 64] {
        layers.push(Conv2D::new(filters, 3).activation("relu").into());
        if let Some(s) = bn {
            layers.push(BatchNormalization::new().synchronized(s).into());
        }
        layers.push(MaxPooling2D::new(2).into());
    }
    layers.push(Flatten::new().into());
    layers.push(Dense::new(10).activation("softmax").into());
    Ok(Sequential::from_layers(layers)?.into_model())
}
