//! The global random number generator behind initializers, dropout and shuffling.
//!
//! [`set_seed`] (re-exported as `keras::utils::set_random_seed`) makes runs repeatable: the
//! same seed gives the same weights, masks and batch order. Without a seed the generator starts
//! from the clock, as Keras does without `set_random_seed`.

use std::cell::RefCell;

/// xoshiro256++: small, fast, and good enough for initialization and dropout.
#[derive(Clone, Debug)]
pub struct Rng {
    s: [u64; 4],
}

fn splitmix(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// A generator started from `seed`.
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        Rng {
            s: [
                splitmix(&mut x),
                splitmix(&mut x),
                splitmix(&mut x),
                splitmix(&mut x),
            ],
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let r = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        r
    }

    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        loop {
            let u = self.uniform();
            if u > 0.0 {
                let v = self.uniform();
                return (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos();
            }
        }
    }

    /// Uniform integer in `[0, n)`.
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// Shuffles a slice in place (Fisher-Yates).
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

thread_local! {
    static GLOBAL: RefCell<Option<Rng>> = const { RefCell::new(None) };
}

/// Seeds the generator of the calling thread (keras-rs draws every random number on the thread
/// that builds and trains the model, so this makes that work repeatable; other threads, such as
/// parallel tests, keep their own streams).
pub fn set_seed(seed: u64) {
    GLOBAL.with(|g| *g.borrow_mut() = Some(Rng::new(seed)));
}

/// Runs `f` with the thread's generator (seeded from the clock on first use).
pub fn with_rng<R>(f: impl FnOnce(&mut Rng) -> R) -> R {
    GLOBAL.with(|g| {
        let mut g = g.borrow_mut();
        let rng = g.get_or_insert_with(|| {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0);
            Rng::new(t ^ 0x5DEE_CE66_D1CE_4E5B)
        });
        f(rng)
    })
}

/// The thread generator's state (to save with a training checkpoint).
pub fn get_state() -> [u64; 4] {
    with_rng(|r| r.s)
}

/// Restores a state from [`get_state`]: the draws that follow are the ones that followed then.
pub fn set_state(state: [u64; 4]) {
    GLOBAL.with(|g| *g.borrow_mut() = Some(Rng { s: state }));
}

/// A new generator seeded from the thread's one (for work that runs elsewhere).
pub fn fork() -> Rng {
    with_rng(|r| Rng::new(r.next_u64()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_generators_repeat() {
        let a: Vec<u64> = {
            let mut r = Rng::new(7);
            (0..5).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = Rng::new(7);
            (0..5).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
        let mut r = Rng::new(8);
        assert_ne!(a[0], r.next_u64());
    }

    #[test]
    fn moments_are_right() {
        let mut r = Rng::new(1);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| r.normal()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(
            mean.abs() < 0.01 && (var - 1.0).abs() < 0.02,
            "{mean} {var}"
        );
        let us: Vec<f64> = (0..n).map(|_| r.uniform()).collect();
        assert!(us.iter().all(|&u| (0.0..1.0).contains(&u)));
        assert!((us.iter().sum::<f64>() / n as f64 - 0.5).abs() < 0.01);
    }
}
