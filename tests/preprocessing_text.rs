//! The text preprocessing layers against Python Keras 3.15.1 (fixtures from
//! tests/fixtures/make_text_layers.py, run on TensorFlow): TextVectorization, StringLookup
//! and IntegerLookup vocabularies, outputs, IDF weights and configs; Keras-written `.keras`
//! models predicting on raw strings; our files read back here and (with Python Keras and
//! TensorFlow at hand) in Keras; an end-to-end text classifier trained here.

mod common;

use keras::layers::preprocessing::StringArray;
use keras::layers::*;
use keras::ops::strings;
use keras::prelude::*;
use keras::saving::config::{Config, Value};
use std::path::{Path, PathBuf};

fn fixtures() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/text_layers.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn fixture_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/text")
        .join(name)
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// A JSON array of strings (any nesting) as a string tensor of that shape.
fn string_tensor(v: &Value) -> Tensor {
    fn walk(v: &Value, dims: &mut Vec<usize>, depth: usize, out: &mut Vec<String>) {
        match v {
            Value::Array(a) => {
                if dims.len() <= depth {
                    dims.push(a.len());
                }
                for x in a {
                    walk(x, dims, depth + 1, out);
                }
            }
            Value::String(s) => out.push(s.clone()),
            other => panic!("not a string: {other}"),
        }
    }
    let (mut dims, mut out) = (vec![], vec![]);
    walk(v, &mut dims, 0, &mut out);
    StringArray::new(&dims, out).unwrap().to_tensor().unwrap()
}

fn int_tensor(v: &Value) -> Tensor {
    let rows = v.as_array().unwrap();
    if rows[0].is_array() {
        let r: Vec<Vec<i64>> = rows
            .iter()
            .map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_i64().unwrap())
                    .collect()
            })
            .collect();
        Tensor::new(r, &Device::Cpu).unwrap()
    } else {
        let r: Vec<i64> = rows.iter().map(|x| x.as_i64().unwrap()).collect();
        Tensor::new(r, &Device::Cpu).unwrap()
    }
}

fn values(t: &Tensor) -> Vec<f64> {
    keras::ops::to_vec_f64(t).unwrap()
}

fn check_output(what: &str, got: &Tensor, want: &Value, tol: f64) {
    let shape: Vec<usize> = want["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect();
    if let Some(s) = want.get("strings") {
        let a = StringArray::from_tensor(got).unwrap();
        assert_eq!(a.dims(), shape.as_slice(), "{what}: shape");
        assert_eq!(a.values(), strs(s).as_slice(), "{what}: strings");
        return;
    }
    assert_eq!(got.dims(), shape.as_slice(), "{what}: shape");
    let w: Vec<f64> = want["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    common::assert_close_vec(what, &values(got), &w, tol);
}

/// Our config (as serialized in a model) against Keras's, `name` aside.
fn check_config(what: &str, layer: &LayerRef, want: &Value) {
    let ours = keras::saving::model_config::serialize_layer(layer).unwrap();
    let mut ours: Config = ours["config"].as_object().unwrap().clone();
    ours.remove("name");
    let want = want.as_object().unwrap();
    let ok: Vec<&String> = want.keys().collect();
    assert_eq!(ours.keys().collect::<Vec<_>>(), ok, "{what}: config keys");
    for (k, v) in want {
        assert_eq!(&ours[k], v, "{what}: config {k}");
    }
}

fn vocab_json(v: &Value) -> Vec<Value> {
    v.as_array().unwrap().clone()
}

#[test]
fn text_vectorization_matches_keras() {
    let f = fixtures();
    let corpus = strs(&f["corpus"]);
    let cases = f["text_vectorization"].as_array().unwrap();
    assert!(cases.len() >= 17);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let kwargs = case["kwargs"].as_object().unwrap();
        let layer = keras::saving::registry::layer_from_config("TextVectorization", kwargs)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        if case["adapt"].as_bool().unwrap() {
            layer
                .with_mut(|t: &mut TextVectorization| match case["batches"].as_u64() {
                    Some(b) => {
                        t.adapt_batches(corpus.chunks(b as usize).map(strings::encode), None)
                    }
                    None => t.adapt(&corpus),
                })
                .unwrap()
                .unwrap_or_else(|e| panic!("{name}: adapt: {e}"));
        }
        let vocab: Vec<Value> = layer
            .with(|t: &TextVectorization| t.get_vocabulary(true))
            .unwrap()
            .into_iter()
            .map(Value::from)
            .collect();
        assert_eq!(vocab, vocab_json(&case["vocabulary"]), "{name}: vocabulary");
        let size = layer
            .with(|t: &TextVectorization| t.vocabulary_size())
            .unwrap();
        assert_eq!(
            size as u64,
            case["vocabulary_size"].as_u64().unwrap(),
            "{name}"
        );
        if let Some(idf) = case["idf_weights"].as_array() {
            let want: Vec<f64> = idf.iter().map(|x| x.as_f64().unwrap()).collect();
            let got: Vec<f64> = layer
                .with(|t: &TextVectorization| t.idf_weights_values().unwrap().to_vec())
                .unwrap()
                .into_iter()
                .map(f64::from)
                .collect();
            common::assert_close_vec(&format!("{name}: idf"), &got, &want, 1e-6);
        }
        let probe: Vec<Value> = strs(&case["probe"])
            .into_iter()
            .map(|p| {
                if case["column"].as_bool().unwrap() {
                    Value::from(vec![p])
                } else {
                    Value::from(p)
                }
            })
            .collect();
        let x = string_tensor(&Value::Array(probe));
        match (layer.apply(&x), case.get("output")) {
            (Ok(y), Some(want)) => check_output(name, &y, want, 1e-6),
            (Err(e), None) => eprintln!("{name}: errors as Keras does: {e}"),
            (got, _) => panic!(
                "{name}: got {:?}, Keras: {:?}",
                got.map(|t| t.dims().to_vec()),
                case.get("error")
            ),
        }
        check_config(name, &layer, &case["config"]);
    }
}

#[test]
fn lookups_match_keras() {
    let f = fixtures();
    for case in f["lookup"].as_array().unwrap() {
        let class = case["class"].as_str().unwrap();
        let name = format!("{class} {}", case["name"].as_str().unwrap());
        let kwargs = case["kwargs"].as_object().unwrap();
        let layer = keras::saving::registry::layer_from_config(class, kwargs)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let strings_in = class == "StringLookup";
        if case["adapt"].as_bool().unwrap() {
            let data = &case["data"];
            let r = match (strings_in, case["batches"].as_u64()) {
                (true, Some(b)) => {
                    let d = strs(data);
                    layer.with_mut(|l: &mut StringLookup| {
                        l.adapt_batches(d.chunks(b as usize).map(strings::encode), None)
                    })
                }
                (true, None) => layer.with_mut(|l: &mut StringLookup| l.adapt(string_tensor(data))),
                (false, _) => layer.with_mut(|l: &mut IntegerLookup| l.adapt(int_tensor(data))),
            };
            r.unwrap().unwrap_or_else(|e| panic!("{name}: adapt: {e}"));
        }
        let (vocab, size): (Vec<Value>, usize) = if strings_in {
            layer
                .with(|l: &StringLookup| {
                    let v = l
                        .get_vocabulary(true)
                        .into_iter()
                        .map(Value::from)
                        .collect();
                    (v, l.vocabulary_size())
                })
                .unwrap()
        } else {
            layer
                .with(|l: &IntegerLookup| {
                    let v = l
                        .get_vocabulary(true)
                        .into_iter()
                        .map(Value::from)
                        .collect();
                    (v, l.vocabulary_size())
                })
                .unwrap()
        };
        assert_eq!(vocab, vocab_json(&case["vocabulary"]), "{name}: vocabulary");
        assert_eq!(
            size as u64,
            case["vocabulary_size"].as_u64().unwrap(),
            "{name}"
        );
        if let Some(idf) = case["idf_weights"].as_array() {
            let want: Vec<f64> = idf.iter().map(|x| x.as_f64().unwrap()).collect();
            let got: Vec<f32> = if strings_in {
                layer.with(|l: &StringLookup| l.lookup().idf_weights().unwrap().to_vec())
            } else {
                layer.with(|l: &IntegerLookup| l.lookup().idf_weights().unwrap().to_vec())
            }
            .unwrap();
            let got: Vec<f64> = got.into_iter().map(f64::from).collect();
            common::assert_close_vec(&format!("{name}: idf"), &got, &want, 1e-6);
        }
        let probe = &case["probe"];
        let invert = kwargs.get("invert").and_then(Value::as_bool) == Some(true);
        let x = if strings_in && !invert {
            string_tensor(probe)
        } else {
            int_tensor(probe)
        };
        match (layer.apply(&x), case.get("output")) {
            (Ok(y), Some(want)) => check_output(&name, &y, want, 1e-6),
            (Err(e), None) => {
                let keras_error = case["error"].as_str().unwrap();
                assert!(
                    keras_error.contains("StringLookup") || keras_error.contains("IntegerLookup"),
                    "{keras_error}"
                );
                assert!(
                    e.to_string()
                        .contains("When `num_oov_indices=0` all inputs should be in vocabulary"),
                    "{name}: {e}"
                );
            }
            (got, _) => panic!(
                "{name}: got {:?}, Keras: {:?}",
                got.map(|t| t.dims().to_vec()),
                case.get("error")
            ),
        }
        check_config(&name, &layer, &case["config"]);
    }
}

fn predict(m: &mut Model, x: Tensor) -> Tensor {
    m.predict(
        x,
        EvalArgs {
            verbose: 0,
            ..Default::default()
        },
    )
    .unwrap()
}

fn pred_tensor(v: &Value) -> Tensor {
    let r: Vec<Vec<f32>> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect()
        })
        .collect();
    Tensor::new(r, &Device::Cpu).unwrap()
}

#[test]
fn keras_string_models_load_and_predict_on_raw_strings() {
    let f = fixtures();
    let models = &f["models"];
    let dir = std::env::temp_dir().join(format!("keras_rs_text_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (file, x) in [
        ("tv_embedding", {
            let p: Vec<Value> = strs(&models["tv_embedding"]["probe"])
                .into_iter()
                .map(|s| Value::from(vec![s]))
                .collect();
            string_tensor(&Value::Array(p))
        }),
        (
            "tv_tfidf",
            strings::encode(&strs(&models["tv_tfidf"]["probe"])).unwrap(),
        ),
        (
            "string_lookup",
            string_tensor(&models["string_lookup"]["probe"]),
        ),
    ] {
        let mut m = keras::saving::load_model(fixture_file(&format!("{file}.keras"))).unwrap();
        let want = pred_tensor(&models[file]["pred"]);
        common::assert_close(file, &predict(&mut m, x.clone()), &want, 1e-5);
        // Ours, saved and read back, predicts the same (vocabulary and idf from our assets).
        let path = dir.join(format!("{file}.keras"));
        m.save(&path).unwrap();
        let mut back = keras::saving::load_model(&path).unwrap();
        common::assert_close(
            &format!("{file} (ours)"),
            &predict(&mut back, x),
            &want,
            1e-5,
        );
    }
    let mut m = keras::saving::load_model(fixture_file("tv_embedding.keras")).unwrap();
    assert_eq!(
        m.summary_string().trim_end(),
        models["tv_embedding"]["summary"]
            .as_str()
            .unwrap()
            .trim_end()
    );
    // A (batch,) tensor from strings::encode fits the (None, 1) string input.
    let flat = strings::encode(&strs(&models["tv_embedding"]["probe"])).unwrap();
    common::assert_close(
        "flat strings",
        &predict(&mut m, flat),
        &pred_tensor(&models["tv_embedding"]["pred"]),
        1e-5,
    );
    let names: Vec<String> = keras::saving::list_archive(dir.join("tv_embedding.keras"))
        .unwrap()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert!(
        names.contains(&"assets/layers/text_vectorization/vocabulary.txt".to_string()),
        "{names:?}"
    );
    assert!(names
        .contains(&"assets/layers/text_vectorization/_lookup_layer/vocabulary.txt".to_string()));
    std::fs::remove_dir_all(&dir).ok();
}

const REVIEWS: [&str; 12] = [
    "A wonderful, great movie!",
    "great acting and a wonderful story",
    "I loved it: great fun",
    "Superb. Loved every minute",
    "wonderful wonderful film",
    "fun and superb",
    "An awful, boring movie.",
    "boring story and bad acting",
    "I hated it: awful",
    "Terrible. Hated every minute",
    "bad bad film",
    "boring and terrible",
];

fn labels() -> Tensor {
    let v: Vec<i64> = (0..12).map(|i| i64::from(i >= 6)).collect();
    Tensor::from_vec(v, 12, &Device::Cpu).unwrap()
}

/// Input::string -> TextVectorization -> Embedding -> GlobalAveragePooling1D -> Dense.
fn text_classifier() -> Model {
    keras::utils::set_random_seed(3);
    let mut tv = TextVectorization::new()
        .max_tokens(40)
        .output_sequence_length(6);
    tv.adapt(REVIEWS).unwrap();
    let inputs = Input::shape([1]).dtype_string().name("review").build();
    let x = tv.call(&inputs).unwrap();
    let x = Embedding::new(40, 8).call(&x).unwrap();
    let x = GlobalAveragePooling1D::new().call(&x).unwrap();
    let out = Dense::new(2).activation("softmax").call(&x).unwrap();
    let mut m = Model::new(&[inputs], &[out])
        .unwrap()
        .name("rust_text_classifier");
    m.compile(
        Adam::new().learning_rate(0.05),
        "sparse_categorical_crossentropy",
        ["accuracy"],
    )
    .unwrap();
    m
}

fn quiet() -> EvalArgs<'static> {
    EvalArgs {
        verbose: 0,
        ..Default::default()
    }
}

#[test]
fn end_to_end_text_classifier_trains_saves_and_classifies_raw_strings() {
    let mut m = text_classifier();
    assert_eq!(m.inputs()[0].shape().to_string(), "(None, 1)");
    assert!(m.inputs()[0].is_string());
    let summary = m.summary_string();
    assert!(summary.contains("│ text_vectorization"), "{summary}");
    assert!(summary.contains("(None, 6)"), "{summary}");
    let history = m
        .fit(
            &REVIEWS,
            labels(),
            FitArgs {
                epochs: 40,
                batch_size: 4,
                verbose: 0,
                ..Default::default()
            },
        )
        .unwrap();
    let loss = history.history.get("loss").unwrap().clone();
    assert!(
        loss[loss.len() - 1] < 0.5 * loss[0],
        "loss did not go down: {loss:?}"
    );
    let probe = [
        "a great and wonderful film",
        "awful boring acting",
        "hated it",
    ];
    let p: Tensor = m.predict(&probe, quiet()).unwrap();
    let classes: Vec<u32> = p.argmax(1).unwrap().to_vec1().unwrap();
    assert_eq!(classes, vec![0, 1, 1], "{p}");
    let dir = std::env::temp_dir().join(format!("keras_rs_text_e2e_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("classifier.keras");
    m.save(&path).unwrap();
    let mut back = keras::saving::load_model(&path).unwrap();
    common::assert_close("loaded", &back.predict(&probe, quiet()).unwrap(), &p, 1e-6);
    // The vocabulary came back from the archive's asset, not from the config.
    let tv = back.layers()[1].clone();
    let vocab = tv
        .with(|t: &TextVectorization| t.get_vocabulary(true))
        .unwrap();
    assert_eq!(&vocab[..4], ["", "[UNK]", "wonderful", "and"]);
    // Training goes on from the saved optimizer state.
    let more = back
        .fit(
            &REVIEWS,
            labels(),
            FitArgs {
                epochs: 1,
                batch_size: 4,
                verbose: 0,
                ..Default::default()
            },
        )
        .unwrap();
    assert!(more.history.get("loss").unwrap()[0] < loss[0]);
    // A Sequential model from the same layers.
    let mut tv = TextVectorization::new().output_mode("multi_hot");
    tv.adapt(REVIEWS).unwrap();
    let vocab_size = tv.vocabulary_size();
    let mut s = Sequential::from_layers([
        Input::string(()).into(),
        tv.into(),
        Dense::new(2).activation("softmax").into(),
    ])
    .unwrap();
    assert_eq!(
        s.outputs()[0].shape().to_string(),
        "(None, 2)",
        "multi_hot over {vocab_size} tokens"
    );
    s.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
        .unwrap();
    s.fit(
        &REVIEWS,
        labels(),
        FitArgs {
            epochs: 2,
            verbose: 0,
            ..Default::default()
        },
    )
    .unwrap();
    let seq_path = dir.join("sequential.keras");
    s.save(&seq_path).unwrap();
    let mut seq_back = keras::saving::load_model(&seq_path).unwrap();
    common::assert_close(
        "sequential",
        &seq_back.predict(&probe, quiet()).unwrap(),
        &s.predict(&probe, quiet()).unwrap(),
        1e-6,
    );
    // A string input refuses numbers, naming the input.
    let e = back
        .predict::<Tensor>(
            Tensor::zeros((2, 1), DType::F32, &Device::Cpu).unwrap(),
            quiet(),
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("expects strings"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

fn python_with_tensorflow() -> Option<String> {
    let candidates = [std::env::var("KERAS_PYTHON").ok(), Some("python3".into())];
    candidates.into_iter().flatten().find(|p| {
        std::process::Command::new(p)
            .args(["-c", "import keras, tensorflow"])
            .env("KERAS_BACKEND", "tensorflow")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    })
}

/// Saves `m` as `<name>.keras` with `<name>.json`: the inputs (as Keras takes them), our
/// predictions and the vocabularies of its text layers.
fn export(dir: &Path, name: &str, m: &mut Model, x: Value, input: Tensor) {
    m.save(dir.join(format!("{name}.keras"))).unwrap();
    let pred: Tensor = m.predict(input, quiet()).unwrap();
    let pred: Vec<Vec<f32>> = pred.to_vec2().unwrap();
    let mut vocabularies = serde_json::Map::new();
    for l in m.layers() {
        let v: Option<Vec<String>> = l
            .with(|t: &TextVectorization| t.get_vocabulary(true))
            .or_else(|| l.with(|t: &StringLookup| t.get_vocabulary(true)))
            .or_else(|| {
                l.with(|t: &IntegerLookup| {
                    t.get_vocabulary(true)
                        .iter()
                        .map(|i| i.to_string())
                        .collect()
                })
            });
        if let Some(v) = v {
            vocabularies.insert(l.name(), Value::from(v));
        }
    }
    let json = serde_json::json!({ "x": x, "pred": pred, "vocabularies": vocabularies });
    std::fs::write(dir.join(format!("{name}.json")), json.to_string()).unwrap();
}

#[test]
fn text_models_we_save_load_in_python_keras() {
    let dir = std::env::temp_dir().join(format!("keras_rs_text_interop_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let probe = ["a great film", "boring, bad acting!", "", "wonderful fun"];
    let column = Value::from(
        probe
            .iter()
            .map(|s| vec![s.to_string()])
            .collect::<Vec<_>>(),
    );
    // 1. Trained here: TextVectorization -> Embedding -> pooling -> Dense.
    let mut m = text_classifier();
    m.fit(
        &REVIEWS,
        labels(),
        FitArgs {
            epochs: 3,
            batch_size: 4,
            verbose: 0,
            ..Default::default()
        },
    )
    .unwrap();
    export(
        &dir,
        "classifier",
        &mut m,
        column.clone(),
        strings::encode(&probe).unwrap(),
    );
    // 2. tf_idf with idf weights learned here, on scalar strings.
    let mut tv = TextVectorization::new()
        .output_mode("tf_idf")
        .max_tokens(25);
    tv.adapt(REVIEWS).unwrap();
    let inputs = Input::string(());
    let out = Dense::new(3).call(tv.call(&inputs).unwrap()).unwrap();
    let mut m = Model::new(&[inputs], &[out]).unwrap();
    export(
        &dir,
        "tfidf",
        &mut m,
        Value::from(probe.to_vec()),
        strings::encode(&probe).unwrap(),
    );
    // 3. StringLookup with a mask, learned here, on rows of three tokens.
    let tokens = [
        ["great", "film", ""],
        ["bad", "bad", "zzz"],
        ["fun", "", ""],
    ];
    let flat: Vec<String> = tokens.iter().flatten().map(|s| s.to_string()).collect();
    let token_tensor = StringArray::new(&[3, 3], flat)
        .unwrap()
        .to_tensor()
        .unwrap();
    let mut sl = StringLookup::new().mask_token("");
    sl.adapt(["great", "film", "bad", "bad", "fun", "film", ""])
        .unwrap();
    let size = sl.vocabulary_size();
    let inputs = Input::string([3]);
    let x = Embedding::new(size, 4)
        .call(sl.call(&inputs).unwrap())
        .unwrap();
    let out = Dense::new(2)
        .call(GlobalAveragePooling1D::new().call(&x).unwrap())
        .unwrap();
    let mut m = Model::new(&[inputs], &[out]).unwrap();
    export(
        &dir,
        "string_lookup",
        &mut m,
        serde_json::json!(tokens),
        token_tensor,
    );
    // 4. A vocabulary given in the config, multi_hot, in a Sequential.
    let mut s = Sequential::from_layers([
        Input::string([1]).into(),
        TextVectorization::new()
            .vocabulary(&["great", "bad", "film", "fun"])
            .output_mode("multi_hot")
            .into(),
        Dense::new(2).into(),
    ])
    .unwrap()
    .into_model();
    export(
        &dir,
        "sequential_given_vocab",
        &mut s,
        column,
        strings::encode(&probe).unwrap(),
    );
    // 6. A custom standardization, registered by name on both sides.
    let mut tv = TextVectorization::new()
        .standardize_fn("demo>custom_standardization", custom_standardization)
        .output_sequence_length(4);
    tv.adapt(["Great<br />film!", "BAD<br />film, bad"])
        .unwrap();
    let inputs = Input::string([1]);
    let out = Dense::new(2)
        .call(
            GlobalAveragePooling1D::new()
                .call(
                    Embedding::new(10, 3)
                        .call(tv.call(&inputs).unwrap())
                        .unwrap(),
                )
                .unwrap(),
        )
        .unwrap();
    let mut m = Model::new(&[inputs], &[out]).unwrap();
    let html = ["a <br />GREAT film", "bad<br />bad"];
    let html_column = Value::from(html.iter().map(|s| vec![s.to_string()]).collect::<Vec<_>>());
    export(
        &dir,
        "custom_standardize",
        &mut m,
        html_column,
        strings::encode(&html).unwrap(),
    );
    // 5. IntegerLookup counts.
    let mut il = IntegerLookup::new().output_mode("count");
    il.adapt([3, 5, 5, 9, 3, 5]).unwrap();
    let inputs = Input::shape([3]).dtype(DType::I64).build();
    let out = Dense::new(2).call(il.call(&inputs).unwrap()).unwrap();
    let mut m = Model::new(&[inputs], &[out]).unwrap();
    let ints = [[3i64, 5, 7], [9, 9, 9]];
    export(
        &dir,
        "integer_lookup",
        &mut m,
        serde_json::json!(ints),
        Tensor::new(&ints, &Device::Cpu).unwrap(),
    );
    // Our own loader reads every file back to the same predictions.
    for name in [
        "custom_standardize",
        "classifier",
        "tfidf",
        "string_lookup",
        "sequential_given_vocab",
        "integer_lookup",
    ] {
        let mut back = keras::saving::load_model(dir.join(format!("{name}.keras"))).unwrap();
        let want: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap(),
        )
        .unwrap();
        let x = &want["x"];
        let input = if name == "integer_lookup" {
            int_tensor(x)
        } else {
            string_tensor(x)
        };
        common::assert_close(
            name,
            &predict(&mut back, input),
            &pred_tensor(&want["pred"]),
            1e-6,
        );
    }
    let required = std::env::var("KERAS_RS_REQUIRE_PYTHON").is_ok_and(|v| v == "1");
    let Some(py) = python_with_tensorflow() else {
        // Keras's text layers need TensorFlow (CI's venv installs tensorflow-cpu).
        assert!(
            !required,
            "KERAS_RS_REQUIRE_PYTHON=1 but no Python with keras and tensorflow was found \
             (install tensorflow-cpu next to keras)"
        );
        eprintln!("skipping the Python Keras half: no python with keras and tensorflow (set KERAS_PYTHON)");
        return;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/check_rust_text.py");
    let out = std::process::Command::new(&py)
        .arg(&script)
        .arg(&dir)
        .env("KERAS_BACKEND", "tensorflow")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{text}");
    assert!(
        out.status.success(),
        "Python Keras rejected our files:\n{text}"
    );
    assert!(text.contains("checked 6 models, 0 failed"), "{text}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn adapt_over_a_dataset_and_a_sequential_built_from_strings() {
    let f = fixtures();
    let corpus = strs(&f["corpus"]);
    let want = f["text_vectorization"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "tf_idf_batches")
        .unwrap()
        .clone();
    // tf.data's `from_tensor_slices(corpus).batch(3)`, as the fixture adapted.
    let ds = keras::data::Dataset::from_tensor_slices(strings::encode(&corpus).unwrap())
        .unwrap()
        .batch(3)
        .unwrap();
    let mut tv = TextVectorization::new()
        .output_mode("tf_idf")
        .max_tokens(15);
    tv.adapt_batches(ds.iter().unwrap(), None).unwrap();
    let vocab: Vec<Value> = tv
        .get_vocabulary(true)
        .into_iter()
        .map(Value::from)
        .collect();
    assert_eq!(vocab, vocab_json(&want["vocabulary"]));
    let idf: Vec<f64> = tv
        .idf_weights_values()
        .unwrap()
        .iter()
        .map(|&x| f64::from(x))
        .collect();
    let want_idf: Vec<f64> = want["idf_weights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    common::assert_close_vec("idf over batches", &idf, &want_idf, 1e-6);
    // `steps` stops after that many batches.
    let mut first = TextVectorization::new();
    first.adapt_batches(ds.iter().unwrap(), Some(1)).unwrap();
    let mut direct = TextVectorization::new();
    direct.adapt(&corpus[..3]).unwrap();
    assert_eq!(first.get_vocabulary(true), direct.get_vocabulary(true));
    // A dataset of (texts, labels) pairs adapts on its texts.
    let pairs =
        keras::data::Dataset::from_tensor_slices((strings::encode(&REVIEWS).unwrap(), labels()))
            .unwrap()
            .batch(4)
            .unwrap()
            .map(|(x, _y): (Tensor, Tensor)| Ok(x));
    let mut from_pairs = StringLookup::new();
    from_pairs
        .adapt_batches(pairs.iter().unwrap(), None)
        .unwrap();
    assert_eq!(from_pairs.get_vocabulary(true)[0], "[UNK]");
    // A Sequential with no Input builds a string input from the first batch of strings.
    let mut s = Sequential::from_layers([
        direct.into(),
        Embedding::new(64, 4).into(),
        GlobalAveragePooling1D::new().into(),
        Dense::new(3).into(),
    ])
    .unwrap();
    let p: Tensor = s.predict(&REVIEWS, quiet()).unwrap();
    assert_eq!(p.dims(), &[12, 3]);
    assert!(s.inputs()[0].is_string());
    assert_eq!(s.inputs()[0].shape().to_string(), "(None,)");
}

#[test]
fn the_tutorial_flow_text_dataset_adapt_and_fit() {
    // keras.io's text classification from scratch, in small: raw files -> dataset of
    // (texts, labels) -> adapt on the texts -> a model on raw strings -> fit on the dataset.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/texts");
    let raw = keras::utils::text_dataset_from_directory(
        &dir,
        keras::utils::TextDatasetArgs {
            batch_size: Some(2),
            seed: Some(1),
            ..Default::default()
        },
    )
    .unwrap();
    let texts = raw.map(|(x, _y): (Tensor, Tensor)| Ok(x));
    let mut tv = TextVectorization::new()
        .max_tokens(100)
        .output_sequence_length(10);
    tv.adapt_batches(texts.iter().unwrap(), None).unwrap();
    assert!(tv.vocabulary_size() > 2);
    let inputs = Input::string([1]);
    let x = tv.call(&inputs).unwrap();
    let x = Embedding::new(100, 4).call(&x).unwrap();
    let x = GlobalAveragePooling1D::new().call(&x).unwrap();
    let out = Dense::new(1).activation("sigmoid").call(&x).unwrap();
    let mut m = Model::new(&[inputs], &[out]).unwrap();
    m.compile("adam", "binary_crossentropy", ["accuracy"])
        .unwrap();
    let h = m
        .fit_dataset(
            &raw,
            FitArgs {
                epochs: 2,
                verbose: 0,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(h.history.get("loss").unwrap().len(), 2);
}

/// The keras.io IMDB tutorial's `custom_standardization`, as the fixture registers it.
fn custom_standardization(s: &str) -> String {
    use keras::layers::preprocessing::Standardize;
    Standardize::StripPunctuation.apply(&s.to_ascii_lowercase().replace("<br />", " "))
}

#[test]
fn custom_standardize_functions_load_by_registered_name() {
    let f = fixtures();
    let want = &f["models"]["tv_custom"];
    keras::layers::preprocessing::register_standardize(
        "demo>custom_standardization",
        custom_standardization,
    );
    let mut m = keras::saving::load_model(fixture_file("tv_custom.keras")).unwrap();
    let tv = m.layers()[1].clone();
    let vocab: Vec<Value> = tv
        .with(|t: &TextVectorization| t.get_vocabulary(true))
        .unwrap()
        .into_iter()
        .map(Value::from)
        .collect();
    assert_eq!(vocab, vocab_json(&want["vocabulary"]));
    let ours = keras::saving::model_config::serialize_layer(&tv).unwrap();
    assert_eq!(ours["config"]["standardize"], want["config_standardize"]);
    let probe: Vec<Value> = strs(&want["probe"])
        .into_iter()
        .map(|s| Value::from(vec![s]))
        .collect();
    let x = string_tensor(&Value::Array(probe));
    let p = predict(&mut m, x);
    fn flat(v: &Value, out: &mut Vec<f64>) {
        match v {
            Value::Array(a) => a.iter().for_each(|x| flat(x, out)),
            x => out.push(x.as_f64().unwrap()),
        }
    }
    let mut pred = vec![];
    flat(&want["pred"], &mut pred);
    let got = values(&p);
    common::assert_close_vec("tv_custom", &got, &pred, 1e-5);
    // An unregistered function is an error naming it and the way to register it.
    let mut cfg = Config::new();
    cfg.insert(
        "standardize".into(),
        serde_json::json!({"module": "builtins", "class_name": "function", "config": "demo>nowhere", "registered_name": "function"}),
    );
    let e = keras::saving::registry::layer_from_config("TextVectorization", &cfg)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("'demo>nowhere'") && e.contains("register_standardize"),
        "{e}"
    );
    // Built here with a function, saved, loaded back.
    let mut tv = TextVectorization::new()
        .standardize(None)
        .split_fn("demo>split_on_commas", |s| {
            s.split(',').map(|t| t.trim().to_string()).collect()
        });
    tv.adapt(["red, green", "green,blue"]).unwrap();
    assert_eq!(tv.get_vocabulary(false), ["green", "red", "blue"]);
}
