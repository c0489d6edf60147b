//! In `predict` and `evaluate` (no gradient), a convolution computes the pooling after it in
//! the same pass (`Layer::forward_fused`, `ops::conv2d_pool`). These tests check that the fused
//! path gives what the layers give one after the other (`Model::apply`, which never fuses),
//! for the shapes that take it and those that must not.

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

fn check(model: &mut Model, x: &Tensor, what: &str) {
    let apart = model.apply(std::slice::from_ref(x)).unwrap().remove(0);
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
    let p = model.apply(std::slice::from_ref(&x)).unwrap().remove(0);
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
    check(&mut model, &data, "branching");

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
