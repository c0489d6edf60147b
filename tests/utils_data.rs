//! keras.utils' data utilities against Python Keras 3.15.1 + TensorFlow
//! (tests/fixtures/make_utils.py -> utils.npz, utils.json, images/, texts/).

mod common;

use common::{assert_close, Fixture};
use keras::data::Dataset;
use keras::ops::{self, strings};
use keras::prelude::*;
use keras::utils::{self, ImageDatasetArgs, Labels, PadSequencesArgs, SplitDatasetArgs, SplitSize};
use keras::utils::{TextDatasetArgs, TimeseriesArgs};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn meta() -> Value {
    let text = std::fs::read_to_string(fixtures().join("utils.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// File paths relative to tests/fixtures, '/'-separated, as the fixture lists them.
fn rel(paths: &[PathBuf]) -> Vec<String> {
    paths
        .iter()
        .map(|p| {
            p.strip_prefix(fixtures())
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect()
}

#[test]
fn to_categorical_and_normalize_match_keras() {
    let f = Fixture::load("utils.npz");
    let cat = |x: &str, n| utils::to_categorical(&f.get(x), n).unwrap();
    assert_close("cat_none", &cat("cat_x", None), &f.get("cat_none"), 0.0);
    assert_close("cat_5", &cat("cat_x", Some(5)), &f.get("cat_5"), 0.0);
    assert_close("cat_col", &cat("cat_col_x", None), &f.get("cat_col"), 0.0);
    assert_close("cat_2d", &cat("cat_2d_x", Some(4)), &f.get("cat_2d"), 0.0);
    for (tag, order) in [("1", 1.0), ("2", 2.0), ("3", 3.0), ("inf", f64::INFINITY)] {
        let y = utils::normalize(&f.get("norm_x"), -1, order).unwrap();
        assert_eq!(y.dtype(), DType::F32);
        assert_close(
            &format!("norm_{tag}"),
            &y,
            &f.get(&format!("norm_{tag}")),
            1e-6,
        );
        let y3 = utils::normalize(&f.get("norm3_x"), 1, order).unwrap();
        assert_close(
            &format!("norm3_{tag}"),
            &y3,
            &f.get(&format!("norm3_{tag}")),
            1e-6,
        );
    }
}

#[test]
fn pad_sequences_matches_keras_for_every_combination() {
    let f = Fixture::load("utils.npz");
    let m = meta();
    let seqs: Vec<Vec<i64>> = serde_json::from_value(m["pad_sequences"].clone()).unwrap();
    let mut cases = 0;
    for padding in ["pre", "post"] {
        for truncating in ["pre", "post"] {
            for maxlen in [None, Some(1), Some(2), Some(4), Some(6)] {
                for value in [0.0, -1.0] {
                    let name = format!(
                        "pad_{padding}_{truncating}_{}_{}",
                        maxlen.map_or("None".to_string(), |m: usize| m.to_string()),
                        value as i64
                    );
                    let args = PadSequencesArgs {
                        maxlen,
                        padding,
                        truncating,
                        value,
                        ..Default::default()
                    };
                    let got = utils::pad_sequences(&seqs, args).unwrap();
                    let want = f.get(&name);
                    assert_eq!(got.dtype(), DType::I32, "{name}");
                    assert_eq!(got.dims(), want.dims(), "{name}");
                    assert_eq!(
                        got.to_vec2::<i32>().unwrap(),
                        want.to_vec2::<i32>().unwrap(),
                        "{name}"
                    );
                    cases += 1;
                }
            }
        }
    }
    assert_eq!(cases, 40);
    let fseqs: Vec<Vec<f32>> = serde_json::from_value(m["pad_sequences_float"].clone()).unwrap();
    let float = PadSequencesArgs {
        dtype: "float32",
        value: -0.5,
        ..Default::default()
    };
    let got = utils::pad_sequences(&fseqs, float).unwrap();
    assert_close("pad_float", &got, &f.get("pad_float"), 0.0);
    let as_int = PadSequencesArgs {
        maxlen: Some(2),
        ..Default::default()
    };
    let got = utils::pad_sequences(&fseqs, as_int).unwrap();
    assert_eq!(
        got.to_vec2::<i32>().unwrap(),
        f.get("pad_float_as_int").to_vec2::<i32>().unwrap()
    );
    let errors = &m["pad_errors"];
    let padding = PadSequencesArgs {
        padding: "middle",
        ..Default::default()
    };
    let e = utils::pad_sequences(&seqs, padding)
        .unwrap_err()
        .to_string();
    assert_eq!(e, errors["padding"].as_str().unwrap());
    let truncating = PadSequencesArgs {
        truncating: "both",
        ..Default::default()
    };
    let e = utils::pad_sequences(&seqs, truncating)
        .unwrap_err()
        .to_string();
    assert_eq!(e, errors["truncating"].as_str().unwrap());
}

fn ts_args(a: &Value) -> (usize, TimeseriesArgs) {
    let get = |k: &str| a.get(k).and_then(Value::as_u64).map(|v| v as usize);
    let args = TimeseriesArgs {
        sequence_stride: get("sequence_stride").unwrap_or(1),
        sampling_rate: get("sampling_rate").unwrap_or(1),
        batch_size: Some(get("batch_size").unwrap_or(128)),
        start_index: get("start_index"),
        end_index: get("end_index"),
        ..Default::default()
    };
    (get("sequence_length").unwrap_or(3), args)
}

#[test]
fn timeseries_batches_match_keras() {
    let f = Fixture::load("utils.npz");
    let m = meta();
    let (data, targets) = (f.get("ts_data"), f.get("ts_targets"));
    for tag in ["a", "b", "c"] {
        let case = &m["timeseries"][tag];
        let (len, args) = ts_args(&case["args"]);
        let ds = utils::timeseries_dataset_from_array(&data, &targets, len, args).unwrap();
        let batches: Vec<(Tensor, Tensor)> = ds.iter().unwrap().map(|b| b.unwrap()).collect();
        assert_eq!(
            batches.len() as u64,
            case["batches"].as_u64().unwrap(),
            "{tag}"
        );
        for (i, (x, y)) in batches.iter().enumerate() {
            assert_close(
                &format!("ts {tag} x{i}"),
                x,
                &f.get(&format!("ts_{tag}_x{i}")),
                0.0,
            );
            assert_eq!(y.dtype(), DType::I64);
            assert_close(
                &format!("ts {tag} y{i}"),
                y,
                &f.get(&format!("ts_{tag}_y{i}")),
                0.0,
            );
        }
    }
    let case = &m["timeseries"]["notargets"];
    let (len, args) = ts_args(&case["args"]);
    let ds = utils::timeseries_dataset_from_array_unlabeled(&data, 6, args).unwrap();
    let _ = len;
    let batches: Vec<Tensor> = ds.iter().unwrap().map(|b| b.unwrap()).collect();
    assert_eq!(batches.len() as u64, case["batches"].as_u64().unwrap());
    for (i, x) in batches.iter().enumerate() {
        assert_close(
            &format!("ts x{i}"),
            x,
            &f.get(&format!("ts_notargets_x{i}")),
            0.0,
        );
    }
    // Shuffled: the same windows, in another order.
    let shuffled = TimeseriesArgs {
        shuffle: true,
        seed: Some(7),
        batch_size: None,
        ..Default::default()
    };
    let ds = utils::timeseries_dataset_from_array(&data, &targets, 4, shuffled).unwrap();
    let mut ys: Vec<i64> = ds
        .iter()
        .unwrap()
        .map(|e| e.unwrap().1.to_vec0().unwrap())
        .collect();
    assert_ne!(ys, (0..17).map(|i| i * 10).collect::<Vec<_>>());
    ys.sort();
    assert_eq!(ys, (0..17).map(|i| i * 10).collect::<Vec<_>>());
}

#[test]
fn timeseries_errors_are_kerases() {
    let f = Fixture::load("utils.npz");
    let m = meta();
    let (data, targets) = (f.get("ts_data"), f.get("ts_targets"));
    let mut checked = 0;
    for (tag, case) in m["timeseries_errors"].as_object().unwrap() {
        if tag == "start_neg" {
            continue; // a usize cannot be negative
        }
        let (len, args) = ts_args(&case["args"]);
        let e = utils::timeseries_dataset_from_array(&data, &targets, len, args).unwrap_err();
        assert_eq!(e.to_string(), case["error"].as_str().unwrap(), "{tag}");
        checked += 1;
    }
    assert_eq!(checked, 7);
}

fn image_args<'a>(a: &'a Value, names: &'a [&'a str], labels: &'a [i64]) -> ImageDatasetArgs<'a> {
    let size = a.get("image_size").map(|s| {
        let v = s.as_array().unwrap();
        (
            v[0].as_u64().unwrap() as usize,
            v[1].as_u64().unwrap() as usize,
        )
    });
    let s = |k: &str, d: &'a str| a.get(k).and_then(Value::as_str).unwrap_or(d);
    let b = |k: &str| a.get(k).and_then(Value::as_bool).unwrap_or(false);
    ImageDatasetArgs {
        labels: match a.get("labels") {
            Some(Value::Null) => Labels::None,
            Some(_) => Labels::List(labels),
            None => Labels::Inferred,
        },
        label_mode: s("label_mode", "int"),
        class_names: a.get("class_names").map(|_| names),
        color_mode: s("color_mode", "rgb"),
        image_size: size.unwrap_or((256, 256)),
        interpolation: s("interpolation", "bilinear"),
        crop_to_aspect_ratio: b("crop_to_aspect_ratio"),
        pad_to_aspect_ratio: b("pad_to_aspect_ratio"),
        shuffle: a.get("shuffle").and_then(Value::as_bool).unwrap_or(true),
        seed: a.get("seed").and_then(Value::as_u64),
        validation_split: a.get("validation_split").and_then(Value::as_f64),
        subset: a.get("subset").and_then(Value::as_str),
        verbose: false,
        ..Default::default()
    }
}

fn owned_names(a: &Value) -> Vec<String> {
    a.get("class_names").map(strs).unwrap_or_default()
}

fn owned_labels(a: &Value) -> Vec<i64> {
    a.get("labels")
        .and_then(Value::as_array)
        .map(|v| v.iter().map(|l| l.as_i64().unwrap()).collect())
        .unwrap_or_default()
}

/// Every batch of the first component, concatenated.
fn concat(batches: Vec<Tensor>) -> Tensor {
    Tensor::cat(&batches, 0).unwrap()
}

#[test]
fn image_datasets_match_keras() {
    let f = Fixture::load("utils.npz");
    let m = meta();
    let dir = fixtures().join("images");
    for (tag, case) in m["images"].as_object().unwrap() {
        let a = &case["args"];
        let names = owned_names(a);
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let labels = owned_labels(a);
        let args = ImageDatasetArgs {
            shuffle: false,
            batch_size: Some(3),
            ..image_args(a, &names, &labels)
        };
        let (x, y, paths, classes) = if args.labels == Labels::None {
            let ds = utils::image_dataset_from_directory_unlabeled(&dir, args).unwrap();
            let xs = ds.iter().unwrap().map(|b| b.unwrap()).collect();
            (
                concat(xs),
                None,
                ds.file_paths.clone(),
                ds.class_names.clone(),
            )
        } else {
            let ds = utils::image_dataset_from_directory(&dir, args).unwrap();
            let (xs, ys): (Vec<_>, Vec<_>) = ds.iter().unwrap().map(|b| b.unwrap()).unzip();
            (
                concat(xs),
                Some(concat(ys)),
                ds.file_paths.clone(),
                ds.class_names.clone(),
            )
        };
        let want_paths = strs(&case["file_paths"]);
        assert_eq!(rel(&paths), want_paths, "{tag}: file order");
        assert_eq!(
            classes,
            case["class_names"]
                .as_array()
                .map(|_| strs(&case["class_names"])),
            "{tag}"
        );
        let want = f.get(&format!("img_{tag}_x"));
        assert_eq!(x.dims(), want.dims(), "{tag}: shape");
        assert_eq!(x.dtype(), want.dtype(), "{tag}: dtype");
        let per = want.elem_count() / want.dims()[0];
        let (g, w) = (
            ops::to_vec_f64(&x).unwrap(),
            ops::to_vec_f64(&want).unwrap(),
        );
        for (i, path) in want_paths.iter().enumerate() {
            let (gi, wi) = (&g[i * per..(i + 1) * per], &w[i * per..(i + 1) * per]);
            let worst = gi
                .iter()
                .zip(wi)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            // libjpeg-turbo and jpeg-decoder differ by up to 3 levels; the others are exact.
            let tol = if path.ends_with(".jpg") { 4.0 } else { 1e-4 };
            assert!(worst <= tol, "{tag}: {path} differs by {worst}");
        }
        if let Some(y) = y {
            let wy = f.get(&format!("img_{tag}_y"));
            assert_eq!(y.dtype(), wy.dtype(), "{tag}: label dtype");
            assert_close(&format!("{tag} labels"), &y, &wy, 0.0);
        }
    }
}

#[test]
fn image_file_orders_and_splits_match_keras() {
    let m = meta();
    let dir = fixtures().join("images");
    for (tag, case) in m["image_splits"].as_object().unwrap() {
        let a = &case["args"];
        let args = ImageDatasetArgs {
            image_size: (2, 2),
            ..image_args(a, &[], &[])
        };
        if tag == "both" {
            let (train, val) = utils::image_dataset_from_directory_both(&dir, args).unwrap();
            assert_eq!(
                rel(&train.file_paths),
                strs(&case["file_paths"]),
                "both: train"
            );
            assert_eq!(
                rel(&val.file_paths),
                strs(&case["val_file_paths"]),
                "both: val"
            );
            assert_eq!(train.iter().unwrap().count(), 1);
            continue;
        }
        let ds = utils::image_dataset_from_directory(&dir, args).unwrap();
        assert_eq!(rel(&ds.file_paths), strs(&case["file_paths"]), "{tag}");
        // The batches hold the same files, reshuffled each epoch.
        let n: usize = ds.iter().unwrap().map(|b| b.unwrap().0.dims()[0]).sum();
        assert_eq!(n, ds.file_paths.len(), "{tag}");
    }
}

#[test]
fn image_errors_are_kerases() {
    let m = meta();
    let dir = fixtures().join("images");
    let mut checked = 0;
    for (tag, case) in m["image_errors"].as_object().unwrap() {
        let a = &case["args"];
        let names = owned_names(a);
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let labels = owned_labels(a);
        let args = image_args(a, &names, &labels);
        let got = utils::image_dataset_from_directory(&dir, args).map(|_| ());
        let want = case["error"]
            .as_str()
            .unwrap()
            .replace("<dir>", &dir.display().to_string());
        assert_eq!(got.unwrap_err().to_string(), want, "{tag}");
        checked += 1;
    }
    assert_eq!(checked, 13);
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("keras_rs_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn empty_folders_and_corrupt_images_are_errors() {
    let quiet = || ImageDatasetArgs {
        verbose: false,
        shuffle: false,
        image_size: (2, 2),
        ..Default::default()
    };
    let empty = temp_dir("empty_images");
    let e = utils::image_dataset_from_directory(&empty, quiet())
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!(
            "No images found in directory {}. Allowed formats: ('.bmp', '.gif', '.jpeg', '.jpg', '.png')",
            empty.display()
        )
    );
    std::fs::create_dir_all(empty.join("a")).unwrap();
    std::fs::write(empty.join("a/readme.md"), "text").unwrap();
    assert!(utils::image_dataset_from_directory(&empty, quiet()).is_err());
    let missing = empty.join("nope");
    let e = utils::image_dataset_from_directory(&missing, quiet())
        .unwrap_err()
        .to_string();
    assert!(e.contains("nope"), "{e}");
    // A corrupt file: found, then an error naming it when its batch is made.
    std::fs::write(empty.join("a/bad.png"), b"\x89PNG garbage").unwrap();
    let ds = utils::image_dataset_from_directory(&empty, quiet()).unwrap();
    assert_eq!(ds.file_paths.len(), 1);
    let err = ds.iter().unwrap().next().unwrap().unwrap_err().to_string();
    assert!(err.contains("bad.png"), "{err}");
    let _ = std::fs::remove_dir_all(&empty);

    let texts = temp_dir("empty_texts");
    let e = utils::text_dataset_from_directory(&texts, TextDatasetArgs::default());
    assert_eq!(
        e.unwrap_err().to_string(),
        format!(
            "No text files found in directory {}. Allowed format: .txt",
            texts.display()
        )
    );
    let _ = std::fs::remove_dir_all(&texts);
}

fn text_args<'a>(a: &'a Value) -> TextDatasetArgs<'a> {
    TextDatasetArgs {
        labels: if a.get("labels").is_some() {
            Labels::None
        } else {
            Labels::Inferred
        },
        label_mode: a.get("label_mode").and_then(Value::as_str).unwrap_or("int"),
        max_length: a
            .get("max_length")
            .and_then(Value::as_u64)
            .map(|v| v as usize),
        shuffle: a["shuffle"].as_bool().unwrap(),
        seed: a.get("seed").and_then(Value::as_u64),
        validation_split: a.get("validation_split").and_then(Value::as_f64),
        subset: a.get("subset").and_then(Value::as_str),
        batch_size: Some(2),
        verbose: false,
        ..Default::default()
    }
}

#[test]
fn text_datasets_match_keras() {
    let m = meta();
    let dir = fixtures().join("texts");
    for (tag, case) in m["texts"].as_object().unwrap() {
        let args = text_args(&case["args"]);
        let shuffled = args.shuffle;
        let (mut bytes, labels, classes) = if args.labels == Labels::None {
            let ds = utils::text_dataset_from_directory_unlabeled(&dir, args).unwrap();
            let mut all = Vec::new();
            for b in ds.iter().unwrap() {
                all.extend(rows(&b.unwrap()));
            }
            (all, None, ds.class_names.clone())
        } else {
            let ds = utils::text_dataset_from_directory(&dir, args).unwrap();
            let (mut all, mut ys) = (Vec::new(), Vec::new());
            for b in ds.iter().unwrap() {
                let (x, y) = b.unwrap();
                assert_eq!(x.dtype(), DType::U8);
                all.extend(rows(&x));
                ys.push(y);
            }
            (all, Some(concat(ys)), ds.class_names.clone())
        };
        let mut want: Vec<Vec<u8>> = serde_json::from_value(case["bytes"].clone()).unwrap();
        let want_classes = case["class_names"]
            .as_array()
            .map(|_| strs(&case["class_names"]));
        assert_eq!(classes, want_classes, "{tag}");
        if shuffled {
            // The files are Keras's (the split), the per-epoch order keras-rs's own.
            bytes.sort();
            want.sort();
            assert_eq!(bytes, want, "{tag}");
            continue;
        }
        assert_eq!(bytes, want, "{tag}");
        let texts = strs(&case["texts"]);
        let decoded: Vec<String> = bytes
            .iter()
            .map(|b| String::from_utf8(b.clone()).unwrap())
            .collect();
        assert_eq!(decoded, texts, "{tag}");
        if let Some(y) = labels {
            let want: Vec<f64> = case["labels"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|v| match v {
                    Value::Array(a) => a.iter().map(|x| x.as_f64().unwrap()).collect(),
                    x => vec![x.as_f64().unwrap()],
                })
                .collect();
            assert_eq!(ops::to_vec_f64(&y).unwrap(), want, "{tag}");
        }
    }
}

/// The rows of a string tensor, padding removed.
fn rows(t: &Tensor) -> Vec<Vec<u8>> {
    strings::decode(t)
        .unwrap()
        .into_iter()
        .map(String::into_bytes)
        .collect()
}

#[test]
fn split_dataset_matches_keras() {
    let m = meta();
    let x = Tensor::arange(0f32, 20.0, &Device::Cpu)
        .unwrap()
        .reshape((10, 2))
        .unwrap();
    let size = |v: Option<&Value>| {
        v.map(|v| match v.as_i64() {
            Some(i) if !v.is_f64() => SplitSize::Count(i),
            _ => SplitSize::Fraction(v.as_f64().unwrap()),
        })
    };
    let args = |a: &Value| SplitDatasetArgs {
        left_size: size(a.get("left_size")),
        right_size: size(a.get("right_size")),
        shuffle: a.get("shuffle").and_then(Value::as_bool).unwrap_or(false),
        seed: a.get("seed").and_then(Value::as_u64),
    };
    let read = |ds: &Dataset<Tensor>| -> Vec<Vec<f32>> {
        ds.iter()
            .unwrap()
            .map(|r| r.unwrap().to_vec1().unwrap())
            .collect()
    };
    for (tag, case) in m["split"].as_object().unwrap() {
        let (l, r) = utils::split_dataset(x.clone(), args(&case["args"])).unwrap();
        let want_l: Vec<Vec<f32>> = serde_json::from_value(case["left"].clone()).unwrap();
        let want_r: Vec<Vec<f32>> = serde_json::from_value(case["right"].clone()).unwrap();
        assert_eq!(
            (read(&l), read(&r)),
            (want_l.clone(), want_r.clone()),
            "{tag}"
        );
        // The same from a Dataset of rows.
        let ds = Dataset::from_tensor_slices(x.clone()).unwrap();
        let (l, r) = utils::split_dataset_of(&ds, args(&case["args"])).unwrap();
        assert_eq!((read(&l), read(&r)), (want_l, want_r), "{tag} (Dataset)");
    }
    for (tag, case) in m["split_errors"].as_object().unwrap() {
        let e = utils::split_dataset(x.clone(), args(&case["args"])).unwrap_err();
        assert_eq!(e.to_string(), case["error"].as_str().unwrap(), "{tag}");
    }
}

#[test]
fn fit_trains_on_an_image_directory() {
    keras::utils::set_random_seed(3);
    let args = ImageDatasetArgs {
        image_size: (8, 8),
        batch_size: Some(4),
        seed: Some(11),
        validation_split: Some(0.3),
        verbose: false,
        ..Default::default()
    };
    let dir = fixtures().join("images");
    let (train, val) = utils::image_dataset_from_directory_both(&dir, args).unwrap();
    let mut m = Sequential::from_layers([
        Input::new([8, 8, 3]).into(),
        Flatten::new().into(),
        Dense::new(3).into(),
    ])
    .unwrap();
    m.compile(
        "adam",
        keras::losses::SparseCategoricalCrossentropy::new().from_logits(true),
        ["accuracy"],
    )
    .unwrap();
    let fit = FitArgs {
        epochs: 2,
        verbose: 0,
        validation_data: Some((&val).into()),
        ..Default::default()
    };
    let h = m.fit_dataset(&train, fit).unwrap();
    assert_eq!(h.history["loss"].len(), 2);
    assert!(h.history["val_loss"].iter().all(|v| v.is_finite()));
}
