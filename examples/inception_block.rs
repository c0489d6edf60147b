//! The seeds' Inception block: four branches (1x1 strided; 1x1 then 3x3 strided; average
//! pooling then 3x3; 1x1, 3x3, 3x3 strided), concatenated on the channel axis, on a 32x32x64
//! input, trained briefly on random data.
//!
//! As written in the seeds the branches end at different sizes (16, 15, 15 and 14 for a
//! 32x32 input), which Keras's `concatenate` rejects as well; the 3x3 convolutions and the
//! pooling here use `padding="same"` so every branch is 16x16.
//!
//! `cargo run --release --example inception_block`

use keras::layers::{concatenate, AveragePooling2D, Conv2D, GlobalAveragePooling2D};
use keras::prelude::*;

fn main() -> keras::Result<()> {
    keras::utils::set_random_seed(1);
    let x = Input::new([32, 32, 64]);
    let conv = |f: usize, k: usize, s: usize| {
        Conv2D::new(f, k)
            .activation("relu")
            .strides(s)
            .padding("same")
    };
    let branch_a = conv(128, 1, 2).call(&x)?;
    let branch_b = conv(128, 1, 1).call(&x)?;
    let branch_b = conv(128, 3, 2).call(&branch_b)?;
    let branch_c = AveragePooling2D::new(3)
        .strides(2)
        .padding("same")
        .call(&x)?;
    let branch_c = conv(128, 3, 1).call(&branch_c)?;
    let branch_d = conv(128, 1, 1).call(&x)?;
    let branch_d = conv(128, 3, 1).call(&branch_d)?;
    let branch_d = conv(128, 3, 2).call(&branch_d)?;
    let output = concatenate(&[branch_a, branch_b, branch_c, branch_d])?;
    println!("concatenated: {}", output.shape());
    let y = Dense::new(10)
        .activation("softmax")
        .call(&GlobalAveragePooling2D::new().call(&output)?)?;
    let mut model = Model::new(&[x], &[y])?;
    model.summary();
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])?;
    let data = keras::random::normal(&[64, 32, 32, 64])?;
    let labels = keras::random::randint(&[64], 0, 10)?;
    let h = model.fit(&data, &labels, FitArgs::new().epochs(2).batch_size(16))?;
    println!("{h}");
    Ok(())
}
