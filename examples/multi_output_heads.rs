//! The seeds' three-headed model: from a user's posts predict age (regression), income group
//! (10 classes) and gender (binary), with a loss per head and loss weights, both given as maps
//! by output name. Random data.
//!
//! Here the trunk is Embedding -> Flatten -> Dense; the seeds' Conv1D trunk is
//! `examples/multi_output_posts.rs`.
//!
//! `cargo run --release --example multi_output_heads`

use keras::layers::Embedding;
use keras::prelude::*;

fn main() -> keras::Result<()> {
    keras::utils::set_random_seed(2);
    let (vocabulary_size, num_income_groups, len) = (5_000, 10, 50);
    let posts_input = Input::shape([len]).dtype(DType::I32).name("posts").build();
    let embedded_posts = Embedding::new(vocabulary_size, 32).call(&posts_input)?;
    let x = Flatten::new().call(&embedded_posts)?;
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
        .loss_weights([("age", 0.25), ("income", 1.0), ("gender", 10.0)])
        .metrics([("income", &["accuracy"][..]), ("gender", &["accuracy"][..])]),
    )?;

    let n = 2000;
    let posts = keras::random::randint(&[n, len], 1, vocabulary_size as i64)?;
    let age_targets = (keras::random::uniform(&[n, 1], 18.0, 70.0)? / 100.0)?;
    let income_targets = keras::utils::to_categorical(
        &keras::random::randint(&[n], 0, num_income_groups as i64)?,
        Some(num_income_groups),
    )?;
    let gender_targets = keras::random::randint(&[n, 1], 0, 2)?.to_dtype(DType::F32)?;
    let history = model.fit(
        &posts,
        vec![
            ("age", age_targets),
            ("income", income_targets),
            ("gender", gender_targets),
        ],
        FitArgs::new()
            .epochs(3)
            .batch_size(64)
            .validation_split(0.1),
    )?;
    println!(
        "History keys: {:?}",
        history.history.keys().collect::<Vec<_>>()
    );
    println!("{history}");
    Ok(())
}
