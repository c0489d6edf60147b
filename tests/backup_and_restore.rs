//! BackupAndRestore: a `fit` killed (SIGKILL) in the middle of an epoch and started again
//! resumes from its last completed epoch and ends with exactly the weights of a run that was
//! never interrupted (CPU, same seed).
//!
//! The test re-runs this test binary as a child process that trains with the callback; the
//! parent kills it once the backup of epoch 2 exists, starts it again, and compares.

use keras::callbacks::{BackupAndRestore, LambdaCallback};
use keras::prelude::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const EPOCHS: usize = 6;

fn data() -> (Tensor, Tensor) {
    let mut r = keras::ops::random::Rng::new(5);
    let x: Vec<f32> = (0..256 * 8).map(|_| r.normal() as f32).collect();
    let y: Vec<u32> = x
        .chunks(8)
        .map(|c| (c[0] + c[1] > 0.0) as u32 + (c[2] > 0.5) as u32)
        .collect();
    (
        keras::ops::from_vec(x, &[256, 8]).unwrap(),
        Tensor::new(y, &Device::Cpu).unwrap(),
    )
}

/// Trains with dropout and shuffling (both draw random numbers), Adam (optimizer state), with
/// a backup in `dir`; a short sleep per batch gives the parent time to kill mid-epoch.
fn train(dir: &Path, sleep: bool) -> Vec<Vec<f32>> {
    keras::utils::set_random_seed(11);
    let mut m = Sequential::from_layers([
        Input::new([8]).into(),
        Dense::new(16).activation("relu").into(),
        Dropout::new(0.3).into(),
        Dense::new(3).activation("softmax").into(),
    ])
    .unwrap();
    m.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
        .unwrap();
    let (x, y) = data();
    let mut backup = BackupAndRestore::new(dir);
    let mut slow = LambdaCallback::new().on_batch_end(move |_, _, _| {
        if sleep {
            std::thread::sleep(Duration::from_millis(15));
        }
        Ok(())
    });
    m.fit(
        &x,
        &y,
        FitArgs {
            epochs: EPOCHS,
            batch_size: 16,
            verbose: 0,
            callbacks: vec![&mut backup, &mut slow],
            ..Default::default()
        },
    )
    .unwrap();
    m.get_weights()
        .unwrap()
        .iter()
        .map(|w| keras::ops::to_vec_f32(w).unwrap())
        .collect()
}

fn write_weights(path: &Path, w: &[Vec<f32>]) {
    let text: Vec<String> = w
        .iter()
        .map(|v| {
            v.iter()
                .map(|x| x.to_bits().to_string())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    std::fs::write(path, text.join("\n")).unwrap();
}

fn read_weights(path: &Path) -> Vec<Vec<f32>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            l.split(' ')
                .map(|b| f32::from_bits(b.parse().unwrap()))
                .collect()
        })
        .collect()
}

/// The child: trains (resuming from the backup if there is one) and writes its final weights.
#[test]
#[ignore = "run by a_killed_fit_resumes_to_the_same_weights as a child process"]
fn child_trains_with_backup() {
    let Ok(dir) = std::env::var("KERAS_RS_BACKUP_CHILD") else {
        return;
    };
    let dir = PathBuf::from(dir);
    let w = train(&dir.join("backup"), true);
    write_weights(&dir.join("final.txt"), &w);
}

fn epoch_of_backup(dir: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(dir.join("backup/training_metadata.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["epoch"].as_u64()
}

#[test]
fn a_killed_fit_resumes_to_the_same_weights() {
    let dir = std::env::temp_dir().join(format!("keras_rs_backup_{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).unwrap();
    let child = || {
        std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "child_trains_with_backup",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("KERAS_RS_BACKUP_CHILD", &dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut first = child();
    let start = Instant::now();
    // Wait for the backup of the second completed epoch, then kill in the middle of the third.
    while epoch_of_backup(&dir) != Some(2) {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no backup of epoch 2 appeared"
        );
        assert!(
            first.try_wait().unwrap().is_none(),
            "the child finished before it was killed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(80));
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(!dir.join("final.txt").exists(), "killed before the end");
    assert_eq!(
        epoch_of_backup(&dir),
        Some(2),
        "killed mid-epoch, before the next backup"
    );

    let status = child().wait().unwrap();
    assert!(status.success());
    let resumed = read_weights(&dir.join("final.txt"));
    assert!(
        !dir.join("backup").exists(),
        "the backup is deleted when training ends"
    );

    let uninterrupted = train(&dir.join("other_backup"), false);
    assert_eq!(resumed.len(), uninterrupted.len());
    for (a, b) in resumed.iter().zip(&uninterrupted) {
        assert_eq!(
            a, b,
            "resumed and uninterrupted runs end with the same weights"
        );
    }
    // (Without the random generator's state in the backup, the resumed run's dropout masks
    // and batch order differ and this comparison fails.)
    std::fs::remove_dir_all(&dir).ok();
}
