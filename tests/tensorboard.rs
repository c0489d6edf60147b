//! The TensorBoard callback writes event files that TensorBoard reads with our numbers.
//!
//! A short `fit` logs to a temporary directory; a small reader (`tensorboard_reader/`: its
//! own protobuf wire decoder and CRC-32C, independent of the crate's writer) parses every
//! record back, checks every checksum, and finds the scalars (equal to the History's
//! values), histograms, the model config, images and the projector files. Then, when
//! `KERAS_PYTHON` (or `python3`) has the `tensorboard` package,
//! `tests/fixtures/read_tensorboard.py` loads the same directory with TensorBoard's own
//! readers (EventAccumulator, the dashboards' data provider, the graph and projector
//! plugins) and the values it prints must equal ours. Without such a Python the second half
//! is skipped, unless `KERAS_RS_REQUIRE_PYTHON=1` (CI) makes that a failure.

use keras::callbacks::TensorBoard;
use keras::layers::*;
use keras::prelude::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod tensorboard_reader;

use tensorboard_reader::{read_run, scalars, series};

// ---- the model and the runs ----------------------------------------------------------

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("keras_rs_tb_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Token sequences whose label is whether token 3 occurs: learnable by Embedding + pooling.
fn data(n: usize) -> (Tensor, Tensor) {
    let (len, vocab) = (6usize, 12u64);
    let mut state = 12345u64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % vocab
    };
    let tokens: Vec<i64> = (0..n * len).map(|_| next() as i64).collect();
    let labels: Vec<f32> = tokens
        .chunks(len)
        .map(|s| f32::from(s.contains(&3)))
        .collect();
    (
        Tensor::from_vec(tokens, (n, len), &Device::Cpu).unwrap(),
        Tensor::from_vec(labels, (n, 1), &Device::Cpu).unwrap(),
    )
}

fn model() -> Model {
    keras::utils::set_random_seed(7);
    let inputs = Input::new([6]);
    // Fixed names: the tests run in parallel, and Keras's automatic names count up.
    let x = Embedding::new(12, 4)
        .name("embedding")
        .call(&inputs)
        .unwrap();
    let x = Conv1D::new(3, 2)
        .activation("relu")
        .name("conv1d")
        .call(&x)
        .unwrap();
    let x = GlobalMaxPooling1D::new()
        .name("global_max_pooling1d")
        .call(&x)
        .unwrap();
    let outputs = Dense::new(1)
        .activation("sigmoid")
        .name("dense")
        .call(&x)
        .unwrap();
    let mut m = Model::new(&[inputs], &[outputs]).unwrap();
    m.compile(
        Adam::new().learning_rate(0.01),
        "binary_crossentropy",
        ["accuracy"],
    )
    .unwrap();
    m
}

fn python() -> Option<String> {
    let candidates = [std::env::var("KERAS_PYTHON").ok(), Some("python3".into())];
    candidates.into_iter().flatten().find(|p| {
        std::process::Command::new(p)
            .args(["-c", "import tensorboard"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    })
}

/// What `read_tensorboard.py` prints for `dir`, or `None` when no Python with TensorBoard.
fn tensorboard_reads(dir: &Path) -> Option<Value> {
    let required = std::env::var("KERAS_RS_REQUIRE_PYTHON").is_ok_and(|v| v == "1");
    let Some(py) = python() else {
        assert!(
            !required,
            "KERAS_RS_REQUIRE_PYTHON=1 but no Python with tensorboard was found"
        );
        eprintln!("skipping the TensorBoard half: no python with tensorboard (set KERAS_PYTHON)");
        return None;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/read_tensorboard.py");
    let out = std::process::Command::new(&py)
        .arg(&script)
        .arg(dir)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "TensorBoard could not read {dir:?}:\n{err}"
    );
    Some(serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {err}")))
}

/// A number the script printed (as a repr string, parsed exactly here).
fn f(v: &Value) -> f64 {
    match v.as_str() {
        Some(s) => s.parse().unwrap(),
        None => v.as_f64().unwrap(),
    }
}

#[test]
fn fit_writes_what_tensorboard_reads() {
    let dir = temp_dir("fit");
    let (x, y) = data(80);
    let mut m = model();
    let mut tb = TensorBoard::new(&dir)
        .histogram_freq(1)
        .write_images(true)
        .embeddings_freq(1)
        .embeddings_metadata([("embedding", "tokens.tsv")]);
    let epochs = 3;
    let args = FitArgs {
        epochs,
        batch_size: 16,
        validation_split: 0.25,
        verbose: 0,
        callbacks: vec![&mut tb],
        ..Default::default()
    };
    let history = m.fit(&x, &y, args).unwrap();
    let h = &history.history;
    let steps_per_epoch = 60usize.div_ceil(16) as i64;
    let as_f32 = |v: &[f64]| -> Vec<f64> { v.iter().map(|&x| x as f32 as f64).collect() };
    let with_steps = |v: Vec<f64>, step: &dyn Fn(i64) -> i64| -> Vec<(i64, f64)> {
        v.into_iter()
            .enumerate()
            .map(|(i, x)| (step(i as i64), x))
            .collect()
    };
    let epoch_steps = |i| i;
    let iteration_steps = |i| (i + 1) * steps_per_epoch;

    // The Rust reader.
    let train = read_run(&dir.join("train"));
    let val = read_run(&dir.join("validation"));
    let mut want: BTreeMap<(&str, &str), Vec<(i64, f64)>> = BTreeMap::new();
    want.insert(
        ("train", "epoch_loss"),
        with_steps(as_f32(&h["loss"]), &epoch_steps),
    );
    want.insert(
        ("train", "epoch_accuracy"),
        with_steps(as_f32(&h["accuracy"]), &epoch_steps),
    );
    want.insert(
        ("train", "epoch_learning_rate"),
        with_steps(vec![0.01f32 as f64; 3], &epoch_steps),
    );
    want.insert(
        ("validation", "epoch_loss"),
        with_steps(as_f32(&h["val_loss"]), &epoch_steps),
    );
    want.insert(
        ("validation", "epoch_accuracy"),
        with_steps(as_f32(&h["val_accuracy"]), &epoch_steps),
    );
    want.insert(
        ("validation", "evaluation_loss_vs_iterations"),
        with_steps(as_f32(&h["val_loss"]), &iteration_steps),
    );
    want.insert(
        ("validation", "evaluation_accuracy_vs_iterations"),
        with_steps(as_f32(&h["val_accuracy"]), &iteration_steps),
    );
    for ((run, tag), values) in &want {
        let recs = if *run == "train" { &train } else { &val };
        assert_eq!(&scalars(recs, tag), values, "{run}/{tag}");
    }
    // No batch-level scalars with update_freq "epoch".
    assert!(train.iter().all(|r| !r.tag.starts_with("batch_")));

    // The model config as the conceptual graph, at step 0.
    let graph = series(&train, "keras");
    assert_eq!(graph.len(), 1);
    assert_eq!(
        (
            graph[0].plugin.as_str(),
            graph[0].content.as_slice(),
            graph[0].step
        ),
        ("graph_keras_model", &b"1"[..], 0)
    );
    let config = keras::saving::to_json(&m).unwrap();
    assert_eq!(graph[0].strings, [config.as_bytes()]);

    // Histograms: one per weight and epoch, 30 buckets covering every value; the last
    // epoch's are the final weights'.
    let weights = m.weights();
    assert_eq!(weights.len(), 5);
    for w in &weights {
        let tag = format!("{}/histogram", w.path());
        let hs = series(&train, &tag);
        assert_eq!(
            hs.iter().map(|r| r.step).collect::<Vec<_>>(),
            [0, 1, 2],
            "{tag}"
        );
        let last = hs[2];
        assert_eq!(
            (last.plugin.as_str(), last.dtype, last.dims.as_slice()),
            ("histograms", 2, &[30u64, 3][..])
        );
        let values: Vec<f64> = w
            .numpy()
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()
            .iter()
            .map(|&v| v as f64)
            .collect();
        let rows: Vec<&[f64]> = last.numbers.chunks(3).collect();
        let total: f64 = rows.iter().map(|r| r[2]).sum();
        assert_eq!(total as usize, values.len(), "{tag}");
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert_eq!((rows[0][0], rows[29][1]), (min, max), "{tag}");
    }
    assert!(series(&train, "embedding/embeddings/histogram").len() == 3);

    // Images of the weights that have them (Keras's layouts), as PNGs.
    let kernel_img = series(&train, "dense/kernel/image");
    assert_eq!(kernel_img.len(), 3);
    // dense/kernel [3, 1] squeezes to [3]: one image 3 high, 1 wide (width first).
    assert_eq!(kernel_img[2].strings[..2], [b"1".to_vec(), b"3".to_vec()]);
    assert_eq!(&kernel_img[2].strings[2][..8], b"\x89PNG\r\n\x1a\n");
    // conv1d/kernel [2, 4, 3]: three 2 x 4 images.
    let conv_img = series(&train, "conv1d/kernel/image");
    assert_eq!(conv_img[0].strings.len(), 2 + 3);

    // The projector: its config and the embedding matrix as TSV.
    let pbtxt = std::fs::read_to_string(dir.join("projector_config.pbtxt")).unwrap();
    assert_eq!(
        pbtxt,
        "embeddings {\n  tensor_name: \"layer_with_weights-0/embeddings/.ATTRIBUTES/VARIABLE_VALUE\"\n  \
         metadata_path: \"tokens.tsv\"\n  tensor_path: \"embedding_embeddings.tsv\"\n}\n"
    );
    let emb: Vec<Vec<f32>> = m.get_layer("embedding").unwrap().weights()[0]
        .numpy()
        .unwrap()
        .to_vec2()
        .unwrap();
    let tsv = std::fs::read_to_string(dir.join("embedding_embeddings.tsv")).unwrap();
    let parsed: Vec<Vec<f32>> = tsv
        .lines()
        .map(|l| l.split('\t').map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(parsed, emb);

    // TensorBoard's own readers.
    let Some(tb) = tensorboard_reads(&dir) else {
        return;
    };
    for ((run, tag), values) in &want {
        let acc = &tb["accumulator"][run]["tensors"][tag];
        assert_eq!(acc["plugin"], "scalars", "{run}/{tag}");
        let got: Vec<(i64, f64)> = acc["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                assert_eq!(
                    (e["dtype"].as_str(), e["shape"].as_array().unwrap().len()),
                    (Some("float32"), 0)
                );
                (e["step"].as_i64().unwrap(), f(&e["value"]))
            })
            .collect();
        assert_eq!(&got, values, "EventAccumulator {run}/{tag}");
        let prov: Vec<(i64, f64)> = tb["provider"]["scalars"][run][tag]
            .as_array()
            .unwrap_or_else(|| panic!("the data provider has no scalars {run}/{tag}"))
            .iter()
            .map(|p| (p[0].as_i64().unwrap(), f(&p[1])))
            .collect();
        assert_eq!(&prov, values, "data provider {run}/{tag}");
    }
    assert_eq!(tb["accumulator"]["train"]["file_version"], 2.0);
    assert_eq!(
        tb["provider"]["runs"],
        serde_json::json!(["train", "validation"])
    );
    for w in &weights {
        let tag = format!("{}/histogram", w.path());
        let ours: Vec<Vec<f64>> = series(&train, &tag)
            .iter()
            .map(|r| r.numbers.clone())
            .collect();
        let theirs: Vec<Vec<f64>> = tb["provider"]["histograms"]["train"][&tag]
            .as_array()
            .unwrap_or_else(|| panic!("no histogram {tag}"))
            .iter()
            .map(|p| {
                p[1].as_array()
                    .unwrap()
                    .iter()
                    .flat_map(|row| row.as_array().unwrap().iter().map(f))
                    .collect()
            })
            .collect();
        assert_eq!(ours, theirs, "{tag}");
    }
    let g = &tb["provider"]["graph"]["train"]["keras"];
    assert_eq!(g["step"], 0);
    assert_eq!(g["config"], serde_json::from_str::<Value>(&config).unwrap());
    let nodes: Vec<&str> = g["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    for layer in ["embedding", "conv1d", "global_max_pooling1d", "dense"] {
        assert!(
            nodes.iter().any(|n| n.ends_with(layer)),
            "graph node {layer} in {nodes:?}"
        );
    }
    let img = &tb["provider"]["images"]["train"]["dense/kernel/image"][2];
    assert_eq!(
        (img["width"].as_str(), img["height"].as_str()),
        (Some("1"), Some("3"))
    );
    if let Some(decoded) = img["images"].as_array() {
        let kernel: Vec<f32> = m.get_layer("dense").unwrap().weights()[0]
            .numpy()
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let want_px: Vec<u64> = kernel.iter().map(|&v| (v * 255.5) as u8 as u64).collect();
        let px: Vec<u64> = decoded[0]["pixels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_u64().unwrap())
            .collect();
        assert_eq!((decoded[0]["mode"].as_str(), px), (Some("L"), want_px));
    }
    let p = &tb["projector"]["embeddings"][0];
    assert_eq!(
        p["tensor_name"],
        "layer_with_weights-0/embeddings/.ATTRIBUTES/VARIABLE_VALUE"
    );
    assert_eq!(p["metadata_path"], "tokens.tsv");
    assert_eq!(p["shape"], serde_json::json!([12, 4]));
    let values: Vec<Vec<f32>> = p["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_array().unwrap().iter().map(|v| f(v) as f32).collect())
        .collect();
    assert_eq!(values, emb);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn batch_level_updates_every_n_batches() {
    let dir = temp_dir("batch");
    let (x, y) = data(40);
    let mut m = model();
    let mut tb = TensorBoard::new(&dir)
        .update_freq(2)
        .write_steps_per_second(true)
        .write_graph(false);
    let args = FitArgs {
        epochs: 2,
        batch_size: 8,
        verbose: 0,
        callbacks: vec![&mut tb],
        ..Default::default()
    };
    let history = m.fit(&x, &y, args).unwrap();
    assert!(!dir.join("validation").exists());
    let train = read_run(&dir.join("train"));
    // 5 batches an epoch, 10 in all; written at global batches 2, 4, ..., 10.
    let loss = scalars(&train, "batch_loss");
    assert_eq!(
        loss.iter().map(|s| s.0).collect::<Vec<_>>(),
        [2, 4, 6, 8, 10]
    );
    // The last batch's running loss is the epoch's loss.
    assert_eq!(loss[4].1, history.history["loss"][1] as f32 as f64);
    assert_eq!(scalars(&train, "batch_accuracy").len(), 5);
    assert!(scalars(&train, "batch_steps_per_second")
        .iter()
        .all(|s| s.1 > 0.0));
    assert!(scalars(&train, "epoch_steps_per_second")
        .iter()
        .all(|s| s.1 > 0.0));
    assert!(series(&train, "keras").is_empty());
    if let Some(tb) = tensorboard_reads(&dir) {
        let got = tb["provider"]["scalars"]["train"]["batch_loss"]
            .as_array()
            .unwrap()
            .len();
        assert_eq!(got, 5);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sequential_weights_are_tagged_with_keras_paths() {
    let dir = temp_dir("seq");
    let (x, y) = data(16);
    let mut m = Sequential::from_layers([
        Input::new([6]).into(),
        Embedding::new(12, 2).name("emb").into(),
        GlobalAveragePooling1D::new().into(),
        Dense::new(1).name("out").into(),
    ])
    .unwrap()
    .into_model()
    .name("seq");
    m.compile("sgd", "mse", ()).unwrap();
    let mut tb = TensorBoard::new(&dir).histogram_freq(1);
    m.fit(
        &x,
        &y,
        FitArgs {
            epochs: 1,
            verbose: 0,
            callbacks: vec![&mut tb],
            ..Default::default()
        },
    )
    .unwrap();
    let train = read_run(&dir.join("train"));
    let mut tags: Vec<&str> = train
        .iter()
        .filter(|r| r.plugin == "histograms")
        .map(|r| r.tag.as_str())
        .collect();
    tags.sort();
    // Keras 3 builds a Sequential's layers in its name scope: `seq/out/kernel`.
    assert_eq!(
        tags,
        [
            "seq/emb/embeddings/histogram",
            "seq/out/bias/histogram",
            "seq/out/kernel/histogram"
        ]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn standalone_evaluate_logs_evaluation_vs_iterations() {
    let dir = temp_dir("eval");
    let (x, y) = data(32);
    let mut m = model();
    m.fit(
        &x,
        &y,
        FitArgs {
            epochs: 1,
            batch_size: 8,
            verbose: 0,
            ..Default::default()
        },
    )
    .unwrap();
    let mut tb = TensorBoard::new(&dir);
    let logs = m
        .evaluate(
            &x,
            &y,
            EvalArgs {
                verbose: 0,
                callbacks: vec![&mut tb],
                ..Default::default()
            },
        )
        .unwrap();
    let val = read_run(&dir.join("validation"));
    assert_eq!(
        scalars(&val, "evaluation_loss_vs_iterations"),
        [(4, logs.get("loss").unwrap() as f32 as f64)]
    );
    // As Keras's set_model: the model config goes to train/.
    assert_eq!(series(&read_run(&dir.join("train")), "keras").len(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unusable_log_dir_is_an_error_before_training_and_leaves_nothing() {
    let (x, y) = data(16);
    // A log directory under a regular file.
    let base = temp_dir("bad");
    std::fs::create_dir_all(&base).unwrap();
    std::fs::write(base.join("file"), b"x").unwrap();
    let mut m = model();
    let before = m.get_weights().unwrap()[0].to_vec2::<f32>().unwrap();
    let bad = base.join("file").join("logs");
    let mut tb = TensorBoard::new(&bad);
    let err = m
        .fit(
            &x,
            &y,
            FitArgs {
                epochs: 1,
                verbose: 0,
                callbacks: vec![&mut tb],
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(
        err.to_string().contains(&bad.display().to_string()),
        "{err}"
    );
    assert_eq!(
        m.get_weights().unwrap()[0].to_vec2::<f32>().unwrap(),
        before,
        "trained anyway"
    );

    // `validation` taken by a file: the train writer made first is taken away again.
    let logs = base.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("validation"), b"x").unwrap();
    let mut tb = TensorBoard::new(&logs);
    let args = FitArgs {
        epochs: 1,
        validation_split: 0.25,
        verbose: 0,
        callbacks: vec![&mut tb],
        ..Default::default()
    };
    let err = m.fit(&x, &y, args).unwrap_err();
    assert!(err.to_string().contains("validation"), "{err}");
    let left: Vec<String> = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(left, ["validation"]);

    // Bad options: errors before any file.
    let fresh = base.join("fresh");
    let mut tb = TensorBoard::new(&fresh)
        .embeddings_freq(1)
        .embeddings_metadata([("nope", "m.tsv")]);
    let err = m
        .fit(
            &x,
            &y,
            FitArgs {
                epochs: 1,
                verbose: 0,
                callbacks: vec![&mut tb],
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("Unrecognized `Embedding` layer names"),
        "{err}"
    );
    let mut tb = TensorBoard::new(&fresh).update_freq("weekly");
    let err = m
        .fit(
            &x,
            &y,
            FitArgs {
                epochs: 1,
                verbose: 0,
                callbacks: vec![&mut tb],
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(err.to_string().contains("update_freq"), "{err}");
    assert!(!fresh.exists());
    std::fs::remove_dir_all(&base).unwrap();
}

/// The seeds' 1-D convnet as written there: a `Sequential` with no `Input` (Keras 3 ignores
/// `Embedding(input_length=...)`), `metrics=['acc']`, `EarlyStopping(monitor='acc')` and
/// `TensorBoard(histogram_freq=1, embeddings_freq=1)`. The model is built from the first
/// batch before the callbacks start, as Keras's `fit` does, so TensorBoard sees its graph,
/// weights and embedding from the first epoch on.
#[test]
fn the_seeds_sequential_without_an_input_is_logged_from_the_first_epoch() {
    let dir = temp_dir("seed_conv1d");
    let (x, y) = data(40);
    keras::utils::set_random_seed(5);
    let mut m = Sequential::from_layers([
        Embedding::new(12, 4)
            .input_length(6)
            .name("embedding")
            .into(),
        Conv1D::new(8, 3).activation("relu").name("conv1d").into(),
        MaxPool1D::new(2).name("max_pooling1d").into(),
        Conv1D::new(8, 2).activation("relu").name("conv1d_1").into(),
        GlobalMaxPool1D::new().name("global_max_pooling1d").into(),
        Dense::new(1).name("dense").into(),
    ])
    .unwrap()
    .into_model()
    .name("sequential");
    m.compile(
        RMSprop::new().learning_rate(1e-3),
        "binary_crossentropy",
        ["acc"],
    )
    .unwrap();
    assert!(!m.built());
    let mut tb = TensorBoard::new(&dir).histogram_freq(1).embeddings_freq(1);
    let mut stop = keras::callbacks::EarlyStopping::new()
        .monitor("acc")
        .patience(1);
    let history = m
        .fit(
            &x,
            &y,
            FitArgs {
                epochs: 2,
                batch_size: 8,
                validation_split: 0.2,
                verbose: 0,
                callbacks: vec![&mut tb, &mut stop],
                ..Default::default()
            },
        )
        .unwrap();
    let keys: Vec<&String> = history.history.keys().collect();
    assert_eq!(keys, ["acc", "loss", "val_acc", "val_loss"]);
    let train = read_run(&dir.join("train"));
    // The graph: the built model's config (its build shape included), at step 0.
    let graph = series(&train, "keras");
    assert_eq!(graph.len(), 1);
    let config = keras::saving::to_json(&m).unwrap();
    assert!(
        config.contains("\"build_input_shape\": [null, 6]")
            || config.contains("\"build_input_shape\":[null,6]"),
        "{config}"
    );
    assert_eq!(graph[0].strings, [config.as_bytes()]);
    // Every weight's histogram from epoch 0 on.
    let weights = m.weights();
    assert_eq!(weights.len(), 7);
    for w in &weights {
        // Built inside the Sequential's name scope, as Keras 3's deferred build is.
        let tag = format!("sequential/{}/histogram", w.path());
        let steps: Vec<i64> = series(&train, &tag).iter().map(|r| r.step).collect();
        assert_eq!(steps, [0, 1], "{tag}");
    }
    // The embedding in the projector.
    let pbtxt = std::fs::read_to_string(dir.join("projector_config.pbtxt")).unwrap();
    assert!(
        pbtxt.contains("tensor_path: \"embedding_embeddings.tsv\""),
        "{pbtxt}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
