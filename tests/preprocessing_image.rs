//! The numeric and image preprocessing layers against Keras 3.15.1 (JAX backend):
//! tests/fixtures/make_preprocessing.py wrote Keras's outputs for fixed transformations, its
//! configs, and two `.keras` models with preprocessing layers inside.

mod common;

use common::{assert_close, Fixture};
use keras::engine::context;
use keras::layers::preprocessing::*;
use keras::layers::{Conv2D, Dense, GlobalAveragePooling2D};
use keras::ops::image::{self, FillMode, Interpolation};
use keras::ops::{self, strings};
use keras::prelude::*;
use keras::saving::model_config::serialize_layer;
use keras::saving::registry::layer_from_config;
use serde_json::Value;

fn fx() -> Fixture {
    Fixture::load("preprocessing/preprocessing.npz")
}

fn path(file: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/preprocessing")
        .join(file)
}

fn run(layer: impl LayerExt, x: &Tensor, training: bool) -> Tensor {
    let _t = context::set_training(training);
    layer.into_layer().apply(x).unwrap()
}

fn ints(t: &Tensor) -> Vec<i64> {
    t.flatten_all()
        .unwrap()
        .to_dtype(DType::I64)
        .unwrap()
        .to_vec1()
        .unwrap()
}

#[test]
fn resize_equals_jax_for_every_interpolation() {
    let f = fx();
    let img = f.get("img");
    for (name, ip) in [
        ("bilinear", Interpolation::Bilinear),
        ("nearest", Interpolation::Nearest),
        ("bicubic", Interpolation::Bicubic),
        ("lanczos3", Interpolation::Lanczos3),
        ("lanczos5", Interpolation::Lanczos5),
    ] {
        for (h, w) in [(3, 4), (8, 11), (5, 3), (2, 7)] {
            let key = format!("resize_{name}_{h}x{w}");
            let y = image::resize(&img, h, w, ip, false).unwrap();
            assert_close(&key, &y, &f.get(&key), 1e-5);
        }
        let key = format!("resize_{name}_3x4_aa");
        assert_close(
            &key,
            &image::resize(&img, 3, 4, ip, true).unwrap(),
            &f.get(&key),
            1e-5,
        );
    }
    let single = img.get(0).unwrap();
    let y = image::resize(&single, 4, 9, Interpolation::Nearest, false).unwrap();
    assert_close("single", &y, &f.get("resize_single_nearest"), 0.0);
    for (h, w) in [(4, 4), (6, 3), (3, 9)] {
        let crop = Resizing::new(h, w).crop_to_aspect_ratio(true);
        let key = format!("resize_crop_{h}x{w}");
        assert_close(&key, &run(crop, &img, false), &f.get(&key), 1e-5);
        let pad = Resizing::new(h, w)
            .pad_to_aspect_ratio(true)
            .fill_value(0.5);
        let key = format!("resize_pad_{h}x{w}");
        assert_close(&key, &run(pad, &img, false), &f.get(&key), 1e-5);
    }
}

#[test]
fn resizing_and_center_crop_layers_equal_keras() {
    let f = fx();
    let img = f.get("img");
    let cases: Vec<(&str, Resizing, Tensor)> = vec![
        ("resizing_layer", Resizing::new(4, 6), img.clone()),
        (
            "resizing_layer_crop_nearest",
            Resizing::new(4, 4)
                .interpolation("nearest")
                .crop_to_aspect_ratio(true),
            img.clone(),
        ),
        (
            "resizing_layer_pad",
            Resizing::new(4, 4)
                .pad_to_aspect_ratio(true)
                .fill_value(2.0),
            img.clone(),
        ),
        (
            "resizing_layer_single",
            Resizing::new(3, 3),
            img.get(1).unwrap(),
        ),
    ];
    for (key, layer, x) in cases {
        assert_close(key, &run(layer, &x, false), &f.get(key), 1e-5);
    }
    // Integer images stay integers, rounded as Keras rounds them.
    let u8 = run(Resizing::new(3, 3), &f.get("img_u8"), false);
    assert_eq!(u8.dtype(), DType::U8);
    assert_eq!(ints(&u8), ints(&f.get("resizing_layer_u8")));
    for (key, h, w) in [
        ("center_crop_3x4", 3, 4),
        ("center_crop_4x7", 4, 7),
        ("center_crop_8x6", 8, 6),
        ("center_crop_6x9", 6, 9),
    ] {
        assert_close(
            key,
            &run(CenterCrop::new(h, w), &img, false),
            &f.get(key),
            1e-5,
        );
    }
    let single = run(CenterCrop::new(2, 3), &img.get(0).unwrap(), false);
    assert_close(
        "center_crop_single",
        &single,
        &f.get("center_crop_single"),
        1e-6,
    );
    let y = CenterCrop::new(3, 4).call(Input::new([5, 7, 3])).unwrap();
    assert_eq!(y.shape().to_string(), "(None, 3, 4, 3)");
}

#[test]
fn affine_transform_equals_jax_for_every_fill_mode() {
    let f = fx();
    let small = f.get("small");
    let t = f.f32("transforms");
    let transforms: Vec<image::Transform> = t.chunks(8).map(|c| c.try_into().unwrap()).collect();
    for mode in ["constant", "nearest", "wrap", "mirror", "reflect"] {
        for interp in ["nearest", "bilinear"] {
            let key = format!("affine_{mode}_{interp}");
            let y = image::affine_transform(
                &small,
                &transforms,
                Interpolation::parse(interp).unwrap(),
                FillMode::parse(mode).unwrap(),
                0.75,
            )
            .unwrap();
            assert_close(&key, &y, &f.get(&key), 1e-5);
        }
    }
}

#[test]
fn fixed_random_transformations_equal_keras() {
    let f = fx();
    let small = f.get("small");
    for mode in ["reflect", "wrap", "constant", "nearest"] {
        for interp in ["bilinear", "nearest"] {
            let rot = RandomRotation::new((0.1, 0.1))
                .fill_mode(mode)
                .interpolation(interp)
                .fill_value(0.5);
            let key = format!("rotation_{mode}_{interp}");
            assert_close(&key, &run(rot, &small, true), &f.get(&key), 1e-5);
            let zoom = RandomZoom::new((0.3, 0.3))
                .width_factor((-0.2, -0.2))
                .fill_mode(mode)
                .interpolation(interp)
                .fill_value(0.5);
            let key = format!("zoom_{mode}_{interp}");
            assert_close(&key, &run(zoom, &small, true), &f.get(&key), 1e-5);
            let tr = RandomTranslation::new((0.15, 0.15), (-0.3, -0.3))
                .fill_mode(mode)
                .interpolation(interp)
                .fill_value(0.5);
            let key = format!("translation_{mode}_{interp}");
            assert_close(&key, &run(tr, &small, true), &f.get(&key), 1e-5);
        }
    }
    let one = |i: usize| small.get(i).unwrap();
    assert_close(
        "rotation_neg",
        &run(RandomRotation::new((-0.3, -0.3)), &small, true),
        &f.get("rotation_neg"),
        1e-5,
    );
    let r = RandomRotation::new((0.2, 0.2)).fill_mode("constant");
    assert_close(
        "rotation_single",
        &run(r, &one(0), true),
        &f.get("rotation_single"),
        1e-5,
    );
    assert_close(
        "zoom_same",
        &run(RandomZoom::new((-0.25, -0.25)), &small, true),
        &f.get("zoom_same"),
        1e-5,
    );
    let z = RandomZoom::new((0.4, 0.4))
        .width_factor((0.1, 0.1))
        .fill_mode("nearest");
    assert_close(
        "zoom_single",
        &run(z, &one(1), true),
        &f.get("zoom_single"),
        1e-5,
    );
    let t = RandomTranslation::new((0.2, 0.2), (0.1, 0.1));
    assert_close(
        "translation_single",
        &run(t, &one(1), true),
        &f.get("translation_single"),
        1e-5,
    );
    for mode in ["horizontal", "vertical", "horizontal_and_vertical"] {
        let y = RandomFlip::new(mode).flip(&small, &[true, false]).unwrap();
        assert_close(mode, &y, &f.get(&format!("flip_{mode}")), 0.0);
    }
    let c = RandomContrast::new(0.5)
        .adjust(&f.get("imgs255"), &[1.3, 0.6])
        .unwrap();
    assert_close("contrast", &c, &f.get("contrast"), 1e-5);
    let c = RandomContrast::new(0.5)
        .value_range(0.0, 1.0)
        .adjust(&f.get("img"), &[1.3, 0.6])
        .unwrap();
    assert_close("contrast01", &c, &f.get("contrast01"), 1e-5);
    let img = f.get("img");
    let crop = RandomCrop::new(3, 4);
    assert_close(
        "random_crop_train",
        &crop.crop_at(&img, 1, 2).unwrap(),
        &f.get("random_crop_train"),
        0.0,
    );
    let small_crop = run(RandomCrop::new(6, 9), &img, true);
    assert_close(
        "random_crop_small_train",
        &small_crop,
        &f.get("random_crop_small_train"),
        1e-5,
    );
    // Keras 3 passes images through RandomCrop at inference, uncropped.
    assert_close(
        "random_crop_infer",
        &run(RandomCrop::new(3, 4), &img, false),
        &f.get("random_crop_infer"),
        0.0,
    );
}

#[test]
fn random_layers_are_the_identity_at_inference_and_seeded_draws_repeat() {
    let x = Tensor::rand(0f32, 1.0, (8, 6, 6, 2), &Device::Cpu).unwrap();
    let want = ops::to_vec_f32(&x).unwrap();
    type Make = Box<dyn Fn(u64) -> LayerRef>;
    let layers: Vec<(&str, Make)> = vec![
        (
            "flip",
            Box::new(|s| RandomFlip::default().seed(s).into_layer()),
        ),
        (
            "rotation",
            Box::new(|s| RandomRotation::new(0.3).seed(s).into_layer()),
        ),
        (
            "zoom",
            Box::new(|s| RandomZoom::new(0.3).seed(s).into_layer()),
        ),
        (
            "translation",
            Box::new(|s| RandomTranslation::new(0.3, 0.3).seed(s).into_layer()),
        ),
        (
            "contrast",
            Box::new(|s| {
                RandomContrast::new(0.5)
                    .value_range(0.0, 1.0)
                    .seed(s)
                    .into_layer()
            }),
        ),
        (
            "crop",
            Box::new(|s| RandomCrop::new(4, 4).seed(s).into_layer()),
        ),
    ];
    for (name, make) in &layers {
        let l = make(1);
        assert_eq!(
            ops::to_vec_f32(&l.apply(&x).unwrap()).unwrap(),
            want,
            "{name}: inference"
        );
        let _t = context::set_training(true);
        let a = ops::to_vec_f32(&make(7).apply(&x).unwrap()).unwrap();
        let b = ops::to_vec_f32(&make(7).apply(&x).unwrap()).unwrap();
        let c = ops::to_vec_f32(&make(8).apply(&x).unwrap()).unwrap();
        assert_eq!(a, b, "{name}: same seed, same draws");
        assert_ne!(a, c, "{name}: another seed, other draws");
        // A layer keeps drawing: its second call differs from its first.
        let l = make(7);
        let first = ops::to_vec_f32(&l.apply(&x).unwrap()).unwrap();
        let second = ops::to_vec_f32(&l.apply(&x).unwrap()).unwrap();
        assert_ne!(first, second, "{name}: fresh draws per call");
    }
    // Without a seed, the global generator decides.
    let draw = || {
        keras::utils::set_random_seed(3);
        let _t = context::set_training(true);
        ops::to_vec_f32(&RandomRotation::new(0.3).into_layer().apply(&x).unwrap()).unwrap()
    };
    assert_eq!(draw(), draw());
}

#[test]
fn flips_happen_half_the_time() {
    let n = 2000;
    let x = Tensor::arange(0f32, (n * 2) as f32, &Device::Cpu)
        .unwrap()
        .reshape((n, 1, 2, 1))
        .unwrap();
    let y = ops::to_vec_f32(&run(RandomFlip::new("horizontal").seed(5), &x, true)).unwrap();
    let flipped = y.chunks(2).filter(|p| p[0] > p[1]).count();
    let rate = flipped as f64 / n as f64;
    assert!((rate - 0.5).abs() < 0.05, "flip rate {rate}");
}

#[test]
fn rotation_angles_stay_in_the_factor_range() {
    // A blob right of the centre; its centroid after rotating tells the angle.
    let (s, c) = (41usize, 20.0f64);
    let mut v = vec![0f32; s * s];
    for r in 19..22 {
        for q in 33..36 {
            v[r * s + q] = 1.0;
        }
    }
    let n = 150;
    let img = Tensor::from_vec(v, (1, s, s, 1), &Device::Cpu).unwrap();
    let x = Tensor::cat(&vec![img; n], 0).unwrap();
    let l = RandomRotation::new((0.05, 0.15))
        .fill_mode("constant")
        .interpolation("nearest")
        .seed(2);
    let y = ops::to_vec_f32(&run(l, &x, true)).unwrap();
    let mut angles = vec![];
    for k in 0..n {
        let (mut sr, mut sq, mut m) = (0.0, 0.0, 0.0);
        for r in 0..s {
            for q in 0..s {
                let p = y[k * s * s + r * s + q] as f64;
                sr += p * r as f64;
                sq += p * q as f64;
                m += p;
            }
        }
        let (dy, dx) = (sr / m - c, sq / m - c);
        angles.push((-dy).atan2(dx).to_degrees());
    }
    // Keras's rotation is counter-clockwise on screen for positive factors.
    let (lo, hi) = (0.05 * 360.0, 0.15 * 360.0);
    for a in &angles {
        assert!(
            *a > lo - 4.0 && *a < hi + 4.0,
            "angle {a} outside [{lo}, {hi}]"
        );
    }
    let min = angles.iter().cloned().fold(f64::MAX, f64::min);
    let max = angles.iter().cloned().fold(f64::MIN, f64::max);
    assert!(min < lo + 8.0 && max > hi - 8.0, "angles span {min}..{max}");
}

#[test]
fn normalization_adapts_as_keras() {
    let f = fx();
    let data = f.get("norm_data");
    let n = Normalization::new().into_layer();
    adapt(&n, &data).unwrap();
    let w = n.get_weights().unwrap();
    assert_close("mean", &w[0], &f.get("norm_mean"), 1e-6);
    assert_close("variance", &w[1], &f.get("norm_var"), 1e-5);
    assert_eq!(n.weights()[2].path(), format!("{}/count", n.name()));
    assert_close(
        "out",
        &n.apply(&data.narrow(0, 0, 5).unwrap()).unwrap(),
        &f.get("norm_out"),
        1e-5,
    );
    let inv = Normalization::new()
        .mean_variance(&[1.0, 2.0, 3.0, 4.0], &[1.0, 4.0, 9.0, 0.0])
        .invert(true);
    assert_close(
        "invert",
        &run(inv, &data.narrow(0, 0, 5).unwrap(), false),
        &f.get("norm_invert_out"),
        1e-6,
    );
    let img = f.get("img");
    let ni = Normalization::new().axes(&[1, 2]).into_layer();
    adapt(&ni, &img).unwrap();
    let w = ni.get_weights().unwrap();
    assert_close("img mean", &w[0], &f.get("norm_img_mean"), 1e-6);
    assert_close("img var", &w[1], &f.get("norm_img_var"), 1e-5);
    assert_close(
        "img out",
        &ni.apply(&img).unwrap(),
        &f.get("norm_img_out"),
        1e-5,
    );
    let na = Normalization::new().axes(&[]).into_layer();
    adapt(&na, &data).unwrap();
    let w = na.get_weights().unwrap();
    assert_eq!(w[0].dims(), &[] as &[usize]);
    assert_close("all mean", &w[0], &f.get("norm_all_mean"), 1e-6);
    assert_close("all var", &w[1], &f.get("norm_all_var"), 1e-5);
    let nb = Normalization::new().into_layer();
    let batches = [(0, 7), (7, 13), (20, 20)].map(|(a, n)| data.narrow(0, a, n).unwrap());
    adapt_batches(&nb, batches).unwrap();
    let w = nb.get_weights().unwrap();
    assert_close("batches mean", &w[0], &f.get("norm_batches_mean"), 1e-5);
    assert_close("batches var", &w[1], &f.get("norm_batches_var"), 1e-5);
    let scalar = Normalization::new()
        .mean_variance_tensors(
            &Tensor::new(2f64, &Device::Cpu).unwrap(),
            &Tensor::new(3f64, &Device::Cpu).unwrap(),
        )
        .unwrap();
    assert_close(
        "scalar",
        &run(scalar, &data.narrow(0, 0, 5).unwrap(), false),
        &f.get("norm_scalar_out"),
        1e-6,
    );
}

#[test]
fn category_encoding_hashing_and_discretization_equal_keras() {
    let f = fx();
    let ids = f.get("cat_ids");
    let enc = |mode: &str| CategoryEncoding::new(6).output_mode(mode);
    assert_close(
        "multi_hot",
        &run(enc("multi_hot"), &ids, false),
        &f.get("cat_multi_hot"),
        0.0,
    );
    assert_close(
        "count",
        &run(enc("count"), &ids, false),
        &f.get("cat_count"),
        0.0,
    );
    let w = enc("count")
        .encode(&ids, Some(&f.get("cat_count_weights")))
        .unwrap();
    assert_close("weighted", &w, &f.get("cat_count_weighted"), 0.0);
    assert_close(
        "one_hot",
        &run(enc("one_hot"), &ids, false),
        &f.get("cat_one_hot"),
        0.0,
    );
    let col = ids.narrow(1, 0, 1).unwrap();
    assert_close(
        "one_hot col",
        &run(enc("one_hot"), &col, false),
        &f.get("cat_one_hot_col"),
        0.0,
    );
    let row = ids.get(0).unwrap();
    assert_close(
        "one_hot 1d",
        &run(enc("one_hot"), &row, false),
        &f.get("cat_one_hot_1d"),
        0.0,
    );
    assert_close(
        "multi_hot 1d",
        &run(enc("multi_hot"), &row, false),
        &f.get("cat_multi_hot_1d"),
        0.0,
    );
    assert_close(
        "count 1d",
        &run(enc("count"), &row, false),
        &f.get("cat_count_1d"),
        0.0,
    );

    let x = f.get("hash_ints");
    let h = |l: Hashing, x: &Tensor| ints(&run(l, x, false));
    assert_eq!(h(Hashing::new(3), &x), ints(&f.get("hash_int_3")));
    assert_eq!(h(Hashing::new(1000), &x), ints(&f.get("hash_int_1000")));
    assert_eq!(
        h(Hashing::new(7).mask_value(17i64), &x),
        ints(&f.get("hash_int_mask"))
    );
    assert_eq!(
        h(Hashing::new(100).salt([133, 133]), &x),
        ints(&f.get("hash_int_salt"))
    );
    assert_eq!(
        h(Hashing::new(100).salt([7, 11]), &x),
        ints(&f.get("hash_int_salt2"))
    );
    let mh = run(Hashing::new(8).output_mode("multi_hot"), &x, false);
    assert_close("hash multi_hot", &mh, &f.get("hash_int_multi_hot"), 0.0);
    let ct = run(Hashing::new(8).output_mode("count"), &x, false);
    assert_close("hash count", &ct, &f.get("hash_int_count"), 0.0);
    assert_eq!(
        h(Hashing::new(10), &f.get("hash_floats")),
        ints(&f.get("hash_float_10"))
    );
    let words: Vec<String> =
        serde_json::from_str(&std::fs::read_to_string(path("hash_words.json")).unwrap()).unwrap();
    let s = strings::encode(&words).unwrap();
    assert_eq!(h(Hashing::new(1000), &s), ints(&f.get("hash_str_1000")));
    assert_eq!(h(Hashing::new(1), &s), ints(&f.get("hash_str_1")));
    assert_eq!(
        h(Hashing::new(1000).salt([3, 5]), &s),
        ints(&f.get("hash_str_salt"))
    );
    assert_eq!(
        h(Hashing::new(10).mask_value("hello"), &s),
        ints(&f.get("hash_str_mask"))
    );

    let vals = f.get("disc_vals");
    let d = |mode: &str| Discretization::with_boundaries(&[0.0, 1.0, 2.0]).output_mode(mode);
    let di = run(d("int"), &vals, false);
    assert_eq!(di.dtype(), DType::I32);
    assert_eq!(ints(&di), ints(&f.get("disc_int")));
    for mode in ["one_hot", "multi_hot", "count"] {
        assert_close(
            mode,
            &run(d(mode), &vals, false),
            &f.get(&format!("disc_{mode}")),
            0.0,
        );
    }
    let data = f.get("disc_adapt_data");
    for (nb, eps, key) in [
        (4, 0.01, "4_0.01"),
        (5, 0.01, "5_0.01"),
        (3, 0.1, "3_0.1"),
        (10, 0.001, "10_0.001"),
    ] {
        let mut l = Discretization::with_num_bins(nb).epsilon(eps);
        l.adapt(&data).unwrap();
        let got = Tensor::new(l.bin_boundaries().unwrap(), &Device::Cpu).unwrap();
        assert_close(key, &got, &f.get(&format!("disc_adapt_{key}")), 1e-6);
    }
    let l = Discretization::with_num_bins(4).into_layer();
    adapt(&l, &data.reshape((50, 10)).unwrap()).unwrap();
    let b = l
        .with(|d: &Discretization| d.bin_boundaries().unwrap().to_vec())
        .unwrap();
    assert_close(
        "2d",
        &Tensor::new(b, &Device::Cpu).unwrap(),
        &f.get("disc_adapt_2d"),
        1e-6,
    );
    let mut l = Discretization::with_num_bins(6);
    l.adapt_batches([
        data.narrow(0, 0, 120).unwrap(),
        data.narrow(0, 120, 380).unwrap(),
    ])
    .unwrap();
    let got = Tensor::new(l.bin_boundaries().unwrap(), &Device::Cpu).unwrap();
    assert_close("batches", &got, &f.get("disc_adapt_batches"), 1e-6);
}

fn same(path: &str, ours: &Value, keras: &Value, problems: &mut Vec<String>) {
    match (ours, keras) {
        (Value::Object(o), Value::Object(k)) => {
            for (key, kv) in k {
                match o.get(key) {
                    Some(ov) => same(&format!("{path}.{key}"), ov, kv, problems),
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
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            if (a - b).abs() > 1e-9 * (1.0 + b.abs()) {
                problems.push(format!("{path}: {a} vs Keras {b}"));
            }
        }
        (a, b) if a == b => {}
        (a, b) => problems.push(format!("{path}: {a} vs Keras {b}")),
    }
}

#[test]
fn configs_equal_keras_both_ways() {
    let entries: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(path("configs.json")).unwrap()).unwrap();
    assert!(entries.len() >= 29);
    let mut problems = vec![];
    for e in &entries {
        let class = e["class_name"].as_str().unwrap();
        let layer = match layer_from_config(class, e["config"].as_object().unwrap()) {
            Ok(l) => l,
            Err(err) => {
                problems.push(format!("{class}: cannot load: {err}"));
                continue;
            }
        };
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
    // Unsupported options are refused, not dropped.
    let bad = [
        ("Hashing", r#"{"num_bins": 3, "sparse": true}"#, "sparse"),
        (
            "RandomRotation",
            r#"{"factor": 0.1, "data_format": "channels_first"}"#,
            "channels_last",
        ),
        ("Resizing", r#"{"height": 2}"#, "width"),
        ("Hashing", r#"{"num_bins": 3, "salt": "x"}"#, "salt"),
    ];
    for (class, cfg, needle) in bad {
        let c: serde_json::Map<String, Value> = serde_json::from_str(cfg).unwrap();
        let e = layer_from_config(class, &c)
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(e.contains(needle), "{class}: {e}");
    }
}

#[test]
fn keras_models_with_preprocessing_layers_load_and_predict_keras_numbers() {
    let f = Fixture::load("preprocessing/image_model.npz");
    let m = keras::saving::load_model(path("image_model.keras")).unwrap();
    let p: Tensor = m.predict_on_batch(vec![f.get("x0")]).unwrap();
    assert_close("image_model", &p, &f.get("pred0"), 1e-5);
    let names: Vec<String> = m
        .layers()
        .iter()
        .map(|l| l.class_name().to_string())
        .collect();
    for c in [
        "Rescaling",
        "Normalization",
        "Resizing",
        "CenterCrop",
        "RandomFlip",
    ] {
        assert!(names.iter().any(|n| n == c), "{c} in {names:?}");
    }
    let f = Fixture::load("preprocessing/tabular_model.npz");
    let m = keras::saving::load_model(path("tabular_model.keras")).unwrap();
    let p: Tensor = m.predict_on_batch(vec![f.get("x0"), f.get("x1")]).unwrap();
    assert_close("tabular_model", &p, &f.get("pred0"), 1e-5);
}

/// Writes `name.keras`, `name.json`, `name.weights.h5` and `name.npz` (inputs, our
/// predictions) for tests/fixtures/check_preprocessing_files.py.
fn export(dir: &std::path::Path, name: &str, m: &Model, xs: &[Tensor]) -> Vec<Tensor> {
    let pred: Vec<Tensor> = m.predict_on_batch(xs.to_vec()).unwrap();
    m.save(dir.join(format!("{name}.keras"))).unwrap();
    m.save_weights(dir.join(format!("{name}.weights.h5")))
        .unwrap();
    std::fs::write(
        dir.join(format!("{name}.json")),
        keras::saving::to_json(m).unwrap(),
    )
    .unwrap();
    let keys: Vec<String> = (0..xs.len()).map(|i| format!("x{i}")).collect();
    let mut arrays: Vec<(&str, &Tensor)> = keys.iter().map(|k| k.as_str()).zip(xs).collect();
    arrays.push(("pred0", &pred[0]));
    keras::ops::npy::write_npz(dir.join(format!("{name}.npz")), &arrays).unwrap();
    pred
}

fn python() -> Option<String> {
    let candidates = [std::env::var("KERAS_PYTHON").ok(), Some("python3".into())];
    candidates.into_iter().flatten().find(|p| {
        std::process::Command::new(p)
            .args(["-c", "import keras, tensorflow"])
            .env("KERAS_BACKEND", "jax")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    })
}

fn image_model(data: &Tensor) -> Model {
    let inp = Input::new([10, 12, 3]);
    let x = Rescaling::new(1.0 / 255.0, 0.0).call(&inp).unwrap();
    let norm = Normalization::new().into_layer();
    adapt(&norm, &((data / 255.0).unwrap())).unwrap();
    let x = norm.call(&x).unwrap();
    let x = Resizing::new(8, 8)
        .interpolation("nearest")
        .call(&x)
        .unwrap();
    let x = CenterCrop::new(6, 6).call(&x).unwrap();
    let x = RandomFlip::default().seed(3).call(&x).unwrap();
    let x = RandomRotation::new(0.1).call(&x).unwrap();
    let x = RandomZoom::new(0.1).call(&x).unwrap();
    let x = RandomTranslation::new(0.1, 0.2).call(&x).unwrap();
    let x = RandomContrast::new(0.2).call(&x).unwrap();
    let x = Conv2D::new(2, (3, 3)).call(&x).unwrap();
    let x = GlobalAveragePooling2D::new().call(&x).unwrap();
    let out = Dense::new(1).call(&x).unwrap();
    let mut m = Model::new(&[inp], &[out]).unwrap();
    m.compile("adam", "mse", ()).unwrap();
    m
}

fn tabular_model() -> Model {
    let num = Input::shape([3]).name("num").build();
    let cat = Input::shape([2]).dtype(DType::I64).name("cat").build();
    let d = Discretization::with_boundaries(&[-0.5, 0.0, 0.5])
        .call(&num)
        .unwrap();
    let e = CategoryEncoding::new(4)
        .output_mode("count")
        .call(&d)
        .unwrap();
    let h = Hashing::new(6).output_mode("multi_hot").call(&cat).unwrap();
    let hs = Hashing::new(5)
        .salt([3, 4])
        .mask_value(0i64)
        .call(&cat)
        .unwrap();
    let hs = CategoryEncoding::new(5).call(&hs).unwrap();
    let n = Normalization::new()
        .mean_variance(&[0.5, -0.5, 1.0], &[2.0, 1.0, 0.5])
        .call(&num)
        .unwrap();
    let x = keras::layers::concatenate(&[e, h, hs, n]).unwrap();
    let out = Dense::new(1).call(&x).unwrap();
    let mut m = Model::new(&[num, cat], &[out]).unwrap();
    m.compile("adam", "mse", ()).unwrap();
    m
}

#[test]
fn our_models_with_preprocessing_layers_round_trip_here_and_in_keras() {
    let dir = std::env::temp_dir().join(format!("keras_rs_prep_{}", std::process::id()));
    let scratch = dir.join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    let data = Tensor::rand(0f32, 255.0, (16, 10, 12, 3), &Device::Cpu).unwrap();
    let mut m = image_model(&data);
    let y = Tensor::zeros((16, 1), DType::F32, &Device::Cpu).unwrap();
    m.train_on_batch(vec![data.clone()], vec![y]).unwrap();
    let before = export(&dir, "prep_image", &m, std::slice::from_ref(&data));
    let b = keras::saving::load_model(dir.join("prep_image.keras")).unwrap();
    assert_close(
        "round trip",
        &b.predict_on_batch(vec![data.clone()]).unwrap(),
        &before[0],
        1e-6,
    );
    // The loaded config saves back the same (Normalization's build shape comes from the
    // graph once loaded, not from the adapted data's batch size).
    let again = scratch.join("again.keras");
    b.save(&again).unwrap();
    let c = keras::saving::load_model(&again).unwrap();
    assert_eq!(
        keras::saving::to_json(&c).unwrap(),
        keras::saving::to_json(&b).unwrap()
    );
    let mut c = keras::saving::load_model(dir.join("prep_image.keras")).unwrap();
    c.load_weights(dir.join("prep_image.weights.h5")).unwrap();
    assert_close(
        "weights",
        &c.predict_on_batch(vec![data]).unwrap(),
        &before[0],
        1e-6,
    );

    let m = tabular_model();
    let xs = vec![
        Tensor::randn(0f32, 1.0, (6, 3), &Device::Cpu).unwrap(),
        Tensor::new(
            &[[0i64, 3], [17, 0], [5, 5], [49, 1], [2, 8], [0, 0]],
            &Device::Cpu,
        )
        .unwrap(),
    ];
    let before = export(&dir, "prep_tabular", &m, &xs);
    let b = keras::saving::load_model(dir.join("prep_tabular.keras")).unwrap();
    assert_close(
        "tabular",
        &b.predict_on_batch(xs).unwrap(),
        &before[0],
        1e-6,
    );

    let required = std::env::var("KERAS_RS_REQUIRE_PYTHON").is_ok_and(|v| v == "1");
    let Some(py) = python() else {
        assert!(
            !required,
            "KERAS_RS_REQUIRE_PYTHON=1 but no Python with keras was found"
        );
        eprintln!("skipping the Python Keras half: no python with keras and tensorflow (set KERAS_PYTHON)");
        return;
    };
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/check_preprocessing_files.py");
    let out = std::process::Command::new(&py)
        .arg(&script)
        .arg(&dir)
        .env("KERAS_BACKEND", "jax")
        .env("JAX_PLATFORMS", "cpu")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "Python Keras rejected our files:\n{text}"
    );
    assert!(text.contains("checked 2 models, 0 failed"), "{text}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn adapt_reaches_every_adaptable_layer_and_datasets() {
    let l = StringLookup::new().into_layer();
    adapt(&l, &strings::encode(&["a", "b", "b"]).unwrap()).unwrap();
    let v = l.with(|s: &StringLookup| s.get_vocabulary(true)).unwrap();
    assert_eq!(v, ["[UNK]", "b", "a"]);
    // A dataset of (x, y) rows: Normalization batches unbatched rows by 128, as Keras.
    let f = fx();
    let data = f.get("norm_data");
    let y = Tensor::zeros(40, DType::F32, &Device::Cpu).unwrap();
    let ds = keras::data::Dataset::from_tensor_slices((data.clone(), y)).unwrap();
    let n = Normalization::new().into_layer();
    adapt_dataset(&n, &ds).unwrap();
    let w = n.get_weights().unwrap();
    assert_close("dataset mean", &w[0], &f.get("norm_mean"), 1e-6);
    assert_close("dataset var", &w[1], &f.get("norm_var"), 1e-5);
    let e = adapt(&Dense::new(2).into_layer(), &data).unwrap_err();
    assert!(e.to_string().contains("has no adapt()"), "{e}");
    // A symbolic string input hashes its strings (the byte axis is not in the shape).
    let text = Input::string([1]);
    let h = Hashing::new(1000).call(&text).unwrap();
    assert_eq!(h.shape().to_string(), "(None, 1)");
    assert_eq!(h.dtype(), DType::I64);
    let m = Model::new(&[text], &[h]).unwrap();
    let words = strings::encode(&["hello", "a"])
        .unwrap()
        .reshape((2, 1, 5))
        .unwrap();
    let p: Tensor = m.predict_on_batch(vec![words]).unwrap();
    assert_eq!(ints(&p), [296, 939]);
}
