//! The Sequential API: building, layer bookkeeping, weights, trainable flags.

use keras::prelude::*;

#[test]
fn seed_models_have_keras_param_counts() {
    let a = Sequential::from_layers([
        Dense::new(32).activation("relu").input_shape([64]).into(),
        Dense::new(32).activation("relu").into(),
        Dense::new(10).activation("softmax").into(),
    ])
    .unwrap();
    assert_eq!(a.count_params(), 3_466);
    let mut b = Sequential::new();
    b.add(Input::new([784])).unwrap();
    b.add(Dense::new(64).activation("relu")).unwrap();
    b.add(Dense::new(32).activation("relu")).unwrap();
    b.add(Dense::new(10).activation("softmax")).unwrap();
    assert_eq!(b.count_params(), 52_650);
    assert_eq!(
        b.layers().len(),
        3,
        "Sequential.layers excludes the InputLayer"
    );
    assert_eq!(b.weights().len(), 6);
    assert_eq!(b.trainable_weights().len(), 6);
    assert!(b.non_trainable_weights().is_empty());
    assert_eq!(b.output().unwrap().shape().to_string(), "(None, 10)");
}

#[test]
fn names_are_unique_and_keras_like() {
    let a = Dense::new(1).into_layer();
    let b = Dense::new(1).into_layer();
    assert!(a.name().starts_with("dense"));
    assert_ne!(a.name(), b.name());
    let n: usize = b.name().trim_start_matches("dense_").parse().unwrap_or(0);
    let m: usize = a
        .name()
        .trim_start_matches("dense_")
        .trim_start_matches("dense")
        .parse()
        .unwrap_or(0);
    assert!(n > m);
    assert_eq!(Dense::new(1).name("head").into_layer().name(), "head");
    assert_eq!(Sequential::new().name("clf").get_name(), "clf");
}

#[test]
fn get_and_set_weights_round_trip() {
    let m = Sequential::from_layers([Input::new([3]).into(), Dense::new(2).into()]).unwrap();
    let w = m.get_weights().unwrap();
    assert_eq!(w[0].dims(), &[3, 2]);
    assert_eq!(w[1].dims(), &[2]);
    let new = vec![
        Tensor::ones((3, 2), DType::F32, &Device::Cpu).unwrap(),
        Tensor::zeros(2, DType::F32, &Device::Cpu).unwrap(),
    ];
    m.set_weights(&new).unwrap();
    let y: Tensor = m
        .predict_on_batch(Tensor::new(&[[1f32, 2.0, 3.0]], &Device::Cpu).unwrap())
        .unwrap();
    assert_eq!(y.to_vec2::<f32>().unwrap(), vec![vec![6.0, 6.0]]);
    let e = m.set_weights(&new[..1]).unwrap_err().to_string();
    assert!(e.contains("expecting 2 weights"), "{e}");
    let e = m
        .set_weights(&[new[1].clone(), new[0].clone()])
        .unwrap_err()
        .to_string();
    assert!(e.contains("shape"), "{e}");
}

#[test]
fn frozen_layers_do_not_train() {
    let mut m = Sequential::from_layers([
        Input::new([4]).into(),
        Dense::new(3).into(),
        Dense::new(2).into(),
    ])
    .unwrap();
    let first = m.layers()[0].clone();
    first.set_trainable(false);
    assert_eq!(m.trainable_weights().len(), 2);
    assert_eq!(m.non_trainable_weights().len(), 2);
    let before = first.get_weights().unwrap();
    m.compile("sgd", "mse", ()).unwrap();
    let x = Tensor::ones((8, 4), DType::F32, &Device::Cpu).unwrap();
    let y = Tensor::ones((8, 2), DType::F32, &Device::Cpu).unwrap();
    m.fit(
        &x,
        &y,
        FitArgs {
            epochs: 2,
            verbose: 0,
            ..Default::default()
        },
    )
    .unwrap();
    let after = first.get_weights().unwrap();
    assert_eq!(
        before[0].to_vec2::<f32>().unwrap(),
        after[0].to_vec2::<f32>().unwrap()
    );
    let second = m.layers()[1].get_weights().unwrap();
    assert!(
        second[1]
            .to_vec1::<f32>()
            .unwrap()
            .iter()
            .any(|&b| b != 0.0),
        "the trainable layer moved"
    );
}

#[test]
fn deferred_build_from_data() {
    let mut m = Sequential::from_layers([
        Dense::new(4).activation("relu").into(),
        Dense::new(1).into(),
    ])
    .unwrap();
    assert!(!m.built());
    assert!(m.summary_string().contains("0 (unbuilt)"));
    m.compile("adam", "mse", ["mae"]).unwrap();
    let x = Tensor::ones((10, 7), DType::F32, &Device::Cpu).unwrap();
    let y = Tensor::ones((10, 1), DType::F32, &Device::Cpu).unwrap();
    m.fit(
        &x,
        &y,
        FitArgs {
            verbose: 0,
            epochs: 1,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(m.built());
    assert_eq!(m.count_params(), 7 * 4 + 4 + 4 + 1);
    assert!(m.summary_string().contains("(None, 4)"));
    // The first epoch trained: the weights existed before the loop listed them.
    let bias = m.layers()[1].get_weights().unwrap()[1]
        .to_vec1::<f32>()
        .unwrap();
    assert_ne!(bias, vec![0.0], "the output bias moved in the first epoch");
}

#[test]
fn input_shape_conflicts_are_errors() {
    let mut m = Sequential::new();
    m.add(Input::new([3])).unwrap();
    assert!(m.add(Input::new([3])).is_err(), "a second Input");
    let e = m.add(Reshape::new([2, 2])).unwrap_err().to_string();
    assert!(e.contains("total size"), "{e}");
}
