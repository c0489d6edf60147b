//! `summary()` prints Keras 3's table character for character (fixtures printed by Python
//! Keras with an 80-column terminal).
//!
//! One test function: names come from global counters, so the models are built in order after
//! `clear_session`, as the fixture script does.

mod common;

use common::summary_fixture;

use keras::layers::{
    self, Bidirectional, GlobalAveragePooling1D, LayerNormalization, MultiHeadAttention, SimpleRNN,
    TimeDistributed, GRU, LSTM,
};
use keras::prelude::*;
use keras::utils::clear_session;

fn check(name: &str, model: &Model) {
    let want = summary_fixture(name);
    let got = model.summary_with_width(76);
    assert_eq!(got, want, "summary {name}:\n{got}\nexpected:\n{want}");
}

#[test]
fn summaries_match_keras() {
    clear_session();
    let m = Sequential::from_layers([
        Dense::new(32).activation("relu").input_shape([64]).into(),
        Dense::new(32).activation("relu").into(),
        Dense::new(10).activation("softmax").into(),
    ])
    .unwrap();
    check("seq_64_32_32_10", &m);

    clear_session();
    let m = Sequential::from_layers([
        Input::new([784]).into(),
        Dense::new(64).activation("relu").into(),
        Dense::new(32).activation("relu").into(),
        Dense::new(10).activation("softmax").into(),
    ])
    .unwrap();
    check("seq_784_64_32_10", &m);

    clear_session();
    let m = Sequential::from_layers([
        Input::new([28, 28]).into(),
        Flatten::new().into(),
        Dense::new(128).activation("relu").into(),
        Dropout::new(0.2).into(),
        Dense::new(10).into(),
    ])
    .unwrap();
    check("mnist_mlp", &m);

    clear_session();
    let m = Sequential::from_layers([Flatten::new().into(), Dense::new(10).into()]).unwrap();
    check("unbuilt", &m);

    clear_session();
    let inp = Input::new([784]);
    let h1 = Dense::new(64).activation("relu").call(&inp).unwrap();
    let h2 = Dense::new(64).activation("relu").call(&h1).unwrap();
    let out = Dense::new(10).activation("softmax").call(&h2).unwrap();
    check("functional_mlp", &Model::new(&[inp], &[out]).unwrap());

    clear_session();
    let mut m = Sequential::from_layers([
        Input::new([64]).into(),
        Dense::new(32).into(),
        Dense::new(10).into(),
    ])
    .unwrap();
    m.pop().unwrap();
    check("seq_after_pop", &m);
    m.add(Dense::new(5).activation("relu")).unwrap();
    check("seq_after_add", &m);

    clear_session();
    let sub = Model::subclass(MyModel {
        dense1: Dense::new(64).activation("relu").into_layer(),
        dense2: Dense::new(64).activation("relu").into_layer(),
        output_layer: Dense::new(10).activation("softmax").into_layer(),
    });
    // The fixture's Keras model was built by an eager call on a batch of one.
    sub.build((1, 784)).unwrap();
    check("subclassed", &sub);

    graph_summaries();
    attention_and_recurrent_summaries();
}

fn graph_summaries() {
    keras::utils::clear_session();
    let m = two_tower_model();
    assert_eq!(m.summary_with_width(76), summary_fixture("two_tower"));

    keras::utils::clear_session();
    let enc_in = Input::shape([16]).name("original_img").build();
    let h = Dense::new(8).activation("relu").call(&enc_in).unwrap();
    let encoder = Model::new(
        &[enc_in],
        &[Dense::new(4).activation("relu").call(&h).unwrap()],
    )
    .unwrap()
    .name("encoder");
    let dec_in = Input::shape([4]).name("encoded_img").build();
    let h = Dense::new(8).activation("relu").call(&dec_in).unwrap();
    let decoder = Model::new(
        &[dec_in],
        &[Dense::new(16).activation("sigmoid").call(&h).unwrap()],
    )
    .unwrap()
    .name("decoder");
    let img = Input::shape([16]).name("img").build();
    let out = decoder.call(encoder.call(&img).unwrap()).unwrap();
    let auto = Model::new(&[img], &[out]).unwrap().name("autoencoder");
    assert_eq!(auto.summary_with_width(76), summary_fixture("autoencoder"));

    keras::utils::clear_session();
    let inp = Input::shape([8]).name("posts").build();
    let x = Dense::new(16).activation("relu").call(&inp).unwrap();
    let heads = [
        Dense::new(1).name("age").call(&x).unwrap(),
        Dense::new(3)
            .activation("softmax")
            .name("income")
            .call(&x)
            .unwrap(),
        Dense::new(1)
            .activation("sigmoid")
            .name("gender")
            .call(&x)
            .unwrap(),
    ];
    let m = Model::new(&[inp], &heads).unwrap();
    assert_eq!(m.summary_with_width(76), summary_fixture("three_heads"));
}

/// The two_tower model of tests/fixtures/make_fixtures.py.
fn two_tower_model() -> Model {
    use keras::layers;
    let a = Input::shape([6]).name("left").build();
    let b = Input::shape([6]).name("right").build();
    let shared = Dense::new(5).activation("tanh").name("shared").into_layer();
    let (ha, hb) = (shared.call(&a).unwrap(), shared.call(&b).unwrap());
    let inner = Sequential::from_layers([
        Input::new([5]).into(),
        Dense::new(4).activation("relu").name("inner_dense").into(),
    ])
    .unwrap()
    .name("inner");
    let ia = inner.call(&ha).unwrap();
    let m = layers::concatenate(&[ia, hb]).unwrap();
    let proj = Dense::new(9).name("proj").call(&m).unwrap();
    let m2 = layers::add(&[proj, m]).unwrap();
    let out1 = Dense::new(3)
        .activation("softmax")
        .name("cls")
        .call(&m2)
        .unwrap();
    let sq = layers::multiply(&[m2.clone(), m2]).unwrap();
    let out2 = Dense::new(1).name("reg").call(&sq).unwrap();
    Model::new(&[a, b], &[out1, out2])
        .unwrap()
        .name("two_tower")
}

/// The seeds' subclassed MyModel.
struct MyModel {
    dense1: LayerRef,
    dense2: LayerRef,
    output_layer: LayerRef,
}

impl keras::models::Subclass for MyModel {
    fn call(&self, x: &[Tensor], _training: bool) -> keras::Result<Vec<Tensor>> {
        let x = self.dense1.apply(&x[0])?;
        let x = self.dense2.apply(&x)?;
        Ok(vec![self.output_layer.apply(&x)?])
    }
    fn layers(&self) -> Vec<LayerRef> {
        vec![
            self.dense1.clone(),
            self.dense2.clone(),
            self.output_layer.clone(),
        ]
    }
}

fn attention_and_recurrent_summaries() {
    keras::utils::clear_session();
    let inp = Input::new([10, 16]);
    let att = MultiHeadAttention::new(2, 8)
        .call_many(&[inp.clone(), inp.clone()])
        .unwrap();
    let x = LayerNormalization::new()
        .call(layers::add(&[inp.clone(), att[0].clone()]).unwrap())
        .unwrap();
    // Keras names the outer Dense first: `Dense(16)(Dense(32)(x))`.
    let outer = Dense::new(16).into_layer();
    let ff = outer
        .call(Dense::new(32).activation("relu").call(&x).unwrap())
        .unwrap();
    let x = LayerNormalization::new()
        .call(layers::add(&[x, ff]).unwrap())
        .unwrap();
    let x = GlobalAveragePooling1D::new().call(&x).unwrap();
    let m = Model::new(&[inp], &[Dense::new(2).call(&x).unwrap()]).unwrap();
    assert_eq!(
        m.summary_with_width(76),
        summary_fixture("transformer_block")
    );

    keras::utils::clear_session();
    let m = Sequential::from_layers([
        Input::new([None, Some(5)]).into(),
        Bidirectional::new(LSTM::new(8).return_sequences(true)).into(),
        TimeDistributed::new(Dense::new(3)).into(),
        SimpleRNN::new(6).return_sequences(true).into(),
        GRU::new(4).into(),
        Dense::new(1).into(),
    ])
    .unwrap();
    assert_eq!(m.summary_with_width(76), summary_fixture("recurrent_stack"));
}
