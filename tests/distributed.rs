//! Data-parallel training across processes (`keras::distribution`, the `mpi` feature), with
//! Open MPI's `mpirun`: examples/distributed_mnist is built with `--features mpi` and run as
//! one and as two processes. Skipped, saying so, where `mpirun` is missing, unless
//! `KERAS_RS_REQUIRE_MPI=1` (CI sets it and installs Open MPI), which makes that a failure.

use keras::ops::Device;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn have_mpirun() -> bool {
    let ok = Command::new("mpirun")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("KERAS_RS_REQUIRE_MPI").is_err(),
            "KERAS_RS_REQUIRE_MPI is set but mpirun cannot be run"
        );
        eprintln!("skipped: no mpirun (install openmpi-bin libopenmpi-dev libclang-dev)");
    }
    ok
}

/// The example, built with the `mpi` feature in this profile's target folder, once for all
/// the tests (a fresh build takes minutes; the tests that time their jobs start the clock
/// after it).
fn example() -> PathBuf {
    static EXE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    EXE.get_or_init(build_example).clone()
}

fn build_example() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "build",
            "-q",
            "--features",
            "mpi",
            "--example",
            "distributed_mnist",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // tests/ binaries live in <target>/<profile>/deps; the example beside them.
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    profile_dir.join("examples").join("distributed_mnist")
}

fn mpirun(np: usize, exe: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new("timeout");
    c.arg("300")
        .arg("mpirun")
        .args(["-np", &np.to_string(), "--oversubscribe"]);
    c.arg(exe).args(args);
    c.env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .env("OMPI_MCA_rmaps_base_oversubscribe", "1");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("mpirun runs")
}

/// Runs a 2-process job of the example that must fail, and fail before `mpirun`'s own
/// timeout; returns its stdout and stderr together, and how long the job ran (the example's
/// build not counted).
fn failing_job(args: &[&str], env: &[(&str, &str)]) -> (String, std::time::Duration) {
    let exe = example();
    let t = std::time::Instant::now();
    let r = mpirun(2, &exe, args, env);
    let took = t.elapsed();
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&r.stdout),
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(!r.status.success(), "{out}");
    assert_ne!(r.status.code(), Some(124), "the job hung:\n{out}");
    (out, took)
}

/// Runs the example with `args` as one process and as two, each rank saving its weights;
/// asserts that both ranks end with the same weights, equal (1e-6) to the one process's, and
/// that every rank's History equals the one process's (1e-5) and that the ranks held
/// identical weights after every step. Returns the one process's
/// weights, the folder the runs wrote in, and the two runs' outputs.
fn trains_as_one_process(name: &str, args: &[&str]) -> (Weights, PathBuf, [Output; 2]) {
    let exe = example();
    let dir = std::env::temp_dir().join(format!("keras_rs_{name}_{}", std::process::id()));
    let runs = [1, 2].map(|np| {
        let d = dir.join(np.to_string());
        std::fs::create_dir_all(&d).unwrap();
        let s = d.display().to_string();
        let mut a = args.to_vec();
        a.extend(["--save", &s]);
        let r = mpirun(np, &exe, &a, &[]);
        assert!(
            r.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&r.stdout),
            String::from_utf8_lossy(&r.stderr)
        );
        r
    });
    let w1 = weights(&dir.join("1/rank0.safetensors"));
    let (w20, w21) = (
        weights(&dir.join("2/rank0.safetensors")),
        weights(&dir.join("2/rank1.safetensors")),
    );
    assert_eq!(max_diff(&w20, &w21), 0.0, "the ranks' weights differ");
    let d = max_diff(&w1, &w20);
    assert!(d <= 1e-6, "two processes vs one: max weight difference {d}");
    let (s1, s2) = (
        String::from_utf8_lossy(&runs[0].stdout),
        String::from_utf8_lossy(&runs[1].stdout),
    );
    // The same metrics too: MeanIoU's confusion counts are summed over the processes.
    for name in ["loss", "iou"] {
        let (l1, l20, l21) = (
            listed(&s1, 0, name),
            listed(&s2, 0, name),
            listed(&s2, 1, name),
        );
        assert_eq!(l20, l21);
        assert_eq!(l1.len(), l20.len(), "{name} {l1:?} vs {l20:?}");
        for (a, b) in l1.iter().zip(&l20) {
            assert!((a - b).abs() <= 1e-5, "{name} {l1:?} vs {l20:?}");
        }
    }
    for name in ["accuracy", "iou"] {
        let name = format!("test {name}");
        let t1 = printed(&s1, 0, &name);
        for rank in [0, 1] {
            let t2 = printed(&s2, rank, &name);
            assert!((t1 - t2).abs() <= 1e-5, "rank {rank}: {name} {t1} vs {t2}");
        }
    }
    // Identical weights on every rank after every step (a hash of all of them, step by step).
    let hash = |rank: usize| {
        s2.lines()
            .find(|l| l.starts_with(&format!("rank {rank} step hash")))
            .map(|l| l.split_whitespace().nth(4).unwrap().to_string())
            .unwrap_or_else(|| panic!("no step hash of rank {rank} in {s2}"))
    };
    assert_eq!(
        hash(0),
        hash(1),
        "the ranks' weights differed after some step"
    );
    (w1, dir, runs)
}

type Weights = Vec<(String, Vec<f32>)>;

fn weights(path: &Path) -> Weights {
    let mut v: Vec<(String, Vec<f32>)> = candle_core::safetensors::load(path, &Device::Cpu)
        .unwrap()
        .into_iter()
        .map(|(k, t)| (k, t.flatten_all().unwrap().to_vec1::<f32>().unwrap()))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn max_diff(a: &Weights, b: &Weights) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .flat_map(|((ka, va), (kb, vb))| {
            assert_eq!(ka, kb);
            va.iter().zip(vb).map(|(x, y)| (x - y).abs())
        })
        .fold(0.0, f32::max)
}

/// The `loss [...]` list a rank printed.
fn losses(stdout: &str, rank: usize) -> Vec<f64> {
    listed(stdout, rank, "loss")
}

/// The `name [...]` list a rank printed.
fn listed(stdout: &str, rank: usize, name: &str) -> Vec<f64> {
    let line = stdout
        .lines()
        .find(|l| l.starts_with(&format!("rank {rank} of")))
        .unwrap_or_else(|| panic!("no line of rank {rank} in {stdout}"));
    let list = line
        .split(&format!(" {name} ["))
        .nth(1)
        .unwrap()
        .split(']')
        .next()
        .unwrap();
    list.split(", ").map(|v| v.parse().unwrap()).collect()
}

/// The `name <value>` a rank printed.
fn printed(stdout: &str, rank: usize, name: &str) -> f64 {
    let line = stdout
        .lines()
        .find(|l| l.starts_with(&format!("rank {rank} of")))
        .unwrap_or_else(|| panic!("no line of rank {rank} in {stdout}"));
    let rest = line.split(&format!(" {name} ")).nth(1).unwrap();
    rest.split(',').next().unwrap().parse().unwrap()
}

#[test]
fn two_processes_train_as_one_on_the_global_batch() {
    if !have_mpirun() {
        return;
    }
    // Every rank ends with the same weights and History, equal (1e-6, 1e-5) to one
    // process's on batches of 64.
    let args = ["--samples", "2048", "--epochs", "2"];
    let (_, dir, [r1, r2]) = trains_as_one_process("global_batch", &args);
    let s2 = String::from_utf8_lossy(&r2.stdout);
    // predict: each process ran half of the 10,000 test rows, and all got every prediction,
    // the one process's (to the weights' 1e-6).
    let predicted = |s: &str, rank: usize| -> (String, f64) {
        let l = s
            .lines()
            .find(|l| l.starts_with(&format!("rank {rank} predicted")))
            .unwrap_or_else(|| panic!("no predict line of rank {rank} in {s}"));
        let (head, sum) = l.split_once("; weighted sum of |predictions| ").unwrap();
        (head.to_string(), sum.parse().unwrap())
    };
    let (h1, p1) = predicted(&String::from_utf8_lossy(&r1.stdout), 0);
    assert_eq!(h1, "rank 0 predicted 10000 of 10000 rows itself");
    let ((h20, p20), (h21, p21)) = (predicted(&s2, 0), predicted(&s2, 1));
    assert_eq!(h20, "rank 0 predicted 5000 of 10000 rows itself");
    assert_eq!(h21, "rank 1 predicted 5000 of 10000 rows itself");
    assert_eq!(p20, p21);
    assert!((p20 - p1).abs() <= 1e-5 * p1, "{p20} vs {p1}");
    let l20 = losses(&s2, 0);
    assert!(l20[1] < l20[0], "{l20:?}");
    assert!(s2.contains("over 64 steps"), "{s2}");
    // Callbacks that write files run on rank 0 alone.
    assert_eq!(s2.matches("ran the rank-0 callback").count(), 1, "{s2}");
    assert!(s2.contains("rank 0 ran the rank-0 callback"), "{s2}");
    // Only rank 0 draws the progress bar.
    let stderr = String::from_utf8_lossy(&r2.stderr);
    assert_eq!(stderr.matches("Epoch 1/2").count(), 1, "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_killed_job_resumes_from_its_backup_to_the_uninterrupted_weights() {
    if !have_mpirun() {
        return;
    }
    let exe = example();
    let dir = std::env::temp_dir().join(format!("keras_rs_resume_{}", std::process::id()));
    let (whole, resumed, backup) = (dir.join("whole"), dir.join("resumed"), dir.join("backup"));
    std::fs::create_dir_all(&whole).unwrap();
    std::fs::create_dir_all(&resumed).unwrap();
    let s = |p: &Path| p.display().to_string();
    let with = |extra: &[String]| -> Vec<String> {
        ["--samples", "1024", "--epochs", "3"]
            .iter()
            .map(|a| a.to_string())
            .chain(extra.iter().cloned())
            .collect()
    };
    let run = |args: &[String], env: &[(&str, &str)]| {
        mpirun(
            2,
            &exe,
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            env,
        )
    };
    let r = run(&with(&["--save".into(), s(&whole)]), &[]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    // Killed in the third epoch, after two backups; started again, it resumes there.
    let args = with(&["--save".into(), s(&resumed), "--backup".into(), s(&backup)]);
    let killed = run(&args, &[("KERAS_RS_DIE_AT_STEP", "2:3")]);
    assert!(
        !killed.status.success(),
        "{}",
        String::from_utf8_lossy(&killed.stdout)
    );
    assert!(backup.join("training_metadata.json").exists());
    let again = run(&args, &[]);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    // It resumed: the third epoch alone ran (a fresh start would give the same weights).
    let (all, rest) = (
        String::from_utf8_lossy(&r.stdout),
        String::from_utf8_lossy(&again.stdout),
    );
    assert_eq!(losses(&all, 0).len(), 3, "{all}");
    assert_eq!(losses(&rest, 0).len(), 1, "{rest}");
    assert_eq!(losses(&rest, 1).len(), 1, "{rest}");
    let third = losses(&all, 0)[2];
    assert!(
        (losses(&rest, 0)[0] - third).abs() <= 1e-5,
        "{rest} vs {all}"
    );
    let w = weights(&whole.join("rank0.safetensors"));
    for r in ["rank0", "rank1"] {
        let d = max_diff(&w, &weights(&resumed.join(format!("{r}.safetensors"))));
        assert!(
            d <= 1e-6,
            "{r}: resumed vs uninterrupted, max weight difference {d}"
        );
    }
    // Rank 0 alone wrote the backups, and removed them at the end.
    assert!(!backup.exists());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn an_error_on_one_rank_ends_the_job_naming_it() {
    if !have_mpirun() {
        return;
    }
    let env = [("KERAS_RS_DIE_AT_STEP", "0:4"), ("KERAS_RS_ERROR", "1")];
    let (out, took) = failing_job(&["--samples", "2048", "--epochs", "2"], &env);
    assert!(out.contains("fit failed on rank 1 of 2"), "{out}");
    assert!(out.contains("a failure on this rank"), "{out}");
    // (mpirun then reports MPI_ABORT on rank 1, when its help text can be shown.)
    assert!(took.as_secs() < 120, "took {took:?}");
}

#[test]
fn a_rank_that_dies_ends_the_job_with_an_error_naming_it() {
    if !have_mpirun() {
        return;
    }
    let (out, took) = failing_job(
        &["--samples", "2048", "--epochs", "2"],
        &[("KERAS_RS_DIE_AT_STEP", "5")],
    );
    assert!(out.contains("rank 1 exits at step 5"), "{out}");
    // Open MPI names the process: "Process name: [[<job>,1],1]  Exit code: 3".
    assert!(
        out.contains(",1],1]") && out.contains("Exit code:    3"),
        "{out}"
    );
    assert!(took.as_secs() < 120, "took {took:?}");
}

#[test]
fn a_rank_that_hangs_ends_the_job_after_the_timeout_naming_it() {
    if !have_mpirun() {
        return;
    }
    // A generous timeout for the start (KERAS_DISTRIBUTION_TIMEOUT), 4 s from step 5 on.
    let env = [
        ("KERAS_RS_DIE_AT_STEP", "5"),
        ("KERAS_RS_HANG", "4"),
        ("KERAS_DISTRIBUTION_TIMEOUT", "120"),
    ];
    let (out, took) = failing_job(&["--samples", "2048", "--epochs", "2"], &env);
    assert!(out.contains("rank 1 hangs at step 5"), "{out}");
    // Rank 0 waited 4 s in its next collective, asked rank 1 where it was, got no answer.
    assert!(
        out.contains("keras-rs: rank 0 of 2: an all-reduce")
            && out.contains("did not complete within 4.0 s")
            && out.contains("missing: rank 1 (no answer"),
        "{out}"
    );
    let secs = took.as_secs();
    assert!((4..90).contains(&secs), "took {secs} s");
}

#[test]
fn synchronized_batch_normalization_trains_as_one_process() {
    if !have_mpirun() {
        return;
    }
    // Each process normalized with the global batch's statistics: the weights, moving
    // statistics included, are one process's on the whole batch.
    // 1001 samples: the last batch of 41 splits 20 / 21, unequal shares of the statistics.
    let args = ["--samples", "1001", "--epochs", "2", "--bn"];
    let (w1, dir, _) = trains_as_one_process("syncbn", &args);
    let names: Vec<&String> = w1.iter().map(|w| &w.0).collect();
    assert_eq!(names.len(), 8, "{names:?}");
    assert!(
        names.iter().any(|n| n.contains("moving_variance")),
        "{names:?}"
    );
    // Without synchronizing, each process's half-batch statistics make another model.
    let local = dir.join("local");
    std::fs::create_dir_all(&local).unwrap();
    let s = local.display().to_string();
    let args = [
        "--samples",
        "1001",
        "--epochs",
        "2",
        "--bn-local",
        "--save",
        &s,
    ];
    let r = mpirun(2, &example(), &args, &[]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let d = max_diff(&w1, &weights(&local.join("rank0.safetensors")));
    assert!(
        d > 1e-4,
        "unsynchronized statistics gave the same weights ({d})"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn processes_reading_their_own_shard_train_as_one_process() {
    if !have_mpirun() {
        return;
    }
    // Rank r reads elements r, r + 2, ... in batches of 32: together each step's 64 are the
    // one process's batch of 64, so the weights are its weights.
    let args = ["--samples", "2048", "--epochs", "2", "--own-shard"];
    let (_, dir, [_, r2]) = trains_as_one_process("own_shard", &args);
    let s2 = String::from_utf8_lossy(&r2.stdout);
    assert!(s2.contains("over 64 steps"), "{s2}");
    // Uneven shares (1025 and 1024 elements: 33 and 32 batches of 32) are an error on every
    // rank before the first step, not mismatched collectives.
    let (out, _) = failing_job(&["--samples", "2049", "--own-shard"], &[]);
    assert!(
        out.contains("every process must run the same number of steps")
            && (out.contains("rank 0 has 33") || out.contains("rank 1 has 32")),
        "{out}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
