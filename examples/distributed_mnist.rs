//! mnist_mlp trained data-parallel across processes (issue 15): every process builds the same
//! model, takes its half (its 1/N) of every global batch of 64, and the gradients are averaged
//! each step, so the result is the one-process training on batches of 64.
//!
//! ```text
//! cargo build --release --features mpi --example distributed_mnist
//! mpirun -np 2 --oversubscribe target/release/examples/distributed_mnist       # this machine
//! mpirun -np 2 --host a,b target/release/examples/distributed_mnist            # two machines
//! ```
//! (as root, Open MPI also wants `--allow-run-as-root`). `--epochs N` and `--samples N` make
//! it shorter, `--save DIR` writes each rank's weights to `DIR/rank<r>.safetensors`,
//! `--backup DIR` adds `BackupAndRestore(DIR)`, `--bn` puts a synchronized
//! `BatchNormalization` after the hidden layer (`--bn-local` an unsynchronized one),
//! `--own-shard` has each process read its own `Dataset::shard` (no auto-sharding), and `KERAS_RS_DIE_AT_STEP=k` (or `epoch:k`)
//! makes the last rank exit at step k, with `KERAS_RS_ERROR=1` return an error there, or with
//! `KERAS_RS_HANG=s` hang there (every rank's collective timeout set to s seconds at that
//! step, so the others end the job s seconds later); tests/distributed.rs uses them all.

use keras::distribution::{
    initialize, process_count, process_index, set_distribution, DataParallel,
};
use keras::losses::SparseCategoricalCrossentropy;
use keras::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Rows that went through the model on this process (a `Lambda` counts them).
static ROWS: AtomicUsize = AtomicUsize::new(0);

/// Makes the last rank exit at step `.1` of epoch `.0` (`KERAS_RS_DIE_AT_STEP=k` or
/// `=epoch:k`); `.2` is the current epoch.
struct DieAt(usize, usize, usize);

impl keras::callbacks::Callback for DieAt {
    fn on_epoch_begin(
        &mut self,
        epoch: usize,
        _ctx: &mut keras::callbacks::CallbackContext,
    ) -> keras::Result<()> {
        self.2 = epoch;
        Ok(())
    }
    fn on_train_batch_end(
        &mut self,
        batch: usize,
        _logs: &mut keras::callbacks::Logs,
        _ctx: &mut keras::callbacks::CallbackContext,
    ) -> keras::Result<()> {
        let last = process_index() + 1 == process_count();
        if self.2 == self.0 && batch == self.1 && last && std::env::var("KERAS_RS_ERROR").is_ok() {
            return Err(keras::Error::runtime(
                "a failure on this rank (KERAS_RS_ERROR)",
            ));
        }
        if let Some(secs) = std::env::var("KERAS_RS_HANG")
            .ok()
            .filter(|_| self.2 == self.0 && batch == self.1)
        {
            // Every rank waits at most `secs` from here on; the last one hangs.
            let secs: u64 = secs.parse().unwrap_or(5);
            keras::distribution::set_timeout(Some(std::time::Duration::from_secs(secs)));
            if last {
                eprintln!(
                    "rank {} hangs at step {batch} (KERAS_RS_HANG)",
                    process_index()
                );
                loop {
                    std::thread::sleep(std::time::Duration::from_secs(1));
                }
            }
            return Ok(());
        }
        if self.2 == self.0 && batch == self.1 && last {
            eprintln!(
                "rank {} exits at step {batch} (KERAS_RS_DIE_AT_STEP)",
                process_index()
            );
            std::process::exit(3);
        }
        Ok(())
    }
}

/// After every step, the bits of every weight folded into one hash (FNV-1a), printed at the
/// end: equal on every rank when all hold identical weights after every step.
#[derive(Default)]
struct StepHash(u64, usize);

impl keras::callbacks::Callback for StepHash {
    fn on_train_batch_end(
        &mut self,
        _batch: usize,
        _logs: &mut keras::callbacks::Logs,
        ctx: &mut keras::callbacks::CallbackContext,
    ) -> keras::Result<()> {
        if self.1 == 0 {
            self.0 = 0xcbf2_9ce4_8422_2325;
        }
        for w in ctx.model.get_weights()? {
            for v in w.flatten_all()?.to_vec1::<f32>()? {
                self.0 = (self.0 ^ v.to_bits() as u64).wrapping_mul(0x0100_0000_01b3);
            }
        }
        self.1 += 1;
        Ok(())
    }
    fn on_train_end(
        &mut self,
        _logs: &mut keras::callbacks::Logs,
        _ctx: &mut keras::callbacks::CallbackContext,
    ) -> keras::Result<()> {
        println!(
            "rank {} step hash {:016x} over {} steps",
            process_index(),
            self.0,
            self.1
        );
        Ok(())
    }
}

/// Runs on rank 0 only, as a file-writing callback does (tests/distributed.rs checks it).
struct RankZeroOnly;

impl keras::callbacks::Callback for RankZeroOnly {
    fn on_every_process(&self) -> bool {
        false
    }
    fn on_train_end(
        &mut self,
        _logs: &mut keras::callbacks::Logs,
        _ctx: &mut keras::callbacks::CallbackContext,
    ) -> keras::Result<()> {
        println!("rank {} ran the rank-0 callback", process_index());
        Ok(())
    }
}

fn arg_str(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn arg(name: &str) -> Option<usize> {
    arg_str(name).and_then(|v| v.parse().ok())
}

fn main() -> keras::Result<()> {
    let _job = initialize(None, None, None)?;
    // `--own-shard`: each process reads its own share of the data (`Dataset::shard`) in
    // batches of 64 / N, instead of slicing every global batch of 64.
    let own_shard = std::env::args().any(|a| a == "--own-shard");
    set_distribution(Some(
        DataParallel::new(None)?.auto_shard_dataset(!own_shard),
    ));
    keras::utils::set_random_seed(1337);
    let ((x_train, y_train), (x_test, y_test)) = keras::datasets::mnist::load_data()?;
    let n = arg("--samples").unwrap_or(x_train.dims()[0]);
    let epochs = arg("--epochs").unwrap_or(3);
    let x_train = (x_train.narrow(0, 0, n)?.to_dtype(DType::F32)? / 255.0)?;
    let y_train = y_train.narrow(0, 0, n)?;
    let x_test = (x_test.to_dtype(DType::F32)? / 255.0)?;

    let mut layers: Vec<LayerRef> = vec![
        Flatten::new().input_shape([28, 28]).into(),
        // Counts the rows this process runs through the model (no weights).
        Lambda::new(|x| {
            ROWS.fetch_add(x.dim(0)?, Ordering::Relaxed);
            Ok(x.clone())
        })
        .into(),
        Dense::new(128).activation("relu").into(),
    ];
    // `--bn`: a synchronized BatchNormalization; `--bn-local`: one with each process's own
    // statistics (Keras's default).
    let bn = std::env::args().find(|a| a == "--bn" || a == "--bn-local");
    if let Some(bn) = bn {
        let synchronized = bn == "--bn";
        layers.push(
            keras::layers::BatchNormalization::new()
                .synchronized(synchronized)
                .into(),
        );
    }
    layers.push(Dense::new(10).into());
    let mut model = Sequential::from_layers(layers)?;
    model.compile(
        "adam",
        SparseCategoricalCrossentropy::new().from_logits(true),
        // MeanIoU: a ratio of summed confusion counts, exact over the processes only because
        // their states are summed (a mean of per-process IoUs would differ).
        vec![
            keras::metrics::MetricArg::from("accuracy"),
            keras::metrics::MeanIoU::new(10)?
                .sparse_y_pred(false)
                .into(),
        ],
    )?;
    let mut die = std::env::var("KERAS_RS_DIE_AT_STEP").ok().and_then(|v| {
        let (e, k) = v.split_once(':').unwrap_or(("0", &v));
        Some(DieAt(e.parse().ok()?, k.parse().ok()?, 0))
    });
    let mut backup = arg_str("--backup").map(keras::callbacks::BackupAndRestore::new);
    let mut rank_zero = RankZeroOnly;
    let mut step_hash = StepHash::default();
    let mut args = FitArgs::new()
        .epochs(epochs)
        .batch_size(64)
        .callback(&mut rank_zero)
        .callback(&mut step_hash);
    if let Some(b) = backup.as_mut() {
        args = args.callback(b);
    }
    if let Some(d) = die.as_mut() {
        args = args.callback(d);
    }
    let start = std::time::Instant::now();
    let history = if own_shard {
        let ds = keras::data::Dataset::from_tensor_slices((x_train, y_train))?
            .shard(process_count(), process_index())?
            .batch(64 / process_count())?;
        model.fit_dataset(&ds, args)?
    } else {
        model.fit(&x_train, &y_train, args)?
    };
    let secs = start.elapsed().as_secs_f64();
    let logs = model.evaluate(&x_test, &y_test, EvalArgs::quiet())?;
    // Each process predicts its slice of every batch; every one gets all the predictions.
    ROWS.store(0, Ordering::Relaxed);
    let predictions = model.predict(&x_test, EvalArgs::quiet())?;
    let abs_sum: f64 = keras::ops::to_vec_f64(&predictions)?
        .iter()
        .map(|v| v.abs())
        .sum();
    println!(
        "rank {} predicted {} of {} rows itself; weighted sum of |predictions| {abs_sum:.6}",
        process_index(),
        ROWS.load(Ordering::Relaxed),
        predictions.dims()[0]
    );
    if let Some(dir) = arg_str("--save") {
        model.save_weights(format!("{dir}/rank{}.safetensors", process_index()))?;
    }
    // Every rank holds the same weights: a checksum of them, printed by each.
    let sum: f64 = model
        .get_weights()?
        .iter()
        .map(|w| keras::ops::to_vec_f64(w).map(|v| v.iter().sum::<f64>()))
        .sum::<keras::Result<f64>>()?;
    println!(
        "rank {} of {}: loss {:?}, iou {:?}, test accuracy {:.4}, test iou {:.6}, weight sum {sum:.9}, {:.1} s ({:.0} samples/s)",
        process_index(),
        process_count(),
        history.history["loss"],
        history.history["mean_io_u"],
        logs.get("accuracy").unwrap_or(0.0),
        logs.get("mean_io_u").unwrap_or(0.0),
        secs,
        (n * epochs) as f64 / secs
    );
    Ok(())
}
