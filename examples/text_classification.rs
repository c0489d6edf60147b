//! Text classification from files in class folders, as the Keras text-classification
//! tutorial: `text_dataset_from_directory` -> `TextVectorization` adapted on the training
//! texts -> Embedding -> GlobalAveragePooling1D -> Dense -> fit; the saved `.keras` file
//! (vocabulary included) loads and classifies raw strings.
//!
//! The example writes its corpus first: 300 short "reviews" per class into
//! `<tmp>/keras_rs_reviews/{neg,pos}/`, each mixing sentiment words with neutral ones.
//!
//! ```text
//! cargo run --release --example text_classification
//! ```

use keras::layers::{Embedding, GlobalAveragePooling1D, TextVectorization};
use keras::ops::random::Rng;
use keras::prelude::*;
use keras::utils::{text_dataset_from_directory_both, TextDatasetArgs};
use std::path::Path;

const POS: &[&str] = &[
    "great",
    "wonderful",
    "loved",
    "brilliant",
    "superb",
    "moving",
    "fun",
    "best",
];
const NEG: &[&str] = &[
    "awful", "boring", "hated", "terrible", "dull", "worst", "weak", "mess",
];
const NEUTRAL: &[&str] = &[
    "the", "movie", "film", "plot", "actors", "was", "a", "and", "story", "it", "really", "quite",
    "ending", "music", "scenes", "i", "this", "of", "director", "script",
];

fn review(rng: &mut Rng, words: &[&str]) -> String {
    let pick =
        |rng: &mut Rng, v: &[&str]| v[(rng.next_u64() % v.len() as u64) as usize].to_string();
    let n = 8 + (rng.next_u64() % 12) as usize;
    let mut out: Vec<String> = (0..n).map(|_| pick(rng, NEUTRAL)).collect();
    for _ in 0..2 {
        let at = (rng.next_u64() % (out.len() as u64 + 1)) as usize;
        out.insert(at, pick(rng, words));
    }
    let mut s = out.join(" ");
    s.push_str(if rng.next_u64().is_multiple_of(2) {
        "!"
    } else {
        "."
    });
    s[..1].to_uppercase() + &s[1..]
}

fn write_corpus(root: &Path) -> keras::Result<()> {
    let mut rng = Rng::new(7);
    for (class, words) in [("neg", NEG), ("pos", POS)] {
        let dir = root.join(class);
        std::fs::create_dir_all(&dir)
            .map_err(|e| keras::Error::io(format!("creating {dir:?}"), e))?;
        for i in 0..300 {
            let path = dir.join(format!("{i}.txt"));
            std::fs::write(&path, review(&mut rng, words))
                .map_err(|e| keras::Error::io(format!("writing {path:?}"), e))?;
        }
    }
    Ok(())
}

fn main() -> keras::Result<()> {
    keras::utils::set_random_seed(42);
    let root = std::env::temp_dir().join("keras_rs_reviews");
    let _ = std::fs::remove_dir_all(&root);
    write_corpus(&root)?;

    let args = TextDatasetArgs {
        batch_size: Some(32),
        validation_split: Some(0.2),
        seed: Some(42),
        ..Default::default()
    };
    let (train_ds, val_ds) = text_dataset_from_directory_both(&root, args)?;
    println!(
        "class_names: {:?}",
        train_ds.class_names.as_deref().unwrap_or_default()
    );

    // Learn the vocabulary from the training texts only (Keras: `vectorize.adapt(train_text)`).
    let mut vectorize = TextVectorization::new()
        .max_tokens(1000)
        .output_sequence_length(32);
    let train_text = train_ds.map(|(text, _label)| Ok(text));
    vectorize.adapt_batches(train_text.iter()?, None)?;
    println!(
        "vocabulary: {} tokens, first: {:?}",
        vectorize.vocabulary_size(),
        &vectorize.get_vocabulary(true)[..8]
    );

    let inputs = Input::string(());
    let x = vectorize.call(&inputs)?;
    let x = Embedding::new(1000, 16).call(&x)?;
    let x = GlobalAveragePooling1D::new().call(&x)?;
    let outputs = Dense::new(1).activation("sigmoid").call(&x)?;
    let mut model = Model::new(&[inputs], &[outputs])?;
    model.summary();
    model.compile(
        Adam::new().learning_rate(0.01),
        "binary_crossentropy",
        ["accuracy"],
    )?;
    let history = model.fit_dataset(
        &train_ds,
        FitArgs::new()
            .epochs(10)
            .verbose(2)
            .validation_data(&val_ds),
    )?;
    let val_acc = *history.history["val_accuracy"].last().unwrap_or(&0.0);

    // The vocabulary is saved with the model: the loaded file takes raw strings.
    let path = std::env::temp_dir().join("keras_rs_reviews.keras");
    model.save(&path)?;
    let mut loaded = keras::saving::load_model(&path)?;
    let texts = [
        "What a wonderful film, the actors were superb!",
        "Boring plot and a terrible ending.",
    ];
    let scores: Tensor =
        loaded.predict(&keras::ops::strings::encode(&texts)?, EvalArgs::quiet())?;
    for (t, s) in texts.iter().zip(scores.flatten_all()?.to_vec1::<f32>()?) {
        println!("{s:.3}  {t}");
    }
    let s = scores.flatten_all()?.to_vec1::<f32>()?;
    println!("final val_accuracy: {val_acc:.4}");
    if val_acc < 0.9 || s[0] < 0.5 || s[1] > 0.5 {
        return Err(keras::Error::runtime(
            "the classifier did not learn the corpus",
        ));
    }
    Ok(())
}
