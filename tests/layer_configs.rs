//! Every layer reads Keras 3's `get_config()` (tests/fixtures/make_layer_configs.py) and
//! writes it back: each key we write equals Keras's value, and each key Keras writes is ours
//! too, apart from the few listed below that keras-rs does not model.

use keras::saving::model_config::serialize_layer;
use keras::saving::registry::layer_from_config;
use serde_json::Value;

/// Keys Keras writes that we leave out: options we do not support (and reject when set, as
/// the loader tests show) or that only matter to Keras's own machinery.
const NOT_WRITTEN: &[&str] = &[
    "stateful",             // rejected when true
    "unroll",               // rejected when true
    "seed",                 // our generator is not JAX's; seeds would not reproduce Keras's draws
    "input_axes",           // initializer hints for Keras's sharding
    "output_axes",          // (same)
    "quantization_config",  // no quantization
    "activity_regularizer", // (Dense / Conv write it as null)
    "recurrent_regularizer",
    "kernel_regularizer",
    "bias_regularizer",
    "kernel_constraint",
    "recurrent_constraint",
    "bias_constraint",
    "lora_rank",
    "lora_alpha",
    "gamma_initializer",
    "beta_initializer",
    "moving_mean_initializer",
    "moving_variance_initializer",
    "gamma_regularizer",
    "beta_regularizer",
    "gamma_constraint",
    "beta_constraint",
    "synchronized",
    "rms_scaling",
    "embeddings_initializer",
    "embeddings_regularizer",
    "embeddings_constraint",
    "sparse",
    "input_length",
    "recurrent_dropout_seed",
    "use_cudnn",
];

fn same(path: &str, ours: &Value, keras: &Value, problems: &mut Vec<String>) {
    match (ours, keras) {
        (Value::Object(o), Value::Object(k)) => {
            for (key, kv) in k {
                match o.get(key) {
                    Some(ov) => same(&format!("{path}.{key}"), ov, kv, problems),
                    None if NOT_WRITTEN.contains(&key.as_str()) => {}
                    None => problems.push(format!("{path}.{key}: missing (Keras: {kv})")),
                }
            }
            for key in o.keys().filter(|key| !k.contains_key(*key)) {
                problems.push(format!("{path}.{key}: Keras has no such key"));
            }
        }
        (Value::Array(o), Value::Array(k)) if o.len() == k.len() => {
            for (i, (a, b)) in o.iter().zip(k).enumerate() {
                same(&format!("{path}[{i}]"), a, b, problems);
            }
        }
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (
                a.as_f64().unwrap_or(f64::NAN),
                b.as_f64().unwrap_or(f64::NAN),
            );
            if (a - b).abs() > 1e-6 * (1.0 + b.abs()) {
                problems.push(format!("{path}: {a} vs Keras {b}"));
            }
        }
        (a, b) if a == b => {}
        (a, b) => problems.push(format!("{path}: {a} vs Keras {b}")),
    }
}

#[test]
fn every_layer_config_round_trips_through_keras_json() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/saving/layer_configs.json"
    );
    let entries: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(entries.len() >= 50);
    let mut problems = vec![];
    for e in &entries {
        let class = e["class_name"].as_str().unwrap();
        let config = e["config"].as_object().unwrap();
        let layer = match layer_from_config(class, config) {
            Ok(l) => l,
            Err(err) => {
                problems.push(format!("{class}: cannot load: {err}"));
                continue;
            }
        };
        assert_eq!(layer.class_name(), class);
        let ours = serialize_layer(&layer).unwrap();
        assert_eq!(ours["class_name"], e["class_name"]);
        same(class, &ours["config"], &e["config"], &mut problems);
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn unsupported_options_are_refused_not_dropped() {
    let cases = [
        (
            "LSTM",
            r#"{"units": 4, "recurrent_regularizer": {"class_name": "L2", "config": {"l2": 0.1}}}"#,
            "recurrent_regularizer",
        ),
        ("LSTM", r#"{"units": 4, "stateful": true}"#, "stateful"),
        (
            "Dense",
            r#"{"units": 4, "kernel_constraint": {"class_name": "MaxNorm", "config": {}}}"#,
            "kernel_constraint",
        ),
        ("BatchNormalization", r#"{"renorm": true}"#, "renorm"),
        (
            "Conv2D",
            r#"{"filters": 2, "kernel_size": 3, "data_format": "channels_middle"}"#,
            "Received: data_format=channels_middle",
        ),
        (
            "Dense",
            r#"{"units": 4, "kernel_regularizer": {"class_name": "Orthogonal"}}"#,
            "Orthogonal",
        ),
        ("Dense", r#"{"units": -4}"#, "units"),
        (
            "NoSuchLayer",
            r#"{}"#,
            "Could not locate class 'NoSuchLayer'",
        ),
    ];
    for (class, json, want) in cases {
        let config: serde_json::Map<String, Value> = serde_json::from_str(json).unwrap();
        let e = layer_from_config(class, &config)
            .err()
            .map(|e| e.to_string());
        assert!(
            e.as_deref().is_some_and(|e| e.contains(want)),
            "{class} {json}: {e:?}"
        );
    }
    // Supported regularizers are kept, and their penalty is the same after the round trip.
    let config: serde_json::Map<String, Value> = serde_json::from_str(
        r#"{"units": 3, "kernel_regularizer": {"class_name": "L1L2", "config": {"l1": 0.01, "l2": 0.02}}}"#,
    )
    .unwrap();
    let layer = layer_from_config("Dense", &config).unwrap();
    let ours = serialize_layer(&layer).unwrap();
    assert_eq!(ours["config"]["kernel_regularizer"]["config"]["l2"], 0.02);
}

/// The `compile_config` of each Keras fixture: its optimizer and losses read here and written
/// back give Keras's values (Keras-only keys such as `use_ema` left out).
#[test]
fn optimizer_and_loss_configs_match_keras() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/saving");
    let mut checked = 0;
    for name in [
        "seq_mlp",
        "residual_cnn",
        "two_input_lstm",
        "multi_output",
        "nested_autoencoder",
        "zoo",
    ] {
        let file = std::fs::File::open(format!("{dir}/{name}.keras")).unwrap();
        let mut z = zip::ZipArchive::new(file).unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut z.by_name("config.json").unwrap(), &mut text).unwrap();
        let config: Value = serde_json::from_str(&text).unwrap();
        let keras_opt = &config["compile_config"]["optimizer"];
        let ours = keras::optimizers::from_config(keras_opt)
            .unwrap()
            .get_config();
        let mut problems = vec![];
        same_subset(name, &ours, keras_opt, &mut problems);
        assert!(problems.is_empty(), "{name}: {problems:?}");
        let losses = match &config["compile_config"]["loss"] {
            Value::Array(v) => v.clone(),
            v => vec![v.clone()],
        };
        for l in losses {
            assert!(
                keras::losses::from_config(&l).unwrap().resolve().is_ok(),
                "{name}: {l}"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 6);
    // Loss objects round-trip with their options.
    let l = keras::losses::SparseCategoricalCrossentropy::new().from_logits(true);
    let v = keras::losses::Loss::get_config(&l);
    assert_eq!(v["config"]["from_logits"], true);
    let back = keras::losses::from_config(&v).unwrap().resolve().unwrap();
    assert_eq!(back.get_config(), v);
}

/// Every key we write equals Keras's (Keras may have more).
fn same_subset(path: &str, ours: &Value, keras: &Value, problems: &mut Vec<String>) {
    match (ours, keras) {
        (Value::Object(o), Value::Object(k)) => {
            for (key, ov) in o {
                match k.get(key) {
                    Some(kv) => same_subset(&format!("{path}.{key}"), ov, kv, problems),
                    None => problems.push(format!("{path}.{key}: Keras has no such key")),
                }
            }
        }
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            if (a - b).abs() > 1e-6 * (1.0 + b.abs()) {
                problems.push(format!("{path}: {a} vs Keras {b}"));
            }
        }
        (a, b) if a == b => {}
        (a, b) => problems.push(format!("{path}: {a} vs Keras {b}")),
    }
}

#[test]
fn absent_keys_take_the_layers_own_defaults() {
    for class in ["LSTM", "GRU", "SimpleRNN"] {
        let config: serde_json::Map<String, Value> =
            serde_json::from_str(r#"{"units": 3}"#).unwrap();
        let ours = serialize_layer(&layer_from_config(class, &config).unwrap()).unwrap();
        assert_eq!(ours["config"]["activation"], "tanh", "{class}");
        if class != "SimpleRNN" {
            assert_eq!(ours["config"]["recurrent_activation"], "sigmoid", "{class}");
        }
    }
    let config: serde_json::Map<String, Value> = serde_json::from_str(r#"{"units": 3}"#).unwrap();
    let ours = serialize_layer(&layer_from_config("Dense", &config).unwrap()).unwrap();
    assert_eq!(ours["config"]["activation"], "linear");
    let e = layer_from_config("Activation", &serde_json::Map::new())
        .err()
        .unwrap();
    assert!(e.to_string().contains("needs an `activation`"), "{e}");
    // Bidirectional: no merge_mode is Keras's "concat", null keeps the directions apart.
    let lstm = r#"{"class_name": "LSTM", "config": {"units": 2}}"#;
    for (merge, want) in [
        ("", serde_json::json!("concat")),
        (r#""merge_mode": null,"#, Value::Null),
    ] {
        let json = format!(r#"{{{merge} "layer": {lstm}}}"#);
        let config: serde_json::Map<String, Value> = serde_json::from_str(&json).unwrap();
        let ours = serialize_layer(&layer_from_config("Bidirectional", &config).unwrap()).unwrap();
        assert_eq!(ours["config"]["merge_mode"], want, "{json}");
    }
}

/// A model config naming a class nobody registered: the error names the class and the
/// registered classes closest to it (layers and models alike).
#[test]
fn unknown_classes_name_the_closest_registered_ones() {
    let json = r#"{"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [null, 3]}},
        {"class_name": "Dnse", "config": {"units": 2}}]}}"#;
    let e = keras::models::model_from_json(json)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("'Dnse'") && e.contains("'Dense'"), "{e}");
    assert!(e.contains("(a layer)"), "{e}");
    let e = keras::models::model_from_json(r#"{"class_name": "Sequentail", "config": {}}"#)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("'Sequentail'") && e.contains("'Sequential'"),
        "{e}"
    );
}

/// Keras's aliases, the `InputLayer` and nested models are classes of the same registry.
#[test]
fn aliases_inputs_and_nested_models_load_through_the_registry() {
    let empty = serde_json::Map::new();
    for (alias, class) in [
        ("AvgPool2D", "AveragePooling2D"),
        ("MaxPool1D", "MaxPooling1D"),
        ("GlobalAvgPool1D", "GlobalAveragePooling1D"),
    ] {
        assert_eq!(
            layer_from_config(alias, &empty).unwrap().class_name(),
            class
        );
    }
    let conv: serde_json::Map<String, Value> =
        serde_json::from_str(r#"{"filters": 2, "kernel_size": 3}"#).unwrap();
    assert_eq!(
        layer_from_config("Convolution2D", &conv)
            .unwrap()
            .class_name(),
        "Conv2D"
    );
    // An InputLayer keeps its dtype (int16 included) both ways; int8 has no candle dtype.
    let input: serde_json::Map<String, Value> =
        serde_json::from_str(r#"{"batch_shape": [null, 4], "dtype": "int16", "name": "ids"}"#)
            .unwrap();
    let layer = layer_from_config("InputLayer", &input).unwrap();
    let v = serialize_layer(&layer).unwrap();
    assert_eq!(v["config"]["dtype"], "int16");
    assert_eq!(v["config"]["name"], "ids");
    assert!(v.get("build_config").is_none());
    let mut bad = input.clone();
    bad.insert("dtype".into(), "int8".into());
    let e = layer_from_config("InputLayer", &bad)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("'int8'") && e.contains("no candle dtype"), "{e}");
    // A Sequential nested as a layer: its whole config, read back as a layer.
    let inner = keras::prelude::Sequential::from_layers([
        keras::prelude::Input::new([3]).into(),
        keras::prelude::Dense::new(2).into(),
    ])
    .unwrap();
    let v = serialize_layer(inner.layer()).unwrap();
    let back = keras::saving::model_config::deserialize_layer(&v).unwrap();
    assert_eq!(back.class_name(), "Sequential");
    assert_eq!(back.count_params(), 8);
    assert_eq!(serialize_layer(&back).unwrap(), v);
}
