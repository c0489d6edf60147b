//! The two GPU-sized workloads of BENCHMARKS.md, on [`keras::config::device`] (the first CUDA
//! device in a `cuda` build, else the CPU):
//!
//! - `resnet50`: keras.applications.ResNet50 (random weights, 1000 classes) trained on
//!   synthetic 224x224x3 images, batch 64, Adam, sparse categorical cross-entropy;
//!   `resnet50_bf16` is the same under the `mixed_bfloat16` policy;
//! - `transformer`: 6 encoder blocks (MultiHeadAttention 8 heads x 64, residual + LayerNorm,
//!   feed-forward 2048 relu, residual + LayerNorm), d_model 512, sequence 256, batch 32, then
//!   GlobalAveragePooling1D and Dense 10 softmax; Adam.
//!
//! Median ms per `train_on_batch` over the timed steps after the warm-up ones. `--small`
//! shrinks every size (a run that checks the program on a CPU).
//!
//! ```text
//! scripts/build-cuda.sh --bench gpu && target/cuda/release/deps/gpu-* resnet50
//! cargo bench --bench gpu -- transformer --small
//! ```
//! Python twins: `benches/keras_bench.py resnet50|resnet50_bf16|transformer` (Keras 3, JAX)
//! and `TORCH_DEVICE=cuda benches/torch_bench.py ...` (PyTorch).

use keras::applications::ResNet50;
use keras::layers::{GlobalAveragePooling1D, LayerNormalization, MultiHeadAttention};
use keras::prelude::*;
use std::time::Instant;

fn resnet50(small: bool) -> keras::Result<(Model, Tensor, Tensor, usize, usize)> {
    let (batch, side) = if small { (2, 64) } else { (64, 224) };
    let model = ResNet50 {
        input_shape: Some(vec![Some(side), Some(side), Some(3)]),
        ..Default::default()
    }
    .build()?;
    let x = keras::random::uniform(&[batch, side, side, 3], 0.0, 1.0)?;
    let y = keras::random::randint(&[batch], 0, 1000)?;
    Ok((model, x, y, 3, if small { 2 } else { 10 }))
}

fn encoder_block(x: &KerasTensor, d: usize, heads: usize, ff: usize) -> keras::Result<KerasTensor> {
    let a = MultiHeadAttention::new(heads, d / heads).call([x, x])?;
    let x = LayerNormalization::new()
        .epsilon(1e-6)
        .call(&keras::layers::Add::new().call([x, &a])?)?;
    let f = Dense::new(ff).activation("relu").call(&x)?;
    let f = Dense::new(d).call(&f)?;
    LayerNormalization::new()
        .epsilon(1e-6)
        .call(&keras::layers::Add::new().call([&x, &f])?)
}

fn transformer(small: bool) -> keras::Result<(Model, Tensor, Tensor, usize, usize)> {
    let (blocks, d, heads, ff, seq, batch) = if small {
        (2, 64, 8, 128, 32, 4)
    } else {
        (6, 512, 8, 2048, 256, 32)
    };
    let inputs = Input::new([seq, d]);
    let mut x = inputs.clone();
    for _ in 0..blocks {
        x = encoder_block(&x, d, heads, ff)?;
    }
    let x = GlobalAveragePooling1D::new().call(&x)?;
    let out = Dense::new(10).activation("softmax").call(&x)?;
    let model = Model::new(&[inputs], &[out])?;
    let x = keras::random::normal(&[batch, seq, d])?;
    let y = keras::random::randint(&[batch], 0, 10)?;
    Ok((model, x, y, 3, if small { 2 } else { 20 }))
}

#[allow(dead_code)] // unused where examples/gpu_check.rs includes this file
fn main() -> keras::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let small = args.iter().any(|a| a == "--small");
    let names: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if names.is_empty() {
        run(&["resnet50", "resnet50_bf16", "transformer"], small)
    } else {
        run(&names, small)
    }
}

/// Times the named workloads (also run by `examples/gpu_check.rs --bench <name>`).
pub fn run(names: &[&str], small: bool) -> keras::Result<()> {
    for &name in names {
        keras::utils::set_random_seed(0);
        let policy = if name.ends_with("_bf16") {
            "mixed_bfloat16"
        } else {
            "float32"
        };
        keras::mixed_precision::set_global_policy(policy)?;
        let (mut model, x, y, warmup, steps) = match name {
            "resnet50" | "resnet50_bf16" => resnet50(small)?,
            "transformer" => transformer(small)?,
            other => {
                return Err(keras::Error::value(format!(
                    "unknown workload '{other}': resnet50, resnet50_bf16 or transformer"
                )))
            }
        };
        keras::mixed_precision::set_global_policy("float32")?;
        model.compile("adam", "sparse_categorical_crossentropy", ())?;
        let dev = model.device();
        let (x, y) = (x.to_device(&dev)?, y.to_device(&dev)?);
        for _ in 0..warmup {
            model.train_on_batch(&x, &y)?;
        }
        let mut t = vec![];
        let mut loss = f64::NAN;
        for _ in 0..steps {
            let s = Instant::now();
            // The loss is read back each step: the time includes the device finishing.
            loss = model
                .train_on_batch(&x, &y)?
                .get("loss")
                .unwrap_or(f64::NAN);
            t.push(s.elapsed().as_secs_f64() * 1e3);
        }
        t.sort_by(f64::total_cmp);
        println!(
            "{name} keras-rs on {}{}: median {:.2} ms/step ({steps} steps after {warmup} warm-up; batch {}, loss {loss:.3})",
            keras::config::device_name(),
            if small { " (--small)" } else { "" },
            t[t.len() / 2],
            x.dims()[0]
        );
    }
    Ok(())
}
