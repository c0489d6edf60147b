//! Workload W1 (see BENCHMARKS.md): Input 784 -> Dense 256 relu -> Dense 128 relu -> Dense 10
//! softmax, sparse categorical cross-entropy, Adam 1e-3, batch 128, random data from a fixed
//! seed; median ms per training step (forward, loss, backward, update) over 200 steps after
//! 20 warm-up steps. Also times the parts of a step.
//!
//! `cargo bench --bench w1` (Python Keras's numbers: `benches/keras_bench.py w1`).

use keras::prelude::*;
use keras::trainers::Network;
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The workload (also run by `examples/gpu_check.rs --bench w1` in one binary for a GPU machine).
pub fn main() -> keras::Result<()> {
    keras::utils::set_random_seed(0);
    let batch = 128;
    let mut rng = keras::ops::random::Rng::new(42);
    let x: Vec<f32> = (0..batch * 784).map(|_| rng.uniform() as f32).collect();
    let y: Vec<u32> = (0..batch).map(|_| rng.below(10) as u32).collect();
    let x = keras::ops::from_vec(x, &[batch, 784])?;
    let y = keras::ops::from_vec(y, &[batch])?;

    let mut model = Sequential::from_layers([
        Input::new([784]).into(),
        Dense::new(256).activation("relu").into(),
        Dense::new(128).activation("relu").into(),
        Dense::new(10).activation("softmax").into(),
    ])?;
    model.compile(
        Adam::new().learning_rate(1e-3),
        "sparse_categorical_crossentropy",
        (),
    )?;

    for _ in 0..20 {
        model.train_on_batch(&x, &y)?;
    }
    let mut steps = vec![];
    for _ in 0..200 {
        let t = Instant::now();
        model.train_on_batch(&x, &y)?;
        steps.push(t.elapsed().as_secs_f64() * 1e3);
    }

    // The parts of a step, timed separately.
    let net = model.layer().clone();
    let loss = keras::losses::get("sparse_categorical_crossentropy")?;
    let weights = model.trainable_weights();
    let mut opt = Adam::new();
    let (mut fwd, mut bwd, mut upd) = (vec![], vec![], vec![]);
    for _ in 0..200 {
        let t0 = Instant::now();
        let _sinks = keras::ops::enable_sinks();
        let p = net.forward(std::slice::from_ref(&x), true)?;
        let l = loss.call(&y, &p[0])?;
        let _ = keras::ops::scalar(&l)?;
        let t1 = Instant::now();
        let grads = l.backward()?;
        let gv = keras::engine::gradients(&grads, &weights)?;
        let t2 = Instant::now();
        opt.apply_gradients(&gv)?;
        let t3 = Instant::now();
        fwd.push((t1 - t0).as_secs_f64() * 1e3);
        bwd.push((t2 - t1).as_secs_f64() * 1e3);
        upd.push((t3 - t2).as_secs_f64() * 1e3);
    }
    // Inside fit: whole epochs of 200 steps (one warm-up epoch, then the median of 5), as
    // benches/keras_bench.py times Keras.
    let xs = Tensor::cat(&vec![x.clone(); 200], 0)?;
    let ys = Tensor::cat(&vec![y.clone(); 200], 0)?;
    let args = || FitArgs {
        batch_size: batch,
        verbose: 0,
        shuffle: false,
        ..Default::default()
    };
    model.fit(&xs, &ys, args())?;
    let mut epochs = vec![];
    for _ in 0..5 {
        let t = Instant::now();
        model.fit(&xs, &ys, args())?;
        epochs.push(t.elapsed().as_secs_f64() * 1e3 / 200.0);
    }
    let in_fit = median(epochs);
    println!(
        "W1 keras-rs: median {:.3} ms/step (train_on_batch, 200 steps after 20 warm-up)",
        median(steps)
    );
    println!(
        "  parts: forward+loss {:.3} ms, backward {:.3} ms, optimizer {:.3} ms",
        median(fwd),
        median(bwd),
        median(upd)
    );
    println!("  median {in_fit:.3} ms/step inside fit (epochs of 200 steps)");
    Ok(())
}
