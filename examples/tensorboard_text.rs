//! The seeds' TensorBoard example: a 1-D convnet over token sequences (Embedding(500, 128) ->
//! Conv1D(32, 7) -> MaxPooling1D(5) -> Conv1D(32, 7) -> GlobalMaxPooling1D -> Dense(1),
//! RMSprop, binary cross-entropy, `acc`), trained with
//! `TensorBoard::new("tboard").histogram_freq(1).embeddings_freq(1)` and a 20% validation
//! split.
//!
//! The seed trains on IMDB reviews (`imdb.load_data(num_words=500)`, padded to 500 with
//! `pad_sequences`); so does this example when Keras's `imdb.npz` is on disk
//! (`~/.keras/datasets/`, where Python Keras caches it, or `$KERAS_RS_DATA`; keras-rs
//! downloads nothing), with the words of `imdb_word_index.json` as the projector's labels. Without
//! it, a synthetic stand-in: 2,000 sequences of 500 tokens drawn from a 500-token vocabulary,
//! where a positive sequence contains 8 "signal" tokens (1-5) and a negative one 8 "decoy"
//! tokens (6-10) instead; everything else is noise (tokens 11-499). A convolution that spots
//! the signal tokens learns it. The projector's labels are written to `tboard/tokens.tsv`
//! (`signal_1`, `decoy_6`, `noise_11`, ...).
//!
//! The model is the seed's `Sequential` without an `Input` (`Embedding(input_length=500)`,
//! which Keras 3 ignores): `fit` builds it from the first batch before TensorBoard starts.
//!
//! Two changes from the seed: its last layer is `Dense(1)` without an activation, whose raw
//! outputs binary cross-entropy (on probabilities) clips to `[1e-7, 1 - 1e-7]`; clipped
//! outputs get no gradient and the model does not learn (in Keras as here), so this one ends
//! in `Dense(1, activation="sigmoid")`. And RMSprop's learning rate is 1e-3 rather than 1e-4,
//! so that the 10 epochs (about 20 s in release on 2 cores) reach 100% validation accuracy.
//!
//! `cargo run --release --example tensorboard_text`, then `tensorboard --logdir tboard`.

use keras::callbacks::TensorBoard;
use keras::datasets::imdb;
use keras::layers::{Conv1D, Embedding, GlobalMaxPooling1D, MaxPooling1D};
use keras::prelude::*;
use keras::utils::{pad_sequences, PadSequencesArgs};

const MAX_FEATURES: usize = 500;
const MAX_LEN: usize = 500;
const SAMPLES: usize = 2000;

/// The synthetic token sequences and their 0 / 1 labels.
fn synthetic_data(seed: u64) -> keras::Result<(Tensor, Tensor)> {
    let mut state = seed;
    let mut next = move |n: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % n
    };
    let mut tokens = Vec::with_capacity(SAMPLES * MAX_LEN);
    let mut labels = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let positive = next(2) == 1;
        let mut seq: Vec<i64> = (0..MAX_LEN).map(|_| 11 + next(489) as i64).collect();
        for _ in 0..8 {
            let pos = next(MAX_LEN as u64) as usize;
            let marker = 1 + next(5) as i64;
            seq[pos] = if positive { marker } else { marker + 5 };
        }
        tokens.extend(seq);
        labels.push(if positive { 1f32 } else { 0.0 });
    }
    Ok((
        Tensor::from_vec(tokens, (SAMPLES, MAX_LEN), &Device::Cpu)?,
        Tensor::from_vec(labels, (SAMPLES, 1), &Device::Cpu)?,
    ))
}

/// The synthetic data's token names (for the projector).
fn synthetic_names() -> Vec<String> {
    (0..MAX_FEATURES)
        .map(|t| match t {
            0 => "padding".to_string(),
            1..=5 => format!("signal_{t}"),
            6..=10 => format!("decoy_{t}"),
            _ => format!("noise_{t}"),
        })
        .collect()
}

/// IMDB as the seed loads it, with each token id's word, when Keras's files are on disk.
fn imdb_data() -> keras::Result<(Tensor, Tensor, Vec<String>)> {
    let args = imdb::LoadDataArgs {
        num_words: Some(MAX_FEATURES),
        ..Default::default()
    };
    let ((x, y), _) = imdb::load_data(args.clone())?;
    let pad = PadSequencesArgs {
        maxlen: Some(MAX_LEN),
        ..Default::default()
    };
    let x = pad_sequences(&x, pad)?;
    let y = y.to_dtype(DType::F32)?.reshape(((), 1))?;
    let mut names: Vec<String> = (0..MAX_FEATURES).map(|i| format!("#{i}")).collect();
    names[0] = "[PAD]".into();
    names[1] = "[START]".into();
    names[2] = "[OOV]".into();
    if let Ok(index) = imdb::get_word_index("imdb_word_index.json") {
        for (word, i) in index {
            if let Some(n) = names.get_mut((i + args.index_from) as usize) {
                *n = word;
            }
        }
    }
    Ok((x, y, names))
}

fn main() -> keras::Result<()> {
    keras::utils::set_random_seed(1);
    let (x_train, y_train, names) = match imdb_data() {
        Ok(d) => {
            println!("IMDB: {} reviews", d.0.dim(0)?);
            d
        }
        Err(e) => {
            println!("IMDB not loaded ({e}); a synthetic stand-in instead");
            let (x, y) = synthetic_data(2024)?;
            (x, y, synthetic_names())
        }
    };

    let mut model = Sequential::from_layers([
        Embedding::new(MAX_FEATURES, 128)
            .input_length(MAX_LEN)
            .into(),
        Conv1D::new(32, 7).activation("relu").into(),
        MaxPooling1D::new(5).into(),
        Conv1D::new(32, 7).activation("relu").into(),
        GlobalMaxPooling1D::new().into(),
        Dense::new(1).activation("sigmoid").into(),
    ])?
    .into_model();
    model.compile(
        RMSprop::new().learning_rate(1e-3),
        "binary_crossentropy",
        ["acc"],
    )?;

    // Row labels for the embedding projector (one per token id).
    std::fs::create_dir_all("tboard").map_err(|e| keras::Error::io("cannot create tboard", e))?;
    std::fs::write("tboard/tokens.tsv", names.join("\n") + "\n")
        .map_err(|e| keras::Error::io("cannot write tboard/tokens.tsv", e))?;
    let embedding = model.layers()[0].name();

    let mut tensorboard = TensorBoard::new("tboard")
        .histogram_freq(1)
        .embeddings_freq(1)
        .embeddings_metadata([(embedding.as_str(), "tokens.tsv")]);
    let start = std::time::Instant::now();
    let history = model.fit(
        &x_train,
        &y_train,
        FitArgs::new()
            .epochs(10)
            .batch_size(128)
            .validation_split(0.2)
            .callback(&mut tensorboard),
    )?;
    model.summary();
    println!("History: {history}");
    println!("training time: {:.1}s", start.elapsed().as_secs_f64());
    println!("Logs written to tboard/. To view them: tensorboard --logdir tboard");
    Ok(())
}
