//! Devices: `keras::config::{set_device, with_device, device}`, `Model::to_device`, and the
//! errors for a device this build or machine cannot open. On a machine without a GPU these
//! run the CPU path of the plumbing; examples/gpu_check.rs compares the devices on a GPU.

use keras::prelude::*;

fn model() -> keras::Result<Model> {
    Ok(Sequential::from_layers([
        Input::new([4]).into(),
        Dense::new(8).activation("relu").into(),
        Dense::new(1).into(),
    ])?
    .into_model())
}

#[test]
fn a_cuda_device_is_an_error_that_names_what_is_missing() {
    let before = keras::config::device_name();
    for name in ["gpu", "gpu:0", "cuda:1"] {
        if keras::ops::open_device(name).is_ok() {
            continue; // a cuda build on a machine with that GPU: nothing to refuse
        }
        let e = keras::config::set_device(name).unwrap_err().to_string();
        assert!(e.contains(&format!("'{name}'")), "{e}");
        if !keras::ops::cuda_built() {
            assert!(e.contains("built without the `cuda` feature"), "{e}");
        } else if !keras::ops::missing_cuda_libraries().is_empty() {
            // A `cuda` build without the driver or libraries: the one that could not load.
            assert!(
                e.contains("cannot load") && e.contains("libcuda.so.1"),
                "{e}"
            );
        }
        let e = keras::config::with_device(name, || ())
            .unwrap_err()
            .to_string();
        assert!(e.contains(&format!("'{name}'")), "{e}");
    }
    // An ordinal no machine has is refused everywhere, naming it.
    let e = keras::ops::open_device("cuda:99").unwrap_err().to_string();
    assert!(e.contains("'cuda:99'"), "{e}");
    assert_eq!(keras::config::device_name(), before);
    let m = keras::config::with_device("cpu", model).unwrap().unwrap();
    assert!(m.to_device("cuda:99").is_err());
    assert!(m.weights().iter().all(|w| w.device().is_cpu()));
}

#[test]
fn bad_device_names_are_value_errors() {
    let e = keras::config::set_device("tpu:0").unwrap_err();
    assert!(matches!(e, keras::Error::Value(_)), "{e:?}");
    assert!(
        e.to_string().contains("Invalid device name: 'tpu:0'"),
        "{e}"
    );
}

#[test]
fn a_model_made_in_a_device_scope_trains_there() {
    keras::utils::set_random_seed(1);
    let mut m = keras::config::with_device("cpu:0", model).unwrap().unwrap();
    assert!(m.device().is_cpu());
    assert!(m.weights().iter().all(|w| w.device().is_cpu()));
    let x = keras::random::normal(&[64, 4]).unwrap();
    let y = x.sum_keepdim(1).unwrap();
    m.compile("adam", "mse", ()).unwrap();
    let h = m.fit(&x, &y, FitArgs::new().epochs(5).verbose(0)).unwrap();
    let loss = &h.history["loss"];
    assert!(loss[4] < loss[0], "{loss:?}");
    // Moving to where it is changes nothing; training carries on with its optimizer state.
    let before: Tensor = m.predict_on_batch(&x).unwrap();
    m.to_device("cpu").unwrap();
    let after: Tensor = m.predict_on_batch(&x).unwrap();
    assert_eq!(
        before.to_vec2::<f32>().unwrap(),
        after.to_vec2::<f32>().unwrap()
    );
    let h = m.fit(&x, &y, FitArgs::new().epochs(2).verbose(0)).unwrap();
    assert!(h.history["loss"][1] < loss[4], "{:?}", h.history["loss"]);
}

#[test]
fn an_unbuilt_model_cannot_move() {
    let m = Sequential::from_layers([Dense::new(2).into()]).unwrap();
    let e = m.to_device("cpu").unwrap_err().to_string();
    assert!(
        e.contains("is not built yet") && e.contains(&m.get_name()),
        "{e}"
    );
}
