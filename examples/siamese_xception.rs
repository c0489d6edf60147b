//! The seeds' siamese vision model: one Xception base (no top) applied to a left and a right
//! image, its features concatenated. The seeds use 250x250 images; this builds the model at
//! that size (printing the summary) and runs it on a small batch at 96x96 (the base has no
//! fixed spatial size without its top).
//!
//! `cargo run --release --example siamese_xception`

use keras::applications::Xception;
use keras::layers::{concatenate, GlobalAveragePooling2D};
use keras::prelude::*;

fn main() -> keras::Result<()> {
    keras::utils::set_random_seed(6);
    let xception_base = Xception {
        weights: None,
        include_top: false,
        ..Default::default()
    }
    .build()?;
    let left_input = Input::new([250, 250, 3]);
    let right_input = Input::new([250, 250, 3]);
    let left_features = xception_base.call(&left_input)?;
    let right_features = xception_base.call(&right_input)?;
    let merged_features = concatenate(&[left_features, right_features])?;
    println!("merged features: {}", merged_features.shape());
    let model = Model::new(&[left_input, right_input], &[merged_features])?;
    model.summary();
    println!(
        "shared base: {} parameters, used twice",
        xception_base.count_params()
    );

    // A pooled head on smaller images, to run the shared base.
    let l = Input::new([96, 96, 3]);
    let r = Input::new([96, 96, 3]);
    let fl = GlobalAveragePooling2D::new().call(&xception_base.call(&l)?)?;
    let fr = GlobalAveragePooling2D::new().call(&xception_base.call(&r)?)?;
    let same = Dense::new(1)
        .activation("sigmoid")
        .call(&concatenate(&[fl, fr])?)?;
    let mut head = Model::new(&[l, r], &[same])?;
    let start = std::time::Instant::now();
    let p: Tensor = head.predict(
        vec![
            keras::random::uniform(&[2, 96, 96, 3], 0.0, 1.0)?,
            keras::random::uniform(&[2, 96, 96, 3], 0.0, 1.0)?,
        ],
        EvalArgs::new().verbose(0).batch_size(2),
    )?;
    println!(
        "similarity of 2 pairs: {:?} ({:.1}s)",
        keras::ops::to_vec_f32(&p)?,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
