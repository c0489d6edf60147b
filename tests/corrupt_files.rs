//! Truncated, corrupted and wrong-kind files give errors, never panics or unbounded
//! allocations. Crashers the fuzzer (fuzz/, `cargo fuzz run keras_archive`) found are kept in
//! tests/fixtures/corrupt/ and replayed here.

use keras::saving::{load_model, load_model_from_bytes, model_from_json};
use std::io::Write;
use std::path::{Path, PathBuf};

fn fixture(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(file)
}

fn bytes(file: &str) -> Vec<u8> {
    std::fs::read(fixture(file)).unwrap()
}

/// Loads `data`, turning a panic into a test failure that says which case it was.
fn load_quietly(data: &[u8], case: &str) -> Result<(), String> {
    match std::panic::catch_unwind(|| load_model_from_bytes(data).map(|_| ())) {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(_) => panic!("{case}: the loader panicked"),
    }
}

/// A zip archive holding the given entries (stored, as Keras writes them).
fn archive(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, data) in entries {
        z.start_file(*name, opts).unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap().into_inner()
}

fn entry(file: &str, name: &str) -> Vec<u8> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(fixture(file)).unwrap()).unwrap();
    let mut out = vec![];
    std::io::Read::read_to_end(&mut z.by_name(name).unwrap(), &mut out).unwrap();
    out
}

#[test]
fn truncated_archives_are_errors() {
    let good = bytes("saving/two_input_lstm.keras");
    assert!(load_quietly(&good, "intact").is_ok());
    let mut cuts: Vec<usize> = (0..good.len()).step_by(good.len() / 97).collect();
    cuts.extend([1, 4, 22, good.len() - 22, good.len() - 1]);
    for n in cuts {
        let e = load_quietly(&good[..n], &format!("cut at {n}")).unwrap_err();
        assert!(e.starts_with("<bytes>:"), "cut at {n}: {e}");
    }
}

#[test]
fn flipped_bytes_never_panic() {
    let good = bytes("saving/residual_cnn.keras");
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut errors = 0;
    for case in 0..300 {
        let mut data = good.clone();
        for _ in 0..1 + case % 4 {
            let i = (next() % data.len() as u64) as usize;
            data[i] ^= 1 << (next() % 8);
        }
        if load_quietly(&data, &format!("flip case {case}")).is_err() {
            errors += 1;
        }
    }
    // Stored entries carry CRC-32s: nearly every flip must be caught.
    assert!(
        errors > 250,
        "only {errors} of 300 corrupted files were refused"
    );
}

#[test]
fn wrong_kind_files_are_errors_naming_the_problem() {
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", vec![], "not a valid .keras file"),
        (
            "text",
            b"hello, this is not a model".to_vec(),
            "not a valid .keras file",
        ),
        (
            "npz",
            bytes("saving/seq_mlp.npz"),
            "no readable config.json",
        ),
        (
            "h5",
            bytes("saving/seq_mlp.weights.h5"),
            // An HDF5 file is read as a whole-model .h5 (Keras's wording for a weights file).
            "No model config found in the file",
        ),
        (
            "no weights",
            archive(&[("config.json", &entry("saving/seq_mlp.keras", "config.json"))]),
            "no readable model.weights.h5",
        ),
        (
            "bad json",
            archive(&[("config.json", b"{\"class_name\": \"Sequential\", ")]),
            "config.json is not valid JSON",
        ),
        (
            "unknown class",
            archive(&[(
                "config.json",
                br#"{"class_name": "Sequential", "config": {"name": "s", "layers": [
                    {"class_name": "InputLayer", "config": {"batch_shape": [null, 3], "name": "i"}},
                    {"class_name": "MyFancyLayer", "config": {"name": "f"}}]}}"#,
            )]),
            "Could not locate class 'MyFancyLayer'",
        ),
        (
            "weights not hdf5",
            archive(&[
                ("config.json", &entry("saving/seq_mlp.keras", "config.json")),
                ("model.weights.h5", b"\x89HDF\r\n\x1a\n but then nothing"),
            ]),
            "model.weights.h5",
        ),
        (
            "weights of another model",
            archive(&[
                ("config.json", &entry("saving/seq_mlp.keras", "config.json")),
                (
                    "model.weights.h5",
                    &entry("saving/residual_cnn.keras", "model.weights.h5"),
                ),
            ]),
            "expected",
        ),
    ];
    for (what, data, want) in cases {
        let e = load_quietly(&data, what).unwrap_err();
        assert!(e.contains(want), "{what}: {e}");
    }
    let e = load_model("/nonexistent/model.keras")
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("/nonexistent/model.keras"), "{e}");
}

#[test]
fn lying_sizes_are_refused_before_allocating() {
    // An entry whose header claims 4 GiB of JSON: refused without reading.
    let mut data = archive(&[("config.json", b"{}")]);
    // Patch the central directory's uncompressed size (offset 24 in the CD header).
    let cd = data.windows(4).rposition(|w| w == b"PK\x01\x02").unwrap();
    data[cd + 24..cd + 28].copy_from_slice(&u32::MAX.to_le_bytes());
    let e = load_quietly(&data, "lying size").unwrap_err();
    assert!(e.contains("config.json"), "{e}");
}

#[test]
fn corrupt_json_configs_are_errors() {
    let good = String::from_utf8(entry("saving/nested_autoencoder.keras", "config.json")).unwrap();
    assert!(model_from_json(&good).is_ok());
    for n in (0..good.len()).step_by(good.len() / 61) {
        let cut = &good[..n];
        let r = std::panic::catch_unwind(|| model_from_json(cut).map(|_| ()));
        assert!(matches!(r, Ok(Err(_))), "cut at {n}: must be an error");
    }
    for (from, to) in [
        ("\"units\": 8", "\"units\": -8"),
        ("\"units\": 8", "\"units\": \"eight\""),
        (
            "\"keras_history\": [\"img\", 0, 0]",
            "\"keras_history\": [\"nobody\", 0, 0]",
        ),
        (
            "\"keras_history\": [\"img\", 0, 0]",
            "\"keras_history\": [\"img\", 7, 0]",
        ),
        ("\"activation\": \"relu\"", "\"activation\": \"relux\""),
    ] {
        assert!(good.contains(from), "{from}");
        let bad = good.replacen(from, to, 1);
        let r = std::panic::catch_unwind(|| model_from_json(&bad).map(|_| ()));
        assert!(matches!(r, Ok(Err(_))), "{to}: must be an error");
    }
}

#[test]
fn fuzzer_crashers_stay_fixed() {
    let dir = fixture("corrupt");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for e in entries.flatten() {
        let data = std::fs::read(e.path()).unwrap();
        let name = e.file_name().to_string_lossy().to_string();
        let _ = load_quietly(&data, &name);
        if let Ok(s) = std::str::from_utf8(&data) {
            let _ = std::panic::catch_unwind(|| model_from_json(s).map(|_| ()))
                .unwrap_or_else(|_| panic!("{name}: model_from_json panicked"));
        }
    }
}

#[test]
fn configs_asking_for_more_weights_than_the_file_holds_are_refused() {
    // A Dense of 10^9 units would need 80 GB; the file holds a few kilobytes of weights.
    let config = String::from_utf8(entry("saving/seq_mlp.keras", "config.json")).unwrap();
    let huge = config.replacen("\"units\": 16", "\"units\": 1000000000", 1);
    assert_ne!(huge, config);
    let data = archive(&[
        ("config.json", huge.as_bytes()),
        (
            "model.weights.h5",
            &entry("saving/seq_mlp.keras", "model.weights.h5"),
        ),
    ]);
    let e = load_quietly(&data, "huge dense").unwrap_err();
    assert!(e.contains("larger than the weights the file holds"), "{e}");
}

/// Every layer of Keras's config fixture, with each of its integer options set to 0 (or each
/// integer list to zeros), called on inputs of several ranks and run on a batch: errors are
/// fine, panics are not.
#[test]
fn zeroed_layer_options_never_panic() {
    use keras::prelude::*;
    let path = fixture("saving/layer_configs.json");
    let entries: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let shapes: [&[usize]; 3] = [&[4], &[6, 4], &[8, 8, 3]];
    let mut cases = 0;
    let mut panics = vec![];
    for e in &entries {
        let class = e["class_name"].as_str().unwrap();
        let config = e["config"].as_object().unwrap();
        for (key, v) in config {
            let zero = match v {
                serde_json::Value::Number(n) if n.is_u64() => serde_json::json!(0),
                serde_json::Value::Array(a) if a.iter().all(|x| x.is_u64()) => {
                    serde_json::json!(vec![0; a.len()])
                }
                _ => continue,
            };
            let mut c = config.clone();
            c.insert(key.clone(), zero);
            for dims in shapes {
                cases += 1;
                let what = format!("{class} with {key}=0 on {dims:?}");
                let r = std::panic::catch_unwind(|| {
                    let layer = keras::saving::registry::layer_from_config(class, &c)?;
                    let inp = Input::new(dims.to_vec());
                    let out = match class {
                        "MultiHeadAttention" | "Dot" | "Add" | "Multiply" | "Concatenate"
                        | "Attention" => layer.call_many(&[inp.clone(), inp.clone()])?,
                        _ => layer.call_many(std::slice::from_ref(&inp))?,
                    };
                    let m = Model::new(&[inp], &out)?;
                    let mut shape = vec![2];
                    shape.extend_from_slice(dims);
                    let x = Tensor::ones(shape, DType::F32, &Device::Cpu)?;
                    m.predict_on_batch::<Vec<Tensor>>(vec![x]).map(|_| ())
                });
                if r.is_err() {
                    panics.push(what);
                }
            }
        }
    }
    assert!(cases > 100, "{cases}");
    assert!(
        panics.is_empty(),
        "{} panics:\n{}",
        panics.len(),
        panics.join("\n")
    );
}
