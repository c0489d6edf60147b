//! A convolution computes the pooling after it in its own pass (`Layer::forward_fused`):
//! `ops::conv2d_pool` in `predict` / `evaluate` (no gradient), `ops::conv2d_pool_train` in
//! training. These tests check that the fused paths give what the layers give one after the
//! other (each layer applied by hand, or an identity layer between the two, which stops the
//! fusion), for the shapes that take it and those that must not, and that a training step
//! updates the weights as the unfused model's step does.

use keras::layers::{AveragePooling1D, Conv1D, Conv2D, GlobalAveragePooling2D, MaxPooling2D};
use keras::prelude::*;

fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
    assert_eq!(a.dims(), b.dims());
    a.sub(b)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
}

/// A Sequential model's layers applied one by one (never fused).
fn one_by_one(model: &Model, x: &Tensor) -> Tensor {
    model
        .layers()
        .iter()
        .filter(|l| l.class_name() != "InputLayer")
        .fold(x.clone(), |t, l| l.apply(&t).unwrap())
}

fn check(model: &mut Model, x: &Tensor, what: &str) {
    check_against(model, x, &one_by_one(model, x), what)
}

fn check_against(model: &mut Model, x: &Tensor, apart: &Tensor, what: &str) {
    let apart = apart.clone();
    // Model::apply fuses too (with the training op, which keeps what its backward needs).
    let applied = model.apply(std::slice::from_ref(x)).unwrap().remove(0);
    assert!(max_diff(&applied, &apart) < 1e-5, "{what}: apply");
    for batch_size in [7, 64] {
        let fused: Tensor = model
            .predict(
                x,
                EvalArgs {
                    batch_size,
                    ..EvalArgs::quiet()
                },
            )
            .unwrap();
        let d = max_diff(&fused, &apart);
        assert!(d < 1e-5, "{what}, batch {batch_size}: max difference {d}");
    }
    let one: Tensor = model.predict_on_batch(x).unwrap();
    assert!(max_diff(&one, &apart) < 1e-5, "{what}: predict_on_batch");
}

#[test]
fn the_w2_cnn_predicts_as_its_layers_do() {
    keras::utils::set_random_seed(1);
    let mut model = Sequential::from_layers([
        Input::new((28, 28, 1)).into(),
        Conv2D::new(32, 3).activation("relu").into(),
        MaxPooling2D::new(2).into(),
        Conv2D::new(64, 3).activation("relu").into(),
        MaxPooling2D::new(2).into(),
        Flatten::new().into(),
        Dense::new(10).activation("softmax").into(),
    ])
    .unwrap();
    let x = keras::random::uniform(&[70, 28, 28, 1], 0.0, 1.0).unwrap();
    check(&mut model, &x, "W2 CNN");
    // evaluate runs the same fused forward pass: its loss equals the loss of apply's output.
    model
        .compile("adam", "sparse_categorical_crossentropy", ())
        .unwrap();
    let y = keras::random::randint(&[70], 0, 10).unwrap();
    let logs = model
        .evaluate(
            &x,
            &y,
            EvalArgs {
                batch_size: 70,
                ..EvalArgs::quiet()
            },
        )
        .unwrap();
    let p = one_by_one(&model, &x);
    let want = keras::ops::sparse_crossentropy(&p, &y, false)
        .unwrap()
        .mean_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap() as f64;
    let got = logs.get("loss").unwrap();
    assert!((got - want).abs() < 1e-5, "{got} vs {want}");
}

#[test]
fn strided_same_padded_average_and_1d_poolings_fuse_too() {
    keras::utils::set_random_seed(2);
    let mut m2 = Sequential::from_layers([
        Input::new((15, 13, 3)).into(),
        Conv2D::new(8, 3)
            .strides(2)
            .padding("same")
            .activation("tanh")
            .into(),
        MaxPooling2D::new(3).strides(2).padding("same").into(),
        Flatten::new().into(),
    ])
    .unwrap();
    let x = keras::random::uniform(&[9, 15, 13, 3], -1.0, 1.0).unwrap();
    check(&mut m2, &x, "strided same-padded 2D");

    let mut m1 = Sequential::from_layers([
        Input::new((40, 6)).into(),
        Conv1D::new(5, 4).activation("relu").into(),
        AveragePooling1D::new(3).into(),
        Flatten::new().into(),
    ])
    .unwrap();
    let x = keras::random::uniform(&[11, 40, 6], -1.0, 1.0).unwrap();
    check(&mut m1, &x, "1D average");
}

#[test]
fn a_convolution_read_twice_or_channels_first_is_left_apart() {
    keras::utils::set_random_seed(3);
    // The convolution's output feeds the pooling and a second branch: no fusion, same values.
    let x = Input::new((12, 12, 2));
    let c = Conv2D::new(4, 3).activation("relu").call(&x).unwrap();
    let p = MaxPooling2D::new(2).call(&c).unwrap();
    let g = GlobalAveragePooling2D::new().call(&c).unwrap();
    let out = keras::layers::concatenate(&[Flatten::new().call(&p).unwrap(), g]).unwrap();
    let mut model = Model::new(&[x], &[out]).unwrap();
    let data = keras::random::uniform(&[5, 12, 12, 2], 0.0, 1.0).unwrap();
    let l = |n: &str| model.get_layer(n).unwrap();
    let names: Vec<String> = model.layers().iter().map(|l| l.name()).collect();
    let c = l(&names[1]).apply(&data).unwrap();
    let flat = l(&names[3])
        .apply(&l(&names[2]).apply(&c).unwrap())
        .unwrap();
    let g = l(&names[4]).apply(&c).unwrap();
    let apart = Tensor::cat(&[flat, g], 1).unwrap();
    check_against(&mut model, &data, &apart, "branching");

    // A pooling whose data format differs from the convolution's is run apart.
    let mut cf = Sequential::from_layers([
        Input::new((2, 10, 10)).into(),
        Conv2D::new(3, 3).data_format("channels_first").into(),
        MaxPooling2D::new(2).data_format("channels_first").into(),
        MaxPooling2D::new(2).into(),
    ])
    .unwrap();
    let data = keras::random::uniform(&[4, 2, 10, 10], 0.0, 1.0).unwrap();
    check(&mut cf, &data, "channels_first");
}

fn cnn(between: bool) -> Sequential {
    let mut layers: Vec<LayerRef> = vec![
        Input::new((16, 16, 1)).into(),
        Conv2D::new(8, 3).activation("relu").into(),
    ];
    if between {
        layers.push(keras::layers::Activation::new("linear").into());
    }
    layers.extend([
        MaxPooling2D::new(2).into(),
        Conv2D::new(16, 3).activation("relu").into(),
    ]);
    if between {
        layers.push(keras::layers::Activation::new("linear").into());
    }
    layers.extend([
        MaxPooling2D::new(2).into(),
        Flatten::new().into(),
        Dense::new(10).activation("softmax").into(),
    ]);
    Sequential::from_layers(layers).unwrap()
}

#[test]
fn fused_training_steps_equal_unfused_ones() {
    keras::utils::set_random_seed(4);
    let mut fused = cnn(false);
    let mut apart = cnn(true);
    apart.set_weights(&fused.get_weights().unwrap()).unwrap();
    for m in [&mut fused, &mut apart] {
        m.compile(
            SGD::new().learning_rate(0.5),
            "sparse_categorical_crossentropy",
            (),
        )
        .unwrap();
    }
    let x = keras::random::uniform(&[33, 16, 16, 1], 0.0, 1.0).unwrap();
    let y = keras::random::randint(&[33], 0, 10).unwrap();
    for step in 0..3 {
        let (a, b) = (
            fused.train_on_batch(&x, &y).unwrap().get("loss").unwrap(),
            apart.train_on_batch(&x, &y).unwrap().get("loss").unwrap(),
        );
        assert!((a - b).abs() < 1e-5, "step {step}: loss {a} vs {b}");
    }
    let (wf, wa) = (fused.get_weights().unwrap(), apart.get_weights().unwrap());
    assert_eq!(wf.len(), wa.len());
    for (i, (a, b)) in wf.iter().zip(&wa).enumerate() {
        let d = max_diff(a, b);
        assert!(d < 1e-5, "weight {i} differs by {d} after 3 steps");
    }
    // And the weights moved: the comparison is not between two untouched models.
    let fresh = cnn(false);
    assert!(max_diff(&wf[0], &fresh.get_weights().unwrap()[0]) > 0.0);
}
