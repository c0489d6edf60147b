//! The seeds' three-headed model over a user's posts: Embedding, a Conv1D / MaxPooling1D
//! stack, GlobalMaxPooling1D, Dense 128, then heads for age (regression), income group
//! (softmax over 10) and gender (sigmoid), with losses and loss weights by head name. Scaled
//! down (vocabulary, embedding size and filters) to train quickly on random data.
//!
//! `cargo run --release --example multi_output_posts`

use keras::layers::{Conv1D, Embedding, GlobalMaxPooling1D, MaxPooling1D};
use keras::prelude::*;

fn main() -> keras::Result<()> {
    keras::utils::set_random_seed(5);
    let (vocabulary_size, num_income_groups, len) = (2000, 10, 500);
    let posts_input = Input::shape([None]).dtype(DType::I32).name("posts").build();
    let embedded_posts = Embedding::new(vocabulary_size, 32).call(&posts_input)?;
    let x = Conv1D::new(32, 5)
        .activation("relu")
        .call(&embedded_posts)?;
    let x = MaxPooling1D::new(5).call(&x)?;
    let x = Conv1D::new(64, 5).activation("relu").call(&x)?;
    let x = Conv1D::new(64, 5).activation("relu").call(&x)?;
    let x = MaxPooling1D::new(5).call(&x)?;
    let x = Conv1D::new(64, 5).activation("relu").call(&x)?;
    let x = Conv1D::new(64, 5).activation("relu").call(&x)?;
    let x = GlobalMaxPooling1D::new().call(&x)?;
    let x = Dense::new(128).activation("relu").call(&x)?;
    let age_prediction = Dense::new(1).name("age").call(&x)?;
    let income_prediction = Dense::new(num_income_groups)
        .activation("softmax")
        .name("income")
        .call(&x)?;
    let gender_prediction = Dense::new(1)
        .activation("sigmoid")
        .name("gender")
        .call(&x)?;
    let mut model = Model::new(
        &[posts_input],
        &[age_prediction, income_prediction, gender_prediction],
    )?;
    model.summary();
    model.compile_with(
        CompileArgs::new(
            "rmsprop",
            [
                ("age", "mse"),
                ("income", "categorical_crossentropy"),
                ("gender", "binary_crossentropy"),
            ],
        )
        .loss_weights([("age", 0.25), ("income", 1.0), ("gender", 10.0)]),
    )?;
    let n = 512;
    let posts = keras::random::randint(&[n, len], 1, vocabulary_size as i64)?;
    let age_targets = keras::random::uniform(&[n, 1], 0.18, 0.7)?;
    let income_targets = keras::utils::to_categorical(
        &keras::random::randint(&[n], 0, num_income_groups as i64)?,
        Some(num_income_groups),
    )?;
    let gender_targets = keras::random::randint(&[n, 1], 0, 2)?.to_dtype(DType::F32)?;
    let h = model.fit(
        &posts,
        vec![age_targets, income_targets, gender_targets],
        FitArgs::new().epochs(2).batch_size(64),
    )?;
    println!("{h}");
    Ok(())
}
