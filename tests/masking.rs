//! Masks from `Embedding(mask_zero)` and `Masking` flow through a functional graph as in
//! Keras: recurrent layers skip padded steps, `Bidirectional` zeroes them, average pooling
//! and attention leave them out (fixtures/masks.npz, written by Python Keras).

mod common;

use common::{assert_close, Fixture};
use keras::layers::*;
use keras::prelude::*;

fn set(f: &Fixture, layer: &LayerRef) {
    let ws: Vec<Tensor> = (0..)
        .map(|i| format!("{}_w{i}", layer.name()))
        .take_while(|k| f.has(k))
        .map(|k| f.get(&k))
        .collect();
    assert_eq!(ws.len(), layer.weights().len(), "{}", layer.name());
    layer.set_weights(&ws).unwrap();
}

#[test]
fn masks_match_keras() {
    let f = Fixture::load("masks.npz");
    let inp = Input::shape([None]).dtype(DType::I32).build();
    let e = Embedding::new(10, 4)
        .mask_zero(true)
        .name("emb")
        .call(&inp)
        .unwrap();
    let a = LSTM::new(3)
        .return_sequences(true)
        .name("lstm")
        .call(&e)
        .unwrap();
    let b = GRU::new(3).go_backwards(true).name("gru").call(&e).unwrap();
    let c = Bidirectional::new(SimpleRNN::new(2).return_sequences(true))
        .name("bi")
        .call(&e)
        .unwrap();
    let d = GlobalAveragePooling1D::new()
        .name("gap_bi")
        .call(&c)
        .unwrap();
    let m1 = MultiHeadAttention::new(2, 2)
        .name("mha")
        .call_many(&[e.clone(), e.clone()])
        .unwrap();
    let g_in = add(&[a.clone(), Dense::new(3).name("proj").call(&e).unwrap()]).unwrap();
    let fo = GlobalAveragePooling1D::new()
        .name("gap_mha")
        .call(&m1[0])
        .unwrap();
    let g = GlobalAveragePooling1D::new()
        .name("gap_lstm")
        .call(&g_in)
        .unwrap();
    let model = Model::new(&[inp], &[a, b, c, d, fo, g]).unwrap();
    for l in model.layers() {
        set(&f, &l);
    }
    let ys: Vec<Tensor> = model.predict_on_batch(f.get("ids")).unwrap();
    for (i, y) in ys.iter().enumerate() {
        assert_close(&format!("output {i}"), y, &f.get(&format!("y{i}")), 1e-5);
    }

    let inp = Input::new([None, Some(2)]);
    let h = LSTM::new(2)
        .name("lstm_m")
        .call(Masking::new().call(&inp).unwrap())
        .unwrap();
    let model = Model::new(&[inp], &[h]).unwrap();
    set(&f, &model.get_layer("lstm_m").unwrap());
    let y: Tensor = model.predict_on_batch(f.get("xm")).unwrap();
    assert_close("Masking -> LSTM", &y, &f.get("ym"), 1e-5);
}

#[test]
fn padding_does_not_change_a_masked_lstm() {
    // The same sequences with and without trailing padding give the same final state, and
    // training through the mask works.
    let inp = Input::shape([None]).dtype(DType::I32).build();
    let e = Embedding::new(20, 4).mask_zero(true).call(&inp).unwrap();
    let out = Dense::new(1)
        .activation("sigmoid")
        .call(LSTM::new(3).call(&e).unwrap())
        .unwrap();
    let mut model = Model::new(&[inp], &[out]).unwrap();
    let short = Tensor::new(&[[3i64, 9, 4], [5, 6, 7]], &Device::Cpu).unwrap();
    let padded = Tensor::new(&[[3i64, 9, 4, 0, 0], [5, 6, 7, 0, 0]], &Device::Cpu).unwrap();
    let a: Tensor = model.predict_on_batch(&short).unwrap();
    let b: Tensor = model.predict_on_batch(&padded).unwrap();
    assert_close("padding ignored", &a, &b, 1e-6);
    model.compile("adam", "binary_crossentropy", ()).unwrap();
    let y = Tensor::new(&[[1f32], [0.0]], &Device::Cpu).unwrap();
    let first = model
        .train_on_batch(&padded, &y)
        .unwrap()
        .get("loss")
        .unwrap();
    for _ in 0..30 {
        model.train_on_batch(&padded, &y).unwrap();
    }
    let last = model
        .train_on_batch(&padded, &y)
        .unwrap()
        .get("loss")
        .unwrap();
    assert!(last < first, "{first} -> {last}");
}
