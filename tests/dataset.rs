//! keras::data::Dataset against tf.data (tests/fixtures/dataset.json, made by
//! tests/fixtures/make_dataset.py with TensorFlow 2.21), plus the tutorial pipeline's
//! properties: every element once per epoch, reproducible shuffles and random maps with
//! worker threads, prefetch errors and early drops.

use keras::data::{Cardinality, Dataset, Structure, TensorMap};
use keras::prelude::*;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

type Elem = Vec<Tensor>;

fn scalar_ds(ds: Dataset<Tensor>) -> Dataset<Elem> {
    ds.map(|t| Ok(vec![t]))
}

/// The fixture's pipeline steps as a keras-rs pipeline (elements as lists of tensors, so
/// zip's pairs and single tensors share one type).
fn build(steps: &[Value]) -> Dataset<Elem> {
    let mut ds: Option<Dataset<Elem>> = None;
    for step in steps {
        let s = step.as_array().unwrap();
        let op = s[0].as_str().unwrap();
        let n = |i: usize| s[i].as_i64().unwrap();
        let cur = ds.take();
        ds = Some(match op {
            "range" => scalar_ds(Dataset::range(n(1) as usize).unwrap()),
            "range3" => scalar_ds(Dataset::range_with(n(1), n(2), n(3)).unwrap()),
            "batch" => cur
                .unwrap()
                .batch_with(n(1) as usize, s[2].as_bool().unwrap())
                .unwrap(),
            "unbatch" => cur.unwrap().unbatch(),
            "repeat" => cur.unwrap().repeat(s[1].as_u64().map(|c| c as usize)),
            "take" => cur.unwrap().take(n(1) as usize),
            "skip" => cur.unwrap().skip(n(1) as usize),
            "filter_mod" => {
                let m = n(1);
                cur.unwrap()
                    .filter(move |e| Ok(e[0].to_vec0::<i64>()? % m == 0))
            }
            "map_add" => {
                let k = n(1) as f64;
                cur.unwrap().map(move |e| {
                    e.iter()
                        .map(|t| Ok((t + k)?))
                        .collect::<keras::Result<Vec<_>>>()
                })
            }
            "cache" => cur.unwrap().cache(),
            "prefetch" => cur.unwrap().prefetch(n(1) as usize).unwrap(),
            "concat" => cur.unwrap().concatenate(&build(s[1].as_array().unwrap())),
            "zip" => {
                Dataset::zip(&cur.unwrap(), &build(s[1].as_array().unwrap())).map(|(mut a, b)| {
                    a.extend(b);
                    Ok(a)
                })
            }
            other => panic!("unknown step {other}"),
        });
    }
    ds.unwrap()
}

fn tensor_json(t: &Tensor) -> Value {
    match t.rank() {
        0 => json!(t.to_vec0::<i64>().unwrap()),
        1 => json!(t.to_vec1::<i64>().unwrap()),
        r => panic!("rank {r}"),
    }
}

fn elem_json(e: &Elem) -> Value {
    if e.len() == 1 {
        tensor_json(&e[0])
    } else {
        Value::Array(e.iter().map(tensor_json).collect())
    }
}

#[test]
fn pipelines_match_tf_data() {
    let text = std::fs::read_to_string("tests/fixtures/dataset.json").unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let cases = v["cases"].as_array().unwrap();
    assert!(cases.len() >= 25);
    for case in cases {
        let steps = case["steps"].as_array().unwrap();
        let ds = build(steps);
        let card = case["cardinality"].as_i64().unwrap();
        assert_eq!(ds.cardinality().as_i64(), card, "cardinality of {steps:?}");
        let got: Vec<Value> = ds
            .iter()
            .unwrap()
            .take(50)
            .map(|e| elem_json(&e.unwrap()))
            .collect();
        let want = case["elements"].as_array().unwrap();
        assert_eq!(&got, want, "elements of {steps:?}");
        if let Cardinality::Finite(n) = ds.cardinality() {
            assert_eq!(got.len(), n.min(50), "count of {steps:?}");
        }
    }
}

/// MNIST-shaped data whose label is the row number, so an epoch's labels show which rows
/// came out.
fn mnist_like(n: usize) -> (Tensor, Tensor) {
    let x: Vec<u8> = (0..n * 28 * 28).map(|i| (i / 784 % 251) as u8).collect();
    let x = Tensor::from_vec(x, (n, 28, 28), &Device::Cpu).unwrap();
    let y = Tensor::from_vec((0..n as u32).collect::<Vec<_>>(), n, &Device::Cpu).unwrap();
    (x, y)
}

fn labels_of_epoch(ds: &Dataset<(Tensor, Tensor)>) -> Vec<u32> {
    let mut labels = Vec::new();
    for b in ds.iter().unwrap() {
        let (x, y) = b.unwrap();
        let y = y.to_vec1::<u32>().unwrap();
        // The image travelled with its label.
        let first = x.flatten_all().unwrap().to_vec1::<u8>().unwrap();
        for (k, &row) in y.iter().enumerate() {
            assert_eq!(first[k * 784] as u32, row % 251);
        }
        labels.extend(y);
    }
    labels
}

#[test]
fn the_tutorial_pipeline_sees_every_element_once_per_epoch() {
    let n = 6000;
    let (x, y) = mnist_like(n);
    keras::utils::set_random_seed(1);
    let ds = Dataset::from_tensor_slices((x, y))
        .unwrap()
        .shuffle(1000)
        .unwrap()
        .batch(32)
        .unwrap()
        .prefetch(2)
        .unwrap();
    assert_eq!(ds.cardinality(), Cardinality::Finite(n.div_ceil(32)));
    let shapes: Vec<Vec<usize>> = ds
        .iter()
        .unwrap()
        .map(|b| b.unwrap().0.dims().to_vec())
        .collect();
    assert_eq!(shapes.len(), 188);
    assert_eq!(shapes[0], [32, 28, 28]);
    assert_eq!(shapes[187], [6000 - 187 * 32, 28, 28]);
    let e1 = labels_of_epoch(&ds);
    let e2 = labels_of_epoch(&ds);
    assert_ne!(e1, e2, "reshuffled each epoch");
    assert_ne!(e1, (0..n as u32).collect::<Vec<_>>());
    for mut e in [e1.clone(), e2] {
        e.sort_unstable();
        assert_eq!(e, (0..n as u32).collect::<Vec<_>>());
    }
    // A buffer of 1000 keeps elements near their place: element i comes out at or after
    // position i - 999.
    for (pos, &label) in e1.iter().enumerate() {
        assert!(label as usize <= pos + 999);
    }
}

/// One epoch of a shuffled, randomly augmented pipeline built after `set_random_seed(seed)`.
fn augmented_epochs(seed: u64, threads: usize) -> Vec<Vec<f32>> {
    keras::utils::set_random_seed(seed);
    let (x, y) = mnist_like(200);
    let ds = Dataset::from_tensor_slices((x, y))
        .unwrap()
        .shuffle(64)
        .unwrap()
        .map_random_with(
            |(x, y), rng| {
                let x = x.to_dtype(DType::F32)?;
                let noise = rng.uniform() as f32;
                Ok(((x + noise as f64)?, y))
            },
            threads,
            None,
        )
        .batch(16)
        .unwrap()
        .prefetch(2)
        .unwrap();
    (0..2)
        .map(|_| {
            ds.iter()
                .unwrap()
                .flat_map(|b| {
                    let (x, y) = b.unwrap();
                    let mut v = x.flatten_all().unwrap().to_vec1::<f32>().unwrap();
                    v.extend(y.to_dtype(DType::F32).unwrap().to_vec1::<f32>().unwrap());
                    v
                })
                .collect()
        })
        .collect()
}

#[test]
fn set_random_seed_makes_shuffle_and_map_repeat_with_any_thread_count() {
    let a = augmented_epochs(5, 1);
    let b = augmented_epochs(5, 4);
    let c = augmented_epochs(5, 4);
    assert_eq!(a, b);
    assert_eq!(b, c);
    assert_ne!(a[0], a[1], "each epoch differs");
    let d = augmented_epochs(6, 4);
    assert_ne!(a, d, "another seed, other elements");
}

#[test]
fn named_inputs_batch_by_name() {
    let text = Tensor::zeros((10, 7), DType::U32, &Device::Cpu).unwrap();
    let question = Tensor::ones((10, 3), DType::U32, &Device::Cpu).unwrap();
    let y = Tensor::zeros(10, DType::F32, &Device::Cpu).unwrap();
    let ds =
        Dataset::from_tensor_slices((TensorMap::from([("text", text), ("question", question)]), y))
            .unwrap()
            .batch(4)
            .unwrap();
    let (inputs, y) = ds.iter().unwrap().next().unwrap().unwrap();
    assert_eq!(inputs["text"].dims(), &[4, 7]);
    assert_eq!(inputs["question"].dims(), &[4, 3]);
    assert_eq!(y.dims(), &[4]);
    assert_eq!(
        inputs.describe(),
        "{text: Tensor[u32; 4, 7], question: Tensor[u32; 4, 3]}"
    );
}

#[test]
fn mismatched_slices_are_refused_with_their_sizes() {
    let (x, _) = mnist_like(10);
    let y = Tensor::zeros(9, DType::U32, &Device::Cpu).unwrap();
    let err = Dataset::from_tensor_slices((x, y)).unwrap_err().to_string();
    assert!(
        err.contains("Dimensions 10 and 9 are not compatible"),
        "{err}"
    );
}

#[test]
fn a_failing_map_fails_at_its_element_through_prefetch() {
    let ds = Dataset::range(100)
        .unwrap()
        .map_with(
            |t| {
                if t.to_vec0::<i64>()? == 37 {
                    return Err(keras::Error::value("element 37 is bad"));
                }
                Ok(t)
            },
            4,
        )
        .batch(10)
        .unwrap()
        .prefetch(2)
        .unwrap();
    let got: Vec<_> = ds.iter().unwrap().collect();
    assert_eq!(got.len(), 4, "three good batches, then the error");
    assert!(got[..3].iter().all(|b| b.is_ok()));
    assert_eq!(
        got[3].as_ref().unwrap_err().to_string(),
        "element 37 is bad"
    );
}

#[test]
fn dropping_a_deep_pipeline_early_stops_everything() {
    let made = Arc::new(AtomicUsize::new(0));
    let m = made.clone();
    let ds = Dataset::range(1000)
        .unwrap()
        .repeat(None)
        .map_with(
            move |t| {
                m.fetch_add(1, Ordering::SeqCst);
                Ok(t)
            },
            4,
        )
        .batch(8)
        .unwrap()
        .prefetch(4)
        .unwrap();
    for _ in 0..3 {
        let mut it = ds.iter().unwrap();
        for _ in 0..5 {
            it.next().unwrap().unwrap();
        }
    }
    let after = made.load(Ordering::SeqCst);
    std::thread::sleep(std::time::Duration::from_millis(30));
    assert_eq!(made.load(Ordering::SeqCst), after, "no thread left running");
}

#[test]
fn datasets_are_send_and_sync_and_share_their_iteration_count() {
    fn check<T: Send + Sync>(_: &T) {}
    let ds = Dataset::range(10)
        .unwrap()
        .shuffle_with(10, Some(1), true)
        .unwrap();
    check(&ds);
    let read = |d: &Dataset<Tensor>| -> Vec<i64> {
        d.iter()
            .unwrap()
            .map(|t| t.unwrap().to_vec0::<i64>().unwrap())
            .collect()
    };
    let e0: Vec<i64> = ds
        .iter_epoch(0)
        .unwrap()
        .map(|t| t.unwrap().to_vec0::<i64>().unwrap())
        .collect();
    let e1: Vec<i64> = ds
        .iter_epoch(1)
        .unwrap()
        .map(|t| t.unwrap().to_vec0::<i64>().unwrap())
        .collect();
    let clone = ds.clone();
    assert_eq!(read(&ds), e0);
    assert_eq!(read(&clone), e1, "the clone counts on from the original");
    let handle = std::thread::spawn(move || read(&clone));
    assert_eq!(handle.join().unwrap().len(), 10);
}
