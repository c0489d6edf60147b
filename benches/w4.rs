//! Workload W4 (BENCHMARKS.md): inference. `predict` of the W2 CNN (Conv2D 32 3x3 relu ->
//! MaxPooling2D 2 -> Conv2D 64 3x3 relu -> MaxPooling2D 2 -> Flatten -> Dense 10 softmax) on
//! the 10,000 MNIST test images, at batch sizes 32, 64, 256, 1000 and 10000; images per second
//! (median of 5 calls after one warm-up call), and the resident memory at the end.
//!
//! `cargo bench --bench w4` (Python Keras: `benches/keras_bench.py w4`, PyTorch:
//! `benches/torch_bench.py w4`).

use keras::layers::{Conv2D, MaxPooling2D};
use keras::prelude::*;
use std::time::Instant;

fn main() -> keras::Result<()> {
    keras::utils::set_random_seed(0);
    let (_, (x_test, _)) = keras::datasets::mnist::load_data()?;
    let x = (x_test.to_dtype(DType::F32)? / 255.0)?.reshape((10000, 28, 28, 1))?;
    let mut model = Sequential::from_layers([
        Input::new([28, 28, 1]).into(),
        Conv2D::new(32, 3).activation("relu").into(),
        MaxPooling2D::new(2).into(),
        Conv2D::new(64, 3).activation("relu").into(),
        MaxPooling2D::new(2).into(),
        Flatten::new().into(),
        Dense::new(10).activation("softmax").into(),
    ])?;
    let sizes: Vec<usize> = match std::env::var("W4_BATCHES") {
        Ok(s) => s.split(',').filter_map(|v| v.trim().parse().ok()).collect(),
        Err(_) => vec![32, 64, 256, 1000, 10000],
    };
    for batch_size in sizes {
        let args = || EvalArgs {
            batch_size,
            ..EvalArgs::quiet()
        };
        let _: Tensor = model.predict(&x, args())?;
        let mut t = vec![];
        for _ in 0..5 {
            let s = Instant::now();
            let y: Tensor = model.predict(&x, args())?;
            t.push(s.elapsed().as_secs_f64());
            assert_eq!(y.dims(), &[10000, 10]);
        }
        t.sort_by(f64::total_cmp);
        println!(
            "W4 keras-rs: batch {batch_size}: {:.0} images/s (predict of 10000 images, median {:.1} ms)",
            10000.0 / t[2],
            t[2] * 1e3
        );
    }
    println!("W4 keras-rs: peak resident memory {} MB", peak_rss_mb());
    // The matmul rate this machine gives our kernels (for the floors in BENCHMARKS.md).
    let a = keras::random::uniform(&[2048, 2048], 0.0, 1.0)?;
    let b = keras::random::uniform(&[2048, 2048], 0.0, 1.0)?;
    let mut best = f64::INFINITY;
    for _ in 0..6 {
        let s = Instant::now();
        let _ = keras::ops::matmul(&a, &b)?;
        best = best.min(s.elapsed().as_secs_f64());
    }
    println!(
        "PEAK keras-rs f32 matmul 2048: best {:.0} GFLOP/s",
        2.0 * 2048f64.powi(3) / best / 1e9
    );
    Ok(())
}

/// The process's peak resident set (VmHWM), in MB; 0 where /proc is absent.
fn peak_rss_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}
