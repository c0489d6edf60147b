//! A save killed at any moment leaves the previous file loadable: `model.save` writes a
//! temporary file beside the target, syncs it, then renames it over the target.
//!
//! The tests re-run this test binary as a child process and kill it (SIGKILL): once exactly
//! between writing the new file and renaming it, and several times at arbitrary moments while
//! it saves two models in turn. After each kill the file must load and predict exactly as one
//! of the models saved.

use keras::prelude::*;
use std::path::Path;
use std::time::{Duration, Instant};

/// A model with ~4M weights (a save takes tens of milliseconds), weights from `seed`.
fn model(seed: u64) -> Model {
    keras::utils::set_random_seed(seed);
    let inp = Input::new([500]);
    let x = Dense::new(2000).activation("relu").call(&inp).unwrap();
    let out = Dense::new(4).call(&x).unwrap();
    let mut m = Model::new(&[inp], &[out]).unwrap();
    m.compile("adam", "mse", ()).unwrap();
    m
}

fn probe() -> Tensor {
    Tensor::arange(0f32, 1000.0, &Device::Cpu)
        .unwrap()
        .reshape((2, 500))
        .unwrap()
        .affine(1e-3, 0.0)
        .unwrap()
}

fn predict(m: &Model) -> Vec<f32> {
    m.predict_on_batch::<Tensor>(vec![probe()])
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

/// The child: saves model 1 and model 2 in turn until killed.
#[test]
#[ignore = "run by crash_mid_save_leaves_a_loadable_file as a child process"]
fn child_saves_forever() {
    let Ok(path) = std::env::var("KERAS_RS_CRASH_CHILD") else {
        return;
    };
    let models = [model(1), model(2)];
    println!("ready");
    for i in 0.. {
        models[i % 2].save(&path).unwrap();
    }
}

/// The child: writes model 2's archive through the same atomic writer `save` uses, and stops
/// (forever) after the bytes are written, before the rename.
#[test]
#[ignore = "run by kill_between_write_and_rename_keeps_the_old_file as a child process"]
fn child_stalls_before_rename() {
    let Ok(path) = std::env::var("KERAS_RS_CRASH_CHILD") else {
        return;
    };
    let scratch = format!("{path}.scratch.keras");
    model(2).save(&scratch).unwrap();
    let bytes = std::fs::read(&scratch).unwrap();
    std::fs::remove_file(&scratch).unwrap();
    keras::ops::npy::write_atomic(Path::new(&path), |f| {
        use std::io::Write;
        f.write_all(&bytes).unwrap();
        f.sync_all().unwrap();
        println!("written");
        std::io::stdout().flush().unwrap();
        loop {
            std::thread::sleep(Duration::from_secs(1));
        }
    })
    .unwrap();
}

#[test]
fn kill_between_write_and_rename_keeps_the_old_file() {
    let dir = std::env::temp_dir().join(format!("keras_rs_stall_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.keras");
    let want = predict(&model(1));
    model(1).save(&path).unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_stalls_before_rename",
            "--ignored",
            "--nocapture",
        ])
        .env("KERAS_RS_CRASH_CHILD", &path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("written") {
        line.clear();
        let n = std::io::BufRead::read_line(&mut out, &mut line).unwrap();
        assert!(n > 0, "the child exited before writing");
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // The new bytes sit complete in the temporary file; the target is untouched.
    let temps = temp_files(&dir, &path);
    assert_eq!(temps.len(), 1, "{temps:?}");
    assert!(std::fs::metadata(&temps[0]).unwrap().len() > 1_000_000);
    let loaded = keras::saving::load_model(&path).unwrap();
    assert_eq!(predict(&loaded), want);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn crash_mid_save_leaves_a_loadable_file() {
    let dir = std::env::temp_dir().join(format!("keras_rs_crash_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.keras");
    let wants = [predict(&model(1)), predict(&model(2))];
    model(1).save(&path).unwrap();
    let exe = std::env::current_exe().unwrap();
    for round in 0..6u64 {
        let mut child = std::process::Command::new(&exe)
            .args(["--exact", "child_saves_forever", "--ignored", "--nocapture"])
            .env("KERAS_RS_CRASH_CHILD", &path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Let it get through a few saves, then kill it at a different point each round.
        let start = Instant::now();
        std::thread::sleep(Duration::from_millis(600 + 37 * round));
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(start.elapsed() < Duration::from_secs(60));
        let loaded = keras::saving::load_model(&path)
            .unwrap_or_else(|e| panic!("round {round}: the file no longer loads: {e}"));
        let got = predict(&loaded);
        assert!(
            wants.contains(&got),
            "round {round}: the file holds neither model"
        );
        for t in temp_files(&dir, &path) {
            std::fs::remove_file(t).ok();
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

fn temp_files(dir: &Path, target: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p != target)
        .collect()
}
