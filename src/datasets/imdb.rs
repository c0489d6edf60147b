//! The IMDB movie review sentiment data set (25,000 training and 25,000 test reviews, each a
//! sequence of word ids ranked by frequency), as `keras.datasets.imdb` (Keras 3's
//! `keras/src/datasets/imdb.py`): the same shuffle (NumPy's `RandomState(seed)`), start and
//! out-of-vocabulary marks, `index_from` offset and `num_words` / `skip_top` / `maxlen`
//! filters, so `x_train[0]` is Keras's `x_train[0]`.
//!
//! keras-rs downloads nothing: `imdb.npz` (and `imdb_word_index.json` for
//! [`get_word_index`]) must be on disk, where Keras caches them on first use
//! (`~/.keras/datasets/`), or in `$KERAS_RS_DATA`. Keras downloads them from
//! `https://storage.googleapis.com/tensorflow/tf-keras-datasets/`.

use super::npz_utils::{load_npz, NpzArray};
use crate::ops::Tensor;
use crate::utils::random_state::RandomState;
use crate::{Error, Result};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Arguments of [`load_data`], with Keras's defaults.
///
/// ```
/// use keras::datasets::imdb::LoadDataArgs;
/// let args = LoadDataArgs { num_words: Some(500), ..Default::default() };
/// assert_eq!((args.seed, args.start_char, args.oov_char, args.index_from), (113, Some(1), Some(2), 3));
/// ```
#[derive(Clone, Debug)]
pub struct LoadDataArgs {
    /// The file: a bare name is looked for in `$KERAS_RS_DATA`, then Keras's cache
    /// (`$KERAS_HOME/datasets` or `~/.keras/datasets`); a path with a folder is used as is.
    pub path: PathBuf,
    /// Keep the `num_words` most frequent words; rarer ones become `oov_char`. `None`: all.
    pub num_words: Option<usize>,
    /// Also turn the `skip_top` most frequent words into `oov_char`.
    pub skip_top: usize,
    /// Drop the reviews that are not shorter than this (after the start mark is added).
    pub maxlen: Option<usize>,
    /// The shuffle's seed.
    pub seed: u32,
    /// Put before each review; `None`: nothing.
    pub start_char: Option<i64>,
    /// What filtered-out words become; `None`: they are removed.
    pub oov_char: Option<i64>,
    /// Added to every word id (ids below it are left to padding, start and OOV).
    pub index_from: i64,
}

impl Default for LoadDataArgs {
    fn default() -> Self {
        LoadDataArgs {
            path: PathBuf::from("imdb.npz"),
            num_words: None,
            skip_top: 0,
            maxlen: None,
            seed: 113,
            start_char: Some(1),
            oov_char: Some(2),
            index_from: 3,
        }
    }
}

/// Reviews as word-id sequences, and their labels (`int64`, 1 positive, 0 negative).
pub type Split = (Vec<Vec<i64>>, Tensor);

/// `((x_train, y_train), (x_test, y_test))`, as `keras.datasets.imdb.load_data(...)`. Pad
/// the reviews with [`crate::utils::pad_sequences`].
///
/// ```no_run
/// use keras::datasets::imdb::{self, LoadDataArgs};
/// use keras::utils::{pad_sequences, PadSequencesArgs};
/// let ((x_train, y_train), _) = imdb::load_data(LoadDataArgs { num_words: Some(500), ..Default::default() })?;
/// let x = pad_sequences(&x_train, PadSequencesArgs { maxlen: Some(500), ..Default::default() })?;
/// assert_eq!(x.dims(), &[25000, 500]);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn load_data(args: LoadDataArgs) -> Result<(Split, Split)> {
    let path = find(&args.path)?;
    let mut f = load_npz(&path)?;
    let mut take = |name: &str| {
        f.remove(name).ok_or_else(|| {
            Error::format(format!("{}: no `{name}` array in the file", path.display()))
        })
    };
    let seqs = |a: NpzArray, name: &str| match a {
        NpzArray::Sequences(s) => Ok(s),
        NpzArray::Array(_) => Err(Error::format(format!(
            "{}: `{name}` is not an array of sequences",
            path.display()
        ))),
    };
    let labels = |a: NpzArray, name: &str, n: usize| match a {
        NpzArray::Array(t) if t.dims() == [n] => Ok(t),
        _ => Err(Error::format(format!(
            "{}: `{name}` is not {n} labels",
            path.display()
        ))),
    };
    let x_train = seqs(take("x_train")?, "x_train")?;
    let y_train = labels(take("y_train")?, "y_train", x_train.len())?;
    let x_test = seqs(take("x_test")?, "x_test")?;
    let y_test = labels(take("y_test")?, "y_test", x_test.len())?;

    let mut rng = RandomState::new(args.seed);
    let (x_train, y_train) = shuffled(&mut rng, x_train, &y_train)?;
    let (x_test, y_test) = shuffled(&mut rng, x_test, &y_test)?;
    let mark = |xs: Vec<Vec<i64>>| -> Vec<Vec<i64>> {
        xs.into_iter()
            .map(|x| {
                let words = x.into_iter().map(|w| w + args.index_from);
                args.start_char.into_iter().chain(words).collect()
            })
            .collect()
    };
    let (mut x_train, mut y_train) = (mark(x_train), y_train);
    let (mut x_test, mut y_test) = (mark(x_test), y_test);
    if let Some(maxlen) = args.maxlen.filter(|&m| m > 0) {
        (x_train, y_train) = remove_long_seq(maxlen, x_train, &y_train)?;
        (x_test, y_test) = remove_long_seq(maxlen, x_test, &y_test)?;
        if x_train.is_empty() || x_test.is_empty() {
            return Err(Error::value(format!(
                "After filtering for sequences shorter than maxlen={maxlen}, no sequence was \
                 kept. Increase maxlen."
            )));
        }
    }
    let num_words = match args.num_words.filter(|&n| n > 0) {
        Some(n) => n as i64,
        None => x_train
            .iter()
            .chain(&x_test)
            .flatten()
            .copied()
            .max()
            .unwrap_or(0),
    };
    let keep = |w: i64| (args.skip_top as i64) <= w && w < num_words;
    let filter = |xs: Vec<Vec<i64>>| -> Vec<Vec<i64>> {
        xs.into_iter()
            .map(|x| match args.oov_char {
                Some(oov) => x
                    .into_iter()
                    .map(|w| if keep(w) { w } else { oov })
                    .collect(),
                None => x.into_iter().filter(|&w| keep(w)).collect(),
            })
            .collect()
    };
    Ok(((filter(x_train), y_train), (filter(x_test), y_test)))
}

/// `keras.datasets.imdb.get_word_index()`: word -> id (before `index_from`), from
/// `imdb_word_index.json` found as [`load_data`] finds its file.
///
/// ```no_run
/// let index = keras::datasets::imdb::get_word_index("imdb_word_index.json")?;
/// assert_eq!(index["the"], 1);
/// # Ok::<(), keras::Error>(())
/// ```
pub fn get_word_index(path: impl AsRef<Path>) -> Result<HashMap<String, i64>> {
    let path = find(path.as_ref())?;
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    serde_json::from_str(&text).map_err(|e| {
        Error::format(format!(
            "{}: not a word index (a JSON object of word ids): {e}",
            path.display()
        ))
    })
}

/// Where a bare file name is looked for, in order.
fn candidates(name: &Path) -> Vec<PathBuf> {
    let mut v = vec![];
    if let Ok(d) = std::env::var("KERAS_RS_DATA") {
        v.push(Path::new(&d).join(name));
    }
    if let Ok(d) = std::env::var("KERAS_HOME") {
        v.push(Path::new(&d).join("datasets").join(name));
    }
    if let Some(home) = std::env::var_os("HOME") {
        v.push(Path::new(&home).join(".keras").join("datasets").join(name));
    }
    v
}

fn find(path: &Path) -> Result<PathBuf> {
    let bare = path.parent().is_none_or(|p| p.as_os_str().is_empty());
    let places = if bare {
        candidates(path)
    } else {
        vec![path.to_path_buf()]
    };
    places.iter().find(|p| p.is_file()).cloned().ok_or_else(|| {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        Error::value(format!(
            "{} not found; looked in {places:?}. keras-rs downloads nothing: put Keras's copy \
             there (Python Keras caches it in ~/.keras/datasets/ on first use; it comes from \
             https://storage.googleapis.com/tensorflow/tf-keras-datasets/{name}).",
            path.display()
        ))
    })
}

/// The sequences and labels in `rng`'s shuffled order (Keras shuffles an index array).
fn shuffled(rng: &mut RandomState, x: Vec<Vec<i64>>, y: &Tensor) -> Result<Split> {
    let mut order: Vec<u32> = (0..x.len() as u32).collect();
    rng.shuffle(&mut order);
    let mut x: Vec<Option<Vec<i64>>> = x.into_iter().map(Some).collect();
    let xs = order
        .iter()
        .map(|&i| x[i as usize].take().unwrap_or_default())
        .collect();
    Ok((xs, select(y, &order)?))
}

fn select(y: &Tensor, rows: &[u32]) -> Result<Tensor> {
    let idx = Tensor::new(rows, y.device())?;
    Ok(y.index_select(&idx, 0)?)
}

/// Keras's `remove_long_seq`: keeps the sequences shorter than `maxlen`, and their labels.
fn remove_long_seq(maxlen: usize, x: Vec<Vec<i64>>, y: &Tensor) -> Result<Split> {
    let rows: Vec<u32> = (0..x.len() as u32)
        .filter(|&i| x[i as usize].len() < maxlen)
        .collect();
    let y = select(y, &rows)?;
    let x = x.into_iter().filter(|s| s.len() < maxlen).collect();
    Ok((x, y))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/imdb")
    }

    fn ints(v: &Value) -> Vec<i64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_i64().unwrap())
            .collect()
    }

    fn lists(v: &Value) -> Vec<Vec<i64>> {
        v.as_array().unwrap().iter().map(ints).collect()
    }

    /// Keras's arguments from the fixture's JSON (absent: Keras's default; null: None).
    fn args(file: &str, a: &Value) -> LoadDataArgs {
        let mut r = LoadDataArgs {
            path: dir().join(file),
            ..Default::default()
        };
        let opt = |k: &str, d: Option<i64>| match a.get(k) {
            None => d,
            Some(Value::Null) => None,
            Some(v) => v.as_i64(),
        };
        r.num_words = opt("num_words", None).map(|v| v as usize);
        r.skip_top = opt("skip_top", Some(0)).unwrap() as usize;
        r.maxlen = opt("maxlen", None).map(|v| v as usize);
        r.seed = opt("seed", Some(113)).unwrap() as u32;
        r.start_char = opt("start_char", Some(1));
        r.oov_char = opt("oov_char", Some(2));
        r.index_from = opt("index_from", Some(3)).unwrap();
        r
    }

    #[test]
    fn every_argument_gives_keras_numbers() {
        let p = dir().join("expected.json");
        let e: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        let cases = e["cases"].as_object().unwrap();
        assert_eq!(cases.len(), 14);
        for (name, c) in cases {
            let file = if name.starts_with("p3_arrays_") {
                "imdb_p3_arrays.npz"
            } else {
                "imdb.npz"
            };
            let ((xt, yt), (xe, ye)) = load_data(args(file, &c["args"])).unwrap();
            assert_eq!(xt, lists(&c["x_train"]), "{name}: x_train");
            assert_eq!(xe, lists(&c["x_test"]), "{name}: x_test");
            assert_eq!(yt.to_vec1::<i64>().unwrap(), ints(&c["y_train"]), "{name}");
            assert_eq!(ye.to_vec1::<i64>().unwrap(), ints(&c["y_test"]), "{name}");
        }
        let too_short = LoadDataArgs {
            maxlen: Some(3),
            ..args("imdb.npz", &Value::Null)
        };
        let err = load_data(too_short).unwrap_err().to_string();
        assert!(err.contains(e["maxlen_error"].as_str().unwrap()), "{err}");
    }

    #[test]
    fn the_shuffle_is_numpys_random_state() {
        let p = dir().join("expected.json");
        let e: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        let mut r = RandomState::new(113);
        let draws: Vec<i64> = (0..8).map(|_| r.next_u32() as i64).collect();
        assert_eq!(draws, ints(&e["mt19937_113"]));
        let mut v: Vec<i64> = (0..30).collect();
        RandomState::new(113).shuffle(&mut v);
        assert_eq!(v, ints(&e["shuffle_113_30"]));
    }

    #[test]
    fn word_index_and_missing_files() {
        let index = get_word_index(dir().join("imdb_word_index.json")).unwrap();
        assert_eq!((index["the"], index["w60"]), (1, 60));
        let missing = LoadDataArgs {
            path: dir().join("no_such.npz"),
            ..Default::default()
        };
        let err = load_data(missing).unwrap_err().to_string();
        assert!(
            err.contains("no_such.npz not found") && err.contains("downloads nothing"),
            "{err}"
        );
        // A file that is not a data set's .npz.
        let bad = get_word_index(dir().join("expected.json"))
            .unwrap_err()
            .to_string();
        assert!(bad.contains("not a word index"), "{bad}");
    }
}
