//! Saving benchmark (see BENCHMARKS.md): `model.save("….keras")` and `load_model` of Xception
//! (22.9M weights) and ResNet50 (25.6M), median seconds of 3 runs each, the file in the system's
//! temporary folder. Loading includes rebuilding the model from its config.
//!
//! `cargo bench --bench saving` (Python Keras's numbers: `benches/keras_bench.py saving`).

use keras::applications::{ResNet50, Xception};
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> keras::Result<()> {
    let dir = std::env::temp_dir();
    for (name, model) in [
        ("Xception", Xception::default().build()?),
        ("ResNet50", ResNet50::default().build()?),
    ] {
        let path = dir.join(format!("keras_rs_bench_{name}.keras"));
        let (mut save, mut load) = (vec![], vec![]);
        for _ in 0..3 {
            let t = Instant::now();
            model.save(&path)?;
            save.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            let loaded = keras::saving::load_model(&path)?;
            load.push(t.elapsed().as_secs_f64());
            assert_eq!(loaded.count_params(), model.count_params());
        }
        let mb = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;
        println!(
            "SAVING {name}: keras-rs save {:.3} s, load {:.3} s ({mb:.1} MB)",
            median(save),
            median(load)
        );
        std::fs::remove_file(&path).ok();
    }
    Ok(())
}
