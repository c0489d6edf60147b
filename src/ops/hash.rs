//! The string hashes Keras's `Hashing` layer gets from TensorFlow: `fingerprint64` (Google's
//! FarmHash `Fingerprint64`, behind `tf.strings.to_hash_bucket_fast`) and `siphash24`
//! (SipHash-2-4 with a 128-bit key, behind `tf.strings.to_hash_bucket_strong`). Both are
//! stable across platforms and releases, so buckets computed here equal Keras's.
//!
//! ```
//! use keras::ops::hash;
//! assert_eq!(hash::fingerprint64(b""), 0x9ae16a3b2f90404f);
//! assert_eq!(hash::fingerprint64(b"hello") % 1000, 296); // tf.strings.to_hash_bucket_fast
//! ```

const K0: u64 = 0xc3a5c85c97cb3127;
const K1: u64 = 0xb492b66fbe98f273;
const K2: u64 = 0x9ae16a3b2f90404f;

fn fetch64(s: &[u8], i: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&s[i..i + 8]);
    u64::from_le_bytes(b)
}

fn fetch32(s: &[u8], i: usize) -> u64 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&s[i..i + 4]);
    u32::from_le_bytes(b) as u64
}

fn rot(v: u64, s: u32) -> u64 {
    v.rotate_right(s)
}

fn shift_mix(v: u64) -> u64 {
    v ^ (v >> 47)
}

fn hash_len16(u: u64, v: u64, mul: u64) -> u64 {
    let mut a = (u ^ v).wrapping_mul(mul);
    a ^= a >> 47;
    let mut b = (v ^ a).wrapping_mul(mul);
    b ^= b >> 47;
    b.wrapping_mul(mul)
}

fn len_0_to_16(s: &[u8]) -> u64 {
    let len = s.len();
    if len >= 8 {
        let mul = K2.wrapping_add(len as u64 * 2);
        let a = fetch64(s, 0).wrapping_add(K2);
        let b = fetch64(s, len - 8);
        let c = rot(b, 37).wrapping_mul(mul).wrapping_add(a);
        let d = rot(a, 25).wrapping_add(b).wrapping_mul(mul);
        return hash_len16(c, d, mul);
    }
    if len >= 4 {
        let mul = K2.wrapping_add(len as u64 * 2);
        let a = fetch32(s, 0);
        return hash_len16((len as u64).wrapping_add(a << 3), fetch32(s, len - 4), mul);
    }
    if len > 0 {
        let (a, b, c) = (s[0] as u32, s[len >> 1] as u32, s[len - 1] as u32);
        let y = a.wrapping_add(b << 8);
        let z = (len as u32).wrapping_add(c << 2);
        return shift_mix((y as u64).wrapping_mul(K2) ^ (z as u64).wrapping_mul(K0))
            .wrapping_mul(K2);
    }
    K2
}

fn len_17_to_32(s: &[u8]) -> u64 {
    let len = s.len();
    let mul = K2.wrapping_add(len as u64 * 2);
    let a = fetch64(s, 0).wrapping_mul(K1);
    let b = fetch64(s, 8);
    let c = fetch64(s, len - 8).wrapping_mul(mul);
    let d = fetch64(s, len - 16).wrapping_mul(K2);
    hash_len16(
        rot(a.wrapping_add(b), 43)
            .wrapping_add(rot(c, 30))
            .wrapping_add(d),
        a.wrapping_add(rot(b.wrapping_add(K2), 18)).wrapping_add(c),
        mul,
    )
}

fn len_33_to_64(s: &[u8]) -> u64 {
    let len = s.len();
    let mul = K2.wrapping_add(len as u64 * 2);
    let a = fetch64(s, 0).wrapping_mul(K2);
    let b = fetch64(s, 8);
    let c = fetch64(s, len - 8).wrapping_mul(mul);
    let d = fetch64(s, len - 16).wrapping_mul(K2);
    let y = rot(a.wrapping_add(b), 43)
        .wrapping_add(rot(c, 30))
        .wrapping_add(d);
    let z = hash_len16(
        y,
        a.wrapping_add(rot(b.wrapping_add(K2), 18)).wrapping_add(c),
        mul,
    );
    let e = fetch64(s, 16).wrapping_mul(mul);
    let f = fetch64(s, 24);
    let g = y.wrapping_add(fetch64(s, len - 32)).wrapping_mul(mul);
    let h = z.wrapping_add(fetch64(s, len - 24)).wrapping_mul(mul);
    hash_len16(
        rot(e.wrapping_add(f), 43)
            .wrapping_add(rot(g, 30))
            .wrapping_add(h),
        e.wrapping_add(rot(f.wrapping_add(a), 18)).wrapping_add(g),
        mul,
    )
}

fn weak_len32_with_seeds(s: &[u8], i: usize, a: u64, b: u64) -> (u64, u64) {
    let (w, x, y, z) = (
        fetch64(s, i),
        fetch64(s, i + 8),
        fetch64(s, i + 16),
        fetch64(s, i + 24),
    );
    let mut a = a.wrapping_add(w);
    let mut b = rot(b.wrapping_add(a).wrapping_add(z), 21);
    let c = a;
    a = a.wrapping_add(x).wrapping_add(y);
    b = b.wrapping_add(rot(a, 44));
    (a.wrapping_add(z), b.wrapping_add(c))
}

/// One 64-byte round of `farmhashna::Hash64` at `s[p..]`: the loop's (`mul = K1`, `k = 1`)
/// and the last one's (its `mul`, `k = 9`).
#[allow(clippy::type_complexity)]
fn round64(
    s: &[u8],
    p: usize,
    (x, y, z): (&mut u64, &mut u64, &mut u64),
    (v, w): (&mut (u64, u64), &mut (u64, u64)),
    mul: u64,
    k: u64,
) {
    *x = rot(
        x.wrapping_add(*y)
            .wrapping_add(v.0)
            .wrapping_add(fetch64(s, p + 8)),
        37,
    )
    .wrapping_mul(mul);
    *y = rot(y.wrapping_add(v.1).wrapping_add(fetch64(s, p + 48)), 42).wrapping_mul(mul);
    *x ^= w.1.wrapping_mul(k);
    *y = y
        .wrapping_add(v.0.wrapping_mul(k))
        .wrapping_add(fetch64(s, p + 40));
    *z = rot(z.wrapping_add(w.0), 33).wrapping_mul(mul);
    *v = weak_len32_with_seeds(s, p, v.1.wrapping_mul(mul), x.wrapping_add(w.0));
    *w = weak_len32_with_seeds(
        s,
        p + 32,
        z.wrapping_add(w.1),
        y.wrapping_add(fetch64(s, p + 16)),
    );
    std::mem::swap(z, x);
}

/// FarmHash's `Fingerprint64` (`farmhashna::Hash64`) of `s`: TensorFlow's `Fingerprint64`.
pub fn fingerprint64(s: &[u8]) -> u64 {
    let len = s.len();
    if len <= 16 {
        return len_0_to_16(s);
    }
    if len <= 32 {
        return len_17_to_32(s);
    }
    if len <= 64 {
        return len_33_to_64(s);
    }
    let seed: u64 = 81;
    let mut x = seed;
    let mut y = seed.wrapping_mul(K1).wrapping_add(113);
    let mut z = shift_mix(y.wrapping_mul(K2).wrapping_add(113)).wrapping_mul(K2);
    let mut v = (0u64, 0u64);
    let mut w = (0u64, 0u64);
    x = x.wrapping_mul(K2).wrapping_add(fetch64(s, 0));
    let end = ((len - 1) / 64) * 64;
    let last64 = len - 64;
    let mut p = 0;
    loop {
        round64(s, p, (&mut x, &mut y, &mut z), (&mut v, &mut w), K1, 1);
        p += 64;
        if p == end {
            break;
        }
    }
    let mul = K1.wrapping_add((z & 0xff) << 1);
    p = last64;
    w.0 = w.0.wrapping_add(((len - 1) & 63) as u64);
    v.0 = v.0.wrapping_add(w.0);
    w.0 = w.0.wrapping_add(v.0);
    round64(s, p, (&mut x, &mut y, &mut z), (&mut v, &mut w), mul, 9);
    hash_len16(
        hash_len16(v.0, w.0, mul)
            .wrapping_add(shift_mix(y).wrapping_mul(K0))
            .wrapping_add(z),
        hash_len16(v.1, w.1, mul).wrapping_add(x),
        mul,
    )
}

/// SipHash-2-4 of `s` with the 128-bit key `(key[0], key[1])`: TensorFlow's
/// `StrongKeyedHash`.
///
/// ```
/// // The reference vector of the SipHash paper (key 00..0f, message 00..0e).
/// let key = [0x0706050403020100, 0x0f0e0d0c0b0a0908];
/// let msg: Vec<u8> = (0..15).collect();
/// assert_eq!(keras::ops::hash::siphash24(key, &msg), 0xa129ca6149be45e5);
/// ```
pub fn siphash24(key: [u64; 2], s: &[u8]) -> u64 {
    let mut v = [
        key[0] ^ 0x736f6d6570736575,
        key[1] ^ 0x646f72616e646f6d,
        key[0] ^ 0x6c7967656e657261,
        key[1] ^ 0x7465646279746573,
    ];
    fn round(v: &mut [u64; 4]) {
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    }
    let full = s.len() / 8 * 8;
    for i in (0..full).step_by(8) {
        let m = fetch64(s, i);
        v[3] ^= m;
        round(&mut v);
        round(&mut v);
        v[0] ^= m;
    }
    let mut last = [0u8; 8];
    last[..s.len() - full].copy_from_slice(&s[full..]);
    last[7] = s.len() as u8;
    let m = u64::from_le_bytes(last);
    v[3] ^= m;
    round(&mut v);
    round(&mut v);
    v[0] ^= m;
    v[2] ^= 0xff;
    for _ in 0..4 {
        round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn siphash_reference_vectors() {
        let key = [0x0706050403020100, 0x0f0e0d0c0b0a0908];
        assert_eq!(siphash24(key, b""), 0x726fdb47dd0e0e31);
    }

    #[test]
    fn long_inputs_match_tensorflow() {
        // tf.strings.to_hash_bucket_fast(bytes(range(200))[:n], 2**63 - 1) (Fingerprint64
        // modulo the bucket count), for inputs through the 64-byte loop.
        let s: Vec<u8> = (0..200u8).collect();
        let got: Vec<u64> = [65, 100, 129, 199]
            .iter()
            .map(|&n| fingerprint64(&s[..n]) % (i64::MAX as u64))
            .collect();
        assert_eq!(
            got,
            [
                5089956174350597567,
                4395248839964844437,
                5659797075620071487,
                6982147960435857734
            ]
        );
    }

    #[test]
    fn every_length_branch_runs() {
        let s: Vec<u8> = (0..200u8).collect();
        let mut seen = std::collections::HashSet::new();
        for n in 0..200 {
            assert!(seen.insert(fingerprint64(&s[..n])), "collision at {n}");
        }
    }
}
