//! Issue 12's first friction items: shapes written as Keras writes them (tuples, `shape!`) and
//! one `call` for one or several inputs.
//!
//! Each new form must build the very model the old form builds: same summary text, same
//! config JSON. Layer names come from global counters, so every test that makes layers runs
//! in the one test function below, after `clear_session`, one model at a time.
// The old, borrowed forms (`&[28, 28]`, `&Input::new(..)`) are what the new ones are compared with.
#![allow(clippy::needless_borrows_for_generic_args)]

use keras::layers::{self, Add, Concatenate, Dot, Flatten, LSTM};
use keras::prelude::*;
use keras::shape;
use keras::utils::clear_session;

/// Builds a model twice, each time after `clear_session`; both must summarize and serialize
/// alike (and the summary must show `want` somewhere, so an empty model cannot pass).
fn same_model(what: &str, want: &str, old: impl Fn() -> Model, new: impl Fn() -> Model) {
    clear_session();
    let a = old();
    clear_session();
    let b = new();
    let (sa, sb) = (a.summary_string(), b.summary_string());
    assert_eq!(sa, sb, "{what}: summaries differ:\n{sa}\n---\n{sb}");
    assert!(sa.contains(want), "{what}: summary lacks {want}:\n{sa}");
    assert_eq!(
        a.to_json().unwrap(),
        b.to_json().unwrap(),
        "{what}: configs differ"
    );
}

fn functional(x: KerasTensor, y: KerasTensor) -> Model {
    Model::new(&[x], &[y]).unwrap()
}

#[test]
fn shape_values_without_layers() {
    assert_eq!(Shape::new((None, 128)), Shape(vec![None, Some(128)]));
    assert_eq!(Shape::new((28, 28)), Shape::known(&[28, 28]));
    assert_eq!(Shape::new((128,)), Shape::known(&[128]));
    assert_eq!(Shape::new((1, None, 3, None, 5, 6)).rank(), 6);
    assert_eq!(Shape::new((Some(2), 3usize, None)), shape![2, 3, None]);
    assert_eq!(shape![None, 128], Shape::new([None, Some(128)]));
    assert_eq!(shape![None, 128,].to_string(), "(None, 128)");
    assert_eq!(Shape::new(vec![4usize, 5]), shape![4, 5]);
    assert_eq!(Shape::new(&shape![None, 7]), shape![None, 7]);
    assert_eq!(Shape::batched((None, 8)), shape![None, None, 8]);
    assert_eq!(Shape::batched(&[3usize][..]), shape![None, 3]);
    let n: usize = 10;
    assert_eq!(Shape::new((n, None)), shape![n, None]);
    // A negative size is unknown, as Keras's -1 in a reshape target.
    assert_eq!(Shape::new((-1, 4)), shape![None, 4]);
    use keras::engine::IntoDims;
    assert_eq!((4, -1).into_signed_dims(), vec![4, -1]);
    assert_eq!((None, 2).into_signed_dims(), vec![-1, 2]);
    assert_eq!([-3i64, 2].into_signed_dims(), vec![-3, 2]);
}

#[test]
fn new_forms_build_the_same_models() {
    // Input: tuple, shape!, arrays of Option, slices.
    same_model(
        "Input((None, 128))",
        "(None, None, 128)",
        || {
            let x = Input::new([None, Some(128)]);
            functional(x.clone(), Dense::new(4).call(&x).unwrap())
        },
        || {
            let x = Input::new((None, 128));
            functional(x.clone(), Dense::new(4).call(&x).unwrap())
        },
    );
    same_model(
        "Input(shape![None, 128])",
        "(None, None, 128)",
        || {
            let x = Input::new(&[None, Some(128)]);
            functional(x.clone(), Dense::new(4).call(&x).unwrap())
        },
        || {
            let x = Input::new(shape![None, 128]);
            functional(x.clone(), Dense::new(4).call(x.clone()).unwrap())
        },
    );
    same_model(
        "Input::shape((28, 28)).name(..)",
        "(None, 28, 28)",
        || {
            let x = Input::shape(&[28, 28]).name("img").build();
            functional(x.clone(), Flatten::new().call(&x).unwrap())
        },
        || {
            let x = Input::shape((28, 28)).name("img").build();
            functional(x.clone(), Flatten::new().call(&x).unwrap())
        },
    );
    // input_shape on the first layer of a Sequential.
    same_model(
        "input_shape((28, 28))",
        "(None, 784)",
        || {
            Sequential::from_layers([
                Flatten::new().input_shape(&[28, 28]).into(),
                Dense::new(10).into(),
            ])
            .unwrap()
            .into_model()
        },
        || {
            Sequential::from_layers([
                Flatten::new().input_shape((28, 28)).into(),
                Dense::new(10).into(),
            ])
            .unwrap()
            .into_model()
        },
    );
    // Reshape's target: a tuple with -1.
    same_model(
        "Reshape((4, -1))",
        "(None, 4, 4)",
        || {
            let x = Input::new([16]);
            functional(x.clone(), Reshape::new(&[4, -1]).call(&x).unwrap())
        },
        || {
            let x = Input::new((16,));
            functional(x.clone(), Reshape::new((4, -1)).call(&x).unwrap())
        },
    );
    // A bad target keeps Keras's error (the negative number is not read as "unknown").
    clear_session();
    let e = Reshape::new((-2, 8))
        .call(&Input::new((16,)))
        .unwrap_err()
        .to_string();
    assert!(e.contains("target_shape=[-2, 8]"), "{e}");
    // Model::build on a Sequential with no input.
    same_model(
        "build((None, 784))",
        "(None, 64)",
        || {
            let m = Sequential::from_layers([Dense::new(64).into()]).unwrap();
            m.build(&[None, Some(784)]).unwrap();
            m.into_model()
        },
        || {
            let m = Sequential::from_layers([Dense::new(64).into()]).unwrap();
            m.build((None, 784)).unwrap();
            m.into_model()
        },
    );
    same_model(
        "build(shape![None, 784])",
        "(None, 64)",
        || {
            let m = Sequential::from_layers([Dense::new(64).into()]).unwrap();
            m.build(vec![None, Some(784)]).unwrap();
            m.into_model()
        },
        || {
            let m = Sequential::from_layers([Dense::new(64).into()]).unwrap();
            m.build(shape![None, 784]).unwrap();
            m.into_model()
        },
    );

    // call(&[a, b]) is call_many(&[a, b])?.remove(0), for every input form.
    let two_inputs = |merge: &dyn Fn(&KerasTensor, &KerasTensor) -> KerasTensor| {
        let a = Input::shape((3,)).name("a").build();
        let b = Input::shape((5,)).name("b").build();
        let y = merge(&a, &b);
        Model::new(&[a, b], &[y]).unwrap()
    };
    let old = || {
        two_inputs(&|a, b| {
            Concatenate::new(-1)
                .call_many(&[a.clone(), b.clone()])
                .unwrap()
                .remove(0)
        })
    };
    same_model("call(&[a, b])", "(None, 8)", old, || {
        two_inputs(&|a, b| Concatenate::new(-1).call(&[a.clone(), b.clone()]).unwrap())
    });
    same_model("call([&a, &b])", "(None, 8)", old, || {
        two_inputs(&|a, b| Concatenate::new(-1).call([a, b]).unwrap())
    });
    same_model("call(&vec![a, b])", "(None, 8)", old, || {
        two_inputs(&|a, b| {
            Concatenate::new(-1)
                .call(&vec![a.clone(), b.clone()])
                .unwrap()
        })
    });
    same_model("layers::concatenate(&[a, b])", "(None, 8)", old, || {
        two_inputs(&|a, b| layers::concatenate(&[a.clone(), b.clone()]).unwrap())
    });
    same_model(
        "layers::concatenate_axis(.., 1)",
        "(None, 8)",
        || {
            two_inputs(&|a, b| {
                Concatenate::new(1)
                    .call_many(&[a.clone(), b.clone()])
                    .unwrap()
                    .remove(0)
            })
        },
        || two_inputs(&|a, b| layers::concatenate_axis([a, b], 1).unwrap()),
    );
    // A shared layer handle and a nested model take the same forms.
    same_model(
        "LayerRef::call(&[a, b])",
        "Add",
        || {
            let a = Input::new((4,));
            let b = Input::new((4,));
            let add = Add::new().into_layer();
            let y = add.call_many(&[a.clone(), b.clone()]).unwrap().remove(0);
            Model::new(&[a, b], &[y]).unwrap()
        },
        || {
            let a = Input::new((4,));
            let b = Input::new((4,));
            let add = Add::new().into_layer();
            let y = add.call(&[a.clone(), b.clone()]).unwrap();
            Model::new(&[a, b], &[y]).unwrap()
        },
    );
    same_model(
        "Model::call(&[a, b])",
        "(None, 1)",
        || {
            let (a, b) = (Input::new((8,)), Input::new((8,)));
            let inner = Model::new(&[a.clone(), b.clone()], &[layers::dot(&[a, b], 1).unwrap()]);
            let (c, d) = (Input::new((8,)), Input::new((8,)));
            let y = inner
                .unwrap()
                .call_many(&[c.clone(), d.clone()])
                .unwrap()
                .remove(0);
            Model::new(&[c, d], &[y]).unwrap()
        },
        || {
            let (a, b) = (Input::new((8,)), Input::new((8,)));
            let inner = Model::new(
                &[a.clone(), b.clone()],
                &[Dot::new(1).call([&a, &b]).unwrap()],
            );
            let (c, d) = (Input::new((8,)), Input::new((8,)));
            let y = inner.unwrap().call([&c, &d]).unwrap();
            Model::new(&[c, d], &[y]).unwrap()
        },
    );

    // A layer with several outputs refuses `call`, naming itself and its count.
    clear_session();
    let x = Input::new((None, 3));
    let e = LSTM::new(4)
        .return_state(true)
        .name("encoder")
        .call(&x)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("\"encoder\"") && e.contains("3 outputs") && e.contains("call_many"),
        "{e}"
    );
    let outs = LSTM::new(4).return_state(true).call_many(&x).unwrap();
    assert_eq!(outs.len(), 3);
    // So does a nested model with two outputs.
    let h = Dense::new(2).call(&x).unwrap();
    let two = Model::new(std::slice::from_ref(&x), &[h.clone(), h])
        .unwrap()
        .name("two_heads");
    let e = two.call(&Input::new((None, 3))).unwrap_err().to_string();
    assert!(
        e.contains("\"two_heads\"") && e.contains("2 outputs"),
        "{e}"
    );
}
