//! Any bytes read as a `.weights.h5` file into a fixed model give an error or weights.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(root) = keras::saving::h5::Group::from_bytes(data.to_vec()) else {
        return;
    };
    let json = include_str!("../seed_model.json");
    let mut m = keras::saving::model_from_json(json).expect("the seed model loads");
    let _ = keras::saving::weights::from_h5(&mut m, &root, false);
});
