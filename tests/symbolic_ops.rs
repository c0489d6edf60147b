//! `keras::ops` and Python-style operators on a functional model's symbolic tensors, against
//! Keras 3 (fixtures from tests/fixtures/make_ops_fixtures.py): the same model built here
//! predicts Keras's numbers and prints Keras's summary; Keras's `.keras` file with op nodes
//! loads here; ours loads back here (and in Keras when a Python with keras is found); a model
//! with op nodes trains; each eager op equals Keras's value and its symbolic node.

mod common;

use common::{assert_close, keras_python, summary_fixture, Fixture};
use keras::ops::{self, Idx, Sections};
use keras::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The tests of this file run one at a time: one of them compares auto-generated names
/// (`add`, `add_1`, ...) after `clear_session`, which another test's layers would shift.
static NAMES: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    NAMES.lock().unwrap_or_else(|e| e.into_inner())
}

fn fixture(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/symbolic_ops")
        .join(file)
}

/// The model of make_ops_fixtures.py, op for op in the same order (so the same names).
fn ops_model() -> keras::Result<Model> {
    let x = Input::shape([3, 4]).name("x").build();
    let ids = Input::shape([3]).name("ids").dtype(DType::I64).build();
    let h = &x * 2.0 + 1.0;
    let h = ops::concatenate(&[h, ops::one_hot(&ids, 4)?], -1)?;
    let m = ops::mean(&h, 1, false)?;
    let s = h.slice(&[Idx::all(), Idx::at(0)])?;
    let g = ops::einsum("bti,btj->bij", &[&h, &h])?;
    let ht = ops::transpose(&h, Some(&[0, 2, 1]))?;
    let t = ops::sum(&ops::tanh(&ops::matmul(&h, &ht)?)?, -1, false)?;
    let c = ops::cast(&ids, DType::F32)? / 4.0;
    let ms = &m - &s;
    let gm = ops::mean(&g, [1, 2], false)?.slice(&[Idx::all(), Idx::NewAxis])?;
    let z = ops::concatenate(&[ms, t, c, gm], -1)?;
    let d = Dense::new(4).name("dense").call(&z)?;
    let d = ops::relu(&d)? + ops::sigmoid(&d)? * ops::gelu(&d, true)?;
    let e = ops::squeeze(&ops::expand_dims(&d, -1)?, Some(-1))?;
    let out = ops::softmax(
        &ops::where_(&ops::greater(&e, 0.0)?, &e, &ops::square(&e)?)?,
        -1,
    )?;
    let spread = ops::max(&h, 1, false)? - ops::min(&h, 1, false)?;
    let w = ops::sqrt(&ops::abs(&ops::clip(&spread, 0.0, 5.0)?)?)?;
    let parts = ops::split(&w, Sections::Equal(2), -1)?;
    let r = ops::reshape(&ops::stack(&parts, 1)?, &[-1, 8])?;
    let out2 = 1.0 - ops::log(&(&r + 1.0))? / 2.0 + -ops::exp(&-&r)?;
    Ok(Model::new(&[x, ids], &[out, out2])?.name("ops_model"))
}

fn inputs(f: &Fixture) -> Vec<Tensor> {
    vec![f.get("x"), f.get("ids")]
}

fn check_predictions(what: &str, model: &mut Model, f: &Fixture) {
    let [y0, y1]: [Tensor; 2] = model.predict(inputs(f), EvalArgs::quiet()).unwrap();
    assert_close(&format!("{what} output 0"), &y0, &f.get("y0"), 1e-5);
    assert_close(&format!("{what} output 1"), &y1, &f.get("y1"), 1e-5);
}

#[test]
fn keras_file_with_op_nodes_loads_and_predicts() {
    let _g = one_at_a_time();
    let f = Fixture::load("symbolic_ops/ops_model.npz");
    let mut model = keras::saving::load_model(fixture("ops_model.keras")).unwrap();
    check_predictions("Keras's file", &mut model, &f);
    assert_eq!(model.summary_with_width(76), summary_fixture("ops_model"));
}

#[test]
fn model_built_from_ops_matches_keras() {
    let _g = one_at_a_time();
    keras::utils::clear_session();
    let f = Fixture::load("symbolic_ops/ops_model.npz");
    let mut model = ops_model().unwrap();
    let got = model.summary_with_width(76);
    assert_eq!(got, summary_fixture("ops_model"), "\n{got}");
    model
        .get_layer("dense")
        .unwrap()
        .set_weights(&[f.get("kernel"), f.get("bias")])
        .unwrap();
    check_predictions("built here", &mut model, &f);

    // Saved here, loaded here: same numbers, same summary.
    let dir = std::env::temp_dir().join(format!("keras_rs_symbolic_ops_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ops_model.keras");
    model.save(&path).unwrap();
    let mut back = keras::saving::load_model(&path).unwrap();
    check_predictions("saved and loaded here", &mut back, &f);
    assert_eq!(back.summary_with_width(76), got);

    // Saved here, loaded by Keras (when a Python with keras is at hand).
    if let Some(py) = keras_python() {
        let script = format!(
            "import keras, numpy as np\n\
             m = keras.saving.load_model({path:?})\n\
             f = np.load({npz:?})\n\
             y0, y1 = m.predict([f['x'], f['ids']], verbose=0)\n\
             assert np.allclose(y0, f['y0'], atol=1e-5) and np.allclose(y1, f['y1'], atol=1e-5)\n\
             print('keras loaded', len(m.operations))\n",
            path = path.to_string_lossy(),
            npz = fixture("ops_model.npz").to_string_lossy(),
        );
        let out = std::process::Command::new(py)
            .args(["-c", &script])
            .env("KERAS_BACKEND", "jax")
            .env("JAX_PLATFORMS", "cpu")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "Keras rejected our file:\n{text}");
        assert!(text.contains("keras loaded"), "{text}");
    } else {
        eprintln!("skipping the Keras half: no python with keras (set KERAS_PYTHON)");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn op_nodes_serialize_as_keras_writes_them() {
    let _g = one_at_a_time();
    let x = Input::new([3, 4]);
    let y = (&x * 2.0).slice(&[Idx::all(), (1..3).into(), Idx::slice(None, None, Some(2))]);
    let y = y.unwrap();
    let v = y.layer().serialize().unwrap();
    assert_eq!(v["module"], "keras.src.ops.numpy");
    assert_eq!(v["class_name"], "GetItem");
    assert_eq!(v["registered_name"], "GetItem");
    assert_eq!(y.shape().to_string(), "(None, 2, 2)");
    let model = Model::new(&[x], &[ops::mean(&y, [1, 2], true).unwrap()]).unwrap();
    let cfg = model.layer().serialize().unwrap();
    let layers = cfg["config"]["layers"].as_array().unwrap();
    let mul = &layers[1];
    assert_eq!(mul["class_name"], "Multiply");
    assert_eq!(mul["inbound_nodes"][0]["args"][1], 2.0);
    let gi = &layers[2]["inbound_nodes"][0]["args"][1];
    assert_eq!(gi[1]["class_name"], "__slice__");
    assert_eq!(
        gi[1]["config"],
        serde_json::json!({"start": 1, "stop": 3, "step": null})
    );
    assert_eq!(
        layers[3]["config"],
        serde_json::json!({"name": layers[3]["name"], "axis": [1, 2], "keepdims": true})
    );
}

#[test]
fn model_with_op_nodes_trains() {
    let _g = one_at_a_time();
    keras::utils::set_random_seed(3);
    let x = Input::new([4]);
    let h = Dense::new(8).call(&x).unwrap();
    let h = ops::relu(&h).unwrap() * 0.5 + ops::tanh(&h).unwrap();
    let h = ops::concatenate(&[h.clone(), ops::square(&h).unwrap()], -1).unwrap();
    let y = Dense::new(1).call(&h).unwrap();
    let mut model = Model::new(&[x], &[y]).unwrap();
    model
        .compile(Adam::new().learning_rate(0.02), "mse", ())
        .unwrap();
    let xs = Tensor::randn(0f32, 1.0, (64, 4), &Device::Cpu).unwrap();
    let ys = xs.sum_keepdim(1).unwrap().sqr().unwrap();
    let hist = model
        .fit(
            &xs,
            &ys,
            FitArgs {
                epochs: 30,
                batch_size: 16,
                verbose: 0,
                ..Default::default()
            },
        )
        .unwrap();
    let loss = &hist.history["loss"];
    assert!(
        loss[loss.len() - 1] < 0.5 * loss[0],
        "loss did not go down: {loss:?}"
    );
}

/// Runs `f` eagerly on `xs` and as a one-op model on symbolic inputs of the same shapes
/// (batch axis unknown); both must equal `want`.
fn eager_and_symbolic(
    name: &str,
    xs: &[Tensor],
    want: &Tensor,
    f: impl Fn(&[Tensor]) -> keras::Result<Tensor>,
    g: impl Fn(&[KerasTensor]) -> keras::Result<KerasTensor>,
) {
    let got = f(xs).unwrap_or_else(|e| panic!("{name}: {e}"));
    let tol = 1e-5;
    assert_close(
        &format!("{name} (eager)"),
        &got.to_dtype(want.dtype()).unwrap(),
        want,
        tol,
    );
    let ins: Vec<KerasTensor> = xs
        .iter()
        .map(|x| {
            Input::shape(x.dims()[1..].to_vec())
                .dtype(x.dtype())
                .build()
        })
        .collect();
    let out = g(&ins).unwrap_or_else(|e| panic!("{name} (symbolic): {e}"));
    let mut model = Model::new(&ins, &[out]).unwrap();
    let y: Tensor = model.predict(xs.to_vec(), EvalArgs::quiet()).unwrap();
    assert_close(
        &format!("{name} (symbolic)"),
        &y.to_dtype(want.dtype()).unwrap(),
        want,
        tol,
    );
}

#[test]
fn each_op_matches_keras_eagerly_and_symbolically() {
    let _g = one_at_a_time();
    let f = Fixture::load("symbolic_ops/ops_eager.npz");
    let (a, b, p, k) = (f.get("a"), f.get("b"), f.get("p"), f.get("k"));
    type Pair = (
        &'static str,
        Vec<Tensor>,
        fn(&[Tensor]) -> keras::Result<Tensor>,
        fn(&[KerasTensor]) -> keras::Result<KerasTensor>,
    );
    let ab = vec![a.clone(), b.clone()];
    let cases: Vec<Pair> = vec![
        (
            "add",
            ab.clone(),
            |x| ops::add(&x[0], &x[1]),
            |x| Ok(&x[0] + &x[1]),
        ),
        (
            "sub",
            vec![a.clone()],
            |x| ops::subtract(2.0, &x[0]),
            |x| Ok(2.0 - &x[0]),
        ),
        (
            "mul",
            vec![a.clone()],
            |x| ops::multiply(&x[0], 3.0),
            |x| Ok(&x[0] * 3.0),
        ),
        (
            "div",
            vec![a.clone(), p.clone()],
            |x| ops::divide(&x[0], &x[1]),
            |x| Ok(&x[0] / &x[1]),
        ),
        (
            "neg",
            vec![a.clone()],
            |x| ops::negative(&x[0]),
            |x| Ok(-&x[0]),
        ),
        (
            "maximum",
            vec![a.clone()],
            |x| ops::maximum(&x[0], 0.5),
            |x| ops::maximum(&x[0], 0.5),
        ),
        (
            "matmul",
            ab.clone(),
            |x| ops::matmul(&x[0], &ops::transpose(&x[1], Some(&[0, 2, 1]))?),
            |x| ops::matmul(&x[0], &ops::transpose(&x[1], Some(&[0, 2, 1]))?),
        ),
        (
            "einsum",
            ab.clone(),
            |x| ops::einsum("bij,bkj->bik", &[&x[0], &x[1]]),
            |x| ops::einsum("bij,bkj->bik", &[&x[0], &x[1]]),
        ),
        (
            "reshape",
            vec![a.clone()],
            |x| ops::reshape(&x[0], &[-1, 12]),
            |x| ops::reshape(&x[0], &[-1, 12]),
        ),
        (
            "expand_dims",
            vec![a.clone()],
            |x| ops::expand_dims(&x[0], 1),
            |x| ops::expand_dims(&x[0], 1),
        ),
        (
            "squeeze",
            vec![a.clone()],
            |x| ops::squeeze(&ops::get_item(&x[0], &[Idx::all(), (..1).into()])?, Some(1)),
            |x| ops::squeeze(&x[0].slice(&[Idx::all(), (..1).into()])?, Some(1)),
        ),
        (
            "concatenate",
            ab.clone(),
            |x| ops::concatenate(x, 1),
            |x| ops::concatenate(x, 1),
        ),
        (
            "stack",
            ab.clone(),
            |x| ops::stack(x, -1),
            |x| ops::stack(x, -1),
        ),
        (
            "split1",
            vec![a.clone()],
            |x| Ok(ops::split(&x[0], Sections::At(vec![1, 3]), -1)?.remove(1)),
            |x| Ok(ops::split(&x[0], Sections::At(vec![1, 3]), -1)?.remove(1)),
        ),
        (
            "getitem",
            vec![a.clone()],
            |x| {
                ops::get_item(
                    &x[0],
                    &[Idx::all(), (1..3).into(), Idx::slice(None, None, Some(2))],
                )
            },
            |x| x[0].slice(&[Idx::all(), (1..3).into(), Idx::slice(None, None, Some(2))]),
        ),
        (
            "getitem2",
            vec![a.clone()],
            |x| ops::get_item(&x[0], &[Idx::Ellipsis, Idx::at(-1)]),
            |x| x[0].slice(&[Idx::Ellipsis, Idx::at(-1)]),
        ),
        (
            "getitem3",
            vec![a.clone()],
            |x| ops::get_item(&x[0], &[Idx::all(), Idx::NewAxis, Idx::at(0)]),
            |x| x[0].slice(&[Idx::all(), Idx::NewAxis, Idx::at(0)]),
        ),
        (
            "sum",
            vec![a.clone()],
            |x| ops::sum(&x[0], 1, true),
            |x| ops::sum(&x[0], 1, true),
        ),
        (
            "mean",
            vec![a.clone()],
            |x| ops::mean(&x[0], [1, 2], false),
            |x| ops::mean(&x[0], [1, 2], false),
        ),
        (
            "max",
            vec![a.clone()],
            |x| ops::max(&x[0], -1, false),
            |x| ops::max(&x[0], -1, false),
        ),
        (
            "argmax",
            vec![a.clone()],
            |x| ops::argmax(&x[0], Some(-1), false),
            |x| ops::argmax(&x[0], Some(-1), false),
        ),
        (
            "exp",
            vec![a.clone()],
            |x| ops::exp(&x[0]),
            |x| ops::exp(&x[0]),
        ),
        (
            "log",
            vec![p.clone()],
            |x| ops::log(&x[0]),
            |x| ops::log(&x[0]),
        ),
        (
            "sqrt",
            vec![p.clone()],
            |x| ops::sqrt(&x[0]),
            |x| ops::sqrt(&x[0]),
        ),
        (
            "square",
            vec![a.clone()],
            |x| ops::square(&x[0]),
            |x| ops::square(&x[0]),
        ),
        (
            "abs",
            vec![a.clone()],
            |x| ops::abs(&x[0]),
            |x| ops::abs(&x[0]),
        ),
        (
            "relu",
            vec![a.clone()],
            |x| ops::relu(&x[0]),
            |x| ops::relu(&x[0]),
        ),
        (
            "sigmoid",
            vec![a.clone()],
            |x| ops::sigmoid(&x[0]),
            |x| ops::sigmoid(&x[0]),
        ),
        (
            "tanh",
            vec![a.clone()],
            |x| ops::tanh(&x[0]),
            |x| ops::tanh(&x[0]),
        ),
        (
            "softmax",
            vec![a.clone()],
            |x| ops::softmax(&x[0], 1),
            |x| ops::softmax(&x[0], 1),
        ),
        (
            "gelu",
            vec![a.clone()],
            |x| ops::gelu(&x[0], true),
            |x| ops::gelu(&x[0], true),
        ),
        (
            "gelu_exact",
            vec![a.clone()],
            |x| ops::gelu(&x[0], false),
            |x| ops::gelu(&x[0], false),
        ),
        (
            "where",
            ab.clone(),
            |x| ops::where_(&ops::greater(&x[0], 0.0)?, &x[0], &x[1]),
            |x| ops::where_(&ops::greater(&x[0], 0.0)?, &x[0], &x[1]),
        ),
        (
            "clip",
            vec![a.clone()],
            |x| ops::clip(&x[0], -0.5, 0.5),
            |x| ops::clip(&x[0], -0.5, 0.5),
        ),
        (
            "one_hot",
            vec![k.clone()],
            |x| ops::one_hot(&x[0], 5),
            |x| ops::one_hot(&x[0], 5),
        ),
    ];
    for (name, xs, eager, symbolic) in cases {
        eager_and_symbolic(name, &xs, &f.get(name), eager, symbolic);
    }
    // `x ** 2` (Power) equals Keras's square.
    eager_and_symbolic(
        "power",
        std::slice::from_ref(&a),
        &f.get("square"),
        |x| ops::power(&x[0], 2.0),
        |x| ops::power(&x[0], 2.0),
    );
    // Ops whose result has no batch axis run eagerly only.
    let t = ops::transpose(&a, None).unwrap();
    assert_close(
        "transpose",
        &t.contiguous().unwrap(),
        &f.get("transpose"),
        1e-6,
    );
    assert_close(
        "min",
        &ops::min(&a, None, false).unwrap(),
        &f.get("min"),
        1e-6,
    );
    let e2 = ops::einsum("bij->j", &[&a]).unwrap();
    assert_close("einsum2", &e2, &f.get("einsum2"), 1e-5);
    let g4 = ops::get_item(&a, &[Idx::at(0), Idx::slice(None, None, Some(-1))]).unwrap();
    assert_close("getitem4", &g4, &f.get("getitem4"), 1e-6);
    let oh = ops::one_hot_with(&k, 5, 0, DType::F32).unwrap();
    assert_close("one_hot0", &oh, &f.get("one_hot0"), 1e-6);
}

#[test]
fn operator_shape_errors_surface_with_kerass_text() {
    let _g = one_at_a_time();
    let a = Input::new([3]);
    let b = Input::new([4]);
    // The Result-returning function fails at once ...
    let err = ops::add(&a, &b).unwrap_err().to_string();
    assert!(err.contains("Cannot broadcast shape, the failure dim has value 3, which cannot be broadcasted to 4. Input shapes are: [None, 3] and [None, 4]."), "{err}");
    // ... the operator records the node and the error comes when the graph is built, as
    // Keras raises it when the operator runs on symbolic tensors.
    let y = &a + &b;
    assert!(keras::engine::op_layer::deferred_error(y.layer()).is_some());
    let err = Model::new(&[a, b], &[y])
        .err()
        .expect("a graph with a bad broadcast builds");
    assert!(
        err.to_string()
            .contains("Cannot broadcast shape, the failure dim has value 3"),
        "{err}"
    );
}

#[test]
fn registered_lambda_saves_and_loads_unregistered_is_refused() {
    let _g = one_at_a_time();
    let x = Input::new([3]);
    let y = keras::layers::Lambda::registered("symbolic_ops_cube", |t| Ok(t.powf(3.0)?))
        .call(&x)
        .unwrap();
    let y = Dense::new(2).call(&y).unwrap();
    let mut model = Model::new(std::slice::from_ref(&x), &[y]).unwrap();
    let data = Tensor::randn(0f32, 1.0, (4, 3), &Device::Cpu).unwrap();
    let want: Tensor = model.predict(&data, EvalArgs::quiet()).unwrap();
    let path = std::env::temp_dir().join(format!("keras_rs_lambda_{}.keras", std::process::id()));
    model.save(&path).unwrap();
    let mut back = keras::saving::load_model(&path).unwrap();
    let got: Tensor = back.predict(&data, EvalArgs::quiet()).unwrap();
    assert_close("registered Lambda round trip", &got, &want, 1e-6);
    std::fs::remove_file(&path).ok();

    let anon = keras::layers::Lambda::new(|t| Ok(t.exp()?))
        .call(&x)
        .unwrap();
    let model = Model::new(&[x], &[anon]).unwrap();
    let err = model.save(&path).unwrap_err().to_string();
    assert!(
        err.contains("anonymous Rust closure") && err.contains("Lambda::registered"),
        "{err}"
    );
    std::fs::remove_file(&path).ok();
}

#[test]
fn keras_lambda_files_python_code_refused_named_function_loads() {
    let _g = one_at_a_time();
    let err = keras::saving::load_model(fixture("lambda_python.keras"))
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains(
            "Requested the deserialization of a `Lambda` layer whose `function` is a Python lambda"
        ) && err.contains("safe_mode=False"),
        "{err}"
    );
    // Keras saved `my>double`; registered here under that name it loads and predicts.
    let missing = keras::saving::load_model(fixture("lambda_named.keras"));
    if let Err(e) = &missing {
        assert!(e.to_string().contains("Could not locate function"), "{e}");
    }
    keras::layers::register_lambda_function("my>double", |t| Ok((t * 2.0)?));
    let mut model = keras::saving::load_model(fixture("lambda_named.keras")).unwrap();
    let f = Fixture::load("symbolic_ops/lambda_named.npz");
    let y: Tensor = model.predict(f.get("x"), EvalArgs::quiet()).unwrap();
    assert_close("Keras's named Lambda", &y, &f.get("y"), 1e-5);
}

/// Every group and dataset path of an HDF5 tree, as h5py's `visit` lists them (sorted).
fn h5_paths(g: &keras::saving::h5::Group, prefix: &str, out: &mut Vec<String>) {
    for name in g.datasets.keys() {
        out.push(format!("{prefix}{name}"));
    }
    for (name, child) in &g.groups {
        out.push(format!("{prefix}{name}"));
        h5_paths(child, &format!("{prefix}{name}/"), out);
    }
}

#[test]
fn layers_leave_op_nodes_out_operations_list_them_as_keras() {
    let _g = one_at_a_time();
    let text = std::fs::read_to_string(fixture("ops_model_layers.json")).unwrap();
    let want: serde_json::Value = serde_json::from_str(&text).unwrap();
    let strings = |key: &str| -> Vec<String> {
        want[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    let names = |ls: Vec<LayerRef>| ls.iter().map(|l| l.name()).collect::<Vec<_>>();
    let classes = |ls: Vec<LayerRef>| {
        ls.iter()
            .map(|l| l.class_name().to_string())
            .collect::<Vec<_>>()
    };
    keras::utils::clear_session();
    let built = ops_model().unwrap();
    let loaded = keras::saving::load_model(fixture("ops_model.keras")).unwrap();
    for (what, model) in [("built here", &built), ("Keras's file", &loaded)] {
        assert_eq!(names(model.layers()), strings("layers"), "{what}");
        assert!(model.layers().iter().all(|l| !l.is_operation()), "{what}");
        assert_eq!(names(model.operations()), strings("operations"), "{what}");
        assert_eq!(
            classes(model.operations()),
            strings("operation_classes"),
            "{what}"
        );
        // get_layer searches `layers`, as Keras's does: an op node is no layer.
        assert!(model.get_layer("dense").is_ok());
        let err = model.get_layer("add").unwrap_err().to_string();
        assert!(err.contains("No such layer: add."), "{what}: {err}");
    }
    assert!(built.operations()[1].is_operation()); // `multiply`

    // The weights file holds Keras's groups: `model.layers` only, no op node.
    let dir = std::env::temp_dir().join(format!("keras_rs_ops_layers_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ops_model.weights.h5");
    built.save_weights(&path).unwrap();
    let tree = keras::saving::h5::Group::from_bytes(std::fs::read(&path).unwrap()).unwrap();
    let mut got = vec![];
    h5_paths(&tree, "", &mut got);
    got.sort();
    assert_eq!(got, strings("weight_groups"));
    std::fs::remove_dir_all(&dir).ok();
}
