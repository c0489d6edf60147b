//! A Transformer encoder block in the functional API, on MNIST read as sequences: each image
//! is 28 steps (rows) of 28 features. Dense embedding, MultiHeadAttention with a residual
//! Add and LayerNormalization, a feed-forward pair of Dense layers with another residual and
//! norm, then a classifier head. Trains on the shipped MNIST.
//!
//! `cargo run --release --example transformer_mnist`

use keras::layers::{add, LayerNormalization, MultiHeadAttention};
use keras::prelude::*;

/// The encoder block of "Attention is all you need" (post-norm, as Keras's examples write it).
fn encoder_block(x: &KerasTensor, heads: usize, ff_dim: usize) -> keras::Result<KerasTensor> {
    let dim = x.shape().dim(-1).unwrap_or(0);
    let attn = MultiHeadAttention::new(heads, dim / heads).call(&[x.clone(), x.clone()])?;
    let attn = Dropout::new(0.1).call(&attn)?;
    let x = LayerNormalization::new()
        .epsilon(1e-6)
        .call(&add(&[x.clone(), attn])?)?;
    let ff = Dense::new(ff_dim).activation("relu").call(&x)?;
    let ff = Dense::new(dim).call(&ff)?;
    let ff = Dropout::new(0.1).call(&ff)?;
    LayerNormalization::new()
        .epsilon(1e-6)
        .call(&add(&[x, ff])?)
}

fn main() -> keras::Result<()> {
    keras::utils::set_random_seed(7);
    let ((x_train, y_train), (x_test, y_test)) = keras::datasets::mnist::load_data()?;
    let x_train = (x_train.to_dtype(DType::F32)? / 255.0)?;
    let x_test = (x_test.to_dtype(DType::F32)? / 255.0)?;

    let inputs = Input::new([28, 28]);
    let x = Dense::new(64).call(&inputs)?;
    let x = encoder_block(&x, 4, 128)?;
    let x = Flatten::new().call(&x)?;
    let outputs = Dense::new(10).activation("softmax").call(&x)?;
    let mut model = Model::new(&[inputs], &[outputs])?;
    model.summary();
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])?;
    let start = std::time::Instant::now();
    let history = model.fit(
        &x_train,
        &y_train,
        FitArgs::new()
            .epochs(2)
            .batch_size(64)
            .validation_split(0.1),
    )?;
    println!("History: {history}");
    println!("training time: {:.1}s", start.elapsed().as_secs_f64());
    let logs = model.evaluate(&x_test, &y_test, EvalArgs::quiet())?;
    let acc = logs.get("accuracy").unwrap_or(0.0);
    println!("test accuracy: {acc:.4}");
    if acc < 0.95 {
        return Err(keras::Error::runtime(format!(
            "test accuracy {acc:.4} is below 0.95"
        )));
    }
    Ok(())
}
