//! `keras::applications`: the same structure, layer names and parameter counts as Keras.

use keras::applications::{ResNet50, Xception};

#[test]
fn xception_and_resnet50_have_keras_parameter_counts() {
    let x = Xception::default().build().unwrap();
    assert_eq!(x.count_params(), 22_910_480);
    assert_eq!(
        x.layers().len(),
        134,
        "Keras's Xception has 134 layers (input layer included)"
    );
    assert!(x.get_layer("block14_sepconv2_act").is_ok());
    assert_eq!(x.output().unwrap().shape().to_string(), "(None, 1000)");
    let notop = Xception {
        include_top: false,
        ..Default::default()
    }
    .build()
    .unwrap();
    assert_eq!(notop.count_params(), 20_861_480);
    assert_eq!(
        notop.output().unwrap().shape().to_string(),
        "(None, None, None, 2048)"
    );

    let r = ResNet50::default().build().unwrap();
    assert_eq!(r.count_params(), 25_636_712);
    assert_eq!(r.layers().len(), 177, "Keras's ResNet50 has 177 layers");
    assert_eq!(
        r.non_trainable_weights()
            .iter()
            .map(|w| w.numel())
            .sum::<usize>(),
        53_120
    );
    assert!(Xception {
        weights: Some("imagenet".into()),
        ..Default::default()
    }
    .build()
    .is_err());
}
