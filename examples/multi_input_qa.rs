//! The seeds' two-input question-answering model: a text and a question, each embedded and
//! encoded, concatenated, then a softmax over 500 answers. Trained on random data, passed
//! first as a list and then as a map by input name.
//!
//! Each branch is the seeds' Embedding -> LSTM, with variable-length (`None`) inputs.
//!
//! `cargo run --release --example multi_input_qa`

use keras::layers::{self, Embedding, LSTM};
use keras::prelude::*;

fn main() -> keras::Result<()> {
    keras::utils::set_random_seed(1);
    let (text_vocabulary_size, question_vocabulary_size, answer_vocabulary_size) =
        (10_000, 10_000, 500);
    let max_length = 100;

    // A variable-length integer sequence.
    let text_input = Input::shape([None]).dtype(DType::I32).name("text").build();
    let embedded_text = Embedding::new(text_vocabulary_size, 64).call(&text_input)?;
    let encoded_text = LSTM::new(32).call(&embedded_text)?;

    let question_input = Input::shape([None])
        .dtype(DType::I32)
        .name("question")
        .build();
    let embedded_question = Embedding::new(question_vocabulary_size, 32).call(&question_input)?;
    let encoded_question = LSTM::new(16).call(&embedded_question)?;

    let concatenated = layers::concatenate(&[encoded_text, encoded_question])?;
    let answer = Dense::new(answer_vocabulary_size)
        .activation("softmax")
        .call(&concatenated)?;
    let mut model = Model::new(&[text_input, question_input], &[answer])?;
    model.summary();
    model.compile("rmsprop", "categorical_crossentropy", ["acc"])?;

    let num_samples = 1000;
    let text = keras::random::randint(&[num_samples, max_length], 1, text_vocabulary_size as i64)?;
    let question = keras::random::randint(
        &[num_samples, max_length],
        1,
        question_vocabulary_size as i64,
    )?;
    let answers = keras::random::randint(&[num_samples], 0, answer_vocabulary_size as i64)?;
    let answers = keras::utils::to_categorical(&answers, Some(answer_vocabulary_size))?;

    let args = || FitArgs::new().epochs(3).batch_size(128);
    let h1 = model.fit(vec![text.clone(), question.clone()], &answers, args())?;
    let h2 = model.fit(
        vec![("text", text), ("question", question)],
        &answers,
        args(),
    )?;
    println!("as a list: {h1}\nas a map:  {h2}");
    Ok(())
}
