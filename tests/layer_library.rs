//! The layer library against Python Keras 3 (tests/fixtures/make_fixtures.py): the same
//! weights and inputs give the same outputs, within 1e-5.

mod common;

use common::{assert_close, Fixture};
use keras::engine::context;
use keras::layers::*;
use keras::prelude::*;

fn check(f: &Fixture, name: &str, layer: LayerRef) {
    let x = f.get(&format!("{name}_x"));
    let mut s: Vec<Option<usize>> = x.dims().iter().map(|&d| Some(d)).collect();
    s[0] = None;
    layer.build(&[Shape(s)]).unwrap();
    let ws: Vec<Tensor> = (0..)
        .map(|i| format!("{name}_w{i}"))
        .take_while(|k| f.has(k))
        .map(|k| f.get(&k))
        .collect();
    assert_eq!(ws.len(), layer.weights().len(), "{name}: number of weights");
    layer.set_weights(&ws).unwrap();
    let y = layer.apply(&x).unwrap();
    assert_close(name, &y, &f.get(&format!("{name}_y")), 1e-5);
}

#[test]
fn layers_match_keras() {
    let f = Fixture::load("layers.npz");
    let cases: Vec<(&str, LayerRef)> = vec![
        (
            "conv2d_a",
            Conv2D::new(4, 3)
                .strides(2)
                .padding("same")
                .activation("relu")
                .into(),
        ),
        ("conv2d_b", Conv2D::new(3, (2, 3)).dilation_rate(2).into()),
        ("conv2d_g", Conv2D::new(4, 3).groups(2).into()),
        (
            "conv1dt_a",
            Conv1DTranspose::new(3, 3).strides(2).padding("same").into(),
        ),
        (
            "conv1dt_b",
            Conv1DTranspose::new(2, 4).activation("tanh").into(),
        ),
        (
            "conv1d",
            Conv1D::new(5, 3)
                .strides(2)
                .padding("same")
                .activation("tanh")
                .into(),
        ),
        (
            "conv2dt_a",
            Conv2DTranspose::new(3, 3).strides(2).padding("same").into(),
        ),
        (
            "conv2dt_b",
            Conv2DTranspose::new(2, (3, 2)).activation("relu").into(),
        ),
        (
            "maxpool2d",
            MaxPooling2D::new(3).strides(2).padding("same").into(),
        ),
        (
            "avgpool2d",
            AveragePooling2D::new(3).strides(2).padding("same").into(),
        ),
        ("avgpool2d_valid", AveragePooling2D::new(2).into()),
        ("maxpool1d", MaxPooling1D::new(2).into()),
        (
            "avgpool1d",
            AveragePooling1D::new(3).strides(1).padding("same").into(),
        ),
        ("gmaxpool2d", GlobalMaxPooling2D::new().into()),
        ("gavgpool2d", GlobalAveragePooling2D::new().into()),
        ("gmaxpool1d", GlobalMaxPooling1D::new().into()),
        ("gavgpool1d", GlobalAveragePooling1D::new().into()),
        ("up2d", UpSampling2D::new((2, 3)).into()),
        (
            "up2d_bilinear",
            UpSampling2D::new(2).interpolation("bilinear").into(),
        ),
        ("up1d", UpSampling1D::new(3).into()),
        ("zpad2d", ZeroPadding2D::new(((1, 2), (0, 1))).into()),
        ("zpad1d", ZeroPadding1D::new(2, 1).into()),
        ("crop2d", Cropping2D::new(((1, 0), (1, 2))).into()),
        ("crop1d", Cropping1D::new(1, 2).into()),
        ("permute", Permute::new(&[3, 1, 2]).into()),
        ("repeat", RepeatVector::new(3).into()),
        (
            "dwconv",
            DepthwiseConv2D::new(3)
                .depth_multiplier(2)
                .strides(2)
                .padding("same")
                .activation("relu")
                .into(),
        ),
        ("sepconv", SeparableConv2D::new(5, 3).padding("same").into()),
        ("lstm_seq", LSTM::new(4).return_sequences(true).into()),
        ("lstm_back", LSTM::new(3).go_backwards(true).into()),
        (
            "lstm_relu",
            LSTM::new(3)
                .activation("relu")
                .recurrent_activation("hard_sigmoid")
                .into(),
        ),
        (
            "relu_layer",
            ReLU::new()
                .max_value(1.5)
                .negative_slope(0.1)
                .threshold(0.2)
                .into(),
        ),
        ("leaky_relu", LeakyReLU::new().into()),
        ("elu_layer", ELU::new().alpha(0.7).into()),
        ("softmax_axis1", Softmax::new().axis(1).into()),
        ("prelu", PReLU::new().shared_axes(&[1]).into()),
        ("layernorm", LayerNormalization::new().into()),
        (
            "layernorm_axes",
            LayerNormalization::new().axes(&[1, 2]).epsilon(1e-5).into(),
        ),
        ("groupnorm", GroupNormalization::new().groups(2).into()),
        (
            "groupnorm_inst",
            GroupNormalization::new().groups(-1).into(),
        ),
        (
            "simple_rnn",
            SimpleRNN::new(4).return_sequences(true).into(),
        ),
        (
            "simple_rnn_back",
            SimpleRNN::new(3)
                .go_backwards(true)
                .activation("relu")
                .into(),
        ),
        ("gru", GRU::new(4).return_sequences(true).into()),
        (
            "gru_before",
            GRU::new(3).reset_after(false).go_backwards(true).into(),
        ),
        (
            "bidir_concat",
            Bidirectional::new(LSTM::new(3).return_sequences(true)).into(),
        ),
        (
            "bidir_sum",
            Bidirectional::new(GRU::new(2)).merge_mode("sum").into(),
        ),
        ("timedist", TimeDistributed::new(Dense::new(3)).into()),
        (
            "timedist_conv",
            TimeDistributed::new(Conv2D::new(2, 3)).into(),
        ),
    ];
    for (name, layer) in cases {
        check(&f, name, layer);
    }
}

#[test]
fn batch_normalization_matches_keras_in_both_modes() {
    let f = Fixture::load("layers.npz");
    let bn = BatchNormalization::new().momentum(0.9).into_layer();
    bn.build(&[Shape(vec![None, Some(5), Some(4)])]).unwrap();
    bn.set_weights(
        &(0..4)
            .map(|i| f.get(&format!("bn_w{i}")))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let x = f.get("bn_x");
    assert_close(
        "bn inference",
        &bn.apply(&x).unwrap(),
        &f.get("bn_y_infer"),
        1e-5,
    );
    let y = {
        let _t = context::set_training(true);
        bn.apply(&x).unwrap()
    };
    assert_close("bn training", &y, &f.get("bn_y_train"), 1e-5);
    let w = bn.get_weights().unwrap();
    assert_close("moving_mean", &w[2], &f.get("bn_moving_mean"), 1e-5);
    assert_close("moving_variance", &w[3], &f.get("bn_moving_variance"), 1e-5);
    // Frozen: inference mode even in training, and no statistics update.
    bn.set_trainable(false);
    let y = {
        let _t = context::set_training(true);
        bn.apply(&x).unwrap()
    };
    let z = bn.apply(&x).unwrap();
    assert_close("frozen bn", &y, &z, 1e-7);
}

#[test]
fn weight_counts_and_gradients_of_layers_with_weights() {
    // Trainable / non-trainable counts, and a finite-difference check of each layer's
    // weights through its forward pass (float64).
    let x4 = keras::random::normal(&[2, 6, 5, 3])
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap();
    let x3 = keras::random::normal(&[2, 7, 3])
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap();
    let cases: Vec<(LayerRef, &Tensor, usize, usize)> = vec![
        (
            Conv2D::new(4, 3)
                .strides(2)
                .padding("same")
                .activation("tanh")
                .dtype(DType::F64)
                .into(),
            &x4,
            2,
            0,
        ),
        (Conv1D::new(2, 3).dtype(DType::F64).into(), &x3, 2, 0),
        (
            Conv2DTranspose::new(2, 3)
                .strides(2)
                .dtype(DType::F64)
                .into(),
            &x4,
            2,
            0,
        ),
        (
            BatchNormalization::new().dtype(DType::F64).into(),
            &x4,
            2,
            2,
        ),
        (PReLU::new().dtype(DType::F64).into(), &x3, 1, 0),
        (
            DepthwiseConv2D::new(3)
                .depth_multiplier(2)
                .padding("same")
                .activation("tanh")
                .dtype(DType::F64)
                .into(),
            &x4,
            2,
            0,
        ),
        (
            SeparableConv2D::new(3, 2)
                .strides(2)
                .dtype(DType::F64)
                .into(),
            &x4,
            3,
            0,
        ),
        (
            LSTM::new(3).return_sequences(true).dtype(DType::F64).into(),
            &x3,
            3,
            0,
        ),
        (
            Dense::new(4).activation("sigmoid").dtype(DType::F64).into(),
            &x3,
            2,
            0,
        ),
        (
            LayerNormalization::new().dtype(DType::F64).into(),
            &x3,
            2,
            0,
        ),
        (
            GroupNormalization::new().groups(3).dtype(DType::F64).into(),
            &x4,
            2,
            0,
        ),
        (
            SimpleRNN::new(3)
                .return_sequences(true)
                .dtype(DType::F64)
                .into(),
            &x3,
            3,
            0,
        ),
        (GRU::new(3).dtype(DType::F64).into(), &x3, 3, 0),
        (
            GRU::new(2)
                .reset_after(false)
                .return_sequences(true)
                .dtype(DType::F64)
                .into(),
            &x3,
            3,
            0,
        ),
        (
            Bidirectional::new(LSTM::new(2).return_sequences(true).dtype(DType::F64))
                .merge_mode("ave")
                .into(),
            &x3,
            6,
            0,
        ),
        (
            TimeDistributed::new(Dense::new(2).activation("tanh").dtype(DType::F64)).into(),
            &x3,
            2,
            0,
        ),
    ];
    for (layer, x, trainable, non_trainable) in cases {
        let mut s: Vec<Option<usize>> = x.dims().iter().map(|&d| Some(d)).collect();
        s[0] = None;
        layer.build(&[Shape(s)]).unwrap();
        assert_eq!(
            layer.trainable_weights().len(),
            trainable,
            "{}",
            layer.class_name()
        );
        assert_eq!(
            layer.non_trainable_weights().len(),
            non_trainable,
            "{}",
            layer.class_name()
        );
        let _t = context::set_training(true);
        let r = keras::random::normal(layer.apply(x).unwrap().dims())
            .unwrap()
            .to_dtype(DType::F64)
            .unwrap();
        let weights = layer.trainable_weights();
        let loss = || {
            keras::ops::scalar(&layer.apply(x).unwrap().mul(&r).unwrap().sum_all().unwrap())
                .unwrap()
        };
        let grads = {
            let _s = keras::ops::enable_sinks();
            weights.iter().for_each(|w| w.sink().clear());
            let g = layer
                .apply(x)
                .unwrap()
                .mul(&r)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap();
            keras::engine::gradients(&g, &weights).unwrap()
        };
        assert_eq!(grads.len(), weights.len());
        for (g, w) in grads {
            let base = keras::ops::to_vec_f64(&w.numpy().unwrap()).unwrap();
            let analytic = keras::ops::to_vec_f64(&g).unwrap();
            for k in (0..base.len()).step_by(3) {
                let mut v = base.clone();
                v[k] += 1e-6;
                w.assign(&keras::ops::from_vec(v.clone(), &w.shape()).unwrap())
                    .unwrap();
                let up = loss();
                v[k] -= 2e-6;
                w.assign(&keras::ops::from_vec(v, &w.shape()).unwrap())
                    .unwrap();
                let down = loss();
                w.assign(&keras::ops::from_vec(base.clone(), &w.shape()).unwrap())
                    .unwrap();
                let num = (up - down) / 2e-6;
                assert!(
                    (analytic[k] - num).abs() < 1e-5 * (1.0 + num.abs()),
                    "{} {}[{k}]: {} vs {num}",
                    layer.class_name(),
                    w.path(),
                    analytic[k]
                );
            }
        }
    }
}

#[test]
fn bad_inputs_name_the_layer() {
    let e = Conv2D::new(8, 3)
        .name("c")
        .call(Input::new([28, 28]))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(
            "Input 0 of layer \"c\" is incompatible with the layer: expected ndim=4, found ndim=3"
        ),
        "{e}"
    );
    let e = Conv2D::new(8, 5)
        .call(Input::new([3, 3, 1]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("Computed output size would be negative"), "{e}");
    let e = MaxPooling2D::new(4)
        .call(Input::new([3, 3, 1]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("Computed output size would be negative"), "{e}");
    let emb = Embedding::new(10, 2).name("emb").into_layer();
    let e = emb
        .apply(&Tensor::new(&[[3i64, 10]], &Device::Cpu).unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("\"emb\"") && e.contains("index 10 is out of range [0, 10)"),
        "{e}"
    );
}

#[test]
fn input_gradients_of_layers_without_weights() {
    let x4 = keras::random::normal(&[2, 3, 4, 2])
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap();
    let x3 = keras::random::normal(&[2, 5, 3])
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap();
    let x2 = keras::random::normal(&[2, 3])
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap();
    let cases: Vec<(LayerRef, &Tensor)> = vec![
        (UpSampling2D::new((2, 3)).into(), &x4),
        (UpSampling2D::new(2).interpolation("bilinear").into(), &x4),
        (UpSampling1D::new(2).into(), &x3),
        (ZeroPadding2D::new(((1, 2), (0, 1))).into(), &x4),
        (Cropping2D::new(((1, 0), (1, 2))).into(), &x4),
        (Cropping1D::new(1, 2).into(), &x3),
        (Permute::new(&[3, 1, 2]).into(), &x4),
        (RepeatVector::new(3).into(), &x2),
        (MaxPooling2D::new(2).padding("same").into(), &x4),
        (GlobalAveragePooling1D::new().into(), &x3),
    ];
    for (layer, x) in cases {
        let r = keras::random::normal(layer.apply(x).unwrap().dims())
            .unwrap()
            .to_dtype(DType::F64)
            .unwrap();
        keras::testing::check_gradient(
            std::slice::from_ref(x),
            |v| Ok(layer.apply(&v[0])?.mul(&r)?.sum_all()?),
            1e-6,
            1e-6,
        )
        .unwrap_or_else(|e| panic!("{}: {e}", layer.class_name()));
    }
}

#[test]
fn activity_regularization_joins_the_loss_of_fit_and_evaluate_only() {
    // y_pred = x (a frozen identity Dense), so the loss is mse(x, y) + (0.1 Σ|x| + 0.5 Σx²) / batch.
    let inputs = Input::new([2]);
    let h = Dense::new(2)
        .use_bias(false)
        .kernel_initializer("identity")
        .trainable(false)
        .call(&inputs)
        .unwrap();
    let out = ActivityRegularization::new(0.1, 0.5).call(&h).unwrap();
    let mut m = Model::new(&[inputs], &[out]).unwrap();
    m.compile("sgd", "mse", ()).unwrap();
    let x = Tensor::new(&[[1f32, -2.0], [3.0, 0.5]], &Device::Cpu).unwrap();
    let y = Tensor::zeros((2, 2), DType::F32, &Device::Cpu).unwrap();
    let xs = [1f64, -2.0, 3.0, 0.5];
    let mse = xs.iter().map(|v| v * v).sum::<f64>() / 4.0;
    let penalty = (0.1 * xs.iter().map(|v| v.abs()).sum::<f64>()
        + 0.5 * xs.iter().map(|v| v * v).sum::<f64>())
        / 2.0;
    let ev = m
        .evaluate(
            x.clone(),
            y.clone(),
            EvalArgs {
                verbose: 0,
                ..Default::default()
            },
        )
        .unwrap();
    assert!(
        (ev.get("loss").unwrap() - (mse + penalty)).abs() < 1e-5,
        "{ev:?}"
    );
    let pred: Tensor = m.predict_on_batch(&x).unwrap();
    assert_close("identity", &pred, &x, 1e-6);
}

#[test]
fn recurrent_layers_take_any_length_return_states_and_drop_out() {
    let inputs = Input::new([None, Some(3)]);
    let outs = GRU::new(4)
        .return_sequences(true)
        .return_state(true)
        .call_many(std::slice::from_ref(&inputs))
        .unwrap();
    assert_eq!(outs.len(), 2);
    assert_eq!(outs[0].shape().to_string(), "(None, None, 4)");
    let gru = outs[0].layer();
    for steps in [1, 3, 7] {
        let x = keras::random::normal(&[2, steps, 3]).unwrap();
        let ys = gru.apply_many(&[x]).unwrap();
        assert_eq!(ys[0].dims(), &[2, steps, 4]);
        // The returned state is the last step of the sequence.
        assert_close(
            "state",
            &ys[1],
            &ys[0].narrow(1, steps - 1, 1).unwrap().squeeze(1).unwrap(),
            1e-7,
        );
    }
    let outs = Bidirectional::new(LSTM::new(2).return_state(true))
        .call_many(&[inputs])
        .unwrap();
    let shapes: Vec<String> = outs.iter().map(|o| o.shape().to_string()).collect();
    assert_eq!(
        shapes,
        [
            "(None, 4)",
            "(None, 2)",
            "(None, 2)",
            "(None, 2)",
            "(None, 2)"
        ]
    );
    let names: Vec<String> = outs[0]
        .layer()
        .sublayers()
        .iter()
        .map(|l| l.name())
        .collect();
    assert!(
        names[0].starts_with("forward_lstm") && names[1].starts_with("backward_lstm"),
        "{names:?}"
    );

    // Dropout and recurrent dropout act in training only (the LSTM then runs the composed path).
    let x = keras::random::normal(&[4, 6, 3]).unwrap();
    for layer in [
        LSTM::new(5)
            .dropout(0.5)
            .recurrent_dropout(0.5)
            .into_layer(),
        GRU::new(5).dropout(0.5).recurrent_dropout(0.5).into_layer(),
        SimpleRNN::new(5).dropout(0.5).into_layer(),
    ] {
        let a = layer.apply(&x).unwrap();
        let b = layer.apply(&x).unwrap();
        assert_close("inference is deterministic", &a, &b, 0.0);
        let _t = context::set_training(true);
        let c = layer.apply(&x).unwrap();
        let diff = (a - c).unwrap().abs().unwrap().sum_all().unwrap();
        assert!(
            keras::ops::scalar(&diff).unwrap() > 1e-3,
            "{}",
            layer.class_name()
        );
    }
    let e = GRU::new(2)
        .dropout(1.0)
        .call(Input::new([3, 2]))
        .unwrap_err();
    assert!(e.to_string().contains("rate=1"), "{e}");
}

#[test]
fn time_distributed_shares_one_layer_over_the_steps() {
    let dense = Dense::new(3).into_layer();
    let td = TimeDistributed::new(dense.clone()).into_layer();
    let x = keras::random::normal(&[2, 4, 5]).unwrap();
    let y = td.apply(&x).unwrap();
    assert_eq!(y.dims(), &[2, 4, 3]);
    assert_eq!(td.count_params(), 18);
    let step2 = dense
        .apply(&x.narrow(1, 2, 1).unwrap().squeeze(1).unwrap())
        .unwrap();
    assert_close(
        "step 2",
        &y.narrow(1, 2, 1).unwrap().squeeze(1).unwrap(),
        &step2,
        1e-6,
    );
    let e = TimeDistributed::new(Dense::new(3))
        .call(Input::new([5]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("expected min_ndim=3, found ndim=2"), "{e}");
}

#[test]
fn attention_layers_match_keras() {
    let f = Fixture::load("layers.npz");
    let cases: Vec<(&str, LayerRef)> = vec![
        ("mha", MultiHeadAttention::new(2, 3).into()),
        (
            "mha_kv",
            MultiHeadAttention::new(2, 3)
                .value_dim(4)
                .output_shape(7)
                .dropout(0.1)
                .into(),
        ),
        (
            "mha_causal",
            MultiHeadAttention::new(3, 2).use_causal_mask(true).into(),
        ),
        ("att_dot", Attention::new().use_scale(true).into()),
        (
            "att_concat",
            Attention::new().use_scale(true).score_mode("concat").into(),
        ),
        ("att_causal", Attention::new().use_causal_mask(true).into()),
    ];
    for (name, layer) in cases {
        let xs: Vec<Tensor> = (0..)
            .map(|i| format!("{name}_x{i}"))
            .take_while(|k| f.has(k))
            .map(|k| f.get(&k))
            .collect();
        let shapes: Vec<Shape> = xs
            .iter()
            .map(|x| {
                let mut s = Shape::known(x.dims());
                s.0[0] = None;
                s
            })
            .collect();
        layer.build(&shapes).unwrap();
        let ws: Vec<Tensor> = (0..)
            .map(|i| format!("{name}_w{i}"))
            .take_while(|k| f.has(k))
            .map(|k| f.get(&k))
            .collect();
        assert_eq!(ws.len(), layer.weights().len(), "{name}: number of weights");
        layer.set_weights(&ws).unwrap();
        let y = layer.apply_many(&xs).unwrap();
        assert_close(name, &y[0], &f.get(&format!("{name}_y")), 1e-5);
    }
}

#[test]
fn attention_gradients_and_scores() {
    let q = keras::random::normal(&[2, 4, 5])
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap();
    let mha = MultiHeadAttention::new(2, 3)
        .return_attention_scores(true)
        .dtype(DType::F64)
        .into_layer();
    let outs = mha.apply_many(&[q.clone(), q.clone()]).unwrap();
    assert_eq!(outs[1].dims(), &[2, 2, 4, 4]);
    let rows = keras::ops::to_vec_f64(&outs[1].sum(3).unwrap()).unwrap();
    assert!(
        rows.iter().all(|s| (s - 1.0).abs() < 1e-12),
        "weights sum to 1"
    );
    assert_eq!(mha.trainable_weights().len(), 8);
    let r = keras::random::normal(outs[0].dims())
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap();
    keras::testing::check_gradient(
        std::slice::from_ref(&q),
        |v| {
            Ok(mha.apply_many(&[v[0].clone(), v[0].clone()])?[0]
                .mul(&r)?
                .sum_all()?)
        },
        1e-6,
        1e-6,
    )
    .unwrap();
    // Weight gradients, through the trainer's path.
    let loss = |l: &LayerRef| {
        keras::ops::scalar(
            &l.apply_many(&[q.clone(), q.clone()]).unwrap()[0]
                .mul(&r)
                .unwrap()
                .sum_all()
                .unwrap(),
        )
        .unwrap()
    };
    let weights = mha.trainable_weights();
    let grads = {
        let _s = keras::ops::enable_sinks();
        let g = mha.apply_many(&[q.clone(), q.clone()]).unwrap()[0]
            .mul(&r)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        keras::engine::gradients(&g, &weights).unwrap()
    };
    assert_eq!(grads.len(), 8);
    for (g, w) in grads {
        let base = keras::ops::to_vec_f64(&w.numpy().unwrap()).unwrap();
        let analytic = keras::ops::to_vec_f64(&g).unwrap();
        for k in [0, base.len() - 1] {
            let mut v = base.clone();
            v[k] += 1e-6;
            w.assign(&keras::ops::from_vec(v.clone(), &w.shape()).unwrap())
                .unwrap();
            let up = loss(&mha);
            v[k] -= 2e-6;
            w.assign(&keras::ops::from_vec(v, &w.shape()).unwrap())
                .unwrap();
            let down = loss(&mha);
            w.assign(&keras::ops::from_vec(base.clone(), &w.shape()).unwrap())
                .unwrap();
            let num = (up - down) / 2e-6;
            assert!(
                (analytic[k] - num).abs() < 1e-5 * (1.0 + num.abs()),
                "{}[{k}]",
                w.path()
            );
        }
    }
    let e = Attention::new().call(Input::new([3, 4])).unwrap_err();
    assert!(e.to_string().contains("[query, value]"), "{e}");
}

/// A fresh layer for the shape test.
type MakeLayer = fn() -> LayerRef;

#[test]
fn computed_output_shapes_equal_real_outputs_for_several_input_shapes() {
    // Keras's run_layer_test: the symbolic call's shape is what a real call returns, for
    // several input shapes (a fresh layer per shape).
    let cases: Vec<(MakeLayer, Vec<Vec<usize>>)> = vec![
        (
            || Conv2D::new(4, 3).strides(2).padding("same").into(),
            vec![vec![2, 7, 6, 3], vec![1, 9, 9, 1]],
        ),
        (
            || Conv2D::new(2, (2, 3)).dilation_rate(2).into(),
            vec![vec![2, 8, 9, 2], vec![1, 6, 7, 3]],
        ),
        (
            || Conv1D::new(3, 3).padding("same").strides(2).into(),
            vec![vec![2, 9, 3], vec![3, 4, 1]],
        ),
        (
            || Conv2DTranspose::new(3, 3).strides(2).padding("same").into(),
            vec![vec![2, 4, 5, 2], vec![1, 3, 3, 1]],
        ),
        (
            || Conv2DTranspose::new(2, (3, 2)).strides((2, 1)).into(),
            vec![vec![2, 3, 4, 3]],
        ),
        (
            || Conv1DTranspose::new(3, 3).strides(2).padding("same").into(),
            vec![vec![2, 5, 2], vec![1, 1, 3]],
        ),
        (
            || SeparableConv2D::new(5, 3).padding("same").into(),
            vec![vec![2, 5, 6, 4], vec![1, 3, 3, 2]],
        ),
        (
            || {
                DepthwiseConv2D::new(3)
                    .depth_multiplier(2)
                    .strides(2)
                    .into()
            },
            vec![vec![2, 7, 6, 3], vec![1, 5, 5, 1]],
        ),
        (
            || MaxPooling2D::new(3).strides(2).padding("same").into(),
            vec![vec![2, 7, 6, 3], vec![1, 4, 4, 1]],
        ),
        (
            || AveragePooling2D::new(2).into(),
            vec![vec![2, 7, 6, 3], vec![1, 2, 2, 1]],
        ),
        (
            || MaxPooling1D::new(2).into(),
            vec![vec![2, 9, 3], vec![1, 2, 5]],
        ),
        (
            || AveragePooling1D::new(3).strides(1).padding("same").into(),
            vec![vec![2, 9, 3]],
        ),
        (
            || GlobalMaxPooling2D::new().into(),
            vec![vec![2, 5, 4, 3], vec![1, 1, 1, 2]],
        ),
        (
            || GlobalAveragePooling1D::new().keepdims(true).into(),
            vec![vec![2, 9, 3]],
        ),
        (
            || UpSampling2D::new((2, 3)).into(),
            vec![vec![2, 3, 2, 2], vec![1, 1, 1, 1]],
        ),
        (|| UpSampling1D::new(3).into(), vec![vec![2, 4, 2]]),
        (
            || ZeroPadding2D::new(((1, 2), (0, 1))).into(),
            vec![vec![2, 3, 2, 2]],
        ),
        (
            || Cropping2D::new(((1, 0), (1, 2))).into(),
            vec![vec![2, 4, 5, 2], vec![1, 2, 4, 1]],
        ),
        (|| Cropping1D::new(1, 2).into(), vec![vec![2, 6, 2]]),
        (|| Permute::new(&[3, 1, 2]).into(), vec![vec![2, 3, 4, 5]]),
        (|| RepeatVector::new(3).into(), vec![vec![2, 4], vec![1, 1]]),
        (
            || BatchNormalization::new().into(),
            vec![vec![4, 3], vec![2, 5, 3]],
        ),
        (
            || LayerNormalization::new().into(),
            vec![vec![4, 3], vec![2, 5, 3]],
        ),
        (
            || GroupNormalization::new().groups(2).into(),
            vec![vec![2, 5, 4], vec![2, 3, 3, 6]],
        ),
        (
            || LSTM::new(4).return_sequences(true).into(),
            vec![vec![2, 5, 3], vec![3, 1, 3]],
        ),
        (|| GRU::new(3).into(), vec![vec![2, 5, 3], vec![1, 7, 2]]),
        (
            || SimpleRNN::new(3).go_backwards(true).into(),
            vec![vec![2, 5, 3]],
        ),
        (
            || Bidirectional::new(GRU::new(2).return_sequences(true)).into(),
            vec![vec![2, 4, 3]],
        ),
        (
            || TimeDistributed::new(Dense::new(3)).into(),
            vec![vec![2, 4, 5], vec![1, 2, 3, 5]],
        ),
        (|| SpatialDropout1D::new(0.5).into(), vec![vec![2, 4, 3]]),
        (|| GaussianNoise::new(0.1).into(), vec![vec![2, 4]]),
        (|| PReLU::new().into(), vec![vec![2, 4], vec![2, 3, 4]]),
        (|| Softmax::new().axis(1).into(), vec![vec![2, 3, 4]]),
        (|| Masking::new().into(), vec![vec![2, 3, 4]]),
        (|| Embedding::new(10, 3).into(), vec![vec![2, 4]]),
    ];
    for (make, shapes) in cases {
        for dims in shapes {
            let layer = make();
            let sample: Vec<Option<usize>> = dims[1..].iter().map(|&d| Some(d)).collect();
            let symbolic = layer.call(Input::new(sample)).unwrap();
            let x = if layer.class_name() == "Embedding" {
                keras::random::randint(&dims, 0, 10).unwrap()
            } else {
                keras::random::normal(&dims).unwrap()
            };
            let _t = context::set_training(true);
            let y = layer.apply(&x).unwrap();
            let mut want: Vec<Option<usize>> = y.dims().iter().map(|&d| Some(d)).collect();
            want[0] = None;
            assert_eq!(
                symbolic.shape(),
                &Shape(want),
                "{} on {dims:?}",
                layer.class_name()
            );
        }
    }
}
