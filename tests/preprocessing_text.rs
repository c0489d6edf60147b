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
                        t.adapt_batches(corpus.chunks(b as usize).map(|c| strings::encode(c)), None)
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
