//! NumPy's legacy `np.random.RandomState` (MT19937), as far as Keras's data utilities use it:
//! `RandomState(seed).shuffle(list)` orders the files of `image_dataset_from_directory` /
//! `text_dataset_from_directory` and the windows of `timeseries_dataset_from_array`, and
//! `random.Random(seed).shuffle` (Python's `random`, also MT19937) orders `split_dataset`.
//! Reproducing them gives Keras's exact orders and splits for a given seed.

/// The Mersenne Twister MT19937 generator, seeded as NumPy's `RandomState(seed)`
/// (`init_genrand`).
pub(crate) struct RandomState {
    mt: [u32; 624],
    index: usize,
}

impl RandomState {
    /// `np.random.RandomState(seed)` (seeds are 32-bit in NumPy; higher bits are dropped).
    pub fn new(seed: u32) -> Self {
        let mut mt = [0u32; 624];
        mt[0] = seed;
        for i in 1..624 {
            mt[i] = 1_812_433_253u32
                .wrapping_mul(mt[i - 1] ^ (mt[i - 1] >> 30))
                .wrapping_add(i as u32);
        }
        RandomState { mt, index: 624 }
    }

    /// Python's `random.seed(seed)` for a non-negative int seed (`init_by_array` with the
    /// seed's 32-bit words, least significant first).
    pub fn python(seed: u64) -> Self {
        let mut key = vec![seed as u32];
        if seed >> 32 != 0 {
            key.push((seed >> 32) as u32);
        }
        let mut s = RandomState::new(19_650_218);
        let (mut i, mut j) = (1usize, 0usize);
        let n = 624;
        for _ in 0..n.max(key.len()) {
            let prev = s.mt[i - 1] ^ (s.mt[i - 1] >> 30);
            s.mt[i] = (s.mt[i] ^ prev.wrapping_mul(1_664_525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= n {
                s.mt[0] = s.mt[n - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..n - 1 {
            let prev = s.mt[i - 1] ^ (s.mt[i - 1] >> 30);
            s.mt[i] = (s.mt[i] ^ prev.wrapping_mul(1_566_083_941)).wrapping_sub(i as u32);
            i += 1;
            if i >= n {
                s.mt[0] = s.mt[n - 1];
                i = 1;
            }
        }
        s.mt[0] = 0x8000_0000;
        s.index = 624;
        s
    }

    /// The next 32-bit output (`genrand_int32`).
    pub fn next_u32(&mut self) -> u32 {
        if self.index >= 624 {
            self.twist();
        }
        let mut y = self.mt[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    fn twist(&mut self) {
        for i in 0..624 {
            let y = (self.mt[i] & 0x8000_0000) | (self.mt[(i + 1) % 624] & 0x7fff_ffff);
            let mut v = self.mt[(i + 397) % 624] ^ (y >> 1);
            if y & 1 != 0 {
                v ^= 0x9908_b0df;
            }
            self.mt[i] = v;
        }
        self.index = 0;
    }

    /// A uniform integer in `0..=max` as NumPy's `random_interval` (masked rejection).
    fn interval(&mut self, max: u64) -> u64 {
        if max == 0 {
            return 0;
        }
        let mut mask = max;
        for s in [1, 2, 4, 8, 16, 32] {
            mask |= mask >> s;
        }
        if max <= u32::MAX as u64 {
            loop {
                let v = (self.next_u32() as u64) & mask;
                if v <= max {
                    return v;
                }
            }
        }
        loop {
            let hi = self.next_u32() as u64;
            let v = ((hi << 32) | self.next_u32() as u64) & mask;
            if v <= max {
                return v;
            }
        }
    }

    /// `RandomState.shuffle(x)` in place (Fisher-Yates from the end, as NumPy).
    pub fn shuffle<T>(&mut self, x: &mut [T]) {
        for i in (1..x.len()).rev() {
            let j = self.interval(i as u64) as usize;
            x.swap(i, j);
        }
    }

    /// Python's `random.getrandbits(k)` for `k <= 32`.
    fn getrandbits(&mut self, k: u32) -> u32 {
        self.next_u32() >> (32 - k)
    }

    /// Python's `random.shuffle(x)` in place (`_randbelow` by rejection on bit length).
    pub fn python_shuffle<T>(&mut self, x: &mut [T]) {
        for i in (1..x.len()).rev() {
            let n = (i + 1) as u32;
            let k = 32 - n.leading_zeros();
            let j = loop {
                let r = self.getrandbits(k);
                if r < n {
                    break r;
                }
            };
            x.swap(i, j as usize);
        }
    }
}

/// A seed as Keras draws one when none is given (`np.random.randint(1e6)`), here from
/// keras-rs's global generator (`keras::utils::set_random_seed`).
pub(crate) fn draw_seed() -> u64 {
    crate::ops::random::fork().next_u64() % 1_000_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numpy_random_state() {
        // np.random.RandomState(5489).randint(0, 2**32, dtype=np.uint64) (two draws)
        let mut r = RandomState::new(5489);
        assert_eq!(r.next_u32(), 3_499_211_612);
        assert_eq!(r.next_u32(), 581_869_302);
        let shuffled = |seed: u32, n: usize| {
            let mut v: Vec<usize> = (0..n).collect();
            RandomState::new(seed).shuffle(&mut v);
            v
        };
        assert_eq!(shuffled(1337, 10), [6, 3, 0, 4, 5, 2, 1, 9, 8, 7]);
        assert_eq!(shuffled(0, 5), [2, 0, 1, 3, 4]);
        assert_eq!(shuffled(123_456, 3), [2, 0, 1]);
        assert_eq!(
            shuffled(7, 100)[..12],
            [37, 26, 78, 91, 49, 15, 93, 71, 86, 22, 13, 40]
        );
    }

    #[test]
    fn matches_python_random() {
        let shuffled = |seed: u64, n: usize| {
            let mut v: Vec<usize> = (0..n).collect();
            RandomState::python(seed).python_shuffle(&mut v);
            v
        };
        // random.seed(3); random.shuffle(list(range(10)))
        assert_eq!(shuffled(3, 10), [1, 5, 6, 0, 9, 4, 7, 2, 8, 3]);
        assert_eq!(shuffled(0, 300)[..8], [99, 54, 3, 34, 211, 103, 283, 276]);
        // random.seed(2**40 + 5); random.getrandbits(32)
        assert_eq!(RandomState::python((1 << 40) + 5).next_u32(), 2_166_296_868);
    }
}
