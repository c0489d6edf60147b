//! Open MPI's world as a [`Collective`] (the `mpi` feature, rsmpi): the processes `mpirun`
//! started, on one machine or many (`mpirun --host a,b`).
//!
//! Every collective is started non-blocking and waited for with a deadline
//! ([`super::timeout`]; without one it waits forever, the same way, as MPI cannot pair a
//! blocking collective on one process with a non-blocking one on another): a process that never arrives (hung, or busy past the timeout) ends
//! the job with an error naming it instead of leaving the others waiting forever. To name it,
//! a process whose wait ran out asks every other, on a communicator of its own, where it is;
//! processes waiting in a collective answer, and the ones that do not are the culprits.

use super::Collective;
use crate::{Error, Result};
use mpi::collective::SystemOperation;
use mpi::environment::Universe;
use mpi::request::{Request, Scope};
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Tags of the side communicator's messages: "where are you?" and its answer.
const ASK: i32 = 1;
const ANSWER: i32 = 2;

/// How long a process whose wait ran out waits for the others' answers.
const ANSWER_WINDOW: Duration = Duration::from_secs(3);

/// The communicators, and the number of collectives this process has entered (the same
/// sequence on every process).
struct Comms {
    world: SimpleCommunicator,
    side: SimpleCommunicator,
    seq: u64,
}

/// `MPI_COMM_WORLD`, initialised with `MPI_THREAD_SERIALIZED`; every call holds the lock, so
/// calls from any thread are serialized as that level requires. Dropping it finalizes MPI.
pub struct MpiGroup {
    comms: Mutex<Comms>,
    rank: usize,
    size: usize,
    _universe: Universe,
}

// SAFETY: MPI was initialised with MPI_THREAD_SERIALIZED and every use of the communicators
// goes through the mutex, so no two threads call MPI at once.
unsafe impl Send for MpiGroup {}
unsafe impl Sync for MpiGroup {}

impl MpiGroup {
    /// Initialises MPI (once per process) and takes its world.
    pub fn world() -> Result<MpiGroup> {
        let (universe, level) = mpi::initialize_with_threading(mpi::Threading::Serialized)
            .ok_or_else(|| {
                Error::runtime("initialize: MPI was initialised already in this process")
            })?;
        if level < mpi::Threading::Serialized {
            return Err(Error::runtime(format!(
                "initialize: this MPI library offers thread level {level:?}; keras-rs needs \
                 Serialized"
            )));
        }
        let world = universe.world();
        let side = world.duplicate();
        let (rank, size) = (world.rank() as usize, world.size() as usize);
        Ok(MpiGroup {
            comms: Mutex::new(Comms {
                world,
                side,
                seq: 0,
            }),
            rank,
            size,
            _universe: universe,
        })
    }

    fn comms(&self) -> std::sync::MutexGuard<'_, Comms> {
        self.comms.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for `req` (collective number `seq`, `what`), answering the others' questions
    /// meanwhile; past the timeout, finds who is missing and ends the job naming them.
    fn finish<'a, D: ?Sized, S: Scope<'a>>(
        &self,
        c: &Comms,
        mut req: Request<'a, D, S>,
        what: &str,
    ) {
        let timeout = super::timeout();
        let start = Instant::now();
        let mut polls = 0u64;
        loop {
            match req.test() {
                Ok(_) => return,
                Err(r) => req = r,
            }
            polls += 1;
            // A short collective completes within a few polls: the clock and the questions
            // are looked at every 1024th poll for the first 100k (a few ms), then at each one,
            // with a sleep between.
            let long = polls > 100_000;
            if !long && !polls.is_multiple_of(1024) {
                std::hint::spin_loop();
                continue;
            }
            answer_questions(c);
            if timeout.is_some_and(|t| start.elapsed() >= t) {
                let message = self.who_is_missing(c, what, timeout.unwrap_or_default());
                eprintln!("{message}");
                // The request stays pending: MPI_Abort ends every process of the job.
                std::mem::forget(req);
                c.world.abort(1);
            }
            if long {
                std::thread::sleep(Duration::from_micros(200));
            }
        }
    }

    /// Asks every other process where it is and names those that do not answer from the
    /// same collective.
    fn who_is_missing(&self, c: &Comms, what: &str, timeout: Duration) -> String {
        let me = self.rank as i32;
        let others = (0..self.size as i32).filter(|&r| r != me);
        for r in others.clone() {
            // 8 bytes go eagerly: this returns even if `r` never reads them.
            c.side.process_at_rank(r).send_with_tag(&c.seq, ASK);
        }
        let mut answers: Vec<Option<u64>> = vec![None; self.size];
        answers[self.rank] = Some(c.seq);
        let start = Instant::now();
        while start.elapsed() < ANSWER_WINDOW && answers.iter().any(Option::is_none) {
            answer_questions(c);
            if let Some((msg, status)) = c
                .side
                .any_process()
                .immediate_matched_probe_with_tag(ANSWER)
            {
                let (seq, _) = msg.matched_receive::<u64>();
                answers[status.source_rank() as usize] = Some(seq);
            } else {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        let missing: Vec<String> = others
            .filter(|&r| answers[r as usize] != Some(c.seq))
            .map(|r| match answers[r as usize] {
                None => format!("rank {r} (no answer: hung, or busy outside a collective)"),
                Some(s) => format!("rank {r} (waiting in collective #{s} instead)"),
            })
            .collect();
        format!(
            "keras-rs: rank {} of {}: {what} (collective #{}) did not complete within {:.1} s \
             (keras::distribution::set_timeout, KERAS_DISTRIBUTION_TIMEOUT); missing: {}; \
             ending the job",
            self.rank,
            self.size,
            c.seq,
            timeout.as_secs_f64(),
            if missing.is_empty() {
                "none answered late".to_string()
            } else {
                missing.join(", ")
            }
        )
    }

    /// The sum of `buf` over the processes, in place.
    fn sum<T: Equivalence + Clone>(&self, buf: &mut [T]) {
        let send = buf.to_vec();
        let mut c = self.comms();
        c.seq += 1;
        mpi::request::scope(|scope| {
            let req =
                c.world
                    .immediate_all_reduce_into(scope, &send[..], buf, SystemOperation::sum());
            self.finish(&c, req, "an all-reduce");
        });
    }

    /// Rank 0's `buf` on every process.
    fn broadcast_rank_zero<T: Equivalence>(&self, buf: &mut [T]) {
        let mut c = self.comms();
        c.seq += 1;
        mpi::request::scope(|scope| {
            let req = c
                .world
                .process_at_rank(0)
                .immediate_broadcast_into(scope, buf);
            self.finish(&c, req, "a broadcast");
        });
    }
}

/// Answers every pending "where are you?" with this process's collective number.
fn answer_questions(c: &Comms) {
    while let Some((msg, status)) = c.side.any_process().immediate_matched_probe_with_tag(ASK) {
        let (_seq, _) = msg.matched_receive::<u64>();
        c.side
            .process_at_rank(status.source_rank())
            .send_with_tag(&c.seq, ANSWER);
    }
}

impl Collective for MpiGroup {
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.size
    }
    fn all_reduce_sum(&self, buf: &mut [f32]) -> Result<()> {
        self.sum(buf);
        Ok(())
    }
    fn all_reduce_sum_f64(&self, buf: &mut [f64]) -> Result<()> {
        self.sum(buf);
        Ok(())
    }
    fn broadcast(&self, buf: &mut [f32]) -> Result<()> {
        self.broadcast_rank_zero(buf);
        Ok(())
    }
    fn broadcast_u64(&self, buf: &mut [u64]) -> Result<()> {
        self.broadcast_rank_zero(buf);
        Ok(())
    }
    fn abort(&self, message: &str) {
        eprintln!("{message}");
        // MPI_Abort: mpirun ends every process and names this rank.
        self.comms().world.abort(1);
    }
}
